import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readFixture } from '../../../test/fixtures.js';
import { parseRuleSpecs, splitWords } from './iptables-rule-specs.js';
import { parseSetElements } from './nft-set-elements.js';
import { durationMs, formatDuration } from './nft-duration.js';
import { parseInterfaceAddresses } from './interface-addresses.js';

test('iptables -S: the captured block rule, its quoted comment and the time match', () => {
  const report = parseRuleSpecs(readFixture('blocking/iptables-1.8.9-block-S.txt'));
  assert.deepEqual(report.skipped, []);
  assert.equal(report.lines.length, 2);
  const rule = report.lines[1]!;
  assert.equal(rule.chain, 'LANTOP_BLOCK');
  assert.deepEqual(rule.args, ['-m', 'mac', '--mac-source', '02:00:00:00:00:01', '-m', 'time', '--datestop', '2030-01-01T00:00:00', '-m', 'comment', '--comment', 'lantop-block:x', '-j', 'DROP']);
});

test('iptables -S: a missing chain is said, not a line', () => {
  const report = parseRuleSpecs('iptables: No chain/target/match by that name.\n');
  assert.equal(report.isMissingChain, true);
  assert.deepEqual(report.lines, []);
  assert.equal(parseRuleSpecs('-A X "open quote').skipped.length, 1);
  assert.deepEqual(splitWords(`-m comment --comment "a \\"b\\" c" -j DROP`), ['-m', 'comment', '--comment', 'a "b" c', '-j', 'DROP']);
});

test('nft list table: the captured elements with timeout, expires and comment', () => {
  const report = parseSetElements(readFixture('blocking/nft-1.0.6-block-table.txt'));
  assert.deepEqual(report.skipped, []);
  assert.deepEqual(report.sets.get('macs'), [{ value: '02:00:00:00:00:01', timeoutMs: 90_000, expiresMs: 90_000, comment: 'lantop-block:02:00:00:00:00:01@1767225600' }]);
  assert.equal(report.sets.get('v4')![0]!.timeoutMs, 9_000_000);
});

test('nft elements over several lines, commas inside comments', () => {
  const text = 'table inet lantop_block {\n\tset v4 {\n\t\ttype ipv4_addr\n\t\tflags timeout\n\t\telements = { 198.51.100.10 timeout 5s expires 3s980ms comment "a,b",\n\t\t\t     198.51.100.11 timeout 1h expires 59m }\n\t}\n\tset v6 {\n\t\ttype ipv6_addr\n\t\tflags timeout\n\t}\n}\n';
  const report = parseSetElements(text);
  assert.deepEqual(report.sets.get('v4')!.map((e) => [e.value, e.expiresMs, e.comment]), [['198.51.100.10', 3980, 'a,b'], ['198.51.100.11', 3_540_000, null]]);
  assert.deepEqual(report.sets.get('v6'), []);
});

test('nft durations both ways', () => {
  assert.equal(durationMs('6d23h59m57s980ms'), ((6 * 24 + 23) * 60 + 59) * 60_000 + 57_980);
  assert.equal(durationMs('nonsense'), null);
  assert.equal(formatDuration(9_000_000), '2h30m');
  assert.equal(formatDuration(5_000), '5s');
  assert.equal(formatDuration(1), '1s');
  assert.equal(durationMs(formatDuration(90_061_000)), 90_061_000);
});

test('interface addresses from ip -o and from BusyBox ifconfig agree (captures)', () => {
  const ip = parseInterfaceAddresses(readFixture('blocking/ip-o-addr-link.txt'));
  const ifconfig = parseInterfaceAddresses(readFixture('blocking/busybox-ifconfig.txt'));
  assert.deepEqual(ip, { addresses: ['198.51.100.1', '2001:db8:1::1'], macs: ['02:00:5e:10:00:01'] });
  assert.deepEqual(ifconfig, ip);
});

test('the block parsers never throw', () => {
  fc.assert(fc.property(fc.string(), (s) => {
    parseRuleSpecs(s);
    parseSetElements(`set v4 {\n elements = { ${s}`);
    parseInterfaceAddresses(s);
    durationMs(s);
  }));
});
