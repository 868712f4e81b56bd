import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitCommandList, splitShellWords } from './shell-words.js';

test('splitShellWords handles quotes and escapes like ash', () => {
  assert.deepEqual(splitShellWords(`iptables -A T -m comment --comment "lantop down" -j RETURN`).words, ['iptables', '-A', 'T', '-m', 'comment', '--comment', 'lantop down', '-j', 'RETURN']);
  assert.deepEqual(splitShellWords(`echo 'a "b"' "c \\"d\\"" e\\ f ""`).words, ['echo', 'a "b"', 'c "d"', 'e f', '']);
  assert.equal(splitShellWords(`echo "open`).isUnterminated, true);
});

test('splitCommandList splits at unquoted ; && || only', () => {
  assert.deepEqual(splitCommandList(`iptables -N T; echo "a;b" && false || echo 'x&&y'`), [
    { text: 'iptables -N T', joiner: ';' },
    { text: ' echo "a;b" ', joiner: ';' },
    { text: ' false ', joiner: '&&' },
    { text: " echo 'x&&y'", joiner: '||' },
  ]);
});
