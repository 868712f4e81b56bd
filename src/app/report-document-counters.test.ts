// loadReportDocument with custom counters (issue 18) against a real history database: the counters
// recorded in the period and the router's idle ones, with bytes per chart bucket exactly as
// recorded; a router without counters gets a document without the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Harness, HOUR, IPS, MACS, MIN, T0, useStoreDir } from '../../test/store/history-harness.js';
import { makeCustomCounter, type CounterInput, type CustomCounter } from '../domain/custom-counter.js';
import { loadReportDocument } from './report-document.js';

const { open } = useStoreDir();
const KEY = 'router-1';
const deltas = (entries: Record<string, number>) => new Map(Object.entries(entries).map(([k, b]) => [k, { bytes: b, packets: Math.ceil(b / 1000) }]));
function counter(input: CounterInput): CustomCounter {
  const made = makeCustomCounter(input);
  assert.ok(made.counter, JSON.stringify(made.problems));
  return made.counter;
}

test('counters in the document: totals in the period, bytes per bucket, idle counters as zeros', () => {
  const store = open({ autoPrune: false });
  try {
    const h = new Harness(store, T0 + 9 * HOUR, KEY);
    h.run(200, 20_000, { hosts: IPS.map((ip, i) => ({ ip, mac: MACS[i] ?? null, hostname: `host-${i}` })) });
    const now = h.clock.now();
    store.counters.add(KEY, counter({ name: 'ssh-in', hook: 'input', inIf: 'ppp0', proto: 'tcp', dport: '22' }), T0);
    store.counters.add(KEY, counter({ name: 'idle', hook: 'output', proto: 'udp', dport: '53' }), T0);
    store.counters.record(KEY, T0 + 9 * HOUR + 30_000, deltas({ 'ssh-in': 5000 }));
    store.counters.record(KEY, T0 + 9 * HOUR + 50_000, deltas({ 'ssh-in': 2500 }));
    store.counters.record(KEY, T0 + 9 * HOUR + 3 * MIN, deltas({ 'ssh-in': 700, gone: 90_000 }));
    store.counters.record(KEY, T0 + 8 * HOUR, deltas({ 'ssh-in': 1_000_000 })); // before the period

    // Per minute (09:00 → 10:06): the bytes of each minute bucket.
    const spec = { kind: 'custom' as const, sinceMs: T0 + 9 * HOUR, untilMs: T0 + 12 * HOUR };
    const doc = loadReportDocument(store, KEY, spec, now);
    assert.ok(doc !== null);
    assert.equal(doc.granularity, 'minute');
    const n = doc.bucketStartsMs.length;
    const minuteSeries = (m: Record<number, number>) => Array.from({ length: n }, (_, k) => m[k] ?? 0);
    assert.deepEqual(doc.counters, [
      { name: 'gone', bytes: 90_000, packets: 90, series: minuteSeries({ 3: 90_000 }) },
      { name: 'ssh-in', bytes: 8200, packets: 5 + 3 + 1, series: minuteSeries({ 0: 7500, 3: 700 }) },
      { name: 'idle', bytes: 0, packets: 0, series: minuteSeries({}) },
    ]);

    // The whole day, per hour: 08:00 has the earlier megabyte.
    const day = loadReportDocument(store, KEY, { kind: 'custom', sinceMs: T0, untilMs: T0 + 24 * HOUR }, now);
    assert.ok(day !== null);
    assert.equal(day.granularity, 'hour');
    const ssh = day.counters?.find((c) => c.name === 'ssh-in');
    assert.equal(ssh?.bytes, 1_008_200);
    assert.deepEqual(ssh?.series, day.bucketStartsMs.map((b) => (b === T0 + 8 * HOUR ? 1_000_000 : b === T0 + 9 * HOUR ? 8200 : 0)));
    assert.equal(ssh?.series.reduce((a: number, v) => a + (v ?? 0), 0), ssh?.bytes, 'the series adds up to the total');
  } finally {
    store.close();
  }
});

test('a router without counters: no counters field', () => {
  const store = open({ autoPrune: false });
  try {
    const h = new Harness(store, T0 + 9 * HOUR, KEY);
    h.run(20, 20_000, { hosts: IPS.map((ip, i) => ({ ip, mac: MACS[i] ?? null, hostname: null })) });
    store.counters.record('another:23', T0 + 9 * HOUR, deltas({ 'ssh-in': 5 }));
    const doc = loadReportDocument(store, KEY, { kind: 'all' }, h.clock.now());
    assert.ok(doc !== null);
    assert.equal('counters' in doc, false);
  } finally {
    store.close();
  }
});

test('counter minutes beyond the retention: their buckets are null, the rest exact', () => {
  const DAY = 24 * HOUR;
  const store = open({ autoPrune: false, retention: { minuteMs: DAY, hourMs: 2 * DAY } });
  try {
    const h = new Harness(store, T0, KEY);
    h.run(3, 20_000, { hosts: [{ ip: '198.51.100.10', mac: null, hostname: null }] });
    for (let d = 0; d < 10; d++) store.counters.record(KEY, T0 + d * DAY + HOUR, deltas({ 'ssh-in': 100 + d }));
    const now = T0 + 9 * DAY + 12 * HOUR;
    store.prune(now);
    const doc = loadReportDocument(store, KEY, { kind: 'custom', sinceMs: T0, untilMs: T0 + 10 * DAY }, now);
    assert.ok(doc !== null);
    assert.equal(doc.granularity, 'day');
    assert.deepEqual(doc.counters, [{ name: 'ssh-in', bytes: 107 + 108 + 109, packets: 3, series: [null, null, null, null, null, null, null, 107, 108, 109] }]);
  } finally {
    store.close();
  }
});
