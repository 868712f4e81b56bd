// Retention: pruning in whole buckets, and what queries then say about their precision.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../errors.js';
import { DAY, Harness, HOUR, identityOf, IPS, MIN, T0, useStoreDir } from '../../test/store/history-harness.js';

const { open } = useStoreDir();

describe('retention', () => {
  test('retention must grow from minutes to hours to days', () => {
    assert.throws(() => open({ retention: { minuteMs: 2 * DAY, hourMs: DAY } }), UsageError);
    assert.throws(() => open({ retention: { minuteMs: 0 } }), UsageError);
  });

  test('minutes of a router whose writer stopped are kept past retention until rolled up', () => {
    const retention = { minuteMs: HOUR, hourMs: 10 * DAY, dayMs: null };
    const store = open({ retention, autoPrune: false });
    try {
      const h = new Harness(store, T0);
      h.run(3, 20_000); // one minute, not yet rolled up when the writer stops
      const [d] = h.truth(identityOf(0), 0, T0 + DAY);
      store.prune(T0 + 5 * DAY);
      assert.equal(store.hostTotals(h.routerId, T0, T0 + DAY).hosts.find((x) => x.identity === identityOf(0))?.downBytes, d);
      // A writer comes back days later: the old minute is rolled up, then pruned.
      h.clock.set(T0 + 5 * DAY);
      h.poll();
      store.prune(T0 + 5 * DAY);
      assert.ok(store.availability().minutesFromMs > T0 + 4 * DAY);
      const day0 = store.hostTotals(h.routerId, T0, T0 + DAY);
      assert.equal(day0.hosts.find((x) => x.identity === identityOf(0))?.downBytes, d);
      assert.equal(day0.startPrecision, 'hour');
    } finally {
      store.close();
    }
  });

  test('prune deletes whole hours of minutes and whole days of hours; days stay; queries say how precise they are', () => {
    const retention = { minuteMs: 6 * HOUR, hourMs: 2 * DAY, dayMs: null };
    const store = open({ retention, autoPrune: false });
    try {
      const h = new Harness(store, T0);
      h.run(5 * 24 * 6, 10 * MIN); // 5 days, every 10 minutes
      const now = h.clock.now();
      const before = store.hostTotals(h.routerId, 0, now + 1);
      const result = store.prune(now);
      assert.ok(result.minutesDeleted > 0 && result.hoursDeleted > 0);
      assert.equal(result.daysDeleted, 0);
      assert.equal(result.availability.minutesFromMs % HOUR, 0);
      assert.equal(result.availability.hoursFromMs % DAY, 0);
      assert.ok(now - result.availability.minutesFromMs >= 6 * HOUR && now - result.availability.minutesFromMs < 7 * HOUR);
      // The all-time totals do not change: rollups carry what the pruned minutes held.
      assert.deepEqual(store.hostTotals(h.routerId, 0, now + 1).totals, before.totals);
      // An old ragged range is answered at hour precision, and exactly for the effective range.
      const old = store.hostTotals(h.routerId, T0 + 3 * DAY + 5 * HOUR + 17 * MIN, T0 + 3 * DAY + 9 * HOUR + 1 * MIN);
      assert.equal(old.startPrecision, 'hour');
      assert.deepEqual(old.effective, { startMs: T0 + 3 * DAY + 6 * HOUR, endMs: T0 + 3 * DAY + 10 * HOUR });
      const want = IPS.reduce((acc, _ip, i) => acc + h.truth(identityOf(i), old.effective.startMs, old.effective.endMs)[0], 0);
      assert.equal(old.totals.downBytes, want);
      // Older than the hour retention: day precision.
      const older = store.hostTotals(h.routerId, T0 + 10 * HOUR, T0 + DAY + 10 * HOUR);
      assert.equal(older.startPrecision, 'day');
      assert.deepEqual(older.effective, { startMs: T0 + DAY, endMs: T0 + 2 * DAY });
      // Series mark pruned buckets as unknown, not zero.
      const series = store.series(h.routerId, null, now - 8 * HOUR, now, 'minute');
      assert.equal(series[0]?.downBytes, null);
      assert.notEqual(series[series.length - 1]?.downBytes, null);
      // Pruning again changes nothing.
      const again = store.prune(now);
      assert.deepEqual([again.minutesDeleted, again.hoursDeleted], [0, 0]);
    } finally {
      store.close();
    }
  });

  test('finite day retention deletes old days too; automatic pruning runs as polls are recorded', () => {
    const retention = { minuteMs: HOUR, hourMs: DAY, dayMs: 3 * DAY };
    const store = open({ retention });
    try {
      const h = new Harness(store, T0);
      h.run(6 * 24, HOUR); // auto-prune once per recorded hour
      const a = store.availability();
      assert.equal(a.daysFromMs, T0 + 2 * DAY);
      const early = store.hostTotals(h.routerId, T0, T0 + DAY);
      assert.equal(early.totals.downBytes, 0);
      assert.deepEqual(early.effective, { startMs: T0 + 2 * DAY, endMs: T0 + 2 * DAY });
    } finally {
      store.close();
    }
  });
});
