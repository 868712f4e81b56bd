// `--mode users` at the entry point (issue 18): which commands have a users-mode version, which
// run as they are, which say they are not there yet; the mode from --mode or LANTOP_MODE.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../errors.js';
import { resolveMode } from '../config/resolve.js';
import { commandWords, usersModeAction } from './users-mode-gate.js';

const users = { flags: { mode: 'users' }, env: {} };

describe('users mode gate', () => {
  test('resolveMode: flag, environment, default; anything else is a usage error', () => {
    assert.equal(resolveMode({}, {}), 'devices');
    assert.equal(resolveMode({}, { LANTOP_MODE: 'users' }), 'users');
    assert.equal(resolveMode({ mode: 'devices' }, { LANTOP_MODE: 'users' }), 'devices');
    assert.throws(() => resolveMode({}, { LANTOP_MODE: 'people' }), UsageError);
  });

  test('usage, setup, teardown and report have users versions; config and completion run as they are', () => {
    for (const c of ['usage', 'setup', 'teardown', 'report', 'serve', 'block', 'unblock']) assert.equal(typeof usersModeAction(users, [c]), 'function');
    for (const c of ['quota add', 'quota edit', 'quota list', 'quota remove', 'person add', 'person list', 'person remove']) assert.equal(typeof usersModeAction(users, c.split(' ')), 'function', c);
    assert.equal(typeof usersModeAction(users, []), 'function', 'the app');
    assert.equal(usersModeAction(users, ['config', 'get']), null);
    assert.equal(usersModeAction(users, ['schedule', 'list']), null, 'reports.json only');
    assert.equal(typeof usersModeAction(users, ['schedule', 'send']), 'function');
    assert.equal(usersModeAction(users, ['completion']), null);
    assert.equal(usersModeAction(users, ['serve', 'token']), null);
    assert.equal(usersModeAction({ flags: {}, env: {} }, ['report']), null);
  });

  test('every other command: not yet in users mode', () => {
    for (const words of [['hosts'], ['flush'], ['counter', 'add'], ['doctor'], ['demo'], ['top']]) {
      assert.throws(() => usersModeAction(users, words), (e: unknown) => e instanceof UsageError && /not yet in users mode/.test(e.message), words.join(' '));
    }
  });

  test('commandWords walks up to the program', () => {
    const program = { name: () => 'lantop', parent: null };
    const config = { name: () => 'config', parent: program };
    assert.deepEqual(commandWords({ name: () => 'get', parent: config }), ['config', 'get']);
    assert.deepEqual(commandWords(program), []);
  });
});
