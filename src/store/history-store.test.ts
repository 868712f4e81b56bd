// Opening the history database: the file and its directory, WAL, migrations, refusals.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { UsageError } from '../errors.js';
import { HistoryStore } from './history-store.js';
import { LATEST_SCHEMA_VERSION, migrate, MIGRATIONS, schemaVersion } from './migrations.js';
import { Accountant } from '../domain/accounting.js';
import { encodeState } from './state-codec.js';
import { DAY, Harness, ME, MIN, T0, useStoreDir } from '../../test/store/history-harness.js';

const tmp = useStoreDir();
const open = tmp.open;

describe('opening and migrations', () => {
  test('a new database is created with its directory, in WAL mode, at the latest schema', () => {
    const store = open();
    try {
      const path = tmp.dbPath;
      assert.ok(existsSync(path));
      const h = new Harness(store);
      h.poll();
      assert.ok(existsSync(`${path}-wal`), 'WAL file exists while open');
      assert.equal(store.integrityCheck(), 'ok');
    } finally {
      store.close();
    }
    const db = new Database(tmp.dbPath);
    try {
      assert.equal(schemaVersion(db), LATEST_SCHEMA_VERSION);
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    } finally {
      db.close();
    }
  });

  test('an old-version database migrates and keeps its data', () => {
    const path = join(tmp.path, 'old.sqlite');
    const db = new Database(path);
    assert.deepEqual(migrate(db, 1), [1]);
    assert.equal(schemaVersion(db), 1);
    db.prepare('INSERT INTO routers (key, created_ms) VALUES (?, ?)').run('old-router', T0);
    db.prepare(`INSERT INTO hosts (router_id, identity, mac, ip, hostname, first_seen_ms, last_seen_ms) VALUES (1, 'aa:bb:cc:00:00:0a', 'aa:bb:cc:00:00:0a', '198.51.100.10', 'x', ?, ?)`).run(T0, T0);
    db.prepare('INSERT INTO samples_day (host_id, day, down_bytes, up_bytes) VALUES (1, ?, 1234, 56)').run(T0 / DAY);
    db.close();

    const store = HistoryStore.open({ path });
    try {
      const routerId = store.findRouter('old-router');
      assert.equal(routerId, 1);
      const report = store.hostTotals(1, T0, T0 + DAY);
      assert.deepEqual(report.hosts.map((h) => [h.identity, h.downBytes, h.upBytes]), [['aa:bb:cc:00:00:0a', 1234, 56]]);
      // The version-2 table works.
      assert.deepEqual(store.notices(1, 0, T0 + DAY), []);
    } finally {
      store.close();
    }
    const again = new Database(path);
    try {
      assert.equal(schemaVersion(again), LATEST_SCHEMA_VERSION);
      assert.deepEqual(migrate(again), [], 'migrating twice applies nothing');
    } finally {
      again.close();
    }
  });

  test('a version-2 database (state as JSON alone) keeps its state and history, and recording continues from it', () => {
    const path = join(tmp.path, 'v2.sqlite');
    const db = new Database(path);
    assert.deepEqual(migrate(db, 2), [1, 2]);
    // What lantop wrote at version 2: the router, a host, its minutes, the state as JSON.
    const acct = new Accountant({ linkBitsPerSecond: 1e12 });
    const ip = '198.51.100.10';
    const mac = 'aa:bb:cc:00:00:0a';
    acct.process({ atMs: T0, counters: new Map([[ip, { downBytes: 100, upBytes: 10 }]]), hosts: [{ ip, mac, hostname: 'tv' }], newAddresses: [ip] });
    const state = acct.exportState({ includeRates: false });
    db.prepare('INSERT INTO routers (key, created_ms) VALUES (?, ?)').run('old-router', T0);
    db.prepare(`INSERT INTO hosts (router_id, identity, mac, ip, hostname, first_seen_ms, last_seen_ms) VALUES (1, ?, ?, ?, 'tv', ?, ?)`).run(mac, mac, ip, T0, T0);
    db.prepare('INSERT INTO samples_minute (host_id, minute, down_bytes, up_bytes) VALUES (1, ?, 100, 10)').run(T0 / MIN);
    db.prepare('INSERT INTO router_state (router_id, epoch, boot_marker, last_poll_ms, state_json, updated_ms, rolled_minute) VALUES (1, 0, NULL, ?, ?, ?, ?)').run(
      T0, encodeState(state), T0, T0 / MIN,
    );
    db.close();

    const store = HistoryStore.open({ path });
    try {
      assert.deepEqual(store.loadState(1)?.state, state);
      store.tryAcquireLease(1, ME, T0, 60_000);
      const restored = new Accountant({ linkBitsPerSecond: 1e12 }, store.loadState(1)?.state);
      for (let k = 1; k <= 3; k++) {
        const r = restored.process({ atMs: T0 + k * MIN, counters: new Map([[ip, { downBytes: 100 + 50 * k, upBytes: 10 }]]), hosts: [{ ip, mac, hostname: 'tv' }] });
        assert.deepEqual(r.deltas.map((d) => d.downBytes), [50], 'continues from the stored baseline');
        assert.ok(store.recordPoll(1, ME.id, r, restored.exportState({ includeRates: false }), 60_000));
      }
      assert.deepEqual(store.hostTotals(1, T0, T0 + DAY).hosts.map((h) => [h.identity, h.downBytes]), [[mac, 250]]);
      assert.deepEqual(store.loadState(1)?.state, restored.exportState({ includeRates: false }));
    } finally {
      store.close();
    }
  });

  test('the migration list is ordered and every step is applied exactly once', () => {
    MIGRATIONS.forEach((m, i) => assert.equal(m.version, i + 1));
    const db = new Database(':memory:');
    assert.deepEqual(migrate(db), MIGRATIONS.map((m) => m.version));
    db.close();
  });

  test('a database from a newer lantop is refused, not guessed at', () => {
    const path = join(tmp.path, 'new.sqlite');
    const db = new Database(path);
    migrate(db);
    db.prepare('UPDATE schema_version SET version = ?').run(LATEST_SCHEMA_VERSION + 1);
    db.close();
    assert.throws(() => HistoryStore.open({ path }), (e: unknown) => e instanceof UsageError && /newer/.test(e.message));
  });

  test('a file that is not a database is a usage error naming the path', () => {
    const path = join(tmp.path, 'junk.sqlite');
    writeFileSync(path, 'this is not sqlite'.repeat(100));
    assert.throws(() => HistoryStore.open({ path }), (e: unknown) => e instanceof UsageError && e.message.includes(path));
  });
});
