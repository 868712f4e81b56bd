// The Quotas screen's save behind the RouterController, against a real database: an edit changes
// the quota in place (QuotaStore.updateQuota), so its id stays and a kept crossing does not alert
// again; bad input and a quota removed meanwhile are refused with nothing changed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../errors.js';
import { removeQuota, saveQuota } from './quota-controller.js';
import type { QuotaInput } from './types.js';
import { T0, useStoreDir } from '../../test/store/history-harness.js';

const tmp = useStoreDir();
const KEY = '198.51.100.1:23';
const MAC = 'aa:bb:cc:00:00:0a';
const input = (over: Partial<QuotaInput> = {}): QuotaInput => ({
  subject: { kind: 'device', identity: MAC },
  limitBytes: 1e9,
  direction: 'total',
  period: { kind: 'day' },
  notifyPercents: [80, 100],
  block: false,
  ...over,
});
const usage = (pattern: RegExp) => (e: unknown) => e instanceof UsageError && pattern.test(`${e.message} ${e.nextStep ?? ''}`);

test('save adds; save with replacesId edits in place: same id and createdMs, crossings of kept percents stay', () => {
  const store = tmp.open();
  try {
    saveQuota(store, KEY, input(), T0);
    const [added] = store.quotas.listQuotas(KEY);
    assert.ok(added);
    store.quotas.recordCrossing(added.id, T0, 80, T0 + 1);
    store.quotas.recordCrossing(added.id, T0, 100, T0 + 2);

    saveQuota(store, KEY, input({ limitBytes: 2e9, direction: 'down', notifyPercents: [80], block: true }), T0 + 60_000, added.id);
    assert.deepEqual(store.quotas.listQuotas(KEY), [
      {
        ...added,
        limitBytes: 2e9,
        direction: 'down',
        thresholds: [
          { percent: 80, notify: true, block: false },
          { percent: 100, notify: false, block: true },
        ],
      },
    ]);
    // 80 % is as it was; 100 % now blocks (an action it lacked), so it counts anew and blocks.
    assert.deepEqual(store.quotas.crossingsOf(added.id, T0), [80]);

    const before = JSON.stringify(store.quotas.listQuotas(KEY));
    assert.throws(() => saveQuota(store, KEY, input({ limitBytes: 0 }), T0, added.id), usage(/at least 1 byte/));
    assert.throws(() => saveQuota(store, KEY, input({ subject: { kind: 'person', name: 'Nobody' } }), T0, added.id), usage(/No person 'Nobody'/));
    assert.throws(() => saveQuota(store, KEY, input(), T0, added.id + 5), usage(/No quota \d+ to edit: it was removed meanwhile/));
    assert.equal(JSON.stringify(store.quotas.listQuotas(KEY)), before, 'nothing changed');

    removeQuota(store, KEY, added.id);
    assert.throws(() => saveQuota(store, KEY, input(), T0, added.id), usage(/removed meanwhile/));
    assert.deepEqual(store.quotas.listQuotas(KEY), [], 'a failed edit adds nothing');
  } finally {
    store.close();
  }
});
