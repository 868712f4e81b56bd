// `lantop serve`: a Prometheus exporter and the household's live page. One session per configured
// router, polled by the same monitor as every other front end; /metrics renders the latest Snapshot
// (src/output/prometheus.ts), / and /events show it live, /api/* answer as `usage`/`report --json`
// (issue 17; the routes are app/web/routes.ts, docs/web.md). Listens on loopback unless asked
// otherwise (issue 9: never all interfaces by default), and beyond loopback only with a token.
// Issue 22 (docs/service.md): a log line per event (app/serve-log.ts), SIGHUP reloads, SIGTERM
// stops after a last poll, /healthz; every snapshot goes to a list of sinks (metrics, the page,
// health, and whatever the caller adds).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { fstatSync } from 'node:fs';
import { isIP } from 'node:net';
import { EXIT, UsageError } from '../errors.js';
import { DEFAULT_INTERVAL_MS, MIN_INTERVAL_MS } from '../domain/poller.js';
import type { AlertSink } from '../domain/alert-event.js';
import type { ResolvedSettings } from '../config/resolve.js';
import { createLantopMetrics } from '../output/prometheus.js';
import { snapshotJson } from '../output/json.js';
import type { HistoryStore } from '../store/history-store.js';
import type { OpenRouter } from './open-router.js';
import { startMonitor } from './monitor.js';
import type { RouterServices, Services } from './services.js';
import { assertListenAllowed, type AccessPolicy } from './web/access.js';
import { buildLivePage } from './web/page.js';
import { routeRequest, type WebReply, type WebRoutesDeps } from './web/routes.js';
import { SseHub, type SseClient } from './web/sse.js';
import { reportJsonDocument } from './report-json.js';
import { loadReportDocument } from './report-document.js';
import { startReportScheduler } from './report-scheduler.js';
import { configuredReportChannels } from './report-delivery.js';
import { ReportScheduleStore } from '../config/report-schedules.js';
import { createServeLogger, isJournalStream, LOG_FORMATS, type LogEventName, type LogFormat, type LogLevel } from './serve-log.js';
import { compareSettings, RouterHealthTracker, staleAfterMs, withTimeout, type SinkContext, type SnapshotSink } from './serve-lifecycle.js';

export const DEFAULT_LISTEN = '127.0.0.1:9464';

export interface ListenAddress {
  host: string;
  port: number;
  isLoopback: boolean;
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** `host:port`, `[v6]:port` or `:port` (= all interfaces, on purpose). Port 0 picks a free one. */
export function parseListen(text: string): ListenAddress {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text.trim());
  const bad = () => new UsageError(`--listen: cannot read '${text.slice(0, 80)}' as host:port.`, 'Use e.g. 127.0.0.1:9464, [::1]:9464, or 0.0.0.0:9464 to listen on every interface.');
  if (!match) throw bad();
  const v6 = match[1];
  const host = v6 ?? (match[2] === '' ? '0.0.0.0' : (match[2] ?? ''));
  const port = Number(match[3]);
  if (port > 65535) throw new UsageError(`--listen: port ${port} is out of range (0–65535).`);
  if (v6 !== undefined ? isIP(v6) !== 6 : isIP(host) === 0 && !HOSTNAME.test(host)) throw bad();
  const isLoopback = host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
  return { host, port, isLoopback };
}

function listen(server: Server, address: ListenAddress): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(new UsageError(`Cannot listen on ${address.host}:${address.port}: ${error.code ?? error.message}.`, 'Pick another address with --listen HOST:PORT.', { cause: error }));
    };
    server.once('error', onError);
    server.listen(address.port, address.host, () => {
      server.off('error', onError);
      const bound = server.address();
      resolve(typeof bound === 'object' && bound !== null ? bound.port : address.port);
    });
  });
}

export { createNoticePrinter, NOTICE_REPEAT_MS } from './serve-log.js';
export type { SinkContext, SnapshotSink } from './serve-lifecycle.js';

/** How long the shutdown waits for each router's last poll. */
export const FINAL_POLL_TIMEOUT_MS = 5000;

/** What a SIGHUP re-reads: each router's settings (in `routers` order) and the access token. */
export interface ServeReload {
  settings: readonly ResolvedSettings[];
  token: string | null;
}

export interface ServeOptions {
  listen: string;
  interval?: string;
  routers?: readonly RouterServices[];
  token?: string | null;
  cycleDay?: string;
  /** text (default: stderr) or json (stdout, one object per line): app/serve-log.ts. */
  logFormat?: LogFormat;
  /** SIGHUP: the configuration read again (absent: only alert channels are reopened). */
  reload?: () => ServeReload;
  /** More consumers of every snapshot, closed at shutdown (after the last poll). */
  sinks?: readonly SnapshotSink[];
  /** Consumers made once serve knows its routers, interval and log (the MQTT bridge: serve-mqtt.ts). */
  sinkFactories?: ReadonlyArray<(context: SinkContext) => SnapshotSink>;
  /** Where SIGHUP/SIGINT/SIGTERM come from (tests); default the process. */
  signals?: Pick<NodeJS.EventEmitter, 'on' | 'off'>;
}

function streamStat(stream: NodeJS.WritableStream): { dev: number; ino: number } | null {
  const fd = (stream as { fd?: unknown }).fd;
  if (typeof fd !== 'number') return null;
  try {
    return fstatSync(fd);
  } catch {
    return null;
  }
}

/**
 * Serves /metrics for one or more routers (`--routers home,office`: one session and monitor per
 * profile, one registry). Every router is logged into before anything listens, so a wrong password
 * or an unreachable router fails at once (exit 3/4); later outages show as lantop_up 0. SIGHUP
 * re-reads the configuration, SIGINT/SIGTERM stop it after a last poll (docs/service.md).
 */
export async function runServe(deps: Services, options: ServeOptions): Promise<number> {
  const address = parseListen(options.listen);
  const intervalMs = options.interval === undefined ? undefined : Number(options.interval);
  if (intervalMs !== undefined && (!Number.isInteger(intervalMs) || intervalMs < MIN_INTERVAL_MS)) {
    throw new UsageError(`--interval must be a whole number of milliseconds ≥ ${MIN_INTERVAL_MS}.`);
  }
  const cycleDay = Number(options.cycleDay ?? 1);
  if (!Number.isInteger(cycleDay) || cycleDay < 1 || cycleDay > 31) throw new UsageError('--cycle-day must be 1–31.');
  const format = options.logFormat ?? 'text';
  if (!LOG_FORMATS.includes(format)) throw new UsageError(`--log-format must be ${LOG_FORMATS.join(' or ')}.`);
  const policy: AccessPolicy = { token: options.token ?? null, isLoopback: address.isLoopback };
  assertListenAllowed(policy, address.host);
  const io = deps.io;
  const logStream = format === 'json' ? io.stdout : io.stderr;
  const logger = createServeLogger({ format, write: (line) => void logStream.write(line), clock: deps.clock, hasPriorityPrefix: isJournalStream(deps.env.JOURNAL_STREAM, streamStat(logStream)) });
  const log = (level: LogLevel, event: LogEventName, message: string, router: string | null = null) => logger.log({ level, event, router, message });
  if (!address.isLoopback) {
    log('info', 'notice', `listening on ${address.host}, not loopback: the page's data, /api, /events and /metrics need the access token (\`lantop serve token\` prints it).`);
  }
  const targets: readonly RouterServices[] = options.routers && options.routers.length > 0 ? options.routers : [deps];
  const keys = new Set(targets.map((t) => t.key));
  if (keys.size !== targets.length) throw new UsageError('Two of the routers given to --routers are the same router (same host and port).');
  const signals = options.signals ?? process;
  // Until serve runs, a SIGHUP (e.g. `systemctl reload` during a slow login) must not end it.
  let reloadNow: (() => void) | null = null;
  // conf's when-exit (via atomically) re-raises the first signal the process gets, once: SIGHUPs
  // within 100 ms are one reload.
  let hangupTimer: NodeJS.Timeout | null = null;
  const onHangup = () => {
    hangupTimer ??= setTimeout(() => {
      hangupTimer = null;
      if (reloadNow) reloadNow();
      else log('info', 'reload', 'SIGHUP while starting: the configuration is being read now anyway');
    }, 100);
  };

  const routers: OpenRouter[] = [];
  const monitors: Array<ReturnType<typeof startMonitor>> = [];
  let store: HistoryStore | null = null;
  let server: Awaited<ReturnType<typeof listenWeb>> | null = null;
  let reports: ReturnType<typeof startReportScheduler> | null = null;
  let isStopping = false;
  const hub = new SseHub();
  // Quotas act here too (issue 16): one dispatcher for every router's alerts (reopened on SIGHUP,
  // behind a sink that forwards to the current one); what the enforcers and the channels report is
  // logged, a line each.
  const onAlertReport = (text: string) => logger.notice(null, { level: /works again$/.test(text) ? 'info' : 'warn', text });
  let alerts = deps.openAlerts(onAlertReport);
  const alertSink: AlertSink = { send: (event) => alerts?.send(event) };
  const healths = targets.map((t) => new RouterHealthTracker(t.key, t.settings.profileName, logger.log));
  const neverBlocks = targets.map((t) => [...t.settings.neverBlock]);
  const running = targets.map((t) => t.settings);
  const sinks: SnapshotSink[] = [];
  const extraSinks: SnapshotSink[] = [...(options.sinks ?? [])];
  try {
    const sinkContext: SinkContext = {
      routers: targets.map((t) => ({ key: t.key, label: t.settings.profileName === 'default' ? t.key : t.settings.profileName })),
      intervalMs: intervalMs ?? DEFAULT_INTERVAL_MS,
      notice: (level, text) => logger.notice(null, { level, text }),
    };
    for (const make of options.sinkFactories ?? []) extraSinks.push(make(sinkContext));
    signals.on('SIGHUP', onHangup);
    for (const target of targets) routers.push(await target.open());
    store = deps.openHistory();
    const history = store;
    const metrics = createLantopMetrics();
    // The `usage --json` document of each router's latest snapshot: /api/usage and the live page.
    const latestUsage = new Map<string, unknown>();
    sinks.push(
      { onSnapshot: (_key, snapshot) => metrics.update(snapshot) },
      {
        onSnapshot: (key, snapshot) => {
          const doc = snapshotJson(snapshot);
          latestUsage.set(key, doc);
          hub.publish(key, 'usage', JSON.stringify(doc));
        },
      },
      ...healths,
      ...extraSinks,
    );
    for (const [i, router] of routers.entries()) {
      const target = targets[i]!;
      monitors.push(
        startMonitor({
          routerKey: target.key,
          linkBitsPerSecond: target.settings.linkBitsPerSecond,
          client: router.client,
          session: router.session,
          clock: deps.clock,
          store,
          ...(intervalMs !== undefined ? { intervalMs } : {}),
          enforce: { sink: alertSink, neverBlock: neverBlocks[i]!, onNotice: (notice) => logger.notice(target.key, notice) },
          onSnapshot: (snapshot) => {
            // One failing consumer must not starve the others (or the poll loop).
            for (const sink of sinks) {
              try {
                sink.onSnapshot(target.key, snapshot);
              } catch (error) {
                logger.notice(target.key, { level: 'error', text: `a snapshot consumer failed: ${String((error as Error)?.message ?? error)}` });
              }
            }
          },
        }),
      );
    }

    const web: WebRoutesDeps = {
      policy,
      routerKeys: targets.map((t) => t.key),
      page: buildLivePage(),
      latestUsage: (key) => latestUsage.get(key) ?? null,
      report: (key, spec) => reportJsonDocument(history, key, spec, deps.clock.now()),
      reportDocument: (key, spec) => loadReportDocument(history, key, spec, deps.clock.now()),
      metrics: async () => ({ contentType: metrics.registry.contentType, text: await metrics.registry.metrics() }),
      cycleDay,
      canAddEventClient: () => !hub.isFull,
      health: () => ({ nowMs: deps.clock.now(), staleAfterMs: staleAfterMs(intervalMs ?? DEFAULT_INTERVAL_MS), routers: healths.map((h) => h.health) }),
    };
    server = await listenWeb(web, hub, address);
    const port = server.port;
    const shownHost = address.host.includes(':') ? `[${address.host}]` : address.host;
    log('info', 'listening', `metrics for ${routers.map((r) => r.label).join(', ')} on http://${shownHost}:${port}/metrics (Ctrl-C to stop)`);
    log('info', 'listening', `live page on http://${shownHost}:${port}/${policy.token !== null ? ' (open it with ?token=…; `lantop serve token` prints it)' : ''}`);

    for (const monitor of monitors) monitor.poller.start();
    // Scheduled reports (issue 17, docs/reports.md): schedules and channels re-read at each check,
    // so a broken reports.json is a notice, not a crash.
    reports = startReportScheduler({
      store,
      clock: deps.clock,
      routers: targets.map((t) => ({ key: t.key, label: t.settings.profileName === 'default' ? t.key : t.settings.profileName, profile: t.settings.profileName })),
      schedules: () => new ReportScheduleStore(deps.env).list(),
      channels: () => configuredReportChannels(deps.env),
      onNotice: (text, level = 'warn') => logger.notice(null, { level, text }, 'report'),
    });
    reloadNow = () => {
      const done: string[] = [];
      try {
        const fresh = options.reload?.() ?? null;
        if (fresh !== null) {
          if (fresh.token !== web.policy.token) {
            if (fresh.token === null && !address.isLoopback) {
              log('warn', 'reload', 'the access token is gone, and serve listens beyond loopback: it keeps the old token (`lantop serve token` makes one)');
            } else {
              web.policy = { ...web.policy, token: fresh.token };
              done.push(fresh.token === null ? 'the access token removed' : 'the access token');
            }
          }
          for (const [i, target] of targets.entries()) {
            const next = fresh.settings[i];
            if (next === undefined) continue;
            const change = compareSettings(running[i]!, next);
            const name = target.settings.profileName;
            if (change.isNeverBlockChanged) {
              // In place: the enforcer's guard reads this array at each check.
              neverBlocks[i]!.splice(0, neverBlocks[i]!.length, ...next.neverBlock);
              running[i] = { ...running[i]!, neverBlock: next.neverBlock };
              done.push(`the never-block list of profile ${name}`);
            }
            if (change.needsRestart.length > 0) log('warn', 'reload', `profile ${name}: ${change.needsRestart.join(', ')} changed; that applies when serve restarts (the session stays as it is)`, target.key);
          }
        }
        const previous = alerts;
        alerts = deps.openAlerts(onAlertReport);
        void previous?.close(2000);
        done.push(`alert channels (${alerts === null ? 'none configured' : String(alerts.channels.length)})`);
        log('info', 'reload', `reloaded ${done.join(', ')}; quotas, report schedules and report channels are read afresh at each check`);
      } catch (error) {
        log('warn', 'reload', `reload failed, serve keeps the configuration it had: ${error instanceof Error ? error.message : String(error)}`);
      }
    };
    await new Promise<void>((resolve) => {
      const onSignal = () => {
        signals.off('SIGINT', onSignal);
        signals.off('SIGTERM', onSignal);
        resolve();
      };
      signals.on('SIGINT', onSignal);
      signals.on('SIGTERM', onSignal);
    });
    isStopping = true;
    log('info', 'stopping', 'stopping');
    return EXIT.ok;
  } finally {
    signals.off('SIGHUP', onHangup);
    if (hangupTimer !== null) clearTimeout(hangupTimer);
    reloadNow = null;
    hub.close();
    await server?.close();
    for (const monitor of monitors) monitor.poller.stop();
    // The last poll (or the one in flight) is recorded before the lease goes: the history ends at
    // the shutdown, not up to an interval before it.
    if (isStopping) await Promise.all(monitors.map((m, i) => (healths[i]!.isReachable ? withTimeout(m.poller.pollOnce(), FINAL_POLL_TIMEOUT_MS) : null)));
    for (const monitor of monitors) await monitor.enforcer?.idle();
    const ends = monitors.map((m) => ({ isWriter: m.recorder?.role === 'writer', lastPollMs: m.recorder && store ? (store.loadState(m.recorder.routerId)?.lastPollMs ?? null) : null }));
    for (const monitor of monitors) monitor.close();
    for (const router of routers) await router.session.close().catch(() => undefined);
    await reports?.close();
    await alerts?.close(2000);
    for (const sink of extraSinks) await withTimeout(Promise.resolve().then(() => sink.close?.()), 4000);
    store?.close();
    if (isStopping) {
      for (const [i, end] of ends.entries()) {
        const at = end.lastPollMs === null ? 'no poll recorded' : `last poll recorded at ${new Date(end.lastPollMs).toISOString()}`;
        log('info', 'stopped', end.isWriter ? `${at}; history lease released` : 'another lantop process records this router\'s history', targets[i]!.key);
      }
      log('info', 'stopped', 'stopped');
    }
  }
}

/** The HTTP listener over routeRequest and a hub: serve's, and `--mode users serve`'s (app/users-serve.ts). */
export async function listenWeb(web: WebRoutesDeps, hub: SseHub, address: ListenAddress): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    routeRequest(web, { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers }).then(
      (reply) => send(req, res, reply, hub),
      (error: unknown) => res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`internal error: ${String(error).slice(0, 200)}\n`),
    );
  });
  // Scrapers keep connections alive; do not let them hold shutdown up.
  server.keepAliveTimeout = 5000;
  const port = await listen(server, address);
  const close = () => new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
  return { port, close };
}

/** Writes a route's answer; an event stream is handed to the hub until the client goes. */
function send(req: IncomingMessage, res: ServerResponse, reply: WebReply, hub: SseHub): void {
  if (reply.kind === 'body') {
    res.writeHead(reply.status, reply.headers).end(req.method === 'HEAD' ? undefined : reply.body);
    return;
  }
  res.writeHead(200, reply.headers);
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  res.flushHeaders();
  const client: SseClient = {
    write: (text) => void res.write(text),
    get bufferedBytes() {
      return res.writableLength;
    },
    end: () => res.end(),
  };
  if (!hub.add(client)) {
    res.end();
    return;
  }
  res.on('close', () => hub.remove(client));
}
