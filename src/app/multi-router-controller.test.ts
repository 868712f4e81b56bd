// MultiRouterController (issue 20) without routers: a router's state from what its controller
// knows (pure routerStatusOf), and logins that fail — down with the reason, sanitised; retried,
// except after a wrong password; no login at all without a known password.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuthError, UnreachableError } from '../errors.js';
import { MultiRouterController, routerStatusOf } from './multi-router-controller.js';
import type { RouterServices } from './services.js';
import type { Snapshot } from '../domain/snapshot.js';
import { systemClock } from '../domain/clock.js';

const base = { routerKey: '198.51.100.2:23', label: 'office' };
const NOW = 1_700_000_000_000;
const snapshot = (fields: Partial<Snapshot> = {}): Snapshot => ({ schema: 1, router: '198.51.100.2', atMs: NOW - 1000, hosts: [], totals: { downBytes: 0, upBytes: 0, downBps: 0, upBps: 0 }, pollLatencyMs: 12, connection: { kind: 'connected' }, notices: [], ...fields });

test('routerStatusOf: connecting, up, stale, reconnecting, a failed poll, a failed login', () => {
  const of = (slot: Parameters<typeof routerStatusOf>[1], now = NOW) => routerStatusOf(base, slot, now, 30_000);
  assert.equal(of({ phase: 'connecting', error: null, snapshot: null }).link, 'connecting');
  assert.equal(of({ phase: 'open', error: null, snapshot: null }).reason, 'waiting for the first poll');
  const up = of({ phase: 'open', error: null, snapshot: snapshot() });
  assert.deepEqual([up.state, up.link, up.reason], ['up', 'up', undefined]);
  const stale = of({ phase: 'open', error: null, snapshot: snapshot() }, NOW + 40_000);
  assert.deepEqual([stale.state, stale.reason], ['down', 'no answer for 41 s']);
  const lost = of({ phase: 'open', error: null, snapshot: snapshot({ connection: { kind: 'reconnecting', inMs: 2000, reason: 'the router closed the connection' }, pollLatencyMs: null }) });
  assert.deepEqual([lost.state, lost.reason], ['down', 'the router closed the connection']);
  const failedPoll = of({ phase: 'open', error: null, snapshot: snapshot({ pollLatencyMs: null, notices: [{ level: 'error', text: 'iptables: \u001b[2Jgone', atMs: NOW }] }) });
  assert.equal(failedPoll.state, 'down');
  assert.ok(!failedPoll.reason!.includes('\u001b'), failedPoll.reason);
  const login = of({ phase: 'failed', error: 'Login failed', snapshot: null });
  assert.deepEqual([login.state, login.link, login.reason, login.snapshot], ['down', 'down', 'Login failed', null]);
});

function fakeRouter(name: string, open: () => Promise<never>, isKnown = true): RouterServices & { opens: number } {
  const router = {
    opens: 0,
    settings: { protocol: 'telnet', linkBitsPerSecond: null, neverBlock: [] } as unknown as RouterServices['settings'],
    profiles: null,
    password: { isKnown, get: async () => 'pw' },
    key: `${name}:23`,
    label: `${name}:23 over telnet`,
    isManaged: () => false,
    setManaged: () => undefined,
    open: async () => {
      router.opens += 1;
      return open();
    },
  };
  return router;
}

test('a login that fails is down with the reason (sanitised) and retried; a wrong password is not; no password: no login', async () => {
  const unreachable = fakeRouter('lab', () => Promise.reject(new UnreachableError('lab refused the connection \u001b[31m(ECONNREFUSED)')));
  const wrong = fakeRouter('home', () => Promise.reject(new AuthError('Login failed: wrong user or password.')));
  const unknown = fakeRouter('office', () => Promise.reject(new Error('not called')), false);
  const multi = new MultiRouterController({
    routers: [
      { name: 'lab', services: unreachable },
      { name: 'home', services: wrong },
      { name: 'office', services: unknown },
    ],
    clock: systemClock,
    store: null,
    topology: {},
    retryAfterMs: 30,
  });
  let changes = 0;
  const stop = multi.subscribe(() => (changes += 1));
  try {
    assert.deepEqual(multi.statuses(Date.now()).map((s) => s.link), ['connecting', 'connecting', 'connecting']);
    await multi.connectAll();
    const [lab, home, office] = multi.statuses(Date.now());
    assert.deepEqual([lab!.link, home!.link, office!.link], ['down', 'down', 'down']);
    assert.match(lab!.reason!, /^lab refused the connection .*\(ECONNREFUSED\)$/);
    assert.ok(!lab!.reason!.includes('\u001b'));
    assert.equal(home!.reason, 'Login failed: wrong user or password.');
    assert.match(office!.reason!, /no password known for office: save it \(lantop --profile office config save-password\) or set LANTOP_PASSWORD_OFFICE/);
    assert.ok(changes > 0);
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.ok(unreachable.opens >= 2, `an unreachable router is tried again (${unreachable.opens})`);
    assert.equal(wrong.opens, 1, 'a wrong password is not tried again');
    assert.equal(unknown.opens, 0);
    // A screen that watches a router that is down starts no login of its own (and nothing rejects unheard).
    const before = wrong.opens;
    const seen: Snapshot[] = [];
    const unwatch = multi.entries[1]!.controller.watch((s) => seen.push(s));
    await new Promise((resolve) => setTimeout(resolve, 20));
    unwatch();
    assert.equal(wrong.opens, before);
    assert.deepEqual(seen, []);
    assert.equal(multi.entries[1]!.controller.label, 'home:23 over telnet');
  } finally {
    stop();
    await multi.close();
  }
  const opens = unreachable.opens;
  await new Promise((resolve) => setTimeout(resolve, 80));
  assert.equal(unreachable.opens, opens, 'no retry after close');
});
