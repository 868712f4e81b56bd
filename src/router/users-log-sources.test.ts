// Users mode's log sources (issue 18): the probe, the journal read by cursor (a hostile cursor
// refused), the ring buffer read whole (new lines after the last seen, the ring wrapping), netstat
// where there is no ss, and the poll's sections for each — on real captures (fixtures/linux-auth:
// busybox-capture is BusyBox syslogd/logread and netstat with Dropbear sessions) and, for the shell
// parts, run for real by BusyBox sh with a PATH that has no ss and a `logread` that prints a file.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFixture } from '../../test/fixtures.js';
import { parseAuthLog } from './parsers/auth-log.js';
import { parseNetstatSessions } from './parsers/netstat-sessions.js';
import { isJournalCursor, journalCommand, logSourceProbe, parseLogSourceProbe, readJournalAnswer, RingBufferFollower } from './users-log-sources.js';
import { parseUsersPollAnswer, usersPollCommand, type UsersPollRequest } from './users-poll.js';

const NONCE = '0123456789ab';
// sd_journal_get_cursor's form, "s=%s;i=%llx;b=%s;m=%llx;t=%llx;x=%llx" (systemd src/libsystemd/sd-journal/sd-journal.c).
const CURSOR = 's=739ad463348b4ceca5a9e69c95a3c93f;i=4ece7;b=6c7c6013a8b843ba9ac3b0e8ca5bd5ad;m=139e7d3d1a;t=56d5bd4db3d9f;x=6b3c8f8d21e1bd9c';
const LOGREAD = readFixture('linux-auth/busybox-capture/logread.txt');

describe('log source probe', () => {
  test('a file before the journal before logread; none: null', () => {
    const probe = logSourceProbe();
    assert.ok(probe.includes('[ -r /var/log/auth.log ] && echo "LOG=/var/log/auth.log"') && probe.includes('command -v journalctl') && probe.includes('command -v logread'));
    assert.deepEqual(parseLogSourceProbe('LOG=/var/log/secure\nLOG=journal\n'), { kind: 'file', path: '/var/log/secure' });
    assert.deepEqual(parseLogSourceProbe('LOG=journal\nLOG=logread\n'), { kind: 'journal' });
    assert.deepEqual(parseLogSourceProbe('LOG=logread\n'), { kind: 'logread' });
    assert.equal(parseLogSourceProbe('LOG=/etc/shadow\n'), null);
  });
});

describe('journal by cursor', () => {
  test('first read: the last lines; then after the cursor, single-quoted', () => {
    assert.equal(journalCommand(null), 'journalctl -u ssh -u sshd -u dropbear -o short --no-pager --show-cursor -n 5000 2>&1');
    assert.equal(journalCommand(CURSOR), `journalctl -u ssh -u sshd -u dropbear -o short --no-pager --show-cursor '--after-cursor=${CURSOR}' 2>&1`);
  });

  test('hostile cursors never reach a command', () => {
    for (const bad of [`${CURSOR}'; reboot; '`, 's=1;i=2 x', 's=$(id)', 'S=ABC', '', `${CURSOR};`, 's=1\ni=2']) {
      assert.equal(isJournalCursor(bad), false, bad);
      assert.throws(() => journalCommand(bad), TypeError, bad);
    }
  });

  test('the answer: entries and the cursor moved on; no entries: the cursor stays; a bad cursor line is refused', () => {
    const journal = readFixture('linux-auth/reconstructed/journalctl-u-ssh-short.txt');
    const read = readJournalAnswer(`${journal}-- cursor: ${CURSOR}\n`);
    assert.equal(read.cursor, CURSOR);
    assert.equal(read.isRefused, false);
    assert.ok(!read.text.includes('-- cursor:'));
    assert.deepEqual(parseAuthLog(read.text).events.filter((e) => e.kind === 'accepted').map((e) => e.user), ['carol', 'dave']);
    assert.deepEqual(readJournalAnswer('-- No entries --\n'), { text: '-- No entries --\n', cursor: null, isRefused: false });
    const hostile = readJournalAnswer(`-- cursor: s=1;i=2';reboot\n`);
    assert.equal(hostile.cursor, null);
    assert.equal(hostile.isRefused, true);
    // A message line cannot pass for the cursor line: journalctl prefixes every entry with its header.
    assert.equal(readJournalAnswer(`Jan 02 03:04:05 gw sshd[1]: -- cursor: ${CURSOR}\n`).cursor, null);
  });
});

describe('ring buffer read whole', () => {
  const lines = LOGREAD.split('\n').filter((l) => l !== '');

  test('first read: everything; then only the lines after the last ones seen', () => {
    const ring = new RingBufferFollower();
    const first = ring.read(`${lines.slice(0, 4).join('\n')}\n`);
    assert.equal(first.text, `${lines.slice(0, 4).join('\n')}\n`);
    assert.deepEqual(ring.read(`${lines.slice(0, 4).join('\n')}\n`), { text: '', isWrapped: false });
    const next = ring.read(`${lines.join('\n')}\n`);
    assert.equal(next.text, `${lines.slice(4).join('\n')}\n`);
    assert.deepEqual(parseAuthLog(next.text).events.map((e) => [e.kind, e.user, e.port]), [['accepted', 'root', 49628], ['closed', 'root', 33438], ['closed', 'root', 49628]]);
  });

  test('the ring wraps: old lines gone, the last seen still there; then gone too: the whole buffer, said so', () => {
    const ring = new RingBufferFollower();
    ring.read(`${lines.slice(0, 5).join('\n')}\n`);
    assert.deepEqual(ring.read(`${lines.slice(3, 7).join('\n')}\n`), { text: `${lines.slice(5, 7).join('\n')}\n`, isWrapped: false });
    assert.deepEqual(ring.read(`${lines.slice(7).join('\n')}\n`), { text: `${lines.slice(7).join('\n')}\n`, isWrapped: true });
    assert.deepEqual(ring.read(''), { text: '', isWrapped: false }, 'an empty buffer: nothing, no warning');
  });

  test('the same line twice (two polls\' worth of identical lines): the anchor is the last run', () => {
    const ring = new RingBufferFollower();
    ring.read('a\nb\nc\n');
    assert.equal(ring.read('a\nb\nc\nb\nc\nd\n').text, 'b\nc\nd\n');
  });
});

describe('netstat where there is no ss', () => {
  test('BusyBox netstat -tn (no program column): every established socket, the poller keeps the SSH port', () => {
    const report = parseNetstatSessions(readFixture('linux-auth/busybox-capture/netstat-tn.txt'));
    assert.deepEqual(report.skipped, []);
    assert.deepEqual(report.connections.filter((c) => c.localPort === 22).map((c) => [c.peerIp, c.peerPort, c.daemon]), [['127.0.0.1', 33438, 'dropbear'], ['::1', 49628, 'dropbear']]);
  });

  test('with -p: BusyBox and net-tools program columns; other programs left out', () => {
    const text = [
      'Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name',
      'tcp        0     52 192.168.1.1:22          192.168.1.100:50110     ESTABLISHED 1234/dropbear',
      'tcp        0      0 ::ffff:192.168.1.1:22   ::ffff:192.168.1.100:50111 ESTABLISHED 1240/dropbear',
      'tcp6       0      0 2001:db8::1:22          2001:db8::c:52000       ESTABLISHED 2345/sshd: carol [pr',
      'tcp        0      0 192.168.1.1:80          192.168.1.100:50200     ESTABLISHED 99/uhttpd',
      'tcp        0      0 192.168.1.1:22          192.168.1.100:50300     TIME_WAIT   -',
    ].join('\n');
    assert.deepEqual(parseNetstatSessions(text).connections.map((c) => [c.daemon, c.pids, c.peerIp, c.peerPort]), [
      ['dropbear', [1234], '192.168.1.100', 50110],
      ['dropbear', [1240], '192.168.1.100', 50111],
      ['sshd', [2345], '2001:db8::c', 52000],
    ]);
  });
});

describe('poll sections of the log sources', () => {
  const request = (log: UsersPollRequest['log']): UsersPollRequest => ({ nonce: NONCE, log, listings: [{ section: 'nft', command: 'true' }] });

  test('journal: its section, the cursor read back; a poll without it is incomplete', () => {
    const r = request({ kind: 'journal', cursor: CURSOR });
    assert.ok(usersPollCommand(r).includes(`echo "__LT""UP_${NONCE}_jrnl__"; journalctl -u ssh`));
    const m = (name: string) => `__LTUP_${NONCE}_${name}__\n`;
    const text = `${m('self')}\n${m('jrnl')}Jan 02 03:10:41 gw sshd-session[2345]: Accepted publickey for carol from 2001:db8::c port 52000 ssh2\n-- cursor: ${CURSOR}\n${m('ss')}${m('ps')}${m('nft')}${m('end')}`;
    const answer = parseUsersPollAnswer(text, r);
    assert.equal(answer.isComplete, true);
    assert.equal(answer.journal?.cursor, CURSOR);
    assert.match(answer.journal!.text, /Accepted publickey for carol/);
    assert.equal(parseUsersPollAnswer(text.replace(m('jrnl'), ''), r).isComplete, false);
  });

  test('logread and netstat: their sections', () => {
    const r = request({ kind: 'logread' });
    assert.ok(usersPollCommand(r).includes('logread 2>&1 | grep -e dropbear -e sshd'));
    const m = (name: string) => `__LTUP_${NONCE}_${name}__\n`;
    const answer = parseUsersPollAnswer(`${m('self')}\n${m('logrd')}${LOGREAD}${m('ss')}${m('netstat')}tcp 0 0 10.0.0.1:22 10.0.0.2:5000 ESTABLISHED\n${m('ps')}${m('nft')}${m('end')}`, r);
    assert.equal(answer.isComplete, true);
    assert.equal(answer.logread, LOGREAD);
    assert.equal(answer.ss, '');
    assert.match(answer.netstat ?? '', /10\.0\.0\.2:5000/);
  });
});

describe('the log and socket parts in a real BusyBox shell without ss', { skip: spawnSync('sh', ['-c', 'command -v busybox']).status !== 0 ? 'no busybox' : false }, () => {
  test('logread through grep, netstat -tn after -tnp fails', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lantop-users-log-'));
    try {
      const bin = join(dir, 'bin');
      spawnSync('mkdir', [bin]);
      const busybox = spawnSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).stdout.trim();
      for (const applet of ['grep', 'netstat', 'ps', 'cat', 'true']) symlinkSync(busybox, join(bin, applet));
      writeFileSync(join(dir, 'ring'), `Dec  4 21:51:50 vm syslog.info syslogd started: BusyBox v1.35.0\n${LOGREAD}`);
      const r = request({ kind: 'logread' });
      const script = `logread() { cat ${join(dir, 'ring')}; }\n${usersPollCommand(r)}\n`;
      const run = spawnSync(busybox, ['sh', '-c', script], { encoding: 'utf8', env: { PATH: bin }, timeout: 10_000 });
      const answer = parseUsersPollAnswer(run.stdout, r);
      assert.equal(answer.isComplete, true, run.stdout + run.stderr);
      assert.equal(answer.logread, LOGREAD.split('\n').filter((l) => /dropbear|sshd/.test(l)).join('\n') + '\n');
      assert.notEqual(answer.netstat, null, 'no ss: netstat answered');
      assert.doesNotMatch(answer.netstat!, /invalid option/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  function request(log: UsersPollRequest['log']): UsersPollRequest {
    return { nonce: NONCE, log, listings: [{ section: 'nft', command: 'true' }] };
  }
});
