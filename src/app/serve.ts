// `lantop serve`: a Prometheus exporter. One session per configured router, polled by the same
// monitor as every other front end; /metrics renders the latest Snapshot (src/output/prometheus.ts).
// Listens on loopback unless asked otherwise (issue 9: never all interfaces by default).
import { createServer, type Server } from 'node:http';
import { isIP } from 'node:net';
import { EXIT, UsageError } from '../errors.js';
import { MIN_INTERVAL_MS } from '../domain/poller.js';
import type { Clock } from '../domain/clock.js';
import type { Notice } from '../domain/snapshot.js';
import { createLantopMetrics } from '../output/prometheus.js';
import { sanitizeText } from '../sanitize.js';
import type { HistoryStore } from '../store/history-store.js';
import type { OpenRouter } from './open-router.js';
import { startMonitor } from './monitor.js';
import type { RouterServices, Services } from './services.js';

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

const INDEX_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>lantop exporter</title></head>
<body><h1>lantop exporter</h1><p>Per-host router traffic for Prometheus: <a href="/metrics">/metrics</a></p></body></html>
`;

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
  options: { listen: string; interval?: string; routers?: readonly RouterServices[] },
): Promise<number> {
  const address = parseListen(options.listen);
  const intervalMs = options.interval === undefined ? undefined : Number(options.interval);
  if (intervalMs !== undefined && (!Number.isInteger(intervalMs) || intervalMs < MIN_INTERVAL_MS)) {
    throw new UsageError(`--interval must be a whole number of milliseconds ≥ ${MIN_INTERVAL_MS}.`);
  }
  const io = deps.io;
  if (!address.isLoopback) {
    io.stderr.write(`warning: listening on ${address.host}, not loopback: anyone who can reach this address can read per-host traffic of your network.\n`);
  }
  const targets: readonly RouterServices[] = options.routers && options.routers.length > 0 ? options.routers : [deps];
  const keys = new Set(targets.map((t) => t.key));
  if (keys.size !== targets.length) throw new UsageError('Two of the routers given to --routers are the same router (same host and port).');

  const routers: OpenRouter[] = [];
  const monitors: Array<ReturnType<typeof startMonitor>> = [];
  let store: HistoryStore | null = null;
  let server: Server | null = null;
  // Quotas act here too (issue 16): one dispatcher for every router's alerts; what the enforcers
  // and the channels report is printed on stderr, a line each.
  const printNotice = createNoticePrinter((line) => io.stderr.write(line), deps.clock);
  const alerts = deps.openAlerts((text) => printNotice(null, { level: /works again$/.test(text) ? 'info' : 'warn', text }));
  try {
    for (const target of targets) routers.push(await target.open());
    store = deps.openHistory();
    const metrics = createLantopMetrics();
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
          onSnapshot: (snapshot) => metrics.update(snapshot),
        }),
      );
    }

    server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
        return;
      }
      if (path === '/') {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(req.method === 'HEAD' ? undefined : INDEX_HTML);
        return;
      }
      if (path === '/metrics') {
        metrics.registry.metrics().then(
          (text) => res.writeHead(200, { 'Content-Type': metrics.registry.contentType }).end(req.method === 'HEAD' ? undefined : text),
          (error: unknown) => res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`error collecting metrics: ${String(error).slice(0, 200)}\n`),
        );
        return;
      }
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found; try /metrics\n');
    });
    // Scrapers keep connections alive; do not let them hold shutdown up.
    server.keepAliveTimeout = 5000;
    const port = await listen(server, address);
    const shownHost = address.host.includes(':') ? `[${address.host}]` : address.host;
    io.stderr.write(`lantop serve: metrics for ${routers.map((r) => r.label).join(', ')} on http://${shownHost}:${port}/metrics (Ctrl-C to stop)\n`);

    for (const monitor of monitors) monitor.poller.start();
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
    if (server) {
      const s = server;
      await new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeAllConnections();
      });
    }
    for (const monitor of monitors) await monitor.enforcer?.idle();
    for (const router of routers) await router.session.close().catch(() => undefined);
    await alerts?.close(2000);
    store?.close();
  }
}
