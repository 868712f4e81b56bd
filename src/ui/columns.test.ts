import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addressColumnWidth, fitText, layoutColumns, widenColumn, type ColumnSpec } from './columns.js';
import { LIVE_COLUMNS } from './screens/live-screen.js';

const specs: ColumnSpec[] = [
  { id: 'name', header: 'NAME', width: 10, maxWidth: 20, priority: 9 },
  { id: 'ip', header: 'IP', width: 15, priority: 5 },
  { id: 'down', header: '↓', width: 10, priority: 8 },
  { id: 'spark', header: 'S', width: 20, priority: 1 },
];

test('layoutColumns drops the lowest priority first and gives spare room to growable columns', () => {
  const ids = (w: number) => layoutColumns(specs, w).map((c) => c.id);
  assert.deepEqual(ids(200), ['name', 'ip', 'down', 'spark']);
  assert.deepEqual(ids(40), ['name', 'ip', 'down']);
  assert.deepEqual(ids(25), ['name', 'down']);
  assert.deepEqual(ids(5), ['name']);
  const wide = layoutColumns(specs, 200);
  assert.equal(wide.find((c) => c.id === 'name')?.width, 20);
  // Never wider than the terminal.
  for (const w of [20, 37, 60, 80, 100, 120]) {
    const placed = layoutColumns(specs, w);
    assert.ok(placed.reduce((s, c) => s + c.width, 0) + placed.length - 1 <= w, `fits in ${w}`);
  }
});

test('live usage columns: narrow terminals keep name and both rates, lose sparkline and bar first', () => {
  const ids = (w: number) => layoutColumns(LIVE_COLUMNS, w).map((c) => c.id);
  for (const w of [40, 60, 80, 100, 140]) {
    const shown = ids(w);
    for (const kept of ['name', 'down', 'up']) assert.ok(shown.includes(kept as never), `${kept} at ${w}`);
  }
  assert.ok(!ids(100).includes('spark'));
  assert.ok(ids(140).includes('spark') && ids(140).includes('bar'));
  assert.deepEqual(ids(60), ['mark', 'name', 'down', 'up', 'downPct', 'upPct']);
});

test('address columns: widened for IPv6 only, shrunk back to the IPv4 width before being dropped', () => {
  assert.equal(addressColumnWidth([{ ip: '198.51.100.10' }, { ip: null }]), 13);
  assert.equal(addressColumnWidth([{ ip: '2001:db8:85a3:1234:5678:9abc:def0:1234' }, { ip: '198.51.100.10' }]), 38);
  assert.equal(addressColumnWidth([{ ip: 'x'.repeat(500) }]), 45);
  assert.equal(widenColumn(specs, 'ip', 13), specs, 'IPv4 only: the same specs');
  assert.equal(widenColumn(specs, 'ip', 15), specs);
  const wide = widenColumn(specs, 'ip', 38);
  const ipOf = (w: number) => layoutColumns(wide, w).find((c) => c.id === 'ip')?.width;
  const ids = (w: number) => layoutColumns(wide, w).map((c) => c.id);
  assert.deepEqual(ids(200), ['name', 'ip', 'down', 'spark']);
  assert.equal(ipOf(200), 38);
  // The sparkline (priority 1) gives way before the address (5) is cut…
  assert.deepEqual([ids(60), ipOf(60)], [['name', 'ip', 'down'], 38]);
  // …then the address shrinks, never below 15, and only then goes.
  assert.equal(ipOf(45), 23);
  assert.equal(ipOf(37), 15);
  assert.deepEqual(ids(36), ['name', 'down']);
  for (const w of [20, 36, 37, 45, 60, 80, 100]) {
    const placed = layoutColumns(wide, w);
    assert.ok(placed.reduce((s, c) => s + c.width, 0) + placed.length - 1 <= w, `fits in ${w}`);
  }
});

test('fitText pads, right-aligns and cuts with an ellipsis', () => {
  assert.equal(fitText('ab', 4), 'ab  ');
  assert.equal(fitText('ab', 4, 'right'), '  ab');
  assert.equal(fitText('abcdef', 4), 'abc…');
  assert.equal(fitText('abc', 1), 'a');
});
