// The writer lease: one holder per router, renewal, takeover; a poll without it writes nothing.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { DAY, Harness, IPS, ME, MIN, OTHER, T0, useStoreDir } from '../../test/store/history-harness.js';
import type { LeaseHolder } from './writer-lease.js';

const { open } = useStoreDir();

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
});
