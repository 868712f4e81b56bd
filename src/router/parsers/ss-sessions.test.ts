import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parsePsSshdOwners, parseSsSessions, parseWho } from './ss-sessions.js';
import { parseAuthLog } from './auth-log.js';
import { SshSessionTracker } from '../../domain/ssh-sessions.js';
import { readFixture } from '../../../test/fixtures.js';

describe('parseSsSessions', () => {
  test('real capture (ss -tnp, Dropbear): the server side only, IPv4 and IPv6', () => {
    const report = parseSsSessions(readFixture('linux-auth/lantop-capture/ss-tnp.txt'));
    assert.deepEqual(report.connections, [
      { daemon: 'dropbear', pids: [27814], localIp: '127.0.0.1', localPort: 22, peerIp: '127.0.0.1', peerPort: 56992 },
      { daemon: 'dropbear', pids: [27839], localIp: '::1', localPort: 22, peerIp: '::1', peerPort: 40290 },
    ]);
    assert.deepEqual(report.skipped, []);
  });

  test('real capture (ss -tnpH state established): no header, no State column', () => {
    const report = parseSsSessions(readFixture('linux-auth/lantop-capture/ss-tnpH-established-sport-22.txt'));
    assert.deepEqual(report.connections.map((c) => [c.daemon, c.pids, c.peerIp, c.peerPort]), [
      ['dropbear', [27814], '127.0.0.1', 56992],
      ['dropbear', [27839], '::1', 40290],
    ]);
    assert.deepEqual(report.skipped, []);
  });

  test('OpenSSH: two PIDs per socket, IPv4-mapped as IPv4, forwards kept with their local port, the rest left out', () => {
    const report = parseSsSessions(readFixture('linux-auth/reconstructed/ss-openssh.txt'));
    assert.deepEqual(report.connections.map((c) => [c.daemon, c.pids, `${c.localIp}:${c.localPort}`, `${c.peerIp}:${c.peerPort}`]), [
      ['sshd', [1201, 1205], '192.0.2.1:22', '192.0.2.7:50022'],
      ['sshd', [1250, 1255], '2001:db8:0:1::1:22', '2001:db8:0:1::20:41000'],
      ['sshd', [2346, 2350], '192.0.2.1:22', '198.51.100.20:40022'],
      ['sshd', [1205], '192.0.2.1:47810', '203.0.113.80:443'],
      ['sshd', [1260], '192.0.2.1:22', '198.51.100.9:33100'],
    ]);
    assert.deepEqual(report.skipped, []);
  });

  test('unreadable rows are reported; hostile process names and zones never become sessions', () => {
    const text = [
      'ESTAB 0 0 192.0.2.1:22 192.0.2.9:1 users:(("ssh d",pid=5,fd=4))',
      'ESTAB 0 0 192.0.2.1:22 192.0.2.9:2 users:(("sshd\\",pid=6,fd=4),("x",pid=7,fd=1))',
      'ESTAB 0 0 192.0.2.1:22 192.0.2.9:3 users:(("sshd",pid=0,fd=4))',
      'ESTAB 0 0 192.0.2.1:22 192.0.2.300:4 users:(("sshd",pid=8,fd=4))',
      'ESTAB 0 0 2001:db8::1:22 2001:db8::9:5 users:(("sshd",pid=9,fd=4))',
      'ESTAB x 0 192.0.2.1:22 192.0.2.9:6 users:(("sshd",pid=10,fd=4))',
      'garbage',
    ].join('\n');
    const report = parseSsSessions(text);
    assert.deepEqual(report.connections.map((c) => [c.pids, c.peerIp, c.peerPort]), [[[9], '2001:db8::9', 5]]);
    assert.deepEqual(report.skipped, ['ESTAB x 0 192.0.2.1:22 192.0.2.9:6 users:(("sshd",pid=10,fd=4))', 'garbage']);
  });
});

describe('parseWho and parsePsSshdOwners', () => {
  test('real who and who -u', () => {
    assert.deepEqual(parseWho(readFixture('linux-auth/lantop-capture/who.txt')), { logins: [{ user: 'root', tty: 'pts/2', host: '127.0.0.1', pid: null }], skipped: [] });
    assert.deepEqual(parseWho(readFixture('linux-auth/lantop-capture/who-u.txt')), { logins: [{ user: 'root', tty: 'pts/2', host: '127.0.0.1', pid: 27815 }], skipped: [] });
  });

  test('who: displays and names are no address; hostile users skipped', () => {
    const report = parseWho([
      'alice    tty7         2026-12-04 09:00 (:0)',
      'bob      pts/1        Dec  4 10:00 (gateway.example)',
      'carol    pts/3        2026-12-04 11:00 old          812 (::ffff:198.51.100.20)',
      '$(id)    pts/4        2026-12-04 11:00 (198.51.100.1)',
    ].join('\n'));
    assert.deepEqual(report.logins, [
      { user: 'alice', tty: 'tty7', host: null, pid: null },
      { user: 'bob', tty: 'pts/1', host: null, pid: null },
      { user: 'carol', tty: 'pts/3', host: '198.51.100.20', pid: 812 },
    ]);
    assert.equal(report.skipped.length, 1);
  });

  test('ps titles: monitor and session children; listener, unknown and forged titles passed over', () => {
    assert.deepEqual(parsePsSshdOwners(readFixture('linux-auth/reconstructed/ps-sshd.txt')).owners, [
      { pid: 1201, user: 'alice', isMonitor: true },
      { pid: 1205, user: 'alice', isMonitor: false },
      { pid: 1250, user: 'bob', isMonitor: true },
      { pid: 1255, user: 'bob', isMonitor: false },
      { pid: 2346, user: 'dave', isMonitor: true },
      { pid: 2350, user: 'dave', isMonitor: false },
      { pid: 1300, user: 'mallory', isMonitor: true },
      { pid: 1302, user: 'eve', isMonitor: false },
    ]);
  });

  test('never throws', () => {
    const pieces = fc.constantFrom('ESTAB', ' ', '0', '[::1]:22', '127.0.0.1:22', ' users:((', '("sshd",pid=1,fd=4)', ',', '))', '\n', 'root', 'pts/1', '2026-12-04 18:28', '(', ')', ' sshd: ', ' [priv]', '"', '\\');
    fc.assert(fc.property(fc.array(pieces, { maxLength: 40 }).map((a) => a.join('')), (s) => {
      parseSsSessions(s);
      parseWho(s);
      parsePsSshdOwners(s);
    }), { numRuns: 300 });
    for (const odd of [undefined, null, 5] as unknown[]) {
      assert.deepEqual(parseSsSessions(odd as string), { connections: [], skipped: [] });
      assert.deepEqual(parseWho(odd as string), { logins: [], skipped: [] });
    }
  });
});

describe('from the gateway\'s text to the sessions that need rules', () => {
  test('RHEL 9 log: two overlapping sessions open and close', () => {
    const tracker = new SshSessionTracker();
    const events = parseAuthLog(readFixture('linux-auth/rhel9-secure/secure.txt')).events;
    tracker.apply(events.slice(0, 2), 1000);
    assert.deepEqual(tracker.sessions().map((s) => [s.user, s.pid, s.clientIp, s.clientPort]), [
      ['apprentice', 7345, '10.1.30.150', 47376],
      ['apprentice', 7530, '10.1.30.150', 54066],
    ]);
    const changes = tracker.apply(events.slice(2), 2000);
    assert.deepEqual(changes.removed.map((r) => [r.session.pid, r.reason]), [[7530, 'disconnected'], [7345, 'disconnected']]);
    assert.deepEqual(tracker.sessions(), []);
  });

  test('OpenSSH after a restart: the log is gone, ss and ps titles bring the sessions back', () => {
    const tracker = new SshSessionTracker();
    const live = parseSsSessions(readFixture('linux-auth/reconstructed/ss-openssh.txt')).connections;
    const owners = parsePsSshdOwners(readFixture('linux-auth/reconstructed/ps-sshd.txt')).owners;
    const result = tracker.reconcile(live, 5000, { processOwners: owners });
    assert.deepEqual(result.added.map((s) => [s.user, s.pid, s.clientIp, s.clientPort, s.daemon]), [
      ['alice', 1201, '192.0.2.7', 50022, 'sshd'],
      ['bob', 1250, '2001:db8:0:1::20', 41000, 'sshd'],
      ['dave', 2346, '198.51.100.20', 40022, 'sshd'],
    ]);
    // The forward (local port 47810) is no session; the preauth connection (`unknown [priv]`) has no user.
    assert.deepEqual(result.unattributed.map((c) => c.pids), [[1260]]);
  });

  test('Dropbear capture: who names the pty session\'s user by address', () => {
    const tracker = new SshSessionTracker();
    const live = parseSsSessions(readFixture('linux-auth/lantop-capture/ss-tnp.txt')).connections;
    const logins = parseWho(readFixture('linux-auth/lantop-capture/who-u.txt')).logins;
    const result = tracker.reconcile(live, 0, { logins });
    assert.deepEqual(result.added.map((s) => [s.user, s.pid, s.clientIp, s.clientPort, s.daemon]), [['root', 27814, '127.0.0.1', 56992, 'dropbear']]);
    assert.deepEqual(result.unattributed.map((c) => c.pids), [[27839]]); // the command session has no pty
  });
});
