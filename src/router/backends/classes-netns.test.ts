// test-file-timeout: 300
// Traffic classes (issue 19, `setup --ports/--protocols`) against the real kernel, iptables (legacy
// and nf_tables), ip6tables and nft of this machine, in throwaway network namespaces (root; skips
// with one line otherwise, fails under LANTOP_REQUIRE_LAB=1): set up through each backend with
// classes, TCP transfers on the class's port and pings over both families, every class counter
// byte-exact against the per-device counters of the only host, a sync that keeps the classes
// sending nothing, classes removed with [], flush and teardown leaving the ruleset as before.
// LANTOP_CAPTURE_FIXTURES=1 writes the listings it reads to fixtures/ (fixtures/*/SOURCE.md).
//
// The throwaway namespaces: one LAN host H
// (198.51.100.10, 2001:db8:1::10) — router R (lan0, WAN ppp0), forwarding, no NAT — one WAN host W.
// TCP transfers of exact sizes run with this Node in H and W, pings with BusyBox; the router's
// commands go through one BusyBox ash in R (as lantop's would). Nothing outside the namespaces is
// touched; destroy() (and process exit) removes them.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import type { CounterPair } from '../../domain/accounting.js';
import { parseClassList } from '../../domain/traffic-class.js';
import { firmwareForOverride, type FirmwareProfile } from '../firmware/families.js';
import type { AccountingBackend, BackendReading, RunCommand } from './backend.js';
import { IptablesBackend, type IptablesReading } from './iptables/iptables-backend.js';
import { NftablesBackend, type NftReading } from './nftables/nftables-backend.js';
import { busyboxShell, netnsSkipReason, runSync, runSyncOk, tcpTransferBetween } from '../../../test/helpers/netns-shell.js';

const HOST4 = '198.51.100.10';
const HOST6 = '2001:db8:1::10';
const WAN4 = '203.0.113.1';
const WAN6 = '2001:db8:ff::1';
const STEP_MS = 20_000;

const classNetnsSkipReason = (tools: readonly string[]): string | false => netnsSkipReason('traffic-class', tools);

const sh = (argv: readonly string[], input?: string) => runSync(argv, STEP_MS, input);

const ok = (argv: readonly string[], input?: string): string => runSyncOk(argv, STEP_MS, input);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

class ClassNetns {
  private static serial = 0;
  readonly tag = `ltc${process.pid % 10000}${String.fromCharCode(97 + ClassNetns.serial++)}`;
  readonly r = `${this.tag}r`;
  readonly h = `${this.tag}h`;
  readonly w = `${this.tag}w`;
  private readonly children: ChildProcess[] = [];

  constructor() {
    process.once('exit', () => this.destroy());
    for (const ns of [this.r, this.h, this.w]) {
      sh(['ip', 'netns', 'del', ns]);
      ok(['ip', 'netns', 'add', ns]);
      ok(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    }
    const link = (peer: string, name: string) => {
      ok(['ip', '-n', this.r, 'link', 'add', name, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', peer]);
      ok(['ip', '-n', this.r, 'link', 'set', name, 'up']);
      ok(['ip', '-n', peer, 'link', 'set', 'eth0', 'up']);
    };
    link(this.h, 'lan0');
    link(this.w, 'ppp0');
    const addr = (ns: string, dev: string, ...cidrs: string[]) => {
      for (const c of cidrs) ok(['ip', '-n', ns, 'addr', 'add', c, 'dev', dev, ...(c.includes(':') ? ['nodad'] : [])]);
    };
    addr(this.r, 'lan0', '198.51.100.1/24', '2001:db8:1::1/64');
    addr(this.r, 'ppp0', '203.0.113.2/24', '2001:db8:ff::2/64');
    addr(this.h, 'eth0', `${HOST4}/24`, `${HOST6}/64`);
    addr(this.w, 'eth0', `${WAN4}/24`, `${WAN6}/64`);
    ok(['ip', '-n', this.h, 'route', 'add', 'default', 'via', '198.51.100.1']);
    ok(['ip', '-n', this.h, '-6', 'route', 'add', 'default', 'via', '2001:db8:1::1']);
    ok(['ip', '-n', this.w, 'route', 'add', '198.51.100.0/24', 'via', '203.0.113.2']);
    ok(['ip', '-n', this.w, '-6', 'route', 'add', '2001:db8:1::/64', 'via', '2001:db8:ff::2']);
    ok(['ip', 'netns', 'exec', this.r, 'sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1']);
  }

  in(ns: string, argv: readonly string[], input?: string): string {
    return ok(['ip', 'netns', 'exec', ns, ...argv], input);
  }

  /** Neighbours resolved before anything is measured (the first pings may be lost to that). */
  warmUp(): void {
    for (const [tool, to] of [['ping', WAN4], ['ping6', WAN6]] as const) {
      for (let i = 0; i < 10 && !sh(['ip', 'netns', 'exec', this.h, 'busybox', tool, '-q', '-c', '1', '-W', '1', to]).out.includes('1 packets received'); i++);
    }
  }

  /** Pings from H to W (requests up, replies down): 20 or 40 + 8 + size bytes each, each way. */
  ping(family: 4 | 6, count: number, size: number): void {
    const r = sh(['ip', 'netns', 'exec', this.h, 'busybox', family === 4 ? 'ping' : 'ping6', '-q', '-c', String(count), '-i', '0.2', '-W', '2', '-s', String(size), family === 4 ? WAN4 : WAN6]);
    if (!r.out.includes(`${count} packets received`)) throw new Error(`ping: ${r.out}`);
  }

  /**
   * One TCP connection from H to W:port: H sends `upBytes` and closes its side, W answers
   * `downBytes` and closes; resolves once both ends are done and the last packets had time to pass.
   */
  async tcpTransfer(family: 4 | 6, port: number, upBytes: number, downBytes: number): Promise<void> {
    await tcpTransferBetween({ from: this.h, server: this.w, to: family === 4 ? WAN4 : WAN6, port, upBytes, downBytes, stepMs: STEP_MS }, this.children);
  }


  /** The router's shell as a `run`: ONE BusyBox ash for the whole test, stderr merged, replies framed. */
  shell(): RunCommand & { close(): void } {
    return busyboxShell(this.r, STEP_MS, this.children);
  }

  destroy(): void {
    for (const c of this.children) if (c.exitCode === null) c.kill('SIGKILL');
    for (const ns of [this.r, this.h, this.w]) spawnSync('ip', ['netns', 'del', ns]);
  }
}

const isCapturing = process.env['LANTOP_CAPTURE_FIXTURES'] === '1';
function capture(path: string, text: string): void {
  if (isCapturing) writeFileSync(new URL(`../../../fixtures/${path}`, import.meta.url), text.endsWith('\n') ? text : `${text}\n`);
}

const PORT = 8443;
const CLASSES = parseClassList(`tcp/${PORT}`, 'icmp,icmpv6');
const HOSTS = [HOST4, HOST6];
const OPTS = { isAdopting: false, isPruning: false };
const ZERO: CounterPair = { downBytes: 0, upBytes: 0 };
const minus = (a: CounterPair | undefined, b: CounterPair | undefined): CounterPair => ({ downBytes: (a ?? ZERO).downBytes - (b ?? ZERO).downBytes, upBytes: (a ?? ZERO).upBytes - (b ?? ZERO).upBytes });
const plus = (a: CounterPair, b: CounterPair): CounterPair => ({ downBytes: a.downBytes + b.downBytes, upBytes: a.upBytes + b.upBytes });
/** The host's counters, both of its addresses summed. */
const hostTotal = (r: BackendReading) => plus(r.counters.get(HOST4) ?? ZERO, r.counters.get(HOST6) ?? ZERO);

/**
 * The scenario both backends go through: setup with the classes, traffic of each class alone between
 * two reads (so the host's counters and the class's must move by the same bytes), a keep-the-classes
 * sync, then classes removed, then teardown. `saves()` prints the router's ruleset.
 */
async function scenario(net: ClassNetns, backend: AccountingBackend, run: RunCommand, saves: () => string, name: string, checkInstalled: (r: BackendReading) => void): Promise<void> {
  const read = async () => backend.read(await run(backend.readCommand));
  const boot = saves();
  const before = await read();
  const plan = backend.planInstall(before, HOSTS, { ...OPTS, classes: CLASSES });
  assert.deepEqual(plan.foreign, []);
  const outcome = await backend.apply(run, plan.commands);
  assert.equal(outcome.failed, null, JSON.stringify(outcome.failed));
  const installed = await read();
  assert.equal(installed.installation, 'complete');
  assert.deepEqual(installed.installedClasses, CLASSES);
  checkInstalled(installed);
  assert.deepEqual(backend.planInstall(installed, HOSTS, { ...OPTS, classes: CLASSES }).commands, [], 'the router has the whole plan, read back');
  assert.deepEqual(backend.planInstall(installed, HOSTS, { ...OPTS, classes: null }).commands, [], 'a sync keeps the classes as they are');
  assert.deepEqual(backend.planInstall(installed, HOSTS, OPTS).commands, [], 'a sync without classes too');
  assert.ok(/class/i.test(backend.describe()));

  // Each class alone: a TCP transfer on its port over each family, then pings over each.
  let last = installed;
  const step = async (what: string, key: string, traffic: () => Promise<void> | void, expected?: CounterPair): Promise<BackendReading> => {
    await traffic();
    const now = await read();
    const host = minus(hostTotal(now), hostTotal(last));
    const cls = minus(now.classCounters?.get(key), last.classCounters?.get(key));
    assert.ok(host.downBytes > 0 && host.upBytes > 0, `${what}: the host counted ${JSON.stringify(host)}`);
    assert.deepEqual(cls, host, `${what}: class ${key} moved by exactly what the only host did`);
    if (expected) assert.deepEqual(cls, expected, what);
    for (const other of CLASSES.map((c) => (c.port === null ? c.protocol : `${c.protocol}/${c.port}`)).filter((k) => k !== key)) {
      assert.deepEqual(minus(now.classCounters?.get(other), last.classCounters?.get(other)), ZERO, `${what}: class ${other} did not move`);
    }
    last = now;
    return now;
  };
  await step('TCP over IPv4', `tcp/${PORT}`, () => net.tcpTransfer(4, PORT, 150_000, 400_000));
  await step('TCP over IPv6', `tcp/${PORT}`, () => net.tcpTransfer(6, PORT, 70_000, 20_000));
  // ICMP echo: 20 + 8 + 1000 bytes (IPv4), 40 + 8 + 600 (IPv6), each way.
  await step('ping', 'icmp', () => net.ping(4, 3, 1000), { downBytes: 3 * 1028, upBytes: 3 * 1028 });
  const counted = await step('ping6', 'icmpv6', () => net.ping(6, 2, 600), { downBytes: 2 * 648, upBytes: 2 * 648 });
  capture(name, await run(backend.readCommand));

  // Classes changed, then removed: the rest stays counted.
  const narrowed = backend.planInstall(counted, HOSTS, { ...OPTS, classes: CLASSES.slice(0, 1) });
  assert.equal((await backend.apply(run, narrowed.commands)).failed, null);
  const one = await read();
  assert.deepEqual(one.installedClasses, CLASSES.slice(0, 1));
  assert.deepEqual(one.classCounters?.get(`tcp/${PORT}`), counted.classCounters?.get(`tcp/${PORT}`), 'a kept class keeps its counter');
  const removal = backend.planInstall(one, HOSTS, { ...OPTS, classes: [] });
  assert.equal((await backend.apply(run, removal.commands)).failed, null);
  const none = await read();
  assert.deepEqual(none.installedClasses ?? [], []);
  assert.equal(none.classCounters?.size ?? 0, 0);
  assert.equal(none.installation, 'complete');
  assert.deepEqual(backend.planInstall(none, HOSTS, OPTS).commands, []);

  // Set up with classes again, flushed (the chains stay, empty), torn down: the ruleset as before.
  assert.equal((await backend.apply(run, backend.planInstall(none, HOSTS, { ...OPTS, classes: CLASSES }).commands)).failed, null);
  const again = await read();
  assert.deepEqual(again.installedClasses, CLASSES);
  assert.equal((await backend.apply(run, backend.planFlush(again))).failed, null);
  const flushed = await read();
  assert.deepEqual(flushed.installedClasses ?? [], []);
  assert.deepEqual(backend.planInstall(flushed, HOSTS, { ...OPTS, classes: null }).commands.filter((c) => /CLASS|classes/.test(c)), [], 'a sync after flush does not bring classes back');
  assert.equal((await backend.apply(run, backend.planRemove(flushed))).failed, null);
  assert.equal(saves(), boot, 'the ruleset as before setup');
  assert.equal((await read()).installation, 'missing');
}

const skipIptables = classNetnsSkipReason(['iptables-legacy', 'iptables-nft', 'ip6tables-legacy', 'ip6tables-nft']);

function iptablesFirmware(kind: 'legacy' | 'nft', isRestore: boolean): FirmwareProfile {
  const profile = firmwareForOverride('busybox');
  const tool = (name: string) => ({ binary: `${name}-${kind}`, command: `${name}-${kind}`, where: 'shell' as const });
  profile.commands.iptables = tool('iptables');
  profile.commands.ip6tables = tool('ip6tables');
  profile.commands.iptablesRestore = isRestore ? { command: `iptables-${kind}-restore`, where: 'shell' } : null;
  profile.commands.ip6tablesRestore = isRestore ? { command: `ip6tables-${kind}-restore`, where: 'shell' } : null;
  return profile;
}

describe('traffic classes with real iptables and ip6tables', { skip: skipIptables }, () => {
  for (const { kind, layout, isRestore } of [{ kind: 'legacy', layout: 'split', isRestore: true }, { kind: 'nft', layout: 'flat', isRestore: false }] as const) {
    test(`${kind}, ${layout}, ${isRestore ? 'restore' : 'shell lines'}: tcp/${PORT}, icmp and icmpv6 counted byte-exact against the host, kept by sync, removed, torn down to the same tables`, async () => {
      const net = new ClassNetns();
      const run = net.shell();
      try {
        // The router's firewall: established first (the class jump must come before it), a policy of DROP.
        for (const tool of [`iptables-${kind}`, `ip6tables-${kind}`]) {
          net.in(net.r, [tool, '-A', 'FORWARD', '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT']);
          net.in(net.r, [tool, '-A', 'FORWARD', '-i', 'lan0', '-o', 'ppp0', '-j', 'ACCEPT']);
          net.in(net.r, [tool, '-P', 'FORWARD', 'DROP']);
        }
        net.warmUp();
        const saves = () => ['iptables', 'ip6tables'].map((t) => net.in(net.r, [`${t}-${kind}-save`, '-t', 'filter']).split('\n').filter((l) => !l.startsWith('#')).map((l) => l.replace(/\[\d+:\d+\]$/, '[0:0]')).join('\n')).join('\n');
        const backend = new IptablesBackend(iptablesFirmware(kind, isRestore), { wan: 'ppp0', layout });
        const check = (r: BackendReading) => {
          const listed = r as IptablesReading;
          for (const listing of [listed.listing, listed.listing6!]) {
            const forward = listing.chains.find((c) => c.name === 'FORWARD')!;
            assert.deepEqual(forward.rules.slice(0, 2).map((r) => r.target), ['TRAFFIC', 'TRAFFIC_CLASS'], 'the class jump right after TRAFFIC, before the ESTABLISHED accept');
          }
        };
        await scenario(net, backend, run, saves, `iptables/1.8.9-${kind}/classes-dual-stack-read.txt`, check);
      } finally {
        run.close();
        net.destroy();
      }
    });
  }
});

const skipNft = classNetnsSkipReason(['nft']);

function nftFirmware(isJson: boolean): FirmwareProfile {
  const base = firmwareForOverride('openwrt-fw4');
  return { ...base, commands: { ...base.commands, nft: { command: 'nft', where: 'shell' } }, capabilities: { ...base.capabilities, nftVersion: '1.0.6', hasNftJson: isJson } };
}

// A firewall of the router's own, fw4's shape: forward at priority filter, policy drop.
const FIREWALL = `table inet fw {
  chain forward { type filter hook forward priority filter; policy drop; ct state established,related accept; iifname "lan0" oifname "ppp0" accept; }
}
`;

describe('traffic classes with real nft', { skip: skipNft }, () => {
  for (const { layout, isJson } of [{ layout: 'dynamic-sets', isJson: true }, { layout: 'rules', isJson: false }] as const) {
    test(`${layout}, ${isJson ? 'JSON' : 'text'} listings: tcp/${PORT}, icmp and icmpv6 counted byte-exact against the host, kept by sync, removed, torn down to the same ruleset`, async () => {
      const net = new ClassNetns();
      const run = net.shell();
      try {
        net.in(net.r, ['nft', '-f', '-'], FIREWALL);
        net.warmUp();
        const backend = new NftablesBackend(nftFirmware(isJson), { wan: 'ppp0', layout });
        const check = (r: BackendReading) => {
          const chain = (r as NftReading).table!.chains.find((c) => c.name === 'classes')!;
          assert.deepEqual([chain.type, chain.hook, chain.priority, chain.policy], ['filter', 'forward', 10, 'accept']);
          assert.equal(chain.rules.length, 2 * CLASSES.length);
        };
        await scenario(net, backend, run, () => net.in(net.r, ['nft', 'list', 'ruleset']), `nftables/1.0.6/classes-list-${isJson ? 'j.json' : 'a.txt'}`, check);
      } finally {
        run.close();
        net.destroy();
      }
    });
  }
});

// Every protocol a class can name, through each backend into the real tools and read back as the
// same classes: the shapes the listings print (numbers or names, `sctp spt:N`, `ipv6-icmp`) are
// the ones the readers know.
const EVERY = parseClassList('80,sctp/9899', 'tcp,udp,icmp,icmpv6,gre,esp,sctp');

describe('every class protocol, written and read back by the real tools', () => {
  test('iptables-nft and ip6tables-nft', { skip: skipIptables }, async () => {
    const net = new ClassNetns();
    const run = net.shell();
    try {
      const backend = new IptablesBackend(iptablesFirmware('nft', false), { wan: 'ppp0', layout: 'split' });
      const read = async () => backend.read(await run(backend.readCommand));
      const outcome = await backend.apply(run, backend.planInstall(await read(), HOSTS, { ...OPTS, classes: EVERY }).commands);
      assert.equal(outcome.failed, null, JSON.stringify(outcome.failed));
      const text = await run(backend.readCommand);
      capture('iptables/1.8.9-nft/classes-every-protocol-dual-stack-read.txt', text);
      const reading = backend.read(text);
      assert.deepEqual(reading.installedClasses, EVERY);
      assert.deepEqual(reading.listing.chains.find((c) => c.name === 'TRAFFIC_CLASS')!.rules.length, 2 * (EVERY.length - 1), 'IPv4: every class but icmpv6');
      assert.deepEqual(reading.listing6!.chains.find((c) => c.name === 'TRAFFIC_CLASS')!.rules.length, 2 * (EVERY.length - 1), 'IPv6: every class but icmp');
      assert.deepEqual(backend.planInstall(reading, HOSTS, { ...OPTS, classes: EVERY }).commands, []);
      assert.deepEqual(backend.planInstall(reading, HOSTS, { ...OPTS, classes: null }).foreign, []);
    } finally {
      run.close();
      net.destroy();
    }
  });

  test('nft (JSON and text)', { skip: skipNft }, async () => {
    const net = new ClassNetns();
    const run = net.shell();
    try {
      const backend = new NftablesBackend(nftFirmware(true), { wan: 'ppp0', layout: 'rules' });
      const read = async () => backend.read(await run(backend.readCommand));
      const outcome = await backend.apply(run, backend.planInstall(await read(), HOSTS, { ...OPTS, classes: EVERY }).commands);
      assert.equal(outcome.failed, null, JSON.stringify(outcome.failed));
      const json = await run(backend.readCommand);
      const text = await run({ command: 'nft -a list table inet lantop', where: 'shell' });
      capture('nftables/1.0.6/classes-every-protocol-list-j.json', json);
      capture('nftables/1.0.6/classes-every-protocol-list-a.txt', text);
      for (const listed of [json, text]) {
        const reading = backend.read(listed);
        assert.deepEqual(reading.installedClasses, EVERY);
        assert.equal(reading.classCounters.size, EVERY.length);
        const plan = backend.planInstall(reading, HOSTS, { ...OPTS, classes: EVERY });
        assert.deepEqual([plan.commands, plan.foreign], [[], []]);
      }
    } finally {
      run.close();
      net.destroy();
    }
  });
});
