// test-file-timeout: 180
// Local mode end to end (issue 18): the built CLI (`node dist/cli.js`, `npm run build` first) runs
// INSIDE a throwaway gateway namespace with `--host local`, so its commands go to the namespace's
// own shell: hosts lists the LAN host, setup installs lantop's rules in the gateway's iptables,
// usage reads them, teardown leaves `iptables-save`/`ip6tables-save` as before. Root only (skips
// with one line otherwise, fails under LANTOP_REQUIRE_LAB=1).
//
// The namespaces: LAN host H (198.51.100.10) — gateway G (lan0 198.51.100.1/24; WAN ppp0
// 203.0.113.2/30, default route through it) — W, the far end of ppp0 (203.0.113.1), which
// exists only because this kernel may lack the dummy link type; nothing is sent to it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from './helpers/run-cli.js';

const HOST = '198.51.100.10';
const STEP_MS = 20_000;

function skipReason(): string | false {
  const why =
    process.getuid?.() !== 0
      ? 'not root'
      : !existsSync(CLI)
        ? 'dist/cli.js is not built (npm run build)'
        : ['ip', 'iptables', 'iptables-save', 'iptables-restore', 'ip6tables-save', 'ip6tables-restore', 'busybox'].map((p) => (spawnSync('sh', ['-c', `command -v ${p}`]).status !== 0 ? `${p} is not installed` : '')).find((w) => w !== '');
  if (!why) return false;
  if (process.env['LANTOP_REQUIRE_LAB'] === '1') throw new Error(`LANTOP_REQUIRE_LAB=1 but the local-mode test cannot run: ${why}`);
  process.stderr.write(`\n*** LOCAL-MODE NETNS TEST SKIPPED: ${why} ***\n\n`);
  return `cannot run: ${why}`;
}

function sh(argv: readonly string[], input?: string): { status: number | null; out: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', input: input ?? '', timeout: STEP_MS });
  return { status: r.status, out: (r.stdout ?? '') + (r.stderr ?? '') };
}

function ok(argv: readonly string[], input?: string): string {
  const r = sh(argv, input);
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.out}`);
  return r.out;
}

class GatewayNetns {
  readonly tag = `ltlm${process.pid % 10000}`;
  readonly g = `${this.tag}g`;
  readonly h = `${this.tag}h`;
  readonly w = `${this.tag}w`;

  constructor() {
    process.once('exit', () => this.destroy());
    for (const ns of [this.g, this.h, this.w]) {
      sh(['ip', 'netns', 'del', ns]);
      ok(['ip', 'netns', 'add', ns]);
      ok(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    }
    ok(['ip', '-n', this.g, 'link', 'add', 'lan0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', this.h]);
    ok(['ip', '-n', this.g, 'link', 'add', 'ppp0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', this.w]);
    for (const [ns, dev] of [[this.g, 'lan0'], [this.g, 'ppp0'], [this.h, 'eth0'], [this.w, 'eth0']] as const) ok(['ip', '-n', ns, 'link', 'set', dev, 'up']);
    ok(['ip', '-n', this.g, 'addr', 'add', '198.51.100.1/24', 'dev', 'lan0']);
    ok(['ip', '-n', this.g, 'addr', 'add', '203.0.113.2/30', 'dev', 'ppp0']);
    ok(['ip', '-n', this.h, 'addr', 'add', `${HOST}/24`, 'dev', 'eth0']);
    ok(['ip', '-n', this.w, 'addr', 'add', '203.0.113.1/30', 'dev', 'eth0']);
    ok(['ip', '-n', this.g, 'route', 'add', 'default', 'via', '203.0.113.1', 'dev', 'ppp0']);
    ok(['ip', '-n', this.h, 'route', 'add', 'default', 'via', '198.51.100.1']);
    ok(['ip', 'netns', 'exec', this.g, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  }

  in(ns: string, argv: readonly string[], input?: string): string {
    return ok(['ip', 'netns', 'exec', ns, ...argv], input);
  }

  /** The host pings the gateway, so the gateway's ARP table holds it. */
  warmUp(): void {
    for (let i = 0; i < 10; i++) {
      if (sh(['ip', 'netns', 'exec', this.h, 'busybox', 'ping', '-q', '-c', '1', '-W', '1', '198.51.100.1']).out.includes('1 packets received')) return;
    }
    throw new Error('the LAN host cannot reach the gateway');
  }

  /** Both rulesets, without the lines that change by themselves (timestamps, counters). */
  rulesets(): string {
    const save = (tool: string) => this.in(this.g, [tool]).split('\n').filter((l) => !l.startsWith('#')).map((l) => l.replace(/\[\d+:\d+\]$/, '')).join('\n');
    return `${save('iptables-save')}\n---\n${save('ip6tables-save')}`;
  }

  destroy(): void {
    for (const ns of [this.g, this.h, this.w]) sh(['ip', 'netns', 'del', ns]);
  }
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The real CLI in the gateway namespace, bounded; its config and history in `dir`. */
function lantopIn(ns: string, dir: string, args: readonly string[], timeoutMs = 30_000): Promise<Run> {
  // No password anywhere, and stdin closed: local mode must not ask for one.
  const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dir, LANTOP_CONFIG_DIR: join(dir, 'config'), LANTOP_DB: join(dir, 'history.sqlite'), NO_COLOR: '1' };
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function assertOk(r: Run, what: string): void {
  assert.equal(r.code, 0, `lantop ${what} exited ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /password/i, `lantop ${what} mentioned a password:\n${r.stderr}`);
}

const reason = skipReason();

describe('local mode in a gateway namespace', { skip: reason }, () => {
  let net: GatewayNetns;
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'lantop-local-mode-'));
    net = new GatewayNetns();
    net.warmUp();
    // A real gateway has its filter tables; a fresh namespace has none (iptables-nft makes them on
    // first change and leaves them), and "none" is no state teardown could be asked to restore.
    const emptyFilter = '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n';
    net.in(net.g, ['iptables-restore'], emptyFilter);
    net.in(net.g, ['ip6tables-restore'], emptyFilter);
  });

  after(() => {
    net?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('hosts, setup, usage and teardown through the namespace\'s own shell', async () => {
    const ruleset = net.rulesets();

    const hosts = await lantopIn(net.g, dir, ['hosts', '--host', 'local', '--json']);
    assertOk(hosts, 'hosts');
    const listed = JSON.parse(hosts.stdout) as { router: string; hosts: Array<{ ip: string; mac: string | null; iface: string | null }> };
    const host = listed.hosts.find((h) => h.ip === HOST);
    assert.ok(host, `the LAN host is listed: ${hosts.stdout}`);
    assert.equal(host.iface, 'lan0');
    assert.match(host.mac ?? '', /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/);

    const setup = await lantopIn(net.g, dir, ['setup', '--host', 'local', '--yes']);
    assertOk(setup, 'setup');
    const rules = net.in(net.g, ['iptables', '-S']);
    assert.match(rules, /^-A FORWARD -j TRAFFIC$/m, rules);
    assert.match(rules, new RegExp(`-d ${HOST.replace(/\./g, '\\.')}/32 .*--comment lantop`), rules);
    assert.match(rules, new RegExp(`-s ${HOST.replace(/\./g, '\\.')}/32 .*--comment lantop`), rules);

    // Two polls 1.5 s apart with pings from the host to the WAN side throughout (84-byte echo
    // requests out through ppp0; no replies: W has no route back to the LAN).
    const pinging = spawn('ip', ['netns', 'exec', net.h, 'busybox', 'ping', '-q', '-c', '20', '-i', '0.2', '-W', '1', '203.0.113.1'], { stdio: 'ignore' });
    let usage: Run;
    try {
      usage = await lantopIn(net.g, dir, ['usage', '--host', 'local', '--json', '--count', '2', '--interval', '1500']);
    } finally {
      pinging.kill('SIGKILL');
    }
    assertOk(usage, 'usage');
    const snapshot = JSON.parse(usage.stdout) as { router: string; connection: string; hosts: Array<{ ip: string; counted: boolean; downBytes: number; upBytes: number }> };
    assert.equal(snapshot.connection, 'connected');
    assert.equal(snapshot.router, 'local');
    const counted = snapshot.hosts.find((h) => h.ip === HOST);
    assert.ok(counted?.counted, `the host is counted: ${usage.stdout}`);
    assert.ok(counted.upBytes >= 84 && counted.upBytes % 84 === 0, `the pings were counted up: ${usage.stdout}`);
    assert.equal(counted.downBytes, 0);

    const teardown = await lantopIn(net.g, dir, ['teardown', '--host', 'local', '--yes']);
    assertOk(teardown, 'teardown');
    assert.equal(net.rulesets(), ruleset, 'teardown leaves iptables-save and ip6tables-save as before');
  });

  test('--host local with a port, or with another protocol, is refused before anything runs', async () => {
    const withPort = await lantopIn(net.g, dir, ['hosts', '--host', 'local', '--port', '22']);
    assert.equal(withPort.code, 2, withPort.stderr);
    assert.match(withPort.stderr, /Local mode has no port/);
    const withSsh = await lantopIn(net.g, dir, ['hosts', '--host', 'local', '--protocol', 'ssh']);
    assert.equal(withSsh.code, 2, withSsh.stderr);
    assert.match(withSsh.stderr, /--host local is this machine/);
  });
});
