// Opening the history database: the file and its directory, WAL, migrations, refusals.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { UsageError } from '../errors.js';
import { HistoryStore } from './history-store.js';
import { LATEST_SCHEMA_VERSION, migrate, MIGRATIONS, schemaVersion } from './migrations.js';
import { DAY, Harness, T0, useStoreDir } from '../../test/store/history-harness.js';

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
      assert.equal(schemaVersion(again), 2);
      assert.deepEqual(migrate(again), [], 'migrating twice applies nothing');
    } finally {
      again.close();
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
