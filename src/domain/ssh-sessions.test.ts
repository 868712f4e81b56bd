import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalClientAddress, formatSessionTag, parseSessionTag, SshSessionTracker, type LiveSshConnection, type SshLogEvent } from './ssh-sessions.js';

function ev(kind: SshLogEvent['kind'], pid: number, user: string | null, ip: string | null = null, port: number | null = null, daemon: SshLogEvent['daemon'] = 'sshd'): SshLogEvent {
  return { kind, daemon, pid, user, ip, port, time: null, timeMs: null };
}
function conn(pids: number[], peerIp: string, peerPort: number, daemon: LiveSshConnection['daemon'] = 'sshd', localPort = 22): LiveSshConnection {
  return { daemon, pids, localIp: '192.0.2.1', localPort, peerIp, peerPort };
}
const brief = (t: SshSessionTracker) => t.sessions().map((s) => `${s.user}/${s.pid}/${s.clientIp}/${s.clientPort}/${s.daemon}`);

describe('session tags', () => {
  test('round trip, and only the exact form is read', () => {
    assert.equal(formatSessionTag({ pid: 1201, user: 'alice' }), 'pid:1201 user:alice');
    assert.deepEqual(parseSessionTag('pid:1201 user:alice'), { pid: 1201, user: 'alice' });
    assert.deepEqual(parseSessionTag('pid:4194304 user:host$'), { pid: 4194304, user: 'host$' });
    for (const bad of ['pid:1201 user:alice ', ' pid:1201 user:alice', 'pid:1201  user:alice', 'pid:01201 user:alice', 'pid:0 user:alice',
      'pid:4194305 user:alice', 'pid:1201 user:Alice', 'pid:1201 user:a b', 'pid:1201 user:$(id)', 'pid:1201 user:alice pid:1 user:root',
      'user:alice pid:1201', 'pid:1201 user:', 'pid:-1 user:alice', 'pid:1201 user:alice\n', 'pid:1e3 user:alice', `pid:1 user:${'a'.repeat(33)}`]) {
      assert.equal(parseSessionTag(bad), null, JSON.stringify(bad));
    }
    assert.equal(parseSessionTag(undefined as unknown as string), null);
    assert.equal(formatSessionTag({ pid: 0, user: 'alice' }), null);
    assert.equal(formatSessionTag({ pid: 1, user: 'a"b' }), null);
    assert.equal(formatSessionTag({ pid: 1.5, user: 'alice' }), null);
  });

  test('client addresses: canonical, IPv4-mapped as IPv4, zones refused', () => {
    assert.equal(canonicalClientAddress('::ffff:10.0.0.100'), '10.0.0.100');
    assert.equal(canonicalClientAddress('::FFFF:0a00:0064'), '10.0.0.100');
    assert.equal(canonicalClientAddress('2001:DB8:0::1'), '2001:db8::1');
    assert.equal(canonicalClientAddress('fe80::1%eth0'), null);
    assert.equal(canonicalClientAddress('010.0.0.1'), null);
  });
});

describe('SshSessionTracker', () => {
  test('accepted adds; the PAM close (monitor PID, no address) removes', () => {
    const t = new SshSessionTracker();
    const added = t.apply([ev('accepted', 1201, 'alice', '192.0.2.7', 50022)], 1000);
    assert.deepEqual(added.added, [{ id: '1201/192.0.2.7/50022', user: 'alice', pid: 1201, clientIp: '192.0.2.7', clientPort: 50022, daemon: 'sshd', firstSeenMs: 1000 }]);
    assert.deepEqual(t.apply([ev('closed', 1201, 'bob')], 1100).removed, []); // another user's close: not this session
    assert.deepEqual(t.apply([ev('closed', 1201, 'alice', null, null, 'dropbear')], 1100).removed, []); // another daemon
    const removed = t.apply([ev('closed', 1201, 'alice')], 1200);
    assert.deepEqual(removed.removed.map((r) => [r.session.pid, r.reason]), [[1201, 'closed']]);
    assert.deepEqual(t.sessions(), []);
  });

  test('Dropbear: Exit with and without the address', () => {
    const t = new SshSessionTracker();
    t.apply([ev('accepted', 10, 'root', '192.0.2.8', 4000, 'dropbear'), ev('accepted', 11, 'root', '::1', 4001, 'dropbear')], 0);
    t.apply([ev('closed', 10, 'root', '192.0.2.8', 4000, 'dropbear'), ev('closed', 11, 'root', null, null, 'dropbear')], 1);
    assert.deepEqual(t.sessions(), []);
  });

  test('a session missing from ss for two checks is dropped; one miss is forgiven', () => {
    const t = new SshSessionTracker();
    t.apply([ev('accepted', 1201, 'alice', '192.0.2.7', 50022), ev('accepted', 1250, 'bob', '2001:db8::20', 41000)], 0);
    const both = [conn([1201, 1205], '192.0.2.7', 50022), conn([1250, 1255], '2001:db8::20', 41000)];
    assert.deepEqual(t.reconcile([both[0]!], 10_000).removed, []);
    assert.deepEqual(t.reconcile(both, 20_000).removed, []); // bob back: the count starts again
    assert.deepEqual(t.reconcile([both[0]!], 30_000).removed, []);
    const second = t.reconcile([both[0]!], 40_000);
    assert.deepEqual(second.removed.map((r) => [r.session.user, r.reason]), [['bob', 'absent']]);
    assert.deepEqual(brief(t), ['alice/1201/192.0.2.7/50022/sshd']);
  });

  test('missesToDrop is configurable', () => {
    const t = new SshSessionTracker({ missesToDrop: 1 });
    t.apply([ev('accepted', 5, 'alice', '192.0.2.7', 1)], 0);
    assert.equal(t.reconcile([], 1).removed.length, 1);
  });

  test('a connection no line announced: added with the monitor\'s PID when a title names the user, else reported', () => {
    const t = new SshSessionTracker();
    const live = [conn([1205, 1201], '192.0.2.7', 50022), conn([1300], '198.51.100.9', 33100)];
    const owners = [{ pid: 1205, user: 'alice', isMonitor: false }, { pid: 1201, user: 'alice', isMonitor: true }];
    const r = t.reconcile(live, 7000, { processOwners: owners });
    assert.deepEqual(r.added.map((s) => [s.user, s.pid, s.firstSeenMs]), [['alice', 1201, 7000]]);
    assert.deepEqual(r.unattributed, [live[1]]);
    assert.deepEqual(brief(t), ['alice/1201/192.0.2.7/50022/sshd']);
  });

  test('titles that disagree, or a forged `[priv]` of a non-socket PID, attribute nothing', () => {
    const t = new SshSessionTracker();
    const live = [conn([20, 21], '192.0.2.7', 1)];
    const r = t.reconcile(live, 0, { processOwners: [{ pid: 20, user: 'alice', isMonitor: true }, { pid: 21, user: 'bob', isMonitor: false }, { pid: 99, user: 'root', isMonitor: true }] });
    assert.deepEqual(r.added, []);
    assert.equal(r.unattributed.length, 1);
    const r2 = new SshSessionTracker().reconcile(live, 0, { processOwners: [{ pid: 20, user: 'Not Valid', isMonitor: true }] });
    assert.deepEqual(r2.added, []);
  });

  test('who names a pty\'s user only when its address has one connection', () => {
    const logins = [{ user: 'carol', tty: 'pts/3', host: '198.51.100.20', pid: 812 }];
    const one = new SshSessionTracker().reconcile([conn([30], '::ffff:198.51.100.20', 5, 'dropbear')], 0, { logins });
    assert.deepEqual(one.added.map((s) => [s.user, s.pid, s.clientIp]), [['carol', 30, '198.51.100.20']]);
    // Two connections from one address (one tracked): who cannot tell which is carol's.
    const t = new SshSessionTracker();
    t.apply([ev('accepted', 31, 'dave', '198.51.100.20', 6, 'dropbear')], 0);
    const two = t.reconcile([conn([30], '198.51.100.20', 5, 'dropbear'), conn([31], '198.51.100.20', 6, 'dropbear')], 1, { logins });
    assert.deepEqual(two.added, []);
    assert.equal(two.unattributed.length, 1);
  });

  test('a closed session still ESTAB at the next check stays closed; still there after two, the close was a lie', () => {
    const t = new SshSessionTracker();
    t.apply([ev('accepted', 1201, 'alice', '192.0.2.7', 50022)], 0);
    t.apply([ev('closed', 1201, 'alice')], 1);
    const live = [conn([1201, 1205], '192.0.2.7', 50022)];
    const owners = [{ pid: 1201, user: 'alice', isMonitor: true }];
    assert.deepEqual(t.reconcile(live, 10_000, { processOwners: owners }).added, []);
    const again = t.reconcile(live, 20_000, { processOwners: owners });
    assert.deepEqual(again.added.map((s) => [s.user, s.pid, s.firstSeenMs]), [['alice', 1201, 0]]);
  });

  test('a closed session gone from ss is forgotten; a new connection on that endpoint is new', () => {
    const t = new SshSessionTracker();
    t.apply([ev('accepted', 1, 'alice', '192.0.2.7', 50022), ev('disconnected', 2, 'alice', '192.0.2.7', 50022)], 0);
    t.reconcile([], 1);
    const r = t.reconcile([conn([3], '192.0.2.7', 50022)], 2, { processOwners: [{ pid: 3, user: 'bob', isMonitor: true }] });
    assert.deepEqual(r.added.map((s) => [s.user, s.pid]), [['bob', 3]]);
  });

  test('a disconnect line for an unknown endpoint holds that connection back for one check', () => {
    const t = new SshSessionTracker();
    t.apply([ev('disconnected', 2, null, '192.0.2.7', 50022)], 0);
    const owners = [{ pid: 3, user: 'bob', isMonitor: true }];
    const live = [conn([3], '192.0.2.7', 50022)];
    assert.deepEqual(t.reconcile(live, 1, { processOwners: owners }).added, []);
    assert.deepEqual(t.reconcile(live, 2, { processOwners: owners }).added.map((s) => s.user), ['bob']);
  });

  test('an accepted line for a tracked endpoint with another PID replaces the session', () => {
    const t = new SshSessionTracker();
    t.apply([ev('accepted', 1, 'alice', '192.0.2.7', 50022)], 0);
    assert.deepEqual(t.apply([ev('accepted', 1, 'alice', '192.0.2.7', 50022)], 1), { added: [], removed: [] });
    const c = t.apply([ev('accepted', 9, 'bob', '192.0.2.7', 50022)], 2);
    assert.deepEqual([c.removed.map((r) => [r.session.pid, r.reason]), c.added.map((s) => s.pid)], [[[1, 'replaced']], [9]]);
  });

  test('only connections to the SSH ports count: forwards of a session never become sessions', () => {
    const owners = [{ pid: 1205, user: 'alice', isMonitor: false }];
    const forward = conn([1205], '203.0.113.80', 443, 'sshd', 47810);
    assert.deepEqual(new SshSessionTracker().reconcile([forward], 0, { processOwners: owners }), { added: [], removed: [], unattributed: [] });
    const on2222 = conn([1205], '192.0.2.7', 5000, 'sshd', 2222);
    assert.deepEqual(new SshSessionTracker().reconcile([on2222], 0, { processOwners: owners }).added.length, 0);
    assert.deepEqual(new SshSessionTracker({ sshPorts: [22, 2222] }).reconcile([on2222], 0, { processOwners: owners }).added.length, 1);
  });

  test('restore from rule comments after a restart, then the live check decides', () => {
    const t = new SshSessionTracker();
    const tags = ['pid:1201 user:alice', 'pid:1250 user:bob', 'pid:1 user:$(reboot)'].map(parseSessionTag);
    assert.equal(tags[2], null);
    const restored = t.restore([
      { ...tags[0]!, clientIp: '192.0.2.7', clientPort: 50022 },
      { ...tags[1]!, clientIp: '2001:db8::20', clientPort: 41000 },
      { pid: 7, user: 'eve; id', clientIp: '192.0.2.9', clientPort: 1 },
      { pid: 8, user: 'eve', clientIp: '192.0.2.300', clientPort: 1 },
      { pid: 9, user: 'eve', clientIp: '192.0.2.9', clientPort: 0 },
    ], 500);
    assert.deepEqual(restored.added.map((s) => s.user), ['alice', 'bob']);
    assert.deepEqual(t.restore([{ pid: 1201, user: 'alice', clientIp: '192.0.2.7', clientPort: 50022 }], 600).added, []); // once only
    // alice is a Dropbear session really: the socket's owner corrects the guessed daemon.
    t.reconcile([conn([1201], '192.0.2.7', 50022, 'dropbear')], 1000);
    assert.deepEqual(t.reconcile([conn([1201], '192.0.2.7', 50022, 'dropbear')], 2000).removed.map((r) => r.session.user), ['bob']);
    assert.deepEqual(brief(t), ['alice/1201/192.0.2.7/50022/dropbear']);
    assert.deepEqual(t.sessions()[0]!.id, '1201/192.0.2.7/50022');
  });

  test('events that fail validation change nothing (the parser already refuses them; the tracker trusts no caller)', () => {
    const t = new SshSessionTracker();
    t.apply([
      ev('accepted', 1, 'a b', '192.0.2.7', 1), ev('accepted', 0, 'alice', '192.0.2.7', 1), ev('accepted', 2, 'alice', 'fe80::1%eth0', 1),
      ev('accepted', 3, 'alice', '192.0.2.7', 65536), ev('accepted', 4, null, '192.0.2.7', 1), { ...ev('accepted', 5, 'alice', '192.0.2.7', 1), daemon: 'telnetd' as 'sshd' },
    ], 0);
    assert.deepEqual(t.sessions(), []);
  });

  test('deterministic: the same inputs give the same sessions in the same order', () => {
    const run = () => {
      const t = new SshSessionTracker();
      t.apply([ev('accepted', 30, 'zed', '192.0.2.30', 3), ev('accepted', 10, 'amy', '2001:db8::1', 1), ev('accepted', 20, 'bob', '192.0.2.20', 2)], 42);
      return t.sessions();
    };
    assert.deepEqual(run(), run());
    assert.deepEqual(run().map((s) => s.id), ['10/2001:db8::1/1', '20/192.0.2.20/2', '30/192.0.2.30/3']);
  });
});
