import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionTracker, connectionsOf, groupConnections, sortConnections, sortGroups } from './connections.js';
import { serviceName } from './service-names.js';
import type { DeviceConnection } from './connection-model.js';
import { parseConntrack } from '../router/parsers/conntrack.js';
import { readFixture } from '../../test/fixtures.js';

const DEVICE = ['198.51.100.10', '2001:0db8:0001:0000:0000:0000:0000:0010'];
const labOn = () => parseConntrack(readFixture('conntrack/lantop-lab/nf_conntrack-acct-on.txt')).entries;

describe('connectionsOf (lab capture: masquerade, a port forward, IPv6 without NAT)', () => {
  const rows = connectionsOf(labOn(), DEVICE, 1000);

  test('every entry of the device, IPv4 and IPv6, and only those', () => {
    assert.equal(rows.length, 6);
    assert.equal(connectionsOf(labOn(), ['198.51.100.11'], 0).length, 0);
    assert.equal(connectionsOf(labOn(), ['2001:db8:1::10'], 0).length, 2);
  });

  test('outbound through SNAT: the remote is the real server, never the router WAN address', () => {
    const iperf = rows.find((r) => r.remotePort === 5201)!;
    assert.equal(iperf.initiator, 'device');
    assert.equal(iperf.remote, '203.0.113.1');
    assert.equal(iperf.localAddress, '198.51.100.10');
    const entry = labOn().find((e) => e.original.dport === 5201)!;
    assert.equal(iperf.upBytes, entry.original.bytes, 'original bytes went up');
    assert.equal(iperf.downBytes, entry.reply.bytes);
    assert.ok(iperf.upBytes! > 100_000 && iperf.downBytes! < 10_000, 'the lab sent 100 000 bytes up'); 
    assert.equal(iperf.service, 'iperf3');
    assert.ok(rows.every((r) => r.remote !== '203.0.113.2'));
  });

  test('a port forward: initiated by the remote, bytes the other way, service from the device port', () => {
    const ssh = rows.find((r) => r.initiator === 'remote')!;
    assert.equal(ssh.remote, '203.0.113.1');
    assert.equal(ssh.localPort, 22);
    const entry = labOn().find((e) => e.original.dport === 8022)!;
    assert.equal(ssh.downBytes, entry.original.bytes, 'original bytes came down to the device');
    assert.equal(ssh.upBytes, entry.reply.bytes);
    assert.notEqual(ssh.downBytes, ssh.upBytes);
    assert.equal(ssh.service, 'ssh');
  });

  test('IPv6, icmp and a stable key', () => {
    const https6 = rows.find((r) => r.remote === '2001:db8:ff::1' && r.protocol === 'tcp')!;
    assert.equal(https6.service, 'https');
    assert.ok(https6.upBytes! > 50_000, 'the lab sent 50 000 bytes up over IPv6');
    const ping = rows.find((r) => r.protocol === 'icmp')!;
    assert.equal(ping.remotePort, null);
    assert.equal(ping.service, null);
    const again = connectionsOf(labOn(), DEVICE, 5000);
    assert.deepEqual(again.map((r) => r.key), rows.map((r) => r.key));
    assert.equal(new Set(rows.map((r) => r.key)).size, rows.length);
  });

  test('an entry listed twice (two commands) is one connection; bad device addresses are ignored', () => {
    const entries = [...labOn(), ...labOn()];
    assert.equal(connectionsOf(entries, DEVICE, 0).length, 6);
    assert.deepEqual(connectionsOf(labOn(), ['not an address'], 0), []);
  });

  test('the published OpenWrt capture: the LAN host 192.168.1.10', () => {
    const entries = parseConntrack(readFixture('conntrack/openwrt-luci-5909/conntrack-L.txt')).entries;
    const mine = connectionsOf(entries, ['192.168.1.10'], 0);
    assert.equal(mine.length, 3);
    assert.equal(mine[2]!.isOffloaded, true);
    assert.equal(mine[1]!.remote, '192.168.1.1');
    assert.equal(mine[1]!.service, 'http');
  });
});

function row(key: string, downBytes: number | null, upBytes: number | null, extra: Partial<DeviceConnection> = {}): DeviceConnection {
  return {
    key,
    protocol: 'tcp',
    initiator: 'device',
    localAddress: '198.51.100.10',
    localPort: 40000,
    remote: '203.0.113.7',
    remotePort: 443,
    downBytes,
    upBytes,
    downBps: 0,
    upBps: 0,
    state: 'ESTABLISHED',
    isOffloaded: false,
    ageMs: 0,
    timeoutS: 100,
    remoteName: null,
    service: 'https',
    ...extra,
  };
}

describe('ConnectionTracker', () => {
  test('rates from the previous read of the same key; 0 on first sight; age since first seen', () => {
    const t = new ConnectionTracker();
    const first = t.update(10_000, [row('a', 1000, 100)]);
    assert.equal(first[0]!.downBps, 0);
    assert.equal(first[0]!.ageMs, 0);
    const second = t.update(12_000, [row('a', 5000, 300), row('b', 10, 10)]);
    assert.equal(second[0]!.downBps, 2000);
    assert.equal(second[0]!.upBps, 100);
    assert.equal(second[0]!.ageMs, 2000);
    assert.equal(second[1]!.downBps, 0);
  });

  test('a counter that went down is a new connection: rate 0, age from now', () => {
    const t = new ConnectionTracker();
    t.update(0, [row('a', 5000, 500)]);
    const reused = t.update(1000, [row('a', 100, 600)]);
    assert.equal(reused[0]!.downBps, 0);
    assert.equal(reused[0]!.upBps, 0);
    assert.equal(reused[0]!.ageMs, 0);
    const next = t.update(2000, [row('a', 1100, 700)]);
    assert.equal(next[0]!.downBps, 1000);
    assert.equal(next[0]!.ageMs, 1000);
  });

  test('without accounting the rates stay 0 and the age still grows', () => {
    const t = new ConnectionTracker();
    t.update(0, [row('a', null, null)]);
    const r = t.update(3000, [row('a', null, null)]);
    assert.equal(r[0]!.downBps, 0);
    assert.equal(r[0]!.ageMs, 3000);
  });

  test('no time elapsed: the previous rates are kept, not divided by zero', () => {
    const t = new ConnectionTracker();
    t.update(0, [row('a', 0, 0)]);
    t.update(1000, [row('a', 1000, 0)]);
    const same = t.update(1000, [row('a', 1000, 0)]);
    assert.equal(same[0]!.downBps, 1000);
  });

  test('forgets keys unseen for a while and stays within maxEntries', () => {
    const t = new ConnectionTracker({ forgetAfterMs: 5000, maxEntries: 3 });
    t.update(0, [row('a', 0, 0)]);
    t.update(10_000, [row('b', 0, 0)]);
    assert.equal(t.size, 1, 'a was forgotten');
    const back = t.update(11_000, [row('a', 500, 0)]);
    assert.equal(back[0]!.downBps, 0, 'a forgotten key is a new connection');
    const many = Array.from({ length: 10 }, (_, i) => row(`k${i}`, 0, 0));
    assert.equal(t.update(12_000, many).length, 10, 'all rows come back');
    assert.equal(t.size, 3);
    const later = t.update(13_000, [row('k9', 2000, 0), row('k0', 2000, 0)]);
    assert.equal(later[0]!.downBps, 2000, 'the most recently seen kept their history');
    assert.equal(later[1]!.downBps, 0, 'the oldest were dropped');
  });
});

describe('groupConnections and sorting', () => {
  const rows = [
    row('c1', 100, 50, { remote: '203.0.113.7', remotePort: 443, downBps: 10, upBps: 1 }),
    row('c2', 300, 0, { remote: '203.0.113.7', remotePort: 80, service: 'http', downBps: 1, upBps: 0, remoteName: 'cdn.example' }),
    row('c3', null, null, { remote: '203.0.113.9', protocol: 'udp', remotePort: 443, service: 'quic', downBps: 50, upBps: 0 }),
    row('c4', 5, 5, { remote: '2001:db8:ff::1', protocol: 'icmpv6', remotePort: null, localPort: null, service: null }),
  ];

  test('by remote host: counts, sums, null only when no connection has bytes', () => {
    const g = groupConnections(rows, 'remote');
    assert.deepEqual(g.map((x) => [x.label, x.connections, x.downBytes, x.upBytes, x.downBps]), [
      ['203.0.113.7', 2, 400, 50, 11],
      ['203.0.113.9', 1, null, null, 50],
      ['2001:db8:ff::1', 1, 5, 5, 0],
    ]);
    assert.equal(g[0]!.remoteName, 'cdn.example');
  });

  test('by port and protocol, with the service name', () => {
    assert.deepEqual(groupConnections(rows, 'port').map((x) => x.label), ['tcp/443 https', 'tcp/80 http', 'udp/443 quic', 'icmpv6']);
    assert.deepEqual(groupConnections(rows, 'protocol').map((x) => [x.label, x.connections]), [['tcp', 2], ['udp', 1], ['icmpv6', 1]]);
    assert.deepEqual(groupConnections(rows, 'connections').map((x) => x.label), ['tcp 203.0.113.7:443', 'tcp 203.0.113.7:80', 'udp 203.0.113.9:443', 'icmpv6 [2001:db8:ff::1]']);
  });

  test('sort by bytes (nulls last) and by rate, ties by key', () => {
    assert.deepEqual(sortConnections(rows, 'bytes').map((r) => r.key), ['c2', 'c1', 'c4', 'c3']);
    assert.deepEqual(sortConnections(rows, 'rate').map((r) => r.key), ['c3', 'c1', 'c2', 'c4']);
    const tied = [row('z', 1, 1), row('a', 1, 1), row('m', 1, 1)];
    assert.deepEqual(sortConnections(tied, 'bytes').map((r) => r.key), ['a', 'm', 'z']);
    assert.deepEqual(sortGroups(groupConnections(rows, 'remote'), 'bytes').map((g) => g.label), ['203.0.113.7', '2001:db8:ff::1', '203.0.113.9']);
    assert.deepEqual(sortGroups(groupConnections(rows, 'remote'), 'rate').map((g) => g.label), ['203.0.113.9', '203.0.113.7', '2001:db8:ff::1']);
  });
});

describe('serviceName', () => {
  test('well-known ports by protocol', () => {
    assert.equal(serviceName('tcp', 443), 'https');
    assert.equal(serviceName('udp', 443), 'quic');
    assert.equal(serviceName('udp', 53), 'dns');
    assert.equal(serviceName('tcp', 53), 'dns');
    assert.equal(serviceName('udp', 51820), 'wireguard');
    assert.equal(serviceName('tcp', 51820), null);
    assert.equal(serviceName('udp', 3478), 'stun');
    assert.equal(serviceName('tcp', 993), 'imaps');
    assert.equal(serviceName('icmp', null), null);
    assert.equal(serviceName('gre', 47), null);
    assert.equal(serviceName('tcp', 40000), null);
  });
});
