import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isHostIpv6, parseIpv6Neighbours, parseIpv6NeighboursReport } from './ipv6-neighbours.js';
import { readFixture } from '../../../test/fixtures.js';

// One namespace, captured with both tools (fixtures/capture-ipv6-fixtures.sh): hosts .10 and .11 on
// br-lan, each with a stable address (2001:db8:1::10/::11) and a kernel-made temporary one, their
// link-local addresses, the ISP's router on ppp0, and 2001:db8:1::99/::98 that nobody answers for.
const H10 = '02:00:00:00:00:10';
const H11 = '02:00:00:00:00:11';

function live(file: string): Array<[string, string]> {
  return parseIpv6Neighbours(readFixture(file)).filter((e) => e.isComplete).map((e) => [e.ip, e.mac!]);
}

describe('parseIpv6Neighbours on real captures', () => {
  const cases: Array<[string, 'iproute2' | 'busybox']> = [
    ['generic-linux/debian-12/ip-6-neigh-show.txt', 'iproute2'],
    ['generic-linux/debian-12/ip-s-6-neigh-show.txt', 'iproute2'],
    ['generic-linux/debian-12/ip-6-neigh-show-incomplete.txt', 'iproute2'],
    ['generic-linux/debian-12/ip-6-neigh-show-failed.txt', 'iproute2'],
    ['generic-linux/debian-12/ip-6-neigh-show-nud-all.txt', 'iproute2'],
    ['busybox/1.35.0/busybox-ip-6-neigh.txt', 'busybox'],
    ['busybox/1.35.0/busybox-ip-6-neigh-show.txt', 'busybox'],
    ['busybox/1.35.0/busybox-ip-6-neigh-incomplete.txt', 'busybox'],
    ['busybox/1.35.0/busybox-ip-6-neigh-failed.txt', 'busybox'],
  ];
  for (const [file, format] of cases) {
    test(`${file}: every line read, hosts with stable and temporary addresses, nothing else live on the LAN`, () => {
      const report = parseIpv6NeighboursReport(readFixture(file));
      assert.deepEqual(report.skipped, []);
      assert.deepEqual(report.formats, [format]);
      const lan = live(file).filter(([ip]) => ip.startsWith('2001:db8:1:'));
      // Two addresses per host: the stable ::10/::11 and one temporary (random interface identifier).
      for (const [mac, stable] of [[H10, '2001:db8:1::10'], [H11, '2001:db8:1::11']] as const) {
        const mine = lan.filter(([, m]) => m === mac).map(([ip]) => ip);
        assert.equal(mine.length, 2, `${mac}: ${mine.join(' ')}`);
        assert.ok(mine.includes(stable));
        assert.match(mine.find((ip) => ip !== stable)!, /^2001:db8:1:0:[0-9a-f]{1,4}:[0-9a-f]{1,4}:[0-9a-f]{1,4}:[0-9a-f]{1,4}$/);
      }
      assert.equal(lan.length, 4);
      const entries = parseIpv6Neighbours(readFixture(file));
      for (const e of entries) {
        if (e.ip.startsWith('fe80:') || e.ip.startsWith('ff02:')) assert.equal(e.isComplete, false, `${e.ip} is never a host`);
        if (e.ip === '2001:db8:1::99' || e.ip === '2001:db8:1::98') {
          assert.equal(e.mac, null);
          assert.equal(e.isComplete, false);
          assert.match(e.state ?? '', /^(INCOMPLETE|FAILED)$/);
        }
      }
      const isp = entries.find((e) => e.ip === '2001:db8:ff::1');
      if (isp) {
        assert.equal(isp.iface, 'ppp0');
        assert.equal(isp.isRouter, true);
        assert.equal(isp.state, 'REACHABLE');
      }
    });
  }

  test('the same table read by both tools gives the same entries (states, MACs, flags)', () => {
    const strip = (file: string) => parseIpv6Neighbours(readFixture(file)).map((e) => ({ ...e })).sort((a, b) => (a.ip < b.ip ? -1 : 1));
    assert.deepEqual(strip('busybox/1.35.0/busybox-ip-6-neigh-show.txt'), strip('generic-linux/debian-12/ip-6-neigh-show.txt'));
  });

  test('NOARP multicast entries of `nud all` are read, never live', () => {
    const entries = parseIpv6Neighbours(readFixture('generic-linux/debian-12/ip-6-neigh-show-nud-all.txt'));
    const noarp = entries.filter((e) => e.state === 'NOARP');
    assert.ok(noarp.length > 5);
    assert.ok(noarp.every((e) => !e.isComplete && e.ip.startsWith('ff02:')));
  });

  test('an IPv6-disabled namespace prints nothing: no entries, nothing skipped', () => {
    for (const file of ['generic-linux/debian-12/ip-6-neigh-show-ipv6-disabled.txt', 'busybox/1.35.0/busybox-ip-6-neigh-ipv6-disabled.txt']) {
      assert.deepEqual(parseIpv6NeighboursReport(readFixture(file)), { entries: [], skipped: [], formats: [] });
    }
  });
});

describe('parseIpv6Neighbours on odd lines', () => {
  test('addresses canonical (RFC 5952), MACs lower case; error texts and junk skipped; IPv4 lines ignored', () => {
    const report = parseIpv6NeighboursReport([
      '2001:0DB8:0001:0000:0000:0000:0000:0010 dev br-lan lladdr 02:00:00:00:00:AA STALE',
      '198.51.100.10 dev br0 lladdr 02:00:00:00:00:10 REACHABLE',
      'sh: ip: not found',
      '2001:db8::zz dev br-lan lladdr 02:00:00:00:00:10 REACHABLE',
      '2001:db8::5 dev br-lan lladdr 02:00:00:00:00 REACHABLE',
      'fe80::1%br-lan dev br-lan lladdr 02:00:00:00:00:10 REACHABLE',
      '2001:db8::6 dev br-lan lladdr 00:00:00:00:00:00 REACHABLE',
      '2001:db8::7 dev br-lan lladdr 33:33:00:00:00:01 REACHABLE',
      '2001:db8::8 dev br-lan lladdr 02:00:00:00:00:08 PERMANENT',
      '2001:db8::9 dev br-lan lladdr 02:00:00:00:00:09 ref 1 used 0/0/0 probes 1',
      '2001:db8::a dev br-lan lladdr 02:00:00:00:00:0a STALE,NOARP',
    ].join('\r\n'));
    assert.deepEqual(report.skipped, ['sh: ip: not found', '2001:db8::zz dev br-lan lladdr 02:00:00:00:00:10 REACHABLE', '2001:db8::5 dev br-lan lladdr 02:00:00:00:00 REACHABLE', 'fe80::1%br-lan dev br-lan lladdr 02:00:00:00:00:10 REACHABLE']);
    assert.deepEqual(report.entries.map((e) => [e.ip, e.mac, e.state, e.isComplete]), [
      ['2001:db8:1::10', '02:00:00:00:00:aa', 'STALE', true],
      ['2001:db8::6', null, 'REACHABLE', false],
      ['2001:db8::7', '33:33:00:00:00:01', 'REACHABLE', false],
      ['2001:db8::8', '02:00:00:00:00:08', 'PERMANENT', true],
      // BusyBox prints no state for NUD_NONE: not a live host.
      ['2001:db8::9', '02:00:00:00:00:09', null, false],
      ['2001:db8::a', '02:00:00:00:00:0a', 'STALE,NOARP', false],
    ]);
  });

  test('isHostIpv6: global and unique-local unicast only, canonical text only', () => {
    const yes = ['2001:db8::1', '2001:db8:1:0:2c62:61ec:1fad:a4ff', 'fd00::5', '2001:db8::'];
    const no = ['fe80::1', 'febf::1', 'ff02::1', 'ff05::1:3', '::', '::1', '::ffff:198.51.100.1', '2001:DB8::1', '2001:db8:0::1', '198.51.100.1', 'junk'];
    assert.deepEqual(yes.map(isHostIpv6), yes.map(() => true));
    assert.deepEqual(no.map(isHostIpv6), no.map(() => false));
  });

  test('property: never throws, and every complete entry has a MAC and a host address', () => {
    const token = fc.constantFrom('2001:db8::1', 'fe80::1', 'dev', 'br-lan', 'lladdr', '02:00:00:00:00:01', 'router', 'ref', '1', 'used', '0/0/0', 'probes', 'REACHABLE', 'FAILED', 'STALE', 'NOARP', '', '\u0000', '%');
    fc.assert(fc.property(fc.array(fc.array(token, { maxLength: 12 }).map((t) => t.join(' ')), { maxLength: 20 }), (lines) => {
      const report = parseIpv6NeighboursReport(lines.join('\n'));
      for (const e of report.entries) if (e.isComplete) assert.ok(e.mac !== null && isHostIpv6(e.ip));
    }), { numRuns: 300 });
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => void parseIpv6NeighboursReport(text)), { numRuns: 300 });
  });
});
