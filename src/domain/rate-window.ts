// Phase: rates over a sliding window (issue 7). A rate divides the bytes of the last polls by the
// time they span, at least `windowMs` once that much history exists: one late reply then moves
// the rate a little instead of spiking it (test: "one late poll does not spike it").

import type { FamilyQuad, RatePoint } from './accounting-model.js';

/** [down, up, down6, up6] (accounting-model.ts FamilyQuad): bytes in, bytes per second out. */
type Quad = FamilyQuad;

/** A point or rate saved before issue 15 has no IPv6 part. */
function toQuad(saved: readonly number[]): Quad {
  return [saved[0] ?? 0, saved[1] ?? 0, saved[2] ?? 0, saved[3] ?? 0];
}

function quadsOf(saved: Record<string, readonly number[]> | undefined): Map<string, Quad> {
  const map = new Map<string, Quad>();
  if (saved !== undefined) for (const [identity, q] of Object.entries(saved)) map.set(identity, toQuad(q));
  return map;
}

export class RateWindow {
  private points: Array<{ atMs: number; deltas: Map<string, Quad> }>;
  /**
   * identity → the sum of its deltas in points[1..] (the reference point's are not in the rate),
   * kept as points come and go rather than summed again on every poll: at 1 Hz that was five
   * points × 254 hosts, a fifth of Accountant.process (issue 21). Deltas are whole bytes, so adding
   * and taking away is exact; an identity that no point holds any more is removed.
   */
  private sums = new Map<string, Quad>();
  private lastRates: Map<string, Quad>;

  constructor(
    private readonly windowMs: number,
    saved: { points?: RatePoint[]; lastRates?: Record<string, readonly number[]>; lastAtMs: number | null },
  ) {
    this.points = (saved.points ?? []).map((p) => ({ atMs: p.atMs, deltas: quadsOf(p.deltas) }));
    // Restored without rate history: the next rate spans the time since the last poll.
    if (this.points.length === 0 && saved.lastAtMs !== null) this.points.push({ atMs: saved.lastAtMs, deltas: new Map() });
    for (let i = 1; i < this.points.length; i++) addDeltas(this.sums, this.points[i]!.deltas, 1);
    this.lastRates = quadsOf(saved.lastRates);
  }

  /** After the clock went back: the old points are in the future now. */
  clear(): void {
    this.points = [];
    this.sums = new Map();
  }

  /** Adds a poll's deltas and returns [downBps, upBps, down6Bps, up6Bps] for each present identity. */
  add(atMs: number, deltas: Map<string, Quad>, present: ReadonlySet<string>): Map<string, Quad> {
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
    const rates = new Map<string, Quad>();
    if (spanMs > 0) {
      const sums = this.sums;
      for (const identity of present) {
        const s = sums.get(identity);
        rates.set(identity, s ? [(s[0] * 1000) / spanMs, (s[1] * 1000) / spanMs, (s[2] * 1000) / spanMs, (s[3] * 1000) / spanMs] : [0, 0, 0, 0]);
      }
    } else {
      // No time has elapsed (two polls at one instant, or the clock went back): carry the last rates.
      for (const identity of present) rates.set(identity, this.lastRates.get(identity) ?? [0, 0, 0, 0]);
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

  export(): { rateWindow: RatePoint[]; lastRates: Record<string, Quad> } {
    const rateWindow = this.points.map((p) => {
      const deltas: Record<string, Quad> = {};
      for (const [identity, [d, u, d6, u6]] of p.deltas) deltas[identity] = [d, u, d6, u6];
      return { atMs: p.atMs, deltas };
    });
    const lastRates: Record<string, Quad> = {};
    for (const [identity, [d, u, d6, u6]] of this.lastRates) lastRates[identity] = [d, u, d6, u6];
    return { rateWindow, lastRates };
  }
}

/**
 * sums += sign × deltas, per identity; an identity whose sum is back to 0 both ways is removed
 * (its IPv6 part, a part of those, is then 0 as well).
 */
function addDeltas(sums: Map<string, Quad>, deltas: ReadonlyMap<string, Quad>, sign: 1 | -1): void {
  for (const [identity, [d, u, d6, u6]] of deltas) {
    const s = sums.get(identity);
    if (s === undefined) sums.set(identity, [sign * d, sign * u, sign * d6, sign * u6]);
    else {
      s[0] += sign * d;
      s[1] += sign * u;
      s[2] += sign * d6;
      s[3] += sign * u6;
      if (s[0] === 0 && s[1] === 0) sums.delete(identity);
    }
  }
}

function moveSum(map: Map<string, Quad>, from: string, to: string): void {
  const moved = map.get(from);
  if (!moved) return;
  map.delete(from);
  const into = map.get(to);
  if (into) map.set(to, [into[0] + moved[0], into[1] + moved[1], into[2] + moved[2], into[3] + moved[3]]);
  else map.set(to, moved);
}
