// loadReportDocument against a real history database (issue 17): what was recorded comes back as the
// document's totals, per-device series, the "other devices" series and the persons' sums.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Harness, HOUR, identityOf, IPS, MACS, MIN, T0, useStoreDir } from '../../test/store/history-harness.js';
import type { ReportDeviceDoc } from '../domain/report-document.js';
import { loadReportDocument } from './report-document.js';

const { open } = useStoreDir();
const KEY = 'router-1';

function truthPerBucket(h: Harness, identities: string[], buckets: number[], len: number): { down: number[]; up: number[] } {
  return {
    down: buckets.map((b) => identities.reduce((a, id) => a + h.truth(id, b, b + len)[0], 0)),
    up: buckets.map((b) => identities.reduce((a, id) => a + h.truth(id, b, b + len)[1], 0)),
  };
}

test('totals, series and persons equal the recorded bytes', () => {
  const store = open({ autoPrune: false });
  try {
    const h = new Harness(store, T0 + 9 * HOUR, KEY);
    const evil = '\u001b[31m</script><img src=x onerror=alert(1)>';
    h.run(400, 20_000, { hosts: IPS.map((ip, i) => ({ ip, mac: MACS[i] ?? null, hostname: i === 1 ? evil : `host-${i}` })) });
    const now = h.clock.now();
    store.quotas.addPerson(KEY, { name: 'Ana', identities: [identityOf(0), identityOf(2)] }, now);
    const spec = { kind: 'custom' as const, sinceMs: T0 + 9 * HOUR, untilMs: T0 + 12 * HOUR };
    const doc = loadReportDocument(store, KEY, spec, now, { seriesDevices: 2 });
    assert.ok(doc !== null);
    assert.equal(doc.granularity, 'minute');
    assert.equal(doc.bucketMs, MIN);
    // The period began at 09:00 and "now" is 2 h 13 min later: the future is not drawn.
    assert.equal(doc.bucketStartsMs.length, Math.ceil((now - (T0 + 9 * HOUR)) / MIN));
    assert.equal(doc.bucketStartsMs[0], T0 + 9 * HOUR);

    const ids = IPS.map((_, i) => identityOf(i));
    let down = 0;
    let up = 0;
    for (const id of ids) {
      const [d, u] = h.truth(id, spec.sinceMs, spec.untilMs);
      const device: ReportDeviceDoc | undefined = doc.devices.find((x) => x.identity === id);
      assert.deepEqual([device?.downBytes, device?.upBytes], [d, u], id);
      down += d;
      up += u;
    }
    assert.deepEqual(doc.totals, { downBytes: down, upBytes: up });
    assert.ok(down > 0 && up > 0);
    assert.equal(doc.hostCount, 3);

    // The busiest two have their own series; the third is the "other devices" series.
    const withSeries = doc.devices.filter((d) => d.series !== null).map((d) => d.identity);
    assert.deepEqual(withSeries, doc.devices.slice(0, 2).map((d) => d.identity));
    for (const d of doc.devices.slice(0, 2)) assert.deepEqual(d.series, truthPerBucket(h, [d.identity], doc.bucketStartsMs, MIN), d.identity);
    const rest = doc.devices.slice(2).map((d) => d.identity);
    assert.deepEqual(doc.otherSeries, truthPerBucket(h, rest, doc.bucketStartsMs, MIN));
    assert.deepEqual(doc.totalSeries, truthPerBucket(h, ids, doc.bucketStartsMs, MIN));

    const ana = doc.persons.find((p) => p.name === 'Ana');
    const anaTruth = [identityOf(0), identityOf(2)].map((id) => h.truth(id, spec.sinceMs, spec.untilMs));
    assert.deepEqual([ana?.downBytes, ana?.upBytes], [anaTruth.reduce((a, t) => a + t[0], 0), anaTruth.reduce((a, t) => a + t[1], 0)]);
    assert.equal(doc.devices.find((d) => d.identity === identityOf(0))?.person, 'Ana');
    assert.equal(doc.devices.find((d) => d.identity === identityOf(1))?.person, null);
    const shares = doc.devices.reduce((a, d) => a + d.share, 0);
    assert.ok(Math.abs(shares - 1) < 1e-9);

    // Router text reaches the document sanitised (escaping for HTML is the page's job).
    assert.equal(doc.devices.find((d) => d.identity === identityOf(1))?.name, '</script><img src=x onerror=alert(1)>');

    // A day of it, hourly: the same totals per hour bucket.
    const day = loadReportDocument(store, KEY, { kind: 'custom', sinceMs: T0, untilMs: T0 + 24 * HOUR }, now);
    assert.ok(day !== null);
    assert.equal(day.granularity, 'hour');
    assert.equal(day.otherSeries, null, 'three devices all have a series by default');
    assert.deepEqual(day.totalSeries, truthPerBucket(h, ids, day.bucketStartsMs, HOUR));
  } finally {
    store.close();
  }
});

test('no history for the router: null', () => {
  const store = open();
  try {
    assert.equal(loadReportDocument(store, 'unknown:23', { kind: 'today' }, T0), null);
  } finally {
    store.close();
  }
});
