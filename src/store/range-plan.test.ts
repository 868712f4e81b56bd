import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BUCKET_MS, planRange, type Availability, type RangePlan } from './range-plan.js';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const T0 = Date.UTC(2024, 2, 1); // a UTC midnight
const ALL: Availability = { minutesFromMs: 0, hoursFromMs: 0, daysFromMs: 0 };

const summary = (p: RangePlan) => p.pieces.map((x) => `${x.granularity}:${x.toBucket - x.fromBucket}`);

describe('planRange', () => {
  test('a month with minutes everywhere: minutes at the ragged edges, hours, then whole days', () => {
    const p = planRange(T0 + 22 * HOUR + 30 * MIN, T0 + 31 * DAY + 2 * HOUR + 15 * MIN, ALL);
    assert.deepEqual(summary(p), ['minute:30', 'hour:1', 'day:30', 'hour:2', 'minute:15']);
    assert.deepEqual(p.effective, p.requested);
    assert.equal(p.startPrecision, 'minute');
  });

  test('a range inside one hour uses minutes only; an empty range plans nothing', () => {
    assert.deepEqual(summary(planRange(T0 + 10 * MIN, T0 + 50 * MIN, ALL)), ['minute:40']);
    assert.deepEqual(planRange(T0, T0, ALL).pieces, []);
  });

  test('sub-minute bounds snap up to the next minute (a bucket counts when its start is inside)', () => {
    const p = planRange(T0 + 30_000, T0 + 5 * MIN + 1, ALL);
    assert.deepEqual(p.effective, { startMs: T0 + MIN, endMs: T0 + 6 * MIN });
    assert.deepEqual(p.pieces, [{ granularity: 'minute', fromBucket: (T0 + MIN) / MIN, toBucket: (T0 + 6 * MIN) / MIN }]);
  });

  test('where minutes were pruned the start snaps to the hour and says so', () => {
    const a: Availability = { minutesFromMs: T0 + 5 * DAY, hoursFromMs: T0, daysFromMs: 0 };
    const p = planRange(T0 + DAY + 10 * HOUR + 20 * MIN, T0 + 6 * DAY + 30 * MIN, a);
    assert.equal(p.startPrecision, 'hour');
    assert.equal(p.endPrecision, 'minute');
    assert.deepEqual(p.effective, { startMs: T0 + DAY + 11 * HOUR, endMs: T0 + 6 * DAY + 30 * MIN });
    assert.deepEqual(summary(p), ['hour:13', 'day:4', 'minute:30']);
  });

  test('where hours were pruned too, day precision; before daysFrom nothing', () => {
    const a: Availability = { minutesFromMs: T0 + 100 * DAY, hoursFromMs: T0 + 90 * DAY, daysFromMs: T0 + 10 * DAY };
    const p = planRange(T0 + 3 * HOUR, T0 + 20 * DAY + 5 * HOUR, a);
    assert.equal(p.startPrecision, 'day');
    assert.equal(p.endPrecision, 'day');
    assert.deepEqual(p.effective, { startMs: T0 + 10 * DAY, endMs: T0 + 21 * DAY });
    assert.deepEqual(summary(p), ['day:11']);
  });

  test('property: the plan covers exactly the effective range, with data that was kept', () => {
    // Synthetic traffic: every minute m carries f(m) bytes; the tables hold what pruning left.
    const f = (m: number) => (m * 7919) % 1009;
    const arb = fc.record({
      minutesHoursAfter: fc.integer({ min: 0, max: 48 }),
      hoursDaysAfter: fc.integer({ min: 0, max: 3 }),
      daysFromDay: fc.integer({ min: 0, max: 2 }),
      start: fc.integer({ min: 0, max: 6 * DAY }),
      length: fc.integer({ min: 0, max: 3 * DAY }),
    });
    fc.assert(
      fc.property(arb, (x) => {
        const daysFromMs = T0 + x.daysFromDay * DAY;
        const hoursFromMs = daysFromMs + x.hoursDaysAfter * DAY;
        const minutesFromMs = hoursFromMs + x.minutesHoursAfter * HOUR;
        const a = { minutesFromMs, hoursFromMs, daysFromMs };
        const start = T0 + x.start;
        const end = start + x.length;
        const p = planRange(start, end, a);
        const unit = (g: RangePlan['startPrecision']) => BUCKET_MS[g];
        assert.ok(p.effective.startMs >= start && p.effective.startMs - start < Math.max(unit(p.startPrecision), daysFromMs - start + DAY));
        assert.ok(p.effective.endMs >= end || p.effective.endMs === p.effective.startMs);
        assert.ok(p.effective.endMs - end < unit(p.endPrecision) || p.effective.endMs === p.effective.startMs);
        let planned = 0;
        for (const piece of p.pieces) {
          const len = BUCKET_MS[piece.granularity];
          const from = { minute: minutesFromMs, hour: hoursFromMs, day: daysFromMs }[piece.granularity];
          assert.ok(piece.fromBucket * len >= from, `${piece.granularity} piece uses pruned buckets`);
          for (let b = piece.fromBucket; b < piece.toBucket; b++) {
            for (let m = (b * len) / MIN; m < ((b + 1) * len) / MIN; m++) planned += f(m);
          }
        }
        let truth = 0;
        for (let m = p.effective.startMs / MIN; m < p.effective.endMs / MIN; m++) truth += f(m);
        assert.equal(planned, truth);
        // Pieces are disjoint and ordered.
        let cursor = -Infinity;
        for (const piece of p.pieces) {
          const len = BUCKET_MS[piece.granularity];
          assert.ok(piece.fromBucket * len >= cursor);
          cursor = piece.toBucket * len;
        }
        return true;
      }),
      { numRuns: 150 },
    );
  });
});
