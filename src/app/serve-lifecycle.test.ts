import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareSettings, RouterHealthTracker, staleAfterMs, withTimeout } from './serve-lifecycle.js';
import type { LogEvent } from './serve-log.js';
import type { Snapshot } from '../domain/snapshot.js';
import { resolveSettings } from '../config/resolve.js';

function snap(atMs: number, ok: boolean): Snapshot {
  return {
    schema: 1,
    router: 'r:23',
    atMs,
    hosts: [],
    totals: { downBytes: 0, upBytes: 0, downBps: 0, upBps: 0 },
    pollLatencyMs: ok ? 12 : null,
    connection: ok ? { kind: 'connected' } : { kind: 'reconnecting', inMs: 2000, reason: 'connection reset' },
    notices: [],
  } as unknown as Snapshot;
}

test('the health tracker: up after a good poll, one line when it goes down and one when it is back', () => {
  const events: LogEvent[] = [];
  const t = new RouterHealthTracker('r:23', 'home', (e) => events.push(e));
  assert.deepEqual(t.health, { name: 'home', isUp: false, lastPollMs: null }, 'not polled yet');
  assert.equal(t.isReachable, true, 'logged in: worth a last poll');
  t.onSnapshot('r:23', snap(1000, true));
  t.onSnapshot('other:23', snap(1500, false));
  assert.deepEqual(t.health, { name: 'home', isUp: true, lastPollMs: 1000 });
  t.onSnapshot('r:23', snap(2000, false));
  t.onSnapshot('r:23', snap(4000, false));
  assert.deepEqual(t.health, { name: 'home', isUp: false, lastPollMs: 1000 });
  assert.equal(t.isReachable, false);
  t.onSnapshot('r:23', snap(5000, true));
  assert.deepEqual(events, [
    { level: 'warn', event: 'router-down', router: 'r:23', message: 'cannot poll the router: connection reset (reconnecting in 2 s)' },
    { level: 'info', event: 'router-up', router: 'r:23', message: 'polling again' },
  ]);
});

test('compareSettings: the never-block list applies now; the session settings wait for a restart', () => {
  const a = resolveSettings({}, { LANTOP_HOST: '192.0.2.1' }, { neverBlock: '02:00:5e:10:00:01' }, 'home');
  assert.deepEqual(compareSettings(a, a), { isNeverBlockChanged: false, needsRestart: [] });
  const b = resolveSettings({}, { LANTOP_HOST: '192.0.2.9', LANTOP_WAN: 'eth0', LANTOP_TIMEOUT: '5000' }, { neverBlock: '02:00:5e:10:00:02' }, 'home');
  assert.deepEqual(compareSettings(a, b), { isNeverBlockChanged: true, needsRestart: ['host', 'wan', 'timeout'] });
});

test('staleAfterMs: three intervals, at least 30 s; withTimeout gives null when late or failed', async () => {
  assert.equal(staleAfterMs(2000), 30_000);
  assert.equal(staleAfterMs(60_000), 180_000);
  assert.equal(await withTimeout(Promise.resolve(7), 1000), 7);
  assert.equal(await withTimeout(new Promise(() => undefined), 10), null);
  assert.equal(await withTimeout(Promise.reject(new Error('x')), 1000), null);
});
