// The users poll (issue 18): the answer captured in the gateway lab split back into its sections
// (fixtures/iptables/1.8.9-legacy/users-chain-poll-answer.txt), and the log part of the command run
// for real by /bin/sh against a log that grows, ends inside a line, rotates and is truncated
// (root only: /var/log is a tmpfs of a private mount namespace, `unshare -m`).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFixture } from '../../test/fixtures.js';
import { parseAuthLog } from './parsers/auth-log.js';
import { parseSsSessions } from './parsers/ss-sessions.js';
import { parseIptablesListing } from './parsers/iptables-listing.js';
import { LogFollower, parseUsersPollAnswer, selfEndpointOf, usersPollCommand, usersPollCommands, type LogPosition, type UsersPollRequest } from './users-poll.js';

const NONCE = '0123456789ab';
const IPT = (command: string) => ({ section: 'ipt4', command: `${command} -L LANTOP_USERS` });
const IPT6 = (command: string) => ({ section: 'ipt6', command: `${command} -L LANTOP_USERS` });

describe('users poll answer', () => {
  test('the captured answer: log from byte 0, ss, ps, both listings', () => {
    const request: UsersPollRequest = { nonce: NONCE, log: { kind: 'file', path: '/var/log/auth.log', position: null }, listings: [IPT('iptables'), IPT6('ip6tables')] };
    const answer = parseUsersPollAnswer(readFixture('iptables/1.8.9-legacy/users-chain-poll-answer.txt'), request);
    assert.equal(answer.isComplete, true);
    assert.equal(answer.selfConnection, '');
    assert.deepEqual(answer.log?.position, { inode: 16638934, offset: 1563 });
    assert.equal(answer.log?.continued, '');
    const events = parseAuthLog(new LogFollower().read(answer.log!)).events;
    assert.deepEqual(events.filter((e) => e.kind === 'accepted').map((e) => [e.user, e.port]), [['alice', 37680], ['_-odd-name$', 39360]]);
    assert.equal(parseSsSessions(answer.ss).connections.length, 2);
    assert.match(answer.ps, /sshd: alice/);
    assert.ok(parseIptablesListing(answer.listings.get('ipt4')!).chains.some((c) => c.name === 'LANTOP_USERS' && c.rules.length === 4));
    assert.ok(parseIptablesListing(answer.listings.get('ipt6')!).chains.some((c) => c.name === 'LANTOP_USERS' && c.rules.length === 2));
  });

  test('a cut-off answer is incomplete; a forged marker without the nonce is text', () => {
    const request: UsersPollRequest = { nonce: NONCE, log: null, listings: [IPT('iptables')] };
    const text = `__LTUP_${NONCE}_self__\n\n__LTUP_${NONCE}_ss__\n__LTUP_ffffffffffff_ipt4__\n`;
    assert.equal(parseUsersPollAnswer(text, request).isComplete, false);
  });

  test('a shell that keeps short lines gets the poll in several, the log part whole', () => {
    const request: UsersPollRequest = { nonce: NONCE, log: { kind: 'file', path: '/var/log/secure', position: { inode: 123456789012, offset: 99999999999 } }, listings: [IPT('/usr/sbin/iptables-legacy'), IPT6('/usr/sbin/ip6tables-legacy')] };
    const lines = usersPollCommands(request, 1022);
    assert.ok(lines.length > 1 && lines.every((l) => l.length <= 1022), lines.map((l) => l.length).join(' '));
    assert.equal(lines.join('; '), usersPollCommand(request));
    assert.ok(lines.some((l) => l.includes('_i=$(stat') && l.includes('head -c "$_s"')));
    assert.deepEqual(usersPollCommands(request, 4095), [usersPollCommand(request)]);
  });

  test('self endpoint from $SSH_CONNECTION', () => {
    assert.deepEqual(selfEndpointOf('198.51.100.254 50022 198.51.100.129 22'), { ip: '198.51.100.254', port: 50022 });
    assert.equal(selfEndpointOf(''), null);
    assert.equal(selfEndpointOf('x y z w'), null);
  });

  test('only plain tokens reach the command', () => {
    assert.throws(() => usersPollCommand({ nonce: 'zz', log: null, listings: [] }), TypeError);
    assert.throws(() => usersPollCommand({ nonce: NONCE, log: { kind: 'file', path: '/etc/shadow' as never, position: null }, listings: [] }), TypeError);
    assert.throws(() => usersPollCommand({ nonce: NONCE, log: { kind: 'file', path: '/var/log/auth.log', position: { inode: -1, offset: 0 } }, listings: [] }), TypeError);
    assert.throws(() => usersPollCommand({ nonce: NONCE, log: null, listings: [{ section: 'ss', command: 'x' }] }), TypeError, 'a listing may not take a poll section');
    assert.throws(() => usersPollCommand({ nonce: NONCE, log: { kind: 'journal', cursor: "s=1;i=2'; reboot; '" }, listings: [] }), TypeError, 'a hostile cursor never reaches the command');
  });
});

describe('LogFollower', () => {
  test('an unfinished line waits for the rest; a restart ends it', () => {
    const f = new LogFollower();
    assert.equal(f.push('a\nb'), 'a\n');
    assert.equal(f.push('c\nd'), 'bc\n');
    assert.equal(f.read({ continued: '', restarted: 'e\n' }), 'd\ne\n');
  });
});

const unshareSkip = process.getuid?.() !== 0 ? 'needs root (unshare -m)' : spawnSync('unshare', ['-m', 'true']).status !== 0 ? 'unshare -m does not work here' : false;

describe('the log part of the poll in a real shell', { skip: unshareSkip }, () => {
  test('grows, ends inside a line, rotates (the rest of auth.log.1, then the new file), is truncated', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lantop-users-poll-'));
    try {
      const script = join(dir, 'script.sh');
      const follower = new LogFollower();
      let position: LogPosition | null = null;
      // Each step: shell that changes /var/log (a tmpfs in the private namespace), then one poll.
      const state = join(dir, 'log');
      const poll = (change: string): string => {
        const request: UsersPollRequest = { nonce: NONCE, log: { kind: 'file', path: '/var/log/auth.log', position }, listings: [{ section: 'ipt4', command: 'true' }] };
        writeFileSync(script, `set -e\nmount --bind ${state} /var/log\ncd /var/log\n${change}\nset +e\n${usersPollCommand(request)}\n`);
        const r = spawnSync('unshare', ['-m', 'sh', script], { encoding: 'utf8' });
        assert.equal(r.status, 0, r.stderr);
        const answer = parseUsersPollAnswer(r.stdout, request);
        assert.equal(answer.isComplete, true, r.stdout);
        position = answer.log!.position;
        return follower.read(answer.log!);
      };
      spawnSync('mkdir', ['-p', state]);
      assert.equal(poll("printf 'one\\ntwo\\n' > auth.log"), 'one\ntwo\n');
      assert.equal(poll("printf 'thr' >> auth.log"), '');
      assert.equal(poll("printf 'ee\\nfour\\n' >> auth.log"), 'three\nfour\n');
      assert.equal(poll('true'), '');
      // logrotate: rename, a new file; the old one gets a last line before the HUP.
      assert.equal(poll("mv auth.log auth.log.1; printf 'five\\n' >> auth.log.1; printf 'six\\n' > auth.log"), 'five\nsix\n');
      assert.equal(poll("printf 'seven\\n' >> auth.log"), 'seven\n');
      // copytruncate: the same file, shorter: read from 0.
      assert.equal(poll("printf 'x\\n' > auth.log"), 'x\n');
      // Gone: nothing read, the position forgotten; back: read from 0.
      assert.equal(poll('rm auth.log'), '');
      assert.equal(position, null);
      assert.equal(poll("printf 'eight\\n' > auth.log"), 'eight\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
