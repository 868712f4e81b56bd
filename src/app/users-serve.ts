// `lantop --mode users serve` (issue 18): the users-mode poll loop of `usage --watch`
// (app/users-commands.ts: the same poller, the same history lease) feeding serve's HTTP pieces
// (app/web/routes.ts): /metrics with a series per user labelled `user` (output/prometheus-users.ts),
// /api/usage the `usage --mode users --json` document, /api/report the `report --mode users --json`
// one, /healthz, and the live page with the users as its rows. Kept apart from app/serve.ts: one gateway, no monitor, no quotas, no MQTT, no reload.
import { EXIT, UsageError } from '../errors.js';
import { sanitizeText } from '../sanitize.js';
import { DEFAULT_INTERVAL_MS, MIN_INTERVAL_MS } from '../domain/poller.js';
import type { Clock } from '../domain/clock.js';
import type { UserUsage } from '../domain/user-usage.js';
import { usersJson } from '../output/users-json.js';
import { createUsersMetrics } from '../output/prometheus-users.js';
import { withRouter } from './commands.js';
import type { Services } from './services.js';
import { listenWeb, parseListen, type ListenAddress } from './serve.js';
import { staleAfterMs } from './serve-lifecycle.js';
import { assertListenAllowed, type AccessPolicy } from './web/access.js';
import { buildLivePage } from './web/page.js';
import { routeRequest, type WebRoutesDeps } from './web/routes.js';
import { SseHub } from './web/sse.js';
import { usersHistoryKey } from '../domain/user-history.js';
import { reportJsonDocument } from './report-json.js';
import { loadReportDocument } from './report-document.js';
import { usersPollerFor } from './users-poller-for.js';
import { usersEnforcerFor } from './user-deny.js';
import { startReportScheduler } from './report-scheduler.js';
import type { SinkContext, SnapshotSink } from './serve-lifecycle.js';
import { configuredReportChannels } from './report-delivery.js';
import { ReportScheduleStore } from '../config/report-schedules.js';
import { UsersHistory } from './users-history.js';
import type { UsersPollResult } from './users-mode.js';

/** One poll (recorded, when this process holds the lease) and the users after it. */
export type UsersPollOnce = () => Promise<{ result: UsersPollResult; users: readonly UserUsage[] }>;

export interface UsersServeCore {
  pollOnce: UsersPollOnce;
  routerKey: string;
  /** The profile's name (`default` without --profile), as /healthz shows it. */
  name: string;
  address: ListenAddress;
  policy: AccessPolicy;
  intervalMs: number;
  clock: Clock;
  log: (level: 'info' | 'warn', text: string) => void;
  /** The live page (default: serve's, built once). */
  page?: { html: string; csp: string };
  /** /api/report and the page's charts over the users history (absent: a note, and no charts). */
  reports?: Pick<WebRoutesDeps, 'report' | 'reportDocument'>;
}

export interface UsersServer {
  port: number;
  close(): Promise<void>;
}

/** Polls once, listens, then polls every interval until close(); a failed poll is logged and retried. */
export async function startUsersServe(core: UsersServeCore): Promise<UsersServer> {
  const metrics = createUsersMetrics();
  let latest: unknown = null;
  let lastPollMs: number | null = null;
  let isUp = false;
  let timer: NodeJS.Timeout | null = null;
  let isClosed = false;
  let inFlight: Promise<void> = Promise.resolve();
  // The live page's event stream: a `usage` event per poll.
  const hub = new SseHub();

  const tick = async () => {
    try {
      const { result, users } = await core.pollOnce();
      const doc = usersJson(result.snapshot, users, { self: result.self, logFile: result.logFile });
      latest = doc;
      metrics.update(core.routerKey, result.snapshot.atMs, users);
      lastPollMs = result.snapshot.atMs;
      if (!isUp) core.log('info', `polling ${users.length} user(s)`);
      isUp = true;
      hub.publish(core.routerKey, 'usage', JSON.stringify(doc));
    } catch (error) {
      if (isUp || lastPollMs === null) core.log('warn', `poll failed: ${sanitizeText(error instanceof Error ? error.message : String(error), 300)} (trying again)`);
      isUp = false;
    }
  };
  const schedule = () => {
    if (isClosed) return;
    timer = setTimeout(() => {
      inFlight = tick().finally(schedule);
    }, core.intervalMs);
  };

  inFlight = tick();
  await inFlight;
  const web: WebRoutesDeps = {
    policy: core.policy,
    routerKeys: [core.routerKey],
    page: core.page ?? buildLivePage(),
    latestUsage: () => latest,
    report: core.reports?.report ?? (() => ({ mode: 'users', error: 'no users history here; use `lantop report --mode users --json`' })),
    reportDocument: core.reports?.reportDocument ?? (() => null),
    metrics: async () => ({ contentType: metrics.registry.contentType, text: await metrics.registry.metrics() }),
    cycleDay: 1,
    canAddEventClient: () => !hub.isFull,
    health: () => ({ nowMs: core.clock.now(), staleAfterMs: staleAfterMs(core.intervalMs), routers: [{ name: core.name, isUp, lastPollMs }] }),
  };
  const server = await listenWeb(web, hub, core.address).catch((error: unknown) => {
    isClosed = true;
    hub.close();
    throw error;
  });
  schedule();
  return {
    port: server.port,
    async close() {
      isClosed = true;
      if (timer !== null) clearTimeout(timer);
      hub.close();
      await server.close();
      // The poll in flight is recorded before the caller lets the lease go.
      await inFlight;
    },
  };
}

export interface UsersServeOptions {
  listen: string;
  interval?: string;
  token?: string | null;
  /** Where each poll's snapshot also goes (serve --mqtt: Home Assistant, users as its devices). */
  sinkFactories?: ReadonlyArray<(context: SinkContext) => SnapshotSink>;
  /** Where SIGINT/SIGTERM come from (tests); default the process. */
  signals?: Pick<NodeJS.EventEmitter, 'on' | 'off'>;
}

/** `lantop --mode users serve`: logs in, then serves until SIGINT/SIGTERM. */
export async function runUsersServe(services: Services, options: UsersServeOptions): Promise<number> {
  const address = parseListen(options.listen);
  const intervalMs = options.interval === undefined ? DEFAULT_INTERVAL_MS : Number(options.interval);
  if (!Number.isInteger(intervalMs) || intervalMs < MIN_INTERVAL_MS) throw new UsageError(`--interval must be a whole number of milliseconds ≥ ${MIN_INTERVAL_MS}.`);
  const policy: AccessPolicy = { token: options.token ?? null, isLoopback: address.isLoopback };
  assertListenAllowed(policy, address.host);
  const stderr = services.io.stderr;
  const log = (level: 'info' | 'warn', text: string) => void stderr.write(`${level === 'warn' ? 'warning: ' : ''}${text}\n`);
  if (!address.isLoopback) log('info', `listening on ${address.host}, not loopback: the page's data, /api, /events and /metrics need the access token (\`lantop serve token\` prints it).`);
  const signals = options.signals ?? process;
  return withRouter(services, async (router) => {
    const poller = usersPollerFor(services, router);
    // Recorded per user, per minute, under the gateway's users key, as `usage --watch` records.
    const store = services.openHistory();
    const history = new UsersHistory(store, services.key, services.clock);
    // Quotas on users act here (deny over quota, user-deny.ts); their notices are logged a line each.
    const alerts = services.openAlerts((text) => log('warn', text));
    const enforcer = usersEnforcerFor(services, { router, poller, store, sink: alerts, onNotice: (n) => log(n.level === 'info' ? 'info' : 'warn', n.text) });
    let server: UsersServer | null = null;
    let reports: ReturnType<typeof startReportScheduler> | null = null;
    const label = services.settings.profileName === 'default' ? services.key : services.settings.profileName;
    const sinkContext: SinkContext = { routers: [{ key: services.key, label }], intervalMs, notice: (level, text) => log(level === 'info' ? 'info' : 'warn', text) };
    const sinks = (options.sinkFactories ?? []).map((make) => make(sinkContext));
    try {
      server = await startUsersServe({
        pollOnce: async () => {
          const { result, isWriter } = await history.poll(poller);
          for (const n of result.snapshot.notices) if (n.level !== 'info') log('warn', n.text);
          enforcer.afterPoll(result.snapshot, isWriter);
          const snapshot = enforcer.decorate(result.snapshot);
          for (const sink of sinks) {
            try {
              sink.onSnapshot(services.key, snapshot);
            } catch (error) {
              log('warn', `a snapshot sink failed: ${sanitizeText(error instanceof Error ? error.message : String(error), 200)}`);
            }
          }
          return { result: { ...result, snapshot }, users: poller.accountant.users() };
        },
        routerKey: services.key,
        name: services.settings.profileName,
        address,
        policy,
        intervalMs,
        clock: services.clock,
        log,
        // `report --mode users`'s documents: the devices report over the users key.
        reports: {
          report: (key, spec) => reportJsonDocument(store, usersHistoryKey(key), spec, services.clock.now()),
          reportDocument: (key, spec) => loadReportDocument(store, usersHistoryKey(key), spec, services.clock.now()),
        },
      });
      // Scheduled reports (docs/reports.md) on the users history, as devices-mode serve sends them.
      reports = startReportScheduler({
        store,
        clock: services.clock,
        routers: [{ key: usersHistoryKey(services.key), label: `${services.settings.profileName === 'default' ? services.key : services.settings.profileName} (users)`, profile: services.settings.profileName }],
        schedules: () => new ReportScheduleStore(services.env).list(),
        channels: () => configuredReportChannels(services.env),
        onNotice: (text, level = 'warn') => log(level, text),
      });
      const shownHost = address.host.includes(':') ? `[${address.host}]` : address.host;
      log('info', `users mode: metrics for ${services.label} on http://${shownHost}:${server.port}/metrics, live page on http://${shownHost}:${server.port}/ (Ctrl-C to stop)`);
      await new Promise<void>((resolve) => {
        const onSignal = () => {
          signals.off('SIGINT', onSignal);
          signals.off('SIGTERM', onSignal);
          resolve();
        };
        signals.on('SIGINT', onSignal);
        signals.on('SIGTERM', onSignal);
      });
      log('info', 'stopping');
      return EXIT.ok;
    } finally {
      await server?.close();
      await reports?.close();
      for (const sink of sinks) await sink.close?.();
      enforcer.close();
      await enforcer.idle();
      await alerts?.close(2000);
      history.close();
      store.close();
    }
  });
}
