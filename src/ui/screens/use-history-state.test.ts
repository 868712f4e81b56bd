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

test('history: ←/→ step periods (never past now, not for all time); Enter/d pick the cursor row, d/Esc clear it', () => {
  const rows = [
    { identity: 'b', ip: null, mac: null, hostname: null, downBytes: 1, upBytes: 0 },
    { identity: 'a', ip: null, mac: null, hostname: null, downBytes: 9, upBytes: 0 },
  ];
  let state = historyReducer(initialHistoryState(), { type: 'loaded', request: 1, view: historyView('today', rows) });
  assert.equal(historyReducer(state, { type: 'shift', delta: 1 }), state, 'no future periods');
  state = historyReducer(state, { type: 'shift', delta: -1 });
  assert.deepEqual([state.offset, state.status, state.request], [-1, 'loading', 2]);
  state = historyReducer(state, { type: 'loaded', request: 2, view: historyView('today', rows) });
  // The busiest row is first: the cursor's row 1 is 'b'.
  state = historyReducer(state, { type: 'scroll', action: 'down', viewportRows: 5 });
  state = historyReducer(state, { type: 'pick' });
  assert.deepEqual([state.identity, state.offset, state.request], ['b', -1, 3]);
  state = historyReducer(state, { type: 'period', period: 'month' });
  assert.deepEqual([state.period, state.offset, state.identity], ['month', 0, 'b'], 'a new period starts now and keeps the device');
  state = historyReducer(state, { type: 'clearDevice' });
  assert.equal(state.identity, null);
  const all = historyReducer(state, { type: 'period', period: 'all' });
  assert.equal(historyReducer(all, { type: 'shift', delta: -1 }), all);

  assert.deepEqual(historyKeyAction('h', keyOf(), 10), { type: 'period', period: 'hours' });
  assert.deepEqual(historyKeyAction('', keyOf({ leftArrow: true }), 10), { type: 'shift', delta: -1 });
  assert.deepEqual(historyKeyAction('', keyOf({ rightArrow: true }), 10), { type: 'shift', delta: 1 });
  assert.deepEqual(historyKeyAction('', keyOf({ return: true }), 10), { type: 'pick' });
  assert.deepEqual(historyKeyAction('d', keyOf(), 10, false), { type: 'pick' });
  assert.deepEqual(historyKeyAction('d', keyOf(), 10, true), { type: 'clearDevice' });
  assert.deepEqual(historyKeyAction('', keyOf({ escape: true }), 10, true), { type: 'clearDevice' });
  assert.deepEqual(historyKeyAction('q', keyOf(), 10, true), { type: 'back' });
});
