// Phase: rates over a sliding window (issue 7). A rate divides the bytes of the last polls by the
// time they span, at least `windowMs` once that much history exists: one late reply then moves
// the rate a little instead of spiking it (test: "one late poll does not spike it").

import type { RatePoint } from './accounting-model.js';

type Pair = [number, number];

export class RateWindow {
  private points: Array<{ atMs: number; deltas: Map<string, Pair> }>;
  /**
   * identity → the sum of its deltas in points[1..] (the reference point's are not in the rate),
   * kept as points come and go rather than summed again on every poll: at 1 Hz that was five
   * points × 254 hosts, a fifth of Accountant.process (issue 21). Deltas are whole bytes, so adding
   * and taking away is exact; an identity that no point holds any more is removed.
   */
  private sums = new Map<string, Pair>();
  private lastRates: Map<string, Pair>;

  constructor(
    private readonly windowMs: number,
    saved: { points?: RatePoint[]; lastRates?: Record<string, Pair>; lastAtMs: number | null },
  ) {
    this.points = (saved.points ?? []).map((p) => ({ atMs: p.atMs, deltas: new Map(Object.entries(p.deltas)) }));
    // Restored without rate history: the next rate spans the time since the last poll.
    if (this.points.length === 0 && saved.lastAtMs !== null) this.points.push({ atMs: saved.lastAtMs, deltas: new Map() });
    for (let i = 1; i < this.points.length; i++) addDeltas(this.sums, this.points[i]!.deltas, 1);
    this.lastRates = new Map(Object.entries(saved.lastRates ?? {}));
  }

  /** After the clock went back: the old points are in the future now. */
  clear(): void {
    this.points = [];
    this.sums = new Map();
  }

  /** Adds a poll's deltas and returns [downBps, upBps] for each present identity. */
  add(atMs: number, deltas: Map<string, Pair>, present: ReadonlySet<string>): Map<string, Pair> {
    this.points.push({ atMs, deltas });
    if (this.points.length > 1) addDeltas(this.sums, deltas, 1);
    const cutoff = atMs - this.windowMs;
    let ref = 0;
    for (let i = 0; i < this.points.length; i++) {
      if ((this.points[i]?.atMs ?? Infinity) <= cutoff) ref = i;
    }
    if (ref > 0) {
      // Points 1..ref leave the sums: the ones before ref drop out, ref becomes the reference.
      for (let i = 1; i <= ref; i++) addDeltas(this.sums, this.points[i]!.deltas, -1);
      this.points = this.points.slice(ref);
    }
    const spanMs = atMs - (this.points[0]?.atMs ?? atMs);
    const rates = new Map<string, Pair>();
    if (spanMs > 0) {
      const sums = this.sums;
      for (const identity of present) {
        const s = sums.get(identity);
        rates.set(identity, s ? [(s[0] * 1000) / spanMs, (s[1] * 1000) / spanMs] : [0, 0]);
      }
    } else {
      // No time has elapsed (two polls at one instant, or the clock went back): carry the last rates.
      for (const identity of present) rates.set(identity, this.lastRates.get(identity) ?? [0, 0]);
    }
    this.lastRates = rates;
    return rates;
  }

  /** An identity merged into another: its bytes and rate are the other's now (added to any it had). */
  moveIdentity(from: string, to: string): void {
    for (const p of this.points) moveSum(p.deltas, from, to);
    moveSum(this.sums, from, to);
    moveSum(this.lastRates, from, to);
  }

  export(): { rateWindow: RatePoint[]; lastRates: Record<string, Pair> } {
    const rateWindow = this.points.map((p) => {
      const deltas: Record<string, Pair> = {};
      for (const [identity, [d, u]] of p.deltas) deltas[identity] = [d, u];
      return { atMs: p.atMs, deltas };
    });
    const lastRates: Record<string, Pair> = {};
    for (const [identity, [d, u]] of this.lastRates) lastRates[identity] = [d, u];
    return { rateWindow, lastRates };
  }
}

/** sums += sign × deltas, per identity; an identity whose sum is back to 0 both ways is removed. */
function addDeltas(sums: Map<string, Pair>, deltas: ReadonlyMap<string, Pair>, sign: 1 | -1): void {
  for (const [identity, [d, u]] of deltas) {
    const s = sums.get(identity);
    if (s === undefined) sums.set(identity, [sign * d, sign * u]);
    else {
      s[0] += sign * d;
      s[1] += sign * u;
      if (s[0] === 0 && s[1] === 0) sums.delete(identity);
    }
  }
}

function moveSum(map: Map<string, Pair>, from: string, to: string): void {
  const moved = map.get(from);
  if (!moved) return;
  map.delete(from);
  const into = map.get(to);
  if (into) map.set(to, [into[0] + moved[0], into[1] + moved[1]]);
  else map.set(to, moved);
}
