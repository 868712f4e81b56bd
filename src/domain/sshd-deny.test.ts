import { test } from 'node:test';
import assert from 'node:assert/strict';
import { denyLines, denyRefusal, includesDropIn, markedBlockOf, parseDenyLines, splitExpired, withDeny, BLOCK_BEGIN, BLOCK_END } from './sshd-deny.js';

const T = 1_764_800_000_000;

test('deny lines: one comment per user with its expiry, then one DenyUsers line; read back the same', () => {
  const entries = [
    { user: 'carol', untilMs: T + 3_600_000, sinceMs: T },
    { user: '_-odd-name$', untilMs: T + 60_000, sinceMs: T },
  ];
  const lines = denyLines(entries);
  assert.equal(lines.at(-1), 'DenyUsers _-odd-name$ carol');
  assert.equal(lines.filter((l) => l.startsWith('# lantop-deny ')).length, 2);
  const back = parseDenyLines(lines.join('\n') + '\n');
  assert.deepEqual(back.notes, []);
  assert.deepEqual(back.entries.map((e) => e.user).sort(), ['_-odd-name$', 'carol']);
  assert.equal(back.entries.find((e) => e.user === 'carol')!.untilMs, T + 3_600_000);
  assert.deepEqual(denyLines([]), []);
});

test('deny lines refuse a name that is not a login name (a pattern, a space, a quote)', () => {
  for (const user of ['*', 'a b', "o'neil", 'al!ce', 'root,alice', 'alice@host', 'Alice']) {
    assert.throws(() => denyLines([{ user, untilMs: T, sinceMs: T }]), TypeError, user);
  }
});

test('a hand-edited deny file: foreign lines and a missing DenyUsers name are notes, bad names are dropped', () => {
  const text = ['# lantop-deny user=alice until=1764803600 since=1764800000', '# lantop-deny user=ALICE until=1764803600 since=1764800000', 'PasswordAuthentication no', 'DenyUsers bob'].join('\n');
  const { entries, notes } = parseDenyLines(text);
  assert.deepEqual(entries, [{ user: 'alice', untilMs: 1_764_803_600_000, sinceMs: 1_764_800_000_000 }]);
  assert.equal(notes.length, 3);
});

test('withDeny replaces a user\'s deny; splitExpired splits at now', () => {
  const a = withDeny([{ user: 'alice', untilMs: T, sinceMs: T - 1 }], { user: 'alice', untilMs: T + 5, sinceMs: T });
  assert.deepEqual(a, [{ user: 'alice', untilMs: T + 5, sinceMs: T }]);
  const { left, expired } = splitExpired([...a, { user: 'bob', untilMs: T, sinceMs: T - 9 }], T);
  assert.deepEqual(left.map((e) => e.user), ['alice']);
  assert.deepEqual(expired.map((e) => e.user), ['bob']);
});

test('Include: Debian\'s first line names the drop-in; a relative glob too; after Match or another dir it does not', () => {
  assert.equal(includesDropIn('Include /etc/ssh/sshd_config.d/*.conf\nKbdInteractiveAuthentication no\n'), true);
  assert.equal(includesDropIn('  include sshd_config.d/*.conf\n'), true);
  assert.equal(includesDropIn('Include /etc/ssh/sshd_config.d/lantop-*.conf\n'), true);
  assert.equal(includesDropIn('Include /etc/ssh/other.d/*.conf\n'), false);
  assert.equal(includesDropIn('#Include /etc/ssh/sshd_config.d/*.conf\n'), false);
  assert.equal(includesDropIn('Match User bob\nInclude /etc/ssh/sshd_config.d/*.conf\n'), false);
  assert.equal(includesDropIn(''), false);
});

test('the marked block: its lines between the markers', () => {
  assert.equal(markedBlockOf(`${BLOCK_BEGIN}\nDenyUsers alice\n${BLOCK_END}\nPort 22\n`), 'DenyUsers alice');
  assert.equal(markedBlockOf('Port 22\n'), null);
});

test('never denied: lantop\'s own login user and root; a non-login name is refused with a reason', () => {
  assert.match(denyRefusal('admin', 'admin')!, /lantop logs in/);
  assert.match(denyRefusal('root', 'admin')!, /root is never denied/);
  assert.match(denyRefusal('a*', 'admin')!, /not a login name/);
  assert.equal(denyRefusal('alice', 'admin'), null);
  assert.equal(denyRefusal('alice', null), null);
});
