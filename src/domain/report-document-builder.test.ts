// The ReportDocument from store answers (issue 17): shares, persons, the "other devices" sums, pruned
// buckets kept as null, hostile names sanitised, and the period's words.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fixedZone, resolvePeriod, utcZone, type PeriodSpec } from './periods.js';
import type { HostTotal, PeriodReport, SeriesPoint } from './report.js';
import { alignSeries, buildReportDocument, chartWindow, deviceName, otherSeriesOf, periodLabel, type ChartWindow } from './report-document-builder.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2024, 2, 4);

function host(identity: string, down: number, up: number, extra: Partial<HostTotal> = {}): HostTotal {
  return { identity, mac: identity.startsWith('ip:') ? null : identity, ip: '198.51.100.' + (10 + down % 200), hostname: null, firstSeenMs: T0, lastSeenMs: T0 + HOUR, downBytes: down, upBytes: up, ...extra };
}

function reportOf(hosts: HostTotal[]): PeriodReport {
  const sorted = [...hosts].sort((a, b) => b.downBytes + b.upBytes - (a.downBytes + a.upBytes));
  const totals = { downBytes: hosts.reduce((a, h) => a + h.downBytes, 0), upBytes: hosts.reduce((a, h) => a + h.upBytes, 0) };
  return { router: 'r', requested: { startMs: T0, endMs: T0 + 4 * HOUR }, effective: { startMs: T0, endMs: T0 + 4 * HOUR }, startPrecision: 'minute', endPrecision: 'minute', hosts: sorted, totals, hostCount: hosts.length };
}

const WINDOW: ChartWindow = { startMs: T0, endMs: T0 + 4 * HOUR, granularity: 'hour', bucketStartsMs: [0, 1, 2, 3].map((k) => T0 + k * HOUR) };
const points = (values: Array<[number, number] | null>): SeriesPoint[] => values.map((v, k) => ({ startMs: T0 + k * HOUR, downBytes: v === null ? null : v[0], upBytes: v === null ? null : v[1] }));
const SPEC: PeriodSpec = { kind: 'custom', sinceMs: T0, untilMs: T0 + 4 * HOUR };

describe('buildReportDocument', () => {
  const hosts = [host('aa:00:00:00:00:01', 600, 200), host('aa:00:00:00:00:02', 150, 50), host('ip:198.51.100.99', 0, 0, { ip: '198.51.100.99' }), host('aa:00:00:00:00:03', 300, 100)];
  const series = new Map([
    ['aa:00:00:00:00:01', points([null, [100, 50], [200, 50], [300, 100]])],
    ['aa:00:00:00:00:03', points([null, [100, 0], [100, 50], [100, 50]])],
  ]);
  const total = points([null, [250, 70], [450, 130], [350, 150]]);
  const doc = buildReportDocument({
    router: '198.51.100.1:23',
    spec: SPEC,
    range: { startMs: T0, endMs: T0 + 4 * HOUR },
    report: reportOf(hosts),
    window: WINDOW,
    generatedAtMs: T0 + 5 * HOUR,
    totalSeries: total,
    deviceSeries: series,
    persons: [{ name: 'Zoe', identities: ['aa:00:00:00:00:02', 'ip:198.51.100.99', 'aa:00:00:00:00:77'] }, { name: 'Adam', identities: ['aa:00:00:00:00:01', 'aa:00:00:00:00:03'] }],
    zone: utcZone,
  });

  test('devices are busiest first with shares of the whole period', () => {
    assert.deepEqual(doc.devices.map((d) => d.identity), ['aa:00:00:00:00:01', 'aa:00:00:00:00:03', 'aa:00:00:00:00:02', 'ip:198.51.100.99']);
    assert.deepEqual(doc.devices.map((d) => d.share), [800 / 1400, 400 / 1400, 200 / 1400, 0]);
    assert.deepEqual(doc.totals, { downBytes: 1050, upBytes: 350 });
    assert.equal(doc.hostCount, 4);
    assert.equal(doc.bucketMs, HOUR);
    assert.equal(doc.granularity, 'hour');
  });

  test('persons sum their devices (an unknown identity adds nothing) and devices name their person', () => {
    assert.deepEqual(doc.persons.map((p) => [p.name, p.downBytes, p.upBytes, p.share]), [['Adam', 900, 300, 1200 / 1400], ['Zoe', 150, 50, 200 / 1400]]);
    assert.deepEqual(doc.devices.map((d) => d.person), ['Adam', 'Adam', 'Zoe', 'Zoe']);
  });

  test('devices without a series are summed into otherSeries; pruned buckets stay null', () => {
    assert.deepEqual(doc.devices.map((d) => d.series === null), [false, false, true, true]);
    assert.deepEqual(doc.devices[0]?.series, { down: [null, 100, 200, 300], up: [null, 50, 50, 100] });
    assert.deepEqual(doc.totalSeries, { down: [null, 250, 450, 350], up: [null, 70, 130, 150] });
    assert.deepEqual(doc.otherSeries, { down: [null, 50, 150, 0], up: [null, 20, 30, 0] });
  });

  test('when every device has a series there is no otherSeries', () => {
    const two = buildReportDocument({ router: 'r', spec: SPEC, range: WINDOW, report: reportOf(hosts.slice(0, 1)), window: WINDOW, generatedAtMs: T0, totalSeries: total, deviceSeries: series, persons: [] });
    assert.equal(two.otherSeries, null);
    assert.deepEqual(two.persons, []);
    assert.equal(two.devices[0]?.person, null);
  });

  test('hostile host names, MACs, persons and the router key are sanitised', () => {
    const evil = '\u001b[31mred\u001b[0m\u202eevil\u0007';
    const d = buildReportDocument({
      router: 'r\u001b[2J',
      spec: SPEC,
      range: WINDOW,
      report: reportOf([host('aa:bb', 10, 0, { hostname: evil, mac: 'aa:bb\u001b]0;x\u0007' })]),
      window: WINDOW,
      generatedAtMs: T0,
      totalSeries: [],
      deviceSeries: new Map(),
      persons: [{ name: 'Eve\u001b[1m', identities: ['aa:bb'] }],
    });
    assert.equal(d.devices[0]?.name, 'redevil');
    assert.equal(d.devices[0]?.mac, 'aa:bb');
    assert.equal(d.persons[0]?.name, 'Eve');
    assert.equal(d.devices[0]?.person, 'Eve');
    assert.equal(d.router, 'r');
    // Missing buckets are unknown, not zero.
    assert.deepEqual(d.totalSeries, { down: [null, null, null, null], up: [null, null, null, null] });
  });
});

describe('pieces', () => {
  test('deviceName: host name, else address, else identity; the unattributed row has its name', () => {
    assert.equal(deviceName({ identity: 'aa', hostname: '  laptop ', ip: '198.51.100.2' }), 'laptop');
    assert.equal(deviceName({ identity: 'aa', hostname: '\u001b[0m', ip: '198.51.100.2' }), '198.51.100.2');
    assert.equal(deviceName({ identity: 'aa:bb', hostname: null, ip: null }), 'aa:bb');
    assert.equal(deviceName({ identity: 'unattributed:ipv6', hostname: null, ip: '' }), 'unattributed IPv6');
  });

  test('alignSeries puts points on their bucket whatever their order', () => {
    const got = alignSeries([{ startMs: T0 + 2 * HOUR, downBytes: 5, upBytes: 6 }, { startMs: T0, downBytes: 1, upBytes: 2 }], WINDOW.bucketStartsMs);
    assert.deepEqual(got, { down: [1, null, 5, null], up: [2, null, 6, null] });
  });

  test('otherSeriesOf: total minus parts, null where any is null', () => {
    assert.deepEqual(otherSeriesOf({ down: [10, null, 4], up: [1, 1, 1] }, [{ down: [3, 1, null], up: [1, 0, 0] }]), { down: [7, null, null], up: [0, 1, 1] });
  });

  test('chartWindow: a day is hourly from its start; "all" starts at the first recorded host', () => {
    const now = T0 + 10 * HOUR;
    const today = chartWindow({ kind: 'today' }, { startMs: T0, endMs: T0 + 24 * HOUR }, null, now);
    assert.equal(today.granularity, 'hour');
    assert.equal(today.bucketStartsMs.length, 10);
    const all = chartWindow({ kind: 'all' }, resolvePeriod({ kind: 'all' }, now), reportOf([host('a', 1, 1, { firstSeenMs: T0 + 7 * HOUR })]), now);
    assert.equal(all.startMs, T0 + 7 * HOUR);
    assert.equal(all.granularity, 'minute');
    assert.equal(all.bucketStartsMs.length, 180);
  });

  test('periodLabel', () => {
    const zone = fixedZone(60);
    const now = Date.UTC(2026, 10, 8, 12);
    const r = (spec: PeriodSpec) => periodLabel(spec, resolvePeriod(spec, now, zone), zone);
    assert.equal(r({ kind: 'today' }), 'today');
    assert.equal(r({ kind: 'week' }), 'this week');
    assert.equal(r({ kind: 'cycle', startDay: 5 }), 'this billing cycle (from day 5)');
    assert.equal(r({ kind: 'all' }), 'all recorded history');
    const since = zone.toMs(2026, 10, 1);
    const until = zone.toMs(2026, 10, 9); // --until 2026-11-08 means the end of that day
    assert.equal(r({ kind: 'custom', sinceMs: since, untilMs: until }), '2026-11-01 → 2026-11-08');
    assert.equal(r({ kind: 'custom', sinceMs: since + 90 * 60_000, untilMs: until }), '2026-11-01 01:30 → 2026-11-09 00:00');
    assert.equal(r({ kind: 'custom', sinceMs: since, untilMs: null }), '2026-11-01 → now');
  });
});
