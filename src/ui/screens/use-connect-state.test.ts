import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keyOf } from '../../../test/fakes/fake-terminal.js';
import { describeError } from '../text.js';
import { AuthError, UnreachableError } from '../../errors.js';
import { connectReducer, initialConnectState, type ConnectState } from './use-connect-state.js';
import { connectKeyAction } from './use-connect.js';

const authError = describeError(new AuthError('wrong password'));
const unreachable = describeError(new UnreachableError('no route to 198.51.100.1'));

test('password entry: typing, erasing, control characters dropped, submit starts attempt 1', () => {
  let state: ConnectState = initialConnectState(true);
  state = connectReducer(state, { type: 'typed', text: 'pa' });
  state = connectReducer(state, { type: 'typed', text: 's\u0007s\u001b' });
  state = connectReducer(state, { type: 'erased' });
  assert.equal(state.phase === 'password' && state.password, 'pas');
  state = connectReducer(state, { type: 'submitted' });
  assert.deepEqual(state, { phase: 'connecting', attempt: 1, password: 'pas' });
});

test('a wrong password returns to the prompt when we may ask; otherwise it is a failure with retry', () => {
  const connecting = initialConnectState(false);
  assert.deepEqual(connecting, { phase: 'connecting', attempt: 1 });
  const asked = connectReducer(connecting, { type: 'failed', error: authError, canAskPassword: true });
  assert.equal(asked.phase, 'password');
  assert.equal(asked.phase === 'password' && asked.error, authError);
  const failed = connectReducer(connecting, { type: 'failed', error: authError, canAskPassword: false });
  assert.equal(failed.phase, 'failed');
  const retried = connectReducer(failed, { type: 'retry' });
  assert.deepEqual(retried, { phase: 'connecting', attempt: 2 });
  // A late reply for a phase we left is ignored.
  assert.equal(connectReducer(retried, { type: 'typed', text: 'x' }), retried);
  assert.equal(connectReducer(failed, { type: 'connected' }), failed);
});

test('connect keys: the prompt treats q and ? as text, Esc quits; a failure offers r (and p)', () => {
  const prompt = initialConnectState(true);
  assert.deepEqual(connectKeyAction(prompt, 'q', keyOf(), true), { action: { type: 'typed', text: 'q' } });
  assert.deepEqual(connectKeyAction(prompt, '', keyOf({ escape: true, meta: true }), true), { quit: true });
  assert.deepEqual(connectKeyAction({ ...prompt, password: 'pw' } as ConnectState, '', keyOf({ return: true }), true), {
    action: { type: 'submitted' },
  });
  assert.deepEqual(connectKeyAction(prompt, '', keyOf({ delete: true }), true), { action: { type: 'erased' } });
  assert.equal(connectKeyAction(prompt, '', keyOf({ upArrow: true }), true), null);
  const failed: ConnectState = { phase: 'failed', error: unreachable, attempt: 1 };
  assert.deepEqual(connectKeyAction(failed, 'r', keyOf(), false), { action: { type: 'retry' } });
  assert.equal(connectKeyAction(failed, 'p', keyOf(), false), null);
  assert.deepEqual(connectKeyAction(failed, 'p', keyOf(), true), { action: { type: 'askPassword' } });
  assert.deepEqual(connectKeyAction(failed, 'q', keyOf(), false), { quit: true });
});
