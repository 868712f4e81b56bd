import { test } from 'node:test';
import assert from 'node:assert/strict';
import { host, makeSnapshot } from '../../../test/fakes/fake-controller.js';
import { keyOf } from '../../../test/fakes/fake-terminal.js';
import { initialLiveState, liveReducer, liveWindow, SAMPLE_LIMIT, shownHosts, sortHosts, topTalker, type LiveAction, type LiveState } from './use-live-state.js';
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

test('sort resets the scroll; the cursor keys are clamped to the host count', () => {
  const many = makeSnapshot(Array.from({ length: 50 }, (_, i) => host(`198.51.100.${i + 1}`)));
  let state = liveReducer(initialLiveState, { type: 'snapshot', snapshot: many });
  state = liveReducer(state, { type: 'scroll', action: 'end', viewportRows: 10 });
  assert.equal(state.scrollTop, 40);
  state = liveReducer(state, { type: 'sort', sortKey: 'name' });
  assert.equal(state.scrollTop, 0);
  assert.equal(state.sortKey, 'name');
});

test('live keys: d/u/t/n sort, arrows and pages move the cursor, q/Esc go back, Ctrl combos are ignored', () => {
  assert.deepEqual(liveKeyAction('u', keyOf(), 10), { type: 'sort', sortKey: 'up' });
  assert.deepEqual(liveKeyAction('t', keyOf(), 10), { type: 'sort', sortKey: 'total' });
  assert.deepEqual(liveKeyAction('', keyOf({ pageDown: true }), 10), { type: 'scroll', action: 'pageDown', viewportRows: 10 });
  assert.deepEqual(liveKeyAction('q', keyOf(), 10), { type: 'back' });
  assert.deepEqual(liveKeyAction('', keyOf({ escape: true, meta: true }), 10), { type: 'back' });
  assert.equal(liveKeyAction('d', keyOf({ ctrl: true }), 10), null);
  assert.equal(liveKeyAction('x', keyOf(), 10), null);
});

// --- the row cursor (issue 19) ---------------------------------------------------------------

const named = (n: number, downBps: number) => host(`198.51.100.${n}`, { hostname: `h${n}`, mac: `02:00:00:00:00:${String(n).padStart(2, '0')}`, downBps });
const selected = (state: LiveState, viewportRows = 3) => {
  const hosts = shownHosts(state);
  return hosts[liveWindow(state, hosts, viewportRows).index]?.hostname;
};

test('cursor: starts on the first row shown, moves by row and page, stops at the ends, and the viewport follows it', () => {
  const hosts = Array.from({ length: 10 }, (_, i) => named(i + 1, 1000 - i));
  let state = liveReducer(initialLiveState, { type: 'snapshot', snapshot: at(1, hosts) });
  assert.equal(selected(state), 'h1');
  state = liveReducer(state, { type: 'scroll', action: 'up', viewportRows: 3 });
  assert.equal(selected(state), 'h1', 'nothing above the first row');
  for (let i = 0; i < 3; i += 1) state = liveReducer(state, { type: 'scroll', action: 'down', viewportRows: 3 });
  assert.equal(selected(state), 'h4');
  assert.deepEqual(liveWindow(state, shownHosts(state), 3), { first: 1, index: 3 }, 'scrolled one row to show the cursor');
  state = liveReducer(state, { type: 'scroll', action: 'pageDown', viewportRows: 3 });
  assert.equal(selected(state), 'h6');
  state = liveReducer(state, { type: 'scroll', action: 'end', viewportRows: 3 });
  assert.equal(selected(state), 'h10');
  assert.equal(state.scrollTop, 7);
  assert.equal(liveReducer(state, { type: 'scroll', action: 'down', viewportRows: 3 }), state, 'nothing below the last row');
  state = liveReducer(state, { type: 'scroll', action: 'home', viewportRows: 3 });
  assert.deepEqual([selected(state), state.scrollTop], ['h1', 0]);
});

test('cursor: follows the device (not the row) through re-sorts, new polls and family views, scrolling to keep it shown', () => {
  const hosts = Array.from({ length: 10 }, (_, i) => named(i + 1, 1000 - i));
  let state = liveReducer(initialLiveState, { type: 'snapshot', snapshot: at(1, hosts) });
  state = liveReducer(state, { type: 'scroll', action: 'down', viewportRows: 3 });
  assert.equal(selected(state), 'h2');
  // h2 goes quiet: it sorts last, and the cursor goes with it (the viewport too).
  const quiet = hosts.map((h) => (h.hostname === 'h2' ? { ...h, downBps: 0 } : h));
  state = liveReducer(state, { type: 'snapshot', snapshot: at(2, quiet) });
  assert.equal(selected(state), 'h2');
  assert.deepEqual(liveWindow(state, shownHosts(state), 3), { first: 7, index: 9 });
  state = liveReducer(state, { type: 'sort', sortKey: 'name' });
  assert.equal(selected(state), 'h2');
  state = liveReducer(state, { type: 'family' });
  assert.equal(selected(state), 'h2');
  // The next move starts from where the device is now.
  state = liveReducer(state, { type: 'sort', sortKey: 'down' });
  state = liveReducer(state, { type: 'scroll', action: 'up', viewportRows: 3 });
  assert.equal(selected(state), 'h10');
});

test('cursor: a device that leaves hands the cursor to the device now on its row, which keeps it when the first returns', () => {
  const hosts = [named(1, 500), named(2, 400), named(3, 300), named(4, 200)];
  let state = liveReducer(initialLiveState, { type: 'snapshot', snapshot: at(1, hosts) });
  state = liveReducer(state, { type: 'scroll', action: 'down', viewportRows: 3 });
  state = liveReducer(state, { type: 'scroll', action: 'down', viewportRows: 3 });
  assert.equal(selected(state), 'h3');
  state = liveReducer(state, { type: 'snapshot', snapshot: at(2, [hosts[0]!, hosts[1]!, hosts[3]!]) });
  assert.equal(selected(state), 'h4');
  state = liveReducer(state, { type: 'snapshot', snapshot: at(3, hosts) });
  assert.equal(selected(state), 'h4');
  state = liveReducer(state, { type: 'snapshot', snapshot: at(4, []) });
  assert.equal(state.selectedIdentity, null);
});

test('live keys: ↑↓ j k move the cursor, Enter opens the selected device, b asks about the selected device and ←→ moves the cursor with the prompt', () => {
  const hosts = [named(1, 500), named(2, 400), named(3, 300)];
  let state = liveReducer(initialLiveState, { type: 'snapshot', snapshot: at(1, hosts) });
  assert.deepEqual(liveKeyAction('j', keyOf(), 10, state), { type: 'scroll', action: 'down', viewportRows: 10 });
  assert.deepEqual(liveKeyAction('k', keyOf(), 10, state), { type: 'scroll', action: 'up', viewportRows: 10 });
  state = liveReducer(state, liveKeyAction('', keyOf({ downArrow: true }), 10, state) as LiveAction);
  assert.deepEqual(liveKeyAction('', keyOf({ return: true }), 10, state), { type: 'open', device: { identity: '02:00:00:00:00:02', name: 'h2' } });
  const ask = liveKeyAction('b', keyOf(), 10, state) as LiveAction;
  state = liveReducer(state, ask);
  assert.equal(state.block?.kind === 'ask' && state.block.name, 'h2');
  state = liveReducer(state, liveKeyAction('', keyOf({ rightArrow: true }), 10, state) as LiveAction);
  assert.equal(state.block?.kind === 'ask' && state.block.name, 'h3');
  assert.equal(selected(state, 10), 'h3', 'one cursor: the prompt moved it');
  // A nameless device opens under its address; the unattributed IPv6 row opens nothing.
  const nameless = liveReducer(initialLiveState, { type: 'snapshot', snapshot: at(1, [host('198.51.100.40', { downBps: 9 })]) });
  assert.deepEqual(liveKeyAction('', keyOf({ return: true }), 10, nameless), { type: 'open', device: { identity: 'ip:198.51.100.40', name: '198.51.100.40' } });
  const unattributed = liveReducer(initialLiveState, { type: 'snapshot', snapshot: at(1, [host('2001:db8::', { identity: 'unattributed:ipv6', downBps: 9 })]) });
  assert.equal((liveKeyAction('', keyOf({ return: true }), 10, unattributed) as { type: string }).type, 'blockSaid');
});
