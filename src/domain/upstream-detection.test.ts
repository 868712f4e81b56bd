import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectUpstreams, mergeTopology, type DetectionInput } from './upstream-detection.js';
import { combineSnapshots } from './multi-router.js';

const A = 'home:23';
const B = 'office:23';
const input = (routerKey: string, label: string, ownAddresses: string[] | null, lanAddresses: string[] | null): DetectionInput => ({ routerKey, label, ownAddresses, lanAddresses });

test('detectUpstreams: B\'s own address is a host on A\'s LAN → B is behind A, with the address as its uplink', () => {
  const found = detectUpstreams([
    input(A, 'home', ['203.0.113.7', '198.51.100.1'], ['198.51.100.10', '198.51.100.50']),
    input(B, 'office', ['198.51.100.50', '192.0.2.1', '127.0.0.1'], ['192.0.2.20']),
  ]);
  assert.deepEqual(found.upstreamOf, { [B]: A });
  assert.deepEqual(found.uplinkAddressesOf, { [B]: ['198.51.100.50'] });
  assert.equal(found.reasonOf[B], "detected: office's address 198.51.100.50 is a host on home's LAN");
  assert.deepEqual(found.notices, []);
});

test('detectUpstreams: the other direction (A behind B) is found the same way', () => {
  const found = detectUpstreams([
    input(A, 'home', ['192.0.2.20'], ['198.51.100.10']),
    input(B, 'office', ['192.0.2.1'], ['192.0.2.20', '192.0.2.30']),
  ]);
  assert.deepEqual(found.upstreamOf, { [A]: B });
  assert.deepEqual(found.uplinkAddressesOf, { [A]: ['192.0.2.20'] });
});

test('detectUpstreams: no address in common, unread addresses or no snapshot → no relation', () => {
  assert.deepEqual(detectUpstreams([input(A, 'home', ['198.51.100.1'], ['198.51.100.10']), input(B, 'office', ['192.0.2.1'], ['192.0.2.20'])]).upstreamOf, {});
  assert.deepEqual(detectUpstreams([input(A, 'home', null, ['198.51.100.50']), input(B, 'office', null, null)]).upstreamOf, {});
  assert.deepEqual(detectUpstreams([input(A, 'home', ['198.51.100.1'], null), input(B, 'office', ['198.51.100.50'], null)]).upstreamOf, {});
  // IPv6 and loopback are never an uplink.
  assert.deepEqual(detectUpstreams([input(A, 'home', [], ['2001:db8::5', '127.0.0.1']), input(B, 'office', ['2001:db8::5', '127.0.0.1'], [])]).upstreamOf, {});
});

test('detectUpstreams: each on the other\'s LAN (two gateways of one LAN) → none, one notice naming the setting', () => {
  const found = detectUpstreams([
    input(A, 'home', ['198.51.100.1'], ['198.51.100.2']),
    input(B, 'office', ['198.51.100.2'], ['198.51.100.1']),
  ]);
  assert.deepEqual(found.upstreamOf, {});
  assert.equal(found.notices.length, 1);
  assert.equal(found.notices[0]!.text, "home's address 198.51.100.1 is a host on office's LAN and office's 198.51.100.2 on home's (one LAN with two gateways?): neither is taken as behind the other; if one is, set it: lantop --profile home config set upstream NAME (or none)");
  assert.deepEqual(found.explainedKeys.sort(), [A, B].sort());
});

test('detectUpstreams: a router whose addresses are hosts on two LANs → none, with a notice', () => {
  const C = 'shed:23';
  const found = detectUpstreams([
    input(A, 'home', [], ['198.51.100.50']),
    input(B, 'office', ['198.51.100.50', '192.0.2.9'], []),
    input(C, 'shed', [], ['192.0.2.9']),
  ]);
  assert.deepEqual(found.upstreamOf, {});
  assert.deepEqual(found.notices.map((n) => n.text), ["office's addresses are hosts on home's LAN (198.51.100.50) and on shed's LAN (192.0.2.9): its upstream is not detected; set it: lantop --profile office config set upstream NAME (or none)"]);
});

test('mergeTopology: the setting wins (none included); otherwise the detection, said in the notices', () => {
  const detected = detectUpstreams([input(A, 'home', [], ['198.51.100.50']), input(B, 'office', ['198.51.100.50'], [])]);
  const none = mergeTopology({ upstreamOf: { [B]: 'none' }, uplinkAddressesOf: { [B]: ['10.0.0.2'] } }, detected);
  assert.deepEqual(none.upstreamOf, { [B]: 'none' });
  assert.deepEqual(none.uplinkAddressesOf, { [B]: ['10.0.0.2'] });
  const set = mergeTopology({ upstreamOf: { [B]: A } }, null);
  assert.deepEqual(set.reasonOf, { [B]: 'setting upstream' });
  const merged = mergeTopology({ uplinkAddressesOf: { [B]: ['10.0.0.2'] } }, detected);
  assert.deepEqual(merged.upstreamOf, { [B]: A });
  assert.deepEqual(merged.uplinkAddressesOf, { [B]: ['10.0.0.2', '198.51.100.50'] });
  // Ambiguity decided by the settings of both is not repeated.
  const both = detectUpstreams([input(A, 'home', ['198.51.100.1'], ['198.51.100.2']), input(B, 'office', ['198.51.100.2'], ['198.51.100.1'])]);
  assert.equal(mergeTopology({ upstreamOf: { [A]: 'none', [B]: 'none' } }, both).notices!.length, 0);
  assert.equal(mergeTopology({ upstreamOf: { [A]: 'none' } }, both).notices!.length, 1);
});

test('combineSnapshots with a detected topology: the relation and how it is known are in the notices', () => {
  const snap = (hosts: { ip: string; mac: string | null; down: number }[]) => ({
    atMs: 1000,
    hosts: hosts.map((h) => ({ identity: h.mac ?? `ip:${h.ip}`, ip: h.ip, addresses: [h.ip], mac: h.mac, hostname: null, downBytes: h.down, upBytes: 0, downBps: 0, upBps: 0, downShare: 0, upShare: 0, isCounted: true })),
    totals: { downBytes: hosts.reduce((s, h) => s + h.down, 0), upBytes: 0, downBps: 0, upBps: 0 },
    notices: [],
    connection: { kind: 'connected' },
    pollLatencyMs: 5,
  });
  const detected = detectUpstreams([input(A, 'home', [], ['198.51.100.50', '198.51.100.10']), input(B, 'office', ['198.51.100.50'], ['192.0.2.20'])]);
  const view = combineSnapshots(
    [
      { routerKey: A, label: 'home', state: 'up', snapshot: snap([{ ip: '198.51.100.50', mac: '02:00:00:00:00:50', down: 700 }, { ip: '198.51.100.10', mac: '02:00:00:00:00:10', down: 300 }]) as never },
      { routerKey: B, label: 'office', state: 'up', snapshot: snap([{ ip: '192.0.2.20', mac: '02:00:00:00:00:20', down: 650 }]) as never },
    ],
    mergeTopology({}, detected),
  );
  assert.deepEqual(view.total, { downBytes: 1000, upBytes: 0, downBps: 0, upBps: 0 });
  assert.equal(view.routers[0]!.rows[0]!.viaRouterKey, B);
  assert.equal(view.routers[1]!.countedByKey, A);
  assert.deepEqual(view.notices, ["office is behind home (detected: office's address 198.51.100.50 is a host on home's LAN); counted on home's WAN only"]);
});
