import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseArpTable, parseArpTableReport } from './arp-table.js';
import { readFixture } from '../../../test/fixtures.js';

// The same four neighbours were captured in one namespace with every tool (fixtures/capture-fixtures.sh):
// two live LAN hosts, the WAN peer on ppp0, and 198.51.100.99 which never answered.
const lanLive = [
  { ip: '198.51.100.10', mac: '02:00:00:00:00:10', iface: 'br0', isComplete: true },
  { ip: '198.51.100.11', mac: '02:00:00:00:00:11', iface: 'br0', isComplete: true },
];
const wanPeerIp = '203.0.113.1';

describe('parseArpTable on real captures', () => {
  const files: Array<[string, string]> = [
    ['generic-linux/debian-12/proc-net-arp.txt', 'proc-net-arp'],
    ['generic-linux/debian-12/arp-a.txt', 'arp-a'],
    ['generic-linux/debian-12/arp-an.txt', 'arp-a'],
    ['generic-linux/debian-12/arp-n.txt', 'arp-n'],
    ['generic-linux/debian-12/ip-neigh.txt', 'ip-neigh'],
    ['generic-linux/debian-12/ip-s-neigh.txt', 'ip-neigh'],
    ['busybox/1.35.0/busybox-arp-a.txt', 'arp-a'],
    ['busybox/1.35.0/busybox-arp-n.txt', 'arp-a'],
    ['busybox/1.35.0/busybox-ip-neigh.txt', 'ip-neigh'],
  ];
  for (const [file, format] of files) {
    test(file, () => {
      const report = parseArpTableReport(readFixture(file));
      assert.deepEqual(report.skipped, []);
      assert.deepEqual(report.formats, [format]);
      const byIp = new Map(report.entries.map((e) => [e.ip, e]));
      for (const host of lanLive) assert.deepEqual(byIp.get(host.ip), host);
      const wan = byIp.get(wanPeerIp);
      assert.equal(wan?.iface, 'ppp0');
      assert.equal(wan?.isComplete, true);
      const dead = byIp.get('198.51.100.99');
      assert.equal(dead?.isComplete, false);
      assert.equal(dead?.mac, null);
      assert.equal(report.entries.length, 4);
    });
  }

  test('ip neigh show nud all: NOARP multicast and 0.0.0.0 are not hosts; IPv6 ignored', () => {
    const entries = parseArpTable(readFixture('generic-linux/debian-12/ip-neigh-show-nud-all.txt'));
    assert.ok(entries.every((e) => e.ip.includes('.')));
    const multicast = entries.find((e) => e.ip === '224.0.0.22');
    assert.equal(multicast?.isComplete, false);
    assert.equal(entries.find((e) => e.ip === '0.0.0.0')?.isComplete, false);
    assert.equal(entries.filter((e) => e.isComplete).length, 3);
  });
});

describe('Broadcom `arp show` (reconstructed, /proc/net/arp layout)', () => {
  test('flags 0x0 / zero MAC is not live; duplicates kept for discovery to merge', () => {
    const entries = parseArpTable(readFixture('broadcom-cli/cms-cli-lanhosts/arp-show.txt'));
    assert.equal(entries.length, 7);
    assert.deepEqual(entries[4], { ip: '198.51.100.14', mac: null, iface: 'br0', isComplete: false });
    assert.equal(entries.filter((e) => e.ip === '198.51.100.10').length, 2);
  });
  test('echo, prompt and log lines are skipped and reported', () => {
    const text = 'arp show\n' + readFixture('broadcom-cli/cms-cli-lanhosts/arp-show.txt') + 'br0: port 1(eth0) entering disabled state\n > ';
    const report = parseArpTableReport(text);
    assert.equal(report.entries.length, 7);
    assert.deepEqual(report.skipped.map((s) => s.trim()), ['arp show', 'br0: port 1(eth0) entering disabled state', '>']);
  });
  test('PERM flag and upper-case MAC from net-tools', () => {
    const [entry] = parseArpTable('? (198.51.100.7) at 02:AB:00:00:00:07 [ether] PERM on br0');
    assert.deepEqual(entry, { ip: '198.51.100.7', mac: '02:ab:00:00:00:07', iface: 'br0', isComplete: true });
  });
});
