import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fixedZone, systemZone, utcZone } from './periods.js';
import {
  dueFiring,
  endedPeriod,
  formatEvery,
  latestFiring,
  NAMED_DELAY_MS,
  nextFiring,
  parseEvery,
  periodSlug,
  periodTitle,
  checkScheduleName,
  type ScheduleEvery,
} from './report-schedule.js';

// The DST cases use the process zone; Node re-reads TZ when it is assigned.
process.env.TZ = 'Europe/Berlin';

const utc = (y: number, m: number, d: number, h = 0, min = 0) => Date.UTC(y, m - 1, d, h, min);
const local = (y: number, m: number, d: number, h = 0, min = 0) => new Date(y, m - 1, d, h, min).getTime();

test('daily at 00:05 covers yesterday; before 00:05 the previous day is still the latest', () => {
  const every = parseEvery('daily');
  const at = latestFiring(every, utc(2026, 3, 10, 0, 5), utcZone)!;
  assert.deepEqual(at, { atMs: utc(2026, 3, 10, 0, 5), period: { startMs: utc(2026, 3, 9), endMs: utc(2026, 3, 10) } });
  const before = latestFiring(every, utc(2026, 3, 10, 0, 4), utcZone)!;
  assert.deepEqual(before.period, { startMs: utc(2026, 3, 8), endMs: utc(2026, 3, 9) });
  assert.equal(nextFiring(every, utc(2026, 3, 10, 0, 4), utcZone)!.atMs, utc(2026, 3, 10, 0, 5));
  assert.equal(nextFiring(every, utc(2026, 3, 10, 0, 5), utcZone)!.atMs, utc(2026, 3, 11, 0, 5));
});

test('weekly covers last ISO week (Monday to Monday); monthly last month', () => {
  // 2026-03-11 is a Wednesday.
  const week = latestFiring(parseEvery('weekly'), utc(2026, 3, 11, 12), utcZone)!;
  assert.deepEqual(week, { atMs: utc(2026, 3, 9, 0, 5), period: { startMs: utc(2026, 3, 2), endMs: utc(2026, 3, 9) } });
  const month = latestFiring(parseEvery('monthly'), utc(2026, 3, 1, 0, 5), utcZone)!;
  assert.deepEqual(month.period, { startMs: utc(2026, 2, 1), endMs: utc(2026, 3, 1) });
  // January 1st: last December, across the year.
  assert.deepEqual(latestFiring(parseEvery('month'), utc(2027, 1, 1, 9), utcZone)!.period, { startMs: utc(2026, 12, 1), endMs: utc(2027, 1, 1) });
});

test('cycle:31 fires on the last day of short months and covers the cycle with its day', () => {
  const every = parseEvery('cycle:31');
  // February 2026 has 28 days: the cycle that started on 31 January ends on 28 February.
  const feb = latestFiring(every, utc(2026, 2, 28, 0, 5), utcZone)!;
  assert.deepEqual(feb, { atMs: utc(2026, 2, 28, 0, 5), period: { startMs: utc(2026, 1, 31), endMs: utc(2026, 2, 28) } });
  const mar = latestFiring(every, utc(2026, 3, 31, 0, 5), utcZone)!;
  assert.deepEqual(mar.period, { startMs: utc(2026, 2, 28), endMs: utc(2026, 3, 31) });
  // Leap year: 29 February.
  assert.equal(latestFiring(every, utc(2028, 3, 1), utcZone)!.atMs, utc(2028, 2, 29, 0, 5));
  assert.equal(nextFiring(every, utc(2026, 2, 20), utcZone)!.atMs, utc(2026, 2, 28, 0, 5));
  const c15 = latestFiring(parseEvery('cycle:15'), utc(2026, 4, 20), utcZone)!;
  assert.deepEqual(c15.period, { startMs: utc(2026, 3, 15), endMs: utc(2026, 4, 15) });
});

test('DST: the day reported is 23 or 25 hours long, and the firing is at local 00:05', () => {
  const spring = latestFiring(parseEvery('daily'), local(2026, 3, 30, 8), systemZone)!;
  assert.deepEqual(spring.period, { startMs: local(2026, 3, 29), endMs: local(2026, 3, 30) });
  assert.equal(spring.period.endMs - spring.period.startMs, 23 * 3_600_000);
  assert.equal(spring.atMs, local(2026, 3, 30, 0, 5));
  const autumn = latestFiring(parseEvery('daily'), local(2026, 10, 26, 8), systemZone)!;
  assert.equal(autumn.period.endMs - autumn.period.startMs, 25 * 3_600_000);
  // Cron in local time: 02:30 does not exist on 29 March; croner fires at 03:00 instead, once.
  const cron = parseEvery('30 2 * * *', null, systemZone, local(2026, 3, 28));
  const fired = latestFiring(cron, local(2026, 3, 29, 12), systemZone)!;
  assert.equal(fired.atMs, local(2026, 3, 29, 3, 0));
  assert.equal(fired.period.startMs, local(2026, 3, 28, 2, 30));
});

test('cron: covers the time since its previous firing, or a named period with covers', () => {
  const every = parseEvery('0 7 * * 1', null, utcZone);
  const at = latestFiring(every, utc(2026, 3, 11, 12), utcZone)!;
  assert.deepEqual(at, { atMs: utc(2026, 3, 9, 7), period: { startMs: utc(2026, 3, 2, 7), endMs: utc(2026, 3, 9, 7) } });
  // Exactly at the firing: it counts as fired.
  assert.equal(latestFiring(every, utc(2026, 3, 9, 7), utcZone)!.atMs, utc(2026, 3, 9, 7));
  assert.equal(latestFiring(every, utc(2026, 3, 9, 7) - 1, utcZone)!.atMs, utc(2026, 3, 2, 7));
  const weekly = parseEvery('0 7 * * 1', 'weekly', utcZone);
  assert.deepEqual(latestFiring(weekly, utc(2026, 3, 11), utcZone)!.period, { startMs: utc(2026, 3, 2), endMs: utc(2026, 3, 9) });
  assert.equal(formatEvery(weekly), '0 7 * * 1 (covers weekly)');
  // A fixed zone reaches croner as its offset: 07:00 at UTC+02:00 is 05:00 UTC.
  const plus2 = fixedZone(120);
  assert.equal(latestFiring(parseEvery('0 7 * * *', null, plus2), utc(2026, 3, 11, 6), plus2)!.atMs, utc(2026, 3, 11, 5));
});

test('bad --every values are refused with the reason', () => {
  assert.throws(() => parseEvery('fortnightly'), /neither daily, weekly, monthly, cycle:N nor a cron expression/);
  assert.throws(() => parseEvery('61 * * * *'), /not a valid cron expression.*minute/);
  assert.throws(() => parseEvery('*/5 * * * *'), /more than once an hour/);
  assert.throws(() => parseEvery('0 0 0 * * *'), /5 fields/);
  assert.throws(() => parseEvery('cycle:32'), /day 1\.\.31/);
  assert.throws(() => parseEvery('cycle'), /cycle:N/);
  assert.throws(() => parseEvery('daily', 'weekly'), /--covers goes with a cron/);
  assert.throws(() => parseEvery('0 7 * * *', 'yearly'), /--covers is daily/);
  assert.deepEqual(parseEvery('@daily'), { kind: 'cron', expression: '@daily', covers: null });
  assert.throws(() => checkScheduleName('a b'), /not a schedule name/);
  assert.throws(() => checkScheduleName('x\u001b[2J'), (e: Error) => !e.message.includes('\u001b'));
});

test('catch-up: after downtime only the latest missed period is due; a firing before the schedule existed is not', () => {
  const schedule = { every: parseEvery('daily'), createdMs: utc(2026, 3, 1, 12) };
  // Down from the 5th to the 9th at noon: the due firing is 9 March 00:05, for the 8th.
  assert.deepEqual(dueFiring(schedule, utc(2026, 3, 9, 12), utcZone)!.period, { startMs: utc(2026, 3, 8), endMs: utc(2026, 3, 9) });
  // Created at noon on the 1st: the 1st's 00:05 firing was before it.
  assert.equal(dueFiring(schedule, utc(2026, 3, 1, 13), utcZone), null);
  assert.equal(dueFiring(schedule, utc(2026, 3, 2, 0, 5), utcZone)!.atMs, utc(2026, 3, 2, 0, 5));
});

test('property: a named firing covers the period that ended NAMED_DELAY_MS before it, and lies in (now - period, now]', () => {
  const everies: ScheduleEvery[] = [parseEvery('daily'), parseEvery('weekly'), parseEvery('monthly'), parseEvery('cycle:1'), parseEvery('cycle:29'), parseEvery('cycle:31')];
  fc.assert(
    fc.property(fc.integer({ min: utc(2000, 1, 1), max: utc(2100, 1, 1) }), fc.constantFrom(...everies), fc.constantFrom(utcZone, systemZone, fixedZone(-330)), (now, every, zone) => {
      const f = latestFiring(every, now, zone)!;
      assert.ok(f.atMs <= now);
      assert.equal(f.atMs, f.period.endMs + NAMED_DELAY_MS);
      assert.ok(f.period.startMs < f.period.endMs);
      const next = nextFiring(every, now, zone)!;
      assert.ok(next.atMs > now);
      assert.equal(next.period.startMs, f.period.endMs);
      if (every.kind !== 'cron') assert.deepEqual(endedPeriod(every, f.period.endMs, zone), f.period);
    }),
    { numRuns: 300 },
  );
});

test('period titles and file names: a day, a month, a week, an arbitrary span', () => {
  assert.equal(periodTitle({ startMs: utc(2026, 3, 9), endMs: utc(2026, 3, 10) }, utcZone), '2026-03-09');
  assert.equal(periodSlug({ startMs: utc(2026, 2, 1), endMs: utc(2026, 3, 1) }, utcZone), '2026-02');
  assert.equal(periodTitle({ startMs: utc(2026, 3, 2), endMs: utc(2026, 3, 9) }, utcZone), '2026-03-02 → 2026-03-08');
  assert.equal(periodSlug({ startMs: utc(2026, 3, 2), endMs: utc(2026, 3, 9) }, utcZone), '2026-03-02_2026-03-08');
  assert.equal(periodSlug({ startMs: utc(2026, 3, 2, 7), endMs: utc(2026, 3, 9, 7) }, utcZone), '2026-03-02T0700_2026-03-09T0700');
  assert.equal(periodTitle({ startMs: utc(2026, 3, 2, 7), endMs: utc(2026, 3, 9, 7) }, utcZone), '2026-03-02 07:00 → 2026-03-09 07:00');
  // A 23-hour DST day is still one day.
  assert.equal(periodTitle({ startMs: local(2026, 3, 29), endMs: local(2026, 3, 30) }, systemZone), '2026-03-29');
});
