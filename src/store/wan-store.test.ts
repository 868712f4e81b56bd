// WAN reconciliation rows and state in a real database; a version-5 database migrating to 6.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { HistoryStore } from './history-store.js';
import { LATEST_SCHEMA_VERSION, migrate, schemaVersion } from './migrations.js';
import { WanReconciler } from '../domain/wan.js';
import { DAY, MIN, T0, useStoreDir } from '../../test/store/history-harness.js';

const tmp = useStoreDir();
const KEY = '198.51.100.1:23';
const MB = 1_000_000;
const delta = (down: number, up: number, router: [number, number] | null, host: [number, number]) => ({
  downBytes: down,
  upBytes: up,
  routerDownBytes: router?.[0] ?? null,
  routerUpBytes: router?.[1] ?? null,
  hostDownBytes: host[0],
  hostUpBytes: host[1],
});

describe('wan minutes', () => {
  test('polls of one minute add up; a range sums its minutes and gives the accounted share', () => {
    const store = tmp.open();
    try {
      store.wan.record(KEY, T0 + 1000, delta(4 * MB, MB, [MB, 0], [2 * MB, MB]));
      store.wan.record(KEY, T0 + 59_999, delta(2 * MB, MB, [0, 0], [1.5 * MB, 0.5 * MB]));
      store.wan.record(KEY, T0 + MIN, delta(MB, 0, null, [MB, 0]));
      store.wan.record('other:23', T0, delta(9 * MB, 9 * MB, null, [0, 0]));
      const first = store.wan.query(KEY, T0, T0 + MIN);
      assert.deepEqual(first, {
        downBytes: 6 * MB, upBytes: 2 * MB, routerDownBytes: MB, routerUpBytes: 0, hostDownBytes: 3.5 * MB, hostUpBytes: 1.5 * MB,
        accountedShare: { down: 0.7, up: 0.75 }, minutes: 1, firstMinuteMs: T0, lastMinuteMs: T0,
      });
      const both = store.wan.query(KEY, T0, T0 + 2 * MIN);
      assert.equal(both.downBytes, 7 * MB);
      assert.equal(both.routerDownBytes, MB, 'a minute without router counters adds nothing to theirs');
      assert.equal(both.accountedShare.down, 4.5 / 6);
      assert.equal(both.minutes, 2);
      assert.equal(both.lastMinuteMs, T0 + MIN);
      const later = store.wan.query(KEY, T0 + MIN, T0 + 2 * MIN);
      assert.equal(later.routerDownBytes, null, 'not counted stays null');
      assert.equal(later.accountedShare.down, 1);
    } finally {
      store.close();
    }
  });

  test('a router without rows, or unknown: zeros and null shares; a bad delta is refused', () => {
    const store = tmp.open();
    try {
      assert.deepEqual(store.wan.query('nobody:23', T0, T0 + DAY), {
        downBytes: 0, upBytes: 0, routerDownBytes: null, routerUpBytes: null, hostDownBytes: 0, hostUpBytes: 0,
        accountedShare: { down: null, up: null }, minutes: 0, firstMinuteMs: null, lastMinuteMs: null,
      });
      assert.equal(store.findRouter('nobody:23'), null, 'a query registers no router');
      assert.throws(() => store.wan.record(KEY, T0, delta(-1, 0, null, [0, 0])), RangeError);
      assert.throws(() => store.wan.record(KEY, T0, delta(1.5, 0, null, [0, 0])), RangeError);
      assert.equal(store.wan.query(KEY, T0, T0 + DAY).minutes, 0);
    } finally {
      store.close();
    }
  });

  test('the reconciler\'s deltas recorded per poll give the same share as its span', () => {
    const store = tmp.open();
    try {
      const r = new WanReconciler();
      let rx = 0;
      let host = 0;
      for (let t = T0; t <= T0 + 5 * MIN; t += 2000) {
        rx += 700_000 + (t % 7) * 1000;
        host += 600_000;
        r.observe({ sample: { atMs: t, interface: 'ppp0', rxBytes: rx, rxPackets: rx / 100, txBytes: 0, txPackets: 0, linkHeaderBytes: 0, counterBits: 64 }, hostTotals: { downBytes: host, upBytes: 0 }, routerCounters: null, atMs: t });
        if (r.lastDelta) store.wan.record(KEY, t, r.lastDelta);
      }
      const view = r.observe({ sample: null, hostTotals: { downBytes: host, upBytes: 0 }, routerCounters: null, atMs: T0 + 6 * MIN });
      const report = store.wan.query(KEY, T0, T0 + 6 * MIN);
      assert.equal(report.downBytes, view?.downBytes);
      assert.equal(report.hostDownBytes, view?.hostDownBytes);
      assert.equal(report.accountedShare.down, view?.accountedShare.down);
    } finally {
      store.close();
    }
  });

  test('prune deletes minutes before the cut-off', () => {
    const store = tmp.open();
    try {
      store.wan.record(KEY, T0, delta(1, 1, null, [1, 1]));
      store.wan.record(KEY, T0 + DAY, delta(2, 2, null, [2, 2]));
      assert.equal(store.wan.prune(T0 + DAY), 1);
      assert.equal(store.wan.query(KEY, 0, T0 + 2 * DAY).downBytes, 2);
    } finally {
      store.close();
    }
  });
});

describe('wan state', () => {
  test('saved at a poll, loaded by a later run (a one-shot usage gives the delta since)', () => {
    let store = tmp.open();
    const a = new WanReconciler();
    const s = (atMs: number, rxBytes: number) => ({ atMs, interface: 'eth0.2', rxBytes, rxPackets: 10, txBytes: 0, txPackets: 0, linkHeaderBytes: 14, counterBits: 64 as const });
    try {
      a.observe({ sample: s(T0, 1000), hostTotals: { downBytes: 0, upBytes: 0 }, routerCounters: null, atMs: T0 });
      store.wan.saveState(KEY, a.exportState(), T0);
      assert.equal(store.wan.loadState('nobody:23'), null);
    } finally {
      store.close();
    }
    store = tmp.open();
    try {
      const loaded = store.wan.loadState(KEY);
      assert.equal(loaded?.updatedMs, T0);
      const b = new WanReconciler({ minShareBytes: 1 });
      assert.equal(b.importState(loaded?.state), true);
      const view = b.observe({ sample: s(T0 + MIN, 5000), hostTotals: { downBytes: 2000, upBytes: 0 }, routerCounters: null, atMs: T0 + MIN });
      assert.equal(view?.downBytes, 4000);
      assert.equal(view?.accountedShare.down, 0.5);
      store.wan.saveState(KEY, b.exportState(), T0 + MIN);
      assert.equal(store.wan.loadState(KEY)?.updatedMs, T0 + MIN, 'one row per router, replaced');
    } finally {
      store.close();
    }
  });
});

describe('migration to version 6', () => {
  test('a version-5 database keeps its history and quotas and gains the WAN tables', () => {
    const path = join(tmp.path, 'v5.sqlite');
    const db = new Database(path);
    assert.deepEqual(migrate(db, 5), [1, 2, 3, 4, 5]);
    db.prepare('INSERT INTO routers (key, created_ms) VALUES (?, ?)').run(KEY, T0);
    db.prepare(`INSERT INTO hosts (router_id, identity, mac, ip, hostname, first_seen_ms, last_seen_ms) VALUES (1, 'aa:bb:cc:00:00:0a', 'aa:bb:cc:00:00:0a', '198.51.100.10', 'laptop', ?, ?)`).run(T0, T0);
    db.prepare('INSERT INTO samples_day (host_id, day, down_bytes, up_bytes, down6_bytes, up6_bytes) VALUES (1, ?, 1234, 56, 34, 6)').run(T0 / DAY);
    db.prepare(`INSERT INTO quotas (router_key, subject_kind, subject_id, limit_bytes, direction, period_json, thresholds_json, created_ms) VALUES (?, 'line', '', 5000000000, 'total', '{"kind":"cycle","startDay":1}', '[]', ?)`).run(KEY, T0);
    db.close();

    const store = HistoryStore.open({ path, hostname: 'testhost' });
    try {
      assert.deepEqual(store.hostTotals(1, T0, T0 + DAY).totals, { downBytes: 1234, upBytes: 56 });
      assert.equal(store.quotas.listQuotas(KEY).length, 1);
      assert.equal(store.wan.query(KEY, T0, T0 + DAY).minutes, 0);
      store.wan.record(KEY, T0, delta(10, 5, [1, 1], [8, 4]));
      assert.equal(store.wan.query(KEY, T0, T0 + DAY).downBytes, 10);
      assert.equal(store.findRouter(KEY), 1, 'the WAN rows use the router registered before');
      assert.equal(store.integrityCheck(), 'ok');
    } finally {
      store.close();
    }
    const again = new Database(path);
    try {
      assert.equal(schemaVersion(again), LATEST_SCHEMA_VERSION);
      assert.ok(LATEST_SCHEMA_VERSION >= 6);
      const tables = (again.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as Array<{ name: string }>).map((t) => t.name);
      for (const t of ['wan_minutes', 'wan_state', 'quotas', 'samples_day']) assert.ok(tables.includes(t), t);
    } finally {
      again.close();
    }
  });
});
