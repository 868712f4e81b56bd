// Traffic classes as every front end gets them (issue 19, `setup --ports/--protocols`): after each
// poll, the backend's cumulative class counters (read in the poll's round trip) become totals and
// rates per class (domain/class-usage.ts); the view goes onto every snapshot (`classes`, absent
// when none are installed), and the writer of the router's history records the per-minute bytes
// and the accountant's state (so totals survive a restart and a one-shot `lantop usage` continues).
import type { CounterPair } from '../domain/accounting-model.js';
import { ClassAccountant, type ClassUsage } from '../domain/class-usage.js';
import type { Snapshot } from '../domain/snapshot.js';
import type { TrafficClass } from '../domain/traffic-class.js';
import type { HistoryStore } from '../store/history-store.js';

/** What one poll read of the classes (RouterClient's lastClassCounters / lastInstalledClasses). */
export interface ClassReading {
  /** Cumulative per class key; absent, null or empty: none installed (backend.ts BackendReading). */
  classCounters?: ReadonlyMap<string, CounterPair> | null;
  /** The classes installed now, read back from lantop's rules; absent or null: not known. */
  installedClasses?: readonly TrafficClass[] | null;
}

export interface ClassWatchOptions {
  routerKey: string;
  store: Pick<HistoryStore, 'classes'> | null;
}

export class ClassWatch {
  private readonly accountant = new ClassAccountant();
  private view: ClassUsage[] = [];
  private lastAtMs: number | null = null;
  /** Whether the last state saved (or loaded) had classes: an emptied one is saved once, then no more. */
  private hasSavedClasses = false;

  constructor(private readonly options: ClassWatchOptions) {
    // Totals continue from the last recorded poll (a missing or odd state: from zero).
    const saved = options.store?.classes.loadState(options.routerKey);
    if (saved && this.accountant.importState(saved.state)) {
      this.view = this.accountant.view();
      this.hasSavedClasses = this.view.length > 0;
    }
  }

  /**
   * After a poll: observe its class counters (once per poll; failed polls change nothing). `reading`
   * null: the poll read no class counters (a backend without them, a failed read): nothing changes.
   */
  afterPoll(snapshot: Snapshot, isWriter: boolean, reading: ClassReading | null): void {
    if (snapshot.pollLatencyMs === null || snapshot.atMs === this.lastAtMs) return;
    this.lastAtMs = snapshot.atMs;
    if (reading === null) return;
    const counters = reading.classCounters ?? new Map<string, CounterPair>();
    const installed = reading.installedClasses ?? (counters.size === 0 ? [] : null);
    this.view = this.accountant.observe(snapshot.atMs, counters, installed);
    const store = this.options.store;
    if (!isWriter || store === null) return;
    if (this.accountant.lastDeltas.size > 0) store.classes.record(this.options.routerKey, snapshot.atMs, this.accountant.lastDeltas);
    if (this.view.length > 0 || this.hasSavedClasses) {
      store.classes.saveState(this.options.routerKey, this.accountant.exportState(), snapshot.atMs);
      this.hasSavedClasses = this.view.length > 0;
    }
  }

  /** The snapshot with the classes (unchanged when none are installed). */
  decorate(snapshot: Snapshot): Snapshot {
    return this.view.length === 0 ? snapshot : { ...snapshot, classes: this.view };
  }
}
