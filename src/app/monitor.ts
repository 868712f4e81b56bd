// Live monitoring as every front end uses it (Ink screen, `usage`, `serve`): a Poller over the
// RouterClient, with history recorded by whichever lantop process holds the router's lease.
import { Poller, type PollerOptions } from '../domain/poller.js';
import type { Clock } from '../domain/clock.js';
import type { Snapshot } from '../domain/snapshot.js';
import type { HistoryStore } from '../store/history-store.js';
import { HistoryRecorder } from '../store/recorder.js';
import type { ReconnectingSession } from '../transport/reconnecting-session.js';
import type { RouterClient } from '../router/router-client.js';

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
}

export interface Monitor {
  poller: Poller;
  recorder: HistoryRecorder | null;
  /** Stops polling and gives up the history lease at once (another process may take over). */
  close(): void;
}

export function startMonitor(options: MonitorOptions): Monitor {
  const recorder = options.store ? new HistoryRecorder(options.store, options.routerKey, { clock: options.clock }) : null;
  // A reader (or a fresh writer) continues from the last committed state, so its totals match
  // the history instead of starting from zero.
  const initialState = options.store && recorder ? options.store.loadState(recorder.routerId)?.state : undefined;
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
    ...(options.onSnapshot ? { onSnapshot: options.onSnapshot } : {}),
    ...(options.timers ? { timers: options.timers } : {}),
  });
  return {
    poller,
    recorder,
    close() {
      poller.stop();
      recorder?.close();
    },
  };
}
