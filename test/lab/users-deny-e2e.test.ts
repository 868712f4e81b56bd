// test-file-timeout: 300
// Deny over quota end to end (issue 18): the REAL built CLI logs in to the gateway lab as root over
// SSH in users mode and watches (`usage --json --watch`), with a quota on alice that denies at
// 100 % (denyFor 40s, denyEndSessions yes). alice pushes past her quota through her `ssh -D`
// tunnel: lantop writes DenyUsers into Debian's sshd_config.d drop-in, `sshd -t` passes, sshd is
// reloaded, alice's running session is ended and a new login of hers is refused by sshd itself
// ("listed in DenyUsers"), while bob's session goes on and lantop (root) keeps polling. By hand:
// bob denied and lifted, root refused. After denyFor, `block --list` lifts alice's deny and she
// logs in again; every change is in the audit log. Then the same on an sshd_config without the
// Include: a marked block at its top, and `unblock --all` gives the file back byte for byte.
// Needs root and the gateway lab's packages; otherwise skipped with one loud line.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gatewaySkipReason, startGatewayLab, type GatewayLab, type GatewaySession } from './gateway-lab.js';
import { CLI_PATH } from './lantop-cli.js';
import { Watcher, runCliOnce } from './users-cli.js';

const labSkip = gatewaySkipReason();
const skip = labSkip !== false ? labSkip : existsSync(CLI_PATH) ? false : 'dist/cli.js is not built (npm run build)';
const DENY_FOR_S = 40;

describe('deny over quota (gateway lab, real CLI, real sshd)', { skip }, () => {
  let lab: GatewayLab;
  const dir = mkdtempSync(join(tmpdir(), 'lantop-deny-e2e-'));
  const watchers: Watcher[] = [];
  const sessions: GatewaySession[] = [];
  const argv = (args: readonly string[]) => [CLI_PATH, '--host', lab.gatewayConsoleIp, '--protocol', 'ssh', '--user', 'root', '--mode', 'users', '--timeout', '10000', '--db', join(dir, 'history.sqlite'), '--no-color', ...args];
  const env = (): NodeJS.ProcessEnv => ({ ...process.env, LANTOP_PASSWORD: lab.root.password, LANTOP_CONFIG_DIR: join(dir, 'config'), NO_COLOR: '1', LANTOP_DENY_FOR: `${DENY_FOR_S}s`, LANTOP_DENY_END_SESSIONS: 'yes' });
  const runCli = (args: readonly string[]) => runCliOnce(argv(args), env());
  const ok = async (args: readonly string[]) => {
    const r = await runCli(args);
    assert.equal(r.code, 0, `lantop ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  const login = async (client: string, user: string) => {
    const s = await lab.login(client, user);
    sessions.push(s);
    return s;
  };
  const sshdAccepts = async () => {
    const t = await lab.exec(['sshd', '-t']);
    assert.equal(t.code, 0, `sshd -t: ${t.stderr}`);
  };
  const listening = / sshd\[\d+\]: Server listening on 0\.0\.0\.0 port 22\.$/;
  const reloads = (): number => lab.authLog().split('\n').filter((line) => listening.test(line)).length;
  const measured: string[] = [];

  before(async () => {
    lab = await startGatewayLab();
  });

  after(async () => {
    for (const w of watchers) await w.stop();
    for (const s of sessions) await s.end({ abrupt: true }).catch(() => undefined);
    await lab?.stop();
    rmSync(dir, { recursive: true, force: true });
    if (measured.length > 0) console.log(`# deny over quota, measured:\n#   ${measured.join('\n#   ')}`);
  });

  test('a quota on alice denies her at 100 %: drop-in, sshd -t, reload, her session ended, her login refused; bob and lantop go on; lifted after denyFor', async () => {
    const alice = await login('c1', 'alice');
    const bob = await login('c2', 'bob');
    const w = new Watcher(argv(['usage', '--json', '--watch', '--interval', '1000']), env());
    watchers.push(w);
    // Their rules are in once a poll lists both sessions; the next poll starts from them.
    await w.waitFor((d) => ['alice', 'bob'].every((n) => d.users.some((u) => u.user === n && u.sessions === 1)), 'both sessions counted');
    await w.next('a poll after the rules');
    // alice and bob are in the history (a quota names a user the history knows).
    await lab.pushThroughTunnel(alice, { downBytes: 20_000, upBytes: 2_000 });
    await lab.pushThroughTunnel(bob, { downBytes: 20_000, upBytes: 2_000 });
    await w.waitFor((d) => d.users.some((u) => u.user === 'alice' && u.downBytes >= 20_000) && d.users.some((u) => u.user === 'bob' && u.downBytes >= 20_000), 'alice and bob counted');
    const added = await ok(['quota', 'add', 'alice', '--limit', '200kB', '--period', 'day', '--block']);
    assert.match(added.stdout, /Quota 1 added: alice/);

    const before = reloads();
    const started = Date.now();
    await lab.pushThroughTunnel(alice, { downBytes: 250_000, upBytes: 10_000 });
    // The enforcer checks every 10 s: within two checks the deny is in place.
    await lab.waitForLog(/ sshd\[\d+\]: Received SIGHUP; restarting\.$/, { timeoutMs: 30_000 });
    await lab.waitForLog(listening, { count: before + 1, timeoutMs: 30_000 });
    measured.push(`quota crossed → sshd reloaded with the deny: ${Date.now() - started} ms`);
    const dropIn = (await lab.exec(['cat', '/etc/ssh/sshd_config.d/lantop-deny.conf'])).stdout;
    assert.match(dropIn, /^DenyUsers alice$/m);
    assert.match(dropIn, /^# lantop-deny user=alice until=\d+ since=\d+$/m);
    await sshdAccepts();
    // Her running session was ended (denyEndSessions), bob's was not.
    await lab.waitForLog(/ sshd\[\d+\]: pam_unix\(sshd:session\): session closed for user alice$/, { timeoutMs: 20_000 });
    await assert.rejects(lab.pushThroughTunnel(alice, { downBytes: 1000, upBytes: 100, timeoutMs: 5000 }));
    await assert.rejects(lab.login('c1', 'alice'), /Permission denied/);
    await lab.waitForLog(/ sshd\[\d+\]: User alice from 203\.0\.113\.10 not allowed because listed in DenyUsers$/);
    const moved = await lab.pushThroughTunnel(bob, { downBytes: 30_000, upBytes: 3_000 });
    assert.deepEqual([moved.downBytes, moved.upBytes], [30_000, 3_000]);
    // lantop (root) still polls; its document says alice is over her quota and denied.
    const doc = (await w.next('a poll after the deny')) as unknown as { quotas?: Array<{ name: string; blocked: boolean; percent: number }>; hosts: Array<{ identity: string; blockedUntil?: string | null }> };
    const quota = doc.quotas?.find((q) => q.name === 'alice');
    assert.ok(quota !== undefined && quota.blocked && quota.percent >= 100, JSON.stringify(doc.quotas));
    assert.ok(w.stderr.join('').includes('alice'), `the watcher said nothing of the deny: ${w.stderr.join('')}`);

    const listed = JSON.parse((await ok(['block', '--list', '--json'])).stdout) as { denies: Array<{ user: string; untilMs: number; expired: boolean }>; audit: Array<{ action: string; user: string | null; by: string; quotaId: number | null }> };
    assert.deepEqual(listed.denies.map((d) => [d.user, d.expired]), [['alice', false]]);
    const untilMs = listed.denies[0]!.untilMs;
    assert.ok(Math.abs(untilMs - (started + DENY_FOR_S * 1000)) < 30_000, `denyFor ${DENY_FOR_S}s: until ${new Date(untilMs).toISOString()}`);
    assert.ok(listed.audit.some((a) => a.action === 'block' && a.user === 'alice' && a.by === 'quota' && a.quotaId === 1), JSON.stringify(listed.audit));

    // By hand: root (lantop's own login) is never denied; bob is, then lifted.
    const refused = await runCli(['block', 'root', '--for', '1h']);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /never denied|lantop logs in/);
    await ok(['block', 'bob', '--for', '1h']);
    await sshdAccepts();
    await assert.rejects(lab.login('c2', 'bob'), /Permission denied/);
    await ok(['unblock', 'bob']);
    const bob2 = await login('c2', 'bob');
    await bob2.end();

    // denyFor passes: lantop lifts alice's deny (block --list removes expired ones), and she logs in.
    await w.stop();
    const wait = untilMs - Date.now() + 1500;
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const lifted = JSON.parse((await ok(['block', '--list', '--json'])).stdout) as { denies: Array<{ user: string; expired: boolean }>; audit: Array<{ action: string; user: string | null }> };
    assert.deepEqual(lifted.denies.map((d) => [d.user, d.expired]), [['alice', true]]);
    assert.ok(lifted.audit.some((a) => a.action === 'expired' && a.user === 'alice'));
    assert.equal((await lab.exec(['ls', '-A', '/etc/ssh/sshd_config.d'])).stdout, '', 'the drop-in is gone, nothing of lantop left');
    await sshdAccepts();
    const back = await login('c1', 'alice');
    await back.end();
    measured.push(`deny lifted ${Date.now() - untilMs} ms after its expiry (by block --list)`);
  });

  test('no Include in sshd_config: a marked block at its top; unblock --all gives the file back byte for byte', async () => {
    const original = (await lab.exec(['cat', '/etc/ssh/sshd_config'])).stdout;
    const rewrite = await lab.exec(['sed', '-i', '/^Include /d', '/etc/ssh/sshd_config']);
    assert.equal(rewrite.code, 0, rewrite.stderr);
    const without = (await lab.exec(['cat', '/etc/ssh/sshd_config'])).stdout;
    try {
      await ok(['block', 'bob', '--for', '1h']);
      const edited = (await lab.exec(['cat', '/etc/ssh/sshd_config'])).stdout;
      assert.match(edited.split('\n')[0]!, /^# >>> lantop deny/);
      assert.ok(edited.endsWith(without));
      assert.equal((await lab.exec(['cat', '/etc/ssh/sshd_config.lantop-backup'])).stdout, without);
      await sshdAccepts();
      await assert.rejects(lab.login('c2', 'bob'), /Permission denied/);
      await ok(['unblock', '--all']);
      assert.equal((await lab.exec(['cat', '/etc/ssh/sshd_config'])).stdout, without);
      const bob = await login('c2', 'bob');
      await bob.end();
    } finally {
      await lab.exec(['sh', '-c', `printf '%s' "$1" > /etc/ssh/sshd_config; rm -f /etc/ssh/sshd_config.lantop-backup`, 'sh', original]);
    }
  });
});
