// Who may read what `lantop serve` serves (issue 17, docs/web.md). Everything is read-only; the token
// only keeps per-device traffic from anyone who can reach the port.
// - No token configured: allowed only on loopback (serve refuses to start otherwise); all open.
// - A token configured: /api/* and /events need it everywhere; /metrics needs it off loopback
//   (a local Prometheus keeps scraping without one); the page itself (no data in it) always loads
//   and carries the token it was opened with (`/?token=…`) to its own requests.
// The token is taken from `Authorization: Bearer T`, `X-Lantop-Token: T` or `?token=T`, in that order.
import { createHash, timingSafeEqual } from 'node:crypto';
import { UsageError } from '../../errors.js';

export interface AccessPolicy {
  /** The required token, or null when none is configured. */
  token: string | null;
  /** Whether serve listens on loopback only. */
  isLoopback: boolean;
}

/** page: the HTML; data: /api/* and /events; metrics: /metrics. */
export type AccessArea = 'page' | 'data' | 'metrics';

export type AccessDecision = { ok: true } | { ok: false; reason: 'missing' | 'invalid' };

export type HeaderBag = Readonly<Record<string, string | readonly string[] | undefined>>;

function header(headers: HeaderBag, name: string): string | undefined {
  const value = headers[name];
  return typeof value === 'string' ? value : value?.[0];
}

/** The token a request presents, or null. Header names are lower case (as node:http gives them). */
export function presentedToken(headers: HeaderBag, query: URLSearchParams): string | null {
  const auth = header(headers, 'authorization');
  if (auth !== undefined) {
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(auth);
    if (m) return m[1] ?? null;
  }
  const x = header(headers, 'x-lantop-token');
  if (x !== undefined && x.trim() !== '') return x.trim();
  const q = query.get('token');
  return q === null || q === '' ? null : q;
}

/** Constant-time comparison (of SHA-256 digests, so tokens of any length compare in the same time). */
export function tokensMatch(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

export function needsToken(policy: AccessPolicy, area: AccessArea): boolean {
  if (policy.token === null || area === 'page') return false;
  return area === 'data' || !policy.isLoopback;
}

export function checkAccess(policy: AccessPolicy, area: AccessArea, headers: HeaderBag, query: URLSearchParams): AccessDecision {
  if (!needsToken(policy, area) || policy.token === null) return { ok: true };
  const given = presentedToken(headers, query);
  if (given === null) return { ok: false, reason: 'missing' };
  return tokensMatch(given, policy.token) ? { ok: true } : { ok: false, reason: 'invalid' };
}

/** Serving beyond loopback without a token is refused before anything listens. */
export function assertListenAllowed(policy: AccessPolicy, host: string): void {
  if (policy.isLoopback || policy.token !== null) return;
  throw new UsageError(
    `--listen ${host.slice(0, 80)} is not loopback, and lantop serve has no access token: anyone on the network could read your per-device traffic.`,
    'Make a read-only token first with `lantop serve token` (or set LANTOP_SERVE_TOKEN), then open the printed address with ?token=… (see docs/web.md).',
  );
}
