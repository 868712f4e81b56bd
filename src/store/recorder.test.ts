// The recorder: the lease protocol as the poller uses it (one process at a time; the crash and
// two-process cases are in history-process.test.ts).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Accountant } from '../domain/accounting.js';
import { FakeClock } from '../domain/clock.js';
import { HistoryRecorder } from './recorder.js';
import { IPS, ME, OTHER, T0, useStoreDir } from '../../test/store/history-harness.js';

const { open } = useStoreDir();

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
