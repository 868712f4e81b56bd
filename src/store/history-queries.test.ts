// Reports read back what was recorded: per-host totals over any range, series per granularity.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { fixedZone, resolvePeriod } from '../domain/periods.js';
import { DAY, Harness, HOUR, identityOf, IPS, MIN, T0, useStoreDir } from '../../test/store/history-harness.js';

const { open } = useStoreDir();

describe('queries', () => {
  test('minute, hour and day tables agree with each other and with the deltas', () => {
    const store = open({ autoPrune: false });
    try {
      const h = new Harness(store, T0 + 22 * HOUR);
      h.run(300, 20_000); // 100 minutes across midnight, 3 polls per minute
      for (let i = 0; i < IPS.length; i++) {
        const id = identityOf(i);
        const [d, u] = h.truth(id, 0, T0 + 10 * DAY);
        assert.ok(d > 0);
        for (const g of ['minute', 'hour', 'day'] as const) {
          const points = store.series(h.routerId, id, T0, T0 + 2 * DAY, g);
          const sum = points.reduce<[number, number]>((acc, p) => [acc[0] + (p.downBytes ?? 0), acc[1] + (p.upBytes ?? 0)], [0, 0]);
          assert.deepEqual(sum, [d, u], `${g} series of ${id}`);
        }
        const total = store.hostTotals(h.routerId, 0, T0 + 10 * DAY).hosts.find((x) => x.identity === id);
        assert.deepEqual([total?.downBytes, total?.upBytes], [d, u]);
      }
      // Only non-zero minutes are stored: the series of the first minute holds only the polls after the first.
      const minutes = store.series(h.routerId, identityOf(0), T0 + 22 * HOUR, T0 + 22 * HOUR + 5 * MIN, 'minute');
      assert.equal(minutes.length, 5);
      assert.deepEqual(minutes.map((p) => p.startMs), [0, 1, 2, 3, 4].map((k) => T0 + 22 * HOUR + k * MIN));
    } finally {
      store.close();
    }
  });

  test('period totals are exact at minute boundaries and match the truth for every period', () => {
    const store = open({ autoPrune: false });
    try {
      const h = new Harness(store, T0 + 23 * HOUR + 30 * MIN);
      h.run(2000, 45_000); // about 25 hours
      const zone = fixedZone(90);
      const now = h.clock.now();
      const ranges = [
        resolvePeriod({ kind: 'today' }, now, zone),
        resolvePeriod({ kind: 'yesterday' }, now, zone),
        resolvePeriod({ kind: 'week' }, now, zone),
        resolvePeriod({ kind: 'month' }, now, zone),
        resolvePeriod({ kind: 'all' }, now, zone),
        { startMs: T0 + 23 * HOUR + 47 * MIN, endMs: T0 + DAY + 3 * HOUR + 13 * MIN },
        { startMs: T0 + DAY + 5 * MIN, endMs: T0 + DAY + 6 * MIN },
      ];
      for (const r of ranges) {
        const report = store.hostTotals(h.routerId, r.startMs, r.endMs);
        // Minutes everywhere: the range is exact up to snapping a sub-minute end to the minute.
        assert.equal(report.effective.startMs, r.startMs);
        assert.ok(report.effective.endMs - r.endMs >= 0 && report.effective.endMs - r.endMs < MIN);
        let all: [number, number] = [0, 0];
        for (let i = 0; i < IPS.length; i++) {
          const [d, u] = h.truth(identityOf(i), r.startMs, r.endMs);
          all = [all[0] + d, all[1] + u];
          const got = report.hosts.find((x) => x.identity === identityOf(i));
          assert.deepEqual([got?.downBytes ?? 0, got?.upBytes ?? 0], [d, u], `${identityOf(i)} in ${new Date(r.startMs).toISOString()}`);
        }
        assert.deepEqual([report.totals.downBytes, report.totals.upBytes], all);
      }
    } finally {
      store.close();
    }
  });

  test('top N cuts the list, largest first, and keeps the totals complete', () => {
    const store = open({ autoPrune: false });
    try {
      const h = new Harness(store);
      h.poll();
      h.clock.advance(MIN);
      h.poll({}, (i) => [[500, 100, 900][i] ?? 0, 0]);
      const report = store.hostTotals(h.routerId, T0, T0 + DAY, { top: 2 });
      assert.deepEqual(report.hosts.map((x) => x.identity), [identityOf(2), identityOf(0)]);
      assert.equal(report.hostCount, 3);
      assert.deepEqual(report.totals, { downBytes: 1500, upBytes: 0 });
      assert.equal(report.router, 'router-1');
      assert.equal(report.hosts[0]?.hostname, 'host-2');
    } finally {
      store.close();
    }
  });

  test('local days in a fixed zone, one range each', () => {
    const store = open({ autoPrune: false });
    try {
      const h = new Harness(store, T0);
      h.run(3 * 24 * 4, 15 * MIN);
      const zone = fixedZone(-300);
      const days = [0, 1].map((k) => resolvePeriod({ kind: 'today' }, T0 + (k + 1) * DAY, zone));
      for (const d of days) {
        const p = store.hostTotals(h.routerId, d.startMs, d.endMs).hosts.find((x) => x.identity === identityOf(1));
        assert.deepEqual([p?.downBytes ?? 0, p?.upBytes ?? 0], h.truth(identityOf(1), d.startMs, d.endMs));
      }
    } finally {
      store.close();
    }
  });
});
