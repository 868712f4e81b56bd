// What one recorded poll writes (issue 21): rows in batches and only where there was traffic,
// last_seen once a minute, rollups once an hour, and the accounting state's JSON only when more
// than its numbers changed.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { Accountant, type AccountingResult } from '../domain/accounting.js';
import { BatchStatement, valueRows } from './history-database.js';
import { DAY, Harness, HOUR, identityOf, IPS, MACS, ME, MIN, T0, useStoreDir } from '../../test/store/history-harness.js';

const tmp = useStoreDir();

function readDb<T>(query: (db: Database.Database) => T): T {
  const db = new Database(tmp.dbPath, { readonly: true });
  try {
    return query(db);
  } finally {
    db.close();
  }
}

describe('one poll, few statements', () => {
  test('a batch statement writes every row once, whatever their number', () => {
    const db = new Database(':memory:');
    try {
      db.exec('CREATE TABLE t (a INTEGER PRIMARY KEY, b INTEGER NOT NULL, c INTEGER NOT NULL)');
      const insert = new BatchStatement(db, 3, (rows) => `INSERT INTO t (a, b, c) VALUES ${valueRows(rows, 3)}`);
      // A shared leading value, as for last_seen: one per batch, then the rows.
      const touch = new BatchStatement(db, 1, (rows) => `UPDATE t SET c = ? WHERE a IN (${valueRows(rows, 1)})`);
      for (const n of [0, 1, 129, 300]) {
        db.exec('DELETE FROM t');
        const params: number[] = [];
        for (let i = 0; i < n; i++) params.push(i, n, i * 7);
        insert.run(params);
        const ids = Array.from({ length: n }, (_, i) => i).filter((i) => i % 3 !== 0);
        touch.run(ids, [-1]);
        const rows = db.prepare('SELECT a, b, c FROM t ORDER BY a').all() as Array<{ a: number; b: number; c: number }>;
        assert.equal(rows.length, n);
        rows.forEach((r, i) => assert.deepEqual([r.a, r.b, r.c], [i, n, i % 3 === 0 ? i * 7 : -1]));
      }
      assert.throws(() => insert.run([1, 2]), RangeError, 'a half row is refused, not dropped');
    } finally {
      db.close();
    }
  });

  test('a poll of 300 hosts stores one minute row per host with traffic, none for the idle ones', () => {
    const store = tmp.open({ autoPrune: false });
    try {
      const routerId = store.routerId('big', T0);
      store.tryAcquireLease(routerId, ME, T0, 60_000);
      const acct = new Accountant({ linkBitsPerSecond: 1e12 });
      const ips = Array.from({ length: 300 }, (_, i) => `10.0.${i >> 8}.${(i & 255) + 1}`);
      const hosts = ips.map((ip, i) => ({ ip, mac: `02:00:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`, hostname: null }));
      const record = (atMs: number, bytes: (i: number) => number, first = false): AccountingResult => {
        const counters = new Map(ips.map((ip, i) => [ip, { downBytes: bytes(i), upBytes: bytes(i) >> 1 }]));
        const result = acct.process({ atMs, counters, hosts, ...(first ? { newAddresses: ips } : {}) });
        assert.ok(store.recordPoll(routerId, ME.id, result, acct.exportState({ includeRates: false }), 60_000));
        return result;
      };
      record(T0, () => 0, true);
      // Every third host is idle in this minute.
      const result = record(T0 + MIN + 10_000, (i) => (i % 3 === 0 ? 0 : 1000 + i));
      assert.equal(result.deltas.length, 200);
      const rows = readDb((db) => db.prepare('SELECT COUNT(*) AS n, SUM(down_bytes) AS d FROM samples_minute WHERE minute = ?').get((T0 + MIN) / MIN)) as { n: number; d: number };
      assert.equal(rows.n, 200);
      assert.equal(rows.d, result.deltas.reduce((a, d) => a + d.downBytes, 0));
      const report = store.hostTotals(routerId, T0, T0 + DAY);
      assert.equal(report.hosts.length, 200);
      assert.equal(report.totals.downBytes, rows.d);
    } finally {
      store.close();
    }
  });

  test('last_seen moves once a minute, and only for the hosts seen', () => {
    const store = tmp.open({ autoPrune: false });
    try {
      const h = new Harness(store, T0);
      h.run(3, 20_000); // T0 .. T0 + 40 s: one minute
      const seen = () => new Map(store.hostTotals(h.routerId, T0, T0 + DAY).hosts.map((x) => [x.identity, x.lastSeenMs]));
      assert.deepEqual([...seen().values()], [T0, T0, T0], 'the first poll of a minute sets it, the others leave it');
      // Host 1 is gone: neither discovery nor the listing has it.
      const atMs = T0 + 2 * MIN + 5_000;
      const others = [0, 2];
      const result = h.acct.process({
        atMs,
        counters: new Map(others.map((i) => [IPS[i] ?? '', { downBytes: (h.raw[i]?.[0] ?? 0) + 10, upBytes: h.raw[i]?.[1] ?? 0 }])),
        hosts: others.map((i) => ({ ip: IPS[i] ?? '', mac: MACS[i] ?? null, hostname: `host-${i}` })),
      });
      assert.ok(store.recordPoll(h.routerId, ME.id, result, h.acct.exportState(), 60_000));
      const after = seen();
      assert.deepEqual([after.get(identityOf(0)), after.get(identityOf(1)), after.get(identityOf(2))], [atMs, T0, atMs]);
    } finally {
      store.close();
    }
  });

  test('hours and days are rolled up when the hour closes; until then queries read the minutes', () => {
    const store = tmp.open({ autoPrune: false });
    try {
      const h = new Harness(store, T0 + 10 * HOUR + 5 * MIN);
      const hourRows = () => readDb((db) => (db.prepare('SELECT COUNT(*) AS n FROM samples_hour').get() as { n: number }).n);
      const rolled = () => readDb((db) => (db.prepare('SELECT rolled_minute AS m FROM router_state').get() as { m: number }).m);
      const check = () => {
        for (let i = 0; i < IPS.length; i++) {
          const [d] = h.truth(identityOf(i), 0, T0 + DAY);
          assert.equal(store.hostTotals(h.routerId, T0, T0 + DAY).hosts.find((x) => x.identity === identityOf(i))?.downBytes, d);
          for (const g of ['hour', 'day'] as const) {
            assert.equal(store.series(h.routerId, identityOf(i), T0, T0 + DAY, g).reduce((a, p) => a + (p.downBytes ?? 0), 0), d, g);
          }
        }
      };
      h.run(46, MIN); // 10:05 .. 10:50
      assert.equal(hourRows(), 0, 'no rollup inside the hour');
      assert.equal(rolled(), (T0 + 10 * HOUR + 5 * MIN) / MIN);
      check();
      h.clock.set(T0 + 11 * HOUR + 2 * MIN);
      h.poll();
      assert.equal(rolled(), (T0 + 11 * HOUR) / MIN, 'rolled up to the hour that began');
      assert.equal(hourRows(), IPS.length);
      check();
      h.run(3, 20 * MIN); // 11:22, 11:42, 12:02
      assert.equal(rolled(), (T0 + 12 * HOUR) / MIN);
      check();
    } finally {
      store.close();
    }
  });
});

describe('the stored state', () => {
  const stateRow = () => readDb((db) => db.prepare('SELECT state_json AS json, state_counts AS counts FROM router_state').get() as { json: string; counts: Buffer | null });

  test('while only its numbers change the JSON stays; the stored numbers are the latest', () => {
    const store = tmp.open({ autoPrune: false });
    try {
      const h = new Harness(store);
      h.run(2, 2000);
      const before = stateRow();
      h.run(3, 2000);
      const after = stateRow();
      assert.equal(after.json, before.json, 'the JSON was not rewritten');
      assert.notDeepEqual(after.counts, before.counts);
      const { rateWindow: _w, lastRates: _r, ...expected } = h.acct.exportState();
      assert.deepEqual(store.loadState(h.routerId)?.state, expected);
    } finally {
      store.close();
    }
  });

  test('a new name, a new host or a new epoch writes the JSON again', () => {
    const store = tmp.open({ autoPrune: false });
    try {
      const h = new Harness(store);
      h.run(2, 2000, { bootMarker: 'b1' });
      let last = stateRow().json;
      const expectRewritten = (what: string) => {
        const { rateWindow: _w, lastRates: _r, ...expected } = h.acct.exportState();
        assert.deepEqual(store.loadState(h.routerId)?.state, expected, what);
        assert.notEqual(stateRow().json, last, what);
        last = stateRow().json;
      };
      h.clock.advance(2000);
      h.poll({ bootMarker: 'b1', hosts: IPS.map((ip, i) => ({ ip, mac: i === 2 ? null : `aa:bb:cc:00:00:0${(10 + i).toString(16)}`, hostname: `renamed-${i}` })) });
      expectRewritten('rename');
      h.clock.advance(2000);
      h.poll({ bootMarker: 'b1', hosts: [...IPS.map((ip, i) => ({ ip, mac: MACS[i] ?? null, hostname: `renamed-${i}` })), { ip: '198.51.100.99', mac: 'aa:bb:cc:00:00:99', hostname: null }] });
      expectRewritten('a new host');
      h.clock.advance(2000);
      h.poll({ bootMarker: 'b2' });
      expectRewritten('reboot: new epoch');
    } finally {
      store.close();
    }
  });

  test('a poll that fails inside its transaction leaves the stored state whole; the next one writes it again', () => {
    const store = tmp.open({ autoPrune: false });
    try {
      const h = new Harness(store);
      h.run(3, 2000);
      const before = store.loadState(h.routerId);
      h.clock.advance(2000);
      const good = h.acct.process({ atMs: h.clock.now(), counters: new Map(IPS.map((ip, i) => [ip, { downBytes: (h.raw[i]?.[0] ?? 0) + 7, upBytes: 0 }])), hosts: [] });
      // A new host whose row cannot be written (ip NOT NULL): the transaction rolls back.
      const broken = { ...good, hosts: [...good.hosts, { ...good.hosts[0]!, identity: 'aa:bb:cc:99:99:99', ip: null as unknown as string }] };
      assert.throws(() => store.recordPoll(h.routerId, ME.id, broken, h.acct.exportState(), 60_000));
      assert.deepEqual(store.loadState(h.routerId), before, 'nothing of the failed poll is stored');
      assert.ok(store.recordPoll(h.routerId, ME.id, good, h.acct.exportState(), 60_000));
      const { rateWindow: _w, lastRates: _r, ...expected } = h.acct.exportState();
      assert.deepEqual(store.loadState(h.routerId)?.state, expected);
    } finally {
      store.close();
    }
  });
});
