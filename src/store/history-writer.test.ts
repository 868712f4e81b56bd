// Recording a poll: the state with it, rollups, notices, host merges.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { Accountant } from '../domain/accounting.js';
import { DAY, Harness, HOUR, identityOf, IPS, ME, MIN, T0, useStoreDir } from '../../test/store/history-harness.js';

const tmp = useStoreDir();
const open = tmp.open;

describe('recording and rollups', () => {
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

  test('hours and days are rolled up once per hour; the newest minutes are still counted everywhere', () => {
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
        const r = acct.process({ atMs, counters: new Map([[ip, { downBytes: down, upBytes: 0 }]]), hosts: [{ ip, mac, hostname: null }], ...(first ? { newAddresses: [ip] } : {}) });
        assert.ok(store.recordPoll(routerId, ME.id, r, acct.exportState(), 60_000));
      };
      rec(T0, 100, null, true);
      rec(T0 + MIN, 300, null);
      rec(T0 + 2 * MIN, 450, 'aa:bb:cc:00:00:0c');
      const report = store.hostTotals(routerId, T0, T0 + DAY);
      assert.deepEqual(report.hosts.map((x) => [x.identity, x.mac, x.downBytes]), [['aa:bb:cc:00:00:0c', 'aa:bb:cc:00:00:0c', 450]]);
      // The MAC-less host's row is gone, not only empty (hostTotals leaves out empty hosts).
      const db = new Database(tmp.dbPath, { readonly: true });
      try {
        assert.equal((db.prepare('SELECT COUNT(*) AS n FROM hosts WHERE router_id = ?').get(routerId) as { n: number }).n, 1);
      } finally {
        db.close();
      }
    } finally {
      store.close();
    }
  });
});
