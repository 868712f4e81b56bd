// Writing a processed poll (issue 7): host rows, per-minute samples, their hourly and daily rollups,
// notices and the accounting state, in one transaction that also checks and renews the writer's
// lease. docs/history.md, "Rollups" and "Crash safety", explains why it is shaped like this.

import type Database from 'better-sqlite3';
import { macOfIdentity } from '../domain/host-identity.js';
import { noticeFor, type AccountingResult, type AccountingState, type AccountedHost, type HostDelta } from '../domain/accounting.js';
import { BatchStatement, GRANULARITIES, perGranularity, prepareNoticeInsert, SAMPLE_TABLE, valueRows } from './history-database.js';
import type { HistoryRetention } from './history-retention.js';
import { BUCKET_MS, type Granularity } from './range-plan.js';
import { decodeState, encodeState, sameLayout, splitState } from './state-codec.js';
import type { LeaseAttempt, LeaseHolder, LeaseInfo, WriterLease } from './writer-lease.js';

/** What a recorder (recorder.ts) needs of the store to be the one writer of a router's history. */
export interface HistoryWriter {
  routerId(key: string, nowMs: number): number;
  getLease(routerId: number): LeaseInfo | null;
  isLeaseAvailable(routerId: number, holderId: string, nowMs: number): boolean;
  tryAcquireLease(routerId: number, holder: LeaseHolder, nowMs: number, ttlMs: number): LeaseAttempt;
  releaseLease(routerId: number, holderId: string): void;
  /** Forgets cached host rows (after another process may have written). */
  invalidateCache(routerId: number): void;
  loadState(routerId: number): StoredState | null;
  /** False (and nothing written) when `holderId` no longer holds the lease. */
  recordPoll(routerId: number, holderId: string, result: AccountingResult, state: AccountingState, leaseTtlMs: number): boolean;
}

export interface StoredState {
  state: AccountingState;
  epoch: number;
  lastPollMs: number | null;
  updatedMs: number;
}

const MINUTES_PER_HOUR = BUCKET_MS.hour / BUCKET_MS.minute;

/** Hostnames are hostile and unbounded; the store keeps at most this many characters. */
const MAX_HOSTNAME_LENGTH = 255;

interface CachedHost {
  id: number;
  ip: string;
  mac: string | null;
  hostname: string | null;
  lastSeenMinute: number;
}

function capHostname(name: string | null): string | null {
  return name === null ? null : name.slice(0, MAX_HOSTNAME_LENGTH);
}

/** Adds a conflicting row's bytes, both families and their IPv6 part (issue 15), to the stored row. */
const ADD_BYTES = `down_bytes = down_bytes + excluded.down_bytes, up_bytes = up_bytes + excluded.up_bytes,
         down6_bytes = down6_bytes + excluded.down6_bytes, up6_bytes = up6_bytes + excluded.up6_bytes`;

/** Values per sample row: host_id, bucket, down_bytes, up_bytes, down6_bytes, up6_bytes. */
const SAMPLE_WIDTH = 6;

function prepareStatements(db: Database.Database) {
  // Rows of (host_id, bucket, down_bytes, up_bytes, down6_bytes, up6_bytes).
  const upsert = (g: Granularity) =>
    new BatchStatement(
      db,
      SAMPLE_WIDTH,
      (rows) => `INSERT INTO ${SAMPLE_TABLE[g].table} (host_id, ${SAMPLE_TABLE[g].column}, down_bytes, up_bytes, down6_bytes, up6_bytes) VALUES ${valueRows(rows, SAMPLE_WIDTH)}
       ON CONFLICT (${SAMPLE_TABLE[g].column}, host_id) DO UPDATE SET ${ADD_BYTES}`,
    );
  const rollUp = (g: 'hour' | 'day') =>
    db.prepare<[number, number, number]>(
      `INSERT INTO ${SAMPLE_TABLE[g].table} (host_id, ${SAMPLE_TABLE[g].column}, down_bytes, up_bytes, down6_bytes, up6_bytes)
       SELECT host_id, minute / ${BUCKET_MS[g] / BUCKET_MS.minute}, SUM(down_bytes), SUM(up_bytes), SUM(down6_bytes), SUM(up6_bytes) FROM samples_minute
       WHERE host_id IN (SELECT id FROM hosts WHERE router_id = ?) AND minute >= ? AND minute < ?
       GROUP BY host_id, minute / ${BUCKET_MS[g] / BUCKET_MS.minute}
       ON CONFLICT (${SAMPLE_TABLE[g].column}, host_id) DO UPDATE SET ${ADD_BYTES}`,
    );
  const moveSamples = (g: Granularity) =>
    db.prepare<[number, number]>(
      `INSERT INTO ${SAMPLE_TABLE[g].table} (host_id, ${SAMPLE_TABLE[g].column}, down_bytes, up_bytes, down6_bytes, up6_bytes)
       SELECT ?, ${SAMPLE_TABLE[g].column}, down_bytes, up_bytes, down6_bytes, up6_bytes FROM ${SAMPLE_TABLE[g].table} WHERE host_id = ?
       ON CONFLICT (${SAMPLE_TABLE[g].column}, host_id) DO UPDATE SET ${ADD_BYTES}`,
    );
  return {
    upsert: perGranularity(upsert),
    rollUp: { hour: rollUp('hour'), day: rollUp('day') },
    moveSamples: perGranularity(moveSamples),
    deleteSamples: perGranularity((g) => db.prepare<[number]>(`DELETE FROM ${SAMPLE_TABLE[g].table} WHERE host_id = ?`)),
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
    // Shared: the poll's time; rows: host ids.
    touchHosts: new BatchStatement(db, 1, (rows) => `UPDATE hosts SET last_seen_ms = max(last_seen_ms, ?) WHERE id IN (${new Array<string>(rows).fill('?').join(', ')})`),
    hostByIdentity: db.prepare<[number, string], { id: number; first_seen_ms: number }>(
      'SELECT id, first_seen_ms FROM hosts WHERE router_id = ? AND identity = ?',
    ),
    renameHost: db.prepare<[string, string | null, number]>('UPDATE hosts SET identity = ?, mac = ? WHERE id = ?'),
    deleteHost: db.prepare<[number]>('DELETE FROM hosts WHERE id = ?'),
    firstSeenMin: db.prepare<[number, number]>('UPDATE hosts SET first_seen_ms = min(first_seen_ms, ?) WHERE id = ?'),
    insertNotice: prepareNoticeInsert(db),
    upsertState: db.prepare<[number, number, string | null, number | null, string, Buffer | null, number, number]>(
      `INSERT INTO router_state (router_id, epoch, boot_marker, last_poll_ms, state_json, state_counts, updated_ms, rolled_minute) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (router_id) DO UPDATE SET epoch = excluded.epoch, boot_marker = excluded.boot_marker,
         last_poll_ms = excluded.last_poll_ms, state_json = excluded.state_json, state_counts = excluded.state_counts,
         updated_ms = excluded.updated_ms, rolled_minute = excluded.rolled_minute`,
    ),
    // The state's JSON is as stored: only its numbers (state-codec.ts) and the bookkeeping move.
    updateCounts: db.prepare<[number | null, Buffer, number, number, number]>(
      'UPDATE router_state SET last_poll_ms = ?, state_counts = ?, updated_ms = ?, rolled_minute = ? WHERE router_id = ?',
    ),
    rolledMinute: db.prepare<[number], { rolled_minute: number }>('SELECT rolled_minute FROM router_state WHERE router_id = ?'),
    loadState: db.prepare<[number], { epoch: number; last_poll_ms: number | null; state_json: string; state_counts: Buffer | null; updated_ms: number }>(
      'SELECT epoch, last_poll_ms, state_json, state_counts, updated_ms FROM router_state WHERE router_id = ?',
    ),
  };
}

export class PollWriter {
  private readonly s;
  private readonly hostCache = new Map<number, Map<string, CachedHost>>();
  /** Per router: minutes before this are rolled up into hours and days (see router_state). */
  private readonly rolledMinute = new Map<number, number>();
  /** Per router: the layout (state-codec.ts) of the state whose JSON router_state holds, as this process wrote it. */
  private readonly storedLayout = new Map<number, unknown[]>();
  private lastPrunedHour: number | null = null;
  /** `${routerId} ${kind}` → minute of the last stored notice of that kind (at most one a minute). */
  private readonly noticeMinute = new Map<string, number>();
  private readonly writePoll: Database.Transaction<
    (routerId: number, holderId: string, result: AccountingResult, state: AccountingState, leaseTtlMs: number) => boolean
  >;

  /** `autoPrune`: pruned once per hour of recorded polls; null: never (the caller prunes). */
  constructor(
    db: Database.Database,
    lease: Pick<WriterLease, 'renew'>,
    private readonly autoPrune: Pick<HistoryRetention, 'prune'> | null,
  ) {
    this.s = prepareStatements(db);
    this.writePoll = db.transaction(
      (routerId: number, holderId: string, result: AccountingResult, state: AccountingState, leaseTtlMs: number): boolean => {
        if (!lease.renew(routerId, holderId, result.atMs + leaseTtlMs)) return false;
        this.writeRows(routerId, result, state);
        return true;
      },
    );
  }

  loadState(routerId: number): StoredState | null {
    const row = this.s.loadState.get(routerId);
    if (!row) return null;
    return { state: decodeState(row.state_json, row.state_counts), epoch: row.epoch, lastPollMs: row.last_poll_ms, updatedMs: row.updated_ms };
  }

  invalidateCache(routerId: number): void {
    this.hostCache.delete(routerId);
    this.rolledMinute.delete(routerId);
    this.storedLayout.delete(routerId);
  }

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
      this.invalidateCache(routerId);
      throw error;
    }
    if (!ok) return false;
    if (this.autoPrune) {
      const hour = Math.floor(result.atMs / BUCKET_MS.hour);
      if (this.lastPrunedHour !== hour) {
        this.lastPrunedHour = hour;
        this.autoPrune.prune(result.atMs);
      }
    }
    return true;
  }

  private writeRows(routerId: number, result: AccountingResult, state: AccountingState): void {
    const atMs = result.atMs;
    const minute = Math.floor(atMs / BUCKET_MS.minute);
    const hour = Math.floor(atMs / BUCKET_MS.hour);
    const day = Math.floor(atMs / BUCKET_MS.day);
    for (const e of result.events) {
      if (e.kind === 'identity-merged') this.mergeHost(routerId, e.fromIdentity, e.toIdentity);
    }
    // Hours and days are rolled up from the minutes once per hour, not on every poll or minute: a
    // new hour closes all earlier minutes (polls of one writer move forward in time). Per minute it
    // cost 254 + 254 upserts on every minute's first poll (0.44 ms of a 1.4 ms write, issue 21);
    // queries add the minutes not rolled up yet (history-queries.ts).
    let rolled = this.rolledMinute.get(routerId) ?? this.s.rolledMinute.get(routerId)?.rolled_minute ?? minute;
    const hourStart = hour * MINUTES_PER_HOUR;
    if (hourStart > rolled) {
      this.s.rollUp.hour.run(routerId, rolled, hourStart);
      this.s.rollUp.day.run(routerId, rolled, hourStart);
      rolled = hourStart;
    }
    // A minute already rolled up (the clock went back) goes straight into the rollups as well.
    const isRolled = minute < rolled;
    let cache = this.hostCache.get(routerId);
    if (!cache) {
      cache = new Map();
      this.hostCache.set(routerId, cache);
    }
    const touched: number[] = [];
    for (const h of result.hosts) this.ensureHost(routerId, cache, h, atMs, minute, touched);
    const rows: number[] = [];
    const byFamily = result.deltasByFamily;
    for (const d of result.deltas) {
      // A delta without a split (a result built by hand) is IPv4, as every row before issue 15.
      const split = byFamily?.get(d.identity);
      rows.push(this.ensureHost(routerId, cache, d, atMs, minute, touched), minute, d.downBytes, d.upBytes, split?.down6Bytes ?? 0, split?.up6Bytes ?? 0);
    }
    this.s.touchHosts.run(touched, [atMs]);
    this.s.upsert.minute.run(rows);
    if (isRolled) {
      for (let i = 1; i < rows.length; i += SAMPLE_WIDTH) rows[i] = hour;
      this.s.upsert.hour.run(rows);
      for (let i = 1; i < rows.length; i += SAMPLE_WIDTH) rows[i] = day;
      this.s.upsert.day.run(rows);
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
    this.writeState(routerId, state, atMs, rolled);
    this.rolledMinute.set(routerId, rolled);
  }

  /** The whole state when more than its numbers changed since this process stored it, else the numbers alone. */
  private writeState(routerId: number, state: AccountingState, atMs: number, rolled: number): void {
    const split = splitState(state);
    const stored = this.storedLayout.get(routerId);
    if (split !== null && stored !== undefined && sameLayout(stored, split.layout)) {
      this.s.updateCounts.run(state.lastAtMs, split.counts, atMs, rolled, routerId);
      return;
    }
    this.s.upsertState.run(routerId, state.epoch, state.bootMarker, state.lastAtMs, encodeState(state), split?.counts ?? null, atMs, rolled);
    if (split === null) this.storedLayout.delete(routerId);
    else this.storedLayout.set(routerId, split.layout);
  }

  /**
   * The host's row id, its row written when something changed. A host whose only change is being
   * seen in a new minute is added to `touched` instead: the caller moves all their last_seen_ms at
   * once (a 254-host LAN would otherwise cost 254 UPDATEs every minute).
   */
  private ensureHost(
    routerId: number,
    cache: Map<string, CachedHost>,
    h: AccountedHost | HostDelta,
    atMs: number,
    minute: number,
    touched: number[],
  ): number {
    const hostname = capHostname(h.hostname);
    const cached = cache.get(h.identity);
    if (cached) {
      const mac = h.mac ?? cached.mac;
      const name = hostname ?? cached.hostname;
      if (cached.ip !== h.ip || cached.mac !== mac || cached.hostname !== name) {
        this.s.updateHost.run(mac, h.ip, name, atMs, cached.id);
        Object.assign(cached, { ip: h.ip, mac, hostname: name, lastSeenMinute: minute });
      } else if (cached.lastSeenMinute !== minute) {
        touched.push(cached.id);
        cached.lastSeenMinute = minute;
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
    const mac = macOfIdentity(to);
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
}
