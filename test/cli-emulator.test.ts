// Every plain command of the built binary against the emulated router (loopback only), checked on
// its JSON output and exit code (issue 9). The emulator runs in this process with a manual clock;
// lantop runs as a child process (async spawn, so the emulator keeps answering meanwhile).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulatedRouter, type EmulatedRouter } from '../src/emulator/index.js';
import { runCliAsync } from './helpers/run-cli.js';

function chainNamed(router: EmulatedRouter, name: string) {
  return router.state.iptables.tables.get('filter')?.chains.find((c) => c.name === name);
}
function trafficChain(router: EmulatedRouter) {
  return chainNamed(router, 'TRAFFIC');
}
/** lantop's chains in the default (split) layout. */
const LANTOP_CHAINS = ['TRAFFIC', 'TRAFFIC_DOWN', 'TRAFFIC_UP'];
/** The router's own WAN traffic (issue 19: reconciliation), jumped to from INPUT and OUTPUT. */
const ROUTER_CHAINS = ['TRAFFIC_IN', 'TRAFFIC_OUT'];
function forwardJumps(router: EmulatedRouter): number {
  return router.state.iptables.tables.get('filter')?.chains.find((c) => c.name === 'FORWARD')?.rules.filter((r) => r.target === 'TRAFFIC').length ?? 0;
}

/** A loopback port with nothing listening: bind, note the port, close. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  assert.ok(address !== null && typeof address === 'object');
  return address.port;
}

/** Runs lantop while the emulator's simulated clock moves (so counters grow between polls). */
async function withTicking<T>(router: EmulatedRouter, fn: () => Promise<T>): Promise<T> {
  const timer = setInterval(() => router.tick(1000), 100);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}

describe('lantop commands against the emulated router', () => {
  let router: EmulatedRouter;
  let dir: string;
  let env: Record<string, string>;
  let base: string[];
  const lantop = (args: string[], extraEnv: Record<string, string> = {}, input?: string) =>
    runCliAsync([...base, ...args], { ...env, ...extraEnv }, input === undefined ? {} : { input });

  before(async () => {
    router = await startEmulatedRouter({ clock: 'manual', hostCount: 3, churn: false, seed: 9 });
    dir = mkdtempSync(join(tmpdir(), 'lantop-cli-emu-'));
    env = { LANTOP_PASSWORD: router.password, LANTOP_CONFIG_DIR: join(dir, 'config'), LANTOP_DB: join(dir, 'history.sqlite') };
    base = ['--host', router.host, '--port', String(router.port), '--user', router.user];
  });
  after(async () => {
    await router?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const onlineIps = () => router.state.hosts.filter((h) => h.isOnline).map((h) => h.ip).sort();

  test('hosts --json lists the online hosts, none counted before setup', async () => {
    const { code, stdout, stderr } = await lantop(['hosts', '--json']);
    assert.equal(code, 0, stderr);
    const json = JSON.parse(stdout);
    assert.equal(json.schema, 1);
    assert.match(json.router, new RegExp(`^${router.host}:${router.port} over telnet$`));
    assert.ok(!Number.isNaN(Date.parse(json.at)));
    assert.deepEqual(json.hosts.map((h: { ip: string }) => h.ip).sort(), onlineIps());
    for (const h of json.hosts) {
      const sim = router.state.hosts.find((s) => s.ip === h.ip);
      assert.equal(h.mac, sim?.mac);
      assert.equal(h.counted, false);
      assert.deepEqual(Object.keys(h).sort(), ['addresses', 'counted', 'hostname', 'identity', 'iface', 'ip', 'mac']);
    }
  });

  test('setup --dry-run prints exactly the commands and changes nothing', async () => {
    const { code, stdout, stderr } = await lantop(['setup', '--dry-run']);
    assert.equal(code, 0, stderr);
    // The default layout: per-direction sub-chains, chains first, the FORWARD jump last.
    const ips = [...onlineIps()].sort((a, b) => Number(a.split('.')[3]) - Number(b.split('.')[3]));
    const expected = [
      'iptables -N TRAFFIC',
      'iptables -N TRAFFIC_DOWN',
      'iptables -N TRAFFIC_UP',
      'iptables -A TRAFFIC -i ppp0 -m comment --comment lantop -j TRAFFIC_DOWN',
      'iptables -A TRAFFIC -o ppp0 -m comment --comment lantop -j TRAFFIC_UP',
      ...ips.map((ip) => `iptables -A TRAFFIC_DOWN -d ${ip} -m comment --comment lantop -j RETURN`),
      ...ips.map((ip) => `iptables -A TRAFFIC_UP -s ${ip} -m comment --comment lantop -j RETURN`),
      'iptables -I FORWARD 1 -j TRAFFIC',
      'iptables -N TRAFFIC_IN',
      'iptables -N TRAFFIC_OUT',
      'iptables -A TRAFFIC_IN -i ppp0 -m comment --comment lantop',
      'iptables -A TRAFFIC_OUT -o ppp0 -m comment --comment lantop',
      'iptables -I INPUT 1 -j TRAFFIC_IN',
      'iptables -I OUTPUT 1 -j TRAFFIC_OUT',
    ];
    assert.deepEqual(stdout.trimEnd().split('\n'), expected);
    assert.equal(trafficChain(router), undefined, 'dry run created nothing');
  });

  test('an nftables --layout on this iptables router is a usage error that names both, and changes nothing', async () => {
    const { code, stderr } = await lantop(['setup', '--dry-run', '--layout', 'dynamic-sets']);
    assert.equal(code, 2);
    assert.match(stderr, /--layout dynamic-sets is an nftables layout, but this router counts with iptables/);
    assert.equal(trafficChain(router), undefined);
  });

  test('setup without --yes on a non-TTY is a usage error that changes nothing', async () => {
    const { code, stderr } = await lantop(['setup']);
    assert.equal(code, 2);
    assert.match(stderr, /Refusing to change the router without confirmation/);
    assert.match(stderr, /--yes/);
    assert.equal(trafficChain(router), undefined);
  });

  test('setup --yes installs the rules; a second run has nothing to do', async () => {
    const first = await lantop(['setup', '--yes']);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /verified/);
    const ruleCounts = () => LANTOP_CHAINS.map((name) => chainNamed(router, name)?.rules.length);
    assert.deepEqual(ruleCounts(), [2, onlineIps().length, onlineIps().length]);
    assert.equal(forwardJumps(router), 1);
    const second = await lantop(['setup', '--yes']);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /Nothing to do/);
    assert.deepEqual(ruleCounts(), [2, onlineIps().length, onlineIps().length], 'no rule added twice');
    assert.equal(forwardJumps(router), 1, 'no second jump');
    const hosts = JSON.parse((await lantop(['hosts', '--json'])).stdout);
    assert.ok(hosts.hosts.length > 0);
    for (const h of hosts.hosts) assert.equal(h.counted, true, `${h.ip} counted after setup`);
  });

  test('usage --json: one schema-1 snapshot with counted hosts and shares that sum to 1', async () => {
    const { code, stdout, stderr } = await withTicking(router, () => lantop(['usage', '--json', '--interval', '500', '--count', '3']));
    assert.equal(code, 0, stderr);
    const lines = stdout.trim().split('\n');
    assert.equal(lines.length, 1, 'without --watch only the last snapshot is printed');
    const s = JSON.parse(lines[0] ?? '');
    assert.equal(s.schema, 1);
    assert.equal(s.router, `${router.host}:${router.port}`);
    assert.equal(s.connection, 'connected');
    assert.deepEqual(s.hosts.map((h: { ip: string }) => h.ip).sort(), onlineIps());
    assert.ok(s.totals.downBytes > 0, 'traffic was counted');
    const sum = (key: 'downShare' | 'upShare' | 'downBytes' | 'upBytes') => s.hosts.reduce((acc: number, h: Record<string, number>) => acc + (h[key] ?? 0), 0);
    assert.ok(Math.abs(sum('downShare') - 1) < 0.001, `down shares sum to ${sum('downShare')}`);
    assert.ok(Math.abs(sum('upShare') - 1) < 0.001, `up shares sum to ${sum('upShare')}`);
    assert.equal(sum('downBytes'), s.totals.downBytes);
    assert.equal(sum('upBytes'), s.totals.upBytes);
    for (const h of s.hosts) {
      assert.equal(h.counted, true);
      assert.ok(Number.isInteger(h.downBps) && h.downBps >= 0);
    }
  });

  test('usage --watch --json --count 3 prints three NDJSON snapshots', async () => {
    const { code, stdout, stderr } = await withTicking(router, () => lantop(['usage', '--watch', '--json', '--interval', '500', '--count', '3']));
    assert.equal(code, 0, stderr);
    const lines = stdout.trim().split('\n');
    assert.equal(lines.length, 3);
    const snapshots = lines.map((line) => JSON.parse(line));
    for (const s of snapshots) assert.equal(s.schema, 1);
    // Cumulative totals never go down from one poll to the next.
    for (let i = 1; i < snapshots.length; i++) assert.ok(snapshots[i].totals.downBytes >= snapshots[i - 1].totals.downBytes);
  });

  test('usage --csv prints the documented columns', async () => {
    const { code, stdout, stderr } = await lantop(['usage', '--csv', '--interval', '500', '--count', '1']);
    assert.equal(code, 0, stderr);
    const [header, ...rows] = stdout.trim().split('\n');
    assert.equal(header, 'at,ip,mac,hostname,down_bytes,up_bytes,down_bps,up_bps,down_share,up_share,counted,identity');
    assert.equal(rows.length, onlineIps().length);
  });

  test('report --json after usage has the recorded hosts', async () => {
    const { code, stdout, stderr } = await lantop(['report', '--json', '--period', 'all']);
    assert.equal(code, 0, stderr);
    const r = JSON.parse(stdout);
    assert.equal(r.schema, 1);
    assert.equal(r.router, `${router.host}:${router.port}`);
    assert.equal(r.period, 'all');
    assert.ok(r.hosts.length > 0, 'usage recorded history');
    for (const h of r.hosts) assert.deepEqual(Object.keys(h).sort(), ['addresses', 'downBytes', 'hostname', 'identity', 'ip', 'mac', 'upBytes']);
    assert.equal(r.hosts.reduce((a: number, h: { downBytes: number }) => a + h.downBytes, 0), r.totals.downBytes);
    assert.ok(r.totals.downBytes > 0);
  });

  test('flush --yes empties lantop\'s chains but keeps them and the jump', async () => {
    const dry = await lantop(['flush', '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.deepEqual(dry.stdout.trim().split('\n'), [...LANTOP_CHAINS, ...ROUTER_CHAINS].map((c) => `iptables -F ${c}`));
    const { code, stderr } = await lantop(['flush', '--yes']);
    assert.equal(code, 0, stderr);
    for (const name of [...LANTOP_CHAINS, ...ROUTER_CHAINS]) assert.equal(chainNamed(router, name)?.rules.length, 0, `${name} empty`);
    assert.equal(forwardJumps(router), 1);
    const hosts = JSON.parse((await lantop(['hosts', '--json'])).stdout);
    for (const h of hosts.hosts) assert.equal(h.counted, false);
  });

  test('teardown --yes removes the jump and lantop\'s chains; again = nothing to do', async () => {
    const { code, stderr } = await lantop(['teardown', '--yes']);
    assert.equal(code, 0, stderr);
    for (const name of [...LANTOP_CHAINS, ...ROUTER_CHAINS]) assert.equal(chainNamed(router, name), undefined, `${name} removed`);
    assert.equal(forwardJumps(router), 0);
    const again = await lantop(['teardown', '--yes']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /Nothing to do/);
  });

  test('a wrong password exits 3', async () => {
    const { code, stderr } = await lantop(['hosts', '--json'], { LANTOP_PASSWORD: 'not-the-password' });
    assert.equal(code, 3, stderr);
    assert.match(stderr, /^lantop: /m);
  });

  test('an unreachable router exits 4', async () => {
    const port = await closedPort();
    const { code, stderr } = await runCliAsync(['--host', '127.0.0.1', '--port', String(port), '--timeout', '3000', 'hosts', '--json'], env);
    assert.equal(code, 4, stderr);
  });

  test('usage errors exit 2', async () => {
    for (const args of [['usage', '--interval', '10'], ['usage', '--count', '0'], ['report', '--since', 'not-a-date'], ['--port', '99999', 'hosts'], ['serve', '--listen', 'nonsense']]) {
      const { code, stderr } = await lantop(args);
      assert.equal(code, 2, `${args.join(' ')}: ${stderr}`);
      assert.match(stderr, /lantop: /);
    }
    const noHost = await runCliAsync(['hosts', '--json'], env);
    assert.equal(noHost.code, 2);
    assert.match(noHost.stderr, /No router address/);
  });

  test('config set/get/list/path', async () => {
    const path = await runCliAsync(['config', 'path'], env);
    assert.equal(path.code, 0, path.stderr);
    assert.ok(path.stdout.trim().startsWith(join(dir, 'config')));
    assert.equal((await runCliAsync(['config', 'set', 'host', '127.0.0.1'], env)).code, 0);
    assert.equal((await runCliAsync(['config', 'set', 'port', String(router.port)], env)).code, 0);
    assert.equal((await runCliAsync(['--profile', 'lab', 'config', 'set', 'wan', 'eth0'], env)).code, 0);
    const get = await runCliAsync(['config', 'get', 'port'], env);
    assert.equal(get.code, 0);
    assert.equal(get.stdout.trim(), String(router.port));
    assert.equal((await runCliAsync(['config', 'get', 'user'], env)).code, 2, 'unset key');
    assert.equal((await runCliAsync(['config', 'set', 'nonsense', 'x'], env)).code, 2, 'unknown key');
    assert.equal((await runCliAsync(['config', 'set', 'port', 'abc'], env)).code, 2, 'bad port');
    const list = await runCliAsync(['config', 'list'], env);
    assert.equal(list.code, 0);
    const profiles = JSON.parse(list.stdout);
    assert.equal(profiles.default.host, '127.0.0.1');
    assert.equal(profiles.default.port, router.port);
    assert.equal(profiles.lab.wan, 'eth0');
    assert.equal(statSync(path.stdout.trim()).mode & 0o777, 0o600);
    // The saved profile is used when no flag is given.
    const hosts = await runCliAsync(['hosts', '--json'], env);
    assert.equal(hosts.code, 0, hosts.stderr);
    assert.deepEqual(JSON.parse(hosts.stdout).hosts.map((h: { ip: string }) => h.ip).sort(), onlineIps());
  });
});
