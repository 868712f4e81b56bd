import { test } from 'node:test';
import assert from 'node:assert/strict';
import { healthOf, routeRequest, type HealthInput, type WebReply, type WebRoutesDeps } from './routes.js';
import type { PeriodSpec } from '../../domain/periods.js';

const T = 'abcdefghijklmnopqrstuvwxyz012345';

function deps(over: Partial<WebRoutesDeps> = {}): WebRoutesDeps & { specs: Array<[string, PeriodSpec]> } {
  const specs: Array<[string, PeriodSpec]> = [];
  return {
    specs,
    policy: { token: null, isLoopback: true },
    routerKeys: ['r1:23'],
    page: { html: '<!DOCTYPE html><p>page</p>', csp: "default-src 'none'; script-src 'sha256-x'" },
    latestUsage: (key) => ({ schema: 1, router: key, hosts: [] }),
    report: (key, spec) => {
      specs.push([key, spec]);
      return { schema: 1, router: key, period: spec.kind };
    },
    reportDocument: (key, spec) => {
      specs.push([key, spec]);
      return null;
    },
    metrics: async () => ({ contentType: 'text/plain; version=0.0.4', text: 'lantop_up 1\n' }),
    cycleDay: 5,
    canAddEventClient: () => true,
    health: () => ({ nowMs: 100_000, staleAfterMs: 30_000, routers: [{ name: 'default', isUp: true, lastPollMs: 98_000 }] }),
    ...over,
  };
}

const get = (d: WebRoutesDeps, url: string, headers: Record<string, string> = {}, method = 'GET') => routeRequest(d, { method, url, headers: { host: '127.0.0.1:9464', ...headers } });

function body(reply: WebReply): { status: number; headers: Record<string, string>; json: unknown; text: string } {
  assert.equal(reply.kind, 'body');
  if (reply.kind !== 'body') throw new Error('unreachable');
  let json: unknown = undefined;
  if (reply.headers['Content-Type']?.startsWith('application/json')) json = JSON.parse(reply.body);
  return { status: reply.status, headers: reply.headers, json, text: reply.body };
}

test('GET and HEAD only: every other method is 405 with Allow; unknown paths 404', async () => {
  const d = deps();
  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
    const r = body(await get(d, '/api/usage', {}, method));
    assert.equal(r.status, 405, method);
    assert.equal(r.headers.Allow, 'GET, HEAD');
    assert.match(String((r.json as { error: string }).error), /read-only/);
  }
  assert.equal(body(await get(d, '/api/usage', {}, 'HEAD')).status, 200);
  for (const path of ['/nope', '/api', '/api/usage/', '/index.html', '/../etc/passwd']) assert.equal(body(await get(d, path)).status, 404, path);
});

test('bad queries are 400 with a JSON error', async () => {
  const d = deps();
  for (const url of ['/api/report?period=decade', '/api/report?period=cycle&cycle_day=40', '/api/report?period=cycle&cycle_day=x', '/api/report?period=today&cycle_day=3', '/api/report?period=today&period=month', '/api/report?router=other:23', '/api/report?since=2024-01-01', '/api/usage?router=zzz', '/metrics?x=1', '/?debug=1']) {
    const r = body(await get(d, url));
    assert.equal(r.status, 400, url);
    assert.equal(typeof (r.json as { error: unknown }).error, 'string', url);
  }
  assert.deepEqual(d.specs, [], 'nothing was asked of the history');
});

test('/api/report and /api/report/document read the period, cycle day (default from serve) and router', async () => {
  const d = deps({ routerKeys: ['r1:23', 'r2:23'] });
  const r = body(await get(d, '/api/report?period=month'));
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { schema: 1, router: 'r1:23', period: 'month' });
  assert.equal(r.headers['Cache-Control'], 'no-store');
  await get(d, '/api/report?period=cycle&router=r2%3A23');
  await get(d, '/api/report/document?period=cycle&cycle_day=12');
  assert.deepEqual(d.specs, [['r1:23', { kind: 'month' }], ['r2:23', { kind: 'cycle', startDay: 5 }], ['r1:23', { kind: 'cycle', startDay: 12 }]]);
  const doc = body(await get(d, '/api/report/document'));
  assert.equal(doc.status, 200);
  assert.equal(doc.json, null, 'no history yet: null');
});

test('/api/usage: one router its document, several an array; 503 before the first poll', async () => {
  const one = body(await get(deps(), '/api/usage'));
  assert.deepEqual(one.json, { schema: 1, router: 'r1:23', hosts: [] });
  const several = deps({ routerKeys: ['a:1', 'b:1', 'c:1'], latestUsage: (key) => (key === 'b:1' ? null : { router: key }) });
  assert.deepEqual(body(await get(several, '/api/usage')).json, [{ router: 'a:1' }, { router: 'c:1' }]);
  assert.deepEqual(body(await get(several, '/api/usage?router=c:1')).json, { router: 'c:1' });
  const early = body(await get(several, '/api/usage?router=b:1'));
  assert.equal(early.status, 503);
});

test('security headers everywhere; the page carries its CSP; /events opens a stream or says it is full', async () => {
  const d = deps();
  const page = body(await get(d, '/'));
  assert.equal(page.status, 200);
  assert.equal(page.headers['Content-Security-Policy'], d.page.csp);
  assert.match(page.headers['Content-Type'] ?? '', /^text\/html/);
  for (const url of ['/', '/api/usage', '/metrics', '/nope']) {
    const r = body(await get(d, url));
    assert.equal(r.headers['X-Content-Type-Options'], 'nosniff', url);
    assert.equal(r.headers['Referrer-Policy'], 'no-referrer', url);
    assert.ok(r.headers['Content-Security-Policy'], url);
  }
  assert.equal(body(await get(d, '/metrics')).text, 'lantop_up 1\n');
  const events = await get(d, '/events');
  assert.equal(events.kind, 'events');
  if (events.kind === 'events') {
    assert.equal(events.headers['Content-Type'], 'text/event-stream; charset=utf-8');
    assert.equal(events.headers['Cache-Control'], 'no-store');
  }
  assert.equal(body(await get(deps({ canAddEventClient: () => false }), '/events')).status, 503);
});

test('with a token: 401 without or with a wrong one, 200 with it; the page and loopback /metrics stay open', async () => {
  const d = deps({ policy: { token: T, isLoopback: true } });
  for (const url of ['/api/usage', '/api/report', '/api/report/document', '/events']) {
    const r = body(await get(d, url));
    assert.equal(r.status, 401, url);
    assert.equal(r.headers['WWW-Authenticate'], 'Bearer realm="lantop"');
    assert.equal(body(await get(d, url, { authorization: 'Bearer wrong' })).status, 401);
  }
  assert.equal(body(await get(d, '/api/usage', { authorization: `Bearer ${T}` })).status, 200);
  assert.equal(body(await get(d, '/api/usage', { 'x-lantop-token': T })).status, 200);
  assert.equal(body(await get(d, `/api/report?period=week&token=${T}`)).status, 200, '?token= is not an unknown parameter');
  assert.equal((await get(d, `/events?token=${T}`)).kind, 'events');
  assert.equal(body(await get(d, '/')).status, 200);
  assert.equal(body(await get(d, '/metrics')).status, 200);
  const lan = deps({ policy: { token: T, isLoopback: false } });
  assert.equal(body(await get(lan, '/metrics', { host: '198.51.100.7:9464' })).status, 401);
  assert.equal(body(await get(lan, '/metrics', { host: '198.51.100.7:9464', authorization: `Bearer ${T}` })).status, 200);
});

test('without a token only requests addressed to loopback are answered (DNS rebinding)', async () => {
  const d = deps();
  for (const host of ['127.0.0.1:9464', 'localhost:9464', '[::1]:9464', 'LOCALHOST', '127.0.0.2']) assert.equal(body(await get(d, '/api/usage', { host })).status, 200, host);
  for (const host of ['evil.example:9464', '198.51.100.7', '127.0.0.1.evil.example', '']) assert.equal(body(await get(d, '/api/usage', { host })).status, 403, host);
  const withToken = deps({ policy: { token: T, isLoopback: false } });
  assert.equal(body(await get(withToken, '/', { host: 'lantop.home.arpa:9464' })).status, 200);
});

test('/healthz: 200 ok when every router is up and polled recently, 503 otherwise; no token, no addresses', async () => {
  const at = (routers: HealthInput['routers']): Partial<WebRoutesDeps> => ({ health: () => ({ nowMs: 100_000, staleAfterMs: 30_000, routers }) });
  const ok = body(await get(deps(), '/healthz'));
  assert.equal(ok.status, 200);
  assert.deepEqual(ok.json, { status: 'ok', stale_after_seconds: 30, routers: [{ name: 'default', state: 'up', last_poll_age_seconds: 2 }] });
  assert.equal(ok.headers['Cache-Control'], 'no-store');
  const two = (second: HealthInput['routers'][number]) => at([{ name: 'home', isUp: true, lastPollMs: 99_000 }, second]);
  const stale = body(await get(deps(two({ name: 'office', isUp: true, lastPollMs: 60_000 })), '/healthz'));
  assert.equal(stale.status, 503);
  assert.deepEqual(stale.json, { status: 'unhealthy', stale_after_seconds: 30, routers: [{ name: 'home', state: 'up', last_poll_age_seconds: 1 }, { name: 'office', state: 'up', last_poll_age_seconds: 40 }] });
  assert.equal(body(await get(deps(two({ name: 'office', isUp: false, lastPollMs: 99_500 })), '/healthz')).status, 503, 'down now');
  assert.equal(body(await get(deps(two({ name: 'office', isUp: false, lastPollMs: null })), '/healthz')).status, 503, 'never polled');
  assert.equal(body(await get(deps(at([])), '/healthz')).status, 503);
  // A token configured: /healthz still needs none (and HEAD works); other methods 405, queries 400.
  const withToken = deps({ policy: { token: T, isLoopback: false } });
  assert.equal(body(await get(withToken, '/healthz', { host: '198.51.100.7:9464' })).status, 200);
  assert.equal(body(await get(withToken, '/healthz', {}, 'HEAD')).status, 200);
  assert.equal(body(await get(withToken, '/healthz', {}, 'POST')).status, 405);
  assert.equal(body(await get(withToken, '/healthz?verbose=1')).status, 400);
  assert.equal(body(await get(deps(), '/healthz', { host: 'evil.example' })).status, 403, 'rebinding refused as elsewhere');
  assert.doesNotMatch(ok.text, /r1:23|\d+\.\d+\.\d+\.\d+/, 'no router address in it');
});

test('healthOf rounds the age to a tenth of a second and counts a poll exactly at the limit as fresh', () => {
  const r = healthOf({ nowMs: 10_000, staleAfterMs: 3000, routers: [{ name: 'a', isUp: true, lastPollMs: 7000 }, { name: 'b', isUp: true, lastPollMs: 8760 }] });
  assert.equal(r.isHealthy, true);
  assert.deepEqual((r.body as { routers: unknown[] }).routers, [{ name: 'a', state: 'up', last_poll_age_seconds: 3 }, { name: 'b', state: 'up', last_poll_age_seconds: 1.2 }]);
});
