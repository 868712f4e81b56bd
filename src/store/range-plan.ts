// Which rollup rows answer "bytes in [startMs, endMs)"? Pure, so the boundary rules are tested
// without a database (docs/history.md, "Queries and precision").
//
// Buckets are UTC-aligned minutes, hours and days, identified by their index (ms / bucket length).
// A bucket is counted when its START lies in the effective range. Where the finer table was pruned,
// the range's ends snap UP to the coarsest available boundary, and the result says so: the totals
// are exact for the effective range, which may differ from the requested one at either end.
// Pruning cuts only whole hours of minutes and whole days of hours (see prune), which guarantees
// every piece of the plan is backed by data that was kept.

import type { Granularity } from '../domain/report.js';

export type { Granularity } from '../domain/report.js';

export const BUCKET_MS: Record<Granularity, number> = {
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
};

/** Times from which each table still holds every bucket (earlier ones were pruned). */
export interface Availability {
  minutesFromMs: number;
  hoursFromMs: number;
  daysFromMs: number;
}

export interface RangePiece {
  granularity: Granularity;
  /** Bucket indices, half-open. */
  fromBucket: number;
  toBucket: number;
}

export interface RangePlan {
  requested: { startMs: number; endMs: number };
  effective: { startMs: number; endMs: number };
  /** Granularity at each end of the effective range: how far it may be from the requested one. */
  startPrecision: Granularity;
  endPrecision: Granularity;
  pieces: RangePiece[];
}

export const floorTo = (ms: number, unit: number): number => Math.floor(ms / unit) * unit;
export const ceilTo = (ms: number, unit: number): number => Math.ceil(ms / unit) * unit;

/** Finest granularity whose table still holds the bucket starting at or containing `ms`. */
function granularityAt(ms: number, a: Availability): Granularity {
  if (ms >= a.minutesFromMs) return 'minute';
  if (ms >= a.hoursFromMs) return 'hour';
  return 'day';
}

export function planRange(startMs: number, endMs: number, availability: Availability): RangePlan {
  const startPrecision = granularityAt(startMs, availability);
  // The end is governed by the last bucket before it, the one containing endMs − 1.
  const endPrecision = granularityAt(endMs - 1, availability);
  let s = ceilTo(startMs, BUCKET_MS[startPrecision]);
  s = Math.max(s, ceilTo(availability.daysFromMs, BUCKET_MS.day));
  let e = ceilTo(endMs, BUCKET_MS[endPrecision]);
  if (e < s) e = s;
  const pieces: RangePiece[] = [];
  const push = (granularity: Granularity, from: number, to: number) => {
    if (from < to) pieces.push({ granularity, fromBucket: from / BUCKET_MS[granularity], toBucket: to / BUCKET_MS[granularity] });
  };
  const fine = (x: number, y: number) => {
    const hs = ceilTo(x, BUCKET_MS.hour);
    const he = floorTo(y, BUCKET_MS.hour);
    if (hs < he) {
      push('minute', x, hs);
      push('hour', hs, he);
      push('minute', he, y);
    } else push('minute', x, y);
  };
  if (s < e) {
    const ds = ceilTo(s, BUCKET_MS.day);
    const de = floorTo(e, BUCKET_MS.day);
    if (ds < de) {
      fine(s, ds);
      push('day', ds, de);
      fine(de, e);
    } else fine(s, e);
  }
  return { requested: { startMs, endMs }, effective: { startMs: s, endMs: e }, startPrecision, endPrecision, pieces };
}

/**
 * Calls `read` for every bucket range the plan's pieces cover, plus, under each rollup piece, the
 * minutes not rolled up yet (from `unrolledFromMs` on: they are in the minute table only). Empty
 * ranges are skipped. The one walk of a plan that every sum over the history uses.
 */
export function forEachPlannedRange(plan: RangePlan, unrolledFromMs: number, read: (granularity: Granularity, fromBucket: number, toBucket: number) => void): void {
  const visit = (g: Granularity, from: number, to: number) => {
    if (from < to) read(g, from, to);
  };
  for (const piece of plan.pieces) {
    visit(piece.granularity, piece.fromBucket, piece.toBucket);
    if (piece.granularity !== 'minute') {
      const len = BUCKET_MS[piece.granularity];
      const from = Math.max(piece.fromBucket * len, unrolledFromMs);
      visit('minute', from / BUCKET_MS.minute, (piece.toBucket * len) / BUCKET_MS.minute);
    }
  }
}
