import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { daysInMonth, fixedZone, lastHoursSpec, parsePeriodBound, resolvePeriod, shiftedPeriod, utcZone, type PeriodSpec, type TimeRange } from './periods.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const utc = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0) => Date.UTC(y, mo - 1, d, h, mi, s);
const iso = (r: TimeRange) => [new Date(r.startMs).toISOString(), new Date(r.endMs).toISOString()];

describe('resolvePeriod in UTC', () => {
  const now = utc(2024, 3, 13, 15, 30); // Wednesday 13 March 2024, 15:30

  test('today and yesterday are whole local days', () => {
    assert.deepEqual(iso(resolvePeriod({ kind: 'today' }, now, utcZone)), ['2024-03-13T00:00:00.000Z', '2024-03-14T00:00:00.000Z']);
    assert.deepEqual(iso(resolvePeriod({ kind: 'yesterday' }, now, utcZone)), ['2024-03-12T00:00:00.000Z', '2024-03-13T00:00:00.000Z']);
  });

  test('exactly at midnight belongs to the new day', () => {
    const r = resolvePeriod({ kind: 'today' }, utc(2024, 3, 13), utcZone);
    assert.equal(r.startMs, utc(2024, 3, 13));
    const last = resolvePeriod({ kind: 'today' }, utc(2024, 3, 13) - 1, utcZone);
    assert.equal(last.startMs, utc(2024, 3, 12));
  });

  test('ISO week starts on Monday, also when today is Sunday or Monday', () => {
    assert.deepEqual(iso(resolvePeriod({ kind: 'week' }, now, utcZone)), ['2024-03-11T00:00:00.000Z', '2024-03-18T00:00:00.000Z']);
    const sunday = utc(2024, 3, 17, 23, 59);
    assert.deepEqual(iso(resolvePeriod({ kind: 'week' }, sunday, utcZone)), ['2024-03-11T00:00:00.000Z', '2024-03-18T00:00:00.000Z']);
    const monday = utc(2024, 3, 18);
    assert.deepEqual(iso(resolvePeriod({ kind: 'week' }, monday, utcZone)), ['2024-03-18T00:00:00.000Z', '2024-03-25T00:00:00.000Z']);
    // A week across a year end.
    assert.deepEqual(iso(resolvePeriod({ kind: 'week' }, utc(2025, 1, 1, 12), utcZone)), ['2024-12-30T00:00:00.000Z', '2025-01-06T00:00:00.000Z']);
  });

  test('month, including February of a leap year and December', () => {
    assert.deepEqual(iso(resolvePeriod({ kind: 'month' }, now, utcZone)), ['2024-03-01T00:00:00.000Z', '2024-04-01T00:00:00.000Z']);
    assert.deepEqual(iso(resolvePeriod({ kind: 'month' }, utc(2024, 2, 29, 23), utcZone)), ['2024-02-01T00:00:00.000Z', '2024-03-01T00:00:00.000Z']);
    assert.deepEqual(iso(resolvePeriod({ kind: 'month' }, utc(2023, 12, 31, 23, 59, 59), utcZone)), ['2023-12-01T00:00:00.000Z', '2024-01-01T00:00:00.000Z']);
  });

  test('billing cycle on day N, before and after the start day', () => {
    assert.deepEqual(iso(resolvePeriod({ kind: 'cycle', startDay: 10 }, now, utcZone)), ['2024-03-10T00:00:00.000Z', '2024-04-10T00:00:00.000Z']);
    assert.deepEqual(iso(resolvePeriod({ kind: 'cycle', startDay: 20 }, now, utcZone)), ['2024-02-20T00:00:00.000Z', '2024-03-20T00:00:00.000Z']);
    assert.deepEqual(iso(resolvePeriod({ kind: 'cycle', startDay: 13 }, now, utcZone)), ['2024-03-13T00:00:00.000Z', '2024-04-13T00:00:00.000Z']);
    assert.deepEqual(iso(resolvePeriod({ kind: 'cycle', startDay: 1 }, now, utcZone)), iso(resolvePeriod({ kind: 'month' }, now, utcZone)));
  });

  test('billing cycle day clamps to short months, and cycles tile without gaps', () => {
    // Day 31: Jan 31 → Feb 29 (2024 leap) → Mar 31 → Apr 30.
    assert.deepEqual(iso(resolvePeriod({ kind: 'cycle', startDay: 31 }, utc(2024, 2, 15), utcZone)), ['2024-01-31T00:00:00.000Z', '2024-02-29T00:00:00.000Z']);
    assert.deepEqual(iso(resolvePeriod({ kind: 'cycle', startDay: 31 }, utc(2024, 3, 5), utcZone)), ['2024-02-29T00:00:00.000Z', '2024-03-31T00:00:00.000Z']);
    assert.deepEqual(iso(resolvePeriod({ kind: 'cycle', startDay: 30 }, utc(2023, 2, 28, 12), utcZone)), ['2023-02-28T00:00:00.000Z', '2023-03-30T00:00:00.000Z']);
    assert.deepEqual(iso(resolvePeriod({ kind: 'cycle', startDay: 31 }, utc(2024, 12, 31, 1), utcZone)), ['2024-12-31T00:00:00.000Z', '2025-01-31T00:00:00.000Z']);
    for (const startDay of [1, 15, 28, 29, 30, 31]) {
      let t = utc(2023, 1, 1);
      let previous: TimeRange | null = null;
      for (let i = 0; i < 800; i++, t += DAY) {
        const r = resolvePeriod({ kind: 'cycle', startDay }, t, utcZone);
        assert.ok(r.startMs <= t && t < r.endMs, `day ${startDay}: now inside the cycle`);
        if (previous && previous.startMs !== r.startMs) assert.equal(r.startMs, previous.endMs, `day ${startDay}: cycles tile`);
        previous = r;
      }
    }
  });

  test('cycle rejects an impossible start day', () => {
    assert.throws(() => resolvePeriod({ kind: 'cycle', startDay: 0 }, now, utcZone), RangeError);
    assert.throws(() => resolvePeriod({ kind: 'cycle', startDay: 32 }, now, utcZone), RangeError);
    assert.throws(() => resolvePeriod({ kind: 'cycle', startDay: 2.5 }, now, utcZone), RangeError);
  });

  test('all and custom', () => {
    assert.deepEqual(resolvePeriod({ kind: 'all' }, now, utcZone), { startMs: 0, endMs: now + 1 });
    assert.deepEqual(resolvePeriod({ kind: 'custom', sinceMs: 5, untilMs: 9 }, now, utcZone), { startMs: 5, endMs: 9 });
    assert.deepEqual(resolvePeriod({ kind: 'custom', sinceMs: 5 }, now, utcZone), { startMs: 5, endMs: now + 1 });
    assert.deepEqual(resolvePeriod({ kind: 'custom', untilMs: 9 }, now, utcZone), { startMs: 0, endMs: 9 });
    assert.throws(() => resolvePeriod({ kind: 'custom', sinceMs: 9, untilMs: 5 }, now, utcZone), RangeError);
  });
});

describe('resolvePeriod with a fixed offset', () => {
  test('UTC+02:00: local midnight is 22:00 UTC the day before', () => {
    const zone = fixedZone(120);
    assert.equal(zone.name, 'UTC+02:00');
    const now = utc(2024, 3, 12, 23, 30); // 01:30 local on the 13th
    assert.deepEqual(resolvePeriod({ kind: 'today' }, now, zone), { startMs: utc(2024, 3, 12, 22), endMs: utc(2024, 3, 13, 22) });
    assert.deepEqual(resolvePeriod({ kind: 'month' }, utc(2024, 3, 31, 22, 30), zone), { startMs: utc(2024, 3, 31, 22), endMs: utc(2024, 4, 30, 22) });
  });

  test('UTC-05:30 and the week boundary', () => {
    const zone = fixedZone(-330);
    assert.equal(zone.name, 'UTC-05:30');
    // Monday 18 March 03:00 UTC is still Sunday 21:30 local: the week began Monday 11 March local.
    const r = resolvePeriod({ kind: 'week' }, utc(2024, 3, 18, 3), zone);
    assert.deepEqual(r, { startMs: utc(2024, 3, 11, 5, 30), endMs: utc(2024, 3, 18, 5, 30) });
  });

  test('every period contains now and has positive length', () => {
    const zones = [fixedZone(0), fixedZone(345), fixedZone(-600), fixedZone(840)];
    const specs = [{ kind: 'today' }, { kind: 'week' }, { kind: 'month' }, { kind: 'cycle', startDay: 29 }] as const;
    for (const zone of zones) {
      for (let t = utc(2023, 12, 25); t < utc(2024, 3, 10); t += 7 * HOUR + 13 * 60_000) {
        for (const spec of specs) {
          const r = resolvePeriod(spec, t, zone);
          assert.ok(r.startMs <= t && t < r.endMs, `${zone.name} ${spec.kind} at ${new Date(t).toISOString()}`);
        }
        const y = resolvePeriod({ kind: 'yesterday' }, t, zone);
        assert.equal(y.endMs, resolvePeriod({ kind: 'today' }, t, zone).startMs);
        assert.equal(y.endMs - y.startMs, DAY);
      }
    }
  });
});

describe('daysInMonth and parsePeriodBound', () => {
  test('days in month', () => {
    assert.equal(daysInMonth(2024, 1), 29);
    assert.equal(daysInMonth(2023, 1), 28);
    assert.equal(daysInMonth(1900, 1), 28);
    assert.equal(daysInMonth(2000, 1), 29);
    assert.equal(daysInMonth(2024, 11), 31);
    assert.equal(daysInMonth(2024, 3), 30);
  });

  test('bare dates: since is the start of the day, until the end', () => {
    const zone = fixedZone(60);
    assert.equal(parsePeriodBound('2024-03-01', 'since', zone), utc(2024, 2, 29, 23));
    assert.equal(parsePeriodBound('2024-03-31', 'until', zone), utc(2024, 3, 31, 23));
    assert.equal(parsePeriodBound('2024-03-01 12:30', 'until', zone), utc(2024, 3, 1, 11, 30));
    assert.equal(parsePeriodBound('2024-03-01T12:30:15', 'since', zone), utc(2024, 3, 1, 11, 30, 15));
  });

  test('instants with an offset ignore the zone', () => {
    assert.equal(parsePeriodBound('2024-03-01T12:00:00Z', 'since', fixedZone(300)), utc(2024, 3, 1, 12));
    assert.equal(parsePeriodBound('2024-03-01T12:00+02:00', 'since', fixedZone(300)), utc(2024, 3, 1, 10));
  });

  test('unreadable or impossible values are null', () => {
    for (const bad of ['', 'yesterday', '2024-02-30', '2024-13-01', '2024-03-01 24:00', '1709251200', '2024-3-1']) {
      assert.equal(parsePeriodBound(bad, 'since', utcZone), null, bad);
    }
  });
});

describe('system zone follows TZ and DST', () => {
  // A child process so TZ applies from the start (Node caches the zone).
  test('Europe/Berlin: the DST day is 23 hours long, the week still starts on Monday midnight', () => {
    const script = `
      import { resolvePeriod, systemZone } from './src/domain/periods.ts';
      const dst = resolvePeriod({ kind: 'today' }, Date.UTC(2024, 2, 31, 12), systemZone);
      const week = resolvePeriod({ kind: 'week' }, Date.UTC(2024, 2, 31, 12), systemZone);
      const month = resolvePeriod({ kind: 'month' }, Date.UTC(2024, 2, 15), systemZone);
      console.log(JSON.stringify({ dst, week, month }));
    `;
    const out = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: { ...process.env, TZ: 'Europe/Berlin' },
      encoding: 'utf8',
      cwd: new URL('../..', import.meta.url).pathname,
      timeout: 30_000,
    });
    assert.equal(out.status, 0, out.stderr);
    const got = JSON.parse(out.stdout) as Record<string, TimeRange>;
    assert.deepEqual(got.dst, { startMs: utc(2024, 3, 30, 23), endMs: utc(2024, 3, 31, 22) });
    assert.deepEqual(got.week, { startMs: utc(2024, 3, 24, 23), endMs: utc(2024, 3, 31, 22) });
    assert.deepEqual(got.month, { startMs: utc(2024, 2, 29, 23), endMs: utc(2024, 3, 31, 22) });
  });
});

describe('shiftedPeriod (issue 17: the History screen scrolls a period back and forth)', () => {
  const now = utc(2024, 3, 13, 15, 30); // Wednesday 13 March 2024

  test('offset 0 is resolvePeriod; -1 is the period before, +1 the one after', () => {
    const specs: PeriodSpec[] = [{ kind: 'today' }, { kind: 'yesterday' }, { kind: 'week' }, { kind: 'month' }, { kind: 'cycle', startDay: 15 }, { kind: 'all' }];
    for (const spec of specs) assert.deepEqual(shiftedPeriod(spec, now, 0, utcZone), resolvePeriod(spec, now, utcZone), spec.kind);
    assert.deepEqual(iso(shiftedPeriod({ kind: 'today' }, now, -1, utcZone)), ['2024-03-12T00:00:00.000Z', '2024-03-13T00:00:00.000Z']);
    assert.deepEqual(iso(shiftedPeriod({ kind: 'yesterday' }, now, -1, utcZone)), ['2024-03-11T00:00:00.000Z', '2024-03-12T00:00:00.000Z']);
    assert.deepEqual(iso(shiftedPeriod({ kind: 'week' }, now, -1, utcZone)), ['2024-03-04T00:00:00.000Z', '2024-03-11T00:00:00.000Z']);
    assert.deepEqual(iso(shiftedPeriod({ kind: 'week' }, now, 1, utcZone)), ['2024-03-18T00:00:00.000Z', '2024-03-25T00:00:00.000Z']);
    assert.deepEqual(iso(shiftedPeriod({ kind: 'month' }, now, -3, utcZone)), ['2023-12-01T00:00:00.000Z', '2024-01-01T00:00:00.000Z']);
    assert.deepEqual(iso(shiftedPeriod({ kind: 'month' }, now, 10, utcZone)), ['2025-01-01T00:00:00.000Z', '2025-02-01T00:00:00.000Z']);
    // "all" has no neighbours.
    assert.deepEqual(shiftedPeriod({ kind: 'all' }, now, -4, utcZone), resolvePeriod({ kind: 'all' }, now, utcZone));
    assert.throws(() => shiftedPeriod({ kind: 'today' }, now, 0.5, utcZone), RangeError);
  });

  test('billing cycles across month ends clamp the start day as resolvePeriod does', () => {
    // Cycle on the 31st; now is 13 March → the current cycle began 29 Feb (leap year).
    const spec: PeriodSpec = { kind: 'cycle', startDay: 31 };
    assert.deepEqual(iso(shiftedPeriod(spec, now, 0, utcZone)), ['2024-02-29T00:00:00.000Z', '2024-03-31T00:00:00.000Z']);
    assert.deepEqual(iso(shiftedPeriod(spec, now, -1, utcZone)), ['2024-01-31T00:00:00.000Z', '2024-02-29T00:00:00.000Z']);
    assert.deepEqual(iso(shiftedPeriod(spec, now, -2, utcZone)), ['2023-12-31T00:00:00.000Z', '2024-01-31T00:00:00.000Z']);
    assert.deepEqual(iso(shiftedPeriod(spec, now, 1, utcZone)), ['2024-03-31T00:00:00.000Z', '2024-04-30T00:00:00.000Z']);
  });

  test('last hours: whole minutes up to the current one; a custom range moves by its length', () => {
    const spec = lastHoursSpec(utc(2024, 3, 13, 15, 30, 20), 6);
    const r = resolvePeriod(spec, now, utcZone);
    assert.deepEqual(iso(r), ['2024-03-13T09:31:00.000Z', '2024-03-13T15:31:00.000Z']);
    assert.deepEqual(iso(shiftedPeriod(spec, now, -1, utcZone)), ['2024-03-13T03:31:00.000Z', '2024-03-13T09:31:00.000Z']);
  });

  test('property: consecutive offsets tile time without gaps or overlaps, and contain the shifted "now"', () => {
    const zones = [utcZone, fixedZone(-300), fixedZone(330), fixedZone(840)];
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2090, 0, 1) }),
        fc.integer({ min: -30, max: 30 }),
        fc.constantFrom<PeriodSpec>({ kind: 'today' }, { kind: 'yesterday' }, { kind: 'week' }, { kind: 'month' }, { kind: 'cycle', startDay: 1 }, { kind: 'cycle', startDay: 30 }, { kind: 'cycle', startDay: 31 }),
        fc.constantFrom(...zones),
        (t, offset, spec, zone) => {
          const a = shiftedPeriod(spec, t, offset, zone);
          const b = shiftedPeriod(spec, t, offset + 1, zone);
          assert.equal(a.endMs, b.startMs);
          assert.ok(a.startMs < a.endMs);
          // The range one back from a moment inside this range is the range before it.
          assert.deepEqual(shiftedPeriod(spec, b.startMs, -1, zone), resolvePeriod(spec, a.startMs, zone));
        },
      ),
    );
  });

  test('Europe/Berlin: stepping over the DST changes keeps local midnights (23 h and 25 h days)', () => {
    const script = `
      import { shiftedPeriod, systemZone } from './src/domain/periods.ts';
      const now = Date.UTC(2024, 3, 2, 12);
      const spring = shiftedPeriod({ kind: 'today' }, now, -2, systemZone);
      const autumn = shiftedPeriod({ kind: 'today' }, Date.UTC(2024, 10, 1, 12), -5, systemZone);
      const week = shiftedPeriod({ kind: 'week' }, now, -1, systemZone);
      const month = shiftedPeriod({ kind: 'month' }, now, -1, systemZone);
      console.log(JSON.stringify({ spring, autumn, week, month }));
    `;
    const out = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: { ...process.env, TZ: 'Europe/Berlin' },
      encoding: 'utf8',
      cwd: new URL('../..', import.meta.url).pathname,
      timeout: 30_000,
    });
    assert.equal(out.status, 0, out.stderr);
    const got = JSON.parse(out.stdout) as Record<string, TimeRange>;
    // 31 March 2024: clocks go forward at 02:00, a 23-hour day.
    assert.deepEqual(got.spring, { startMs: utc(2024, 3, 30, 23), endMs: utc(2024, 3, 31, 22) });
    // 27 October 2024: clocks go back, a 25-hour day.
    assert.deepEqual(got.autumn, { startMs: utc(2024, 10, 26, 22), endMs: utc(2024, 10, 27, 23) });
    assert.deepEqual(got.week, { startMs: utc(2024, 3, 24, 23), endMs: utc(2024, 3, 31, 22) });
    assert.deepEqual(got.month, { startMs: utc(2024, 2, 29, 23), endMs: utc(2024, 3, 31, 22) });
  });
});
