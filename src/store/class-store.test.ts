// Traffic-class rows and state in a real database; a version-6 database migrating to 7.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { HistoryStore } from './history-store.js';
import { LATEST_SCHEMA_VERSION, migrate, schemaVersion } from './migrations.js';
import { ClassAccountant } from '../domain/class-usage.js';
import type { TrafficClass } from '../domain/traffic-class.js';
import { DAY, MIN, T0, useStoreDir } from '../../test/store/history-harness.js';

const tmp = useStoreDir();
const KEY = '198.51.100.1:23';
const deltas = (entries: Record<string, [number, number]>) => new Map(Object.entries(entries).map(([k, [d, u]]) => [k, { downBytes: d, upBytes: u }]));

describe('class minutes', () => {
  test('polls of one minute add up; a range sums its minutes per class, most bytes first', () => {
    const store = tmp.open();
    try {
      store.classes.record(KEY, T0 + 1000, deltas({ 'tcp/443': [1000, 100], udp: [10, 10] }));
      store.classes.record(KEY, T0 + 59_999, deltas({ 'tcp/443': [500, 50], 'udp/53': [0, 0] }));
      store.classes.record(KEY, T0 + MIN, deltas({ udp: [5000, 0], 'tcp/80': [20, 0] }));
      store.classes.record('other:23', T0, deltas({ 'tcp/443': [9e9, 9e9] }));
      assert.deepEqual(store.classes.query(KEY, T0, T0 + MIN), [
        { key: 'tcp/443', downBytes: 1500, upBytes: 150 },
        { key: 'udp', downBytes: 10, upBytes: 10 },
      ], 'a zero delta writes no row');
      assert.deepEqual(store.classes.query(KEY, T0, T0 + 2 * MIN), [
        { key: 'udp', downBytes: 5010, upBytes: 10 },
        { key: 'tcp/443', downBytes: 1500, upBytes: 150 },
        { key: 'tcp/80', downBytes: 20, upBytes: 0 },
      ]);
      assert.deepEqual(store.classes.query(KEY, T0 + MIN, T0 + 2 * MIN).map((r) => r.key), ['udp', 'tcp/80']);
      assert.deepEqual(store.classes.query(KEY, T0 + 2 * MIN, T0 + DAY), []);
    } finally {
      store.close();
    }
  });

  test('an unknown router gives nothing and registers none; a bad delta is refused whole', () => {
    const store = tmp.open();
    try {
      assert.deepEqual(store.classes.query('nobody:23', T0, T0 + DAY), []);
      assert.equal(store.findRouter('nobody:23'), null);
      assert.throws(() => store.classes.record(KEY, T0, deltas({ 'tcp/443': [5, 5], 'tcp/0': [1, 1] })), RangeError);
      assert.throws(() => store.classes.record(KEY, T0, deltas({ "udp'; DROP TABLE class_minutes; --": [1, 1] })), RangeError);
      assert.throws(() => store.classes.record(KEY, T0, deltas({ udp: [-1, 0] })), RangeError);
      assert.throws(() => store.classes.record(KEY, T0, deltas({ udp: [1.5, 0] })), RangeError);
      assert.throws(() => store.classes.record(KEY, Number.NaN, deltas({ udp: [1, 0] })), RangeError);
      assert.deepEqual(store.classes.query(KEY, 0, T0 + DAY), [], 'nothing of a refused read was written');
    } finally {
      store.close();
    }
  });

  test('the accountant\'s deltas recorded per poll sum to its totals', () => {
    const store = tmp.open();
    try {
      const a = new ClassAccountant();
      const installed: TrafficClass[] = [{ protocol: 'tcp', port: 443 }, { protocol: 'udp', port: null }];
      let https = 0;
      let udp = 0;
      for (let t = T0; t <= T0 + 5 * MIN; t += 2000) {
        https += 70_000 + (t % 7) * 1000;
        udp += t % 3;
        // A router reboot half way: both counters restart.
        if (t === T0 + 3 * MIN) {
          https = 500;
          udp = 0;
        }
        a.observe(t, deltas({ 'tcp/443': [https, https / 10], udp: [udp, 0] }), installed);
        store.classes.record(KEY, t, a.lastDeltas);
      }
      const view = a.view();
      const report = store.classes.query(KEY, T0, T0 + 6 * MIN);
      for (const c of view) assert.deepEqual(report.find((r) => r.key === c.key), { key: c.key, downBytes: c.downBytes, upBytes: c.upBytes });
    } finally {
      store.close();
    }
  });

  test('prune deletes minutes before the cut-off; the retention prunes them with the hourly samples', () => {
    const store = tmp.open({ retention: { minuteMs: DAY, hourMs: 2 * DAY } });
    try {
      store.classes.record(KEY, T0, deltas({ udp: [1, 1] }));
      store.classes.record(KEY, T0 + DAY, deltas({ udp: [2, 2] }));
      assert.equal(store.classes.prune(T0 + DAY), 1);
      assert.deepEqual(store.classes.query(KEY, 0, T0 + 2 * DAY), [{ key: 'udp', downBytes: 2, upBytes: 2 }]);
      store.classes.record(KEY, T0 + 3 * DAY, deltas({ udp: [4, 4] }));
      store.prune(T0 + 3 * DAY + 1000);
      assert.deepEqual(store.classes.query(KEY, 0, T0 + 4 * DAY), [{ key: 'udp', downBytes: 6, upBytes: 6 }], 'within the hourly horizon: kept');
      store.prune(T0 + 4 * DAY);
      assert.deepEqual(store.classes.query(KEY, 0, T0 + 4 * DAY), [{ key: 'udp', downBytes: 4, upBytes: 4 }], 'older than the hours: gone');
    } finally {
      store.close();
    }
  });
});

describe('class state', () => {
  test('saved at a poll, loaded by a later run: totals continue; one row per router', () => {
    let store = tmp.open();
    const installed: TrafficClass[] = [{ protocol: 'udp', port: 53 }];
    try {
      const a = new ClassAccountant();
      a.observe(T0, deltas({ 'udp/53': [100, 100] }), installed);
      a.observe(T0 + 2000, deltas({ 'udp/53': [300, 150] }), installed);
      store.classes.saveState(KEY, a.exportState(), T0 + 2000);
      assert.equal(store.classes.loadState('nobody:23'), null);
    } finally {
      store.close();
    }
    store = tmp.open();
    try {
      const loaded = store.classes.loadState(KEY);
      assert.equal(loaded?.updatedMs, T0 + 2000);
      const b = new ClassAccountant();
      assert.equal(b.importState(loaded?.state), true);
      const view = b.observe(T0 + MIN, deltas({ 'udp/53': [1000, 150] }), installed);
      assert.deepEqual([view[0]?.downBytes, view[0]?.upBytes], [900, 50]);
      store.classes.saveState(KEY, b.exportState(), T0 + MIN);
      assert.equal(store.classes.loadState(KEY)?.updatedMs, T0 + MIN);
    } finally {
      store.close();
    }
  });

  test('an unreadable stored state reads as none', () => {
    const path = join(tmp.path, 'odd.sqlite');
    const store = HistoryStore.open({ path, hostname: 'testhost' });
    try {
      store.classes.saveState(KEY, { version: 1, atMs: T0, classes: {} }, T0);
    } finally {
      store.close();
    }
    const db = new Database(path);
    db.prepare(`UPDATE class_state SET state_json = '{not json'`).run();
    db.close();
    const again = HistoryStore.open({ path, hostname: 'testhost' });
    try {
      assert.equal(again.classes.loadState(KEY), null);
    } finally {
      again.close();
    }
  });
});

describe('migration to version 7', () => {
  test('a version-6 database keeps its history and WAN rows and gains the class tables', () => {
    const path = join(tmp.path, 'v6.sqlite');
    const db = new Database(path);
    assert.deepEqual(migrate(db, 6), [1, 2, 3, 4, 5, 6]);
    db.prepare('INSERT INTO routers (key, created_ms) VALUES (?, ?)').run(KEY, T0);
    db.prepare(`INSERT INTO hosts (router_id, identity, mac, ip, hostname, first_seen_ms, last_seen_ms) VALUES (1, 'aa:bb:cc:00:00:0a', 'aa:bb:cc:00:00:0a', '198.51.100.10', 'laptop', ?, ?)`).run(T0, T0);
    db.prepare('INSERT INTO samples_day (host_id, day, down_bytes, up_bytes, down6_bytes, up6_bytes) VALUES (1, ?, 1234, 56, 34, 6)').run(T0 / DAY);
    db.prepare('INSERT INTO wan_minutes (router_id, minute_ms, down_bytes, up_bytes, router_down_bytes, router_up_bytes, host_down_bytes, host_up_bytes) VALUES (1, ?, 10, 5, NULL, NULL, 8, 4)').run(T0);
    db.prepare(`INSERT INTO wan_state (router_id, state_json, updated_ms) VALUES (1, '{"version":1,"last":null}', ?)`).run(T0);
    db.close();

    const store = HistoryStore.open({ path, hostname: 'testhost' });
    try {
      assert.deepEqual(store.hostTotals(1, T0, T0 + DAY).totals, { downBytes: 1234, upBytes: 56 });
      assert.equal(store.wan.query(KEY, T0, T0 + DAY).downBytes, 10);
      assert.deepEqual(store.wan.loadState(KEY)?.state, { version: 1, last: null });
      assert.deepEqual(store.classes.query(KEY, T0, T0 + DAY), []);
      store.classes.record(KEY, T0, deltas({ 'tcp/443': [10, 5] }));
      assert.deepEqual(store.classes.query(KEY, T0, T0 + DAY), [{ key: 'tcp/443', downBytes: 10, upBytes: 5 }]);
      assert.equal(store.findRouter(KEY), 1, 'the class rows use the router registered before');
      assert.equal(store.integrityCheck(), 'ok');
    } finally {
      store.close();
    }
    const again = new Database(path);
    try {
      assert.equal(schemaVersion(again), LATEST_SCHEMA_VERSION);
      assert.ok(LATEST_SCHEMA_VERSION >= 7);
      const tables = (again.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as Array<{ name: string }>).map((t) => t.name);
      for (const t of ['class_minutes', 'class_state', 'wan_minutes', 'wan_state', 'samples_day']) assert.ok(tables.includes(t), t);
    } finally {
      again.close();
    }
  });
});
