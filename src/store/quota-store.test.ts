// Quotas, persons, crossings and the audit log in a real database; usage read from recorded polls.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { UsageError } from '../errors.js';
import { HistoryStore } from './history-store.js';
import { LATEST_SCHEMA_VERSION, migrate, schemaVersion } from './migrations.js';
import { buildThresholds } from '../domain/quota.js';
import type { NewQuota as NewQuotaInput } from './quota-store.js';
import { DAY, Harness, HOUR, identityOf, IPS, MIN, T0, useStoreDir } from '../../test/store/history-harness.js';

const tmp = useStoreDir();
const KEY = '198.51.100.1:23';

const newQuota = (over: Partial<NewQuotaInput> = {}): NewQuotaInput => ({
  routerKey: KEY,
  subject: { kind: 'device', identity: 'aa:bb:cc:00:00:0a' },
  limitBytes: 5e9,
  direction: 'total',
  period: { kind: 'cycle', startDay: 15 },
  thresholds: buildThresholds([], true),
  createdMs: T0,
  ...over,
});

describe('quotas', () => {
  test('add, list, get and remove; period and thresholds survive a reopen', () => {
    let store = tmp.open();
    try {
      const a = store.quotas.addQuota(newQuota());
      const b = store.quotas.addQuota(newQuota({ subject: { kind: 'line' }, direction: 'down', period: { kind: 'rolling', minutes: 90 } }));
      store.quotas.addQuota(newQuota({ routerKey: 'other:23', subject: { kind: 'person', name: 'Ben' } }));
      assert.ok(b.id > a.id);
      store.close();
      store = tmp.open();
      const list = store.quotas.listQuotas(KEY);
      assert.deepEqual(list, [a, b]);
      assert.deepEqual(store.quotas.getQuota(b.id), b);
      assert.equal(store.quotas.removeQuota('other:23', a.id), false, 'only the quota of its own router');
      assert.equal(store.quotas.removeQuota(KEY, a.id), true);
      assert.equal(store.quotas.removeQuota(KEY, a.id), false);
      assert.deepEqual(store.quotas.listQuotas(KEY).map((q) => q.id), [b.id]);
      assert.equal(store.quotas.getQuota(a.id), null);
    } finally {
      store.close();
    }
  });

  test('a crossing is recorded once per quota, window and percent, also across a reopen; removing the quota drops them', () => {
    let store = tmp.open();
    try {
      const q = store.quotas.addQuota(newQuota());
      assert.equal(store.quotas.recordCrossing(q.id, T0, 80, T0 + HOUR), true);
      assert.equal(store.quotas.recordCrossing(q.id, T0, 80, T0 + 2 * HOUR), false);
      assert.equal(store.quotas.recordCrossing(q.id, T0, 100, T0 + 3 * HOUR), true);
      assert.equal(store.quotas.recordCrossing(q.id, T0 + DAY, 80, T0 + DAY), true, 'a new window counts again');
      store.close();
      store = tmp.open();
      assert.equal(store.quotas.recordCrossing(q.id, T0, 80, T0 + 4 * HOUR), false, 'a restart does not repeat it');
      assert.deepEqual(store.quotas.crossingsOf(q.id, T0), [80, 100]);
      store.quotas.removeQuota(KEY, q.id);
      assert.deepEqual(store.quotas.crossingsOf(q.id, T0), []);
    } finally {
      store.close();
    }
  });

  test('an edit keeps the id and the crossings of thresholds that still exist; a new period drops them all', () => {
    let store = tmp.open();
    try {
      const q = store.quotas.addQuota(newQuota({ thresholds: buildThresholds([50, 80, 100], false) }));
      for (const percent of [50, 80, 100]) store.quotas.recordCrossing(q.id, T0, percent, T0 + HOUR);
      assert.equal(store.quotas.updateQuota('other:23', q.id, { limitBytes: 1 }), null, 'only the quota of its own router');
      assert.equal(store.quotas.updateQuota(KEY, q.id + 99, { limitBytes: 1 }), null);
      assert.deepEqual(store.quotas.getQuota(q.id), q, 'a refused edit changes nothing');

      // 80 % goes, 90 % is new, 100 % now also blocks (an action it lacked: counts anew), 50 % stays.
      const thresholds = [
        { percent: 50, notify: true, block: false },
        { percent: 90, notify: true, block: false },
        { percent: 100, notify: true, block: true },
      ];
      const edited = store.quotas.updateQuota(KEY, q.id, { limitBytes: 7e9, direction: 'down', thresholds });
      assert.deepEqual(edited, { ...q, limitBytes: 7e9, direction: 'down', thresholds });
      store.close();
      store = tmp.open();
      assert.deepEqual(store.quotas.listQuotas(KEY), [edited], 'the same id, stored');
      assert.deepEqual(store.quotas.crossingsOf(q.id, T0), [50]);
      assert.equal(store.quotas.recordCrossing(q.id, T0, 50, T0 + 2 * HOUR), false, 'a kept crossing does not alert again');
      assert.equal(store.quotas.recordCrossing(q.id, T0, 100, T0 + 2 * HOUR), true);

      store.quotas.updateQuota(KEY, q.id, { limitBytes: 8e9 });
      assert.deepEqual(store.quotas.crossingsOf(q.id, T0), [50, 100], 'a new limit alone keeps them');
      const rolling = store.quotas.updateQuota(KEY, q.id, { period: { kind: 'rolling', minutes: 120 } });
      assert.deepEqual(rolling?.period, { kind: 'rolling', minutes: 120 });
      assert.deepEqual(store.quotas.crossingsOf(q.id, T0), [], 'a new period is a new window');
      store.quotas.recordCrossing(q.id, T0, 50, T0 + 3 * HOUR);
      store.quotas.updateQuota(KEY, q.id, { subject: { kind: 'line' } });
      assert.deepEqual(store.quotas.crossingsOf(q.id, T0), [], 'so is a new subject');
      assert.deepEqual(store.quotas.getQuota(q.id)?.subject, { kind: 'line' });
    } finally {
      store.close();
    }
  });
});

describe('persons', () => {
  test('add (and add devices to), list, remove; a person with quotas is not removed', () => {
    const store = tmp.open();
    try {
      const q = store.quotas;
      assert.deepEqual(q.addPerson(KEY, { name: 'Ben', identities: ['aa:bb:cc:00:00:0b', 'aa:bb:cc:00:00:0a'] }, T0), {
        name: 'Ben',
        identities: ['aa:bb:cc:00:00:0a', 'aa:bb:cc:00:00:0b'],
      });
      assert.deepEqual(q.addPerson(KEY, { name: 'Ben', identities: ['ip:198.51.100.12', 'aa:bb:cc:00:00:0a'] }, T0).identities, [
        'aa:bb:cc:00:00:0a',
        'aa:bb:cc:00:00:0b',
        'ip:198.51.100.12',
      ]);
      q.addPerson(KEY, { name: 'Ada', identities: ['aa:bb:cc:00:00:0a'] }, T0);
      q.addPerson('other:23', { name: 'Cy', identities: [] }, T0);
      assert.deepEqual(q.listPersons(KEY).map((p) => [p.name, p.identities.length]), [['Ada', 1], ['Ben', 3]]);
      assert.deepEqual(q.listPersons('other:23'), [{ name: 'Cy', identities: [] }]);

      const quota = q.addQuota(newQuota({ subject: { kind: 'person', name: 'Ben' } }));
      assert.deepEqual(q.identitiesOf(quota), ['aa:bb:cc:00:00:0a', 'aa:bb:cc:00:00:0b', 'ip:198.51.100.12']);
      assert.deepEqual(q.identitiesOf({ routerKey: KEY, subject: { kind: 'line' } }), 'all');
      assert.throws(() => q.removePerson(KEY, 'Ben'), (e: unknown) => e instanceof UsageError && /quota .*remove/.test(`${e.message} ${e.nextStep}`));
      assert.equal(q.listPersons(KEY).length, 2, 'nothing removed');
      q.removeQuota(KEY, quota.id);
      assert.equal(q.removePerson(KEY, 'Ben'), true);
      assert.equal(q.removePerson(KEY, 'Ben'), false);
      assert.deepEqual(q.listPersons(KEY).map((p) => p.name), ['Ada']);
      assert.deepEqual(q.identitiesOf({ routerKey: KEY, subject: { kind: 'person', name: 'Ben' } }), [], 'a vanished person counts nothing');
    } finally {
      store.close();
    }
  });
});

describe('usage from the history', () => {
  test('usageOf equals the recorded deltas for one device, a group and the whole line, across hours and midnight', () => {
    const store = tmp.open({ autoPrune: false });
    try {
      const h = new Harness(store, T0 + 22 * HOUR + 30 * MIN, KEY);
      h.run(600, 30_000); // 5 hours, across midnight: minutes, rolled-up hours and a day boundary
      const now = h.clock.now();
      const ranges = [
        { startMs: 0, endMs: now + 1 },
        { startMs: T0 + DAY, endMs: T0 + 2 * DAY },
        { startMs: T0 + 22 * HOUR + 47 * MIN, endMs: T0 + DAY + 2 * HOUR + 13 * MIN },
        { startMs: now - 90 * MIN, endMs: now },
      ];
      for (const r of ranges) {
        const one = h.truth(identityOf(0), r.startMs, r.endMs);
        assert.deepEqual(store.quotas.usageOf(h.routerId, [identityOf(0)], r.startMs, r.endMs), { downBytes: one[0], upBytes: one[1] });
        const two = [0, 2].map((i) => h.truth(identityOf(i), r.startMs, r.endMs));
        assert.deepEqual(store.quotas.usageOf(h.routerId, [identityOf(0), identityOf(2)], r.startMs, r.endMs), {
          downBytes: two[0]![0] + two[1]![0],
          upBytes: two[0]![1] + two[1]![1],
        });
        const all = IPS.map((_, i) => h.truth(identityOf(i), r.startMs, r.endMs));
        const report = store.hostTotals(h.routerId, r.startMs, r.endMs);
        assert.deepEqual(store.quotas.usageOf(h.routerId, 'all', r.startMs, r.endMs), report.totals);
        assert.equal(report.totals.downBytes, all.reduce((s, x) => s + x[0], 0));
      }
      assert.deepEqual(store.quotas.usageOf(h.routerId, [], 0, now), { downBytes: 0, upBytes: 0 });
      assert.deepEqual(store.quotas.usageOf(h.routerId, ['aa:bb:cc:99:99:99'], 0, now), { downBytes: 0, upBytes: 0 });
      assert.deepEqual(store.quotas.usageOf(h.routerId + 1, 'all', 0, now), { downBytes: 0, upBytes: 0 }, 'another router has none');
    } finally {
      store.close();
    }
  });

  test('after pruning, usage comes from the hours and days that were kept', () => {
    const store = tmp.open({ autoPrune: false, retention: { minuteMs: HOUR, hourMs: DAY } });
    try {
      const h = new Harness(store, T0, KEY);
      h.run(3 * 60, 60_000); // 3 hours, a poll a minute
      store.prune(h.clock.now());
      assert.equal(store.availability().minutesFromMs, T0 + HOUR, 'the first hour of minutes was pruned');
      const truth = h.truth(identityOf(1), 0, T0 + DAY);
      assert.deepEqual(store.quotas.usageOf(h.routerId, [identityOf(1)], T0, T0 + DAY), { downBytes: truth[0], upBytes: truth[1] });
    } finally {
      store.close();
    }
  });

  test('oldestUsageMs: the first minute with bytes in the direction asked', () => {
    const store = tmp.open({ autoPrune: false });
    try {
      const h = new Harness(store, T0, KEY);
      h.poll();
      h.clock.advance(10 * MIN);
      // Only host 0 downloads (upload stays 0) in this minute.
      h.poll({}, (i) => (i === 0 ? [500, 0] : [0, 0]));
      h.clock.advance(10 * MIN);
      h.poll({}, (i) => [100, i === 0 ? 7 : 0]);
      const q = store.quotas;
      assert.equal(q.oldestUsageMs(h.routerId, [identityOf(0)], 'down', T0, T0 + HOUR), T0 + 10 * MIN);
      assert.equal(q.oldestUsageMs(h.routerId, [identityOf(0)], 'up', T0, T0 + HOUR), T0 + 20 * MIN);
      assert.equal(q.oldestUsageMs(h.routerId, [identityOf(1)], 'total', T0, T0 + HOUR), T0 + 20 * MIN);
      assert.equal(q.oldestUsageMs(h.routerId, 'all', 'total', T0 + 11 * MIN, T0 + HOUR), T0 + 20 * MIN);
      assert.equal(q.oldestUsageMs(h.routerId, 'all', 'total', T0 + 21 * MIN, T0 + HOUR), null);
      assert.equal(q.oldestUsageMs(h.routerId, [], 'total', T0, T0 + HOUR), null);
    } finally {
      store.close();
    }
  });

  test('knownHosts lists what the polls recorded', () => {
    const store = tmp.open();
    try {
      const h = new Harness(store, T0, KEY);
      h.poll();
      const hosts = store.quotas.knownHosts(h.routerId);
      assert.deepEqual(hosts.map((x) => [x.identity, x.ip, x.hostname]).sort(), IPS.map((ip, i) => [identityOf(i), ip, `host-${i}`]).sort());
    } finally {
      store.close();
    }
  });
});

describe('block audit', () => {
  test('entries are kept in order, per router, newest limited', () => {
    const store = tmp.open();
    try {
      const q = store.quotas;
      const base = { routerKey: KEY, identity: 'aa:bb:cc:00:00:0a', addresses: ['198.51.100.10'], reason: 'over 5 GB', quotaId: 3, by: 'quota' as const };
      q.addAudit({ ...base, atMs: T0 + 2, action: 'unblock', by: 'hand', quotaId: null, untilMs: null, reason: 'by hand' });
      const id = q.addAudit({ ...base, atMs: T0, action: 'block', untilMs: T0 + DAY });
      q.addAudit({ ...base, atMs: T0 + 1, action: 'expired', untilMs: null, routerKey: 'other:23' });
      const all = q.listAudit(KEY);
      assert.deepEqual(all.map((e) => [e.action, e.by, e.quotaId, e.untilMs]), [['block', 'quota', 3, T0 + DAY], ['unblock', 'hand', null, null]]);
      assert.equal(all[0]?.id, id);
      assert.deepEqual(all[0]?.addresses, ['198.51.100.10']);
      assert.deepEqual(q.listAudit(KEY, { limit: 1 }).map((e) => e.action), ['unblock']);
      assert.deepEqual(q.listAudit(KEY, { sinceMs: T0 + 1 }).map((e) => e.action), ['unblock']);
    } finally {
      store.close();
    }
  });
});

describe('migration to version 5', () => {
  test('a version-4 database keeps its history and gains the quota tables', () => {
    const path = join(tmp.path, 'v4.sqlite');
    const db = new Database(path);
    assert.deepEqual(migrate(db, 4), [1, 2, 3, 4]);
    db.prepare('INSERT INTO routers (key, created_ms) VALUES (?, ?)').run(KEY, T0);
    db.prepare(`INSERT INTO hosts (router_id, identity, mac, ip, hostname, first_seen_ms, last_seen_ms) VALUES (1, 'aa:bb:cc:00:00:0a', 'aa:bb:cc:00:00:0a', '198.51.100.10', 'laptop', ?, ?)`).run(T0, T0);
    db.prepare('INSERT INTO samples_day (host_id, day, down_bytes, up_bytes, down6_bytes, up6_bytes) VALUES (1, ?, 1234, 56, 34, 6)').run(T0 / DAY);
    db.close();

    const store = HistoryStore.open({ path, hostname: 'testhost' });
    try {
      assert.deepEqual(store.hostTotals(1, T0, T0 + DAY).totals, { downBytes: 1234, upBytes: 56 });
      assert.deepEqual(store.quotas.usageOf(1, ['aa:bb:cc:00:00:0a'], T0, T0 + DAY), { downBytes: 1234, upBytes: 56 });
      assert.deepEqual(store.quotas.listQuotas(KEY), []);
      store.quotas.addQuota(newQuota());
      assert.equal(store.integrityCheck(), 'ok');
    } finally {
      store.close();
    }
    const again = new Database(path);
    try {
      assert.equal(schemaVersion(again), LATEST_SCHEMA_VERSION);
      assert.ok(LATEST_SCHEMA_VERSION >= 5);
      const tables = (again.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as Array<{ name: string }>).map((t) => t.name);
      for (const t of ['persons', 'person_devices', 'quotas', 'quota_crossings', 'block_audit']) assert.ok(tables.includes(t), t);
    } finally {
      again.close();
    }
  });
});
