// Quotas, persons, threshold crossings and the block audit log (issue 16), in the history database
// (schema version 5, migrations.ts): they outlive restarts and go with its backups. Usage against a
// quota is read from the history samples, so what was counted across reboots and restarts counts;
// range-plan.ts decides which tables answer a range, as for reports (history-queries.ts).
// Opened over the HistoryStore's database (history-store.ts `quotas`).

import type Database from 'better-sqlite3';
import { UsageError } from '../errors.js';
import {
  checkQuotaPeriod,
  checkQuotaThresholds,
  type BlockAuditAction,
  type BlockAuditEntry,
  type Person,
  type Quota,
  type QuotaDirection,
  type QuotaSubject,
} from '../domain/quota.js';
import { perGranularity, SAMPLE_TABLE } from './history-database.js';
import type { HistoryRetention } from './history-retention.js';
import { BUCKET_MS, forEachPlannedRange, planRange, type Granularity } from './range-plan.js';

/** A host the history knows for a router, as `hosts` shows it. */
export interface KnownHost {
  identity: string;
  mac: string | null;
  ip: string;
  hostname: string | null;
  lastSeenMs: number;
}

export interface DirectionBytes {
  downBytes: number;
  upBytes: number;
}

/** Whose bytes: some identities, or every host of the router. */
export type IdentitySelection = readonly string[] | 'all';

export type NewQuota = Omit<Quota, 'id'>;

/** What `updateQuota` may change: everything but the id, the router and when it was added. */
export type QuotaChanges = Partial<Pick<Quota, 'subject' | 'limitBytes' | 'direction' | 'period' | 'thresholds'>>;

export interface StoredAuditEntry extends BlockAuditEntry {
  id: number;
}

interface QuotaRow {
  id: number;
  router_key: string;
  subject_kind: string;
  subject_id: string;
  limit_bytes: number;
  direction: string;
  period_json: string;
  thresholds_json: string;
  created_ms: number;
}

interface AuditRow {
  id: number;
  router_key: string;
  at_ms: number;
  action: string;
  identity: string;
  addresses_json: string;
  reason: string;
  quota_id: number | null;
  by: string;
  until_ms: number | null;
}

// `all` = 1 counts every host of the router; else the identities in the JSON array.
const HOSTS_SELECTED = `host_id IN (SELECT id FROM hosts WHERE router_id = ? AND (? = 1 OR identity IN (SELECT value FROM json_each(?))))`;
const DIRECTION_BYTES = `(CASE ? WHEN 'down' THEN down_bytes WHEN 'up' THEN up_bytes ELSE down_bytes + up_bytes END)`;

type SelectionParams = [number, number, string];

function prepareStatements(db: Database.Database) {
  const sum = (g: Granularity) =>
    db.prepare<[...SelectionParams, number, number], { d: number | null; u: number | null }>(
      `SELECT SUM(down_bytes) AS d, SUM(up_bytes) AS u FROM ${SAMPLE_TABLE[g].table}
       WHERE ${HOSTS_SELECTED} AND ${SAMPLE_TABLE[g].column} >= ? AND ${SAMPLE_TABLE[g].column} < ?`,
    );
  const oldest = (g: Granularity) =>
    db.prepare<[...SelectionParams, string, number, number], { b: number | null }>(
      `SELECT MIN(${SAMPLE_TABLE[g].column}) AS b FROM ${SAMPLE_TABLE[g].table}
       WHERE ${HOSTS_SELECTED} AND ${DIRECTION_BYTES} > 0 AND ${SAMPLE_TABLE[g].column} >= ? AND ${SAMPLE_TABLE[g].column} < ?`,
    );
  return {
    sum: perGranularity(sum),
    oldest: perGranularity(oldest),
    rolledMinute: db.prepare<[number], { rolled_minute: number }>('SELECT rolled_minute FROM router_state WHERE router_id = ?'),
    hosts: db.prepare<[number], { identity: string; mac: string | null; ip: string; hostname: string | null; last_seen_ms: number }>(
      'SELECT identity, mac, ip, hostname, last_seen_ms FROM hosts WHERE router_id = ? ORDER BY last_seen_ms DESC, identity',
    ),
    insertQuota: db.prepare<[string, string, string, number, string, string, string, number]>(
      `INSERT INTO quotas (router_key, subject_kind, subject_id, limit_bytes, direction, period_json, thresholds_json, created_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    quotasOf: db.prepare<[string], QuotaRow>('SELECT * FROM quotas WHERE router_key = ? ORDER BY id'),
    quotaById: db.prepare<[number], QuotaRow>('SELECT * FROM quotas WHERE id = ?'),
    quotasOfPerson: db.prepare<[string, string], { id: number }>(`SELECT id FROM quotas WHERE router_key = ? AND subject_kind = 'person' AND subject_id = ? ORDER BY id`),
    deleteQuota: db.prepare<[number, string]>('DELETE FROM quotas WHERE id = ? AND router_key = ?'),
    updateQuota: db.prepare<[string, string, number, string, string, string, number, string]>(
      `UPDATE quotas SET subject_kind = ?, subject_id = ?, limit_bytes = ?, direction = ?, period_json = ?, thresholds_json = ?
       WHERE id = ? AND router_key = ?`,
    ),
    // Crossings of percents not in the JSON array (all of them with '[]').
    dropCrossings: db.prepare<[number, string]>('DELETE FROM quota_crossings WHERE quota_id = ? AND percent NOT IN (SELECT value FROM json_each(?))'),
    personId: db.prepare<[string, string], { id: number }>('SELECT id FROM persons WHERE router_key = ? AND name = ?'),
    insertPerson: db.prepare<[string, string, number]>('INSERT INTO persons (router_key, name, created_ms) VALUES (?, ?, ?)'),
    insertDevice: db.prepare<[number, string]>('INSERT INTO person_devices (person_id, identity) VALUES (?, ?) ON CONFLICT DO NOTHING'),
    persons: db.prepare<[string], { name: string; identity: string | null }>(
      `SELECT p.name, d.identity FROM persons p LEFT JOIN person_devices d ON d.person_id = p.id
       WHERE p.router_key = ? ORDER BY p.name, d.identity`,
    ),
    deletePerson: db.prepare<[string, string]>('DELETE FROM persons WHERE router_key = ? AND name = ?'),
    insertCrossing: db.prepare<[number, number, number, number]>(
      'INSERT INTO quota_crossings (quota_id, window_start_ms, percent, at_ms) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
    ),
    forgetCrossing: db.prepare<[number, number, number]>('DELETE FROM quota_crossings WHERE quota_id = ? AND window_start_ms = ? AND percent = ?'),
    crossings: db.prepare<[number, number], { percent: number }>('SELECT percent FROM quota_crossings WHERE quota_id = ? AND window_start_ms = ? ORDER BY percent'),
    insertAudit: db.prepare<[string, number, string, string, string, string, number | null, string, number | null]>(
      `INSERT INTO block_audit (router_key, at_ms, action, identity, addresses_json, reason, quota_id, by, until_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    audit: db.prepare<[string, number, number], AuditRow>(
      'SELECT * FROM (SELECT * FROM block_audit WHERE router_key = ? AND at_ms >= ? ORDER BY at_ms DESC, id DESC LIMIT ?) ORDER BY at_ms, id',
    ),
  };
}

function subjectColumns(subject: QuotaSubject): [string, string] {
  return subject.kind === 'device' ? ['device', subject.identity] : subject.kind === 'person' ? ['person', subject.name] : ['line', ''];
}

function quotaOf(row: QuotaRow): Quota {
  const subject: QuotaSubject =
    row.subject_kind === 'device'
      ? { kind: 'device', identity: row.subject_id }
      : row.subject_kind === 'person'
        ? { kind: 'person', name: row.subject_id }
        : { kind: 'line' };
  return {
    id: row.id,
    routerKey: row.router_key,
    subject,
    limitBytes: row.limit_bytes,
    direction: row.direction as QuotaDirection,
    period: checkQuotaPeriod(JSON.parse(row.period_json)),
    thresholds: checkQuotaThresholds(JSON.parse(row.thresholds_json)),
    createdMs: row.created_ms,
  };
}

function auditOf(row: AuditRow): StoredAuditEntry {
  return {
    id: row.id,
    atMs: row.at_ms,
    routerKey: row.router_key,
    action: row.action as BlockAuditAction,
    identity: row.identity,
    addresses: JSON.parse(row.addresses_json) as string[],
    reason: row.reason,
    quotaId: row.quota_id,
    by: row.by === 'quota' ? 'quota' : 'hand',
    untilMs: row.until_ms,
  };
}

export class QuotaStore {
  private readonly s;

  constructor(
    private readonly db: Database.Database,
    private readonly retention: Pick<HistoryRetention, 'availability'>,
  ) {
    this.s = prepareStatements(db);
  }

  // ---- quotas --------------------------------------------------------------------------------

  addQuota(quota: NewQuota): Quota {
    const [kind, id] = subjectColumns(quota.subject);
    const info = this.s.insertQuota.run(
      quota.routerKey,
      kind,
      id,
      quota.limitBytes,
      quota.direction,
      JSON.stringify(quota.period),
      JSON.stringify(quota.thresholds),
      quota.createdMs,
    );
    return { ...quota, id: Number(info.lastInsertRowid) };
  }

  listQuotas(routerKey: string): Quota[] {
    return this.s.quotasOf.all(routerKey).map(quotaOf);
  }

  getQuota(id: number): Quota | null {
    const row = this.s.quotaById.get(id);
    return row ? quotaOf(row) : null;
  }

  /**
   * Changes a quota of this router in place (an edit: the id, the router and `createdMs` stay).
   * Recorded crossings are kept for the thresholds whose percent still exists with no action it
   * lacked before (a 100 % that now also blocks counts as new, so it blocks at the next check);
   * the others are dropped. A new period or subject is a new window and new bytes: every crossing
   * is dropped. Null when the router has no quota `id`. The caller checks the values.
   */
  updateQuota(routerKey: string, id: number, changes: QuotaChanges): Quota | null {
    return this.db
      .transaction((): Quota | null => {
        const row = this.s.quotaById.get(id);
        if (!row || row.router_key !== routerKey) return null;
        const old = quotaOf(row);
        const next: Quota = { ...old, ...changes };
        const [kind, subjectId] = subjectColumns(next.subject);
        this.s.updateQuota.run(kind, subjectId, next.limitBytes, next.direction, JSON.stringify(next.period), JSON.stringify(next.thresholds), id, routerKey);
        const isNewWindow = JSON.stringify(old.period) !== JSON.stringify(next.period) || JSON.stringify(old.subject) !== JSON.stringify(next.subject);
        const kept = isNewWindow
          ? []
          : next.thresholds
              .filter((t) => old.thresholds.some((o) => o.percent === t.percent && (o.notify || !t.notify) && (o.block || !t.block)))
              .map((t) => t.percent);
        this.s.dropCrossings.run(id, JSON.stringify(kept));
        return next;
      })
      .immediate();
  }

  /** Removes a quota of this router (and its recorded crossings). False when there is none. */
  removeQuota(routerKey: string, id: number): boolean {
    return this.s.deleteQuota.run(id, routerKey).changes > 0;
  }

  // ---- persons -------------------------------------------------------------------------------

  /** Creates a person, or adds devices to one that exists. Returns the person as stored. */
  addPerson(routerKey: string, person: Person, nowMs: number): Person {
    this.db.transaction(() => {
      let id = this.s.personId.get(routerKey, person.name)?.id;
      if (id === undefined) id = Number(this.s.insertPerson.run(routerKey, person.name, nowMs).lastInsertRowid);
      for (const identity of person.identities) this.s.insertDevice.run(id, identity);
    }).immediate();
    return this.getPerson(routerKey, person.name) ?? { name: person.name, identities: [] };
  }

  listPersons(routerKey: string): Person[] {
    const byName = new Map<string, Person>();
    for (const row of this.s.persons.all(routerKey)) {
      let p = byName.get(row.name);
      if (!p) byName.set(row.name, (p = { name: row.name, identities: [] }));
      if (row.identity !== null) p.identities.push(row.identity);
    }
    return [...byName.values()];
  }

  getPerson(routerKey: string, name: string): Person | null {
    return this.listPersons(routerKey).find((p) => p.name === name) ?? null;
  }

  /** Removes a person; refused (nothing removed) while quotas are set on them. False when unknown. */
  removePerson(routerKey: string, name: string): boolean {
    return this.db
      .transaction(() => {
        const quotas = this.s.quotasOfPerson.all(routerKey, name).map((q) => q.id);
        if (quotas.length > 0) {
          throw new UsageError(
            `${name} has quota${quotas.length === 1 ? '' : 's'} ${quotas.join(', ')}; a person with quotas cannot be removed.`,
            `Remove the quota${quotas.length === 1 ? '' : 's'} first: lantop quota remove ${quotas[0]}.`,
          );
        }
        return this.s.deletePerson.run(routerKey, name).changes > 0;
      })
      .immediate();
  }

  /** The identities a quota's subject counts: a device's own, a person's devices, or 'all'. */
  identitiesOf(quota: Pick<Quota, 'routerKey' | 'subject'>): IdentitySelection {
    const { subject } = quota;
    if (subject.kind === 'line') return 'all';
    if (subject.kind === 'device') return [subject.identity];
    return this.getPerson(quota.routerKey, subject.name)?.identities ?? [];
  }

  // ---- hosts and usage -----------------------------------------------------------------------

  /** The hosts the history knows for a router, most recently seen first. */
  knownHosts(routerId: number): KnownHost[] {
    return this.s.hosts.all(routerId).map((h) => ({ identity: h.identity, mac: h.mac, ip: h.ip, hostname: h.hostname, lastSeenMs: h.last_seen_ms }));
  }

  /**
   * Bytes the selected hosts moved in [startMs, endMs), from the finest samples still kept (minutes
   * where kept, else hours and days; the range's ends snap as range-plan.ts says), including the
   * newest minutes not rolled up yet. One read transaction, so a concurrent poll cannot split it.
   */
  usageOf(routerId: number, identities: IdentitySelection, startMs: number, endMs: number): DirectionBytes {
    if (identities !== 'all' && identities.length === 0) return { downBytes: 0, upBytes: 0 };
    const selection = this.selection(routerId, identities);
    const plan = planRange(startMs, endMs, this.retention.availability());
    return this.db
      .transaction(() => {
        const total = { downBytes: 0, upBytes: 0 };
        const add = (g: Granularity, from: number, to: number) => {
          const row = this.s.sum[g].get(...selection, from, to);
          total.downBytes += row?.d ?? 0;
          total.upBytes += row?.u ?? 0;
        };
        const unrolledMs = this.unrolledFromMs(routerId);
        // The newest minutes are not in the rollups yet: forEachPlannedRange takes them from the minute table.
        forEachPlannedRange(plan, unrolledMs, add);
        return total;
      })
      .deferred();
  }

  /**
   * The start of the oldest bucket in [startMs, endMs) in which the selected hosts moved bytes in
   * `direction` (null: none): for a rolling quota, its count starts to fall one window after this
   * (domain/quota.ts `rollingResetMs`). Minutes where kept; an hour or day start where pruned.
   */
  oldestUsageMs(routerId: number, identities: IdentitySelection, direction: QuotaDirection, startMs: number, endMs: number): number | null {
    if (identities !== 'all' && identities.length === 0) return null;
    const selection = this.selection(routerId, identities);
    let oldest: number | null = null;
    for (const g of ['minute', 'hour', 'day'] as const) {
      const len = BUCKET_MS[g];
      const bucket = this.s.oldest[g].get(...selection, direction, Math.ceil(startMs / len), Math.ceil(endMs / len))?.b ?? null;
      if (bucket !== null && (oldest === null || bucket * len < oldest)) oldest = bucket * len;
    }
    return oldest;
  }

  // ---- crossings -----------------------------------------------------------------------------

  /** Records that a quota crossed `percent` in the window starting at windowStartMs. True the first time only. */
  recordCrossing(quotaId: number, windowStartMs: number, percent: number, atMs: number): boolean {
    return this.s.insertCrossing.run(quotaId, windowStartMs, percent, atMs).changes > 0;
  }

  /** Re-arms a crossing (a rolling quota's usage fell below it): the next climb over it is new. True when one was recorded. */
  forgetCrossing(quotaId: number, windowStartMs: number, percent: number): boolean {
    return this.s.forgetCrossing.run(quotaId, windowStartMs, percent).changes > 0;
  }

  /** The threshold percents already recorded for a quota's window. */
  crossingsOf(quotaId: number, windowStartMs: number): number[] {
    return this.s.crossings.all(quotaId, windowStartMs).map((r) => r.percent);
  }

  // ---- the block audit log -------------------------------------------------------------------

  addAudit(entry: BlockAuditEntry): number {
    const info = this.s.insertAudit.run(
      entry.routerKey,
      entry.atMs,
      entry.action,
      entry.identity,
      JSON.stringify(entry.addresses),
      entry.reason,
      entry.quotaId,
      entry.by,
      entry.untilMs,
    );
    return Number(info.lastInsertRowid);
  }

  /** The newest `limit` entries (default 100) from `sinceMs` on, oldest first. */
  listAudit(routerKey: string, options: { sinceMs?: number; limit?: number } = {}): StoredAuditEntry[] {
    return this.s.audit.all(routerKey, options.sinceMs ?? 0, options.limit ?? 100).map(auditOf);
  }

  private selection(routerId: number, identities: IdentitySelection): SelectionParams {
    return identities === 'all' ? [routerId, 1, '[]'] : [routerId, 0, JSON.stringify(identities)];
  }

  /** Minutes from here on are not in the hour/day tables yet (Infinity: nothing recorded). */
  private unrolledFromMs(routerId: number): number {
    const row = this.s.rolledMinute.get(routerId);
    return row ? row.rolled_minute * BUCKET_MS.minute : Infinity;
  }
}
