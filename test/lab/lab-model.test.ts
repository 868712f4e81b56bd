// The lab's pure bookkeeping (no root needed): addresses, names, rule sets, lease formats, oracle parsing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  LAB_NAMESPACE_PATTERN, bootRuleset, formatDnsmasqLeases, formatLanhostsTable, hostIp, hostMac,
  hostileHostnames, labNames, labPrefix, normalizeIptablesSave, oracleRuleset, parseOracleCounters,
} from './lab-model.js';

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

test('oracle: its own inet table, forward hook before the filter table, one counter per host and direction', () => {
  const rules = oracleRuleset(['198.51.100.10', '198.51.100.11']);
  assert.match(rules, /^table inet lantop_oracle \{/);
  assert.match(rules, /type filter hook forward priority -150;/);
  assert.match(rules, /iifname "ppp0" ip daddr 198\.51\.100\.10 counter name "d_198_51_100_10"/);
  assert.match(rules, /ip saddr 198\.51\.100\.11 oifname "ppp0" counter name "u_198_51_100_11"/);
  assert.doesNotMatch(rules, /TRAFFIC/);
});

test('oracle: parses `nft -j list counters`, and a missing counter is an error, not a zero', () => {
  const json = JSON.stringify({
    nftables: [
      { metainfo: { version: '1.0.6' } },
      { counter: { family: 'inet', name: 'd_198_51_100_10', table: 'lantop_oracle', handle: 2, packets: 13, bytes: 100684 } },
      { counter: { family: 'inet', name: 'u_198_51_100_10', table: 'lantop_oracle', handle: 3, packets: 11, bytes: 50580 } },
      { counter: { family: 'inet', name: 'd_198_51_100_10', table: 'someone_else', handle: 2, packets: 1, bytes: 1 } },
    ],
  });
  assert.deepEqual(parseOracleCounters(json, ['198.51.100.10']), {
    '198.51.100.10': { downBytes: 100684, upBytes: 50580, downPackets: 13, upPackets: 11 },
  });
  assert.throws(() => parseOracleCounters(json, ['198.51.100.11']), /missing/);
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
