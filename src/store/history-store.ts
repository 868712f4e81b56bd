// The history database (issue 7): per-minute samples with hourly and daily rollups, retention,
// the accounting state saved in the same transaction as each poll's samples, a writer lease per
// router, and the queries reports need. The only module that touches better-sqlite3 (with
// migrations.ts). docs/history.md explains the schema, crash safety and the lease.

import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { homedir, hostname as osHostname } from 'node:os';
import { noticeFor, type AccountingResult, type AccountingState, type AccountedHost, type HostDelta } from '../domain/accounting.js';
import { UsageError } from '../errors.js';
import { migrate } from './migrations.js';
import { BUCKET_MS, floorTo, planRange, type Availability, type Granularity, type RangePlan } from './range-plan.js';

const HOUR = BUCKET_MS.hour;
const DAY = BUCKET_MS.day;

export interface RetentionOptions {
  /** How long per-minute samples are kept. Default 7 days. */
  minuteMs?: number;
  /** Hourly rollups. Default 90 days. */
  hourMs?: number;
  /** Daily rollups; null keeps them forever (default). */
  dayMs?: number | null;
}

export const DEFAULT_RETENTION: Required<RetentionOptions> = {
  minuteMs: 7 * DAY,
  hourMs: 90 * DAY,
  dayMs: null,
};

export const DEFAULT_BUSY_TIMEOUT_MS = 5000;
export const MAX_SERIES_POINTS = 100_000;
/** Hostnames are hostile and unbounded; the store keeps at most this many characters. */
const MAX_HOSTNAME_LENGTH = 255;

export interface HistoryStoreOptions {
  /** File path, or ':memory:'. See defaultHistoryPath(). */
  path: string;
  retention?: RetentionOptions;
  busyTimeoutMs?: number;
  /** Prune old rows automatically once per hour of recorded polls. Default true. */
  autoPrune?: boolean;
  /** Lease takeover: is this process alive on this machine? Default: signal 0. */
  isPidAlive?: (pid: number) => boolean;
  /** This machine's name, for the lease. Default os.hostname(). */
  hostname?: string;
}

/** $XDG_DATA_HOME/lantop/history.sqlite, else ~/.local/share/lantop/history.sqlite. */
export function defaultHistoryPath(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  const xdg = env.XDG_DATA_HOME;
  // The XDG spec says relative values are invalid and must be ignored.
  const base = xdg && isAbsolute(xdg) ? xdg : join(home, '.local', 'share');
  return join(base, 'lantop', 'history.sqlite');
}

export function isPidAliveDefault(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface LeaseHolder {
  /** Unique per recorder instance (e.g. crypto.randomUUID()). */
  id: string;
  pid: number;
  hostname: string;
}

export interface LeaseInfo extends LeaseHolder {
  acquiredMs: number;
  expiresMs: number;
}

export interface LeaseAttempt {
  acquired: boolean;
  /** The lease as it stands after the attempt. */
  lease: LeaseInfo | null;
  /** Set when we replaced another holder: whose lease, and why. */
  tookOver: { from: LeaseInfo; reason: 'expired' | 'holder-dead' } | null;
}

export interface StoredState {
  state: AccountingState;
  epoch: number;
  lastPollMs: number | null;
  updatedMs: number;
}

export interface StoredHost {
  identity: string;
  mac: string | null;
  ip: string;
  hostname: string | null;
  firstSeenMs: number;
  lastSeenMs: number;
}

export interface HostTotal extends StoredHost {
  downBytes: number;
  upBytes: number;
}

export interface PeriodReport {
  router: string;
  requested: { startMs: number; endMs: number };
  /** The range the totals are exact for; differs from `requested` only where finer data was pruned. */
  effective: { startMs: number; endMs: number };
  startPrecision: Granularity;
  endPrecision: Granularity;
  /** Sorted by downBytes + upBytes, largest first; cut to `top` when given. */
  hosts: HostTotal[];
  /** Over all hosts, also those cut by `top`. */
  totals: { downBytes: number; upBytes: number };
  hostCount: number;
}

export interface SeriesPoint {
  startMs: number;
  /** null where this granularity was already pruned (unknown, not zero). */
  downBytes: number | null;
  upBytes: number | null;
}

export interface StoredNotice {
  atMs: number;
  level: 'info' | 'warn' | 'error';
  kind: string;
  text: string;
  missingFromMs: number | null;
  missingToMs: number | null;
}

export interface PruneResult {
  minutesDeleted: number;
  hoursDeleted: number;
  daysDeleted: number;
  availability: Availability;
}

interface CachedHost {
  id: number;
  ip: string;
  mac: string | null;
  hostname: string | null;
  lastSeenMinute: number;
}

interface LeaseRow {
  holder: string;
  pid: number;
  hostname: string;
  acquired_ms: number;
  expires_ms: number;
}

const TABLE: Record<Granularity, { table: string; column: string }> = {
  minute: { table: 'samples_minute', column: 'minute' },
  hour: { table: 'samples_hour', column: 'hour' },
  day: { table: 'samples_day', column: 'day' },
};
const GRANULARITIES: Granularity[] = ['minute', 'hour', 'day'];

function leaseOf(row: LeaseRow | undefined): LeaseInfo | null {
  if (!row) return null;
  return { id: row.holder, pid: row.pid, hostname: row.hostname, acquiredMs: row.acquired_ms, expiresMs: row.expires_ms };
}

function capHostname(name: string | null): string | null {
  return name === null ? null : name.slice(0, MAX_HOSTNAME_LENGTH);
}

export class HistoryStore {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly retention: Required<RetentionOptions>;
  private readonly autoPrune: boolean;
  private readonly isPidAlive: (pid: number) => boolean;
  private readonly hostname: string;
  private readonly hostCache = new Map<number, Map<string, CachedHost>>();
  private readonly routerKeys = new Map<number, string>();
  /** Per router: minutes before this are rolled up into hours and days (see router_state). */
  private readonly rolledMinute = new Map<number, number>();
  private lastPrunedHour: number | null = null;
  /** `${routerId} ${kind}` → minute of the last stored notice of that kind (at most one a minute). */
  private readonly noticeMinute = new Map<string, number>();
  private readonly s: ReturnType<HistoryStore['prepareStatements']>;
  private readonly writePoll: Database.Transaction<
    (routerId: number, holderId: string, result: AccountingResult, state: AccountingState, leaseTtlMs: number) => boolean
  >;

  static open(options: HistoryStoreOptions): HistoryStore {
    return new HistoryStore(options);
  }

  private constructor(options: HistoryStoreOptions) {
    this.path = options.path;
    this.retention = { ...DEFAULT_RETENTION, ...options.retention };
    const r = this.retention;
    if (!(r.minuteMs > 0) || !(r.hourMs >= r.minuteMs) || (r.dayMs !== null && !(r.dayMs >= r.hourMs))) {
      throw new UsageError('Retention must be positive and grow from minutes to hours to days.', 'Check the retention settings.');
    }
    this.autoPrune = options.autoPrune ?? true;
    this.isPidAlive = options.isPidAlive ?? isPidAliveDefault;
    this.hostname = options.hostname ?? osHostname();
    const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
    try {
      if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true, mode: 0o700 });
      this.db = new Database(options.path, { timeout: busyTimeoutMs });
      this.db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
      this.db.pragma('journal_mode = WAL');
      // WAL + NORMAL: a power cut may drop the last commits, never half of one; state and samples
      // are in the same transaction, so they roll back together.
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('foreign_keys = ON');
      migrate(this.db);
    } catch (error) {
      if (error instanceof UsageError) throw error;
      const message = error instanceof Error ? error.message : String(error);
      throw new UsageError(`Cannot open the history database at ${options.path}: ${message}`, 'Check the path given to --db, or move the damaged file away.', {
        cause: error,
      });
    }
    this.s = this.prepareStatements();
    this.writePoll = this.db.transaction(
      (routerId: number, holderId: string, result: AccountingResult, state: AccountingState, leaseTtlMs: number): boolean => {
        if (this.s.renewLease.run(result.atMs + leaseTtlMs, routerId, holderId).changes !== 1) return false;
        this.writeRows(routerId, result, state);
        return true;
      },
    );
  }

  private prepareStatements() {
    const db = this.db;
    const each = <T>(f: (g: Granularity) => T): Record<Granularity, T> => ({ minute: f('minute'), hour: f('hour'), day: f('day') });
    const upsert = (g: Granularity) =>
      db.prepare<[number, number, number, number]>(
        `INSERT INTO ${TABLE[g].table} (host_id, ${TABLE[g].column}, down_bytes, up_bytes) VALUES (?, ?, ?, ?)
         ON CONFLICT (${TABLE[g].column}, host_id) DO UPDATE SET
           down_bytes = down_bytes + excluded.down_bytes, up_bytes = up_bytes + excluded.up_bytes`,
      );
    const sumByHost = (g: Granularity) =>
      db.prepare<[number, number, number], { host_id: number; d: number; u: number }>(
        `SELECT host_id, SUM(down_bytes) AS d, SUM(up_bytes) AS u FROM ${TABLE[g].table}
         WHERE host_id IN (SELECT id FROM hosts WHERE router_id = ?) AND ${TABLE[g].column} >= ? AND ${TABLE[g].column} < ?
         GROUP BY host_id`,
      );
    const seriesAll = (g: Granularity) =>
      db.prepare<[number, number, number], { b: number; d: number; u: number }>(
        `SELECT ${TABLE[g].column} AS b, SUM(down_bytes) AS d, SUM(up_bytes) AS u FROM ${TABLE[g].table}
         WHERE host_id IN (SELECT id FROM hosts WHERE router_id = ?) AND ${TABLE[g].column} >= ? AND ${TABLE[g].column} < ?
         GROUP BY b`,
      );
    const seriesOne = (g: Granularity) =>
      db.prepare<[number, string, number, number], { b: number; d: number; u: number }>(
        `SELECT ${TABLE[g].column} AS b, down_bytes AS d, up_bytes AS u FROM ${TABLE[g].table}
         WHERE host_id = (SELECT id FROM hosts WHERE router_id = ? AND identity = ?) AND ${TABLE[g].column} >= ? AND ${TABLE[g].column} < ?`,
      );
    const prune = (g: Granularity) =>
      db.prepare<[number]>(`DELETE FROM ${TABLE[g].table} WHERE ${TABLE[g].column} < ?`);
    const moveSamples = (g: Granularity) =>
      db.prepare<[number, number]>(
        `INSERT INTO ${TABLE[g].table} (host_id, ${TABLE[g].column}, down_bytes, up_bytes)
         SELECT ?, ${TABLE[g].column}, down_bytes, up_bytes FROM ${TABLE[g].table} WHERE host_id = ?
         ON CONFLICT (${TABLE[g].column}, host_id) DO UPDATE SET
           down_bytes = down_bytes + excluded.down_bytes, up_bytes = up_bytes + excluded.up_bytes`,
      );
    const deleteSamples = (g: Granularity) => db.prepare<[number]>(`DELETE FROM ${TABLE[g].table} WHERE host_id = ?`);
    return {
      upsert: each(upsert),
      sumByHost: each(sumByHost),
      seriesAll: each(seriesAll),
      seriesOne: each(seriesOne),
      prune: each(prune),
      moveSamples: each(moveSamples),
      deleteSamples: each(deleteSamples),
      routerByKey: db.prepare<[string], { id: number }>('SELECT id FROM routers WHERE key = ?'),
      routerKey: db.prepare<[number], { key: string }>('SELECT key FROM routers WHERE id = ?'),
      insertRouter: db.prepare<[string, number]>('INSERT INTO routers (key, created_ms) VALUES (?, ?) ON CONFLICT (key) DO NOTHING'),
      upsertHost: db.prepare<[number, string, string | null, string, string | null, number, number], { id: number }>(
        `INSERT INTO hosts (router_id, identity, mac, ip, hostname, first_seen_ms, last_seen_ms) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (router_id, identity) DO UPDATE SET
           mac = coalesce(excluded.mac, mac), ip = excluded.ip, hostname = coalesce(excluded.hostname, hostname),
           last_seen_ms = max(last_seen_ms, excluded.last_seen_ms)
         RETURNING id`,
      ),
      updateHost: db.prepare<[string | null, string, string | null, number, number]>(
        'UPDATE hosts SET mac = ?, ip = ?, hostname = ?, last_seen_ms = max(last_seen_ms, ?) WHERE id = ?',
      ),
      hostByIdentity: db.prepare<[number, string], { id: number; first_seen_ms: number }>(
        'SELECT id, first_seen_ms FROM hosts WHERE router_id = ? AND identity = ?',
      ),
      renameHost: db.prepare<[string, string | null, number]>('UPDATE hosts SET identity = ?, mac = ? WHERE id = ?'),
      deleteHost: db.prepare<[number]>('DELETE FROM hosts WHERE id = ?'),
      firstSeenMin: db.prepare<[number, number]>('UPDATE hosts SET first_seen_ms = min(first_seen_ms, ?) WHERE id = ?'),
      hostsOfRouter: db.prepare<[number], { id: number; identity: string; mac: string | null; ip: string; hostname: string | null; first_seen_ms: number; last_seen_ms: number }>(
        'SELECT id, identity, mac, ip, hostname, first_seen_ms, last_seen_ms FROM hosts WHERE router_id = ?',
      ),
      insertNotice: db.prepare<[number, number, string, string, string, number | null, number | null]>(
        'INSERT INTO notices (router_id, at_ms, level, kind, text, missing_from_ms, missing_to_ms) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      noticesIn: db.prepare<[number, number, number], { at_ms: number; level: StoredNotice['level']; kind: string; text: string; missing_from_ms: number | null; missing_to_ms: number | null }>(
        'SELECT at_ms, level, kind, text, missing_from_ms, missing_to_ms FROM notices WHERE router_id = ? AND at_ms >= ? AND at_ms < ? ORDER BY at_ms, id',
      ),
      pruneNotices: db.prepare<[number]>('DELETE FROM notices WHERE at_ms < ?'),
      upsertState: db.prepare<[number, number, string | null, number | null, string, number, number]>(
        `INSERT INTO router_state (router_id, epoch, boot_marker, last_poll_ms, state_json, updated_ms, rolled_minute) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (router_id) DO UPDATE SET epoch = excluded.epoch, boot_marker = excluded.boot_marker,
           last_poll_ms = excluded.last_poll_ms, state_json = excluded.state_json, updated_ms = excluded.updated_ms,
           rolled_minute = excluded.rolled_minute`,
      ),
      rolledMinute: db.prepare<[number], { rolled_minute: number }>('SELECT rolled_minute FROM router_state WHERE router_id = ?'),
      minRolledMinute: db.prepare<[], { m: number | null }>('SELECT MIN(rolled_minute) AS m FROM router_state'),
      rollUp: each((g) =>
        db.prepare<[number, number, number]>(
          `INSERT INTO ${TABLE[g].table} (host_id, ${TABLE[g].column}, down_bytes, up_bytes)
           SELECT host_id, minute / ${BUCKET_MS[g] / BUCKET_MS.minute}, SUM(down_bytes), SUM(up_bytes) FROM samples_minute
           WHERE host_id IN (SELECT id FROM hosts WHERE router_id = ?) AND minute >= ? AND minute < ?
           GROUP BY host_id, minute / ${BUCKET_MS[g] / BUCKET_MS.minute}
           ON CONFLICT (${TABLE[g].column}, host_id) DO UPDATE SET
             down_bytes = down_bytes + excluded.down_bytes, up_bytes = up_bytes + excluded.up_bytes`,
        ),
      ),
      minutesGroupedAll: db.prepare<[number, number, number, number], { b: number; d: number; u: number }>(
        `SELECT minute / CAST(? AS INTEGER) AS b, SUM(down_bytes) AS d, SUM(up_bytes) AS u FROM samples_minute
         WHERE host_id IN (SELECT id FROM hosts WHERE router_id = ?) AND minute >= ? AND minute < ? GROUP BY b`,
      ),
      minutesGroupedOne: db.prepare<[number, number, string, number, number], { b: number; d: number; u: number }>(
        `SELECT minute / CAST(? AS INTEGER) AS b, SUM(down_bytes) AS d, SUM(up_bytes) AS u FROM samples_minute
         WHERE host_id = (SELECT id FROM hosts WHERE router_id = ? AND identity = ?) AND minute >= ? AND minute < ? GROUP BY b`,
      ),
      loadState: db.prepare<[number], { epoch: number; last_poll_ms: number | null; state_json: string; updated_ms: number }>(
        'SELECT epoch, last_poll_ms, state_json, updated_ms FROM router_state WHERE router_id = ?',
      ),
      getLease: db.prepare<[number], LeaseRow>('SELECT holder, pid, hostname, acquired_ms, expires_ms FROM writer_lease WHERE router_id = ?'),
      putLease: db.prepare<[number, string, number, string, number, number]>(
        `INSERT INTO writer_lease (router_id, holder, pid, hostname, acquired_ms, expires_ms) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (router_id) DO UPDATE SET holder = excluded.holder, pid = excluded.pid, hostname = excluded.hostname,
           acquired_ms = excluded.acquired_ms, expires_ms = excluded.expires_ms`,
      ),
      renewLease: db.prepare<[number, number, string]>('UPDATE writer_lease SET expires_ms = ? WHERE router_id = ? AND holder = ?'),
      releaseLease: db.prepare<[number, string]>('DELETE FROM writer_lease WHERE router_id = ? AND holder = ?'),
      getMeta: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?'),
      setMeta: db.prepare<[string, string]>('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
    };
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  // ---- routers and hosts --------------------------------------------------------------------

  /** The id of a router (created on first use). `key` names the router, e.g. its address. */
  routerId(key: string, nowMs: number): number {
    const found = this.s.routerByKey.get(key);
    if (found) return found.id;
    this.s.insertRouter.run(key, nowMs);
    const id = this.s.routerByKey.get(key)?.id;
    if (id === undefined) throw new Error(`router ${key} vanished after insert`);
    return id;
  }

  findRouter(key: string): number | null {
    return this.s.routerByKey.get(key)?.id ?? null;
  }

  private routerKey(routerId: number): string {
    let key = this.routerKeys.get(routerId);
    if (key === undefined) {
      key = this.s.routerKey.get(routerId)?.key ?? String(routerId);
      this.routerKeys.set(routerId, key);
    }
    return key;
  }

  hosts(routerId: number): StoredHost[] {
    return this.s.hostsOfRouter.all(routerId).map((r) => ({
      identity: r.identity,
      mac: r.mac,
      ip: r.ip,
      hostname: r.hostname,
      firstSeenMs: r.first_seen_ms,
      lastSeenMs: r.last_seen_ms,
    }));
  }

  // ---- the writer lease ----------------------------------------------------------------------

  getLease(routerId: number): LeaseInfo | null {
    return leaseOf(this.s.getLease.get(routerId));
  }

  /** Would tryAcquireLease succeed now? Read-only: no write lock taken. */
  isLeaseAvailable(routerId: number, holderId: string, nowMs: number): boolean {
    const row = this.s.getLease.get(routerId);
    return !row || row.holder === holderId || row.expires_ms <= nowMs || this.isHolderDead(row);
  }

  private isHolderDead(row: LeaseRow): boolean {
    return row.hostname === this.hostname && !this.isPidAlive(row.pid);
  }

  /**
   * Takes the lease when it is free, ours, expired, or held by a dead process on this machine.
   * Atomic across processes (BEGIN IMMEDIATE). A takeover is recorded as a notice.
   */
  tryAcquireLease(routerId: number, holder: LeaseHolder, nowMs: number, ttlMs: number): LeaseAttempt {
    return this.db
      .transaction((): LeaseAttempt => {
        const row = this.s.getLease.get(routerId);
        const put = () => {
          this.s.putLease.run(routerId, holder.id, holder.pid, holder.hostname, row?.holder === holder.id ? row.acquired_ms : nowMs, nowMs + ttlMs);
          return leaseOf(this.s.getLease.get(routerId));
        };
        if (!row || row.holder === holder.id) return { acquired: true, lease: put(), tookOver: null };
        const reason = row.expires_ms <= nowMs ? 'expired' : this.isHolderDead(row) ? 'holder-dead' : null;
        if (reason === null) return { acquired: false, lease: leaseOf(row), tookOver: null };
        const from = leaseOf(row);
        if (!from) throw new Error('lease row without lease');
        this.s.insertNotice.run(
          routerId,
          nowMs,
          'info',
          'lease-takeover',
          `History recording taken over from process ${row.pid} on ${row.hostname.slice(0, 64)} (${reason === 'expired' ? 'its lease expired' : 'it is no longer running'}).`,
          null,
          null,
        );
        return { acquired: true, lease: put(), tookOver: { from, reason } };
      })
      .immediate();
  }

  releaseLease(routerId: number, holderId: string): void {
    this.s.releaseLease.run(routerId, holderId);
  }

  // ---- accounting state ----------------------------------------------------------------------

  loadState(routerId: number): StoredState | null {
    const row = this.s.loadState.get(routerId);
    if (!row) return null;
    return { state: decodeState(row.state_json), epoch: row.epoch, lastPollMs: row.last_poll_ms, updatedMs: row.updated_ms };
  }

  /** Forgets cached host rows (after another process may have written). */
  invalidateCache(routerId?: number): void {
    if (routerId === undefined) {
      this.hostCache.clear();
      this.rolledMinute.clear();
    } else {
      this.hostCache.delete(routerId);
      this.rolledMinute.delete(routerId);
    }
  }

  // ---- writing a poll ------------------------------------------------------------------------

  /**
   * Records one processed poll: samples (minute, hour, day), host rows, notices and the accounting
   * state, all in ONE transaction, which also checks and renews the holder's lease. Returns false
   * (and writes nothing) when `holderId` no longer holds the lease for this router.
   */
  recordPoll(routerId: number, holderId: string, result: AccountingResult, state: AccountingState, leaseTtlMs: number): boolean {
    let ok: boolean;
    try {
      ok = this.writePoll.immediate(routerId, holderId, result, state, leaseTtlMs);
    } catch (error) {
      // The caches may hold what the rollback removed.
      this.hostCache.delete(routerId);
      this.rolledMinute.delete(routerId);
      throw error;
    }
    if (!ok) return false;
    if (this.autoPrune) {
      const hour = Math.floor(result.atMs / HOUR);
      if (this.lastPrunedHour !== hour) {
        this.lastPrunedHour = hour;
        this.prune(result.atMs);
      }
    }
    return true;
  }

  private writeRows(routerId: number, result: AccountingResult, state: AccountingState): void {
    const atMs = result.atMs;
    const minute = Math.floor(atMs / BUCKET_MS.minute);
    const hour = Math.floor(atMs / HOUR);
    const day = Math.floor(atMs / DAY);
    for (const e of result.events) {
      if (e.kind === 'identity-merged') this.mergeHost(routerId, e.fromIdentity, e.toIdentity);
    }
    // Hours and days are rolled up from the minutes once per minute, not on every poll: a new
    // minute closes all earlier ones (polls of one writer move forward in time).
    let rolled = this.rolledMinute.get(routerId) ?? this.s.rolledMinute.get(routerId)?.rolled_minute ?? minute;
    if (minute > rolled) {
      this.s.rollUp.hour.run(routerId, rolled, minute);
      this.s.rollUp.day.run(routerId, rolled, minute);
      rolled = minute;
    }
    // A minute already rolled up (the clock went back) goes straight into the rollups as well.
    const isRolled = minute < rolled;
    let cache = this.hostCache.get(routerId);
    if (!cache) {
      cache = new Map();
      this.hostCache.set(routerId, cache);
    }
    for (const h of result.hosts) this.ensureHost(routerId, cache, h, atMs, minute);
    for (const d of result.deltas) {
      const id = this.ensureHost(routerId, cache, d, atMs, minute);
      this.s.upsert.minute.run(id, minute, d.downBytes, d.upBytes);
      if (isRolled) {
        this.s.upsert.hour.run(id, hour, d.downBytes, d.upBytes);
        this.s.upsert.day.run(id, day, d.downBytes, d.upBytes);
      }
    }
    for (const e of result.events) {
      const notices = noticeFor(e, atMs);
      if (notices.length === 0) continue;
      // A pathological router (a counter reset or jumping on every poll) must not fill the disk
      // with notices: keep the first of each kind per minute.
      const key = `${routerId} ${e.kind}`;
      if (this.noticeMinute.get(key) === minute) continue;
      this.noticeMinute.set(key, minute);
      for (const n of notices) {
        const missingFrom = e.kind === 'reset' ? e.missingFromMs : null;
        const missingTo = e.kind === 'reset' ? e.missingToMs : null;
        this.s.insertNotice.run(routerId, atMs, n.level, e.kind, n.text, missingFrom, missingTo);
      }
    }
    this.s.upsertState.run(routerId, state.epoch, state.bootMarker, state.lastAtMs, encodeState(state), atMs, rolled);
    this.rolledMinute.set(routerId, rolled);
  }

  /** Minutes from here on are not in the hour/day tables yet (Infinity: nothing recorded). */
  private unrolledFromMs(routerId: number): number {
    const row = this.s.rolledMinute.get(routerId);
    return row ? row.rolled_minute * BUCKET_MS.minute : Infinity;
  }

  private ensureHost(routerId: number, cache: Map<string, CachedHost>, h: AccountedHost | HostDelta, atMs: number, minute: number): number {
    const hostname = capHostname(h.hostname);
    const cached = cache.get(h.identity);
    if (cached) {
      const mac = h.mac ?? cached.mac;
      const name = hostname ?? cached.hostname;
      if (cached.ip !== h.ip || cached.mac !== mac || cached.hostname !== name || cached.lastSeenMinute !== minute) {
        this.s.updateHost.run(mac, h.ip, name, atMs, cached.id);
        Object.assign(cached, { ip: h.ip, mac, hostname: name, lastSeenMinute: minute });
      }
      return cached.id;
    }
    const row = this.s.upsertHost.get(routerId, h.identity, h.mac, h.ip, hostname, atMs, atMs);
    if (!row) throw new Error('host upsert returned no row');
    cache.set(h.identity, { id: row.id, ip: h.ip, mac: h.mac, hostname, lastSeenMinute: minute });
    return row.id;
  }

  /** Moves all history of identity `from` to `to` (a MAC-less host whose MAC became known). */
  private mergeHost(routerId: number, from: string, to: string): void {
    const cache = this.hostCache.get(routerId);
    cache?.delete(from);
    cache?.delete(to);
    const src = this.s.hostByIdentity.get(routerId, from);
    if (!src) return;
    const dst = this.s.hostByIdentity.get(routerId, to);
    const mac = to.startsWith('ip:') ? null : to;
    if (!dst) {
      this.s.renameHost.run(to, mac, src.id);
      return;
    }
    for (const g of GRANULARITIES) {
      this.s.moveSamples[g].run(dst.id, src.id);
      this.s.deleteSamples[g].run(src.id);
    }
    this.s.firstSeenMin.run(src.first_seen_ms, dst.id);
    this.s.deleteHost.run(src.id);
  }

  // ---- retention -----------------------------------------------------------------------------

  availability(): Availability {
    const get = (key: string) => Number(this.s.getMeta.get(key)?.value ?? 0);
    return { minutesFromMs: get('minutes_from_ms'), hoursFromMs: get('hours_from_ms'), daysFromMs: get('days_from_ms') };
  }

  /**
   * Deletes rows older than the retention, in whole hours of minutes and whole (UTC) days of hours
   * and days, so range plans never need a bucket that is half gone. Idempotent.
   */
  prune(nowMs: number): PruneResult {
    return this.db
      .transaction((): PruneResult => {
        const before = this.availability();
        const r = this.retention;
        // Minutes not yet rolled up (a router whose writer stopped mid-minute) are kept until they are.
        const unrolled = this.s.minRolledMinute.get()?.m ?? null;
        const keepFrom = unrolled === null ? Infinity : floorTo(unrolled * BUCKET_MS.minute, HOUR);
        const minutesFromMs = Math.max(before.minutesFromMs, Math.min(floorTo(nowMs - r.minuteMs, HOUR), keepFrom));
        const hoursFromMs = Math.max(before.hoursFromMs, floorTo(nowMs - r.hourMs, DAY));
        const daysFromMs = r.dayMs === null ? before.daysFromMs : Math.max(before.daysFromMs, floorTo(nowMs - r.dayMs, DAY));
        const minutesDeleted = this.s.prune.minute.run(minutesFromMs / BUCKET_MS.minute).changes;
        const hoursDeleted = this.s.prune.hour.run(hoursFromMs / HOUR).changes;
        const daysDeleted = daysFromMs > 0 ? this.s.prune.day.run(daysFromMs / DAY).changes : 0;
        this.s.pruneNotices.run(hoursFromMs);
        this.s.setMeta.run('minutes_from_ms', String(minutesFromMs));
        this.s.setMeta.run('hours_from_ms', String(hoursFromMs));
        this.s.setMeta.run('days_from_ms', String(daysFromMs));
        return { minutesDeleted, hoursDeleted, daysDeleted, availability: { minutesFromMs, hoursFromMs, daysFromMs } };
      })
      .immediate();
  }

  // ---- queries -------------------------------------------------------------------------------

  /** How a range would be answered (which tables, which effective bounds). */
  plan(startMs: number, endMs: number): RangePlan {
    return planRange(startMs, endMs, this.availability());
  }

  /** Per-host totals for [startMs, endMs), largest first; `top` cuts the list (totals stay complete). */
  hostTotals(routerId: number, startMs: number, endMs: number, options: { top?: number } = {}): PeriodReport {
    const plan = this.plan(startMs, endMs);
    const read = this.db.transaction(() => {
      const sums = new Map<number, [number, number]>();
      const add = (g: Granularity, from: number, to: number) => {
        if (from >= to) return;
        for (const row of this.s.sumByHost[g].iterate(routerId, from, to)) {
          const s = sums.get(row.host_id);
          if (s) {
            s[0] += row.d;
            s[1] += row.u;
          } else sums.set(row.host_id, [row.d, row.u]);
        }
      };
      const unrolledMs = this.unrolledFromMs(routerId);
      for (const piece of plan.pieces) {
        add(piece.granularity, piece.fromBucket, piece.toBucket);
        if (piece.granularity !== 'minute') {
          // The newest minutes are not in the rollups yet: take them from the minute table.
          const len = BUCKET_MS[piece.granularity];
          const from = Math.max(piece.fromBucket * len, unrolledMs);
          add('minute', from / BUCKET_MS.minute, (piece.toBucket * len) / BUCKET_MS.minute);
        }
      }
      return { sums, hosts: this.s.hostsOfRouter.all(routerId) };
    });
    // One read transaction: a snapshot, so a concurrent writer cannot split the pieces.
    const { sums, hosts } = read.deferred();
    const list: HostTotal[] = [];
    const totals = { downBytes: 0, upBytes: 0 };
    for (const h of hosts) {
      const s = sums.get(h.id);
      if (!s || (s[0] === 0 && s[1] === 0)) continue;
      list.push({ identity: h.identity, mac: h.mac, ip: h.ip, hostname: h.hostname, firstSeenMs: h.first_seen_ms, lastSeenMs: h.last_seen_ms, downBytes: s[0], upBytes: s[1] });
      totals.downBytes += s[0];
      totals.upBytes += s[1];
    }
    list.sort((a, b) => b.downBytes + b.upBytes - (a.downBytes + a.upBytes) || (a.identity < b.identity ? -1 : 1));
    const top = options.top;
    return {
      router: this.routerKey(routerId),
      requested: plan.requested,
      effective: plan.effective,
      startPrecision: plan.startPrecision,
      endPrecision: plan.endPrecision,
      hosts: top !== undefined && top >= 0 ? list.slice(0, top) : list,
      totals,
      hostCount: list.length,
    };
  }

  /**
   * A dense series of UTC-aligned buckets covering [startMs, endMs) for one host (identity) or all
   * hosts (identity null). Buckets older than the granularity's retention are null, not zero.
   * For local-time days use rangeSeries with day ranges from domain/periods.
   */
  series(routerId: number, identity: string | null, startMs: number, endMs: number, granularity: Granularity): SeriesPoint[] {
    const len = BUCKET_MS[granularity];
    const from = Math.floor(startMs / len);
    const to = Math.ceil(endMs / len);
    if (to - from > MAX_SERIES_POINTS) throw new UsageError(`That series would have ${to - from} points.`, 'Choose a coarser granularity or a shorter range.');
    const a = this.availability();
    const availableFrom = { minute: a.minutesFromMs, hour: a.hoursFromMs, day: a.daysFromMs }[granularity];
    const read = this.db.transaction(() => {
      const rows =
        identity === null
          ? this.s.seriesAll[granularity].all(routerId, from, to)
          : this.s.seriesOne[granularity].all(routerId, identity, from, to);
      if (granularity !== 'minute') {
        const unrolledMinute = Math.max(from * len, this.unrolledFromMs(routerId)) / BUCKET_MS.minute;
        const toMinute = (to * len) / BUCKET_MS.minute;
        if (unrolledMinute < toMinute) {
          const per = len / BUCKET_MS.minute;
          rows.push(
            ...(identity === null
              ? this.s.minutesGroupedAll.all(per, routerId, unrolledMinute, toMinute)
              : this.s.minutesGroupedOne.all(per, routerId, identity, unrolledMinute, toMinute)),
          );
        }
      }
      return rows;
    });
    const byBucket = new Map<number, { d: number; u: number }>();
    for (const r of read.deferred()) {
      const cur = byBucket.get(r.b);
      if (cur) {
        cur.d += r.d;
        cur.u += r.u;
      } else byBucket.set(r.b, { d: r.d, u: r.u });
    }
    const points: SeriesPoint[] = [];
    for (let b = from; b < to; b++) {
      const startOfBucket = b * len;
      if (startOfBucket < availableFrom) {
        points.push({ startMs: startOfBucket, downBytes: null, upBytes: null });
        continue;
      }
      const r = byBucket.get(b);
      points.push({ startMs: startOfBucket, downBytes: r?.d ?? 0, upBytes: r?.u ?? 0 });
    }
    return points;
  }

  /** Totals per given range (e.g. local days from domain/periods), for one host or all. */
  rangeSeries(routerId: number, identity: string | null, ranges: ReadonlyArray<{ startMs: number; endMs: number }>): Array<PeriodReport['totals'] & { startMs: number; endMs: number; effective: { startMs: number; endMs: number } }> {
    return ranges.map((r) => {
      const report = this.hostTotals(routerId, r.startMs, r.endMs);
      const picked = identity === null ? report.hosts : report.hosts.filter((h) => h.identity === identity);
      let downBytes = 0;
      let upBytes = 0;
      for (const h of picked) {
        downBytes += h.downBytes;
        upBytes += h.upBytes;
      }
      return { startMs: r.startMs, endMs: r.endMs, effective: report.effective, downBytes, upBytes };
    });
  }

  notices(routerId: number, startMs: number, endMs: number): StoredNotice[] {
    return this.s.noticesIn.all(routerId, startMs, endMs).map((r) => ({
      atMs: r.at_ms,
      level: r.level,
      kind: r.kind,
      text: r.text,
      missingFromMs: r.missing_from_ms,
      missingToMs: r.missing_to_ms,
    }));
  }

  /** For tests and diagnostics: raw SQL access stays inside store/. */
  integrityCheck(): string {
    return String(this.db.pragma('integrity_check', { simple: true }));
  }

  /** The schema as the database reports it (for docs and tests). */
  schemaSql(): string[] {
    return (this.db.prepare(`SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type DESC, name`).all() as Array<{ sql: string }>).map((r) => r.sql);
  }
}

/**
 * The accounting state as stored: arrays instead of objects (about half the size of plain JSON; it
 * is written on every poll) and without the rate window (after a restart the first rate spans the
 * gap anyway).
 */
export function encodeState(state: AccountingState): string {
  const counters: Array<[string, string, number, number]> = [];
  for (const [ip, c] of Object.entries(state.counters)) counters.push([ip, c.identity, c.downBytes, c.upBytes]);
  const hosts: Array<[string, string | null, string, string | null, number, number, number, number]> = [];
  for (const h of Object.values(state.hosts)) hosts.push([h.identity, h.mac, h.ip, h.hostname, h.downBytes, h.upBytes, h.firstSeenMs, h.lastSeenMs]);
  // `k` only when it differs from what the rest implies (accounting.ts exportState): a lantop
  // restarted while the rules are missing still names the gap from the last complete read.
  return JSON.stringify({ v: state.version, e: state.epoch, b: state.bootMarker, l: state.lastAtMs, c: counters, h: hosts, p: state.present, ...(state.lastCountedAtMs !== undefined ? { k: state.lastCountedAtMs } : {}) });
}

export function decodeState(text: string): AccountingState {
  const o = JSON.parse(text) as {
    v: 1;
    e: number;
    b: string | null;
    l: number | null;
    c: Array<[string, string, number, number]>;
    h: Array<[string, string | null, string, string | null, number, number, number, number]>;
    p: string[];
    k?: number | null;
  };
  const state: AccountingState = { version: o.v, epoch: o.e, bootMarker: o.b, lastAtMs: o.l, counters: {}, hosts: {}, present: o.p };
  if (o.k !== undefined) state.lastCountedAtMs = o.k;
  for (const [ip, identity, downBytes, upBytes] of o.c) state.counters[ip] = { identity, downBytes, upBytes };
  for (const [identity, mac, ip, hostname, downBytes, upBytes, firstSeenMs, lastSeenMs] of o.h) {
    state.hosts[identity] = { identity, mac, ip, hostname, downBytes, upBytes, firstSeenMs, lastSeenMs };
  }
  return state;
}

