import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClassWatch } from './class-watch.js';
import type { Snapshot } from '../domain/snapshot.js';
import type { TrafficClass } from '../domain/traffic-class.js';
import { MIN, T0, useStoreDir } from '../../test/store/history-harness.js';

const tmp = useStoreDir();
const KEY = '198.51.100.1:23';
const HTTPS: TrafficClass = { protocol: 'tcp', port: 443 };
const DNS: TrafficClass = { protocol: 'udp', port: 53 };

function snapshot(atMs: number, pollLatencyMs: number | null = 5): Snapshot {
  return { schema: 1, router: KEY, atMs, hosts: [], totals: { downBytes: 0, upBytes: 0, downBps: 0, upBps: 0 }, pollLatencyMs, connection: { kind: 'connected' }, notices: [] };
}
const counters = (entries: Record<string, [number, number]>) => new Map(Object.entries(entries).map(([k, [d, u]]) => [k, { downBytes: d, upBytes: u }]));

test('every poll: totals and rates per class on the snapshot; none installed: no classes field at all', () => {
  const watch = new ClassWatch({ routerKey: KEY, store: null });
  const s0 = snapshot(T0);
  watch.afterPoll(s0, true, { classCounters: counters({ 'tcp/443': [1000, 100], 'udp/53': [0, 0] }), installedClasses: [HTTPS, DNS] });
  assert.deepEqual(watch.decorate(s0).classes?.map((c) => [c.label, c.downBytes]), [['tcp/443 https', 0], ['udp/53 dns', 0]]);
  const s1 = snapshot(T0 + 2000);
  watch.afterPoll(s1, true, { classCounters: counters({ 'tcp/443': [5000, 300], 'udp/53': [200, 100] }), installedClasses: [HTTPS, DNS] });
  const out = watch.decorate(s1);
  assert.deepEqual(out.classes?.[0], { key: 'tcp/443', label: 'tcp/443 https', protocol: 'tcp', port: 443, downBytes: 4000, upBytes: 200, downBps: 2000, upBps: 100 });
  // The same snapshot again (a frame re-rendered) and a failed poll are no new observations.
  watch.afterPoll(s1, true, { classCounters: counters({ 'tcp/443': [9000, 300] }), installedClasses: [HTTPS] });
  watch.afterPoll(snapshot(T0 + 4000, null), true, { classCounters: counters({ 'tcp/443': [9000, 300] }), installedClasses: [HTTPS] });
  watch.afterPoll(snapshot(T0 + 5000), true, null);
  assert.equal(watch.decorate(s1).classes?.[0]?.downBytes, 4000);
  assert.equal(watch.decorate(s1).classes?.length, 2);
  // Classes torn down: the backend reports none (no counters, nothing installed).
  const s2 = snapshot(T0 + 6000);
  watch.afterPoll(s2, true, {});
  assert.equal('classes' in watch.decorate(s2), false);
  const none = new ClassWatch({ routerKey: KEY, store: null });
  none.afterPoll(s2, true, { classCounters: new Map(), installedClasses: [] });
  assert.equal('classes' in none.decorate(s2), false, 'a router without classes: the snapshot as before');
});

test('the writer records per-minute bytes and the state; a later run continues the totals; a reader writes nothing', () => {
  let store = tmp.open();
  try {
    const reader = new ClassWatch({ routerKey: KEY, store });
    reader.afterPoll(snapshot(T0), false, { classCounters: counters({ 'tcp/443': [0, 0] }), installedClasses: [HTTPS] });
    reader.afterPoll(snapshot(T0 + 1000), false, { classCounters: counters({ 'tcp/443': [50, 5] }), installedClasses: [HTTPS] });
    assert.deepEqual(store.classes.query(KEY, 0, T0 + MIN), []);
    assert.equal(store.classes.loadState(KEY), null);

    const writer = new ClassWatch({ routerKey: KEY, store });
    writer.afterPoll(snapshot(T0), true, { classCounters: counters({ 'tcp/443': [0, 0] }), installedClasses: [HTTPS] });
    writer.afterPoll(snapshot(T0 + 2000), true, { classCounters: counters({ 'tcp/443': [700, 70] }), installedClasses: [HTTPS] });
    writer.afterPoll(snapshot(T0 + MIN), true, { classCounters: counters({ 'tcp/443': [1000, 100] }), installedClasses: [HTTPS] });
    assert.deepEqual(store.classes.query(KEY, T0, T0 + MIN), [{ key: 'tcp/443', downBytes: 700, upBytes: 70 }]);
    assert.deepEqual(store.classes.query(KEY, T0, T0 + 2 * MIN), [{ key: 'tcp/443', downBytes: 1000, upBytes: 100 }]);
  } finally {
    store.close();
  }
  store = tmp.open();
  try {
    const next = new ClassWatch({ routerKey: KEY, store });
    assert.equal(next.decorate(snapshot(T0 + 2 * MIN)).classes?.[0]?.downBytes, 1000, 'the totals of the last run, before the first poll');
    // The router rebooted meanwhile: its counter restarted and reads 40.
    const s = snapshot(T0 + 3 * MIN);
    next.afterPoll(s, true, { classCounters: counters({ 'tcp/443': [40, 4] }), installedClasses: [HTTPS] });
    assert.deepEqual([next.decorate(s).classes?.[0]?.downBytes, next.decorate(s).classes?.[0]?.upBytes], [1040, 104]);
    assert.equal(store.classes.query(KEY, 0, T0 + 4 * MIN)[0]?.downBytes, 1040);
    // Removed: the state is saved once without it; the history stays.
    next.afterPoll(snapshot(T0 + 4 * MIN), true, { classCounters: new Map(), installedClasses: [] });
    assert.deepEqual((store.classes.loadState(KEY)?.state as { classes: object }).classes, {});
    assert.equal(store.classes.loadState(KEY)?.updatedMs, T0 + 4 * MIN);
    next.afterPoll(snapshot(T0 + 5 * MIN), true, { classCounters: new Map(), installedClasses: [] });
    assert.equal(store.classes.loadState(KEY)?.updatedMs, T0 + 4 * MIN, 'nothing to keep: no write per poll');
    assert.equal(store.classes.query(KEY, 0, T0 + 6 * MIN)[0]?.downBytes, 1040);
  } finally {
    store.close();
  }
});
