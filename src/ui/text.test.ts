import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeError, displayName, NO_NAME } from './text.js';
import { AuthError, RouterError, UnreachableError, EXIT } from '../errors.js';

test('displayName strips escapes and controls, cuts to the column, and names the nameless', () => {
  assert.equal(displayName('\u001b[31mevil\u001b[0m\u0007'), 'evil');
  assert.equal(displayName(null), NO_NAME);
  assert.equal(displayName('   '), NO_NAME);
  assert.equal(displayName('\u001b]0;title\u0007'), NO_NAME);
  assert.equal(displayName('x'.repeat(5000), 12), 'x'.repeat(11) + '…');
});

test('describeError keeps the message, next step and what the router said, all sanitised', () => {
  const auth = describeError(new AuthError('The router refused the password for admin.', 'Check the password and try again.'));
  assert.equal(auth.isAuth, true);
  assert.equal(auth.exitCode, EXIT.auth);
  assert.equal(auth.nextStep, 'Check the password and try again.');
  const router = describeError(new RouterError('the router refused a rule', undefined, { seen: 'acct: \u001b[2JNo such table\nline2' }));
  assert.equal(router.seen, 'acct: No such table\nline2');
  assert.equal(router.exitCode, EXIT.router);
  assert.equal(describeError(new UnreachableError('no route')).isAuth, false);
  const bug = describeError(new TypeError('x is undefined'));
  assert.equal(bug.title, 'Unexpected error');
  assert.equal(bug.exitCode, EXIT.bug);
});
