// History by address family (issue 15): schema version 4 keeps the IPv6 part of every sample;
// history recorded before it reads as IPv4, and reports carry the split.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Accountant, type PollHost, type PollInput } from '../domain/accounting.js';
import { FakeClock } from '../domain/clock.js';
import { UNATTRIBUTED_IPV6_IDENTITY as U } from '../domain/snapshot.js';
import { HistoryStore } from './history-store.js';
import { LATEST_SCHEMA_VERSION, migrate, schemaVersion } from './migrations.js';
import { DAY, HOUR, ME, MIN, T0, useStoreDir } from '../../test/store/history-harness.js';

const tmp = useStoreDir();

const V4 = '198.51.100.10';
const V6 = '2001:db8::a1';
const TEMP = '2001:db8::7e3f:1';
const MAC = 'aa:bb:cc:00:00:0a';
const MAC_B = 'aa:bb:cc:00:00:0b';

/** One accountant recording into one store: counters in, polls recorded. */
class Recorder {
  readonly clock = new FakeClock(T0);
  readonly acct = new Accountant({ linkBitsPerSecond: 1e12 });
  readonly routerId: number;
  constructor(readonly store: HistoryStore, startMs = T0) {
    this.clock = new FakeClock(startMs);
    this.routerId = store.routerId('router-1', startMs);
    assert.equal(store.tryAcquireLease(this.routerId, ME, startMs, 60_000).acquired, true);
  }
  poll(counters: Record<string, [number, number]>, hosts: PollHost[], extra: Partial<PollInput> = {}) {
    const result = this.acct.process({
      atMs: this.clock.now(),
      counters: new Map(Object.entries(counters).map(([ip, [d, u]]) => [ip, { downBytes: d, upBytes: u }])),
      hosts,
      ...extra,
    });
    assert.equal(this.store.recordPoll(this.routerId, ME.id, result, this.acct.exportState(), 60_000), true);
    return result;
  }
  after(ms: number, counters: Record<string, [number, number]>, hosts: PollHost[]) {
    this.clock.advance(ms);
    return this.poll(counters, hosts);
  }
}

const dual: PollHost[] = [
  { ip: V4, mac: MAC, hostname: 'laptop' },
  { ip: V6, mac: MAC, hostname: 'laptop' },
];

const splitOf = (h: { down4Bytes?: number; up4Bytes?: number; down6Bytes?: number; up6Bytes?: number } | undefined) =>
  h === undefined ? undefined : [h.down4Bytes, h.up4Bytes, h.down6Bytes, h.up6Bytes];

describe('the samples keep the IPv6 part', () => {
  test('a version-3 database migrates: its history reads as IPv4, new polls record the split', () => {
    const path = join(tmp.path, 'v3.sqlite');
    const db = new Database(path);
    assert.deepEqual(migrate(db, 3), [1, 2, 3]);
    db.prepare('INSERT INTO routers (key, created_ms) VALUES (?, ?)').run('router-1', T0);
    db.prepare(`INSERT INTO hosts (router_id, identity, mac, ip, hostname, first_seen_ms, last_seen_ms) VALUES (1, ?, ?, ?, 'laptop', ?, ?)`).run(MAC, MAC, V4, T0, T0);
    db.prepare('INSERT INTO samples_day (host_id, day, down_bytes, up_bytes) VALUES (1, ?, 1234, 56)').run(T0 / DAY);
    db.prepare('INSERT INTO samples_hour (host_id, hour, down_bytes, up_bytes) VALUES (1, ?, 1234, 56)').run(T0 / HOUR);
    db.prepare('INSERT INTO samples_minute (host_id, minute, down_bytes, up_bytes) VALUES (1, ?, 1234, 56)').run(T0 / MIN);
    db.close();

    const store = HistoryStore.open({ path, hostname: 'testhost' });
    try {
      const before = store.hostTotals(1, T0, T0 + DAY);
      assert.deepEqual(splitOf(before.hosts[0]), [1234, 56, 0, 0]);
      assert.deepEqual(before.totalsByFamily, { down4Bytes: 1234, up4Bytes: 56, down6Bytes: 0, up6Bytes: 0 });

      // Two days later the laptop is dual-stack.
      const r = new Recorder(store, T0 + 2 * DAY);
      r.poll({ [V4]: [0, 0], [V6]: [0, 0] }, dual, { newAddresses: [V4, V6] });
      r.after(1000, { [V4]: [100, 10], [V6]: [700, 70] }, dual);
      const report = store.hostTotals(1, T0, T0 + 3 * DAY);
      assert.deepEqual(report.hosts.map((h) => [h.identity, h.downBytes, h.upBytes]), [[MAC, 2034, 136]]);
      assert.deepEqual(splitOf(report.hosts[0]), [1334, 66, 700, 70]);
      assert.deepEqual(report.totalsByFamily, { down4Bytes: 1334, up4Bytes: 66, down6Bytes: 700, up6Bytes: 70 });
    } finally {
      store.close();
    }
    const again = new Database(path);
    try {
      assert.equal(schemaVersion(again), LATEST_SCHEMA_VERSION);
      assert.ok(LATEST_SCHEMA_VERSION >= 4);
      const columns = (again.prepare('SELECT name FROM pragma_table_info(?)').all('samples_minute') as Array<{ name: string }>).map((c) => c.name);
      assert.deepEqual(columns, ['host_id', 'minute', 'down_bytes', 'up_bytes', 'down6_bytes', 'up6_bytes']);
      const old = again.prepare('SELECT down6_bytes AS d6, up6_bytes AS u6 FROM samples_day WHERE day = ?').get(T0 / DAY);
      assert.deepEqual(old, { d6: 0, u6: 0 }, 'rows from before version 4 are IPv4');
    } finally {
      again.close();
    }
  });

  test('the split goes through the rollups: a range read from hours and days equals the minutes', () => {
    const store = tmp.open();
    try {
      const r = new Recorder(store);
      r.poll({ [V4]: [0, 0], [V6]: [0, 0] }, dual, { newAddresses: [V4, V6] });
      let v4 = 0;
      let v6 = 0;
      // Three hours of polls, one a minute: each hour rolls up when the next begins.
      for (let i = 1; i <= 180; i++) {
        v4 += 10;
        v6 += 3 + (i % 5);
        r.after(MIN, { [V4]: [v4, 1], [V6]: [v6, i] }, dual);
      }
      const all = store.hostTotals(r.routerId, T0, T0 + DAY);
      assert.deepEqual(splitOf(all.hosts[0]), [v4, 1, v6, 180]);
      // The first two hours (minutes 0–119: polls 1–119) come from the hour rows.
      let expected6 = 0;
      for (let i = 1; i < 120; i++) expected6 += 3 + (i % 5);
      const hours = store.hostTotals(r.routerId, T0, T0 + 2 * HOUR);
      assert.equal(hours.startPrecision, 'minute');
      assert.deepEqual(splitOf(hours.hosts[0]), [1190, 1, expected6, 119]);
      const rolled = readDb(tmp.dbPath, (db) => db.prepare('SELECT SUM(down6_bytes) AS d6, SUM(up6_bytes) AS u6 FROM samples_hour WHERE hour >= ? AND hour < ?').get(T0 / HOUR, T0 / HOUR + 2));
      assert.deepEqual(rolled, { d6: expected6, u6: 119 }, 'the hour rows carry the IPv6 part');
      // Poll 180 opened the fourth hour: minutes 0–179 are in the day row.
      let rolled6 = 0;
      for (let i = 1; i < 180; i++) rolled6 += 3 + (i % 5);
      const days = readDb(tmp.dbPath, (db) => db.prepare('SELECT SUM(down6_bytes) AS d6 FROM samples_day').get());
      assert.deepEqual(days, { d6: rolled6 }, 'so do the day rows');
    } finally {
      store.close();
    }
  });

  test('the unattributed IPv6 row is recorded like a host; an address that moves leaves its earlier bytes there', () => {
    const store = tmp.open();
    try {
      const r = new Recorder(store);
      r.poll({ [V4]: [0, 0], [TEMP]: [0, 0] }, [dual[0]!], { newAddresses: [V4, TEMP] });
      r.after(1000, { [V4]: [100, 0], [TEMP]: [400, 40] }, [dual[0]!]);
      r.after(1000, { [V4]: [100, 0], [TEMP]: [1000, 100] }, [dual[0]!, { ip: TEMP, mac: MAC, hostname: null }]);
      const report = store.hostTotals(r.routerId, T0, T0 + DAY);
      const byId = new Map(report.hosts.map((h) => [h.identity, h]));
      assert.deepEqual([byId.get(U)?.ip, byId.get(U)?.mac, byId.get(U)?.hostname], ['', null, null]);
      assert.deepEqual(splitOf(byId.get(U)), [0, 0, 400, 40]);
      assert.deepEqual(splitOf(byId.get(MAC)), [100, 0, 600, 60]);
      assert.deepEqual(report.totals, { downBytes: 1100, upBytes: 100 }, 'every byte once');
    } finally {
      store.close();
    }
  });

  test('a MAC-less host merging into its MAC moves its IPv6 part with its history', () => {
    const store = tmp.open();
    try {
      const r = new Recorder(store);
      const macless: PollHost[] = [{ ip: V6, mac: null, hostname: null }];
      r.poll({ [V6]: [0, 0] }, macless, { newAddresses: [V6] });
      r.after(1000, { [V6]: [300, 30] }, macless);
      r.after(1000, { [V6]: [350, 30] }, [{ ip: V6, mac: MAC_B, hostname: null }]);
      const report = store.hostTotals(r.routerId, T0, T0 + DAY);
      assert.deepEqual(report.hosts.map((h) => [h.identity, ...(splitOf(h) ?? [])]), [[MAC_B, 0, 0, 350, 30]]);
    } finally {
      store.close();
    }
  });

  test('the stored state keeps each host\'s IPv6 part across a restart (numbers written alone included)', () => {
    const store = tmp.open();
    try {
      const r = new Recorder(store);
      r.poll({ [V4]: [0, 0], [V6]: [0, 0] }, dual, { newAddresses: [V4, V6] });
      for (let i = 1; i <= 5; i++) r.after(1000, { [V4]: [i * 10, 0], [V6]: [i * 100, i] }, dual);
      const { rateWindow: _w, lastRates: _l, ...expected } = r.acct.exportState();
      store.invalidateCache(r.routerId);
      assert.deepEqual(store.loadState(r.routerId)?.state, expected);
      assert.deepEqual([expected.hosts[MAC]?.down6Bytes, expected.hosts[MAC]?.up6Bytes], [500, 5]);
      const counts = readDb(tmp.dbPath, (db) => db.prepare('SELECT state_counts AS c FROM router_state').get() as { c: Buffer | null });
      assert.equal(counts.c?.readDoubleLE(0), 2, 'the numbers were written alone, in the format with the IPv6 part');
    } finally {
      store.close();
    }
  });
});

function readDb<T>(path: string, read: (db: Database.Database) => T): T {
  const db = new Database(path, { readonly: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}
