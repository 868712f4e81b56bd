// Dual-stack hosts of the openwrt-fw4 model: addresses from 2001:db8:1::/64 (one stable, plus a
// temporary one on phones, tablets and laptops), link-local EUI-64 addresses, daily temporary
// address rotation, traffic split between the families, and both `ip neigh` formats read back by
// lantop's own parser. The IPv4-only flavours stay as they were.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRouterModel } from './model.js';
import { advanceModel } from './model-simulation.js';
import { formatIpNeighbours, preferredIpv6 } from './model-ipv6.js';
import { parseIpv6NeighboursReport } from '../router/parsers/ipv6-neighbours.js';
import { parseArpTable } from '../router/parsers/arp-table.js';

test('every host has one or two global IPv6 addresses in 2001:db8:1::/64 and a link-local one', () => {
  const model = createRouterModel({ flavour: 'openwrt-fw4', seed: 11 });
  assert.equal(model.lanInterface, 'br-lan');
  assert.equal(model.wanInterface, 'pppoe-wan');
  for (const host of model.hosts) {
    const kinds = host.ipv6.map((a) => a.kind);
    assert.ok(kinds.length >= 1 && kinds.length <= 2 && kinds[0] === 'stable', `${host.hostname}: ${kinds.join(',')}`);
    assert.equal(kinds.includes('temporary'), ['phone', 'tablet', 'laptop'].includes(host.kind), host.kind);
    for (const { address } of host.ipv6) assert.match(address, /^2001:db8:1:0?:[0-9a-f:]+$/);
    assert.match(host.linkLocal ?? '', /^fe80::[0-9a-f]{1,4}:[0-9a-f]{1,4}ff:fe[0-9a-f]{2}:[0-9a-f]{1,4}$/);
    assert.match(host.wanPeer6 ?? '', /^2001:db8:ff00::/);
  }
  const all = model.hosts.flatMap((h) => h.ipv6.map((a) => a.address));
  assert.equal(new Set(all).size, all.length, 'no address twice');
});

test('traffic goes over both families; IPv4-only flavours have no IPv6 at all', () => {
  const model = createRouterModel({ flavour: 'openwrt-fw4', seed: 4, churn: false });
  advanceModel(model, model.nowMs + 300_000);
  const down = model.hosts.reduce((s, h) => s + h.downBytes, 0);
  const down6 = model.hosts.reduce((s, h) => s + h.downBytes6, 0);
  assert.ok(down6 > down * 0.2 && down6 < down * 0.8, `IPv6 share ${down6 / down}`);
  for (const flavour of ['broadcom', 'busybox'] as const) {
    const plain = createRouterModel({ flavour, seed: 4 });
    advanceModel(plain, plain.nowMs + 60_000);
    assert.ok(plain.hosts.every((h) => h.ipv6.length === 0 && h.downBytes6 === 0 && h.linkLocal === null), flavour);
    assert.equal(plain.nft, null);
  }
});

test('a temporary address is replaced after a day; the old one lingers, then goes', () => {
  const model = createRouterModel({ flavour: 'openwrt-fw4', seed: 2, churn: false, traffic: false });
  const phone = model.hosts.find((h) => h.kind === 'phone' && h.isOnline);
  assert.ok(phone);
  const first = preferredIpv6(phone);
  advanceModel(model, model.nowMs + 86_400_000);
  const second = preferredIpv6(phone);
  assert.notEqual(second, first);
  assert.ok(phone.ipv6.some((a) => a.address === first && a.isDeprecated), 'the old one is still there');
  advanceModel(model, model.nowMs + 2 * 86_400_000);
  assert.ok(!phone.ipv6.some((a) => a.address === first), 'and gone after its valid lifetime');
  assert.ok(phone.ipv6.filter((a) => a.kind === 'temporary').length <= 2);
});

test('ip neigh in BusyBox and iproute2 format: every entry read back, MACs as the hosts have them', () => {
  const model = createRouterModel({ flavour: 'openwrt-fw4', seed: 6 });
  const byMac = new Map(model.hosts.map((h) => [h.mac, h]));
  for (const style of ['busybox', 'iproute2'] as const) {
    const text = formatIpNeighbours(model, 6, style);
    const report = parseIpv6NeighboursReport(text);
    assert.deepEqual(report.formats, [style]);
    assert.equal(report.entries.length, text.trim().split('\n').length);
    for (const entry of report.entries) {
      const host = byMac.get(entry.mac ?? '');
      assert.ok(host && (host.linkLocal === entry.ip || host.ipv6.some((a) => a.address === entry.ip)), entry.ip);
    }
    const v4 = parseArpTable(formatIpNeighbours(model, 4, style));
    assert.deepEqual(v4.map((e) => e.ip).sort(), model.hosts.filter((h) => h.arp !== 'absent').map((h) => h.ip).sort());
  }
  assert.match(formatIpNeighbours(model, 6, 'iproute2'), / REACHABLE \n/);
  assert.match(formatIpNeighbours(model, 6, 'busybox'), / ref 1 used \d+\/\d+\/\d+ probes 1 REACHABLE\n/);
});
