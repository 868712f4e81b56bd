import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { counterBitsOf, parseNetDev, readNetDev } from './net-dev.js';
import { readFixture } from '../../../test/fixtures.js';

const K = 'net-dev/kernel-6.18.44';

describe('modern format (kernel 6.18, real capture)', () => {
  test('every interface with its bytes and packets; the header lines are no rows', () => {
    const report = readNetDev(readFixture(`${K}/proc-net-dev.txt`));
    assert.deepEqual([...report.interfaces.keys()].sort(), ['br-lan', 'eth1', 'lan1', 'lan1p', 'lo', 'tun0']);
    assert.deepEqual(report.interfaces.get('eth1'), { rxBytes: 12016268, rxPackets: 202, txBytes: 9668, txPackets: 102 });
    assert.deepEqual(report.interfaces.get('br-lan'), { rxBytes: 0, rxPackets: 0, txBytes: 108, txPackets: 2 });
    assert.deepEqual(report.skipped, []);
    assert.equal(report.format, 'modern', '8-digit rx bytes after ": "');
    assert.equal(counterBitsOf(report, 'eth1'), 64);
  });

  test('below 10 MB the two formats print the same text: format unknown, counters taken as 32-bit', () => {
    const text = readFixture(`${K}/proc-net-dev.txt`).split('\n').filter((l) => !l.includes('eth1')).join('\n');
    const report = readNetDev(text);
    assert.equal(report.format, 'unknown');
    assert.equal(counterBitsOf(report, 'br-lan'), 32);
    assert.equal(counterBitsOf(report, 'br-lan', 64), 64, 'the caller\'s hint decides then');
  });
});

describe('old format (published)', () => {
  test('CentOS 6.4 (shirou/gopsutil#28): name and number glued, split on the first colon', () => {
    const report = readNetDev(readFixture('net-dev/published/gopsutil-28-centos-6.4.txt'));
    assert.equal(report.format, 'glued');
    assert.deepEqual(report.interfaces.get('lo'), { rxBytes: 30593187, rxPackets: 23551, txBytes: 30593187, txPackets: 23551 });
    assert.deepEqual(report.interfaces.get('eth1'), { rxBytes: 79088109, rxPackets: 201292, txBytes: 236038842, txPackets: 234067 });
    assert.equal(counterBitsOf(report, 'eth1'), 32);
    assert.equal(counterBitsOf(report, 'eth1', 64), 64);
  });

  test('CentOS 5 (shirou/gopsutil#377): a glued count over 2^32 proves 64-bit counters, for every interface', () => {
    const report = readNetDev(readFixture('net-dev/published/gopsutil-377-centos-5.txt'));
    assert.equal(report.format, 'glued');
    assert.deepEqual(report.interfaces.get('eth0'), { rxBytes: 5019464820, rxPackets: 14784542, txBytes: 8907551793, txPackets: 12498214 });
    assert.equal(counterBitsOf(report, 'lo'), 64);
    assert.equal(counterBitsOf(report, 'lo', 32), 64, 'proof beats the hint');
  });

  test('in the modern format only the interface\'s own wide counter proves 64 bits', () => {
    const text = [
      '    lo: 5000000000 1000 0 0 0 0 0 0 5000000000 1000 0 0 0 0 0 0',
      '  eth0: 12345678 1000 0 0 0 0 0 0 1000 10 0 0 0 0 0 0',
    ].join('\n');
    const report = readNetDev(text);
    assert.equal(report.format, 'modern');
    assert.equal(counterBitsOf(report, 'lo'), 64);
    assert.equal(counterBitsOf(report, 'eth0', 32), 32);
  });
});

test('odd lines are skipped and reported, never misread', () => {
  const text = [
    'Inter-|   Receive                                                |  Transmit',
    'team0:1:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0',
    'eth0;reboot: 1 1 0 0 0 0 0 0 1 1 0 0 0 0 0 0',
    '  eth2: 1 2 3',
    '  eth3: 1 x 0 0 0 0 0 0 1 1 0 0 0 0 0 0',
    '  eth4: 99999999999999999999 1 0 0 0 0 0 0 1 1 0 0 0 0 0 0',
    'cat: can\'t open \'/proc/net/dev\'',
    'garbage without colon',
    '  eth1: 10 1 0 0 0 0 0 0 20 2 0 0 0 0 0 0\r',
  ].join('\n');
  const report = readNetDev(text);
  assert.deepEqual([...report.interfaces.keys()], ['eth1']);
  assert.deepEqual(report.interfaces.get('eth1'), { rxBytes: 10, rxPackets: 1, txBytes: 20, txPackets: 2 });
  assert.equal(report.skipped.length, 7);
});

test('parseNetDev is the map of readNetDev', () => {
  const text = readFixture('net-dev/published/gopsutil-28-centos-6.4.txt');
  assert.deepEqual(parseNetDev(text), readNetDev(text).interfaces);
});

test('never throws, on random text or any prefix of a capture', () => {
  const capture = readFixture(`${K}/wan-answer-eth1-after.txt`);
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.nat(capture.length).map((n) => capture.slice(0, n))), (s) => {
      const report = readNetDev(s);
      for (const c of report.interfaces.values()) for (const v of Object.values(c)) assert.ok(Number.isSafeInteger(v) && v >= 0);
    }),
  );
  assert.equal(readNetDev(undefined as unknown as string).interfaces.size, 0);
});
