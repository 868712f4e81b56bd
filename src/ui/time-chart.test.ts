import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { utcZone } from '../domain/periods.js';
import { displayWidth } from './columns.js';
import { isPrintableAscii } from './glyph-mode.js';
import { bucketLabel, LABEL_WIDTH, renderTimeChart, type TimeChartInput } from './time-chart.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 21);
const hours = (n: number) => Array.from({ length: n }, (_, k) => T0 + k * HOUR);

const base = (fields: Partial<TimeChartInput>): TimeChartInput => ({ down: [], up: [], bucketStartsMs: [], granularity: 'hour', width: 80, height: 8, mode: 'blocks', zone: utcZone, ...fields });

const value = fc.oneof(fc.constant(null), fc.double({ noNaN: false }), fc.constantFrom(0, -1, Number.MAX_VALUE, Infinity, -Infinity, NaN, 2 ** 53), fc.integer({ min: 0, max: 1e12 }));

test('property: exactly `height` lines of exactly `width` cells, whatever the numbers', () => {
  fc.assert(
    fc.property(
      fc.array(value, { maxLength: 400 }),
      fc.array(value, { maxLength: 400 }),
      fc.integer({ min: 0, max: 400 }),
      fc.constantFrom('minute', 'hour', 'day' as const),
      fc.oneof(fc.integer({ min: 0, max: 200 }), fc.constantFrom(NaN, -5, 12.7)),
      fc.oneof(fc.integer({ min: 0, max: 30 }), fc.constantFrom(NaN, -1, 3.5)),
      fc.constantFrom('braille', 'blocks', 'ascii' as const),
      fc.integer({ min: 0, max: 4e12 }),
      (down, up, n, granularity, width, height, mode, start) => {
        const len = { minute: 60_000, hour: HOUR, day: 86_400_000 }[granularity];
        const bucketStartsMs = Array.from({ length: n }, (_, k) => start + k * len);
        const lines = renderTimeChart({ down, up, bucketStartsMs, granularity, width, height, mode, zone: utcZone });
        const h = Number.isFinite(height) ? Math.max(0, Math.floor(height)) : 0;
        const w = Number.isFinite(width) ? Math.max(0, Math.floor(width)) : 0;
        assert.equal(lines.length, h);
        for (const line of lines) assert.equal(displayWidth(line), w, JSON.stringify(line));
        if (mode === 'ascii') for (const line of lines) assert.ok(isPrintableAscii(line), line);
      },
    ),
    { numRuns: 300 },
  );
});

test('download grows up from the middle, upload hangs down from it, each with its peak', () => {
  const lines = renderTimeChart(base({ down: [0, 50, 100, 0], up: [10, 0, 0, 10], bucketStartsMs: hours(4), width: 41, height: 5 }));
  assert.equal(lines.length, 5);
  // 2 download rows, 2 upload rows, the axis; 30 plot cells, 7 per bucket (2 left over).
  const plot = lines.map((l) => l.slice(LABEL_WIDTH));
  assert.match(lines[0]!, /^↓ 100 B/);
  assert.match(lines[3]!, /^↑ 10 B/);
  assert.equal(plot[0], ' '.repeat(14) + '█'.repeat(7) + ' '.repeat(9));
  assert.equal(plot[1], ' '.repeat(7) + '█'.repeat(14) + ' '.repeat(9));
  assert.equal(plot[2], '█'.repeat(7) + ' '.repeat(14) + '█'.repeat(7) + '  ');
  assert.equal(plot[3], '█'.repeat(7) + ' '.repeat(14) + '█'.repeat(7) + '  ');
  assert.match(lines[4]!, /^ {10}└00:00──01:00──02:00──03:00/);
});

test('unknown buckets are shaded beside the middle, zero is blank; a trickle still shows', () => {
  for (const [mode, unknown] of [['blocks', '░'], ['braille', '░'], ['ascii', '?']] as const) {
    const lines = renderTimeChart(base({ mode, down: [null, 0, 1, 1e9], up: [null, 0, 0, 0], bucketStartsMs: hours(4), width: 42, height: 5 }));
    const plot = lines.map((l) => l.slice(LABEL_WIDTH));
    // 31 cells, 7 per bucket in blocks/ASCII (3 dot columns of braille's 62… per bucket).
    assert.ok(plot[1]!.startsWith(unknown.repeat(7)), `${mode}: ${plot[1]}`);
    assert.ok(plot[2]!.startsWith(unknown), `${mode} upload side: ${plot[2]}`);
    assert.equal(plot[0]!.slice(0, 14).trim(), '', `${mode}: zero and unknown leave the far rows blank`);
    // 1 byte against 1 GB is still at least the lowest mark.
    assert.notEqual(plot[1]!.slice(15, 20).trim(), '', `${mode}: the trickle shows`);
  }
});

test('more buckets than columns: each column shows its busiest bucket; labels are round times', () => {
  const n = 360;
  const starts = Array.from({ length: n }, (_, k) => Date.UTC(2026, 10, 21, 9, 31) + k * 60_000);
  const down = starts.map((_, k) => (k === 200 ? 1000 : 1));
  const lines = renderTimeChart({ down, up: down.map(() => 0), bucketStartsMs: starts, granularity: 'minute', width: 80, height: 6, mode: 'blocks', zone: utcZone });
  const top = lines[0]!.slice(LABEL_WIDTH);
  assert.equal(top.replace(/ /g, '').length, 1, 'one column holds the spike');
  const axis = lines[lines.length - 1]!;
  const labels = axis.match(/\d\d:\d\d/g) ?? [];
  assert.ok(labels.length >= 4, axis);
  for (const l of labels) assert.equal(Number(l.slice(3)) % 30, 0, `round: ${l}`);
});

test('bucket labels: HH:MM in the zone for minutes and hours, the UTC day for days', () => {
  assert.equal(bucketLabel(Date.UTC(2026, 10, 21, 9, 5), 'minute', utcZone), '09:05');
  assert.equal(bucketLabel(Date.UTC(2026, 10, 21, 9), 'hour', { ...utcZone, parts: (ms) => utcZone.parts(ms + 2 * HOUR) }), '11:00');
  assert.equal(bucketLabel(Date.UTC(2026, 10, 3), 'day', utcZone), '03');
  const month = Array.from({ length: 30 }, (_, k) => Date.UTC(2026, 10, 1) + k * 86_400_000);
  const axis = renderTimeChart({ down: [], up: [], bucketStartsMs: month, granularity: 'day', width: 80, height: 3, mode: 'ascii' }).at(-1)!;
  assert.match(axis, /^ {10}\+01-+03-+05/);
});
