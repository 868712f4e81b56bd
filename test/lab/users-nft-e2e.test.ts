// test-file-timeout: 300 (measured ~25 s alone; waits for the machine-wide lab lock, up to 5 min)
// Users mode on an nftables-only gateway (issue 18, "The rules in nftables"): the gateway lab with
// `backend: 'none'` has no iptables or ip6tables at all (as after `apt purge iptables`; nft stays),
// and Debian 12's own /etc/nftables.conf ruleset loaded (table inet filter, hooks input/forward/
// output, policy accept). The REAL built CLI is never told the backend: its detection sees what the
// gateway answers (`which` finds nft, no iptables) and counts with `table inet lantop_users`.
// One quiet phase with per-user bytes equal to the oracle exactly; lantop restarted mid-session
// recovers the sessions from the nft rules' comments with the same counters (no double count) and
// the next quiet phase is exact again; teardown leaves `nft list ruleset` as before.
// Needs root and the gateway lab's packages; otherwise skipped with one loud line.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HOSTILE_USER, gatewaySkipReason, startGatewayLab, type GatewayLab, type GatewaySession } from './gateway-lab.js';
import { CLI_PATH } from './lantop-cli.js';
import {
  Watcher, bytesOnlyOf, normalisedRuleset, perUserDelta, perUserOf, runUsersCli, usersCliArgs, usersCliEnv, type PerUser, type UsersDoc,
} from './users-cli.js';

const labSkip = gatewaySkipReason();
const skip = labSkip !== false ? labSkip : existsSync(CLI_PATH) ? false : 'dist/cli.js is not built (npm run build)';

/** Debian 12's /etc/nftables.conf (nftables 1.0.6-2+deb12u2), as `systemctl enable nftables` loads it. */
const DEBIAN_NFTABLES_CONF = `flush ruleset

table inet filter {
	chain input {
		type filter hook input priority filter;
	}
	chain forward {
		type filter hook forward priority filter;
	}
	chain output {
		type filter hook output priority filter;
	}
}
`;

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('users mode on an nftables-only gateway (gateway lab, real CLI)', { skip }, () => {
  let lab: GatewayLab;
  const dir = mkdtempSync(join(tmpdir(), 'lantop-users-nft-'));
  const watchers: Watcher[] = [];
  const sessions: GatewaySession[] = [];
  const measured: string[] = [];
  let rulesetBefore = '';
  const users = () => lab.users.map((u) => u.name);
  const argv = (args: readonly string[]) => usersCliArgs(CLI_PATH, lab.gatewayConsoleIp, dir, args);
  const env = () => usersCliEnv(lab.root.password, dir);
  const watch = () => {
    const w = new Watcher(argv(['usage', '--json', '--watch', '--interval', '1000']), env());
    watchers.push(w);
    return w;
  };
  const ruleset = async () => normalisedRuleset((await lab.exec(['nft', 'list', 'ruleset'])).stdout);
  const usersTable = async () => (await lab.exec(['nft', 'list', 'table', 'inet', 'lantop_users'])).stdout;
  const quiet = async (w: Watcher, what: string): Promise<{ lantop: PerUser; oracle: PerUser }> => {
    await lab.settle();
    const doc = await w.next(what);
    const oracle = bytesOnlyOf(await lab.oracleByUser());
    await lab.resetOracle();
    return { lantop: perUserOf(doc), oracle };
  };
  const counted = (d: UsersDoc, user: string) => d.users.find((u) => u.user === user)?.sessions === 1;
  const push = async (s: GatewaySession, downBytes: number, upBytes: number) => {
    const moved = await lab.pushThroughTunnel(s, { downBytes, upBytes });
    assert.deepEqual([moved.downBytes, moved.upBytes], [downBytes, upBytes]);
  };

  before(async () => {
    lab = await startGatewayLab({ backend: 'none' });
    const loaded = await lab.exec(['nft', '-f', '-'], { input: DEBIAN_NFTABLES_CONF });
    assert.equal(loaded.code, 0, loaded.stderr);
    rulesetBefore = await ruleset();
  });

  after(async () => {
    for (const w of watchers) await w.stop().catch(() => undefined);
    for (const s of sessions) await s.end().catch(() => undefined);
    if (measured.length > 0) process.stderr.write(`users-nft e2e, measured:\n  ${measured.join('\n  ')}\n`);
    await lab?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the gateway has no iptables: `which` finds nft only, iptables is not found', async () => {
    const which = await lab.exec(['which', 'iptables', 'ip6tables', 'iptables-save', 'iptables-restore']);
    assert.equal(which.code, 1);
    assert.equal(which.stdout, '');
    assert.equal((await lab.exec(['which', 'nft'])).stdout.trim(), '/usr/sbin/nft');
    const viaShell = await lab.exec(['sh', '-c', 'iptables -V']);
    assert.equal(viaShell.code, 127, viaShell.stderr);
  });

  test('nft backend picked by detection; a quiet phase exact; a restart recovers the sessions from the rule comments', async () => {
    const alice = await lab.login(1, 'alice', { tunnel: 'D' });
    const odd = await lab.login(2, HOSTILE_USER, { tunnel: 'L' });
    sessions.push(alice, odd);
    const w1 = watch();
    await w1.waitFor((d) => counted(d, 'alice') && counted(d, HOSTILE_USER), 'both sessions counted');
    const table = await usersTable();
    measured.push(`nft list table inet lantop_users:\n${table}`);
    for (const s of [alice, odd]) {
      const tag = `comment "pid:\\d+ user:${escape(s.user)}"`;
      assert.match(table, new RegExp(`ip saddr ${escape(s.client.ip)} tcp sport ${s.localPort} tcp dport 22 counter packets \\d+ bytes \\d+ ${tag}`));
      assert.match(table, new RegExp(`ip daddr ${escape(s.client.ip)} tcp sport 22 tcp dport ${s.localPort} counter packets \\d+ bytes \\d+ ${tag}`));
    }
    assert.match(table, /chain users_in \{\n\s+type filter hook input priority filter - 10; policy accept;/);

    let base = (await quiet(w1, 'the first quiet point')).lantop;
    await push(alice, 210_000, 33_000);
    await push(odd, 44_444, 120_000);
    let point = await quiet(w1, 'phase A');
    let got = perUserDelta(base, point.lantop, users());
    measured.push(`A (nft backend): lantop ${JSON.stringify(got)} oracle ${JSON.stringify(point.oracle)}`);
    assert.deepEqual(got, point.oracle);
    const beforeRestart = w1.docs.at(-1)!;

    // lantop restarts mid-session: the new one reads the sessions back from the rules' comments.
    await w1.stop();
    const w2 = watch();
    const recovered = await w2.waitFor((d) => counted(d, 'alice') && counted(d, HOSTILE_USER), 'the restarted lantop counts both sessions');
    const liveBytes = (d: UsersDoc) => Object.fromEntries(d.users.flatMap((u) => u.sessionList.filter((s) => s.live).map((s) => [s.id, [s.downBytes, s.upBytes]])));
    assert.deepEqual(liveBytes(recovered), liveBytes(beforeRestart), 'the same per-session counters after the restart (from the nft rules)');
    assert.deepEqual(perUserOf(recovered), perUserOf(beforeRestart), 'the same per-user totals after the restart');
    assert.ok(w2.docs.some((d) => d.notices.some((n) => /recovered 2 session\(s\) from the rules' comments/.test(n.text))), 'says it recovered the sessions');
    // No second set of rules: still two per session.
    assert.equal((await usersTable()).split('\n').filter((l) => /comment "pid:\d+ user:/.test(l)).length, 4);
    base = (await quiet(w2, 'after the restart')).lantop;
    assert.deepEqual(base, perUserOf(beforeRestart), 'nothing counted twice across the restart');

    await push(alice, 15_000, 150_000);
    await push(odd, 99_000, 1_234);
    point = await quiet(w2, 'phase B');
    got = perUserDelta(base, point.lantop, users());
    measured.push(`B (after a restart, nft): lantop ${JSON.stringify(got)} oracle ${JSON.stringify(point.oracle)}`);
    assert.deepEqual(got, point.oracle);
    await w2.stop();
  });

  test('teardown --mode users leaves `nft list ruleset` as before', async () => {
    const r = await runUsersCli(argv(['teardown', '--yes']), env());
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await ruleset(), rulesetBefore);
    assert.doesNotMatch(await ruleset(), /lantop_users/);
  });
});
