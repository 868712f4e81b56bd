import { test } from 'node:test';
import assert from 'node:assert/strict';
import { host, makeSnapshot } from '../../../test/fakes/fake-controller.js';
import { keyOf } from '../../../test/fakes/fake-terminal.js';
import { initialLiveState, liveReducer, SAMPLE_LIMIT, sortHosts, topTalker, type LiveState } from './use-live-state.js';
import { liveKeyAction } from './use-live.js';

const at = (seconds: number, hosts = [host('198.51.100.10', { downBps: seconds * 10, upBps: 1 })]) =>
  makeSnapshot(hosts, { atMs: 1_700_000_000_000 + seconds * 1000 });

test('each new snapshot adds one ↓+↑ sample per host, capped at the last minute', () => {
  let state: LiveState = initialLiveState;
  for (let s = 1; s <= SAMPLE_LIMIT + 15; s += 1) state = liveReducer(state, { type: 'snapshot', snapshot: at(s) });
  const samples = state.samples.get('ip:198.51.100.10') ?? [];
  assert.equal(samples.length, SAMPLE_LIMIT);
  assert.equal(samples[samples.length - 1], (SAMPLE_LIMIT + 15) * 10 + 1);
  assert.equal(samples[0], 16 * 10 + 1);
});

test('a repeated or older snapshot adds no sample; hosts that leave lose their samples', () => {
  let state = liveReducer(initialLiveState, { type: 'snapshot', snapshot: at(5) });
  state = liveReducer(state, { type: 'snapshot', snapshot: at(5) });
  state = liveReducer(state, { type: 'snapshot', snapshot: at(4) });
  assert.deepEqual(state.samples.get('ip:198.51.100.10'), [51]);
  assert.equal(state.snapshot?.atMs, at(5).atMs);
  state = liveReducer(state, { type: 'snapshot', snapshot: at(6, [host('198.51.100.11', { downBps: 7 })]) });
  assert.equal(state.samples.has('ip:198.51.100.10'), false);
  assert.deepEqual(state.samples.get('ip:198.51.100.11'), [7]);
});

test('samples follow the identity: a device that moves to another address (or to IPv6) keeps its sparkline', () => {
  const mac = '02:00:00:00:00:10';
  let state = liveReducer(initialLiveState, { type: 'snapshot', snapshot: at(1, [host('198.51.100.10', { mac, downBps: 5 })]) });
  state = liveReducer(state, { type: 'snapshot', snapshot: at(2, [host('198.51.100.20', { mac, downBps: 6 })]) });
  state = liveReducer(state, { type: 'snapshot', snapshot: at(3, [host('2001:db8::10', { mac, downBps: 7 })]) });
  assert.deepEqual([...state.samples.keys()], [mac]);
  assert.deepEqual(state.samples.get(mac), [5, 6, 7]);
});

test('sorting: d/u by rate, t by total bytes, n by name with nameless hosts last; ties by IP', () => {
  const hosts = [
    host('198.51.100.10', { hostname: 'tv', downBps: 10, upBps: 500, downBytes: 1, upBytes: 1 }),
    host('198.51.100.9', { hostname: null, downBps: 900, upBps: 5, downBytes: 10, upBytes: 0 }),
    host('198.51.100.2', { hostname: 'Alpha', downBps: 50, upBps: 50, downBytes: 9_000, upBytes: 0 }),
    host('198.51.100.3', { hostname: null, downBps: 50, upBps: 0, downBytes: 0, upBytes: 0 }),
  ];
  const ips = (key: Parameters<typeof sortHosts>[1]) => sortHosts(hosts, key).map((h) => h.ip);
  assert.deepEqual(ips('down'), ['198.51.100.9', '198.51.100.2', '198.51.100.3', '198.51.100.10']);
  assert.deepEqual(ips('up'), ['198.51.100.10', '198.51.100.2', '198.51.100.9', '198.51.100.3']);
  assert.deepEqual(ips('total'), ['198.51.100.2', '198.51.100.9', '198.51.100.10', '198.51.100.3']);
  assert.deepEqual(ips('name'), ['198.51.100.2', '198.51.100.10', '198.51.100.3', '198.51.100.9']);
  assert.equal(topTalker(hosts)?.ip, '198.51.100.9');
  assert.equal(topTalker([host('198.51.100.1')]), null);
});

test('sorting ties fall back to address order: IPv4 numerically, then IPv6', () => {
  const idle = ['2001:db8::10', '198.51.100.10', '2001:db8::9', '198.51.100.9'].map((ip) => host(ip));
  for (const key of ['down', 'up', 'total', 'name'] as const) {
    assert.deepEqual(sortHosts(idle, key).map((h) => h.ip), ['198.51.100.9', '198.51.100.10', '2001:db8::9', '2001:db8::10'], key);
  }
});

test('sort resets the scroll; scrolling is clamped to the host count', () => {
  const many = makeSnapshot(Array.from({ length: 50 }, (_, i) => host(`198.51.100.${i + 1}`)));
  let state = liveReducer(initialLiveState, { type: 'snapshot', snapshot: many });
  state = liveReducer(state, { type: 'scroll', action: 'end', viewportRows: 10 });
  assert.equal(state.scrollTop, 40);
  state = liveReducer(state, { type: 'sort', sortKey: 'name' });
  assert.equal(state.scrollTop, 0);
  assert.equal(state.sortKey, 'name');
});

test('live keys: d/u/t/n sort, arrows and pages scroll, q/Esc go back, Ctrl combos are ignored', () => {
  assert.deepEqual(liveKeyAction('u', keyOf(), 10), { type: 'sort', sortKey: 'up' });
  assert.deepEqual(liveKeyAction('t', keyOf(), 10), { type: 'sort', sortKey: 'total' });
  assert.deepEqual(liveKeyAction('', keyOf({ pageDown: true }), 10), { type: 'scroll', action: 'pageDown', viewportRows: 10 });
  assert.deepEqual(liveKeyAction('q', keyOf(), 10), { type: 'back' });
  assert.deepEqual(liveKeyAction('', keyOf({ escape: true, meta: true }), 10), { type: 'back' });
  assert.equal(liveKeyAction('d', keyOf({ ctrl: true }), 10), null);
  assert.equal(liveKeyAction('x', keyOf(), 10), null);
});
