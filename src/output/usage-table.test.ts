import { test } from 'node:test';
import assert from 'node:assert/strict';
import { host, makeSnapshot } from '../../test/fakes/fake-controller.js';
import { compareIp, renderPlainSnapshot } from './usage-table.js';

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

test('compareIp orders IPv4 numerically and anything else after', () => {
  assert.deepEqual(['198.51.100.10', 'x', '198.51.100.9', '10.0.0.1'].sort(compareIp), ['10.0.0.1', '198.51.100.9', '198.51.100.10', 'x']);
});
