import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertListenAllowed, checkAccess, needsToken, presentedToken, tokensMatch, type AccessPolicy } from './access.js';
import { UsageError } from '../../errors.js';

const T = 'abcdefghijklmnopqrstuvwxyz012345';
const q = (text = '') => new URLSearchParams(text);

test('the token is read from Authorization: Bearer, then X-Lantop-Token, then ?token=', () => {
  assert.equal(presentedToken({ authorization: `Bearer ${T}` }, q()), T);
  assert.equal(presentedToken({ authorization: `bearer  ${T} ` }, q()), T);
  assert.equal(presentedToken({ 'x-lantop-token': T }, q()), T);
  assert.equal(presentedToken({}, q(`token=${T}`)), T);
  assert.equal(presentedToken({ authorization: 'Bearer first', 'x-lantop-token': 'second' }, q('token=third')), 'first');
  assert.equal(presentedToken({ authorization: 'Basic dXNlcjpwYXNz' }, q('token=third')), 'third', 'other schemes are not a token');
  assert.equal(presentedToken({}, q('token=')), null);
  assert.equal(presentedToken({ 'x-lantop-token': '  ' }, q()), null);
  assert.equal(presentedToken({ 'x-lantop-token': [T, 'x'] }, q()), T);
});

test('tokens compare exactly, whatever their lengths', () => {
  assert.equal(tokensMatch(T, T), true);
  assert.equal(tokensMatch(T.slice(0, -1), T), false);
  assert.equal(tokensMatch(`${T}x`, T), false);
  assert.equal(tokensMatch(T.toUpperCase(), T), false);
  assert.equal(tokensMatch('', T), false);
});

test('what needs the token: data always when one is set, metrics off loopback only, the page never', () => {
  const loop: AccessPolicy = { token: T, isLoopback: true };
  const lan: AccessPolicy = { token: T, isLoopback: false };
  const open: AccessPolicy = { token: null, isLoopback: true };
  assert.deepEqual([needsToken(loop, 'page'), needsToken(loop, 'data'), needsToken(loop, 'metrics')], [false, true, false]);
  assert.deepEqual([needsToken(lan, 'page'), needsToken(lan, 'data'), needsToken(lan, 'metrics')], [false, true, true]);
  assert.deepEqual([needsToken(open, 'page'), needsToken(open, 'data'), needsToken(open, 'metrics')], [false, false, false]);
  assert.deepEqual(checkAccess(lan, 'data', {}, q()), { ok: false, reason: 'missing' });
  assert.deepEqual(checkAccess(lan, 'metrics', { authorization: 'Bearer nope' }, q()), { ok: false, reason: 'invalid' });
  assert.deepEqual(checkAccess(lan, 'metrics', { authorization: `Bearer ${T}` }, q()), { ok: true });
  assert.deepEqual(checkAccess(loop, 'data', {}, q(`token=${T}`)), { ok: true });
  assert.deepEqual(checkAccess(lan, 'page', {}, q()), { ok: true });
  assert.deepEqual(checkAccess(open, 'data', {}, q()), { ok: true });
});

test('listening beyond loopback without a token is refused, with the way to make one', () => {
  assert.throws(() => assertListenAllowed({ token: null, isLoopback: false }, '0.0.0.0'), (e: unknown) => e instanceof UsageError && /lantop serve token/.test(`${e.message} ${e.nextStep ?? ''}`));
  assertListenAllowed({ token: T, isLoopback: false }, '0.0.0.0');
  assertListenAllowed({ token: null, isLoopback: true }, '127.0.0.1');
});
