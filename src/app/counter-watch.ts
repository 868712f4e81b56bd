// Custom counters as every front end gets them (issue 18, `lantop counter add`): after each poll,
// the counts the router client read in the poll's round trip (RouterClient.customCounters.lastRead)
// become totals since each counter's last reset and rates (domain/counter-usage.ts); the view goes
// onto every snapshot (`counters`, absent when the router has none), and the writer of the router's
// history records the per-minute bytes and packets and the accountant's state (so totals survive a
// restart and a one-shot `lantop usage` continues). Resets come from the database (`counter reset`).
import { CounterAccountant, type CounterUsage, type WantedCounter } from '../domain/counter-usage.js';
import type { Snapshot } from '../domain/snapshot.js';
import type { CustomCounterRead } from '../router/custom-counter-tracker.js';
import type { HistoryStore } from '../store/history-store.js';

export interface CounterWatchOptions {
  routerKey: string;
  store: Pick<HistoryStore, 'counters'> | null;
}

export class CounterWatch {
  private readonly accountant = new CounterAccountant();
  private view: CounterUsage[] = [];
  private lastAtMs: number | null = null;
  private isLoaded = false;
  private hasSaved = false;

  constructor(private readonly options: CounterWatchOptions) {}

  /** After a poll: `read` null (no counters known, a failed read) changes nothing. */
  afterPoll(snapshot: Snapshot, isWriter: boolean, read: CustomCounterRead | null): void {
    if (snapshot.pollLatencyMs === null || snapshot.atMs === this.lastAtMs) return;
    this.lastAtMs = snapshot.atMs;
    if (read === null) return;
    const { store, routerKey } = this.options;
    // The database's list (with each counter's last reset); without one, what the client planned for.
    const wanted: WantedCounter[] = store === null ? read.counters.map((counter) => ({ counter, resetMs: null })) : store.counters.list(routerKey);
    if (!this.isLoaded) {
      this.isLoaded = true;
      const saved = store?.counters.loadState(routerKey);
      if (saved) this.hasSaved = this.accountant.importState(saved.state, wanted);
    }
    this.view = this.accountant.observe(snapshot.atMs, wanted, read.counts);
    if (!isWriter || store === null) return;
    if (this.accountant.lastDeltas.size > 0) store.counters.record(routerKey, snapshot.atMs, this.accountant.lastDeltas);
    if (this.view.length > 0 || this.hasSaved) {
      store.counters.saveState(routerKey, this.accountant.exportState(), snapshot.atMs);
      this.hasSaved = this.view.length > 0;
    }
  }

  /** The snapshot with the counters (unchanged when the router has none). */
  decorate(snapshot: Snapshot): Snapshot {
    return this.view.length === 0 ? snapshot : { ...snapshot, counters: this.view };
  }
}
