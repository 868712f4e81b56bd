// Custom counters in the history database (issue 18, schema version 9, migrations.ts): the
// counters a user added per router (`lantop counter add|list|remove|reset`), keyed by the router key
// as quotas are; per minute, the bytes and packets each counted (domain/counter-usage.ts
// CounterAccountant.lastDeltas), so a report can say what each moved over a period (and per chart
// bucket: `series`); and the accountant's last state, so totals survive a restart and a one-shot
// `lantop usage` continues.
// Opened over the HistoryStore's database (history-store.ts `counters`); loadCountersReadOnly
// reads the counters without creating or migrating anything (what the router client installs).
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { counterKey, counterOfKey, isCounterName, type CustomCounter } from '../domain/custom-counter.js';
import type { CounterDelta, WantedCounter } from '../domain/counter-usage.js';
import type { Granularity } from '../domain/report.js';
import { BUCKET_MS, type Availability } from './range-plan.js';
import type { RouterRegistry } from './router-registry.js';
import { StateRow } from './state-row.js';

export interface StoredCounter extends WantedCounter {
  createdMs: number;
}

/** One counter over a range. */
export interface CounterTotal {
  name: string;
  bytes: number;
  packets: number;
}

/** A counter's bytes in one UTC-aligned bucket; null before the history's horizon (pruned: unknown, not zero). */
export interface CounterPoint {
  startMs: number;
  bytes: number | null;
}

/** As history-queries.ts: a series longer than this is a mistake of the caller's, not a chart. */
const MAX_SERIES_POINTS = 100_000;

type Row = { name: string; match_key: string; created_ms: number; reset_ms: number | null };

const LIST_SQL = 'SELECT name, match_key, created_ms, reset_ms FROM custom_counters WHERE router_key = ? ORDER BY name';
const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

/** Rows → counters, each re-validated (a row edited by hand that is no counter lantop would write is left out). */
function countersOf(rows: readonly Row[]): StoredCounter[] {
  const out: StoredCounter[] = [];
  for (const r of rows) {
    const counter = isCounterName(r.name) ? counterOfKey(r.match_key, r.name) : null;
    if (counter === null) continue;
    out.push({ counter, createdMs: r.created_ms, resetMs: typeof r.reset_ms === 'number' ? r.reset_ms : null });
  }
  return out;
}

export class CounterStore {
  private readonly s;
  private readonly db: Database.Database;
  private readonly state: StateRow;

  constructor(
    db: Database.Database,
    private readonly routers: Pick<RouterRegistry, 'routerId' | 'findRouter'>,
  ) {
    this.db = db;
    this.state = new StateRow(db, 'counter_state', routers);
    this.s = {
      insert: db.prepare<[string, string, string, number]>('INSERT INTO custom_counters (router_key, name, match_key, created_ms) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING'),
      list: db.prepare<[string], Row>(LIST_SQL),
      remove: db.prepare<[string, string]>('DELETE FROM custom_counters WHERE router_key = ? AND name = ?'),
      reset: db.prepare<[number, string, string]>('UPDATE custom_counters SET reset_ms = ? WHERE router_key = ? AND name = ?'),
      add: db.prepare<[number, number, string, number, number]>(
        `INSERT INTO counter_minutes (router_id, minute_ms, name, bytes, packets) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (router_id, minute_ms, name) DO UPDATE SET bytes = bytes + excluded.bytes, packets = packets + excluded.packets`,
      ),
      sum: db.prepare<[number, number, number], { n: string; b: number; p: number }>(
        `SELECT name AS n, SUM(bytes) AS b, SUM(packets) AS p FROM counter_minutes
         WHERE router_id = ? AND minute_ms >= ? AND minute_ms < ? GROUP BY name`,
      ),
      perBucket: db.prepare<[number, number, number, number], { n: string; b: number; s: number }>(
        `SELECT name AS n, minute_ms / CAST(? AS INTEGER) AS b, SUM(bytes) AS s FROM counter_minutes
         WHERE router_id = ? AND minute_ms >= ? AND minute_ms < ? GROUP BY n, b`,
      ),
    };
  }

  /** Adds a counter; false when the router already has one of that name (nothing changes). */
  add(routerKey: string, counter: CustomCounter, nowMs: number): boolean {
    const valid = counterOfKey(counterKey(counter), counter.name);
    if (valid === null || !isCounterName(counter.name)) throw new RangeError('not a counter');
    return this.s.insert.run(routerKey, valid.name, counterKey(valid), nowMs).changes === 1;
  }

  /** The router's counters by name. */
  list(routerKey: string): StoredCounter[] {
    return countersOf(this.s.list.all(routerKey));
  }

  /** Removes a counter (its recorded minutes stay, as a removed class's do); false: no such counter. */
  remove(routerKey: string, name: string): boolean {
    return this.s.remove.run(routerKey, name).changes === 1;
  }

  /** Starts a new epoch: totals count from now. false: no such counter. */
  reset(routerKey: string, name: string, nowMs: number): boolean {
    return this.s.reset.run(nowMs, routerKey, name).changes === 1;
  }

  /** Adds one read's deltas to the minute of atMs (UTC), in one transaction; zero deltas write no row. */
  record(routerKey: string, atMs: number, deltas: ReadonlyMap<string, CounterDelta>): void {
    if (!Number.isFinite(atMs)) throw new RangeError(`not a time: ${atMs}`);
    const rows: Array<[string, number, number]> = [];
    for (const [name, d] of deltas) {
      if (!isCounterName(name) || !isCount(d.bytes) || !isCount(d.packets)) throw new RangeError(`not a counter delta: ${JSON.stringify(name).slice(0, 40)} ${JSON.stringify(d)}`);
      if (d.bytes > 0 || d.packets > 0) rows.push([name, d.bytes, d.packets]);
    }
    if (rows.length === 0) return;
    const minuteMs = Math.floor(atMs / BUCKET_MS.minute) * BUCKET_MS.minute;
    this.db.transaction(() => {
      const routerId = this.routers.routerId(routerKey, atMs);
      for (const [name, bytes, packets] of rows) this.s.add.run(routerId, minuteMs, name, bytes, packets);
    })();
  }

  /** Each counter's bytes and packets over the minutes that start in [startMs, endMs), most bytes first, then by name. */
  query(routerKey: string, startMs: number, endMs: number): CounterTotal[] {
    const routerId = this.routers.findRouter(routerKey);
    if (routerId === null) return [];
    const out: CounterTotal[] = [];
    for (const r of this.s.sum.all(routerId, startMs, endMs)) if (isCounterName(r.n)) out.push({ name: r.n, bytes: r.b, packets: r.p });
    return out.sort((a, b) => b.bytes - a.bytes || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * Each named counter's bytes per UTC-aligned bucket covering [startMs, endMs), dense: 0 where it
   * counted nothing. counter_minutes has no rollups and is pruned with the hourly horizon
   * (history-retention.ts), so an hour or a day is summed from its minutes, and a bucket that starts
   * before `availability.hoursFromMs` is null (its minutes are gone) — at every granularity. That
   * horizon is a whole UTC day, so no bucket is half gone.
   */
  series(routerKey: string, names: readonly string[], startMs: number, endMs: number, granularity: Granularity, availability: Pick<Availability, 'hoursFromMs'>): Map<string, CounterPoint[]> {
    const len = BUCKET_MS[granularity];
    const from = Math.floor(startMs / len);
    const to = Math.ceil(endMs / len);
    if (to - from > MAX_SERIES_POINTS) throw new RangeError(`a counter series of ${to - from} points`);
    const wanted = new Set(names);
    const sums = new Map<string, Map<number, number>>();
    const routerId = this.routers.findRouter(routerKey);
    if (routerId !== null && wanted.size > 0 && to > from) {
      for (const r of this.s.perBucket.all(len, routerId, from * len, to * len)) {
        if (!wanted.has(r.n)) continue;
        let m = sums.get(r.n);
        if (m === undefined) sums.set(r.n, (m = new Map()));
        m.set(r.b, r.s);
      }
    }
    const out = new Map<string, CounterPoint[]>();
    for (const name of wanted) {
      const m = sums.get(name);
      const points: CounterPoint[] = [];
      for (let b = from; b < to; b++) {
        const bucketStartMs = b * len;
        points.push({ startMs: bucketStartMs, bytes: bucketStartMs < availability.hoursFromMs ? null : (m?.get(b) ?? 0) });
      }
      out.set(name, points);
    }
    return out;
  }

  /** Keeps the exported state (CounterAccountant.exportState) of the router's last poll. */
  saveState(routerKey: string, state: unknown, atMs: number): void {
    this.state.write(routerKey, state, atMs);
  }

  /** The last saved state (to pass to CounterAccountant.importState, which checks it), or null. */
  loadState(routerKey: string): { state: unknown; updatedMs: number } | null {
    return this.state.read(routerKey);
  }
}

/**
 * The router's counters from the database file at `path`, read-only: no file, or a database from
 * before schema 9, has none ([]). null when the file is there but cannot be read (then the
 * counters on the router are left as they are, not removed).
 */
export function loadCountersReadOnly(path: string, routerKey: string): StoredCounter[] | null {
  if (path === ':memory:' || !existsSync(path)) return [];
  let db: Database.Database | null = null;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true, timeout: 1000 });
    const hasTable = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'custom_counters'`).get();
    if (!hasTable) return [];
    return countersOf(db.prepare<[string], Row>(LIST_SQL).all(routerKey));
  } catch {
    return null;
  } finally {
    db?.close();
  }
}
