import { test } from 'node:test';
import assert from 'node:assert/strict';
import { historyView } from '../../../test/fakes/fake-controller.js';
import { keyOf } from '../../../test/fakes/fake-terminal.js';
import { describeError } from '../text.js';
import { historyReducer, initialHistoryState } from './use-history-state.js';
import { historyKeyAction } from './use-history.js';
import { devicesReducer, initialDevicesState } from './use-devices-state.js';
import { devicesKeyAction } from './use-devices.js';
import { discovered } from '../../../test/fakes/fake-controller.js';

test('switching periods requests again and only the latest reply is shown', () => {
  let state = initialHistoryState();
  state = historyReducer(state, { type: 'period', period: 'week' });
  state = historyReducer(state, { type: 'period', period: 'month' });
  assert.deepEqual([state.period, state.status, state.request], ['month', 'loading', 3]);
  const stale = historyReducer(state, { type: 'loaded', request: 2, view: historyView('week', []) });
  assert.equal(stale, state);
  state = historyReducer(state, { type: 'loaded', request: 3, view: historyView('month', []) });
  assert.equal(state.status, 'ready');
  // Choosing the period already shown does not ask again.
  assert.equal(historyReducer(state, { type: 'period', period: 'month' }), state);
  const failed = historyReducer({ ...state, status: 'loading', request: 4 }, { type: 'failed', request: 4, error: describeError(new Error('db locked')) });
  assert.equal(failed.status, 'failed');
  assert.equal(historyReducer(failed, { type: 'period', period: 'month' }).status, 'loading');
});

test('history keys: t y w m c a choose the period', () => {
  const periods = ['t', 'y', 'w', 'm', 'c', 'a'].map((k) => historyKeyAction(k, keyOf(), 10));
  assert.deepEqual(
    periods.map((p) => (p && p.type === 'period' ? p.period : null)),
    ['today', 'yesterday', 'week', 'month', 'cycle', 'all'],
  );
  assert.deepEqual(historyKeyAction('', keyOf({ escape: true }), 10), { type: 'back' });
});

test('devices: refresh asks again, stale replies are ignored, keys map to actions', () => {
  let state = devicesReducer(initialDevicesState, { type: 'loaded', request: 1, hosts: [discovered('198.51.100.10')] });
  assert.equal(state.status, 'ready');
  state = devicesReducer(state, { type: 'refresh' });
  assert.deepEqual([state.status, state.request], ['loading', 2]);
  assert.equal(devicesReducer(state, { type: 'loaded', request: 1, hosts: [] }), state);
  assert.deepEqual(devicesKeyAction('r', keyOf(), 5), { type: 'refresh' });
  assert.deepEqual(devicesKeyAction('q', keyOf(), 5), { type: 'back' });
  assert.deepEqual(devicesKeyAction('', keyOf({ end: true }), 5), { type: 'scroll', action: 'end', viewportRows: 5 });
});
