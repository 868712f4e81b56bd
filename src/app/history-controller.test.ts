// The History screen's data from a real history store (issue 17): the chart's buckets and series
// are what was recorded, per minute for the last 6 hours, per hour for a day, one period back too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Harness, HOUR, identityOf, IPS, MIN, T0, useStoreDir } from '../../test/store/history-harness.js';
import { bucketStarts, GRANULARITY_MS } from '../domain/chart-resolution.js';
import { resolvePeriod, shiftedPeriod } from '../domain/periods.js';
import { LiveRouterController, type ControllerOptions } from './controller.js';

const { open } = useStoreDir();

function controllerOn(store: ReturnType<typeof open>, now: () => number): LiveRouterController {
  // Only the history parts are used: no router is opened.
  const services = { key: 'router-1', clock: { now }, label: 'test', settings: { protocol: 'telnet' } } as unknown as ControllerOptions['services'];
  return new LiveRouterController({ services, store });
}

/** What the harness recorded per bucket, summed over `ids`. */
function truthSeries(h: Harness, ids: string[], starts: number[], len: number): { down: number[]; up: number[] } {
  const down: number[] = [];
  const up: number[] = [];
  for (const b of starts) {
    let d = 0;
    let u = 0;
    for (const id of ids) {
      const [dd, uu] = h.truth(id, b, b + len);
      d += dd;
      u += uu;
    }
    down.push(d);
    up.push(u);
  }
  return { down, up };
}

test('history(): the chart series equal what was recorded, for the total and a picked device', { timeout: 60_000 }, async () => {
  const store = open({ autoPrune: false });
  try {
    const h = new Harness(store, T0 + 2 * HOUR);
    h.run(8 * 60 * 2, 30_000); // 8 hours, 2 polls a minute
    const now = h.clock.now();
    const controller = controllerOn(store, () => now);
    const ids = IPS.map((_, i) => identityOf(i));

    // The last 6 hours: 360 minutes ending with the current one.
    const hours = await controller.history('hours', { identity: ids[1] });
    assert.equal(hours.chart?.granularity, 'minute');
    assert.equal(hours.chart?.bucketStartsMs.length, 360);
    assert.equal(hours.chart?.bucketStartsMs.at(-1), Math.floor(now / MIN) * MIN);
    assert.deepEqual({ down: hours.chart?.total.down, up: hours.chart?.total.up }, truthSeries(h, ids, hours.chart!.bucketStartsMs, MIN));
    assert.equal(hours.chart?.device?.identity, ids[1]);
    assert.equal(hours.chart?.device?.name, 'host-1');
    assert.deepEqual({ down: hours.chart?.device?.down, up: hours.chart?.device?.up }, truthSeries(h, [ids[1]!], hours.chart!.bucketStartsMs, MIN));
    assert.ok(hours.chart!.total.down.some((v) => (v ?? 0) > 0), 'traffic was recorded');
    // The table's totals are the series' sums.
    const sum = (xs: ReadonlyArray<number | null>) => xs.reduce<number>((a, v) => a + (v ?? 0), 0);
    assert.equal(hours.totals.downBytes, sum(hours.chart!.total.down));

    // Six hours further back: only the first two hours of recording fall in it.
    const before = await controller.history('hours', { offset: -1 });
    assert.equal(before.offset, -1);
    assert.equal(before.endMs, hours.startMs);
    assert.equal(before.chart?.device, null);
    assert.deepEqual({ down: before.chart?.total.down, up: before.chart?.total.up }, truthSeries(h, ids, before.chart!.bucketStartsMs, MIN));

    // Today per hour, as chart-resolution decides, up to now.
    const today = await controller.history('today', { identity: ids[0] });
    const range = resolvePeriod({ kind: 'today' }, now);
    assert.equal(today.chart?.granularity, 'hour');
    assert.deepEqual(today.chart?.bucketStartsMs, bucketStarts(range.startMs, range.endMs, now, 'hour'));
    assert.deepEqual({ down: today.chart?.device?.down, up: today.chart?.device?.up }, truthSeries(h, [ids[0]!], today.chart!.bucketStartsMs, HOUR));
    assert.deepEqual({ down: today.chart?.total.down, up: today.chart?.total.up }, truthSeries(h, ids, today.chart!.bucketStartsMs, HOUR));

    // Yesterday's day, a whole one: 24 hour buckets (23 or 25 over a DST change), as recorded.
    const dayBefore = await controller.history('today', { offset: -1 });
    const r = shiftedPeriod({ kind: 'today' }, now, -1);
    assert.deepEqual([dayBefore.startMs, dayBefore.endMs], [r.startMs, r.endMs]);
    assert.equal(dayBefore.chart?.bucketStartsMs.length, Math.ceil((r.endMs - Math.floor(r.startMs / HOUR) * HOUR) / HOUR));
    assert.deepEqual({ down: dayBefore.chart?.total.down, up: dayBefore.chart?.total.up }, truthSeries(h, ids, dayBefore.chart!.bucketStartsMs, GRANULARITY_MS.hour));

    // A month per day.
    const month = await controller.history('month');
    assert.equal(month.chart?.granularity, 'day');
    assert.deepEqual({ down: month.chart?.total.down, up: month.chart?.total.up }, truthSeries(h, ids, month.chart!.bucketStartsMs, GRANULARITY_MS.day));
  } finally {
    store.close();
  }
});
