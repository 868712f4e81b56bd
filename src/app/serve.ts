// `lantop serve`: a Prometheus exporter and the household's live page. One session per configured
// router, polled by the same monitor as every other front end; /metrics renders the latest Snapshot
// (src/output/prometheus.ts), / and /events show it live, /api/* answer as `usage`/`report --json`
// (issue 17; the routes are app/web/routes.ts, docs/web.md). Listens on loopback unless asked
// otherwise (issue 9: never all interfaces by default), and beyond loopback only with a token.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { EXIT, UsageError } from '../errors.js';
import { MIN_INTERVAL_MS } from '../domain/poller.js';
import type { Clock } from '../domain/clock.js';
import type { Notice } from '../domain/snapshot.js';
import { createLantopMetrics } from '../output/prometheus.js';
import { snapshotJson } from '../output/json.js';
import { sanitizeText } from '../sanitize.js';
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

/** The same line again within this long is not printed again. */
export const NOTICE_REPEAT_MS = 10 * 60_000;
const NOTICE_WORDS: Readonly<Record<Notice['level'], string>> = { info: 'note', warn: 'warning', error: 'error' };

/**
 * The enforcer's notices (quota crossings, blocks, refusals, failed router commands) and the alert
 * channels' reports as `serve` prints them on stderr: one line each (`warning: ROUTER: text`),
 * sanitised (router text may carry escapes and newlines), and a line printed in the last
 * NOTICE_REPEAT_MS not again.
 */
export function createNoticePrinter(write: (line: string) => void, clock: Pick<Clock, 'now'>): (source: string | null, notice: Pick<Notice, 'level' | 'text'>) => void {
  const printedMs = new Map<string, number>();
  return (source, notice) => {
    const now = clock.now();
    const line = `${NOTICE_WORDS[notice.level]}: ${source === null ? '' : `${sanitizeText(source, 80)}: `}${sanitizeText(notice.text, 300)}`;
    const last = printedMs.get(line);
    if (last !== undefined && now - last < NOTICE_REPEAT_MS) return;
    if (printedMs.size >= 200) for (const [key, at] of printedMs) if (now - at >= NOTICE_REPEAT_MS) printedMs.delete(key);
    printedMs.set(line, now);
    write(`${line}\n`);
  };
}

/**
 * Serves /metrics for one or more routers (`--routers home,office`: one session and monitor per
 * profile, one registry). Every router is logged into before anything listens, so a wrong password
 * or an unreachable router fails at once (exit 3/4); later outages show as lantop_up 0.
 */
export async function runServe(
  deps: Services,
  options: { listen: string; interval?: string; routers?: readonly RouterServices[]; token?: string | null; cycleDay?: string },
): Promise<number> {
  const address = parseListen(options.listen);
  const intervalMs = options.interval === undefined ? undefined : Number(options.interval);
  if (intervalMs !== undefined && (!Number.isInteger(intervalMs) || intervalMs < MIN_INTERVAL_MS)) {
    throw new UsageError(`--interval must be a whole number of milliseconds ≥ ${MIN_INTERVAL_MS}.`);
  }
  const cycleDay = Number(options.cycleDay ?? 1);
  if (!Number.isInteger(cycleDay) || cycleDay < 1 || cycleDay > 31) throw new UsageError('--cycle-day must be 1–31.');
  const policy: AccessPolicy = { token: options.token ?? null, isLoopback: address.isLoopback };
  assertListenAllowed(policy, address.host);
  const io = deps.io;
  if (!address.isLoopback) {
    io.stderr.write(`note: listening on ${address.host}, not loopback: the page's data, /api, /events and /metrics need the access token (\`lantop serve token\` prints it).\n`);
  }
  const targets: readonly RouterServices[] = options.routers && options.routers.length > 0 ? options.routers : [deps];
  const keys = new Set(targets.map((t) => t.key));
  if (keys.size !== targets.length) throw new UsageError('Two of the routers given to --routers are the same router (same host and port).');

  const routers: OpenRouter[] = [];
  const monitors: Array<ReturnType<typeof startMonitor>> = [];
  let store: HistoryStore | null = null;
  let server: Server | null = null;
  let reports: ReturnType<typeof startReportScheduler> | null = null;
  const hub = new SseHub();
  // Quotas act here too (issue 16): one dispatcher for every router's alerts; what the enforcers
  // and the channels report is printed on stderr, a line each.
  const printNotice = createNoticePrinter((line) => io.stderr.write(line), deps.clock);
  const alerts = deps.openAlerts((text) => printNotice(null, { level: /works again$/.test(text) ? 'info' : 'warn', text }));
  try {
    for (const target of targets) routers.push(await target.open());
    store = deps.openHistory();
    const history = store;
    const metrics = createLantopMetrics();
    // The `usage --json` document of each router's latest snapshot: /api/usage and the live page.
    const latestUsage = new Map<string, unknown>();
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
          enforce: { sink: alerts, neverBlock: target.settings.neverBlock, onNotice: (notice) => printNotice(target.key, notice) },
          onSnapshot: (snapshot) => {
            metrics.update(snapshot);
            const doc = snapshotJson(snapshot);
            latestUsage.set(target.key, doc);
            hub.publish(target.key, 'usage', JSON.stringify(doc));
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
    };
    server = createServer((req, res) => {
      routeRequest(web, { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers }).then(
        (reply) => send(req, res, reply, hub),
        (error: unknown) => res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`internal error: ${String(error).slice(0, 200)}\n`),
      );
    });
    // Scrapers keep connections alive; do not let them hold shutdown up.
    server.keepAliveTimeout = 5000;
    const port = await listen(server, address);
    const shownHost = address.host.includes(':') ? `[${address.host}]` : address.host;
    io.stderr.write(`lantop serve: metrics for ${routers.map((r) => r.label).join(', ')} on http://${shownHost}:${port}/metrics (Ctrl-C to stop)\n`);
    io.stderr.write(`lantop serve: live page on http://${shownHost}:${port}/${policy.token !== null ? ' (open it with ?token=…; `lantop serve token` prints it)' : ''}\n`);

    for (const monitor of monitors) monitor.poller.start();
    // Scheduled reports (issue 17, docs/reports.md): schedules and channels re-read at each check,
    // so a broken reports.json is a notice, not a crash.
    reports = startReportScheduler({
      store,
      clock: deps.clock,
      routers: targets.map((t) => ({ key: t.key, label: t.settings.profileName === 'default' ? t.key : t.settings.profileName, profile: t.settings.profileName })),
      schedules: () => new ReportScheduleStore(deps.env).list(),
      channels: () => configuredReportChannels(deps.env),
      onNotice: (text, level = 'warn') => printNotice(null, { level, text }),
    });
    await new Promise<void>((resolve) => {
      const onSignal = () => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        resolve();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    });
    io.stderr.write('lantop serve: stopping\n');
    return EXIT.ok;
  } finally {
    for (const monitor of monitors) monitor.close();
    hub.close();
    if (server) {
      const s = server;
      await new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeAllConnections();
      });
    }
    for (const monitor of monitors) await monitor.enforcer?.idle();
    for (const router of routers) await router.session.close().catch(() => undefined);
    await reports?.close();
    await alerts?.close(2000);
    store?.close();
  }
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
