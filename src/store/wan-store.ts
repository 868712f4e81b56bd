// WAN reconciliation in the history database (issue 19, schema version 6, migrations.ts): per
// minute, what crossed the WAN at layer 3, the router's own part and what the per-device counters
// saw over the same reads (domain/wan.ts WanDelta), so reports can say how much of a day's traffic
// was accounted per device; and the reconciler's last baselines, so a one-shot `lantop usage` can
// give a delta since the last poll. Opened over the HistoryStore's database (history-store.ts `wan`).
// Rows are written by the router's history writer (the lease holder), like the samples.

import { StateRow } from './state-row.js';
import type Database from 'better-sqlite3';
import { accountedShareOf, DEFAULT_MIN_SHARE_BYTES, type WanDelta } from '../domain/wan.js';
import { BUCKET_MS } from './range-plan.js';
import type { RouterRegistry } from './router-registry.js';

/** What record() adds to a minute: a WanDelta's byte figures (the times are not needed). */
export type WanMinuteDelta = Pick<WanDelta, 'downBytes' | 'upBytes' | 'routerDownBytes' | 'routerUpBytes' | 'hostDownBytes' | 'hostUpBytes'>;

export interface WanReport {
  downBytes: number;
  upBytes: number;
  /** null when no minute of the range had the router's own counters. */
  routerDownBytes: number | null;
  routerUpBytes: number | null;
  hostDownBytes: number;
  hostUpBytes: number;
  /** hosts / (WAN − router) per direction, as domain/wan.ts accountedShareOf (null below 256 KiB). */
  accountedShare: { down: number | null; up: number | null };
  /** Minutes with a row in the range, and the first and last of them (null: none). */
  minutes: number;
  firstMinuteMs: number | null;
  lastMinuteMs: number | null;
}

interface SumRow {
  n: number;
  d: number | null;
  u: number | null;
  rd: number | null;
  ru: number | null;
  hd: number | null;
  hu: number | null;
  first: number | null;
  last: number | null;
}

const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

export class WanStore {
  private readonly s;

  private readonly state: StateRow;

  constructor(
    db: Database.Database,
    private readonly routers: Pick<RouterRegistry, 'routerId' | 'findRouter'>,
  ) {
    this.state = new StateRow(db, 'wan_state', routers);
    this.s = {
      // Upsert-add: a minute's polls add up. A NULL router figure leaves the minute's as it was.
      add: db.prepare<[number, number, number, number, number | null, number | null, number, number]>(
        `INSERT INTO wan_minutes (router_id, minute_ms, down_bytes, up_bytes, router_down_bytes, router_up_bytes, host_down_bytes, host_up_bytes)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (router_id, minute_ms) DO UPDATE SET
           down_bytes = down_bytes + excluded.down_bytes,
           up_bytes = up_bytes + excluded.up_bytes,
           router_down_bytes = CASE WHEN excluded.router_down_bytes IS NULL THEN router_down_bytes ELSE COALESCE(router_down_bytes, 0) + excluded.router_down_bytes END,
           router_up_bytes = CASE WHEN excluded.router_up_bytes IS NULL THEN router_up_bytes ELSE COALESCE(router_up_bytes, 0) + excluded.router_up_bytes END,
           host_down_bytes = host_down_bytes + excluded.host_down_bytes,
           host_up_bytes = host_up_bytes + excluded.host_up_bytes`,
      ),
      // SUM over no non-NULL value is NULL: "not counted" survives the sum.
      sum: db.prepare<[number, number, number], SumRow>(
        `SELECT COUNT(*) AS n, SUM(down_bytes) AS d, SUM(up_bytes) AS u, SUM(router_down_bytes) AS rd, SUM(router_up_bytes) AS ru,
                SUM(host_down_bytes) AS hd, SUM(host_up_bytes) AS hu, MIN(minute_ms) AS first, MAX(minute_ms) AS last
         FROM wan_minutes WHERE router_id = ? AND minute_ms >= ? AND minute_ms < ?`,
      ),
      prune: db.prepare<[number]>('DELETE FROM wan_minutes WHERE minute_ms < ?'),
    };
  }

  /** Adds one read's deltas to the minute of atMs (UTC). Figures that are not counts are a bug: RangeError. */
  record(routerKey: string, atMs: number, delta: WanMinuteDelta): void {
    const figures = [delta.downBytes, delta.upBytes, delta.hostDownBytes, delta.hostUpBytes];
    const router = [delta.routerDownBytes, delta.routerUpBytes];
    if (!figures.every(isCount) || !router.every((v) => v === null || isCount(v)) || !Number.isFinite(atMs)) {
      throw new RangeError(`not a WAN delta: ${JSON.stringify(delta)} at ${atMs}`);
    }
    const minuteMs = Math.floor(atMs / BUCKET_MS.minute) * BUCKET_MS.minute;
    const routerId = this.routers.routerId(routerKey, atMs);
    this.s.add.run(routerId, minuteMs, delta.downBytes, delta.upBytes, delta.routerDownBytes, delta.routerUpBytes, delta.hostDownBytes, delta.hostUpBytes);
  }

  /** Totals and accounted shares over the minutes that start in [startMs, endMs). */
  query(routerKey: string, startMs: number, endMs: number, minShareBytes: number = DEFAULT_MIN_SHARE_BYTES): WanReport {
    const routerId = this.routers.findRouter(routerKey);
    const row = routerId === null ? undefined : this.s.sum.get(routerId, startMs, endMs);
    const r = {
      downBytes: row?.d ?? 0,
      upBytes: row?.u ?? 0,
      routerDownBytes: row?.rd ?? null,
      routerUpBytes: row?.ru ?? null,
      hostDownBytes: row?.hd ?? 0,
      hostUpBytes: row?.hu ?? 0,
    };
    return {
      ...r,
      accountedShare: {
        down: accountedShareOf(r.downBytes, r.routerDownBytes, r.hostDownBytes, minShareBytes),
        up: accountedShareOf(r.upBytes, r.routerUpBytes, r.hostUpBytes, minShareBytes),
      },
      minutes: row?.n ?? 0,
      firstMinuteMs: row?.first ?? null,
      lastMinuteMs: row?.last ?? null,
    };
  }

  /** Keeps the exported state (WanReconciler.exportState) of the router's last poll. */
  saveState(routerKey: string, state: unknown, atMs: number): void {
    this.state.write(routerKey, state, atMs);
  }

  /** The last saved state (to pass to WanReconciler.importState, which checks it), or null. */
  loadState(routerKey: string): { state: unknown; updatedMs: number } | null {
    return this.state.read(routerKey);
  }

  /** Deletes the minutes before beforeMs (all routers); the number deleted. For the retention's prune. */
  prune(beforeMs: number): number {
    return this.s.prune.run(beforeMs).changes;
  }
}
