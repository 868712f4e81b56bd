// Custom counters on the RouterClient's side (issue 18, `lantop counter add`): the counters come
// from the app (the history database) through a source asked at every read and plan, so a running
// monitor follows `counter add|remove` from another process; each read is matched to them by the
// backend; poll-time sync puts a set of counters that is not in place in place once per set (a
// router that refuses is not asked again every poll).
import { counterKey, type CustomCounter } from '../domain/custom-counter.js';
import type { CounterCount } from '../domain/counter-usage.js';
import type { AccountingBackend, BackendReading } from './backends/backend.js';

/** Where the custom counters to install come from; null from it: not known now (leave them as they are). */
export type CustomCounterSource = () => readonly CustomCounter[] | null;

/** The custom counters one read found. */
export interface CustomCounterRead {
  /** The counters wanted at the read. */
  counters: readonly CustomCounter[];
  /** Cumulative bytes and packets by name; a counter whose rule is not on the router is absent. */
  counts: ReadonlyMap<string, CounterCount>;
  isInPlace: boolean;
}

export class CustomCounterTracker {
  private source: CustomCounterSource | null = null;
  private last: CustomCounterRead | null = null;
  private lastReading: BackendReading | null = null;
  private readonly triedSets = new Set<string>();

  setSource(source: CustomCounterSource | null): void {
    this.source = source;
  }

  /** The counters to plan for; null: leave the counter chains as they are. */
  wanted(): readonly CustomCounter[] | null {
    return this.source?.() ?? null;
  }

  /** The InstallOptions part: `{ counters }`, or nothing when not known. */
  installOption(): { counters?: readonly CustomCounter[] } {
    const counters = this.wanted();
    return counters === null ? {} : { counters };
  }

  /** What the last read found; null: no source, or a backend without custom counters. */
  get lastRead(): CustomCounterRead | null {
    return this.last;
  }

  afterRead(backend: AccountingBackend, reading: BackendReading): void {
    this.lastReading = reading;
    const counters = this.source === null ? null : this.wanted();
    if (counters === null || backend.readCustomCounters === undefined) {
      this.last = null;
      return;
    }
    this.last = { counters, ...backend.readCustomCounters(reading, counters) };
  }

  /**
   * Sync: whether this reading's counters are not as wanted and this set was not tried yet (then
   * it counts as tried). Only for the reading the last read returned.
   */
  takeRepair(reading: BackendReading): boolean {
    if (reading !== this.lastReading || this.last === null || this.last.isInPlace) return false;
    const set = this.last.counters.map(counterKey).sort().join('|');
    if (this.triedSets.has(set)) return false;
    this.triedSets.add(set);
    return true;
  }
}
