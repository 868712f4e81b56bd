// test-file-timeout: 400
// Users mode end to end (issue 18): the REAL built CLI (`npm run build`, then `node dist/cli.js`)
// logs in to the gateway lab as root over SSH (198.51.100.129, from the root namespace) and runs
// `usage --mode users --json --watch`, while two users (alice, and `_-odd-name$`, the hostile-
// looking valid name) log in from the clients through `ssh -D`/`-L` tunnels; bob never logs in.
// alice has two overlapping sessions, one of which ends; her other one reconnects after a log
// rotation; lantop is restarted mid-session; teardown leaves iptables-save as it found it.
//
// What is exactly comparable, and why the test compares phase by phase: the oracle (the clients'
// nft counters per SSH connection) counts each connection from its SYN; lantop's rules count from
// the moment they are written, after the `Accepted` line — key exchange and authentication are in
// the oracle only. At a session's end, the last packets (FIN, the close of the channel) cross after
// `session closed`, when lantop may have read the counters for the last time and removed the
// rules. So the test takes "quiet points" (lab.settle(): no packet moves on any client for 200 ms;
// idle `ssh -N` sessions send nothing): at each, a lantop poll that started after the quiet began
// (R) and the oracle since the last reset (O), then resetOracle(). Between two quiet points with
// only pushes through live, counted sessions, lantop's per-user delta R₂ − R₁ must equal O exactly
// (bytes and both directions, every lab user). Logins, ends, reconnects and the restart happen
// between phases ("gaps"): there the test checks what must hold — an ended session's bytes stay in
// its user's total, a new session gets its rules, the restarted lantop recovers the sessions from
// the rules' comments with the same per-session counters — and starts the next phase afresh.
// History (issue 18, app/users-history.ts): at every quiet point `report --mode users --json
// --period today` gives the same per-user bytes as the running `usage` (everything it counted is
// recorded), so over each phase the report's delta is the oracle's, and the totals go on across
// the restart with the ended session's bytes in them.
// Needs root and the gateway lab's packages; otherwise skipped with one loud line.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HOSTILE_USER, gatewaySkipReason, startGatewayLab, type GatewayLab, type GatewaySession, type PortCounts } from './gateway-lab.js';
import { CLI_PATH } from './lantop-cli.js';
import { Watcher, runCliOnce, type PerUser, type UsersDoc } from './users-cli.js';

const labSkip = gatewaySkipReason();
const skip = labSkip !== false ? labSkip : existsSync(CLI_PATH) ? false : 'dist/cli.js is not built (npm run build)';

const perUser = (doc: UsersDoc): PerUser => Object.fromEntries(doc.users.map((u) => [u.user, { downBytes: u.downBytes, upBytes: u.upBytes }]));

function deltaOf(a: PerUser, b: PerUser, users: readonly string[]): PerUser {
  return Object.fromEntries(users.map((u) => [u, { downBytes: (b[u]?.downBytes ?? 0) - (a[u]?.downBytes ?? 0), upBytes: (b[u]?.upBytes ?? 0) - (a[u]?.upBytes ?? 0) }]));
}

const bytesOnly = (o: Record<string, PortCounts>): PerUser => Object.fromEntries(Object.entries(o).map(([u, c]) => [u, { downBytes: c.downBytes, upBytes: c.upBytes }]));

/** iptables-save without its counters and comment lines (they change with every packet and run). */
const normalised = (text: string) => text.split('\n').filter((l) => !l.startsWith('#')).map((l) => l.replace(/\[\d+:\d+\]/g, '[]')).join('\n');

describe('users mode end to end (gateway lab, real CLI)', { skip }, () => {
  let lab: GatewayLab;
  const dir = mkdtempSync(join(tmpdir(), 'lantop-users-e2e-'));
  const watchers: Watcher[] = [];
  let saveBefore = '';
  const measured: string[] = [];
  const users = () => lab.users.map((u) => u.name);

  const argv = (args: readonly string[]) => [CLI_PATH, '--host', lab.gatewayConsoleIp, '--protocol', 'ssh', '--user', 'root', '--mode', 'users', '--timeout', '10000', '--db', join(dir, 'history.sqlite'), '--no-color', ...args];
  const env = (): NodeJS.ProcessEnv => ({ ...process.env, LANTOP_PASSWORD: lab.root.password, LANTOP_CONFIG_DIR: join(dir, 'config'), NO_COLOR: '1' });
  const runCli = (args: readonly string[]) => runCliOnce(argv(args), env());
  const watch = () => {
    const w = new Watcher(argv(['usage', '--json', '--watch', '--interval', '1000']), env());
    watchers.push(w);
    return w;
  };
  const save = async () => {
    const v4 = await lab.exec(['iptables-save']);
    const v6 = await lab.exec(['ip6tables-save']);
    return normalised(v4.stdout) + '\n--- ip6tables\n' + normalised(v6.stdout);
  };
  const rulesText = async () => (await lab.exec(['iptables', '-S', 'LANTOP_USERS'])).stdout;
  /** `report --mode users --json --period today`: per-user bytes from the history database. */
  const reported = async (): Promise<PerUser> => {
    const r = await runCli(['report', '--json', '--period', 'today']);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { router: string; hosts: Array<{ identity: string; hostname: string; downBytes: number; upBytes: number }> };
    assert.equal(doc.router, `users@${lab.gatewayConsoleIp}:22`);
    for (const h of doc.hosts) assert.equal(h.identity, `user:${h.hostname}`);
    return Object.fromEntries(doc.hosts.map((h) => [h.hostname, { downBytes: h.downBytes, upBytes: h.upBytes }]));
  };
  const fill = (p: PerUser): PerUser => Object.fromEntries(users().map((u) => [u, p[u] ?? { downBytes: 0, upBytes: 0 }]));
  /** The report agrees with the running usage at a quiet point (every lab user; 0 for one never seen). */
  const reportMatches = async (what: string, lantop: PerUser): Promise<PerUser> => {
    const got = await reported();
    assert.deepEqual(fill(got), fill(lantop), `${what}: report --mode users differs from usage's totals`);
    return got;
  };
  const oracleSum: PerUser = {};
  const reportSum: PerUser = {};
  const addTo = (sum: PerUser, d: PerUser) => {
    for (const [u, v] of Object.entries(d)) sum[u] = { downBytes: (sum[u]?.downBytes ?? 0) + v.downBytes, upBytes: (sum[u]?.upBytes ?? 0) + v.upBytes };
  };
  /** A counted phase: the report's delta over it is the oracle's (summed over the phases at the end). */
  const reportPhase = async (name: string, before: PerUser, point: { lantop: PerUser; oracle: PerUser }): Promise<PerUser> => {
    const after = await reportMatches(name, point.lantop);
    const d = deltaOf(before, after, users());
    assert.deepEqual(d, point.oracle, `${name}: the report's per-user delta differs from the oracle`);
    addTo(reportSum, d);
    addTo(oracleSum, point.oracle);
    return after;
  };

  /** A quiet point: a lantop poll after the clients settled, and the oracle since the last reset, then a reset. */
  const quiet = async (w: Watcher, what: string): Promise<{ lantop: PerUser; oracle: PerUser }> => {
    await lab.settle();
    const doc = await w.next(what);
    const oracle = bytesOnly(await lab.oracleByUser());
    await lab.resetOracle();
    return { lantop: perUser(doc), oracle };
  };
  const comparePhase = (name: string, from: PerUser, to: { lantop: PerUser; oracle: PerUser }) => {
    const got = deltaOf(from, to.lantop, users());
    measured.push(`${name}: lantop ${JSON.stringify(got)} oracle ${JSON.stringify(to.oracle)}`);
    assert.deepEqual(got, to.oracle, `${name}: lantop's per-user delta differs from the oracle`);
  };
  const push = async (s: GatewaySession, downBytes: number, upBytes: number) => {
    const moved = await lab.pushThroughTunnel(s, { downBytes, upBytes });
    assert.deepEqual([moved.downBytes, moved.upBytes], [downBytes, upBytes]);
  };

  before(async () => {
    lab = await startGatewayLab();
    // A gateway with a firewall of its own (an empty filter table would come back as one with empty
    // chains, which iptables cannot take away): lantop's jumps go in before these rules.
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
    if (measured.length > 0) process.stderr.write(`users-mode e2e, measured:\n  ${measured.join('\n  ')}\n`);
    await lab?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('two users, three sessions, an end, a rotation, a reconnect and a restart: per-user bytes equal the oracle phase by phase', async () => {
    const a1 = await lab.login(1, 'alice', { tunnel: 'D' });
    const a2 = await lab.login(2, 'alice', { tunnel: 'L' });
    const odd = await lab.login(2, HOSTILE_USER, { tunnel: 'D' });
    const w1 = watch();
    const counted = (d: UsersDoc, user: string, n: number) => d.users.find((u) => u.user === user)?.sessions === n;
    await w1.waitFor((d) => counted(d, 'alice', 2) && counted(d, HOSTILE_USER, 1), 'all three sessions counted');
    const first = w1.docs.at(-1)!;
    assert.equal(first.mode, 'users');
    assert.equal(first.excluded.self?.ip, lab.consoleIp, 'lantop\'s own login is named as excluded');
    assert.ok(!first.users.some((u) => u.user === 'root'), 'lantop\'s own root login is not counted');
    assert.ok(first.hosts.some((h) => h.identity === `user:${HOSTILE_USER}` && h.hostname === HOSTILE_USER));
    const rules = await rulesText();
    for (const s of [a1, a2, odd]) assert.match(rules, new RegExp(`--sport ${s.localPort} --dport 22 .*--comment "pid:\\d+ user:${s.user.replace(/\$/g, '\\$')}"`));

    let base = (await quiet(w1, 'the first quiet point')).lantop;
    let rep = await reportMatches('the first quiet point', base);

    // Phase A: all three sessions move bytes.
    await push(a1, 200_000, 10_000);
    await push(a2, 30_000, 60_000);
    await push(odd, 5_000, 7_000);
    let point = await quiet(w1, 'phase A');
    comparePhase('A (three sessions)', base, point);
    rep = await reportPhase('A', rep, point);
    base = point.lantop;

    // Gap: alice's second session ends; its rules go, its bytes stay in her total.
    await a2.end();
    await w1.waitFor((d) => counted(d, 'alice', 1), 'the ended session dropped', w1.docs.length - 1);
    assert.doesNotMatch(await rulesText(), new RegExp(`--sport ${a2.localPort} `));
    point = await quiet(w1, 'after the end');
    assert.ok(point.lantop['alice']!.downBytes >= base['alice']!.downBytes && point.lantop['alice']!.upBytes >= base['alice']!.upBytes, 'an ended session keeps its bytes');
    base = point.lantop;
    rep = await reportMatches('after the end', base);

    // Phase B: the two live sessions.
    await push(a1, 50_000, 123_456);
    await push(odd, 77_777, 1_000);
    point = await quiet(w1, 'phase B');
    comparePhase('B (after an end)', base, point);
    rep = await reportPhase('B', rep, point);
    base = point.lantop;

    // Gap: the log rotates, then alice reconnects: her new Accepted line is in the new auth.log.
    await lab.rotateLog();
    const a3 = await lab.reconnect(a1);
    await w1.waitFor((d) => d.users.find((u) => u.user === 'alice')?.sessionList.some((s) => s.live && s.port === a3.localPort) === true, 'the reconnected session counted', w1.docs.length - 1);
    assert.ok(w1.docs.some((d) => d.notices.some((n) => /auth\.log was rotated: read the rest of \/var\/log\/auth\.log\.1, then the new file/.test(n.text))), 'the rotation was followed');
    point = await quiet(w1, 'after the reconnect');
    base = point.lantop;
    rep = await reportMatches('after the reconnect', base);

    // Phase C: the new session and the hostile-named one.
    await push(a3, 300_000, 4_000);
    await push(odd, 2_000, 250_000);
    point = await quiet(w1, 'phase C');
    comparePhase('C (after rotation and reconnect)', base, point);
    rep = await reportPhase('C', rep, point);
    const beforeRestart = w1.docs.at(-1)!;

    // Gap: lantop restarts mid-session; the new one finds the sessions by the rules' comments.
    await w1.stop();
    const w2 = watch();
    const recovered = await w2.waitFor((d) => counted(d, 'alice', 1) && counted(d, HOSTILE_USER, 1), 'the restarted lantop counts both sessions');
    const liveBytes = (d: UsersDoc) => Object.fromEntries(d.users.flatMap((u) => u.sessionList.filter((s) => s.live).map((s) => [s.id, [s.downBytes, s.upBytes]])));
    assert.deepEqual(liveBytes(recovered), liveBytes(beforeRestart), 'the same per-session counters after the restart (from the rules)');
    assert.ok(w2.docs.some((d) => d.notices.some((n) => /recovered 2 session\(s\) from the rules' comments/.test(n.text))), 'says it recovered the sessions');
    // The history's state: the per-user totals go on, the ended sessions' bytes (a1, a2) in alice's.
    assert.deepEqual(perUser(recovered), perUser(beforeRestart), 'the same per-user totals after the restart (from the history)');
    point = await quiet(w2, 'after the restart');
    base = point.lantop;
    rep = await reportMatches('after the restart', base);

    // Phase D: after the restart.
    await push(a3, 12_345, 54_321);
    await push(odd, 99_999, 11_111);
    point = await quiet(w2, 'phase D');
    comparePhase('D (after a restart)', base, point);
    rep = await reportPhase('D', rep, point);
    measured.push(`totals at the end (lantop, this run): ${JSON.stringify(point.lantop)}`);
    measured.push(`report --mode users, summed over phases A–D: ${JSON.stringify(reportSum)} oracle ${JSON.stringify(oracleSum)}`);
    assert.deepEqual(fill(reportSum), fill(oracleSum));
    await w2.stop();
    // After the watcher stopped: the same per-user bytes from the history alone.
    assert.deepEqual(fill(await reported()), fill(point.lantop));
  });

  test('one-shot table and JSON; other commands say they are not in users mode yet', async () => {
    const table = await runCli(['usage', '--count', '1']);
    assert.equal(table.code, 0, table.stderr);
    measured.push(`the one-shot table:\n${table.stdout}`);
    assert.match(table.stdout, new RegExp(`${HOSTILE_USER.replace(/\$/g, '\\$')} \\(1 session\\)`));
    assert.match(table.stdout, /lantop's own login \(198\.51\.100\.254 port \d+\) is not counted/);
    const json = await runCli(['usage', '--json', '--count', '1']);
    assert.equal(json.code, 0, json.stderr);
    const doc = JSON.parse(json.stdout) as UsersDoc;
    assert.equal(doc.mode, 'users');
    assert.deepEqual(doc.users.filter((u) => u.sessions > 0).map((u) => u.user).sort(), [HOSTILE_USER, 'alice'].sort());
    // The report's other forms over the users history: users as the rows and the chart series.
    const csv = await runCli(['report', '--csv']);
    assert.equal(csv.code, 0, csv.stderr);
    assert.match(csv.stdout, /^user:alice,/m);
    const html = await runCli(['report', '--html', '-']);
    assert.equal(html.code, 0, html.stderr);
    assert.match(html.stdout, /alice/);
    for (const command of [['hosts'], ['doctor'], ['counter', 'list']]) {
      const r = await runCli(command);
      assert.equal(r.code, 2, `${command.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /is not yet in users mode/);
    }
  });

  test('--host local inside the gateway: two one-shot runs differ by exactly the oracle\'s bytes', async () => {
    // The built CLI run in the gateway's own namespaces (its /tmp, /var/log and iptables) as root.
    const local = async () => {
      const r = await lab.exec(['env', 'LANTOP_CONFIG_DIR=/tmp/lantop-users-local', 'LANTOP_MODE=users', process.execPath, CLI_PATH, '--host', 'local', '--db', '/tmp/lantop-users-local/history.sqlite', 'usage', '--json', '--count', '1'], { timeoutMs: 60_000 });
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as UsersDoc;
    };
    const live = lab.sessions().filter((s) => !s.ended);
    assert.equal(live.length, 2);
    await lab.settle();
    const first = await local();
    assert.equal(first.excluded.self, null, 'local mode has no login of its own to leave out');
    await lab.resetOracle();
    for (const s of live) await push(s, 40_000, 20_000);
    await lab.settle();
    const second = await local();
    const oracle = bytesOnly(await lab.oracleByUser());
    await lab.resetOracle();
    const got = deltaOf(perUser(first), perUser(second), users());
    measured.push(`local mode (two one-shot runs): lantop ${JSON.stringify(got)} oracle ${JSON.stringify(oracle)}`);
    assert.deepEqual(got, oracle);
  });

  test('teardown --mode users leaves iptables-save and ip6tables-save as before', async () => {
    const dry = await runCli(['teardown', '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /^iptables -D INPUT -j LANTOP_USERS$/m);
    const r = await runCli(['teardown', '--yes']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await save(), saveBefore);
    // setup: one poll now puts the chain, its jumps and the live sessions' rules in; teardown again.
    const setup = await runCli(['setup']);
    assert.equal(setup.code, 0, setup.stderr);
    const rules = await rulesText();
    for (const s of lab.sessions().filter((x) => !x.ended)) assert.match(rules, new RegExp(`--sport ${s.localPort} --dport 22 `));
    assert.match((await lab.exec(['iptables', '-S', 'INPUT'])).stdout, /^-A INPUT -j LANTOP_USERS\n-A INPUT -i lo -j ACCEPT$/m);
    const again = await runCli(['setup', '--dry-run']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, '');
    assert.equal((await runCli(['teardown', '--yes'])).code, 0);
    assert.equal(await save(), saveBefore);
  });
});
