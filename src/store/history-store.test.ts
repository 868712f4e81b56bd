import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Accountant, type AccountingResult, type PollInput } from '../domain/accounting.js';
import { FakeClock } from '../domain/clock.js';
import { fixedZone, resolvePeriod } from '../domain/periods.js';
import { UsageError } from '../errors.js';
import { decodeState, defaultHistoryPath, encodeState, HistoryStore, type HistoryStoreOptions, type LeaseHolder } from './history-store.js';
import { LATEST_SCHEMA_VERSION, migrate, MIGRATIONS, schemaVersion } from './migrations.js';
import { HistoryRecorder } from './recorder.js';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const T0 = Date.UTC(2024, 2, 4); // Monday 4 March 2024, 00:00 UTC
const IPS = ['198.51.100.10', '198.51.100.11', '198.51.100.12'];
const MACS = ['aa:bb:cc:00:00:0a', 'aa:bb:cc:00:00:0b', null];
const identityOf = (i: number) => MACS[i] ?? `ip:${IPS[i]}`;
const ME: LeaseHolder = { id: 'me', pid: process.pid, hostname: 'testhost' };
const OTHER: LeaseHolder = { id: 'other', pid: 999_999, hostname: 'testhost' };

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lantop-store-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function open(extra: Partial<HistoryStoreOptions> = {}): HistoryStore {
  return HistoryStore.open({ path: join(dir, 'sub', 'history.sqlite'), hostname: 'testhost', ...extra });
}

/**
 * Drives an Accountant over a deterministic fake router and records every poll.
 * Host i gains rate(i, t) bytes per poll; the truth is kept per identity and per minute.
 */
class Harness {
  readonly clock: FakeClock;
  readonly acct = new Accountant({ linkBitsPerSecond: 1e12 });
  readonly raw = IPS.map(() => [0, 0] as [number, number]);
  readonly truthByMinute = new Map<string, Map<number, [number, number]>>();
  readonly routerId: number;
  first = true;
  constructor(
    readonly store: HistoryStore,
    startMs = T0,
    key = 'router-1',
  ) {
    this.clock = new FakeClock(startMs);
    this.routerId = store.routerId(key, startMs);
    assert.equal(store.tryAcquireLease(this.routerId, ME, startMs, 60_000).acquired, true);
  }
  poll(extra: Partial<PollInput> = {}, grow = (i: number, t: number) => [Math.floor(t / MIN) % 7 * 100 + i * 10 + 1, i + 1] as [number, number]): AccountingResult {
    const t = this.clock.now();
    if (!this.first) {
      this.raw.forEach((r, i) => {
        const [d, u] = grow(i, t);
        r[0] += d;
        r[1] += u;
      });
    }
    const result = this.acct.process({
      atMs: t,
      counters: new Map(IPS.map((ip, i) => [ip, { downBytes: this.raw[i]?.[0] ?? 0, upBytes: this.raw[i]?.[1] ?? 0 }])),
      hosts: IPS.map((ip, i) => ({ ip, mac: MACS[i] ?? null, hostname: `host-${i}` })),
      ...(this.first ? { newRuleIps: IPS } : {}),
      ...extra,
    });
    this.first = false;
    assert.equal(result.events.some((e) => e.kind === 'invalid-counter' || e.kind === 'absurd-delta'), false);
    for (const d of result.deltas) {
      let m = this.truthByMinute.get(d.identity);
      if (!m) this.truthByMinute.set(d.identity, (m = new Map()));
      const key = Math.floor(t / MIN);
      const cur = m.get(key) ?? [0, 0];
      m.set(key, [cur[0] + d.downBytes, cur[1] + d.upBytes]);
    }
    assert.equal(this.store.recordPoll(this.routerId, ME.id, result, this.acct.exportState(), 60_000), true);
    return result;
  }
  run(count: number, stepMs: number, extra: Partial<PollInput> = {}): AccountingResult | null {
    let last: AccountingResult | null = null;
    for (let k = 0; k < count; k++) {
      if (k > 0 || !this.first) this.clock.advance(stepMs);
      last = this.poll(extra);
    }
    return last;
  }
  truth(identity: string, startMs: number, endMs: number): [number, number] {
    let d = 0;
    let u = 0;
    for (const [minute, [dd, uu]] of this.truthByMinute.get(identity) ?? []) {
      if (minute * MIN >= startMs && minute * MIN < endMs) {
        d += dd;
        u += uu;
      }
    }
    return [d, u];
  }
}

describe('opening and migrations', () => {
  test('default path: XDG_DATA_HOME when absolute, else ~/.local/share', () => {
    assert.equal(defaultHistoryPath({ XDG_DATA_HOME: '/data' }, '/home/u'), '/data/lantop/history.sqlite');
    assert.equal(defaultHistoryPath({}, '/home/u'), '/home/u/.local/share/lantop/history.sqlite');
    assert.equal(defaultHistoryPath({ XDG_DATA_HOME: 'relative' }, '/home/u'), '/home/u/.local/share/lantop/history.sqlite');
  });

  test('a new database is created with its directory, in WAL mode, at the latest schema', () => {
    const store = open();
    try {
      const path = join(dir, 'sub', 'history.sqlite');
      assert.ok(existsSync(path));
      const h = new Harness(store);
      h.poll();
      assert.ok(existsSync(`${path}-wal`), 'WAL file exists while open');
      assert.equal(store.integrityCheck(), 'ok');
    } finally {
      store.close();
    }
    const db = new Database(join(dir, 'sub', 'history.sqlite'));
    try {
      assert.equal(schemaVersion(db), LATEST_SCHEMA_VERSION);
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    } finally {
      db.close();
    }
  });

  test('an old-version database migrates and keeps its data', () => {
    const path = join(dir, 'old.sqlite');
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
    const path = join(dir, 'new.sqlite');
    const db = new Database(path);
    migrate(db);
    db.prepare('UPDATE schema_version SET version = ?').run(LATEST_SCHEMA_VERSION + 1);
    db.close();
    assert.throws(() => HistoryStore.open({ path }), (e: unknown) => e instanceof UsageError && /newer/.test(e.message));
  });

  test('a file that is not a database is a usage error naming the path', () => {
    const path = join(dir, 'junk.sqlite');
    writeFileSync(path, 'this is not sqlite'.repeat(100));
    assert.throws(() => HistoryStore.open({ path }), (e: unknown) => e instanceof UsageError && e.message.includes(path));
  });

  test('retention must grow from minutes to hours to days', () => {
    assert.throws(() => open({ retention: { minuteMs: 2 * DAY, hourMs: DAY } }), UsageError);
    assert.throws(() => open({ retention: { minuteMs: 0 } }), UsageError);
  });
});

describe('recording and rollups', () => {
  test('minute, hour and day tables agree with each other and with the deltas', () => {
    const store = open({ autoPrune: false });
    try {
      const h = new Harness(store, T0 + 22 * HOUR);
      h.run(300, 20_000); // 100 minutes across midnight, 3 polls per minute
      for (let i = 0; i < IPS.length; i++) {
        const id = identityOf(i);
        const [d, u] = h.truth(id, 0, T0 + 10 * DAY);
        assert.ok(d > 0);
        for (const g of ['minute', 'hour', 'day'] as const) {
          const points = store.series(h.routerId, id, T0, T0 + 2 * DAY, g);
          const sum = points.reduce<[number, number]>((acc, p) => [acc[0] + (p.downBytes ?? 0), acc[1] + (p.upBytes ?? 0)], [0, 0]);
          assert.deepEqual(sum, [d, u], `${g} series of ${id}`);
        }
        const total = store.hostTotals(h.routerId, 0, T0 + 10 * DAY).hosts.find((x) => x.identity === id);
        assert.deepEqual([total?.downBytes, total?.upBytes], [d, u]);
      }
      // Only non-zero minutes are stored: the series of the first minute holds only the polls after the first.
      const minutes = store.series(h.routerId, identityOf(0), T0 + 22 * HOUR, T0 + 22 * HOUR + 5 * MIN, 'minute');
      assert.equal(minutes.length, 5);
      assert.deepEqual(minutes.map((p) => p.startMs), [0, 1, 2, 3, 4].map((k) => T0 + 22 * HOUR + k * MIN));
    } finally {
      store.close();
    }
  });

  test('period totals are exact at minute boundaries and match the truth for every period', () => {
    const store = open({ autoPrune: false });
    try {
      const h = new Harness(store, T0 + 23 * HOUR + 30 * MIN);
      h.run(2000, 45_000); // about 25 hours
      const zone = fixedZone(90);
      const now = h.clock.now();
      const ranges = [
        resolvePeriod({ kind: 'today' }, now, zone),
        resolvePeriod({ kind: 'yesterday' }, now, zone),
        resolvePeriod({ kind: 'week' }, now, zone),
        resolvePeriod({ kind: 'month' }, now, zone),
        resolvePeriod({ kind: 'all' }, now, zone),
        { startMs: T0 + 23 * HOUR + 47 * MIN, endMs: T0 + DAY + 3 * HOUR + 13 * MIN },
        { startMs: T0 + DAY + 5 * MIN, endMs: T0 + DAY + 6 * MIN },
      ];
      for (const r of ranges) {
        const report = store.hostTotals(h.routerId, r.startMs, r.endMs);
        // Minutes everywhere: the range is exact up to snapping a sub-minute end to the minute.
        assert.equal(report.effective.startMs, r.startMs);
        assert.ok(report.effective.endMs - r.endMs >= 0 && report.effective.endMs - r.endMs < MIN);
        let all: [number, number] = [0, 0];
        for (let i = 0; i < IPS.length; i++) {
          const [d, u] = h.truth(identityOf(i), r.startMs, r.endMs);
          all = [all[0] + d, all[1] + u];
          const got = report.hosts.find((x) => x.identity === identityOf(i));
          assert.deepEqual([got?.downBytes ?? 0, got?.upBytes ?? 0], [d, u], `${identityOf(i)} in ${new Date(r.startMs).toISOString()}`);
        }
        assert.deepEqual([report.totals.downBytes, report.totals.upBytes], all);
      }
    } finally {
      store.close();
    }
  });

  test('top N cuts the list, largest first, and keeps the totals complete', () => {
    const store = open({ autoPrune: false });
    try {
      const h = new Harness(store);
      h.poll();
      h.clock.advance(MIN);
      h.poll({}, (i) => [[500, 100, 900][i] ?? 0, 0]);
      const report = store.hostTotals(h.routerId, T0, T0 + DAY, { top: 2 });
      assert.deepEqual(report.hosts.map((x) => x.identity), [identityOf(2), identityOf(0)]);
      assert.equal(report.hostCount, 3);
      assert.deepEqual(report.totals, { downBytes: 1500, upBytes: 0 });
      assert.equal(report.router, 'router-1');
      assert.equal(report.hosts[0]?.hostname, 'host-2');
    } finally {
      store.close();
    }
  });

  test('local days as ranges (rangeSeries) in a fixed zone', () => {
    const store = open({ autoPrune: false });
    try {
      const h = new Harness(store, T0);
      h.run(3 * 24 * 4, 15 * MIN);
      const zone = fixedZone(-300);
      const days = [0, 1].map((k) => resolvePeriod({ kind: 'today' }, T0 + (k + 1) * DAY, zone));
      const got = store.rangeSeries(h.routerId, identityOf(1), days);
      got.forEach((p, k) => {
        const d = days[k];
        assert.ok(d);
        assert.deepEqual([p.downBytes, p.upBytes], h.truth(identityOf(1), d.startMs, d.endMs));
      });
    } finally {
      store.close();
    }
  });

  test('state is saved with the poll and restores an accountant that continues exactly', () => {
    const store = open({ autoPrune: false });
    try {
      const h = new Harness(store);
      h.run(10, 2000, { bootMarker: 'b1' });
      const stored = store.loadState(h.routerId);
      assert.ok(stored);
      assert.equal(stored.lastPollMs, h.clock.now());
      assert.equal(stored.state.rateWindow, undefined, 'rate window is not persisted');
      const restored = new Accountant({ linkBitsPerSecond: 1e12 }, stored.state);
      const next = h.clock.now() + 10 * MIN;
      const r = restored.process({
        atMs: next,
        counters: new Map(IPS.map((ip, i) => [ip, { downBytes: (h.raw[i]?.[0] ?? 0) + 5, upBytes: h.raw[i]?.[1] ?? 0 }])),
        hosts: [],
        bootMarker: 'b1',
      });
      assert.deepEqual(r.deltas.map((d) => d.downBytes), [5, 5, 5]);
      assert.equal(r.events.some((e) => e.kind === 'baseline' || e.kind === 'reset'), false);
    } finally {
      store.close();
    }
  });

  test('hours and days are rolled up once per minute; the newest minute is still counted everywhere', () => {
    const store = open({ autoPrune: false });
    try {
      const h = new Harness(store, T0 + 23 * HOUR + 59 * MIN);
      h.run(5, 10_000); // all within 23:59..00:00:40 across midnight
      const check = () => {
        for (let i = 0; i < IPS.length; i++) {
          const id = identityOf(i);
          const [d] = h.truth(id, 0, T0 + 3 * DAY);
          for (const g of ['minute', 'hour', 'day'] as const) {
            const sum = store.series(h.routerId, id, T0, T0 + 2 * DAY, g).reduce((a, p) => a + (p.downBytes ?? 0), 0);
            assert.equal(sum, d, `${g} of ${id}`);
          }
          const all = store.series(h.routerId, null, T0, T0 + 2 * DAY, 'day').reduce((a, p) => a + (p.downBytes ?? 0), 0);
          const truthAll = IPS.reduce((a, _ip, k) => a + h.truth(identityOf(k), 0, T0 + 3 * DAY)[0], 0);
          assert.equal(all, truthAll);
          assert.equal(store.hostTotals(h.routerId, T0, T0 + 2 * DAY).hosts.find((x) => x.identity === id)?.downBytes, d);
        }
      };
      check();
      // The wall clock steps back by two minutes, into minutes already rolled up.
      h.clock.advance(-2 * MIN);
      h.poll();
      check();
      h.clock.advance(5 * MIN);
      h.poll();
      check();
    } finally {
      store.close();
    }
  });

  test('minutes of a router whose writer stopped are kept past retention until rolled up', () => {
    const retention = { minuteMs: HOUR, hourMs: 10 * DAY, dayMs: null };
    const store = open({ retention, autoPrune: false });
    try {
      const h = new Harness(store, T0);
      h.run(3, 20_000); // one minute, not yet rolled up when the writer stops
      const [d] = h.truth(identityOf(0), 0, T0 + DAY);
      store.prune(T0 + 5 * DAY);
      assert.equal(store.hostTotals(h.routerId, T0, T0 + DAY).hosts.find((x) => x.identity === identityOf(0))?.downBytes, d);
      // A writer comes back days later: the old minute is rolled up, then pruned.
      h.clock.set(T0 + 5 * DAY);
      h.poll();
      store.prune(T0 + 5 * DAY);
      assert.ok(store.availability().minutesFromMs > T0 + 4 * DAY);
      const day0 = store.hostTotals(h.routerId, T0, T0 + DAY);
      assert.equal(day0.hosts.find((x) => x.identity === identityOf(0))?.downBytes, d);
      assert.equal(day0.startPrecision, 'hour');
    } finally {
      store.close();
    }
  });

  test('the stored state encoding round-trips (without the rate window)', () => {
    const acct = new Accountant();
    acct.process({ atMs: T0, counters: new Map([[IPS[0] ?? '', { downBytes: 5, upBytes: 6 }]]), hosts: [{ ip: IPS[0] ?? '', mac: MACS[0] ?? null, hostname: 'n\u001b[31m' }], newRuleIps: IPS, bootMarker: 'b' });
    const full = acct.exportState();
    const { rateWindow: _w, lastRates: _r, ...expected } = full;
    assert.deepEqual(decodeState(encodeState(full)), expected);
    assert.ok(encodeState(full).length < JSON.stringify(expected).length);
  });

  test('the last complete read survives a restart while the rules are missing (lastCountedAtMs round-trips)', () => {
    const acct = new Accountant();
    const hosts = [{ ip: IPS[0] ?? '', mac: MACS[0] ?? null, hostname: null }];
    acct.process({ atMs: T0, counters: new Map([[IPS[0] ?? '', { downBytes: 5, upBytes: 6 }]]), hosts, newRuleIps: IPS, bootMarker: 'b' });
    // The firewall was rebuilt: a read without lantop's rules, then lantop is killed.
    acct.process({ atMs: T0 + 60_000, counters: new Map(), hosts, bootMarker: 'b', isInstallationComplete: false });
    const state = acct.exportState();
    assert.equal(state.lastCountedAtMs, T0, 'the state says when counting last worked');
    assert.equal(decodeState(encodeState(state)).lastCountedAtMs, T0);
  });

  test('a reset is kept as a notice with the window whose bytes may be missing', () => {
    const store = open({ autoPrune: false });
    try {
      const h = new Harness(store);
      h.run(3, 2000, { bootMarker: 'b1' });
      const before = h.clock.now();
      h.clock.advance(90_000);
      h.raw.forEach((r) => r.splice(0, 2, 0, 0));
      h.poll({ bootMarker: 'b2', bootAtMs: before + 30_000 });
      const notices = store.notices(h.routerId, 0, h.clock.now() + 1);
      const reset = notices.find((n) => n.kind === 'reset');
      assert.ok(reset);
      assert.equal(reset.level, 'warn');
      assert.deepEqual([reset.missingFromMs, reset.missingToMs], [before, before + 30_000]);
      assert.match(reset.text, /rebooted/);
    } finally {
      store.close();
    }
  });

  test('notices are kept at most once per kind per minute (a router resetting on every poll)', () => {
    const store = open({ autoPrune: false });
    try {
      const h = new Harness(store);
      h.run(2, 1000);
      for (let k = 0; k < 30; k++) {
        h.clock.advance(4000); // 15 polls per minute, each with a counter that went down
        const target = k % 2 === 0 ? 10 : 5000; // host 0 goes down on every other poll
        h.poll({}, (i) => [i === 0 ? target - (h.raw[0]?.[0] ?? 0) : 1, 0]);
      }
      const resets = store.notices(h.routerId, 0, h.clock.now() + 1).filter((n) => n.kind === 'reset');
      const minutes = new Set(resets.map((n) => Math.floor(n.atMs / MIN)));
      assert.equal(resets.length, minutes.size);
      assert.ok(resets.length >= 2 && resets.length <= 4, `${resets.length} reset notices`);
    } finally {
      store.close();
    }
  });

  test('a MAC-less host whose MAC becomes known keeps its stored history', () => {
    const store = open({ autoPrune: false });
    try {
      const routerId = store.routerId('r', T0);
      store.tryAcquireLease(routerId, ME, T0, 60_000);
      const acct = new Accountant();
      const ip = IPS[2] ?? '';
      const rec = (atMs: number, down: number, mac: string | null, first = false) => {
        const r = acct.process({ atMs, counters: new Map([[ip, { downBytes: down, upBytes: 0 }]]), hosts: [{ ip, mac, hostname: null }], ...(first ? { newRuleIps: [ip] } : {}) });
        assert.ok(store.recordPoll(routerId, ME.id, r, acct.exportState(), 60_000));
      };
      rec(T0, 100, null, true);
      rec(T0 + MIN, 300, null);
      rec(T0 + 2 * MIN, 450, 'aa:bb:cc:00:00:0c');
      const report = store.hostTotals(routerId, T0, T0 + DAY);
      assert.deepEqual(report.hosts.map((x) => [x.identity, x.mac, x.downBytes]), [['aa:bb:cc:00:00:0c', 'aa:bb:cc:00:00:0c', 450]]);
      assert.equal(store.hosts(routerId).length, 1);
    } finally {
      store.close();
    }
  });
});

describe('retention', () => {
  test('prune deletes whole hours of minutes and whole days of hours; days stay; queries say how precise they are', () => {
    const retention = { minuteMs: 6 * HOUR, hourMs: 2 * DAY, dayMs: null };
    const store = open({ retention, autoPrune: false });
    try {
      const h = new Harness(store, T0);
      h.run(5 * 24 * 6, 10 * MIN); // 5 days, every 10 minutes
      const now = h.clock.now();
      const before = store.hostTotals(h.routerId, 0, now + 1);
      const result = store.prune(now);
      assert.ok(result.minutesDeleted > 0 && result.hoursDeleted > 0);
      assert.equal(result.daysDeleted, 0);
      assert.equal(result.availability.minutesFromMs % HOUR, 0);
      assert.equal(result.availability.hoursFromMs % DAY, 0);
      assert.ok(now - result.availability.minutesFromMs >= 6 * HOUR && now - result.availability.minutesFromMs < 7 * HOUR);
      // The all-time totals do not change: rollups carry what the pruned minutes held.
      assert.deepEqual(store.hostTotals(h.routerId, 0, now + 1).totals, before.totals);
      // An old ragged range is answered at hour precision, and exactly for the effective range.
      const old = store.hostTotals(h.routerId, T0 + 3 * DAY + 5 * HOUR + 17 * MIN, T0 + 3 * DAY + 9 * HOUR + 1 * MIN);
      assert.equal(old.startPrecision, 'hour');
      assert.deepEqual(old.effective, { startMs: T0 + 3 * DAY + 6 * HOUR, endMs: T0 + 3 * DAY + 10 * HOUR });
      const want = IPS.reduce((acc, _ip, i) => acc + h.truth(identityOf(i), old.effective.startMs, old.effective.endMs)[0], 0);
      assert.equal(old.totals.downBytes, want);
      // Older than the hour retention: day precision.
      const older = store.hostTotals(h.routerId, T0 + 10 * HOUR, T0 + DAY + 10 * HOUR);
      assert.equal(older.startPrecision, 'day');
      assert.deepEqual(older.effective, { startMs: T0 + DAY, endMs: T0 + 2 * DAY });
      // Series mark pruned buckets as unknown, not zero.
      const series = store.series(h.routerId, null, now - 8 * HOUR, now, 'minute');
      assert.equal(series[0]?.downBytes, null);
      assert.notEqual(series[series.length - 1]?.downBytes, null);
      // Pruning again changes nothing.
      const again = store.prune(now);
      assert.deepEqual([again.minutesDeleted, again.hoursDeleted], [0, 0]);
    } finally {
      store.close();
    }
  });

  test('finite day retention deletes old days too; automatic pruning runs as polls are recorded', () => {
    const retention = { minuteMs: HOUR, hourMs: DAY, dayMs: 3 * DAY };
    const store = open({ retention });
    try {
      const h = new Harness(store, T0);
      h.run(6 * 24, HOUR); // auto-prune once per recorded hour
      const a = store.availability();
      assert.equal(a.daysFromMs, T0 + 2 * DAY);
      const early = store.hostTotals(h.routerId, T0, T0 + DAY);
      assert.equal(early.totals.downBytes, 0);
      assert.deepEqual(early.effective, { startMs: T0 + 2 * DAY, endMs: T0 + 2 * DAY });
    } finally {
      store.close();
    }
  });
});

describe('the writer lease', () => {
  test('one holder at a time; renewal by the holder; takeover after expiry', () => {
    const store = open({ isPidAlive: () => true });
    try {
      const r = store.routerId('r', T0);
      const a = store.tryAcquireLease(r, ME, T0, 30_000);
      assert.equal(a.acquired, true);
      assert.equal(a.lease?.expiresMs, T0 + 30_000);
      const b = store.tryAcquireLease(r, OTHER, T0 + 29_999, 30_000);
      assert.equal(b.acquired, false);
      assert.equal(b.lease?.id, ME.id);
      assert.equal(store.tryAcquireLease(r, ME, T0 + 10_000, 30_000).lease?.expiresMs, T0 + 40_000);
      const c = store.tryAcquireLease(r, OTHER, T0 + 40_000, 30_000);
      assert.equal(c.acquired, true);
      assert.equal(c.tookOver?.reason, 'expired');
      assert.equal(c.tookOver?.from.id, ME.id);
      assert.ok(store.notices(r, 0, T0 + DAY).some((n) => n.kind === 'lease-takeover'));
    } finally {
      store.close();
    }
  });

  test('a dead holder on this machine is replaced at once; one on another machine is not', () => {
    const alive = new Set<number>([process.pid]);
    const store = open({ isPidAlive: (pid) => alive.has(pid) });
    try {
      const r = store.routerId('r', T0);
      assert.ok(store.tryAcquireLease(r, OTHER, T0, 30_000).acquired); // pid 999999: not alive
      const taken = store.tryAcquireLease(r, ME, T0 + 1, 30_000);
      assert.equal(taken.tookOver?.reason, 'holder-dead');
      const remote: LeaseHolder = { id: 'remote', pid: 999_999, hostname: 'elsewhere' };
      const r2 = store.routerId('r2', T0);
      assert.ok(store.tryAcquireLease(r2, remote, T0, 30_000).acquired);
      assert.equal(store.tryAcquireLease(r2, ME, T0 + 1, 30_000).acquired, false);
    } finally {
      store.close();
    }
  });

  test('a poll recorded without the lease writes nothing', () => {
    const store = open({ isPidAlive: () => true });
    try {
      const h = new Harness(store);
      h.poll();
      h.clock.advance(MIN);
      assert.ok(store.tryAcquireLease(h.routerId, OTHER, h.clock.now() + 120_000, 30_000).acquired);
      const result = h.acct.process({
        atMs: h.clock.now(),
        counters: new Map(IPS.map((ip) => [ip, { downBytes: 10_000, upBytes: 0 }])),
        hosts: [],
      });
      const stateBefore = store.loadState(h.routerId);
      assert.equal(store.recordPoll(h.routerId, ME.id, result, h.acct.exportState(), 30_000), false);
      assert.equal(store.hostTotals(h.routerId, 0, T0 + DAY).totals.downBytes, 0);
      assert.deepEqual(store.loadState(h.routerId), stateBefore);
    } finally {
      store.close();
    }
  });

  test('recorder: reader until the lease is free, then writer with the stored state; close releases', () => {
    const store = open({ isPidAlive: () => true });
    try {
      const clock = new FakeClock(T0);
      const one = new HistoryRecorder(store, 'r', { clock, leaseTtlMs: 10_000, holder: ME });
      const two = new HistoryRecorder(store, 'r', { clock, leaseTtlMs: 10_000, holder: OTHER });
      const first = one.ensureRole();
      assert.deepEqual([first.role, first.becameWriter, first.restore], ['writer', true, null]);
      const acct = new Accountant();
      const r = acct.process({ atMs: clock.now(), counters: new Map([[IPS[0] ?? '', { downBytes: 0, upBytes: 0 }]]), hosts: [] });
      assert.ok(one.record(r, acct.exportState()));
      const second = two.ensureRole();
      assert.equal(second.role, 'reader');
      assert.equal(second.writer?.id, ME.id);
      assert.equal(two.record(r, acct.exportState()), false);
      one.close();
      const third = two.ensureRole();
      assert.equal(third.becameWriter, true);
      assert.equal(third.restore?.lastAtMs, T0);
      assert.equal(one.ensureRole().role, 'reader');
    } finally {
      store.close();
    }
  });
});
