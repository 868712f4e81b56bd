import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fixedZone, utcZone } from './periods.js';
import {
  buildThresholds,
  bytesInDirection,
  crossingWindowStartMs,
  isRearmedBelow,
  ROLLING_CROSSING_KEY,
  checkQuotaPeriod,
  checkQuotaThresholds,
  evaluateQuota,
  formatQuotaPeriod,
  parsePercent,
  parseQuotaPeriod,
  parseSize,
  quotaBlockUntilMs,
  quotaWindow,
  rollingResetMs,
  type Quota,
} from './quota.js';

const MIN = 60_000;
const HOUR = 3_600_000;
const utc = (y: number, mo: number, d: number, h = 0, mi = 0) => Date.UTC(y, mo - 1, d, h, mi);

describe('parseSize', () => {
  test('decimal and binary units, plain bytes, spaces and decimals', () => {
    assert.equal(parseSize('123'), 123);
    assert.equal(parseSize('123B'), 123);
    assert.equal(parseSize('5kB'), 5000);
    assert.equal(parseSize('5KB'), 5000);
    assert.equal(parseSize('500MB'), 500e6);
    assert.equal(parseSize('1.5 GB'), 1.5e9);
    assert.equal(parseSize('2KiB'), 2048);
    assert.equal(parseSize('10 GiB'), 10 * 1024 ** 3);
    assert.equal(parseSize('1.5MiB'), 1572864);
    assert.equal(parseSize('2TB'), 2e12);
    assert.equal(parseSize('1PB'), 1e15);
    assert.equal(parseSize(' 7 gb '), 7e9);
    assert.equal(parseSize('3mib'), 3 * 1024 ** 2);
  });

  test('refuses negative, zero, NaN, junk, bits and more than 1 PB, saying why', () => {
    assert.throws(() => parseSize('-5GB'), /positive/);
    assert.throws(() => parseSize('0'), /at least 1 byte/);
    assert.throws(() => parseSize('0.0001kB'), /at least 1 byte/);
    assert.throws(() => parseSize('NaN'), /cannot read size "NaN"/);
    assert.throws(() => parseSize(''), /cannot read size/);
    assert.throws(() => parseSize('5 XB'), /kB, MB, GB/);
    assert.throws(() => parseSize('1e9'), /cannot read size/);
    assert.throws(() => parseSize('10Mb'), /bits.*MB/);
    assert.throws(() => parseSize('1Gib'), /bits.*GiB/);
    assert.throws(() => parseSize('1.01PB'), /1 PB/);
    assert.throws(() => parseSize('1PiB'), /1 PB/);
    assert.throws(() => parseSize('99999999999999999999'), /1 PB/);
  });
});

describe('parseQuotaPeriod', () => {
  test('calendar periods, cycles and rolling windows', () => {
    assert.deepEqual(parseQuotaPeriod('day'), { kind: 'day' });
    assert.deepEqual(parseQuotaPeriod('Week'), { kind: 'week' });
    assert.deepEqual(parseQuotaPeriod('month'), { kind: 'month' });
    assert.deepEqual(parseQuotaPeriod('cycle:15'), { kind: 'cycle', startDay: 15 });
    assert.deepEqual(parseQuotaPeriod('cycle', 31), { kind: 'cycle', startDay: 31 });
    assert.deepEqual(parseQuotaPeriod('cycle:3', 3), { kind: 'cycle', startDay: 3 });
    assert.deepEqual(parseQuotaPeriod('24h'), { kind: 'rolling', minutes: 1440 });
    assert.deepEqual(parseQuotaPeriod('8760h'), { kind: 'rolling', minutes: 525600 });
    assert.deepEqual(parseQuotaPeriod('2m'), { kind: 'rolling', minutes: 2 });
  });

  test('refuses what cannot be meant', () => {
    assert.throws(() => parseQuotaPeriod('cycle'), /start day.*--cycle-day N.*cycle:N/);
    assert.throws(() => parseQuotaPeriod('cycle:0'), /1\.\.31/);
    assert.throws(() => parseQuotaPeriod('cycle:32'), /1\.\.31/);
    assert.throws(() => parseQuotaPeriod('cycle:3', 4), /disagree/);
    assert.throws(() => parseQuotaPeriod('day', 4), /--cycle-day goes with --period cycle/);
    assert.throws(() => parseQuotaPeriod('0h'), /at least 1 minute/);
    assert.throws(() => parseQuotaPeriod('0m'), /at least 1 minute/);
    assert.throws(() => parseQuotaPeriod('8761h'), /8760h/);
    assert.throws(() => parseQuotaPeriod('-3h'), /cannot read period/);
    assert.throws(() => parseQuotaPeriod('fortnight'), /day, week, month, cycle:N/);
    assert.throws(() => parseQuotaPeriod('1.5h'), /cannot read period/);
  });

  test('formatQuotaPeriod reads back to the same period', () => {
    for (const text of ['day', 'week', 'month', 'cycle:15', '24h', '90m', '1m']) {
      assert.equal(formatQuotaPeriod(parseQuotaPeriod(text)), text);
    }
    assert.equal(formatQuotaPeriod(parseQuotaPeriod('120m')), '2h');
  });
});

describe('stored values are checked when read back', () => {
  test('periods and thresholds', () => {
    assert.deepEqual(checkQuotaPeriod({ kind: 'cycle', startDay: 5 }), { kind: 'cycle', startDay: 5 });
    assert.deepEqual(checkQuotaPeriod({ kind: 'rolling', minutes: 60 }), { kind: 'rolling', minutes: 60 });
    assert.throws(() => checkQuotaPeriod({ kind: 'rolling', minutes: 0 }), RangeError);
    assert.throws(() => checkQuotaPeriod({ kind: 'cycle' }), RangeError);
    assert.throws(() => checkQuotaPeriod(null), RangeError);
    assert.deepEqual(checkQuotaThresholds([{ percent: 80, notify: true, block: false }]), [{ percent: 80, notify: true, block: false }]);
    assert.throws(() => checkQuotaThresholds([{ percent: 0, notify: true, block: false }]), RangeError);
    assert.throws(() => checkQuotaThresholds({}), RangeError);
  });
});

describe('thresholds', () => {
  test('default notify at 80 and 100; --block adds block at 100', () => {
    assert.deepEqual(buildThresholds([], false), [
      { percent: 80, notify: true, block: false },
      { percent: 100, notify: true, block: false },
    ]);
    assert.deepEqual(buildThresholds([], true), [
      { percent: 80, notify: true, block: false },
      { percent: 100, notify: true, block: true },
    ]);
  });

  test('given percents replace the default, repeat once, sort; block without a 100 notify blocks silently', () => {
    assert.deepEqual(buildThresholds([90, 50, 90], true), [
      { percent: 50, notify: true, block: false },
      { percent: 90, notify: true, block: false },
      { percent: 100, notify: false, block: true },
    ]);
    assert.throws(() => buildThresholds([0], false), /whole percent/);
  });

  test('parsePercent', () => {
    assert.equal(parsePercent('80'), 80);
    assert.equal(parsePercent('95%'), 95);
    assert.equal(parsePercent('150'), 150);
    for (const bad of ['0', '-5', '1001', '12.5', 'abc', '']) assert.throws(() => parsePercent(bad), /whole percent/, bad);
  });
});

describe('quotaWindow', () => {
  const now = utc(2024, 3, 13, 15, 30); // Wednesday

  test('calendar periods are the report periods, reset at their end', () => {
    assert.deepEqual(quotaWindow({ kind: 'day' }, now, utcZone), { startMs: utc(2024, 3, 13), endMs: utc(2024, 3, 14), resetMs: utc(2024, 3, 14) });
    assert.deepEqual(quotaWindow({ kind: 'week' }, now, utcZone), { startMs: utc(2024, 3, 11), endMs: utc(2024, 3, 18), resetMs: utc(2024, 3, 18) });
    assert.deepEqual(quotaWindow({ kind: 'month' }, now, utcZone), { startMs: utc(2024, 3, 1), endMs: utc(2024, 4, 1), resetMs: utc(2024, 4, 1) });
  });

  test('month end: the last millisecond of January is January, the next is February', () => {
    const last = utc(2024, 2, 1) - 1;
    assert.deepEqual(quotaWindow({ kind: 'month' }, last, utcZone).startMs, utc(2024, 1, 1));
    assert.deepEqual(quotaWindow({ kind: 'month' }, last + 1, utcZone).startMs, utc(2024, 2, 1));
  });

  test('cycle day 31 in February ends on the last day of February, and the next begins on 31 March', () => {
    const feb = quotaWindow({ kind: 'cycle', startDay: 31 }, utc(2023, 2, 20), utcZone);
    assert.deepEqual(feb, { startMs: utc(2023, 1, 31), endMs: utc(2023, 2, 28), resetMs: utc(2023, 2, 28) });
    const march = quotaWindow({ kind: 'cycle', startDay: 31 }, utc(2023, 3, 5), utcZone);
    assert.deepEqual(march, { startMs: utc(2023, 2, 28), endMs: utc(2023, 3, 31), resetMs: utc(2023, 3, 31) });
    // A leap year: 29 February.
    assert.equal(quotaWindow({ kind: 'cycle', startDay: 31 }, utc(2024, 2, 10), utcZone).endMs, utc(2024, 2, 29));
  });

  test('a fixed zone shifts the day', () => {
    const plus2 = fixedZone(120);
    assert.deepEqual(quotaWindow({ kind: 'day' }, utc(2024, 3, 13, 23), plus2), { startMs: utc(2024, 3, 13, 22), endMs: utc(2024, 3, 14, 22), resetMs: utc(2024, 3, 14, 22) });
  });

  test('rolling: [now − N, now], no fixed reset', () => {
    assert.deepEqual(quotaWindow({ kind: 'rolling', minutes: 90 }, now), { startMs: now - 90 * MIN, endMs: now, resetMs: null });
  });

  test('block expiry: the period end, or one window length from now', () => {
    assert.equal(quotaBlockUntilMs({ kind: 'day' }, now, utcZone), utc(2024, 3, 14));
    assert.equal(quotaBlockUntilMs({ kind: 'cycle', startDay: 31 }, utc(2023, 2, 20), utcZone), utc(2023, 2, 28));
    assert.equal(quotaBlockUntilMs({ kind: 'rolling', minutes: 120 }, now), now + 2 * HOUR);
  });

  test('the DST day in the system zone is 23 hours long (Europe/Berlin, 31 March 2024)', () => {
    const script = `
      import { quotaWindow, quotaBlockUntilMs } from './src/domain/quota.ts';
      const day = quotaWindow({ kind: 'day' }, Date.UTC(2024, 2, 31, 12));
      const until = quotaBlockUntilMs({ kind: 'day' }, Date.UTC(2024, 2, 31, 1));
      const autumn = quotaWindow({ kind: 'day' }, Date.UTC(2024, 9, 27, 12));
      console.log(JSON.stringify({ day, until, autumn }));
    `;
    const out = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: { ...process.env, TZ: 'Europe/Berlin' },
      encoding: 'utf8',
      cwd: new URL('../..', import.meta.url).pathname,
      timeout: 30_000,
    });
    assert.equal(out.status, 0, out.stderr);
    const got = JSON.parse(out.stdout) as { day: { startMs: number; endMs: number }; until: number; autumn: { startMs: number; endMs: number } };
    assert.deepEqual([got.day.startMs, got.day.endMs], [utc(2024, 3, 30, 23), utc(2024, 3, 31, 22)]);
    assert.equal(got.day.endMs - got.day.startMs, 23 * HOUR);
    assert.equal(got.until, utc(2024, 3, 31, 22));
    assert.equal(got.autumn.endMs - got.autumn.startMs, 25 * HOUR);
  });
});

describe('evaluateQuota', () => {
  const quota: Quota = {
    id: 1,
    routerKey: '198.51.100.1:23',
    subject: { kind: 'device', identity: 'aa:bb:cc:00:00:0a' },
    limitBytes: 1000,
    direction: 'total',
    period: { kind: 'day' },
    thresholds: buildThresholds([], true),
    createdMs: 0,
  };
  const window = quotaWindow({ kind: 'day' }, utc(2024, 3, 13, 12), utcZone);

  test('below, at and over the thresholds', () => {
    const below = evaluateQuota(quota, 799, window);
    assert.equal(below.percent, 79.9);
    assert.equal(below.leftBytes, 201);
    assert.deepEqual(below.crossed, []);
    assert.equal(below.isOver, false);
    assert.equal(below.resetMs, utc(2024, 3, 14));
    assert.equal(below.startMs, utc(2024, 3, 13));
    assert.deepEqual(evaluateQuota(quota, 800, window).crossed.map((t) => t.percent), [80]);
    const over = evaluateQuota(quota, 1500, window);
    assert.deepEqual(over.crossed.map((t) => [t.percent, t.block]), [[80, false], [100, true]]);
    assert.equal(over.leftBytes, 0);
    assert.equal(over.percent, 150);
    assert.equal(over.isOver, true);
  });

  test('exact at a large limit (80 % of 1 PB)', () => {
    const big = { ...quota, limitBytes: 1e15 };
    assert.deepEqual(evaluateQuota(big, 8e14, window).crossed.map((t) => t.percent), [80]);
    assert.deepEqual(evaluateQuota(big, 8e14 - 1, window).crossed, []);
  });

  test('nothing used', () => {
    const none = evaluateQuota(quota, 0, window);
    assert.deepEqual([none.percent, none.leftBytes, none.crossed.length], [0, 1000, 0]);
  });

  test('bytesInDirection', () => {
    const u = { downBytes: 7, upBytes: 3 };
    assert.deepEqual([bytesInDirection('down', u), bytesInDirection('up', u), bytesInDirection('total', u)], [7, 3, 10]);
  });

  test('crossings are keyed by the calendar window; a rolling quota has one key and re-arms below', () => {
    assert.equal(crossingWindowStartMs({ kind: 'day' }, window, utc(2024, 3, 13, 23)), utc(2024, 3, 13));
    assert.equal(isRearmedBelow({ kind: 'day' }), false);
    const period = { kind: 'rolling', minutes: 120 } as const;
    const at = (h: number, m = 0) => crossingWindowStartMs(period, quotaWindow(period, utc(2024, 3, 13, h, m)), utc(2024, 3, 13, h, m));
    // The same key at any moment: a crossing is not new just because the window moved on.
    assert.equal(at(10), ROLLING_CROSSING_KEY);
    assert.equal(at(11, 59), ROLLING_CROSSING_KEY);
    assert.equal(at(12), ROLLING_CROSSING_KEY);
    assert.equal(isRearmedBelow(period), true);
  });

  test('rolling reset: when the oldest counted bytes leave the window', () => {
    const now = utc(2024, 3, 13, 12);
    const period = { kind: 'rolling', minutes: 60 } as const;
    const w = quotaWindow(period, now);
    const series = [
      { atMs: now - 70 * MIN, bytes: 500 }, // before the window: does not count
      { atMs: now - 40 * MIN, bytes: 0 },
      { atMs: now - 30 * MIN, bytes: 10 },
      { atMs: now - 5 * MIN, bytes: 10 },
    ];
    assert.equal(rollingResetMs(period, w, series), now + 30 * MIN);
    assert.equal(rollingResetMs(period, w, []), null);
    assert.equal(rollingResetMs({ kind: 'day' }, window, series), window.resetMs);
  });
});
