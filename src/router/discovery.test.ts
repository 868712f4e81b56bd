import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { discoverHosts } from './discovery.js';
import { parseArpTable } from './parsers/arp-table.js';
import { parseLanHosts } from './parsers/lan-hosts.js';
import { parseDhcpLeases } from './parsers/dhcp-leases.js';
import { parseIpv6Neighbours } from './parsers/ipv6-neighbours.js';
import type { ArpEntry } from './parsers/types.js';
import { compareAddresses } from '../domain/address.js';
import { readFixture } from '../../test/fixtures.js';

describe('discoverHosts', () => {
  test('Broadcom: arp show + lanhosts → live LAN hosts, names by MAC, WAN peer and incomplete out, duplicates merged', () => {
    const arp = parseArpTable(readFixture('broadcom-cli/cms-cli-lanhosts/arp-show.txt'));
    const names = parseLanHosts(readFixture('broadcom-cli/cms-cli-lanhosts/lanhosts-show-all.txt'));
    assert.deepEqual(discoverHosts(arp, names), [
      { identity: '02:00:00:00:00:10', ip: '198.51.100.10', addresses: ['198.51.100.10'], mac: '02:00:00:00:00:10', hostname: 'laptop-h1', iface: 'br0' },
      { identity: '02:00:00:00:00:11', ip: '198.51.100.11', addresses: ['198.51.100.11'], mac: '02:00:00:00:00:11', hostname: null, iface: 'br0' },
      { identity: '02:00:00:00:00:12', ip: '198.51.100.12', addresses: ['198.51.100.12'], mac: '02:00:00:00:00:12', hostname: 'Living Room TV', iface: 'br0' },
      { identity: '02:00:00:00:00:13', ip: '198.51.100.13', addresses: ['198.51.100.13'], mac: '02:00:00:00:00:13', hostname: 'evil;reboot $(id)', iface: 'br0' },
    ]);
  });

  test('real namespace capture: /proc/net/arp + dnsmasq leases (names matched by MAC, not IP)', () => {
    const arp = parseArpTable(readFixture('generic-linux/debian-12/proc-net-arp.txt'));
    const leases = parseDhcpLeases(readFixture('dnsmasq/2.90/dhcp.leases'));
    // The leases were handed out for other addresses (.139/.140) than the hosts use (.10/.11):
    // the name still follows the MAC.
    assert.deepEqual(discoverHosts(arp, leases), [
      { identity: '02:00:00:00:00:10', ip: '198.51.100.10', addresses: ['198.51.100.10'], mac: '02:00:00:00:00:10', hostname: 'laptop-h1', iface: 'br0' },
      { identity: '02:00:00:00:00:11', ip: '198.51.100.11', addresses: ['198.51.100.11'], mac: '02:00:00:00:00:11', hostname: null, iface: 'br0' },
    ]);
  });

  test('WAN interfaces are options; lanInterfaces restricts', () => {
    const arp: ArpEntry[] = [
      { ip: '203.0.113.1', mac: '02:00:00:00:0e:01', iface: 'eth1', isComplete: true },
      { ip: '198.51.100.20', mac: '02:00:00:00:00:20', iface: 'br0', isComplete: true },
      { ip: '198.51.100.21', mac: '02:00:00:00:00:21', iface: 'wlan0', isComplete: true },
    ];
    assert.deepEqual(discoverHosts(arp, [], { wanInterfaces: ['eth1'] }).map((h) => h.ip), ['198.51.100.20', '198.51.100.21']);
    assert.deepEqual(discoverHosts(arp, [], { wanInterfaces: ['eth1'], lanInterfaces: ['br0'] }).map((h) => h.ip), ['198.51.100.20']);
  });

  test('same IP with two MACs: the lease-confirmed one wins; else the first', () => {
    const arp: ArpEntry[] = [
      { ip: '198.51.100.30', mac: '02:00:00:00:00:aa', iface: 'br0', isComplete: true },
      { ip: '198.51.100.30', mac: '02:00:00:00:00:bb', iface: 'br0', isComplete: true },
    ];
    assert.equal(discoverHosts(arp, [])[0]!.mac, '02:00:00:00:00:aa');
    const lease = { mac: '02:00:00:00:00:bb', ip: '198.51.100.30', hostname: 'b', leaseSeconds: 10 };
    assert.deepEqual(discoverHosts(arp, [lease]), [{ identity: '02:00:00:00:00:bb', ip: '198.51.100.30', addresses: ['198.51.100.30'], mac: '02:00:00:00:00:bb', hostname: 'b', iface: 'br0' }]);
  });

  test('zero, multicast and incomplete entries are not hosts', () => {
    const arp: ArpEntry[] = [
      { ip: '198.51.100.40', mac: '00:00:00:00:00:00', iface: 'br0', isComplete: true },
      { ip: '198.51.100.41', mac: '01:00:5e:00:00:01', iface: 'br0', isComplete: true },
      { ip: '198.51.100.42', mac: '02:00:00:00:00:42', iface: 'br0', isComplete: false },
      { ip: '198.51.100.043', mac: '02:00:00:00:00:43', iface: 'br0', isComplete: true },
    ];
    assert.deepEqual(discoverHosts(arp, []), []);
  });

  test('IPv6: canonical text, IPv4 before IPv6, one entry per (MAC, address) with all the MAC\'s addresses and its name', () => {
    const arp: ArpEntry[] = [
      { ip: '2001:DB8:0:0::0:10', mac: '02:00:00:00:00:10', iface: 'br0', isComplete: true },
      { ip: '2001:db8:85a3:1234:5678:9abc:def0:1234', mac: '02:00:00:00:00:11', iface: 'br0', isComplete: true },
      { ip: '198.51.100.10', mac: '02:00:00:00:00:10', iface: 'br0', isComplete: true },
      { ip: '2001:db8::1', mac: '02:00:00:00:00:10', iface: 'br0', isComplete: true },
      { ip: '::', mac: '02:00:00:00:00:12', iface: 'br0', isComplete: true },
      { ip: 'fe80::1%br0', mac: '02:00:00:00:00:13', iface: 'br0', isComplete: true },
      { ip: '2001:db8::99', mac: '02:00:00:00:0e:01', iface: 'ppp0', isComplete: true },
    ];
    const lease = { mac: '02:00:00:00:00:10', ip: '198.51.100.10', hostname: 'laptop', leaseSeconds: 10 };
    const laptop = ['198.51.100.10', '2001:db8::1', '2001:db8::10'];
    assert.deepEqual(discoverHosts(arp, [lease]), [
      { identity: '02:00:00:00:00:10', ip: '198.51.100.10', addresses: laptop, mac: '02:00:00:00:00:10', hostname: 'laptop', iface: 'br0' },
      { identity: '02:00:00:00:00:10', ip: '2001:db8::1', addresses: laptop, mac: '02:00:00:00:00:10', hostname: 'laptop', iface: 'br0' },
      { identity: '02:00:00:00:00:10', ip: '2001:db8::10', addresses: laptop, mac: '02:00:00:00:00:10', hostname: 'laptop', iface: 'br0' },
      {
        identity: '02:00:00:00:00:11',
        ip: '2001:db8:85a3:1234:5678:9abc:def0:1234',
        addresses: ['2001:db8:85a3:1234:5678:9abc:def0:1234'],
        mac: '02:00:00:00:00:11',
        hostname: null,
        iface: 'br0',
      },
    ]);
  });

  test('IPv6: the same address with two MACs follows the IPv4 rule (lease-confirmed wins)', () => {
    const arp: ArpEntry[] = [
      { ip: '2001:db8::30', mac: '02:00:00:00:00:aa', iface: 'br0', isComplete: true },
      { ip: '2001:0db8::0030', mac: '02:00:00:00:00:bb', iface: 'br0', isComplete: true },
    ];
    assert.deepEqual(discoverHosts(arp, []).map((h) => h.mac), ['02:00:00:00:00:aa']);
    const lease = { mac: '02:00:00:00:00:bb', ip: '2001:db8::30', hostname: 'b', leaseSeconds: 10 };
    assert.deepEqual(discoverHosts(arp, [lease]).map((h) => [h.mac, h.hostname]), [['02:00:00:00:00:bb', 'b']]);
  });

  test('dual stack, real captures: ARP + `ip -6 neigh` (iproute2 and BusyBox) + leases → one device per MAC with its IPv4, stable and temporary IPv6 addresses', () => {
    // One capture (fixtures/capture-ipv6-fixtures.sh): the ARP table, both tools' IPv6 tables.
    const arp = parseArpTable(readFixture('generic-linux/debian-12/proc-net-arp-dual-stack.txt'));
    const leases = parseDhcpLeases(readFixture('dnsmasq/2.90/dhcp.leases'));
    for (const file of ['generic-linux/debian-12/ip-6-neigh-show.txt', 'busybox/1.35.0/busybox-ip-6-neigh.txt', 'generic-linux/debian-12/ip-6-neigh-show-failed.txt']) {
      const neighbours6 = parseIpv6Neighbours(readFixture(file));
      const hosts = discoverHosts(arp, leases, { wanInterfaces: ['ppp0'] }, neighbours6);
      const temporary = (mac: string) => neighbours6.find((e) => e.mac === mac && e.ip.startsWith('2001:db8:1:0:'))!.ip;
      const h10 = ['198.51.100.10', '2001:db8:1::10', temporary('02:00:00:00:00:10')].sort(compareAddresses);
      const h11 = ['198.51.100.11', '2001:db8:1::11', temporary('02:00:00:00:00:11')].sort(compareAddresses);
      // Link-local, FAILED/INCOMPLETE and the ISP's router on ppp0 are no hosts; names follow the MAC.
      assert.deepEqual(hosts.map((h) => [h.ip, h.mac, h.hostname, h.addresses]), [
        ...h10.map((ip) => [ip, '02:00:00:00:00:10', 'laptop-h1', h10]),
        ...h11.map((ip) => [ip, '02:00:00:00:00:11', null, h11]),
      ].sort((a, b) => compareAddresses(a[0] as string, b[0] as string)), file);
      assert.ok(hosts.every((h) => h.identity === h.mac && h.iface === 'br-lan'));
    }
  });

  test('IPv6 neighbours alone (no ARP answer): the devices still appear, each with its addresses', () => {
    const neighbours6 = parseIpv6Neighbours(readFixture('busybox/1.35.0/busybox-ip-6-neigh-incomplete.txt'));
    const hosts = discoverHosts([], [], { wanInterfaces: ['ppp0'] }, neighbours6);
    assert.deepEqual([...new Set(hosts.map((h) => h.mac))], ['02:00:00:00:00:10', '02:00:00:00:00:11']);
    assert.ok(hosts.every((h) => h.addresses.length === 2 && h.addresses.includes(h.ip)));
  });

  test('link-local and multicast IPv6 are never a host, even from an entry marked complete', () => {
    const entries: ArpEntry[] = [
      { ip: 'fe80::ff:fe00:10', mac: '02:00:00:00:00:10', iface: 'br-lan', isComplete: true },
      { ip: 'ff02::1', mac: '02:00:00:00:00:10', iface: 'br-lan', isComplete: true },
      { ip: '::ffff:198.51.100.10', mac: '02:00:00:00:00:10', iface: 'br-lan', isComplete: true },
      { ip: '2001:db8:1::10', mac: '02:00:00:00:00:10', iface: 'br-lan', isComplete: true },
    ];
    assert.deepEqual(discoverHosts([], [], {}, entries).map((h) => h.ip), ['2001:db8:1::10']);
    assert.deepEqual(discoverHosts(entries, []).map((h) => h.ip), ['2001:db8:1::10']);
  });

  test('property: one host per IP, sorted numerically, all live and off the WAN, whatever the input order', () => {
    const octet = fc.integer({ min: 1, max: 254 });
    const entry = fc.record({
      ip: fc.tuple(fc.constantFrom(198, 203), octet).map(([a, b]) => (a === 198 ? `198.51.100.${b}` : `203.0.113.${b}`)),
      mac: fc.option(fc.integer({ min: 0, max: 255 }).map((n) => `02:00:00:00:00:${n.toString(16).padStart(2, '0')}`), { nil: null }),
      iface: fc.constantFrom('br0', 'ppp0', null),
      isComplete: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 60 }), (arp) => {
        const hosts = discoverHosts(arp, []);
        const ips = hosts.map((h) => h.ip);
        assert.equal(new Set(ips).size, ips.length);
        assert.deepEqual(ips, [...ips].sort(compareAddresses));
        for (const h of hosts) {
          assert.notEqual(h.iface, 'ppp0');
          assert.ok(arp.some((e) => e.ip === h.ip && e.mac === h.mac && e.isComplete));
        }
        const expectedIps = new Set(arp.filter((e) => e.isComplete && e.mac !== null && e.iface !== 'ppp0').map((e) => e.ip));
        assert.equal(hosts.length, expectedIps.size);
      }),
      { numRuns: 200 },
    );
  });
});
