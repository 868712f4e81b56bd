import { test } from 'node:test';
import assert from 'node:assert/strict';
import { host, makeSnapshot } from '../../test/fakes/fake-controller.js';
import { compareAddresses } from '../domain/address.js';
import { renderPlainSnapshot } from './usage-table.js';

const snapshot = makeSnapshot([
  host('198.51.100.9', { hostname: null, downBps: 0, upBps: 0, downBytes: 1_000, upBytes: 0 }),
  host('198.51.100.10', { hostname: 'laptop', downBps: 2_000_000, upBps: 50_000, downBytes: 3_000_000_000, upBytes: 20_000_000 }),
  host('198.51.100.11', { hostname: '\u001b[31mtv\u0007', downBps: 500_000, upBps: 150_000, downBytes: 900_000, upBytes: 100_000 }),
]);

test('plain snapshot: aligned columns, busiest first, sanitised names, a totals row', () => {
  assert.equal(
    renderPlainSnapshot(snapshot, 200),
    [
      'NAME             IP                 ↓RATE      ↑RATE   ↓TOTAL   ↑TOTAL     ↓%     ↑%',
      'laptop           198.51.100.10  2.00 MB/s  50.0 kB/s  3.00 GB  20.0 MB  80.0%  25.0%',
      'tv               198.51.100.11   500 kB/s   150 kB/s   900 kB   100 kB  20.0%  75.0%',
      '(no name)        198.51.100.9       0 B/s      0 B/s  1.00 kB      0 B   0.0%   0.0%',
      'TOTAL (3 hosts)                 2.50 MB/s   200 kB/s  3.00 GB  20.1 MB',
      '',
    ].join('\n'),
  );
});

test('plain snapshot: narrow widths drop shares, then totals, then IP — never name or rates', () => {
  const header = (width: number) => renderPlainSnapshot(snapshot, width).split('\n')[0]?.split(/\s+/);
  assert.deepEqual(header(70), ['NAME', 'IP', '↓RATE', '↑RATE', '↓TOTAL', '↑TOTAL']);
  assert.deepEqual(header(56), ['NAME', 'IP', '↓RATE', '↑RATE']);
  assert.deepEqual(header(40), ['NAME', '↓RATE', '↑RATE']);
  for (const width of [40, 56, 70]) {
    for (const line of renderPlainSnapshot(snapshot, width).split('\n')) assert.ok([...line].length <= width, `${width}: ${line}`);
  }
});

test('plain snapshot: an empty router still prints the header and a zero totals row', () => {
  const text = renderPlainSnapshot(makeSnapshot([]), 100);
  assert.match(text, /^NAME\s+IP\s+↓RATE/);
  assert.match(text, /TOTAL \(0 hosts\)\s+0 B\/s\s+0 B\/s\s+0 B\s+0 B\n$/);
});

test('rows tie-break in compareAddresses order: IPv4 numerically, then IPv6, anything else after', () => {
  assert.deepEqual(['198.51.100.10', 'x', '198.51.100.9', '10.0.0.1'].sort(compareAddresses), ['10.0.0.1', '198.51.100.9', '198.51.100.10', 'x']);
  const idle = makeSnapshot(['2001:db8::10', '198.51.100.10', '2001:db8::9', '198.51.100.9'].map((ip) => host(ip)));
  const ips = renderPlainSnapshot(idle, 200).split('\n').slice(1, 5).map((l) => l.split(/\s+/)[2]);
  assert.deepEqual(ips, ['198.51.100.9', '198.51.100.10', '2001:db8::9', '2001:db8::10']);
});

const dualStack = makeSnapshot([
  host('198.51.100.10', { hostname: 'laptop', downBps: 2_000_000, upBps: 50_000, downBytes: 3_000_000_000, upBytes: 20_000_000 }),
  host('2001:db8::1', { hostname: 'phone', downBps: 500_000, upBps: 150_000, downBytes: 900_000, upBytes: 100_000 }),
  host('2001:db8:85a3:1234:5678:9abc:def0:1234', { hostname: null, downBytes: 1_000 }),
]);

test('plain snapshot: IPv6 addresses show whole when the width allows', () => {
  const lines = renderPlainSnapshot(dualStack, 110).split('\n');
  assert.match(lines[0] ?? '', /^NAME\s+IP\s+↓RATE\s+↑RATE\s+↓TOTAL\s+↑TOTAL\s+↓%\s+↑%$/);
  assert.match(lines[2] ?? '', /^phone\s+2001:db8::1\s+500 kB\/s/);
  assert.match(lines[3] ?? '', /^\(no name\)\s+2001:db8:85a3:1234:5678:9abc:def0:1234\s+0 B\/s/);
});

test('plain snapshot: narrow widths drop shares and totals for a long IPv6 address, then cut it — never below the IPv4 width', () => {
  const header = (width: number) => renderPlainSnapshot(dualStack, width).split('\n')[0]?.split(/\s+/);
  assert.deepEqual(header(100), ['NAME', 'IP', '↓RATE', '↑RATE', '↓TOTAL', '↑TOTAL']);
  assert.deepEqual(header(80), ['NAME', 'IP', '↓RATE', '↑RATE']);
  const at56 = renderPlainSnapshot(dualStack, 56);
  assert.match(at56, /\(no name\)\s+2001:db8:85a3:12…\s+0 B\/s/);
  assert.match(at56, /laptop\s+198\.51\.100\.10\s+2\.00 MB\/s/);
  assert.deepEqual(header(40), ['NAME', '↓RATE', '↑RATE']);
  for (const width of [40, 56, 70, 80, 100]) {
    for (const line of renderPlainSnapshot(dualStack, width).split('\n')) assert.ok([...line].length <= width, `${width}: ${line}`);
  }
});
