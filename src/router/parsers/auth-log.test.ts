import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseAuthLog, parseAuthLogLine } from './auth-log.js';
import { readFixture } from '../../../test/fixtures.js';

type Brief = [string, string, number, string | null, string | null, number | null];
function brief(text: string): Brief[] {
  return parseAuthLog(text).events.map((e) => [e.kind, e.daemon, e.pid, e.user, e.ip, e.port]);
}

describe('OpenSSH, published and reconstructed', () => {
  test('/var/log/secure on CentOS Stream 9 (sshd-session): monitor and child PIDs', () => {
    const report = parseAuthLog(readFixture('linux-auth/rhel9-secure/secure.txt'));
    assert.deepEqual(report.events.map((e) => [e.kind, e.daemon, e.pid, e.user, e.ip, e.port]), [
      ['accepted', 'sshd', 7345, 'apprentice', '10.1.30.150', 47376],
      ['accepted', 'sshd', 7530, 'apprentice', '10.1.30.150', 54066],
      ['disconnected', 'sshd', 7538, null, '10.1.30.150', 54066],
      ['disconnected', 'sshd', 7538, 'apprentice', '10.1.30.150', 54066],
      ['closed', 'sshd', 7530, 'apprentice', null, null],
      ['disconnected', 'sshd', 7367, null, '10.1.30.150', 47376],
      ['disconnected', 'sshd', 7367, 'apprentice', '10.1.30.150', 47376],
      ['closed', 'sshd', 7345, 'apprentice', null, null],
    ]);
    assert.deepEqual(report.skipped, []);
    assert.equal(report.ignored, 3); // two PAM opens and pam_sss
    assert.equal(report.events[0]!.time, 'Nov  8 18:24:06');
    assert.equal(report.events[0]!.timeMs, null); // no year, no zone
  });

  test('journalctl -o short (Proxmox): a logout', () => {
    assert.deepEqual(brief(readFixture('linux-auth/proxmox-crowdsec-177/journal.txt')), [
      ['disconnected', 'sshd', 36002, null, '10.11.12.13', 17534],
      ['disconnected', 'sshd', 36002, 'dani', '10.11.12.13', 17534],
      ['closed', 'sshd', 35968, 'dani', null, null],
    ]);
  });

  test('password guessing on an Internet-facing server yields no session', () => {
    const report = parseAuthLog(readFixture('linux-auth/plesk-invalid-users/auth.log'));
    assert.deepEqual(report.events, []);
    assert.deepEqual(report.skipped, []);
    assert.equal(report.ignored, 11);
  });

  test('rsyslog RFC 3339 (Debian 12): microseconds, zones, IPv6, timeout', () => {
    const report = parseAuthLog(readFixture('linux-auth/reconstructed/debian12-rfc3339-auth.log'));
    assert.deepEqual(report.events.map((e) => [e.kind, e.pid, e.user, e.ip, e.port, e.timeMs]), [
      ['accepted', 1201, 'alice', '192.0.2.7', 50022, Date.UTC(2024, 0, 2, 3, 4, 5, 123)],
      ['accepted', 1250, 'bob', '2001:db8:0:1::20', 41000, Date.UTC(2024, 0, 2, 3, 5, 10, 400)],
      ['disconnected', 1205, null, '192.0.2.7', 50022, Date.UTC(2024, 0, 2, 3, 20, 11, 777)],
      ['disconnected', 1205, 'alice', '192.0.2.7', 50022, Date.UTC(2024, 0, 2, 3, 20, 11, 778)],
      ['closed', 1201, 'alice', null, null, Date.UTC(2024, 0, 2, 3, 20, 11, 790)],
      ['disconnected', 1250, 'bob', '2001:db8:0:1::20', 41000, Date.UTC(2024, 0, 2, 3, 0, 0, 0)],
      ['closed', 1250, 'bob', null, null, Date.UTC(2024, 0, 2, 3, 0, 0, 500)],
    ]);
    assert.equal(report.events[0]!.time, '2024-01-02T03:04:05.123456+00:00');
  });

  test('journalctl -u ssh: sshd-session, IPv4-mapped client as IPv4, Partial is no session, short-iso', () => {
    assert.deepEqual(brief(readFixture('linux-auth/reconstructed/journalctl-u-ssh-short.txt')), [
      ['accepted', 'sshd', 2345, 'carol', '2001:db8::c', 52000],
      ['accepted', 'sshd', 2346, 'dave', '198.51.100.20', 40022],
      ['disconnected', 'sshd', 2351, 'carol', '2001:db8::c', 52000],
      ['closed', 'sshd', 2345, 'carol', null, null],
      ['disconnected', 'sshd', 2346, null, '198.51.100.20', 40022],
    ]);
    assert.equal(parseAuthLog(readFixture('linux-auth/reconstructed/journalctl-u-ssh-short.txt')).events[4]!.timeMs, Date.UTC(2024, 0, 2, 3, 16));
  });
});

describe('other sshd lines and headers', () => {
  test('verbose and partial lines are no session; other programs are ignored', () => {
    for (const line of [
      'Jan  2 03:10:41 gw sshd[1]: Accepted key ED25519 SHA256:8wqB0cDgDQnMmtKHi9JXodJU2qAr09SXQvTXaL3i5Jw found at /home/alice/.ssh/authorized_keys:1',
      'Jan  2 03:10:41 gw sshd[1]: Accepted certificate ID "alice" (serial 1) signed by ED25519 CA SHA256:x via /etc/ssh/ca',
      'Jan  2 03:10:41 gw sshd[1]: Postponed keyboard-interactive for alice from 192.0.2.7 port 1 ssh2 [preauth]',
      'Jan  2 03:10:41 gw sshd[1]: Failed password for alice from 192.0.2.7 port 1 ssh2',
      'Jan  2 03:10:41 gw sshd[1]: pam_unix(sshd:session): session opened for user alice(uid=1001) by (uid=0)',
      'Jan  2 03:10:41 gw sshd[1]: Connection closed by 192.0.2.7 port 1 [preauth]',
      'Jan  2 03:10:41 gw su[1]: pam_unix(su:session): session closed for user root',
      'Jan  2 03:10:41 gw CRON[1]: pam_unix(cron:session): session closed for user root',
      '-- No entries --',
    ]) assert.deepEqual(parseAuthLogLine(line), { kind: 'ignored' }, line);
  });

  test('a certificate login: the key text after `ssh2: ` cannot move the user or the address', () => {
    const r = parseAuthLogLine('Jan  2 03:10:41 gw sshd[7]: Accepted publickey for alice from 192.0.2.7 port 50000 ssh2: ED25519-CERT SHA256:x ID bob from 203.0.113.1 port 22 ssh2 (serial 1) CA ED25519 SHA256:y');
    assert.equal(r.kind, 'event');
    if (r.kind === 'event') assert.deepEqual([r.event.user, r.event.ip, r.event.port], ['alice', '192.0.2.7', 50000]);
  });

  test('a syslogd that writes no host, a bare `sshd[PID]: ` line, a full path as the tag', () => {
    for (const line of [
      'Jan  2 03:10:41 sshd[7]: Disconnected from user alice 192.0.2.7 port 50000',
      'sshd[7]: Disconnected from user alice 192.0.2.7 port 50000',
      'Jan  2 03:10:41 gw /usr/sbin/sshd[7]: Disconnected from user alice 192.0.2.7 port 50000',
    ]) {
      const r = parseAuthLogLine(line);
      assert.equal(r.kind, 'event', line);
      if (r.kind === 'event') assert.deepEqual([r.event.kind, r.event.pid, r.event.user], ['disconnected', 7, 'alice']);
    }
  });
});

describe('Dropbear', () => {
  test('real capture: dropbear -E, IPv6 without brackets', () => {
    assert.deepEqual(brief(readFixture('linux-auth/lantop-capture/dropbear-E.log')), [
      ['accepted', 'dropbear', 27814, 'root', '127.0.0.1', 56992],
      ['accepted', 'dropbear', 27839, 'root', '::1', 40290],
      ['closed', 'dropbear', 27814, 'root', '127.0.0.1', 56992],
      ['closed', 'dropbear', 27839, 'root', '::1', 40290],
    ]);
  });

  test('BusyBox syslogd with the facility; 2022+ key type; pre-2020 Exit without address', () => {
    assert.deepEqual(brief(readFixture('linux-auth/dropbear-published/alpine-busybox-syslog.txt')), [
      ['accepted', 'dropbear', 2300, 'root', '192.168.121.1', 47834],
      ['closed', 'dropbear', 2300, 'root', '192.168.121.1', 47834],
      ['accepted', 'dropbear', 2634, 'root', '192.168.121.1', 48576],
    ]);
    assert.deepEqual(brief(readFixture('linux-auth/dropbear-published/nethsecurity-pubkey-type.txt')), [
      ['accepted', 'dropbear', 8098, 'root', '192.168.100.238', 37350],
      ['closed', 'dropbear', 8098, 'root', '192.168.100.238', 37350],
      ['accepted', 'dropbear', 8100, 'root', '192.168.100.238', 37356],
      ['closed', 'dropbear', 8100, 'root', '192.168.100.238', 37356],
    ]);
    assert.deepEqual(brief(readFixture('linux-auth/dropbear-published/unifi-old-formats.txt')), [
      ['accepted', 'dropbear', 16421, 'root', '127.0.0.1', 35508],
      ['closed', 'dropbear', 16421, 'root', null, null],
    ]);
  });

  test('journal with PAM and unbracketed IPv4-mapped addresses', () => {
    assert.deepEqual(brief(readFixture('linux-auth/dropbear-published/journal-pam-ipv4-mapped.txt')), [
      ['accepted', 'dropbear', 26880, 'root', '10.0.0.100', 59858],
      ['closed', 'dropbear', 26880, 'root', '10.0.0.100', 59858],
      ['accepted', 'dropbear', 28822, 'root', '10.0.0.100', 60611],
      ['closed', 'dropbear', 28822, 'root', '10.0.0.100', 60611],
    ]);
  });

  test('OpenWrt logread: failed and preauth connections only', () => {
    const report = parseAuthLog(readFixture('linux-auth/dropbear-published/openwrt-logread.txt'));
    assert.deepEqual(report.events, []);
    assert.deepEqual(report.skipped, []);
  });

  test('a bracketed IPv6 address (Dropbear after the brackets came in)', () => {
    const r = parseAuthLogLine("Mon Jan  1 00:00:00 2024 authpriv.notice dropbear[9]: Password auth succeeded for 'alice' from [2001:db8::5]:40000");
    assert.equal(r.kind, 'event');
    if (r.kind === 'event') assert.deepEqual([r.event.ip, r.event.port], ['2001:db8::5', 40000]);
  });
});

describe('hostile lines', () => {
  const report = parseAuthLog(readFixture('linux-auth/reconstructed/hostile.log'));

  test('only the one honest session line counts', () => {
    assert.deepEqual(report.events.map((e) => [e.kind, e.pid, e.user, e.ip, e.port]), [['accepted', 3023, 'eve', '198.51.100.80', 40023]]);
    // Nothing from the injected text reaches an event.
    for (const e of report.events) assert.notEqual(e.ip, '203.0.113.66');
  });

  test('every refused session line says why', () => {
    assert.deepEqual(report.skipped.map((s) => [s.line.match(/\[(\d+)\]/)![1], s.reason]), [
      ['3006', 'user name: not portable'],
      ['3007', 'user name: not portable'],
      ['3008', 'user name: not portable'],
      ['3009', 'user name: not portable'],
      ['3010', 'user name: too long'],
      ['3011', 'user name: not portable'],
      ['3012', 'address: not an IP address'],
      ['3013', 'port: not 1-65535'],
      ['0', 'pid: out of range'],
      ['3016', 'address: not an IP address'],
      ['3017', 'user name: not portable'],
      ['3018', 'user name: not portable'],
      ['3019', 'user name: not portable'],
      ['3022', 'unreadable exit line'],
    ]);
  });

  test('failed logins carrying an accepted line, other programs quoting sshd: ignored', () => {
    for (const line of readFixture('linux-auth/reconstructed/hostile.log').split('\n').slice(0, 7)) {
      assert.deepEqual(parseAuthLogLine(line), { kind: 'ignored' }, line);
    }
    assert.deepEqual(parseAuthLogLine("Jan  2 03:30:20 gw dropbear[3020]: Password auth succeeded for 'eve' from 198.51.100.79:40020, extra auth required"), { kind: 'ignored' });
  });

  test('a very long line is refused, not read', () => {
    const line = `Jan  2 03:30:00 gw sshd[1]: Accepted password for ${'a'.repeat(5000)} from 192.0.2.1 port 1 ssh2`;
    assert.deepEqual(parseAuthLogLine(line), { kind: 'skipped', reason: 'line too long' });
    assert.deepEqual(parseAuthLogLine(`Jan  2 03:30:00 gw cron[1]: ${'x'.repeat(5000)}`), { kind: 'ignored' });
  });

  test('never throws, on random text or any prefix of a real capture', () => {
    const text = readFixture('linux-auth/rhel9-secure/secure.txt') + readFixture('linux-auth/reconstructed/hostile.log');
    for (let i = 0; i < text.length; i += 7) parseAuthLog(text.slice(0, i));
    const pieces = fc.constantFrom('sshd[1]: ', 'dropbear[2]: ', 'Accepted password for ', "'", ' from ', ' port ', '22', ' ssh2', '::ffff:', '[', ']:', '<', '>', 'Exit (', ')', '\n', ' ', 'Nov  8 18:24:06 h ', '2024-01-02T03:04:05Z h ', '\u0000', '\r');
    fc.assert(fc.property(fc.array(pieces, { maxLength: 40 }).map((a) => a.join('')), (s) => {
      const r = parseAuthLog(s);
      for (const e of r.events) assert.ok(e.pid > 0);
    }), { numRuns: 400 });
    for (const odd of [undefined, null, 5, {}] as unknown[]) {
      assert.deepEqual(parseAuthLog(odd as string), { events: [], skipped: [], ignored: 0 });
      assert.deepEqual(parseAuthLogLine(odd as string), { kind: 'ignored' });
    }
  });
});
