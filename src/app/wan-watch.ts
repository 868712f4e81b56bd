// Reconciliation against the WAN, as every front end gets it (issue 19): after each poll, the WAN
// interface's own counters (read in the poll's round trip by RouterClient) and the router's own
// traffic (the backend's router counters) against the snapshot's per-device totals. The view goes
// onto every snapshot (`wan`, with the offload report found at connect), a sustained shortfall
// becomes one notice naming its likely cause, and the writer of the router's history records the
// per-minute figures and the baselines (so a one-shot `lantop usage` can still give a share).
import type { Notice, Snapshot } from '../domain/snapshot.js';
import type { WanView } from '../domain/wan-model.js';
import { WanReconciler } from '../domain/wan.js';
import { ShortfallDetector } from '../domain/wan-shortfall.js';
import type { HistoryStore } from '../store/history-store.js';
import type { RouterClient } from '../router/router-client.js';

export interface WanWatchOptions {
  routerKey: string;
  client: Pick<RouterClient, 'lastWanSample' | 'lastRouterCounters' | 'offload'>;
  store: HistoryStore | null;
}

export class WanWatch {
  private readonly reconciler = new WanReconciler();
  private readonly shortfall = new ShortfallDetector();
  private view: WanView | null = null;
  private lastAtMs: number | null = null;
  private readonly notices: Notice[] = [];

  constructor(private readonly options: WanWatchOptions) {
    // A run that reads once continues from the last run's baselines (a missing or odd state: none).
    const saved = options.store?.wan.loadState(options.routerKey);
    if (saved) this.reconciler.importState(saved.state);
  }

  /** After a poll: observe its WAN read (once per poll; failed polls change nothing). */
  afterPoll(snapshot: Snapshot, isWriter: boolean): void {
    if (snapshot.pollLatencyMs === null || snapshot.atMs === this.lastAtMs) return;
    this.lastAtMs = snapshot.atMs;
    const sample = this.options.client.lastWanSample;
    if (sample === null) return;
    this.view = this.reconciler.observe({
      sample,
      hostTotals: { downBytes: snapshot.totals.downBytes, upBytes: snapshot.totals.upBytes },
      routerCounters: this.options.client.lastRouterCounters,
      atMs: snapshot.atMs,
    });
    const delta = this.reconciler.lastDelta;
    const store = this.options.store;
    if (isWriter && store !== null) {
      if (delta !== null) store.wan.record(this.options.routerKey, snapshot.atMs, delta);
      store.wan.saveState(this.options.routerKey, this.reconciler.exportState(), snapshot.atMs);
    }
    const uncountedHosts = snapshot.hosts.filter((h) => !h.isCounted && h.ip !== '').length;
    const notice = this.shortfall.check(this.reconciler.recentWindow(), { offload: this.options.client.offload, uncountedHosts });
    if (notice !== null) {
      this.notices.push({ atMs: snapshot.atMs, ...notice });
      if (this.notices.length > 5) this.notices.shift();
    }
  }

  /** The snapshot with the WAN view, the offload report and the shortfall notices. */
  decorate(snapshot: Snapshot): Snapshot {
    const offload = this.options.client.offload;
    const notices = this.notices.length === 0 ? snapshot.notices : [...snapshot.notices, ...this.notices].sort((a, b) => a.atMs - b.atMs);
    return { ...snapshot, wan: this.view, offload, notices };
  }
}
