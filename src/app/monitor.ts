// Live monitoring as every front end uses it (Ink screen, `usage`, `serve`): a Poller over the
// RouterClient, with history recorded by whichever lantop process holds the router's lease.
import { Poller, type PollerOptions } from '../domain/poller.js';
import type { Clock } from '../domain/clock.js';
import type { Snapshot } from '../domain/snapshot.js';
import type { HistoryStore } from '../store/history-store.js';
import { HistoryRecorder } from '../store/recorder.js';
import type { ReconnectingSession } from '../transport/reconnecting-session.js';
import type { RouterClient } from '../router/router-client.js';
import type { AlertSink } from '../domain/alert-event.js';
import { QuotaEnforcer, type QuotaEnforcerOptions } from './quota-enforcer.js';
import { WanWatch } from './wan-watch.js';
import { ClassWatch } from './class-watch.js';
import { CounterWatch } from './counter-watch.js';

export interface MonitorOptions {
  routerKey: string;
  client: RouterClient;
  session: ReconnectingSession;
  clock: Clock;
  store: HistoryStore | null;
  intervalMs?: number;
  discoveryIntervalMs?: number;
  /** The line's top speed per direction (vnStat's MaxBandwidth): larger deltas are discarded. */
  linkBitsPerSecond?: number;
  onSnapshot?: (snapshot: Snapshot) => void;
  timers?: PollerOptions['timers'];
  /** Quotas that act (issue 16: app/quota-enforcer.ts); absent, or no store: quotas are not enforced. */
  enforce?: { sink: AlertSink | null; neverBlock: readonly string[] } & Partial<Pick<QuotaEnforcerOptions, 'zone' | 'checkIntervalMs' | 'expiryIntervalMs' | 'onNotice'>>;
}

export interface Monitor {
  poller: Poller;
  recorder: HistoryRecorder | null;
  /** Evaluates and enforces the router's quotas after polls (null: not enforced). */
  enforcer: QuotaEnforcer | null;
  /** The last snapshot as the listeners got it (with quota state, the WAN view and the notices). */
  readonly snapshot: Snapshot | null;
  /** The poller's last snapshot decorated now (after the enforcer went idle: its latest quota state). */
  current(): Snapshot | null;
  /** Stops polling and gives up the history lease at once (another process may take over). */
  close(): void;
}

export function startMonitor(options: MonitorOptions): Monitor {
  const recorder = options.store ? new HistoryRecorder(options.store, options.routerKey, { clock: options.clock }) : null;
  // A reader (or a fresh writer) continues from the last committed state, so its totals match
  // the history instead of starting from zero.
  const initialState = options.store && recorder ? options.store.loadState(recorder.routerId)?.state : undefined;
  const { enforce, store } = options;
  const enforcer =
    enforce && store
      ? new QuotaEnforcer({ routerKey: options.routerKey, store, client: options.client, session: options.session, clock: options.clock, ...enforce })
      : null;
  let last: Snapshot | null = null;
  let isOffloadProbed = false;
  // Reconciliation against the WAN (issue 19): every poll's WAN read against the per-device totals.
  const wan = new WanWatch({ routerKey: options.routerKey, client: options.client, store: options.store });
  // Traffic classes (issue 19: setup --ports/--protocols), cumulative and recorded per minute.
  const classes = new ClassWatch({ routerKey: options.routerKey, store: options.store });
  // Custom counters (issue 18: lantop counter add), totals since their reset, recorded per minute.
  const counters = new CounterWatch({ routerKey: options.routerKey, store: options.store });
  const decorate = (snapshot: Snapshot): Snapshot => counters.decorate(classes.decorate(wan.decorate(enforcer ? enforcer.decorate(snapshot) : snapshot)));
  // The enforcer acts after polls this process recorded (the history's writer); it adds its state
  // to each snapshot from its last run, so a frame costs no database read.
  const onSnapshot = (snapshot: Snapshot) => {
    // Fast paths that skip the counters (issue 19): probed once, after the first poll, so the
    // first numbers are not held up by the probes (they queue behind the polls on the one session).
    if (!isOffloadProbed && snapshot.pollLatencyMs !== null) {
      isOffloadProbed = true;
      void options.client.probeOffload?.().catch(() => undefined /* unreadable: no report, no warning */);
    }
    const isWriter = recorder?.role === 'writer';
    enforcer?.afterPoll(snapshot, isWriter);
    wan.afterPoll(snapshot, isWriter);
    classes.afterPoll(snapshot, isWriter, { classCounters: options.client.lastClassCounters, installedClasses: [...options.client.lastInstalledClasses] });
    counters.afterPoll(snapshot, isWriter, options.client.customCounters?.lastRead ?? null);
    last = decorate(snapshot);
    options.onSnapshot?.(last);
  };
  const poller = new Poller({
    router: options.routerKey,
    clock: options.clock,
    port: {
      readTraffic: () => options.client.readTraffic(),
      discover: () => options.client.discover(),
      sync: (hosts, reading) => options.client.sync(hosts, reading),
      connectionState: () => options.session.state,
    },
    ...(recorder ? { history: recorder } : {}),
    ...(options.linkBitsPerSecond !== undefined ? { accounting: { linkBitsPerSecond: options.linkBitsPerSecond } } : {}),
    ...(initialState ? { initialState } : {}),
    ...(options.intervalMs !== undefined ? { intervalMs: options.intervalMs } : {}),
    ...(options.discoveryIntervalMs !== undefined ? { discoveryIntervalMs: options.discoveryIntervalMs } : {}),
    onSnapshot,
    ...(options.timers ? { timers: options.timers } : {}),
  });
  return {
    poller,
    recorder,
    enforcer,
    get snapshot() {
      return last ?? poller.snapshot;
    },
    current() {
      const snapshot = poller.snapshot;
      return snapshot === null ? null : decorate(snapshot);
    },
    close() {
      poller.stop();
      enforcer?.close();
      recorder?.close();
    },
  };
}
