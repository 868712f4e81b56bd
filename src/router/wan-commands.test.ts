import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { linkHeaderOf, parseWanAnswer, wanCountersCommand } from './wan-commands.js';
import { readFixture } from '../../test/fixtures.js';

const K = 'net-dev/kernel-6.18.44';

test('the command: read-only, the validated name only, short', () => {
  assert.equal(wanCountersCommand('pppoe-wan'), 'cat /proc/net/dev;echo "__LT""WAN__";cat /sys/class/net/pppoe-wan/type 2>/dev/null');
  assert.ok(wanCountersCommand('eth0.2').length < 90);
  for (const bad of ['', 'eth0;reboot', 'a b', '$(id)', 'x'.repeat(16), '../../etc', null as unknown as string]) {
    assert.throws(() => wanCountersCommand(bad), TypeError, String(bad));
  }
});

test('the command runs in a POSIX shell and prints the marker only once (a telnet echo of the line never holds it)', () => {
  const command = wanCountersCommand('lo');
  assert.ok(!command.includes('__LTWAN__'));
  const out = execFileSync('sh', ['-c', command], { encoding: 'utf8' });
  assert.equal(out.split('\n').filter((l) => l === '__LTWAN__').length, 1);
  const sample = parseWanAnswer(out, 'lo', 1);
  assert.equal(sample?.linkType, 772, 'ARPHRD_LOOPBACK: an unknown link type here');
  assert.equal(sample?.isLinkHeaderKnown, false);
});

test('real answer over Ethernet: 14 bytes of header a packet; Δbytes − Δpackets × 14 is what netfilter counted', () => {
  const before = parseWanAnswer(readFixture(`${K}/wan-answer-eth1-before.txt`), 'eth1', 1000);
  const after = parseWanAnswer(readFixture(`${K}/wan-answer-eth1-after.txt`), 'eth1', 3000);
  assert.deepEqual(before, {
    atMs: 1000, interface: 'eth1', rxBytes: 12013142, rxPackets: 199, txBytes: 6542, txPackets: 99,
    linkHeaderBytes: 14, isLinkHeaderKnown: true, counterBits: 64, linkType: 1,
  });
  assert.ok(before && after);
  // Three pings of 1000 bytes of payload: 1028 bytes at layer 3 each way (fixtures SOURCE.md).
  assert.equal(after.rxBytes - before.rxBytes - (after.rxPackets - before.rxPackets) * after.linkHeaderBytes, 3 * 1028);
  assert.equal(after.txBytes - before.txBytes - (after.txPackets - before.txPackets) * after.linkHeaderBytes, 3 * 1028);
});

test('real answer for a tun device (ARPHRD_NONE): no link header', () => {
  const sample = parseWanAnswer(readFixture(`${K}/wan-answer-tun0.txt`), 'tun0', 5);
  assert.equal(sample?.linkType, 65534);
  assert.equal(sample?.linkHeaderBytes, 0);
  assert.equal(sample?.isLinkHeaderKnown, true);
});

test('an interface that is not there: null', () => {
  assert.equal(parseWanAnswer(readFixture(`${K}/wan-answer-missing.txt`), 'wwan0', 5), null);
  assert.equal(parseWanAnswer('sh: cat: not found', 'ppp0', 5), null);
  assert.equal(parseWanAnswer(readFixture(`${K}/wan-answer-eth1-after.txt`), 'eth1;id', 5), null);
});

test('PPP counts no header; no type line (sysfs missing) → 0, said so; the old glued format → 32-bit', () => {
  const old = readFixture('net-dev/published/gopsutil-28-centos-6.4.txt');
  const ppp = parseWanAnswer(`${old}__LTWAN__\r\n512\r\n`, 'eth1', 7);
  assert.equal(ppp?.linkHeaderBytes, 0);
  assert.equal(ppp?.isLinkHeaderKnown, true);
  assert.equal(ppp?.counterBits, 32);
  assert.equal(ppp?.rxBytes, 79088109);
  const noType = parseWanAnswer(`${old}__LTWAN__\n`, 'eth1', 7);
  assert.equal(noType?.linkType, null);
  assert.equal(noType?.linkHeaderBytes, 0);
  assert.equal(noType?.isLinkHeaderKnown, false);
  assert.equal(parseWanAnswer(old, 'eth1', 7, 64)?.counterBits, 64, 'no marker at all: still read; the hint applies');
});

test('link header table', () => {
  assert.deepEqual(linkHeaderOf(1), { linkHeaderBytes: 14, isLinkHeaderKnown: true });
  assert.deepEqual(linkHeaderOf(512), { linkHeaderBytes: 0, isLinkHeaderKnown: true });
  assert.deepEqual(linkHeaderOf(24), { linkHeaderBytes: 0, isLinkHeaderKnown: false });
  assert.deepEqual(linkHeaderOf(null), { linkHeaderBytes: 0, isLinkHeaderKnown: false });
});

test('parseWanAnswer never throws', () => {
  const capture = readFixture(`${K}/wan-answer-eth1-after.txt`);
  fc.assert(fc.property(fc.oneof(fc.string(), fc.nat(capture.length).map((n) => capture.slice(0, n))), fc.string(), (s, name) => {
    parseWanAnswer(s, 'eth1', 0);
    parseWanAnswer(s, name, 0);
  }));
});
