import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { expandIpv6, formatConntrackEntry, parseConntrack } from './conntrack.js';
import type { ConntrackEntry, ConntrackFormat } from '../../domain/connection-model.js';
import { readFixture } from '../../../test/fixtures.js';

describe('parseConntrack: published captures', () => {
  test('OpenWrt /proc/net/nf_conntrack (luci#5909): tuples, counters, flags', () => {
    const report = parseConntrack(readFixture('conntrack/openwrt-luci-5909/proc-net-nf_conntrack.txt'));
    assert.equal(report.format, 'nf_conntrack');
    assert.equal(report.hasAccounting, true);
    assert.deepEqual(report.skipped, []);
    assert.equal(report.entries.length, 2);
    const [iperf, web] = report.entries;
    assert.deepEqual(iperf, {
      family: 4,
      protocol: 'tcp',
      protocolNumber: 6,
      timeoutS: 7208,
      state: 'ESTABLISHED',
      original: { src: '192.168.1.10', dst: '10.0.1.1', sport: 42978, dport: 5201, packets: 2, bytes: 112 },
      reply: { src: '10.0.1.1', dst: '10.0.1.2', sport: 5201, dport: 42978, packets: 1, bytes: 60 },
      isOffloaded: false,
      isHardwareOffloaded: false,
      isAssured: true,
      isUnreplied: false,
      icmp: null,
    });
    // The stored copy of the second line ends "mark=0 zo2": a stray word does not lose the entry.
    assert.equal(web!.reply.bytes, 4807);
    assert.equal(web!.original.dport, 80);
  });

  test('OpenWrt conntrack -L (luci#5909): the [OFFLOAD] entry has no timeout and no state', () => {
    const report = parseConntrack(readFixture('conntrack/openwrt-luci-5909/conntrack-L.txt'));
    assert.equal(report.format, 'conntrack-tools');
    assert.deepEqual(report.skipped, [], 'the summary line is not an odd line');
    assert.equal(report.entries.length, 3);
    const offloaded = report.entries[2]!;
    assert.equal(offloaded.timeoutS, null);
    assert.equal(offloaded.state, null);
    assert.equal(offloaded.isOffloaded, true);
    assert.equal(offloaded.isAssured, false);
    assert.equal(offloaded.original.sport, 42984);
    assert.equal(offloaded.reply.dst, '10.0.1.2');
    assert.equal(report.entries[0]!.timeoutS, 7206);
  });

  test('VyOS flowtables docs: summary first (stderr), [OFFLOAD] without counters', () => {
    const report = parseConntrack(readFixture('conntrack/vyos-flowtables/conntrack-L-grep-tcp.txt'));
    assert.equal(report.entries.length, 1);
    assert.equal(report.hasAccounting, false);
    assert.equal(report.entries[0]!.isOffloaded, true);
    assert.equal(report.entries[0]!.original.bytes, null);
  });

  test('VyOS conntrack -L with accounting off (pyroute2#1198): udp [OFFLOAD], TIME_WAIT', () => {
    const report = parseConntrack(readFixture('conntrack/vyos-pyroute2-1198/conntrack-L.txt'));
    assert.equal(report.entries.length, 6);
    assert.equal(report.hasAccounting, false);
    const dns = report.entries[1]!;
    assert.equal(dns.protocol, 'udp');
    assert.equal(dns.timeoutS, null);
    assert.equal(dns.isOffloaded, true);
    assert.equal(dns.reply.dst, '192.168.122.222');
    assert.equal(report.entries[4]!.state, 'TIME_WAIT');
    assert.equal(report.entries[4]!.timeoutS, 40);
  });

  test('2.6 /proc/net/ip_conntrack (Vuurmuur): counters, [UNREPLIED], secmark, a line without use=', () => {
    const report = parseConntrack(readFixture('conntrack/vuurmuur-ip-conntrack/ip_conntrack.txt'));
    assert.equal(report.format, 'ip_conntrack');
    assert.equal(report.entries.length, 5);
    assert.deepEqual(report.skipped, []);
    const ssh = report.entries[0]!;
    assert.equal(ssh.original.bytes, 7950474);
    assert.equal(ssh.reply.bytes, 123061993);
    const syn = report.entries[1]!;
    assert.equal(syn.state, 'SYN_SENT');
    assert.equal(syn.isUnreplied, true);
    assert.equal(syn.original.packets, 1);
    assert.equal(syn.reply.bytes, 0);
    const netbios = report.entries[3]!;
    assert.equal(netbios.isUnreplied, true);
    assert.equal(netbios.original.bytes, null, 'a line without counters');
    assert.equal(report.hasAccounting, true);
  });

  test('netfilter-devel: IPv6 printed fully expanded comes out canonical', () => {
    const report = parseConntrack(readFixture('conntrack/netfilter-devel-flowtable-ipv6/nf_conntrack.txt'));
    const e = report.entries[0]!;
    assert.equal(e.family, 6);
    assert.equal(e.original.src, '2001:db8:ffff:21::2');
    assert.equal(e.original.dst, '2001:db8:ffff:22::1');
    assert.equal(e.reply.src, '2001:db8:ffff:22::1');
    assert.equal(report.hasAccounting, false);
  });
});

describe('parseConntrack: lab captures (kernel 6.18, conntrack-tools 1.4.7)', () => {
  test('nf_conntrack with accounting: icmp ids, icmpv6, the port forward', () => {
    const report = parseConntrack(readFixture('conntrack/lantop-lab/nf_conntrack-acct-on.txt'));
    assert.equal(report.entries.length, 6);
    assert.deepEqual(report.skipped, []);
    const icmp = report.entries.find((e) => e.protocol === 'icmp')!;
    assert.equal(icmp.original.sport, null);
    assert.equal(icmp.icmp?.type, 8);
    assert.equal(icmp.original.bytes, 168);
    const icmp6 = report.entries.find((e) => e.protocol === 'icmpv6')!;
    assert.equal(icmp6.family, 6);
    assert.equal(icmp6.protocolNumber, 58);
    assert.equal(icmp6.icmp?.type, 128);
    assert.equal(icmp6.original.src, '2001:db8:1::10');
    const forward = report.entries.find((e) => e.original.dport === 8022)!;
    assert.equal(forward.reply.src, '198.51.100.10');
    assert.equal(forward.reply.sport, 22);
  });

  test('the same table as conntrack -L prints it, accounting off', () => {
    const on = parseConntrack(readFixture('conntrack/lantop-lab/conntrack-L-acct-on.txt'));
    const off = parseConntrack(readFixture('conntrack/lantop-lab/conntrack-L-acct-off.txt'));
    assert.equal(on.format, 'conntrack-tools');
    assert.equal(on.entries.length, 6);
    assert.equal(on.hasAccounting, true);
    assert.equal(off.entries.length, 6);
    assert.equal(off.hasAccounting, false);
    assert.deepEqual(off.skipped, []);
    const v6 = off.entries.filter((e) => e.family === 6);
    assert.equal(v6.length, 2);
    assert.ok(v6.every((e) => e.original.src === '2001:db8:1::10'));
  });
});

describe('parseConntrack: odd input', () => {
  test('lines that are not entries are skipped, not thrown', () => {
    const text = [
      'cat: /proc/net/nf_conntrack: Permission denied',
      'ipv4     2 tcp      6 10 ESTABLISHED src=198.51.100.10 dst=203.0.113.7 sport=1 dport=2',
      'ipv4     2 tcp      6 10 ESTABLISHED src=198.51.100.10 dst=203.0.113.7 sport=1 dport=2 src=203.0.113.7 dst=203.0.113.2 sport=2 dport=1 src=1.2.3.4 dst=1.2.3.5',
      'ipv4     2 tcp      6 10 ESTABLISHED src=198.51.100.10 dst=2001:db8::1 sport=1 dport=2 src=203.0.113.7 dst=203.0.113.2 sport=2 dport=1',
      'ipv6     10 tcp      6 10 ESTABLISHED src=198.51.100.10 dst=203.0.113.7 sport=1 dport=2 src=203.0.113.7 dst=203.0.113.2 sport=2 dport=1',
      'ipv4     2 tcp      6 10 ESTABLISHED src=198.51.100.10 dst=203.0.113.7 sport=99999 dport=2 src=203.0.113.7 dst=203.0.113.2 sport=2 dport=1',
      'ipv4     2 tcp      6 10 ESTABLISHED src=198.51.100.10 dst=203.0.113.7 sport=1 dport=2 packets=1 bytes=99999999999999999 src=203.0.113.7 dst=203.0.113.2 sport=2 dport=1',
      'ipv4     2 tcp      6 10 ESTABLISHED src=010.1.1.1 dst=203.0.113.7 sport=1 dport=2 src=203.0.113.7 dst=203.0.113.2 sport=2 dport=1',
      'conntrack v1.4.6 (conntrack-tools): Operation failed: Operation not permitted',
    ].join('\n');
    const report = parseConntrack(text);
    assert.equal(report.entries.length, 0);
    assert.equal(report.skipped.length, 9);
    assert.equal(report.hasAccounting, null);
    assert.equal(report.format, null);
  });

  test('an empty answer is no entries, no format, accounting unknown', () => {
    assert.deepEqual(parseConntrack(''), { entries: [], skipped: [], format: null, hasAccounting: null });
  });

  test('[HW_OFFLOAD] is offloaded too; the timeout may be missing before the state', () => {
    const line = 'ipv4     2 udp      17 src=198.51.100.10 dst=203.0.113.7 sport=5000 dport=443 packets=3 bytes=3000 src=203.0.113.7 dst=203.0.113.2 sport=443 dport=5000 packets=4 bytes=9000 [HW_OFFLOAD] mark=0 zone=0 use=3';
    const e = parseConntrack(line).entries[0]!;
    assert.equal(e.isHardwareOffloaded, true);
    assert.equal(e.isOffloaded, true);
    assert.equal(e.timeoutS, null);
  });

  test('the format hint wins over detection', () => {
    const line = 'tcp      6 431999 ESTABLISHED src=198.51.100.10 dst=203.0.113.7 sport=1 dport=2 src=203.0.113.7 dst=203.0.113.2 sport=2 dport=1 [ASSURED] mark=0 use=1';
    assert.equal(parseConntrack(line).format, 'ip_conntrack');
    assert.equal(parseConntrack(line, 'conntrack-tools').format, 'conntrack-tools');
  });

  test('never throws on arbitrary text, control bytes or cut-off captures', () => {
    const capture = readFixture('conntrack/lantop-lab/nf_conntrack-acct-on.txt');
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 400 }), fc.string({ unit: 'binary', maxLength: 400 }), fc.nat(capture.length).map((n) => capture.slice(0, n))), (text) => {
        const report = parseConntrack(text);
        assert.ok(Array.isArray(report.entries) && Array.isArray(report.skipped));
      }),
      { numRuns: 300 },
    );
    assert.doesNotThrow(() => parseConntrack(undefined as unknown as string));
    assert.doesNotThrow(() => parseConntrack(`ipv4 2 tcp 6 ${'src=1.2.3.4 '.repeat(5000)}`));
  });
});

describe('expandIpv6', () => {
  test('the form /proc prints', () => {
    assert.equal(expandIpv6('2001:db8:1::10'), '2001:0db8:0001:0000:0000:0000:0000:0010');
    assert.equal(expandIpv6('::1'), '0000:0000:0000:0000:0000:0000:0000:0001');
    assert.equal(expandIpv6('fe80::'), 'fe80:0000:0000:0000:0000:0000:0000:0000');
    assert.equal(expandIpv6('::ffff:198.51.100.10'), '0000:0000:0000:0000:0000:ffff:c633:640a');
    assert.equal(expandIpv6('2001:DB8:0:0:1:0:0:1'), '2001:0db8:0000:0000:0001:0000:0000:0001');
    assert.equal(expandIpv6('198.51.100.10'), '198.51.100.10');
    assert.equal(expandIpv6('nonsense'), null);
  });
});

// ---- round trip: a formatted entry parses back to itself ------------------------------------

const octet = fc.integer({ min: 0, max: 255 });
const ipv4 = fc.tuple(octet, octet, octet, octet).map((o) => o.join('.'));
const ipv6 = fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }).map((g) => {
  const text = g.map((x) => x.toString(16)).join(':');
  return text;
});
const port = fc.integer({ min: 0, max: 65535 });
const counter = fc.option(fc.tuple(fc.nat(), fc.maxSafeNat()), { nil: null });

function entryArbitrary(): fc.Arbitrary<ConntrackEntry> {
  return fc
    .record({
      family: fc.constantFrom(4 as const, 6 as const),
      kind: fc.constantFrom('tcp', 'udp', 'icmp', 'gre'),
      addrs4: fc.tuple(ipv4, ipv4, ipv4, ipv4),
      addrs6: fc.tuple(ipv6, ipv6, ipv6, ipv6),
      ports: fc.tuple(port, port, port, port),
      timeoutS: fc.option(fc.nat(10_000_000), { nil: null }),
      state: fc.constantFrom('ESTABLISHED', 'TIME_WAIT', 'SYN_SENT'),
      counters: fc.tuple(counter, counter),
      flag: fc.constantFrom('none', 'assured', 'offload', 'hw'),
      isUnreplied: fc.boolean(),
      icmpId: fc.integer({ min: 0, max: 65535 }),
    })
    .map((r) => {
      const [a, b, c, d] = (r.family === 4 ? r.addrs4 : r.addrs6).map((x) => {
        // canonical text, via the same parser the production code uses
        return parseConntrack(`tcp 6 src=${x} dst=${x} sport=1 dport=1 src=${x} dst=${x} sport=1 dport=1`).entries[0]!.original.src;
      }) as [string, string, string, string];
      const hasPorts = r.kind === 'tcp' || r.kind === 'udp';
      const protocol = r.kind === 'icmp' && r.family === 6 ? 'icmpv6' : r.kind;
      const protocolNumber = { tcp: 6, udp: 17, icmp: r.family === 6 ? 58 : 1, gre: 47 }[r.kind]!;
      // Both counters print or neither: acct is one switch for the whole entry.
      const withCounters = r.counters[0] !== null && r.counters[1] !== null;
      const tuple = (src: string, dst: string, sport: number, dport: number, ctr: [number, number] | null) => ({
        src,
        dst,
        sport: hasPorts ? sport : null,
        dport: hasPorts ? dport : null,
        packets: withCounters ? ctr![0] : null,
        bytes: withCounters ? ctr![1] : null,
      });
      const entry: ConntrackEntry = {
        family: r.family,
        protocol,
        protocolNumber,
        timeoutS: r.timeoutS,
        state: r.kind === 'tcp' ? r.state : null,
        original: tuple(a, b, r.ports[0], r.ports[1], r.counters[0]),
        reply: tuple(c, d, r.ports[2], r.ports[3], r.counters[1]),
        isOffloaded: r.flag === 'offload' || r.flag === 'hw',
        isHardwareOffloaded: r.flag === 'hw',
        isAssured: r.flag === 'assured',
        isUnreplied: r.isUnreplied,
        icmp: r.kind === 'icmp' ? { type: r.family === 6 ? 128 : 8, code: 0, id: r.icmpId } : null,
      };
      return entry;
    });
}

describe('parseConntrack: round trip', () => {
  for (const format of ['nf_conntrack', 'conntrack-tools', 'ip_conntrack'] as ConntrackFormat[]) {
    test(`a formatted entry parses back to itself (${format})`, () => {
      fc.assert(
        fc.property(entryArbitrary(), (entry) => {
          if (format === 'ip_conntrack' && entry.family === 6) return; // ip_conntrack is IPv4 only
          const line = formatConntrackEntry(entry, format);
          const report = parseConntrack(line);
          assert.deepEqual(report.skipped, [], line);
          assert.deepEqual(report.entries, [entry], line);
        }),
        { numRuns: 300 },
      );
    });
  }
});
