import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalLoginName, loginNameProblem, MAX_LOGIN_NAME_LENGTH } from './login-name.js';

test('accepts the portable Debian form and nothing else, with the reason', () => {
  for (const good of ['root', 'alice', '_apt', 'www-data', 'user_1', 'host$', 'a', 'x'.repeat(MAX_LOGIN_NAME_LENGTH)]) {
    assert.equal(canonicalLoginName(good), good, good);
  }
  const cases: Array<[unknown, string]> = [
    ['', 'empty'], [null, 'empty'], [42, 'empty'],
    ['x'.repeat(MAX_LOGIN_NAME_LENGTH + 1), 'too long'],
    ['Root', 'not portable'], ['-x', 'not portable'], ['1abc', 'not portable'], ['a b', 'not portable'],
    ['$(reboot)', 'not portable'], ['a;id', 'not portable'], ['"q"', 'not portable'], ["o'neil", 'not portable'],
    ['a$b', 'not portable'], ['a$$', 'not portable'], ['alice\n', 'not portable'], ['é', 'not portable'], ['a.b', 'not portable'],
  ];
  for (const [bad, reason] of cases) {
    assert.equal(canonicalLoginName(bad), null, String(bad));
    assert.equal(loginNameProblem(bad), reason, String(bad));
  }
});
