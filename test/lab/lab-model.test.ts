// The lab's pure bookkeeping (no root needed): addresses, names, rule sets, lease formats, oracle parsing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  LAB_NAMESPACE_PATTERN, bootRuleset, formatDnsmasqLeases, formatLanhostsTable, hostIp, hostIp6, hostMac,
  hostileHostnames, labNames, labPrefix, normalizeIptablesSave,
} from './lab-model.js';
import { deviceCounts, hostOracleReset, hostOracleRuleset, oracleDelta, parseHostOracle } from './lab-oracle.js';

test('host addresses: 198.51.100.10+, locally administered MACs whose last byte is the last octet', () => {
  assert.equal(hostIp(1), '198.51.100.10');
  assert.equal(hostIp(3), '198.51.100.12');
  assert.equal(hostMac(1), '02:1a:b0:00:00:0a');
  assert.equal(hostMac(7), '02:1a:b0:00:00:10');
  for (let i = 1; i <= 32; i++) {
    const first = Number.parseInt(hostMac(i).slice(0, 2), 16);
    assert.equal(first & 0b11, 0b10, 'unicast, locally administered');
    assert.equal(Number.parseInt(hostMac(i).slice(-2), 16), Number(hostIp(i).split('.')[3]));
  }
  assert.equal(hostIp6(1), '2001:db8:1::10');
  assert.equal(hostIp6(3), '2001:db8:1::12');
  assert.throws(() => hostIp(0), RangeError);
  assert.throws(() => hostMac(33), RangeError);
});

test('names: unique per pid and serial, interface names fit IFNAMSIZ, namespaces match the cleanup pattern', () => {
  assert.equal(labPrefix(123456, 0), 'lt3456a');
  assert.notEqual(labPrefix(42, 0), labPrefix(42, 1));
  const names = labNames(labPrefix(99999, 25));
  assert.ok(names.consoleIf.length <= 15);
  for (const ns of [names.routerNs, names.ispNs, names.hostNs(1), names.hostNs(32)]) {
    assert.equal(LAB_NAMESPACE_PATTERN.exec(ns)?.[1], names.prefix, ns);
  }
  assert.equal(LAB_NAMESPACE_PATTERN.test('lantop-emu-1'), false, "another suite's namespace is never ours");
  assert.throws(() => labNames('x; rm -rf /'));
  assert.throws(() => labPrefix(1, 26));
});

test('boot firewall: consumer defaults, and every listed table is reset with empty built-in chains', () => {
  const boot = bootRuleset();
  assert.match(boot, /^\*filter$/m);
  assert.match(boot, /^-A FORWARD -m state --state RELATED,ESTABLISHED -j ACCEPT$/m);
  assert.match(boot, /^-A INPUT -i ppp0 -m state --state NEW -j DROP$/m);
  assert.match(boot, /^\*nat\n(?::\S+ ACCEPT \[0:0\]\n)+-A POSTROUTING -o ppp0 -j MASQUERADE\nCOMMIT$/m);
  assert.doesNotMatch(boot, /TRAFFIC/);
  const withExtra = bootRuleset(['filter', 'nat', 'mangle', 'raw']);
  assert.equal(withExtra.match(/^\*filter$/gm)?.length, 1);
  assert.match(withExtra, /^\*mangle\n:PREROUTING ACCEPT \[0:0\]\n:INPUT ACCEPT \[0:0\]\n:FORWARD ACCEPT \[0:0\]\n:OUTPUT ACCEPT \[0:0\]\n:POSTROUTING ACCEPT \[0:0\]\nCOMMIT$/m);
  assert.match(withExtra, /^\*raw\n:PREROUTING ACCEPT \[0:0\]\n:OUTPUT ACCEPT \[0:0\]\nCOMMIT$/m);
  assert.throws(() => bootRuleset(['bogus']));
});

test('boot firewall, IPv6: the same filter rules for ip6tables-restore, ICMPv6 allowed, no nat table (no NAT66)', () => {
  const boot6 = bootRuleset([], 6);
  assert.match(boot6, /^\*filter\n:INPUT ACCEPT \[0:0\]\n:FORWARD ACCEPT \[0:0\]\n:OUTPUT ACCEPT \[0:0\]\n/);
  for (const rule of ['-A INPUT -i ppp0 -m state --state NEW -j DROP', '-A FORWARD -i br0 -o ppp0 -j ACCEPT', '-A FORWARD -p ipv6-icmp -j ACCEPT']) {
    assert.ok(boot6.split('\n').includes(rule), rule);
  }
  assert.doesNotMatch(boot6, /\*nat|MASQUERADE/);
  assert.match(bootRuleset(['nat'], 6), /^\*nat\n(?::\S+ ACCEPT \[0:0\]\n)+COMMIT$/m, 'a nat table some test made is reset to empty');
});

test('oracle: a table of its own in each host, dynamic sets per own address, LAN and router excluded', () => {
  const rules = hostOracleRuleset();
  assert.match(rules, /^table inet lantop_oracle \{/);
  assert.match(rules, /type filter hook postrouting priority 0;/);
  assert.match(rules, /type filter hook prerouting priority 0;/);
  assert.match(rules, /oifname "eth0" ip daddr != \{ 198\.51\.100\.0\/24, 203\.0\.113\.2, [^}]*\} update @up4 \{ ip saddr counter \}/);
  assert.match(rules, /iifname "eth0" ip6 saddr != \{ 2001:db8:1::\/64, 2001:db8:ff::2, fe80::\/10, ff00::\/8 \} update @down6 \{ ip6 daddr counter \}/);
  assert.match(hostOracleReset(), /^table inet lantop_oracle\ndelete table inet lantop_oracle\ntable inet lantop_oracle \{/);
});

// `nft -j list table inet lantop_oracle` in h1 of a dual-stack lab (Debian nft 1.0.6, kernel 6.18)
// after one IPv4 and two IPv6 transfers (stable, then temporary source); chains and rules left out.
const CAPTURED_HOST_ORACLE = JSON.stringify({ nftables: [
  { metainfo: { version: '1.0.6', release_name: 'Lester Gooch #5', json_schema_version: 1 } },
  { table: { family: 'inet', name: 'lantop_oracle', handle: 1 } },
  { set: { family: 'inet', name: 'up4', table: 'lantop_oracle', type: 'ipv4_addr', handle: 3, size: 256, elem: [{ elem: { val: '198.51.100.10', counter: { packets: 5, bytes: 368 } } }] } },
  { set: { family: 'inet', name: 'down4', table: 'lantop_oracle', type: 'ipv4_addr', handle: 4, size: 256, elem: [{ elem: { val: '198.51.100.10', counter: { packets: 5, bytes: 1268 } } }] } },
  { set: { family: 'inet', name: 'up6', table: 'lantop_oracle', type: 'ipv6_addr', handle: 5, size: 256, elem: [
    { elem: { val: '2001:db8:1::10', counter: { packets: 5, bytes: 568 } } },
    { elem: { val: '2001:db8:1:0:9d7d:f96f:a19f:fd37', counter: { packets: 6, bytes: 740 } } }] } },
  { set: { family: 'inet', name: 'down6', table: 'lantop_oracle', type: 'ipv6_addr', handle: 6, size: 256, elem: [
    { elem: { val: '2001:db8:1::10', counter: { packets: 5, bytes: 2368 } } },
    { elem: { val: '2001:db8:1:0:9d7d:f96f:a19f:fd37', counter: { packets: 4, bytes: 3296 } } }] } },
] });

test("oracle: a host's reading per address, expected addresses at zero, sums per family and in total", () => {
  const counts = parseHostOracle(CAPTURED_HOST_ORACLE, ['198.51.100.10', '2001:db8:1::10', '2001:db8:1:0:aaaa::1']);
  assert.deepEqual(counts['198.51.100.10'], { downBytes: 1268, upBytes: 368, downPackets: 5, upPackets: 5 });
  assert.deepEqual(counts['2001:db8:1:0:9d7d:f96f:a19f:fd37'], { downBytes: 3296, upBytes: 740, downPackets: 4, upPackets: 6 });
  assert.deepEqual(counts['2001:db8:1:0:aaaa::1'], { downBytes: 0, upBytes: 0, downPackets: 0, upPackets: 0 }, 'an address that moved nothing');
  const device = deviceCounts({ name: 'h1', mac: '02:1a:b0:00:00:0a' }, counts);
  assert.deepEqual(device.ipv4, counts['198.51.100.10']);
  assert.deepEqual(device.ipv6, { downBytes: 2368 + 3296, upBytes: 568 + 740, downPackets: 9, upPackets: 11 });
  assert.equal(device.total.downBytes, 1268 + 2368 + 3296);
  const delta = oracleDelta(counts, { '198.51.100.10': { downBytes: 268, upBytes: 68, downPackets: 1, upPackets: 1 } });
  assert.deepEqual(delta['198.51.100.10'], { downBytes: 1000, upBytes: 300, downPackets: 4, upPackets: 4 });
  assert.deepEqual(delta['2001:db8:1::10'], counts['2001:db8:1::10'], 'an address new since `before` counts from zero');
  // An empty set (nothing moved yet) is zero; a set that is not there is an error, not a zero.
  const empty = JSON.stringify({ nftables: ['up4', 'down4', 'up6', 'down6'].map((name) => ({ set: { name, table: 'lantop_oracle' } })) });
  assert.deepEqual(parseHostOracle(empty, ['198.51.100.11']), { '198.51.100.11': { downBytes: 0, upBytes: 0, downPackets: 0, upPackets: 0 } });
  assert.throws(() => parseHostOracle(JSON.stringify({ nftables: [] }), []), /missing/);
});

test('leases: dnsmasq format with * for no name, TSV for the CLI, raw bytes kept, line breakers refused', () => {
  const now = 1_700_000_000;
  const leases = [
    { mac: '02:1a:b0:00:00:0a', ip: '198.51.100.10', hostname: 'alice-laptop' },
    { mac: '02:1a:b0:00:00:0b', ip: '198.51.100.11', hostname: '', leaseSeconds: 60 },
    { mac: '02:1a:b0:00:00:0c', ip: '198.51.100.12', hostname: Buffer.from([0x66, 0xff, 0x1b]) },
  ];
  const dnsmasq = formatDnsmasqLeases(leases, now);
  assert.equal(dnsmasq.toString('latin1'), [
    '1700086400 02:1a:b0:00:00:0a 198.51.100.10 alice-laptop 01:02:1a:b0:00:00:0a',
    '1700000060 02:1a:b0:00:00:0b 198.51.100.11 * 01:02:1a:b0:00:00:0b',
    '1700086400 02:1a:b0:00:00:0c 198.51.100.12 f\u00ff\u001b 01:02:1a:b0:00:00:0c',
    '',
  ].join('\n'));
  const table = formatLanhostsTable(leases, now).toString('latin1').split('\n');
  assert.equal(table[1], '02:1a:b0:00:00:0b\t198.51.100.11\t1700000060\t');
  assert.throws(() => formatDnsmasqLeases([{ mac: 'm', ip: 'i', hostname: 'a\nb' }], now), /newline/);
  assert.throws(() => formatLanhostsTable([{ mac: 'm', ip: 'i', hostname: 'a\tb' }], now), /TAB/);
});

test('hostile hostnames: each injection touches the marker; escapes, 5000 chars, non-UTF-8 included', () => {
  const names = hostileHostnames('pwned-lt1a');
  const text = names.filter((n): n is string => typeof n === 'string');
  assert.ok(text.some((n) => n.startsWith(';')));
  assert.ok(text.includes('$(touch /tmp/pwned-lt1a)'));
  assert.ok(text.includes('`touch /tmp/pwned-lt1a`'));
  assert.ok(text.some((n) => n.includes('\u001b[')));
  assert.ok(text.some((n) => n.length === 5000));
  const bytes = names.find((n): n is Buffer => Buffer.isBuffer(n));
  assert.ok(bytes && bytes.toString('utf8').includes('\ufffd'), 'not valid UTF-8');
  assert.throws(() => hostileHostnames('../etc/passwd'));
});

test('iptables-save normalisation: timestamps and chain counters do not make dumps differ', () => {
  const a = '# Generated by iptables-save v1.8.9 on Mon\n*filter\n:INPUT ACCEPT [12:3456]\n:TRAFFIC - [0:0]\n-A FORWARD -j TRAFFIC\nCOMMIT\n# Completed on Mon\n';
  const b = '# Generated by iptables-save v1.8.9 on Tue\n*filter\n:INPUT ACCEPT [0:0]\n:TRAFFIC - [0:0]\n-A FORWARD -j TRAFFIC\nCOMMIT\n# Completed on Tue\n';
  assert.equal(normalizeIptablesSave(a), normalizeIptablesSave(b));
  assert.notEqual(normalizeIptablesSave(a), normalizeIptablesSave(b.replace('-j TRAFFIC', '-j ACCEPT')));
});
