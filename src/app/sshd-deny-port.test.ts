// test-file-timeout: 120
// Deny over quota against a real sshd's config checks (issue 18): the port's scripts run in a real
// sh inside a private mount namespace, where /etc/ssh and /run are tmpfs (the machine's own are
// never touched), with Debian's sshd_config (the machine's copy from openssh-server), a fresh host
// key, and OpenSSH's `sshd -t` and `sshd -T` as the judges of what sshd would do.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { RouterError } from '../errors.js';
import { SshdDenyPort, UserDenyGuard } from './sshd-deny-port.js';

const T = Date.UTC(2026, 11, 4, 12, 0, 0);
const HOUR = 3_600_000;

function skipReason(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (a private mount namespace)';
  for (const tool of ['unshare', 'nsenter', 'ssh-keygen']) if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `needs ${tool}`;
  if (!existsSync('/usr/sbin/sshd')) return 'needs openssh-server (/usr/sbin/sshd)';
  if (!existsSync('/etc/ssh/sshd_config')) return 'needs /etc/ssh/sshd_config (openssh-server)';
  return null;
}
const skip = skipReason();

let keeper: ChildProcess | null = null;
let debianConfig = '';

function inNs(command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('nsenter', ['-t', String(keeper!.pid), '-m', 'sh', '-c', command], { timeout: 20_000, maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      // The port reads what a shell session would show: both streams, whatever the exit status.
      if (error && (error as { killed?: boolean }).killed) reject(error);
      else resolve(stdout + stderr);
    });
  });
}

before(async () => {
  if (skip !== null) return;
  debianConfig = readFileSync('/etc/ssh/sshd_config', 'utf8');
  keeper = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs lt-ssh /etc/ssh && mount -t tmpfs lt-run /run && mkdir -p /run/sshd /etc/ssh/sshd_config.d && echo ready && exec sleep 300'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    keeper!.stdout!.once('data', () => resolve());
    keeper!.once('exit', (code) => reject(new Error(`keeper exited ${code}`)));
  });
  await inNs("ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key");
});

after(() => {
  keeper?.kill('SIGKILL');
});

async function resetConfig(config: string): Promise<void> {
  await inNs('rm -rf /etc/ssh/sshd_config.d/* /etc/ssh/sshd_config.lantop-backup /etc/ssh/sshd_config.lantop-prev');
  await new Promise<void>((resolve, reject) => {
    const child = spawn('nsenter', ['-t', String(keeper!.pid), '-m', 'sh', '-c', 'cat > /etc/ssh/sshd_config'], { stdio: ['pipe', 'ignore', 'inherit'] });
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`write exited ${code}`))));
    child.stdin!.end(config);
  });
}

/** What sshd would apply to a login of `user` (sshd -T's denyusers lines). */
async function deniedBy(user: string): Promise<string[]> {
  const out = await inNs(`/usr/sbin/sshd -T -C user=${user},host=client.example,addr=198.51.100.7`);
  return out.split('\n').filter((l) => l.startsWith('denyusers ')).flatMap((l) => l.split(' ').slice(1));
}

test('drop-in: deny two users, lift one by hand, the other expires; sshd -T agrees at each step and nothing of lantop is left', { skip: skip ?? false }, async () => {
  await resetConfig(debianConfig);
  assert.match(debianConfig.split('\n').find((l) => /^Include/.test(l)) ?? '', /sshd_config\.d/, 'Debian ships the Include');
  const port = new SshdDenyPort({ run: inNs });
  await port.block({ identity: 'user:alice', mac: null, addresses: [], untilMs: T + HOUR }, T);
  await port.block({ identity: 'user:_-odd-name$', mac: null, addresses: [], untilMs: T + 2 * HOUR }, T);
  assert.deepEqual((await deniedBy('alice')).sort(), ['_-odd-name$', 'alice']);
  assert.match(await inNs('cat /etc/ssh/sshd_config.d/lantop-deny.conf'), /^DenyUsers _-odd-name\$ alice$/m);
  assert.equal(await inNs('cat /etc/ssh/sshd_config'), debianConfig, 'sshd_config itself untouched');
  const listed = await port.list(T);
  assert.deepEqual(listed.map((e) => [e.identity, e.untilMs, e.isExpired]).sort(), [['user:_-odd-name$', T + 2 * HOUR, false], ['user:alice', T + HOUR, false]]);

  const afterUnblock = await port.unblock('user:alice', T + 1);
  assert.deepEqual(afterUnblock.entries.map((e) => e.identity), ['user:_-odd-name$']);
  assert.deepEqual(await deniedBy('alice'), ['_-odd-name$']);

  const early = await port.removeExpiredBlocks(T + HOUR);
  assert.deepEqual(early.removed, []);
  const late = await port.removeExpiredBlocks(T + 2 * HOUR);
  assert.deepEqual(late.removed.map((e) => e.identity), ['user:_-odd-name$']);
  assert.deepEqual(await deniedBy('alice'), []);
  assert.equal((await inNs('ls -a /etc/ssh/sshd_config.d')).split('\n').filter((n) => n.includes('lantop')).length, 0, 'no drop-in, no .lantop-prev left');
});

test('no Include: a marked block at the top of sshd_config, a backup of the original, and unblock --all gives the file back byte for byte', { skip: skip ?? false }, async () => {
  const noInclude = debianConfig.split('\n').filter((l) => !/^Include/.test(l)).join('\n');
  // A Match block at the end: a block appended after it would be conditional; lantop's goes first.
  const config = `${noInclude}\nMatch User carol\n\tX11Forwarding no\n`;
  await resetConfig(config);
  const port = new SshdDenyPort({ run: inNs });
  await port.block({ identity: 'user:bob', mac: null, addresses: [], untilMs: T + HOUR }, T);
  assert.deepEqual(await deniedBy('bob'), ['bob']);
  assert.deepEqual(await deniedBy('carol'), ['bob'], 'the deny applies outside the Match too');
  const edited = await inNs('cat /etc/ssh/sshd_config');
  assert.match(edited.split('\n')[0]!, /^# >>> lantop deny/);
  assert.ok(edited.endsWith(config), 'the owner\'s lines follow, unchanged');
  assert.equal(await inNs('cat /etc/ssh/sshd_config.lantop-backup'), config);
  await port.block({ identity: 'user:dave', mac: null, addresses: [], untilMs: T + HOUR }, T);
  assert.equal((await inNs('cat /etc/ssh/sshd_config')).split('# >>> lantop deny').length, 2, 'one block, replaced in place');
  await port.unblock('all', T);
  assert.equal(await inNs('cat /etc/ssh/sshd_config'), config);
  assert.deepEqual(await deniedBy('bob'), []);
});

test('sshd -t refuses the config: the change is rolled back, sshd is not reloaded, the error says what sshd said', { skip: skip ?? false }, async () => {
  await resetConfig(debianConfig);
  await inNs("printf 'NoSuchKeyword yes\\n' > /etc/ssh/sshd_config.d/broken.conf");
  const port = new SshdDenyPort({ run: inNs });
  await assert.rejects(port.block({ identity: 'user:alice', mac: null, addresses: [], untilMs: T + HOUR }, T), (e: unknown) => e instanceof RouterError && /sshd -t refused/.test(e.message) && /NoSuchKeyword/i.test(e.message));
  assert.equal(await inNs('ls /etc/ssh/sshd_config.d'), 'broken.conf\n', 'no drop-in left behind');
});

test('never denied: the user lantop logs in as (root here), root, a non-user identity', { skip: skip ?? false }, async () => {
  await resetConfig(debianConfig);
  const port = new SshdDenyPort({ run: inNs });
  const guard = new UserDenyGuard(port);
  assert.match((await guard.refusal({ identity: 'user:root', mac: null, addresses: [], name: 'root' }, []))!, /lantop logs in/);
  assert.match((await guard.refusal({ identity: '02:00:5e:10:00:01', mac: '02:00:5e:10:00:01', addresses: [], name: null }, []))!, /denies users/);
  assert.equal(await guard.refusal({ identity: 'user:alice', mac: null, addresses: [], name: 'alice' }, []), null);
  await assert.rejects(port.block({ identity: 'user:root', mac: null, addresses: [], untilMs: T + HOUR }, T), RouterError);
  assert.equal(await inNs('ls /etc/ssh/sshd_config.d'), '');
});

test('denyEndSessions: only the denied user\'s sshd processes are ended; a pid whose title is another user\'s is left alone', { skip: skip ?? false }, async () => {
  await resetConfig(debianConfig);
  // Processes titled as Debian's per-connection monitors are (argv[0] "sshd: USER [priv]").
  const start = (title: string) => spawn('bash', ['-c', `exec -a '${title}' sleep 60`], { stdio: 'ignore' });
  const alice = start('sshd: alice [priv]');
  const bob = start('sshd: bob [priv]');
  try {
    await new Promise((r) => setTimeout(r, 300));
    const port = new SshdDenyPort({ run: inNs, endSessions: true, sessionPidsOf: (user) => (user === 'alice' ? [alice.pid!, bob.pid!] : []) });
    const outcome = await port.block({ identity: 'user:alice', mac: null, addresses: [], untilMs: T + HOUR }, T);
    assert.deepEqual(port.lastEndedPids, [alice.pid]);
    assert.ok(outcome.notes.some((n) => /ended 1 running session/.test(n)));
    await new Promise((r) => setTimeout(r, 200));
    assert.notEqual(alice.exitCode ?? alice.signalCode, null, 'alice\'s ended');
    assert.equal(bob.exitCode ?? bob.signalCode, null, 'bob\'s goes on');
  } finally {
    alice.kill('SIGKILL');
    bob.kill('SIGKILL');
  }
});

test('the users-mode quota enforcer (user-deny.ts) denies by hand in users\' words, audits it, and refuses root', { skip: skip ?? false }, async () => {
  await resetConfig(debianConfig);
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { HistoryStore } = await import('../store/history-store.js');
  const { usersEnforcerFor } = await import('./user-deny.js');
  const { resolveSettings } = await import('../config/resolve.js');
  const dir = mkdtempSync(join(tmpdir(), 'lantop-deny-enforcer-'));
  const store = HistoryStore.open({ path: join(dir, 'h.sqlite') });
  try {
    const settings = resolveSettings({ host: '198.51.100.129', port: 22, protocol: 'ssh' } as never, {}, undefined, 'default');
    const enforcer = usersEnforcerFor(
      { settings, key: '198.51.100.129:22', clock: { now: () => T } },
      { router: { session: { exec: (command: string) => inNs(command) } } as never, poller: { tracker: { sessions: () => [] } } as never, store, sink: null },
    );
    const denied = await enforcer.blockByHand('user:alice', HOUR);
    assert.equal(denied.isDone, true, denied.message);
    assert.match(denied.message, /^alice denied SSH logins until \d\d:\d\d\.$/);
    assert.deepEqual(await deniedBy('alice'), ['alice']);
    const refused = await enforcer.blockByHand('user:root', HOUR);
    assert.equal(refused.isDone, false);
    assert.match(refused.message, /lantop logs in/);
    const lifted = await enforcer.unblockByHand('user:alice');
    assert.equal(lifted.message, 'alice allowed to log in again.');
    assert.deepEqual(await deniedBy('alice'), []);
    assert.deepEqual(store.quotas.listAudit('users@198.51.100.129:22').map((a) => [a.action, a.identity, a.by]), [['block', 'user:alice', 'hand'], ['unblock', 'user:alice', 'hand']]);
    enforcer.close();
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
