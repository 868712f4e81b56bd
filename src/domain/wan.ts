// Reconciliation against the WAN (issue 19): what crossed the WAN interface, what the router itself
// sent and received there, and how much of the rest the per-device counters saw. Pure: every read's
// time is passed in; state in, view out. Research: the shared research notes on offload and
// reconciliation, §4. The shortfall notice built on its recent window is wan-shortfall.ts.
//
// Per read, with the previous read as baseline:
//   WAN bytes at layer 3 = Δbytes − Δpackets × linkHeaderBytes   (netfilter counts skb->len, the L3
//   length; an Ethernet interface counts its 14-byte header too; fixtures/net-dev/kernel-6.18.44)
//   accounted share      = Δhosts / (ΔWAN − Δrouter's own)        per direction (down = WAN rx)
// A counter that went down is a reset (reboot, PPP re-dialled, lantop restarted): the read's deltas
// are discarded on every side and the read is the new baseline — never a negative delta. A 32-bit
// counter that went down is a wrap (+2^32) instead, when its packet counter says so (see wanDelta).
import type { WanSample, WanView } from './wan-model.js';

export interface DirectionTotals {
  downBytes: number;
  upBytes: number;
}

export interface WanObservation {
  sample: WanSample | null;
  /** The snapshot's cumulative per-device totals (all hosts). */
  hostTotals: DirectionTotals;
  /** The router's own cumulative INPUT/OUTPUT-on-WAN counters, at layer 3; null: not counted. */
  routerCounters: DirectionTotals | null;
  atMs: number;
}

/** One read's deltas (bytes at layer 3), as history stores them (store/wan-store.ts). */
export interface WanDelta {
  fromMs: number;
  atMs: number;
  downBytes: number;
  upBytes: number;
  /** null: the router's own traffic was not counted over this interval. */
  routerDownBytes: number | null;
  routerUpBytes: number | null;
  hostDownBytes: number;
  hostUpBytes: number;
}

/** What crossed in one direction over a span, and the share the hosts saw. */
export interface DirectionFigures {
  wanBytes: number;
  /** null when no interval of the span had the router's own counters. */
  routerBytes: number | null;
  hostBytes: number;
}

/** The recent deltas summed (the live figure, and what the shortfall detector looks at). */
export interface WanWindow {
  interface: string;
  /** The summed durations of the intervals in the window (gaps of discarded reads not included). */
  durationMs: number;
  down: DirectionFigures;
  up: DirectionFigures;
  /** True when every interval in the window had the router's own counters. */
  isRouterCounted: boolean;
}

export interface WanReconcilerOptions {
  /** A share is null until WAN − router crossed this much in the direction. Default 256 KiB. */
  minShareBytes?: number;
  /** The recent share's window. Default 60 s. */
  recentWindowMs?: number;
  /** A read longer than this after the previous one starts a new baseline (a 32-bit counter may
   * have wrapped unseen, a reboot may hide). Default 1 hour. */
  maxGapMs?: number;
}

/** exportState()'s object: JSON-able, small (the last read's baselines only). */
export interface WanReconcilerState {
  version: 1;
  last: { atMs: number; sample: WanSample; hostTotals: DirectionTotals; routerCounters: DirectionTotals | null } | null;
}

export const DEFAULT_MIN_SHARE_BYTES = 256 * 1024;
export const DEFAULT_RECENT_WINDOW_MS = 60_000;
export const DEFAULT_MAX_GAP_MS = 3_600_000;
/**
 * Shares are clamped to [0, MAX_SHARE] = [0, 1], as issue 19 defines accountedShare. Over 1 comes
 * only from timing: the per-device counters are listed a moment before the WAN interface is read on
 * the same line, so a burst can fall into one read's host delta and the next one's WAN delta; over a
 * span it evens out.
 */
export const MAX_SHARE = 1;

const TWO_32 = 2 ** 32;
/** The largest packet a counter can count at once: a BIG TCP GRO/GSO packet (8 × 65535, kernel 6.3+). */
const MAX_BYTES_PER_PACKET = 524_288;
/** The smallest: an IPv4 header. */
const MIN_BYTES_PER_PACKET = 20;

const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

/**
 * Bytes and packets one direction of the interface moved between two reads; null for a reset.
 * Both counters up: the difference. A 64-bit counter that went down: a reset. A 32-bit one: a wrap
 * only when its partner went on up by a plausible amount (bytes wrapped: the packets grew and the
 * wrapped bytes fit in them; packets wrapped: the bytes grew by at least 20 per packet) and neither
 * value is ≥ 2^32 (then it is no 32-bit counter). Both down: a reset (both wrapping between two
 * reads would need 4 G packets).
 */
export function wanDirectionDelta(
  prev: { bytes: number; packets: number },
  cur: { bytes: number; packets: number },
  counterBits: 32 | 64,
): { bytes: number; packets: number } | null {
  if (![prev.bytes, prev.packets, cur.bytes, cur.packets].every(isCount)) return null;
  const db = cur.bytes - prev.bytes;
  const dp = cur.packets - prev.packets;
  if (db >= 0 && dp >= 0) return { bytes: db, packets: dp };
  if (counterBits === 64 || (db < 0 && dp < 0)) return null;
  if (db < 0) {
    if (prev.bytes >= TWO_32 || cur.bytes >= TWO_32) return null;
    const wrapped = db + TWO_32;
    return dp > 0 && wrapped <= dp * MAX_BYTES_PER_PACKET ? { bytes: wrapped, packets: dp } : null;
  }
  if (prev.packets >= TWO_32 || cur.packets >= TWO_32) return null;
  const wrapped = dp + TWO_32;
  return wrapped * MIN_BYTES_PER_PACKET <= db ? { bytes: db, packets: wrapped } : null;
}

/** hosts / (WAN − router), clamped to [0, MAX_SHARE]; null below minBytes or when nothing is left. */
export function accountedShareOf(wanBytes: number, routerBytes: number | null, hostBytes: number, minBytes: number = DEFAULT_MIN_SHARE_BYTES): number | null {
  const crossed = wanBytes - (routerBytes ?? 0);
  if (!(crossed > 0) || crossed < minBytes) return null;
  return Math.min(MAX_SHARE, Math.max(0, hostBytes / crossed));
}

function emptyFigures(): DirectionFigures {
  return { wanBytes: 0, routerBytes: null, hostBytes: 0 };
}

function addTo(f: DirectionFigures, wan: number, router: number | null, host: number): void {
  f.wanBytes += wan;
  f.hostBytes += host;
  if (router !== null) f.routerBytes = (f.routerBytes ?? 0) + router;
}

function isTotals(t: unknown): t is DirectionTotals {
  return typeof t === 'object' && t !== null && isCount((t as DirectionTotals).downBytes) && isCount((t as DirectionTotals).upBytes);
}

function isSample(s: unknown): s is WanSample {
  if (typeof s !== 'object' || s === null) return false;
  const w = s as WanSample;
  return (
    typeof w.interface === 'string' &&
    typeof w.atMs === 'number' &&
    [w.rxBytes, w.rxPackets, w.txBytes, w.txPackets, w.linkHeaderBytes].every(isCount) &&
    (w.counterBits === 32 || w.counterBits === 64)
  );
}

export class WanReconciler {
  private readonly minShareBytes: number;
  private readonly recentWindowMs: number;
  private readonly maxGapMs: number;
  private last: WanReconcilerState['last'] = null;
  private span: { interface: string; sinceMs: number; down: DirectionFigures; up: DirectionFigures; discardedReads: number; isLinkHeaderKnown: boolean } | null = null;
  private recent: WanDelta[] = [];
  private delta: WanDelta | null = null;

  constructor(options: WanReconcilerOptions = {}) {
    this.minShareBytes = options.minShareBytes ?? DEFAULT_MIN_SHARE_BYTES;
    this.recentWindowMs = options.recentWindowMs ?? DEFAULT_RECENT_WINDOW_MS;
    this.maxGapMs = options.maxGapMs ?? DEFAULT_MAX_GAP_MS;
  }

  /** The deltas of the last observe() (what to record in history); null when it gave none. */
  get lastDelta(): WanDelta | null {
    return this.delta;
  }

  /**
   * One poll. A null sample (the WAN read failed) changes nothing: the next good read's deltas
   * span both intervals on every side, as the host and router totals are cumulative. Returns the
   * view over the span, null until the first sample.
   */
  observe(input: WanObservation): WanView | null {
    this.delta = null;
    const { sample, atMs } = input;
    if (sample === null || !isSample(sample)) return this.view();
    const hostTotals = isTotals(input.hostTotals) ? { downBytes: input.hostTotals.downBytes, upBytes: input.hostTotals.upBytes } : null;
    const routerCounters = isTotals(input.routerCounters) ? { downBytes: input.routerCounters.downBytes, upBytes: input.routerCounters.upBytes } : null;
    if (this.span === null || this.span.interface !== sample.interface) {
      this.span = { interface: sample.interface, sinceMs: atMs, down: emptyFigures(), up: emptyFigures(), discardedReads: 0, isLinkHeaderKnown: sample.isLinkHeaderKnown !== false };
      this.recent = [];
    }
    this.span.isLinkHeaderKnown = sample.isLinkHeaderKnown !== false;
    const prev = this.last;
    if (hostTotals === null) {
      // Without host totals there is no baseline to keep: start again at the next read.
      this.last = null;
      if (prev !== null) this.span.discardedReads += 1;
      return this.view();
    }
    this.last = { atMs, sample: { ...sample }, hostTotals, routerCounters };
    if (prev === null) return this.view();
    const delta = this.deltaBetween(prev, this.last);
    if (delta === null) {
      this.span.discardedReads += 1;
      return this.view();
    }
    addTo(this.span.down, delta.downBytes, delta.routerDownBytes, delta.hostDownBytes);
    addTo(this.span.up, delta.upBytes, delta.routerUpBytes, delta.hostUpBytes);
    this.recent.push(delta);
    this.pruneRecent(atMs);
    this.delta = delta;
    return this.view();
  }

  /** The last minute's deltas, summed (null before the first sample). */
  recentWindow(): WanWindow | null {
    if (this.span === null) return null;
    const down = emptyFigures();
    const up = emptyFigures();
    let durationMs = 0;
    let isRouterCounted = true;
    for (const d of this.recent) {
      durationMs += d.atMs - d.fromMs;
      addTo(down, d.downBytes, d.routerDownBytes, d.hostDownBytes);
      addTo(up, d.upBytes, d.routerUpBytes, d.hostUpBytes);
      if (d.routerDownBytes === null || d.routerUpBytes === null) isRouterCounted = false;
    }
    return { interface: this.span.interface, durationMs, down, up, isRouterCounted: isRouterCounted && this.recent.length > 0 };
  }

  exportState(): WanReconcilerState {
    return { version: 1, last: this.last === null ? null : structuredClone(this.last) };
  }

  /** Takes the baselines of a previous run (`lantop usage` reads once). False (nothing taken) when the object is not a valid state. */
  importState(state: unknown): boolean {
    if (typeof state !== 'object' || state === null || (state as WanReconcilerState).version !== 1) return false;
    const last = (state as WanReconcilerState).last;
    if (last === null) {
      this.last = null;
      return true;
    }
    if (typeof last !== 'object' || !isSample(last.sample) || !isTotals(last.hostTotals) || !(last.routerCounters === null || isTotals(last.routerCounters))) return false;
    if (typeof last.atMs !== 'number' || !Number.isFinite(last.atMs)) return false;
    this.last = structuredClone({ atMs: last.atMs, sample: last.sample, hostTotals: last.hostTotals, routerCounters: last.routerCounters });
    this.span = { interface: last.sample.interface, sinceMs: last.atMs, down: emptyFigures(), up: emptyFigures(), discardedReads: 0, isLinkHeaderKnown: last.sample.isLinkHeaderKnown !== false };
    this.recent = [];
    return true;
  }

  private deltaBetween(prev: NonNullable<WanReconcilerState['last']>, cur: NonNullable<WanReconcilerState['last']>): WanDelta | null {
    const elapsedMs = cur.atMs - prev.atMs;
    if (!(elapsedMs > 0) || elapsedMs > this.maxGapMs) return null;
    if (prev.sample.interface !== cur.sample.interface) return null;
    const s0 = prev.sample;
    const s1 = cur.sample;
    const rx = wanDirectionDelta({ bytes: s0.rxBytes, packets: s0.rxPackets }, { bytes: s1.rxBytes, packets: s1.rxPackets }, s1.counterBits);
    const tx = wanDirectionDelta({ bytes: s0.txBytes, packets: s0.txPackets }, { bytes: s1.txBytes, packets: s1.txPackets }, s1.counterBits);
    const hostDown = cur.hostTotals.downBytes - prev.hostTotals.downBytes;
    const hostUp = cur.hostTotals.upBytes - prev.hostTotals.upBytes;
    if (rx === null || tx === null || hostDown < 0 || hostUp < 0) return null;
    let routerDown: number | null = null;
    let routerUp: number | null = null;
    if (prev.routerCounters !== null && cur.routerCounters !== null) {
      routerDown = cur.routerCounters.downBytes - prev.routerCounters.downBytes;
      routerUp = cur.routerCounters.upBytes - prev.routerCounters.upBytes;
      if (routerDown < 0 || routerUp < 0) return null;
    }
    const header = s1.linkHeaderBytes;
    return {
      fromMs: prev.atMs,
      atMs: cur.atMs,
      downBytes: Math.max(0, rx.bytes - rx.packets * header),
      upBytes: Math.max(0, tx.bytes - tx.packets * header),
      routerDownBytes: routerDown,
      routerUpBytes: routerUp,
      hostDownBytes: hostDown,
      hostUpBytes: hostUp,
    };
  }

  /** Keeps the newest deltas that cover the window (no more), and none older than two windows. */
  private pruneRecent(atMs: number): void {
    const r = this.recent;
    let covered = 0;
    let keepFrom = r.length;
    while (keepFrom > 0 && covered < this.recentWindowMs) {
      keepFrom -= 1;
      const d = r[keepFrom] as WanDelta;
      covered += d.atMs - d.fromMs;
    }
    while (keepFrom < r.length && (r[keepFrom] as WanDelta).atMs <= atMs - 2 * this.recentWindowMs) keepFrom += 1;
    if (keepFrom > 0) this.recent = r.slice(keepFrom);
  }

  private view(): WanView | null {
    const s = this.span;
    if (s === null) return null;
    const w = this.recentWindow();
    const share = (f: DirectionFigures) => accountedShareOf(f.wanBytes, f.routerBytes, f.hostBytes, this.minShareBytes);
    return {
      interface: s.interface,
      downBytes: s.down.wanBytes,
      upBytes: s.up.wanBytes,
      routerDownBytes: s.down.routerBytes,
      routerUpBytes: s.up.routerBytes,
      hostDownBytes: s.down.hostBytes,
      hostUpBytes: s.up.hostBytes,
      accountedShare: { down: share(s.down), up: share(s.up) },
      recentAccountedShare: w === null ? { down: null, up: null } : { down: share(w.down), up: share(w.up) },
      sinceMs: s.sinceMs,
      discardedReads: s.discardedReads,
      isLinkHeaderKnown: s.isLinkHeaderKnown,
    };
  }
}

