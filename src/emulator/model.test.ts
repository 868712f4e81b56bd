import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createRouterModel, rebootModel, HOSTILE_HOSTNAMES, type RouterModel } from './model.js';
import { advanceModel } from './model-simulation.js';
import { formatDhcpLeases, formatLanHosts, formatProcNetArp } from './model-formats.js';
import { runIptables } from './iptables.js';

const HOUR = 3_600_000;

function addRules(model: RouterModel, ips: string[]): void {
  runIptables(model.iptables, ['-N', 'TRAFFIC']);
  runIptables(model.iptables, ['-I', 'FORWARD', '-j', 'TRAFFIC']);
  for (const ip of ips) {
    runIptables(model.iptables, ['-A', 'TRAFFIC', '-i', 'ppp0', '-d', ip]);
    runIptables(model.iptables, ['-A', 'TRAFFIC', '-s', ip, '-o', 'ppp0']);
  }
}

describe('router model', () => {
  test('a seed gives the same LAN and the same traffic; another seed does not', () => {
    const run = (seed: number) => {
      const model = createRouterModel({ seed });
      addRules(model, model.hosts.map((host) => host.ip));
      for (let i = 0; i < 30; i++) advanceModel(model, model.nowMs + 10_000);
      return runIptables(model.iptables, ['-L', '-v', '-x', '-n']).stdout + formatLanHosts(model);
    };
    assert.equal(run(42), run(42));
    assert.notEqual(run(42), run(43));
  });

  test('one long tick and many short ones simulate the same seconds', () => {
    const a = createRouterModel({ seed: 9 });
    const b = createRouterModel({ seed: 9 });
    advanceModel(a, a.nowMs + 120_000);
    for (let i = 0; i < 240; i++) advanceModel(b, b.nowMs + 500);
    assert.deepEqual(a.hosts.map((h) => [h.downBytes, h.upBytes]), b.hosts.map((h) => [h.downBytes, h.upBytes]));
  });

  test('eight hosts by default, addresses only in 198.51.100.0/24, peers only in 203.0.113.0/24', () => {
    const model = createRouterModel({ seed: 1 });
    assert.equal(model.hosts.filter((host) => host.isOnline).length, 8);
    for (const host of model.hosts) {
      assert.match(host.ip, /^198\.51\.100\.(\d+)$/);
      assert.match(host.wanPeer, /^203\.0\.113\.\d+$/);
    }
    assert.equal(new Set(model.hosts.map((h) => h.mac)).size, model.hosts.length);
    assert.throws(() => createRouterModel({ hosts: [{ hostname: 'x', ip: '192.0.2.1' }] }), /outside 198\.51\.100\.0\/24/);
    assert.equal(createRouterModel({ hostCount: 250 }).hosts.length, 250);
  });

  test('rates are plausible: the downloader leads, the line capacity is never exceeded', () => {
    const model = createRouterModel({ seed: 3, churn: false });
    const totals = new Map<string, number>();
    for (let second = 0; second < 600; second++) {
      advanceModel(model, model.nowMs + 1000);
      const down = model.hosts.reduce((sum, host) => sum + host.downBytesPerSecond, 0);
      const up = model.hosts.reduce((sum, host) => sum + host.upBytesPerSecond, 0);
      assert.ok(down <= model.lineDownBytesPerSecond + model.hosts.length, `down ${down}`);
      assert.ok(up <= model.lineUpBytesPerSecond + model.hosts.length, `up ${up}`);
    }
    for (const host of model.hosts) totals.set(host.kind, (totals.get(host.kind) ?? 0) + host.downBytes);
    const downloader = totals.get('downloader') ?? 0;
    for (const [kind, bytes] of totals) if (kind !== 'downloader') assert.ok(bytes < downloader, `${kind} below the downloader`);
    const iot = model.hosts.find((host) => host.kind === 'iot');
    assert.ok(iot && iot.downBytes > 0 && iot.downBytes < 600 * 1000);
  });

  test('counters grow only for hosts that have rules, and match what those hosts moved', () => {
    const model = createRouterModel({ seed: 5, churn: false });
    const [counted] = model.hosts;
    assert.ok(counted);
    addRules(model, [counted.ip]);
    advanceModel(model, model.nowMs + 300_000);
    const traffic = model.iptables.tables.get('filter')?.chains.find((chain) => chain.name === 'TRAFFIC');
    assert.deepEqual(traffic?.rules.map((rule) => rule.bytes), [BigInt(counted.downBytes), BigInt(counted.upBytes)]);
    const jump = model.iptables.tables.get('filter')?.chains.find((chain) => chain.name === 'FORWARD')?.rules[0];
    const everything = model.hosts.reduce((sum, host) => sum + host.downBytes + host.upBytes, 0);
    assert.equal(jump?.bytes, BigInt(everything));
    assert.ok(everything > counted.downBytes + counted.upBytes);
  });

  test('DHCP churn: over a few hours hosts leave and join, ARP entries age to 0x0 and leases lapse', () => {
    const model = createRouterModel({ seed: 8 });
    const seen = new Set<string>();
    let sawIncomplete = false;
    const before = formatLanHosts(model);
    for (let minute = 0; minute < 6 * 60; minute++) {
      advanceModel(model, model.nowMs + 60_000);
      seen.add(model.hosts.map((h) => (h.isOnline ? '1' : '0')).join(''));
      if (formatProcNetArp(model).includes('0x0         00:00:00:00:00:00')) sawIncomplete = true;
    }
    assert.ok(seen.size > 3, 'the set of online hosts changes');
    assert.ok(sawIncomplete, 'a departed host shows as an incomplete ARP entry for a while');
    assert.notEqual(formatLanHosts(model), before);
    const always = model.hosts.find((host) => host.kind === 'downloader');
    assert.equal(always?.isOnline, true);
  });

  test('reboot: iptables empty, counters and uptime zero, leases only for hosts still there', () => {
    const model = createRouterModel({ seed: 2, churn: false });
    addRules(model, [model.hosts[0]?.ip ?? '']);
    advanceModel(model, model.nowMs + HOUR);
    rebootModel(model);
    assert.equal(runIptables(model.iptables, ['-S']).stdout, '-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT\n');
    assert.equal(model.nowMs - model.bootedAtMs, 0);
    assert.equal(formatProcNetArp(model).split('\n').length, 2);
    advanceModel(model, model.nowMs + 5_000);
    assert.equal(formatProcNetArp(model).trim().split('\n').length, 1 + model.hosts.filter((h) => h.isOnline).length);
    assert.match(runIptables(model.iptables, ['-L', 'FORWARD', '-v', '-x', '-n']).stdout, /^Chain FORWARD \(policy ACCEPT \d+ packets, \d+ bytes\)/);
  });

  test('hostile names reach lanhosts raw (the client must sanitise); dnsmasq keeps only legal names', () => {
    const model = createRouterModel({ hosts: HOSTILE_HOSTNAMES.map((hostname) => ({ hostname })) });
    const lanhosts = formatLanHosts(model);
    for (const name of HOSTILE_HOSTNAMES) assert.ok(lanhosts.includes(name));
    const leases = formatDhcpLeases(model).trim().split('\n');
    assert.equal(leases.length, HOSTILE_HOSTNAMES.length);
    for (const row of leases) assert.equal(row.split(' ')[3], '*');
  });
});
