// Custom counters over time (issue 18, `lantop counter add`): the router's cumulative bytes and
// packets per counter (read in the poll's round trip) → totals since the counter's last reset that
// survive router reboots and lantop restarts, rates from the last two reads, and each read's deltas
// for the history (store/counter-store.ts). The rules of class-usage.ts: a value below its baseline
// restarts from that value (the rule was re-created at 0); a counter first seen after an earlier
// read was installed since, so its whole value counts. Unlike a class, on the very first read (no
// earlier one, no imported state) a counter never reset takes its rule's whole value into its
// total (the rule is lantop's own, made for it and never zeroed), though not into the history: its
// age is unknown. One reset since takes only the baseline.
//
// Reset (`lantop counter reset NAME`) is an epoch on the PC, never `-Z` on the router: a reset time
// newer than the one a counter's totals started from zeroes its totals after that read's delta
// went to the history (which loses nothing); totals count from the first read after the reset.
// Pure: time comes in with every read.
import { counterKey, type CounterFamily, type CounterHook, type CustomCounter } from './custom-counter.js';

/** One counter as every output shows it. */
export interface CounterUsage {
  name: string;
  /** Its matches in words, canonical (custom-counter.ts counterKey): `input in=ppp0 proto=tcp dport=22`. */
  match: string;
  hook: CounterHook;
  family: CounterFamily;
  /** Since the last reset (or since lantop first counted it), across router reboots and lantop restarts. */
  bytes: number;
  packets: number;
  /** Over the interval between the last two reads. */
  bps: number;
  pps: number;
  /** When the totals started counting: the last reset, else the first read; null: not read yet. */
  sinceMs: number | null;
  /** The last read found its rule on the router. */
  isCounted: boolean;
}

/** A counter's cumulative figures on the router. */
export interface CounterCount {
  bytes: number;
  packets: number;
}

/** What one read added to a counter (what the history records). */
export type CounterDelta = CounterCount;

/** A counter as the store keeps it: the counter and its last reset. */
export interface WantedCounter {
  counter: CustomCounter;
  /** The last `counter reset`; null: never reset. */
  resetMs: number | null;
}

/** exportState()'s object: JSON-able, one small entry per counter. */
export interface CounterAccountantState {
  version: 1;
  atMs: number | null;
  counters: Record<string, { key: string; baseBytes: number | null; basePackets: number | null; bytes: number; packets: number; epochMs: number | null; sinceMs: number | null }>;
}

interface Tracked {
  counter: CustomCounter;
  key: string;
  base: CounterCount | null;
  bytes: number;
  packets: number;
  bps: number;
  pps: number;
  /** The reset the totals count from (null: none applied). */
  epochMs: number | null;
  sinceMs: number | null;
  isCounted: boolean;
}

const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
const isTime = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n);

export class CounterAccountant {
  private readonly tracked = new Map<string, Tracked>();
  private lastAtMs: number | null = null;
  private deltas = new Map<string, CounterDelta>();

  /** The non-zero deltas of the last observe(), by counter name; empty when none. */
  get lastDeltas(): ReadonlyMap<string, CounterDelta> {
    return this.deltas;
  }

  /**
   * One read. `counts` null (the read failed, or the counters were not read) changes only the set
   * of counters: the next good read's deltas span both intervals. A counter no longer wanted
   * leaves the view and the state (its recorded history stays); one whose matches changed under
   * the same name starts again.
   */
  observe(atMs: number, wanted: readonly WantedCounter[], counts: ReadonlyMap<string, CounterCount> | null): CounterUsage[] {
    this.deltas = new Map();
    if (!isTime(atMs)) return this.view();
    const names = new Set(wanted.map((w) => w.counter.name));
    for (const name of [...this.tracked.keys()]) if (!names.has(name)) this.tracked.delete(name);
    for (const w of wanted) {
      const key = counterKey(w.counter);
      const t = this.tracked.get(w.counter.name);
      if (t === undefined || t.key !== key) this.tracked.set(w.counter.name, { counter: w.counter, key, base: null, bytes: 0, packets: 0, bps: 0, pps: 0, epochMs: w.resetMs, sinceMs: w.resetMs, isCounted: false });
    }
    if (counts === null) return this.view();
    const hasEarlierRead = this.lastAtMs !== null;
    const elapsedS = hasEarlierRead ? (atMs - (this.lastAtMs as number)) / 1000 : 0;
    for (const w of wanted) {
      const t = this.tracked.get(w.counter.name)!;
      t.bps = 0;
      t.pps = 0;
      const c = counts.get(w.counter.name);
      t.isCounted = c !== undefined && isCount(c.bytes) && isCount(c.packets);
      if (t.isCounted) {
        const now = c as CounterCount;
        let dBytes: number;
        let dPackets: number;
        // What this read adds to the history: not the first read's value of unknown age.
        let isRecorded = true;
        if (t.base === null) {
          // Installed since the last read: counted from 0. Else, never reset: the rule's whole
          // count is the counter's (lantop's rule, never zeroed), but not of this minute.
          const isWhole = hasEarlierRead || t.epochMs === null;
          isRecorded = hasEarlierRead;
          dBytes = isWhole ? now.bytes : 0;
          dPackets = isWhole ? now.packets : 0;
        } else {
          dBytes = now.bytes < t.base.bytes ? now.bytes : now.bytes - t.base.bytes;
          dPackets = now.packets < t.base.packets ? now.packets : now.packets - t.base.packets;
        }
        t.base = { bytes: now.bytes, packets: now.packets };
        t.bytes += dBytes;
        t.packets += dPackets;
        t.sinceMs ??= atMs;
        if (elapsedS > 0 && isRecorded) {
          t.bps = dBytes / elapsedS;
          t.pps = dPackets / elapsedS;
        }
        if (isRecorded && (dBytes > 0 || dPackets > 0)) this.deltas.set(w.counter.name, { bytes: dBytes, packets: dPackets });
      }
      if (w.resetMs !== null && (t.epochMs === null || w.resetMs > t.epochMs)) this.reset(t, w.resetMs);
    }
    this.lastAtMs = atMs;
    return this.view();
  }

  /** `counter reset` without a read: the named counter's totals start again from the next read. False: not tracked. */
  resetCounter(name: string, atMs: number): boolean {
    const t = this.tracked.get(name);
    if (t === undefined || !isTime(atMs)) return false;
    this.reset(t, atMs);
    return true;
  }

  private reset(t: Tracked, atMs: number): void {
    t.bytes = 0;
    t.packets = 0;
    t.epochMs = atMs;
    t.sinceMs = atMs;
  }

  /** The counters as of the last read, by name. */
  view(): CounterUsage[] {
    return [...this.tracked.values()]
      .sort((a, b) => (a.counter.name < b.counter.name ? -1 : a.counter.name > b.counter.name ? 1 : 0))
      .map((t) => ({ name: t.counter.name, match: t.key, hook: t.counter.hook, family: t.counter.family, bytes: t.bytes, packets: t.packets, bps: t.bps, pps: t.pps, sinceMs: t.sinceMs, isCounted: t.isCounted }));
  }

  exportState(): CounterAccountantState {
    const counters: CounterAccountantState['counters'] = {};
    for (const [name, t] of this.tracked) {
      counters[name] = { key: t.key, baseBytes: t.base?.bytes ?? null, basePackets: t.base?.packets ?? null, bytes: t.bytes, packets: t.packets, epochMs: t.epochMs, sinceMs: t.sinceMs };
    }
    return { version: 1, atMs: this.lastAtMs, counters };
  }

  /**
   * Takes the baselines and totals of a previous run for the counters wanted now (their matches
   * must be the same). False (nothing taken) when the object is no state.
   */
  importState(state: unknown, wanted: readonly WantedCounter[]): boolean {
    if (typeof state !== 'object' || state === null) return false;
    const s = state as Partial<CounterAccountantState>;
    if (s.version !== 1 || !(s.atMs === null || isTime(s.atMs))) return false;
    if (typeof s.counters !== 'object' || s.counters === null || Array.isArray(s.counters)) return false;
    this.tracked.clear();
    this.deltas = new Map();
    this.lastAtMs = s.atMs;
    const entries = s.counters as Record<string, unknown>;
    for (const w of wanted) {
      const e = Object.prototype.hasOwnProperty.call(entries, w.counter.name) ? entries[w.counter.name] : undefined;
      if (typeof e !== 'object' || e === null) continue;
      const { key, baseBytes, basePackets, bytes, packets, epochMs, sinceMs } = e as Record<string, unknown>;
      if (key !== counterKey(w.counter) || !isCount(bytes) || !isCount(packets)) continue;
      const base = isCount(baseBytes) && isCount(basePackets) ? { bytes: baseBytes, packets: basePackets } : null;
      if (base === null && !(baseBytes === null && basePackets === null)) continue;
      this.tracked.set(w.counter.name, {
        counter: w.counter, key, base, bytes, packets, bps: 0, pps: 0,
        epochMs: isTime(epochMs) ? epochMs : null, sinceMs: isTime(sinceMs) ? sinceMs : null, isCounted: false,
      });
    }
    return true;
  }
}
