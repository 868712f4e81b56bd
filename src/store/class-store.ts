// Traffic classes in the history database (issue 19, schema version 7, migrations.ts): per minute,
// the bytes each class counted (domain/class-usage.ts ClassAccountant.lastDeltas), so a report can
// say what each port or protocol moved over a day; and the accountant's last state, so totals
// survive a restart and a one-shot `lantop usage` gives a delta since the last poll. Opened over the
// HistoryStore's database (history-store.ts `classes`). Rows are written by the router's history
// writer (the lease holder), like the samples. Kept as long as the hourly samples (history-retention.ts).

import { StateRow } from './state-row.js';
import type Database from 'better-sqlite3';
import type { ClassDelta } from '../domain/class-usage.js';
import { classKey, classOfKey } from '../domain/traffic-class.js';
import { BUCKET_MS } from './range-plan.js';
import type { RouterRegistry } from './router-registry.js';

/** One class over a range. */
export interface ClassTotal {
  key: string;
  downBytes: number;
  upBytes: number;
}

const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

export class ClassStore {
  private readonly s;
  private readonly db: Database.Database;

  private readonly state: StateRow;

  constructor(
    db: Database.Database,
    private readonly routers: Pick<RouterRegistry, 'routerId' | 'findRouter'>,
  ) {
    this.state = new StateRow(db, 'class_state', routers);
    this.db = db;
    this.s = {
      // Upsert-add: a minute's polls add up.
      add: db.prepare<[number, number, string, number, number]>(
        `INSERT INTO class_minutes (router_id, minute_ms, class_key, down_bytes, up_bytes) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (router_id, minute_ms, class_key) DO UPDATE SET
           down_bytes = down_bytes + excluded.down_bytes,
           up_bytes = up_bytes + excluded.up_bytes`,
      ),
      sum: db.prepare<[number, number, number], { k: string; d: number; u: number }>(
        `SELECT class_key AS k, SUM(down_bytes) AS d, SUM(up_bytes) AS u
         FROM class_minutes WHERE router_id = ? AND minute_ms >= ? AND minute_ms < ?
         GROUP BY class_key`,
      ),
      prune: db.prepare<[number]>('DELETE FROM class_minutes WHERE minute_ms < ?'),
    };
  }

  /**
   * Adds one read's deltas to the minute of atMs (UTC), in one transaction; zero deltas write no
   * row. A key that is no class or a figure that is no count is a bug: RangeError, nothing written.
   */
  record(routerKey: string, atMs: number, deltas: ReadonlyMap<string, ClassDelta>): void {
    if (!Number.isFinite(atMs)) throw new RangeError(`not a time: ${atMs}`);
    const rows: Array<[string, number, number]> = [];
    for (const [key, d] of deltas) {
      const cls = classOfKey(key);
      if (cls === null || classKey(cls) !== key || !isCount(d.downBytes) || !isCount(d.upBytes)) {
        throw new RangeError(`not a class delta: ${JSON.stringify(key).slice(0, 40)} ${JSON.stringify(d)}`);
      }
      if (d.downBytes > 0 || d.upBytes > 0) rows.push([key, d.downBytes, d.upBytes]);
    }
    if (rows.length === 0) return;
    const minuteMs = Math.floor(atMs / BUCKET_MS.minute) * BUCKET_MS.minute;
    this.db.transaction(() => {
      const routerId = this.routers.routerId(routerKey, atMs);
      for (const [key, down, up] of rows) this.s.add.run(routerId, minuteMs, key, down, up);
    })();
  }

  /**
   * Each class's bytes over the minutes that start in [startMs, endMs), most bytes (down + up)
   * first, then by key. Rows whose key is no class (a database edited by hand) are left out.
   */
  query(routerKey: string, startMs: number, endMs: number): ClassTotal[] {
    const routerId = this.routers.findRouter(routerKey);
    if (routerId === null) return [];
    const out: ClassTotal[] = [];
    for (const r of this.s.sum.all(routerId, startMs, endMs)) {
      const cls = classOfKey(r.k);
      if (cls === null || classKey(cls) !== r.k) continue;
      out.push({ key: r.k, downBytes: r.d, upBytes: r.u });
    }
    return out.sort((a, b) => b.downBytes + b.upBytes - (a.downBytes + a.upBytes) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** Keeps the exported state (ClassAccountant.exportState) of the router's last poll. */
  saveState(routerKey: string, state: unknown, atMs: number): void {
    this.state.write(routerKey, state, atMs);
  }

  /** The last saved state (to pass to ClassAccountant.importState, which checks it), or null. */
  loadState(routerKey: string): { state: unknown; updatedMs: number } | null {
    return this.state.read(routerKey);
  }

  /** Deletes the minutes before beforeMs (all routers); the number deleted. */
  prune(beforeMs: number): number {
    return this.s.prune.run(beforeMs).changes;
  }
}
