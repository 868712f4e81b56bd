// test-file-timeout: 300 (measured ~20 s alone; waits for the machine-wide lab lock, up to 5 min)
// Users mode over both families (issue 18: "the rules cover IPv4 and IPv6"): the REAL built CLI
// (`npm run build`) logs in to the gateway lab as root over its IPv4 console link and runs `usage
// --mode users --json --watch`, while alice logs in over IPv4 (203.0.113.10 → 203.0.113.1) and bob
// over IPv6 (2001:db8:ff::11 → 2001:db8:ff::1) at the same time, and both push through their tunnels
// at once. bob's two rules must be in ip6tables (tagged 'pid:PID user:bob'), alice's in iptables;
// lantop's per-user delta over a quiet phase equals the clients' oracle exactly (IPv4 and IPv6
// sets); teardown leaves iptables-save and ip6tables-save as before. The quiet-point method is
// users-mode-e2e.test.ts's (settle, a poll that began after the quiet, the oracle since its reset).
// Needs root and the gateway lab's packages; otherwise skipped with one loud line.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gatewaySkipReason, startGatewayLab, type GatewayLab, type GatewaySession } from './gateway-lab.js';
import { CLI_PATH } from './lantop-cli.js';
import {
  Watcher, bytesOnlyOf, normalisedSave, perUserDelta, perUserOf, runUsersCli, usersCliArgs, usersCliEnv, type PerUser, type UsersDoc,
} from './users-cli.js';

const labSkip = gatewaySkipReason();
const skip = labSkip !== false ? labSkip : existsSync(CLI_PATH) ? false : 'dist/cli.js is not built (npm run build)';

describe('users mode over IPv4 and IPv6 (gateway lab, real CLI)', { skip }, () => {
  let lab: GatewayLab;
  const dir = mkdtempSync(join(tmpdir(), 'lantop-users-ipv6-'));
  const watchers: Watcher[] = [];
  const sessions: GatewaySession[] = [];
  const measured: string[] = [];
  let saveBefore = '';
  const users = () => lab.users.map((u) => u.name);
  const argv = (args: readonly string[]) => usersCliArgs(CLI_PATH, lab.gatewayConsoleIp, dir, args);
  const env = () => usersCliEnv(lab.root.password, dir);
  const save = async () => {
    const v4 = await lab.exec(['iptables-save']);
    const v6 = await lab.exec(['ip6tables-save']);
    return normalisedSave(v4.stdout) + '\n--- ip6tables\n' + normalisedSave(v6.stdout);
  };
  const quiet = async (w: Watcher, what: string): Promise<{ lantop: PerUser; oracle: PerUser }> => {
    await lab.settle();
    const doc = await w.next(what);
    const oracle = bytesOnlyOf(await lab.oracleByUser());
    await lab.resetOracle();
    return { lantop: perUserOf(doc), oracle };
  };

  before(async () => {
    lab = await startGatewayLab({ ipv6: true });
    // A firewall of the gateway's own in both families (as users-mode-e2e.test.ts): lantop's jumps go first.
    for (const tool of ['iptables', 'ip6tables']) {
      for (const rule of [['INPUT', '-i', 'lo'], ['OUTPUT', '-o', 'lo']]) {
        const r = await lab.exec([tool, '-A', ...rule, '-j', 'ACCEPT']);
        assert.equal(r.code, 0, r.stderr);
      }
    }
    saveBefore = await save();
  });

  after(async () => {
    for (const w of watchers) await w.stop().catch(() => undefined);
    for (const s of sessions) await s.end().catch(() => undefined);
    if (measured.length > 0) process.stderr.write(`users-ipv6 e2e, measured:\n  ${measured.join('\n  ')}\n`);
    await lab?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('sshd listens on both families; bob logs in over IPv6 (auth.log names his IPv6 address)', async () => {
    await lab.waitForLog(/ sshd\[\d+\]: Server listening on :: port 22\.$/);
    const bob = await lab.login(2, 'bob', { tunnel: 'L', family: 6 });
    sessions.push(bob);
    assert.equal(bob.family, 6);
    const [line] = await lab.waitForLog(new RegExp(` sshd\\[\\d+\\]: Accepted password for bob from 2001:db8:ff::11 port ${bob.localPort} ssh2$`));
    assert.ok(line);
    const alice = await lab.login(1, 'alice', { tunnel: 'D' });
    sessions.push(alice);
    await lab.waitForLog(new RegExp(` sshd\\[\\d+\\]: Accepted password for alice from 203\\.0\\.113\\.10 port ${alice.localPort} ssh2$`));
  });

  test('alice (IPv4) and bob (IPv6) at once: rules in iptables and ip6tables, per-user deltas equal the oracle exactly', async () => {
    const [bob, alice] = sessions as [GatewaySession, GatewaySession];
    const w = new Watcher(argv(['usage', '--json', '--watch', '--interval', '1000']), env());
    watchers.push(w);
    const counted = (d: UsersDoc, user: string) => d.users.find((u) => u.user === user)?.sessions === 1;
    await w.waitFor((d) => counted(d, 'alice') && counted(d, 'bob'), 'both sessions counted');

    const v6 = (await lab.exec(['ip6tables', '-S', 'LANTOP_USERS'])).stdout;
    const v4 = (await lab.exec(['iptables', '-S', 'LANTOP_USERS'])).stdout;
    measured.push(`ip6tables -S LANTOP_USERS:\n${v6}`);
    const bobRules = v6.split('\n').filter((l) => /--comment "pid:\d+ user:bob"$/.test(l));
    assert.equal(bobRules.length, 2, v6);
    assert.match(v6, new RegExp(`^-A LANTOP_USERS -s 2001:db8:ff::11/128 -p tcp -m tcp --sport ${bob.localPort} --dport 22 -m comment --comment "pid:\\d+ user:bob"$`, 'm'));
    assert.match(v6, new RegExp(`^-A LANTOP_USERS -d 2001:db8:ff::11/128 -p tcp -m tcp --sport 22 --dport ${bob.localPort} -m comment --comment "pid:\\d+ user:bob"$`, 'm'));
    assert.doesNotMatch(v6, /user:alice/);
    assert.doesNotMatch(v4, /user:bob/);
    assert.equal(v4.split('\n').filter((l) => /--comment "pid:\d+ user:alice"$/.test(l)).length, 2, v4);
    assert.match((await lab.exec(['ip6tables', '-S', 'INPUT'])).stdout, /^-A INPUT -j LANTOP_USERS$/m);

    const base = await quiet(w, 'the first quiet point');
    const [movedA, movedB] = await Promise.all([
      lab.pushThroughTunnel(alice, { downBytes: 250_000, upBytes: 40_000 }),
      lab.pushThroughTunnel(bob, { downBytes: 180_000, upBytes: 90_000 }),
    ]);
    assert.deepEqual([movedA.downBytes, movedA.upBytes, movedB.downBytes, movedB.upBytes], [250_000, 40_000, 180_000, 90_000]);
    const point = await quiet(w, 'after both pushes');
    const got = perUserDelta(base.lantop, point.lantop, users());
    measured.push(`IPv4 alice + IPv6 bob: lantop ${JSON.stringify(got)} oracle ${JSON.stringify(point.oracle)}`);
    // The oracle saw the bytes on each family's own sets (bob's SSH connection is IPv6 only).
    assert.ok(point.oracle['bob']!.downBytes > 180_000 && point.oracle['alice']!.downBytes > 250_000, JSON.stringify(point.oracle));
    assert.deepEqual(lab.sessions().map((s) => [s.user, s.family]).sort(), [['alice', 4], ['bob', 6]]);
    assert.deepEqual(got, point.oracle);

    // A second phase, bob alone: alice's delta is 0, bob's is the oracle's.
    await lab.pushThroughTunnel(bob, { downBytes: 12_345, upBytes: 67_890 });
    const second = await quiet(w, 'after bob alone');
    const got2 = perUserDelta(point.lantop, second.lantop, users());
    measured.push(`IPv6 bob alone: lantop ${JSON.stringify(got2)} oracle ${JSON.stringify(second.oracle)}`);
    assert.deepEqual(got2['alice'], { downBytes: 0, upBytes: 0 });
    assert.deepEqual(got2, second.oracle);
    await w.stop();
  });

  test('teardown --mode users leaves iptables-save and ip6tables-save as before', async () => {
    const r = await runUsersCli(argv(['teardown', '--yes']), env());
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await save(), saveBefore);
  });
});
