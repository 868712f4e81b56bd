// Custom counters (issue 18) in a real database: the counters per router, their minutes, the
// accountant's state, the read-only loader, pruning; a version-8 database migrating to 9.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { HistoryStore } from './history-store.js';
import { LATEST_SCHEMA_VERSION, migrate, schemaVersion } from './migrations.js';
import { loadCountersReadOnly } from './counter-store.js';
import { makeCustomCounter, type CounterInput, type CustomCounter } from '../domain/custom-counter.js';
import { CounterAccountant } from '../domain/counter-usage.js';
import { DAY, HOUR, MIN, T0, useStoreDir } from '../../test/store/history-harness.js';

const tmp = useStoreDir();
const KEY = '198.51.100.1:23';
function counter(input: CounterInput): CustomCounter {
  const made = makeCustomCounter(input);
  assert.ok(made.counter, JSON.stringify(made.problems));
  return made.counter;
}
const SSH = counter({ name: 'ssh-in', hook: 'input', inIf: 'ppp0', proto: 'tcp', dport: '22' });
const OUTSIDE = counter({ name: 'not-ours', hook: 'input', src: '!192.168.1.0/24' });
const deltas = (entries: Record<string, [number, number]>) => new Map(Object.entries(entries).map(([k, [b, p]]) => [k, { bytes: b, packets: p }]));

describe('the counters of a router', () => {
  test('add, list (by name, re-validated), remove and reset, per router', () => {
    const store = tmp.open();
    try {
      assert.equal(store.counters.add(KEY, SSH, T0), true);
      assert.equal(store.counters.add(KEY, OUTSIDE, T0 + 1), true);
      assert.equal(store.counters.add(KEY, { ...OUTSIDE, src: { cidr: '10.0.0.0/8', negated: false } }, T0 + 2), false, 'a name is taken once per router');
      assert.equal(store.counters.add('other:23', SSH, T0), true, 'another router has its own names');
      assert.deepEqual(store.counters.list(KEY), [
        { counter: OUTSIDE, createdMs: T0 + 1, resetMs: null },
        { counter: SSH, createdMs: T0, resetMs: null },
      ]);
      assert.equal(store.counters.reset(KEY, 'ssh-in', T0 + HOUR), true);
      assert.equal(store.counters.reset(KEY, 'nope', T0 + HOUR), false);
      assert.equal(store.counters.list(KEY)[1]?.resetMs, T0 + HOUR);
      assert.equal(store.counters.remove(KEY, 'not-ours'), true);
      assert.equal(store.counters.remove(KEY, 'not-ours'), false);
      assert.deepEqual(store.counters.list(KEY).map((s) => s.counter.name), ['ssh-in']);
      assert.deepEqual(store.counters.list('other:23').map((s) => s.counter.name), ['ssh-in']);
      assert.throws(() => store.counters.add(KEY, { ...SSH, name: 'Bad Name' }, T0), RangeError);
    } finally {
      store.close();
    }
  });

  test('a row edited by hand into something lantop would not write is left out', () => {
    const store = tmp.open();
    try {
      store.counters.add(KEY, SSH, T0);
    } finally {
      store.close();
    }
    const db = new Database(tmp.dbPath);
    db.prepare(`INSERT INTO custom_counters (router_key, name, match_key, created_ms) VALUES (?, 'evil', 'input src=1.2.3.4/32;reboot', 0), (?, 'BAD', 'input', 0), (?, 'odd', 'input dport=22', 0)`).run(KEY, KEY, KEY);
    db.close();
    const again = tmp.open();
    try {
      assert.deepEqual(again.counters.list(KEY).map((s) => s.counter.name), ['ssh-in']);
    } finally {
      again.close();
    }
    assert.deepEqual(loadCountersReadOnly(tmp.dbPath, KEY)?.map((s) => s.counter.name), ['ssh-in']);
  });
});

describe('counter minutes and state', () => {
  test('polls of one minute add up; a range sums per counter, most bytes first; a zero delta writes nothing', () => {
    const store = tmp.open();
    try {
      store.counters.record(KEY, T0 + 1000, deltas({ 'ssh-in': [1000, 10], 'not-ours': [10, 1] }));
      store.counters.record(KEY, T0 + 59_999, deltas({ 'ssh-in': [500, 5], idle: [0, 0] }));
      store.counters.record(KEY, T0 + MIN, deltas({ 'not-ours': [5000, 50] }));
      assert.deepEqual(store.counters.query(KEY, T0, T0 + MIN), [
        { name: 'ssh-in', bytes: 1500, packets: 15 },
        { name: 'not-ours', bytes: 10, packets: 1 },
      ]);
      assert.deepEqual(store.counters.query(KEY, T0, T0 + 2 * MIN).map((r) => r.name), ['not-ours', 'ssh-in']);
      assert.deepEqual(store.counters.query('nobody:23', T0, T0 + DAY), []);
      assert.throws(() => store.counters.record(KEY, T0, deltas({ 'ssh-in': [-1, 0] })), RangeError);
      assert.throws(() => store.counters.record(KEY, T0, deltas({ 'Not A Name': [1, 1] })), RangeError);
    } finally {
      store.close();
    }
  });

  test('the accountant state round-trips; a reset saved into it zeroes the totals', () => {
    const store = tmp.open();
    try {
      const a = new CounterAccountant();
      const wanted = [{ counter: SSH, resetMs: null }];
      a.observe(T0, wanted, new Map([['ssh-in', { bytes: 100, packets: 2 }]]));
      a.observe(T0 + 10_000, wanted, new Map([['ssh-in', { bytes: 1100, packets: 12 }]]));
      store.counters.saveState(KEY, a.exportState(), T0 + 10_000);
      const b = new CounterAccountant();
      assert.equal(b.importState(store.counters.loadState(KEY)?.state, wanted), true);
      assert.deepEqual(b.view().map((v) => [v.name, v.bytes, v.packets]), [['ssh-in', 1100, 12]]);
      assert.equal(b.resetCounter('ssh-in', T0 + 20_000), true);
      store.counters.saveState(KEY, b.exportState(), T0 + 10_000);
      const c = new CounterAccountant();
      c.importState(store.counters.loadState(KEY)?.state, wanted);
      assert.deepEqual(c.view().map((v) => [v.bytes, v.sinceMs]), [[0, T0 + 20_000]]);
    } finally {
      store.close();
    }
  });

  test('pruning takes counter minutes with the hourly horizon', () => {
    const store = HistoryStore.open({ path: join(tmp.path, 'prune.sqlite'), hostname: 'testhost', retention: { minuteMs: DAY, hourMs: 2 * DAY } });
    try {
      store.counters.record(KEY, T0, deltas({ 'ssh-in': [1, 1] }));
      store.counters.record(KEY, T0 + 5 * DAY, deltas({ 'ssh-in': [2, 1] }));
      store.prune(T0 + 5 * DAY);
      assert.deepEqual(store.counters.query(KEY, 0, T0 + 6 * DAY), [{ name: 'ssh-in', bytes: 2, packets: 1 }]);
    } finally {
      store.close();
    }
  });
});

describe('counter series (the report charts)', () => {
  test('bytes per minute, hour and day exactly as recorded; 0 where nothing was counted; only the names asked', () => {
    const store = tmp.open();
    try {
      store.counters.record(KEY, T0 + 1000, deltas({ 'ssh-in': [1000, 10], 'not-ours': [10, 1] }));
      store.counters.record(KEY, T0 + 59_999, deltas({ 'ssh-in': [500, 5] }));
      store.counters.record(KEY, T0 + 2 * MIN + 5, deltas({ 'ssh-in': [7, 1] }));
      store.counters.record(KEY, T0 + HOUR + 30 * MIN, deltas({ 'ssh-in': [40_000, 30], 'not-ours': [3, 1] }));
      store.counters.record(KEY, T0 + DAY + HOUR, deltas({ 'ssh-in': [2 ** 40, 9] }));
      store.counters.record('other:23', T0, deltas({ 'ssh-in': [999, 9] }));
      const none = { hoursFromMs: 0 };
      const minutes = store.counters.series(KEY, ['ssh-in', 'not-ours', 'idle'], T0, T0 + 4 * MIN, 'minute', none);
      assert.deepEqual([...minutes.keys()], ['ssh-in', 'not-ours', 'idle']);
      assert.deepEqual(minutes.get('ssh-in'), [1500, 0, 7, 0].map((bytes, k) => ({ startMs: T0 + k * MIN, bytes })));
      assert.deepEqual(minutes.get('not-ours')?.map((p) => p.bytes), [10, 0, 0, 0]);
      assert.deepEqual(minutes.get('idle')?.map((p) => p.bytes), [0, 0, 0, 0], 'a counter that counted nothing is zeros');
      const hours = store.counters.series(KEY, ['ssh-in'], T0 + 10 * MIN, T0 + 2 * HOUR + 1, 'hour', none);
      assert.deepEqual(hours.get('ssh-in'), [
        { startMs: T0, bytes: 1507 },
        { startMs: T0 + HOUR, bytes: 40_000 },
        { startMs: T0 + 2 * HOUR, bytes: 0 },
      ], 'buckets are whole UTC hours around the range');
      const days = store.counters.series(KEY, ['ssh-in', 'not-ours'], T0, T0 + 2 * DAY, 'day', none);
      assert.deepEqual(days.get('ssh-in')?.map((p) => p.bytes), [41_507, 2 ** 40]);
      assert.deepEqual(days.get('not-ours')?.map((p) => p.bytes), [13, 0]);
      assert.deepEqual(store.counters.series('nobody:23', ['ssh-in'], T0, T0 + 2 * MIN, 'minute', none).get('ssh-in')?.map((p) => p.bytes), [0, 0]);
      assert.equal(store.counters.series(KEY, [], T0, T0 + DAY, 'hour', none).size, 0);
      assert.throws(() => store.counters.series(KEY, ['ssh-in'], 0, T0, 'minute', none), RangeError);
    } finally {
      store.close();
    }
  });

  test('after pruning, the buckets before the hourly horizon are null, not 0, at every granularity', () => {
    const store = HistoryStore.open({ path: join(tmp.path, 'series-prune.sqlite'), hostname: 'testhost', retention: { minuteMs: DAY, hourMs: 2 * DAY } });
    try {
      for (let d = 0; d < 5; d++) store.counters.record(KEY, T0 + d * DAY + HOUR, deltas({ 'ssh-in': [100 + d, 1] }));
      store.prune(T0 + 4 * DAY + 12 * HOUR);
      const a = store.availability();
      assert.equal(a.hoursFromMs, T0 + 2 * DAY, 'the horizon is a whole UTC day');
      const days = store.counters.series(KEY, ['ssh-in'], T0, T0 + 5 * DAY, 'day', a);
      assert.deepEqual(days.get('ssh-in')?.map((p) => p.bytes), [null, null, 102, 103, 104]);
      const hours = store.counters.series(KEY, ['ssh-in'], T0 + 2 * DAY - 2 * HOUR, T0 + 2 * DAY + 2 * HOUR, 'hour', a);
      assert.deepEqual(hours.get('ssh-in')?.map((p) => p.bytes), [null, null, 0, 102]);
      // The totals agree with the series where it is known.
      assert.deepEqual(store.counters.query(KEY, 0, T0 + 5 * DAY), [{ name: 'ssh-in', bytes: 102 + 103 + 104, packets: 3 }]);
    } finally {
      store.close();
    }
  });
});

describe('the read-only loader (what the router client installs)', () => {
  test('no file: none, and no file is created; a database before version 9: none; an unreadable file: not known (null)', () => {
    const missing = join(tmp.path, 'missing.sqlite');
    assert.deepEqual(loadCountersReadOnly(missing, KEY), []);
    assert.deepEqual(loadCountersReadOnly(missing, KEY), [], 'still none: nothing was created');
    const old = new Database(join(tmp.path, 'v8.sqlite'));
    migrate(old, 8);
    old.close();
    assert.deepEqual(loadCountersReadOnly(join(tmp.path, 'v8.sqlite'), KEY), []);
    const junk = join(tmp.path, 'junk.sqlite');
    writeFileSync(junk, 'this is not a database, just text long enough to be read as one '.repeat(40));
    assert.equal(loadCountersReadOnly(junk, KEY), null);
  });
});

describe('migration to version 9', () => {
  test('a version-8 database keeps its rows and gains the counter tables', () => {
    const path = join(tmp.path, 'v8-data.sqlite');
    const db = new Database(path);
    assert.deepEqual(migrate(db, 8), [1, 2, 3, 4, 5, 6, 7, 8]);
    db.prepare('INSERT INTO routers (key, created_ms) VALUES (?, ?)').run(KEY, T0);
    db.prepare('INSERT INTO class_minutes (router_id, minute_ms, class_key, down_bytes, up_bytes) VALUES (1, ?, ?, 10, 5)').run(T0, 'tcp/443');
    db.close();
    const store = HistoryStore.open({ path, hostname: 'testhost' });
    try {
      assert.deepEqual(store.classes.query(KEY, T0, T0 + DAY), [{ key: 'tcp/443', downBytes: 10, upBytes: 5 }]);
      assert.deepEqual(store.counters.list(KEY), []);
      store.counters.add(KEY, SSH, T0);
      store.counters.record(KEY, T0, deltas({ 'ssh-in': [7, 1] }));
      assert.deepEqual(store.counters.query(KEY, T0, T0 + DAY), [{ name: 'ssh-in', bytes: 7, packets: 1 }]);
      assert.equal(store.findRouter(KEY), 1, 'the counter rows use the router registered before');
      assert.equal(store.integrityCheck(), 'ok');
    } finally {
      store.close();
    }
    const again = new Database(path);
    try {
      assert.equal(schemaVersion(again), LATEST_SCHEMA_VERSION);
      assert.ok(LATEST_SCHEMA_VERSION >= 9);
    } finally {
      again.close();
    }
  });
});
