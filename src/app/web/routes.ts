// What `lantop serve` answers (issue 17, docs/web.md), without HTTP itself: a request's method, URL
// and headers in, a status, headers and body out (or "open the event stream"); app/serve.ts does the
// sockets. Every route is read-only: GET and HEAD, nothing else (405); no route changes router state.
import type { PeriodSpec } from '../../domain/periods.js';
import type { ReportDocument } from '../../domain/report-document.js';
import { LantopError } from '../../errors.js';
import { periodSpec } from '../history-report.js';
import { checkAccess, type AccessArea, type AccessPolicy, type HeaderBag } from './access.js';

export interface WebRequest {
  method: string;
  /** The request target as sent (path and query). */
  url: string;
  /** Lower-case names, as node:http gives them. */
  headers: HeaderBag;
}

export type WebReply =
  | { kind: 'body'; status: number; headers: Record<string, string>; body: string }
  /** Open the SSE stream with these headers (app/serve.ts hands the response to the hub). */
  | { kind: 'events'; headers: Record<string, string> };

export interface WebRoutesDeps {
  policy: AccessPolicy;
  /** Router keys in --routers order; the first is the default of ?router=. */
  routerKeys: readonly string[];
  /** The live page, rendered once, and its Content-Security-Policy. */
  page: { html: string; csp: string };
  /** The `usage --json` document of a router's latest snapshot (null: not polled yet). */
  latestUsage(key: string): unknown;
  /** `report --json`'s document. */
  report(key: string, spec: PeriodSpec): unknown;
  /** The charts' document (null: no history yet). */
  reportDocument(key: string, spec: PeriodSpec): ReportDocument | null;
  metrics(): Promise<{ contentType: string; text: string }>;
  /** The cycle's first day when ?cycle_day= is not given (serve --cycle-day). */
  cycleDay: number;
  /** Whether the event stream has room for another client. */
  canAddEventClient(): boolean;
  /** /healthz's input: each router's state now. */
  health(): HealthInput;
}

/** One router as /healthz sees it: no address, no device (the route needs no token). */
export interface RouterHealth {
  /** The profile's name (`default` for the one without --routers). */
  name: string;
  /** The last poll succeeded and the session is connected. */
  isUp: boolean;
  /** When the last successful poll was (null: none yet). */
  lastPollMs: number | null;
}

export interface HealthInput {
  nowMs: number;
  /** A router whose last successful poll is older than this is unhealthy. */
  staleAfterMs: number;
  routers: readonly RouterHealth[];
}

/** Healthy when every router is up and polled within staleAfterMs (pure: tested beside). */
export function healthOf(input: HealthInput): { isHealthy: boolean; body: unknown } {
  const routers = input.routers.map((r) => {
    const ageMs = r.lastPollMs === null ? null : Math.max(0, input.nowMs - r.lastPollMs);
    const isFresh = ageMs !== null && ageMs <= input.staleAfterMs;
    return { name: r.name, state: r.isUp ? 'up' : 'down', last_poll_age_seconds: ageMs === null ? null : Math.round(ageMs / 100) / 10, isHealthy: r.isUp && isFresh };
  });
  const isHealthy = routers.length > 0 && routers.every((r) => r.isHealthy);
  return {
    isHealthy,
    body: { status: isHealthy ? 'ok' : 'unhealthy', stale_after_seconds: input.staleAfterMs / 1000, routers: routers.map(({ isHealthy: _, ...r }) => r) },
  };
}

/** Sent with every answer. */
export const BASE_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Resource-Policy': 'same-origin',
};
const NO_STORE = { 'Cache-Control': 'no-store' };
/** Non-page answers load nothing. */
const DATA_CSP = "default-src 'none'; frame-ancestors 'none'";
const PERIODS = new Set(['today', 'yesterday', 'week', 'month', 'cycle', 'all']);

function reply(status: number, contentType: string, body: string, extra: Record<string, string> = {}): WebReply {
  return { kind: 'body', status, headers: { ...BASE_HEADERS, ...NO_STORE, 'Content-Security-Policy': DATA_CSP, 'Content-Type': contentType, ...extra }, body };
}

const JSON_TYPE = 'application/json; charset=utf-8';
function json(status: number, value: unknown, extra: Record<string, string> = {}): WebReply {
  return reply(status, JSON_TYPE, JSON.stringify(value, null, 2) + '\n', extra);
}
function error(status: number, message: string, extra: Record<string, string> = {}): WebReply {
  return json(status, { error: message, status }, extra);
}

class QueryError extends Error {}

/** The query's parameters, refusing any not in `allowed` (token is always allowed) and repeats. */
function readQuery(query: URLSearchParams, allowed: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, value] of query) {
    if (name === 'token') continue;
    if (!allowed.includes(name)) throw new QueryError(`unknown query parameter '${name.slice(0, 40)}'${allowed.length > 0 ? ` (this route takes ${allowed.join(', ')})` : ' (this route takes none)'}`);
    if (out.has(name)) throw new QueryError(`query parameter '${name}' given twice`);
    out.set(name, value);
  }
  return out;
}

function routerOf(deps: WebRoutesDeps, q: Map<string, string>): string {
  const asked = q.get('router');
  if (asked === undefined) return deps.routerKeys[0] ?? '';
  if (!deps.routerKeys.includes(asked)) throw new QueryError(`no router '${asked.slice(0, 80)}' here (routers: ${deps.routerKeys.join(', ')})`);
  return asked;
}

function specOf(deps: WebRoutesDeps, q: Map<string, string>): PeriodSpec {
  const period = q.get('period') ?? 'today';
  if (!PERIODS.has(period)) throw new QueryError(`period must be today, yesterday, week, month, cycle or all, not '${period.slice(0, 40)}'`);
  const cycleDay = q.get('cycle_day');
  if (cycleDay !== undefined && period !== 'cycle') throw new QueryError('cycle_day goes with period=cycle only');
  if (cycleDay !== undefined && !/^\d{1,2}$/.test(cycleDay)) throw new QueryError('cycle_day must be a day of the month, 1–31');
  try {
    return periodSpec({ period, cycleDay: cycleDay ?? String(deps.cycleDay) });
  } catch (e) {
    if (e instanceof LantopError) throw new QueryError(e.message.replace(/^--cycle-day/, 'cycle_day').replace(/\.$/, ''));
    throw e;
  }
}

const LOOPBACK_HOST = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d{1,5})?$/i;

/**
 * Without a token serve is on loopback, where a web page elsewhere could still reach it through DNS
 * rebinding (its own name pointed at 127.0.0.1): such a request names that other host, so only
 * loopback Host headers are answered.
 */
function isHostAllowed(policy: AccessPolicy, headers: HeaderBag): boolean {
  if (policy.token !== null) return true;
  const host = headers.host;
  return typeof host === 'string' && LOOPBACK_HOST.test(host);
}

function areaOf(path: string): AccessArea | null {
  if (path === '/') return 'page';
  if (path === '/metrics') return 'metrics';
  if (path === '/events' || path === '/api/usage' || path === '/api/report' || path === '/api/report/document') return 'data';
  return null;
}

export async function routeRequest(deps: WebRoutesDeps, req: WebRequest): Promise<WebReply> {
  let url: URL;
  try {
    url = new URL(req.url, 'http://lantop.invalid');
  } catch {
    return error(400, 'cannot read the request target');
  }
  const path = url.pathname;
  // Liveness for systemd/docker/uptime checks: no token (it says no address and no device), but
  // still read-only and still refusing rebinding Host headers.
  if (path === '/healthz') {
    if (req.method !== 'GET' && req.method !== 'HEAD') return error(405, 'lantop serve is read-only: GET and HEAD only', { Allow: 'GET, HEAD' });
    if (!isHostAllowed(deps.policy, req.headers)) return error(403, 'this server answers only requests addressed to loopback (127.0.0.1, [::1], localhost)');
    try {
      readQuery(url.searchParams, []);
    } catch (e) {
      return error(400, (e as Error).message);
    }
    const health = healthOf(deps.health());
    return json(health.isHealthy ? 200 : 503, health.body);
  }
  const area = areaOf(path);
  if (area === null) return error(404, `nothing at ${path.slice(0, 80)}; try /, /api/usage, /api/report, /events, /metrics or /healthz`);
  if (req.method !== 'GET' && req.method !== 'HEAD') return error(405, 'lantop serve is read-only: GET and HEAD only', { Allow: 'GET, HEAD' });
  if (!isHostAllowed(deps.policy, req.headers)) return error(403, 'this server answers only requests addressed to loopback (127.0.0.1, [::1], localhost)');
  const access = checkAccess(deps.policy, area, req.headers, url.searchParams);
  if (!access.ok) {
    const message = access.reason === 'missing' ? 'an access token is required: send Authorization: Bearer TOKEN, X-Lantop-Token: TOKEN or ?token=TOKEN (lantop serve token prints it)' : 'the access token is wrong';
    return error(401, message, { 'WWW-Authenticate': 'Bearer realm="lantop"' });
  }
  try {
    switch (path) {
      case '/':
        readQuery(url.searchParams, []);
        return { kind: 'body', status: 200, headers: { ...BASE_HEADERS, ...NO_STORE, 'Content-Security-Policy': deps.page.csp, 'Content-Type': 'text/html; charset=utf-8' }, body: deps.page.html };
      case '/metrics': {
        readQuery(url.searchParams, []);
        const m = await deps.metrics();
        return reply(200, m.contentType, m.text);
      }
      case '/events':
        readQuery(url.searchParams, []);
        if (!deps.canAddEventClient()) return error(503, 'too many live pages are open; close one and reload', { 'Retry-After': '10' });
        return { kind: 'events', headers: { ...BASE_HEADERS, ...NO_STORE, 'Content-Security-Policy': DATA_CSP, 'Content-Type': 'text/event-stream; charset=utf-8', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' } };
      case '/api/usage':
        return usage(deps, readQuery(url.searchParams, ['router']));
      case '/api/report': {
        const q = readQuery(url.searchParams, ['period', 'cycle_day', 'router']);
        return json(200, deps.report(routerOf(deps, q), specOf(deps, q)));
      }
      default: {
        const q = readQuery(url.searchParams, ['period', 'cycle_day', 'router']);
        return json(200, deps.reportDocument(routerOf(deps, q), specOf(deps, q)));
      }
    }
  } catch (e) {
    if (e instanceof QueryError) return error(400, e.message);
    return error(500, `internal error: ${String((e as Error)?.message ?? e).slice(0, 200)}`);
  }
}

/** One router: its document; several: an array of them in --routers order (those polled so far). */
function usage(deps: WebRoutesDeps, q: Map<string, string>): WebReply {
  const many = deps.routerKeys.length > 1 && !q.has('router');
  if (many) return json(200, deps.routerKeys.map((key) => deps.latestUsage(key)).filter((doc) => doc !== null));
  const doc = deps.latestUsage(routerOf(deps, q));
  return doc === null ? error(503, 'the router has not been polled yet; try again in a moment', { 'Retry-After': '2' }) : json(200, doc);
}
