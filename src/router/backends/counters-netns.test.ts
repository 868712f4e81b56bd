// test-file-timeout: 300
// Custom counters (issue 18, `lantop counter add`) against the real kernel, iptables (legacy and
// nf_tables), ip6tables and nft of this machine, in throwaway network namespaces (root; skips with
// one line otherwise, fails under LANTOP_REQUIRE_LAB=1): the plans applied through lantop's own
// apply paths in a BusyBox shell, real traffic of each kind alone between two reads, every counter's
// bytes and packets equal to an independent oracle (nft counters with the same matches in the
// namespace the packets come from or go to: same skb, same L3 length), a firewall DROP after the
// counters that does not hide what reached the hook, a sync that sends nothing, a counter changed,
// and removal leaving the ruleset as before. LANTOP_CAPTURE_FIXTURES=1 writes the listings it reads
// to fixtures/ (fixtures/iptables/1.8.9-*/SOURCE.md, fixtures/nftables/1.0.6/SOURCE.md).
//
// Namespaces: LAN host H (198.51.100.10, 2001:db8:1::10) — router R (lan0 .1/::1, ppp0
// 203.0.113.2/2001:db8:ff::2), forwarding, no NAT — WAN host W (203.0.113.1, 2001:db8:ff::1).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { makeCustomCounter, type CounterInput, type CustomCounter } from '../../domain/custom-counter.js';
import { parseIptablesListing } from '../parsers/iptables-listing.js';
import type { RunCommand } from './backend.js';
import { applyBatch } from './iptables/apply/apply-batch.js';
import { planCustomCounters, readCustomCounters, type RuleCount } from './iptables/counter-chain.js';
import { applyNftScript } from './nftables/apply.js';
import { planNftCustomCounters, readCounterChains, readNftCustomCounters } from './nftables/counter-rules.js';
import { busyboxShell, netnsSkipReason, runSync, runSyncOk, tcpTransferBetween } from '../../../test/helpers/netns-shell.js';

const STEP_MS = 20_000;
const R4 = '198.51.100.1';
const R6 = '2001:db8:1::1';
const RW4 = '203.0.113.2';
const W4 = '203.0.113.1';
const W6 = '2001:db8:ff::1';

const skipReason = (tools: readonly string[]): string | false => netnsSkipReason('custom-counter', ['nft', ...tools]);

const sh = (argv: readonly string[], input?: string) => runSync(argv, STEP_MS, input);
const ok = (argv: readonly string[], input?: string): string => runSyncOk(argv, STEP_MS, input);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function counter(input: CounterInput): CustomCounter {
  const r = makeCustomCounter(input);
  assert.deepEqual(r.problems, []);
  return r.counter!;
}

// What is counted, and the oracle's rule for it: in H or W, hook post(routing) for what they send to
// R, pre(routing) for what R sends to them.
const CASES: Array<{ counter: CustomCounter; oracle: Array<{ ns: 'h' | 'w'; hook: 'pre' | 'post'; rule: string }> }> = [
  { counter: counter({ name: 'ssh-in', hook: 'input', inIf: 'lan0', proto: 'tcp', dport: '2222' }), oracle: [{ ns: 'h', hook: 'post', rule: 'tcp dport 2222' }] },
  { counter: counter({ name: 'udp-in', hook: 'input', proto: 'udp' }), oracle: [{ ns: 'h', hook: 'post', rule: 'meta l4proto udp' }, { ns: 'w', hook: 'post', rule: 'meta l4proto udp' }] },
  { counter: counter({ name: 'not-lan', hook: 'input', src: '!198.51.100.0/24' }), oracle: [{ ns: 'w', hook: 'post', rule: `ip daddr ${RW4}` }] },
  { counter: counter({ name: 'ping4', hook: 'input', src: '198.51.100.0/24', proto: 'icmp' }), oracle: [{ ns: 'h', hook: 'post', rule: `ip daddr ${R4} meta l4proto icmp` }] },
  { counter: counter({ name: 'fwd-web', hook: 'forward', inIf: 'lan0', outIf: 'ppp0', dst: '203.0.113.0/24', proto: 'tcp', dport: '8443' }), oracle: [{ ns: 'w', hook: 'pre', rule: 'ip daddr 203.0.113.0/24 tcp dport 8443' }] },
  { counter: counter({ name: 'dns6-out', hook: 'output', outIf: 'ppp0', dst: '!2001:db8:1::/64', proto: 'udp', dport: '53' }), oracle: [{ ns: 'w', hook: 'pre', rule: 'meta nfproto ipv6 udp dport 53' }] },
];
/** Installed and read back, not compared byte for byte: ICMPv6 carries neighbour discovery. */
const ICMP_ANY = counter({ name: 'icmp-any', hook: 'input', proto: 'icmp' });
const COUNTERS = [...CASES.map((c) => c.counter), ICMP_ANY];

class CounterNetns {
  private static serial = 0;
  readonly tag = `ltq${process.pid % 10000}${String.fromCharCode(97 + CounterNetns.serial++)}`;
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
    for (const [peer, name] of [[this.h, 'lan0'], [this.w, 'ppp0']] as const) {
      ok(['ip', '-n', this.r, 'link', 'add', name, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', peer]);
      ok(['ip', '-n', this.r, 'link', 'set', name, 'up']);
      ok(['ip', '-n', peer, 'link', 'set', 'eth0', 'up']);
    }
    const addr = (ns: string, dev: string, ...cidrs: string[]) => {
      for (const c of cidrs) ok(['ip', '-n', ns, 'addr', 'add', c, 'dev', dev, ...(c.includes(':') ? ['nodad'] : [])]);
    };
    addr(this.r, 'lan0', `${R4}/24`, `${R6}/64`);
    addr(this.r, 'ppp0', `${RW4}/24`, '2001:db8:ff::2/64');
    addr(this.h, 'eth0', '198.51.100.10/24', '2001:db8:1::10/64');
    addr(this.w, 'eth0', `${W4}/24`, `${W6}/64`);
    ok(['ip', '-n', this.h, 'route', 'add', 'default', 'via', R4]);
    ok(['ip', '-n', this.h, '-6', 'route', 'add', 'default', 'via', R6]);
    ok(['ip', '-n', this.w, 'route', 'add', '198.51.100.0/24', 'via', RW4]);
    ok(['ip', '-n', this.w, '-6', 'route', 'add', '2001:db8:1::/64', 'via', '2001:db8:ff::2']);
    ok(['ip', 'netns', 'exec', this.r, 'sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1']);
    // The oracle: the same matches, counted where the packets come from or go to.
    for (const ns of ['h', 'w'] as const) {
      const rules = (hook: string) => CASES.flatMap((c) => c.oracle.filter((o) => o.ns === ns && o.hook === hook).map((o) => `${o.rule} counter comment "${c.counter.name}"`));
      this.in(this[ns], ['nft', '-f', '-'], `table inet oracle {
        chain pre { type filter hook prerouting priority -400; policy accept;\n${rules('pre').join('\n')}\n}
        chain post { type filter hook postrouting priority 400; policy accept;\n${rules('post').join('\n')}\n}
      }\n`);
    }
  }

  in(ns: string, argv: readonly string[], input?: string): string {
    return ok(['ip', 'netns', 'exec', ns, ...argv], input);
  }

  /** The oracle's bytes and packets per counter name, H and W summed. */
  oracle(): Map<string, RuleCount> {
    const out = new Map<string, RuleCount>();
    for (const ns of [this.h, this.w]) {
      for (const m of this.in(ns, ['nft', 'list', 'table', 'inet', 'oracle']).matchAll(/counter packets (\d+) bytes (\d+) comment "([a-z0-9-]+)"/g)) {
        const sum = out.get(m[3]!) ?? { packets: 0, bytes: 0 };
        out.set(m[3]!, { packets: sum.packets + Number(m[1]), bytes: sum.bytes + Number(m[2]) });
      }
    }
    return out;
  }

  warmUp(): void {
    for (const [ns, tool, to] of [[this.h, 'ping', R4], [this.h, 'ping6', R6], [this.h, 'ping', W4], [this.w, 'ping', RW4], [this.r, 'ping6', W6]] as const) {
      for (let i = 0; i < 10 && !sh(['ip', 'netns', 'exec', ns, 'busybox', tool, '-q', '-c', '1', '-W', '1', to]).out.includes('1 packets received'); i++);
    }
  }

  ping(ns: string, to: string, count: number, size: number): void {
    const r = sh(['ip', 'netns', 'exec', ns, 'busybox', to.includes(':') ? 'ping6' : 'ping', '-q', '-c', String(count), '-i', '0.2', '-W', '2', '-s', String(size), to]);
    if (!r.out.includes(`${count} packets received`)) throw new Error(`ping: ${r.out}`);
  }

  /** `count` UDP datagrams of `size` bytes from `ns` to `to`:`port` (nothing listens). */
  udp(ns: string, to: string, port: number, count: number, size: number): void {
    this.in(ns, [process.execPath, '-e', `
      const s = require('dgram').createSocket('${to.includes(':') ? 'udp6' : 'udp4'}'); let n = 0;
      const next = () => n++ < ${count} ? s.send(Buffer.alloc(${size}, 1), ${port}, '${to}', () => setTimeout(next, 20)) : s.close();
      next();`]);
  }

  /** One TCP connection from `from` to `to`:`port` on `server`'s listener: `upBytes` sent, `downBytes` back. */
  async tcp(from: string, server: string, to: string, port: number, upBytes: number, downBytes: number): Promise<void> {
    await tcpTransferBetween({ from, server, to, port, upBytes, downBytes, stepMs: STEP_MS }, this.children);
  }


  /** The router's shell as a `run`: one BusyBox ash, stderr merged, replies framed. */
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

interface CounterBackend {
  /** Plans exactly these counters from what is on the router now; [] when it is all there. */
  plan(counters: readonly CustomCounter[]): Promise<string[]>;
  apply(commands: readonly string[]): Promise<void>;
  read(counters: readonly CustomCounter[]): Promise<Map<string, RuleCount>>;
  /** The router's ruleset as text (counter values zeroed). */
  saves(): string;
  /** Writes the listings read to fixtures/ (LANTOP_CAPTURE_FIXTURES=1). */
  capture(): Promise<void>;
}

const minus = (a: RuleCount | undefined, b: RuleCount | undefined): RuleCount => ({ packets: (a?.packets ?? 0) - (b?.packets ?? 0), bytes: (a?.bytes ?? 0) - (b?.bytes ?? 0) });

/** The scenario both backends go through. */
async function scenario(net: CounterNetns, backend: CounterBackend): Promise<void> {
  const boot = backend.saves();
  await backend.apply(await backend.plan(COUNTERS));
  assert.deepEqual(await backend.plan(COUNTERS), [], 'the router has the whole plan, read back');
  let last = await backend.read(COUNTERS);
  assert.deepEqual([...last.keys()].sort(), COUNTERS.map((c) => c.name).sort(), 'every counter read back');
  let lastOracle = net.oracle();

  const step = async (what: string, moved: readonly string[], traffic: () => Promise<void> | void, exact: Record<string, RuleCount> = {}) => {
    await traffic();
    const now = await backend.read(COUNTERS);
    const oracle = net.oracle();
    for (const { counter: c } of CASES) {
      const got = minus(now.get(c.name), last.get(c.name));
      assert.deepEqual(got, minus(oracle.get(c.name), lastOracle.get(c.name)), `${what}: ${c.name} moved as the oracle did`);
      assert.equal(got.bytes > 0, moved.includes(c.name), `${what}: ${c.name} ${moved.includes(c.name) ? 'moved' : 'stayed'} (${got.bytes} bytes)`);
      if (exact[c.name]) assert.deepEqual(got, exact[c.name], `${what}: ${c.name} exactly`);
    }
    last = now;
    lastOracle = oracle;
  };
  await step('TCP from the LAN to the router, port 2222, IPv4', ['ssh-in'], () => net.tcp(net.h, net.r, R4, 2222, 150_000, 40_000));
  await step('the same over IPv6', ['ssh-in'], () => net.tcp(net.h, net.r, R6, 2222, 70_000, 20_000));
  // 20 + 8 + 500 and 40 + 8 + 500 bytes; dropped by the firewall after the counters.
  await step('UDP to the router over both families', ['udp-in'], () => {
    net.udp(net.h, R4, 9999, 5, 500);
    net.udp(net.h, R6, 9999, 4, 500);
  }, { 'udp-in': { packets: 9, bytes: 5 * 528 + 4 * 548 } });
  await step('TCP from the WAN to the router', ['not-lan'], () => net.tcp(net.w, net.r, RW4, 2222, 30_000, 10_000));
  await step('pings from the LAN to the router', ['ping4'], () => net.ping(net.h, R4, 3, 1000), { ping4: { packets: 3, bytes: 3 * 1028 } });
  await step('pings from the WAN to the router', ['not-lan'], () => net.ping(net.w, RW4, 2, 400), { 'not-lan': { packets: 2, bytes: 2 * 428 } });
  await step('TCP from the LAN through the router, port 8443', ['fwd-web'], () => net.tcp(net.h, net.w, W4, 8443, 120_000, 300_000));
  await step('UDP from the router to the WAN, port 53, IPv6', ['dns6-out'], () => net.udp(net.r, W6, 53, 3, 200), { 'dns6-out': { packets: 3, bytes: 3 * 248 } });
  await backend.capture();
  const icmp = minus(last.get('icmp-any'), undefined);
  assert.ok(icmp.bytes >= 3 * 1028 + 2 * 428 && icmp.packets >= 5, `icmp-any counted the pings of both: ${JSON.stringify(icmp)}`);

  // One counter dropped and one added: the others keep counting from where they were.
  const added = counter({ name: 'ssh6', hook: 'input', src: '2001:db8:1::10', proto: 'tcp', dport: '2222' });
  const changed = [...COUNTERS.filter((c) => c.name !== 'udp-in'), added];
  await backend.apply(await backend.plan(changed));
  assert.deepEqual(await backend.plan(changed), []);
  const after = await backend.read(changed);
  assert.equal(after.has('udp-in'), false);
  assert.deepEqual(after.get('ssh6'), { packets: 0, bytes: 0 });
  for (const c of changed.filter((x) => x !== added)) assert.deepEqual(after.get(c.name), last.get(c.name), `${c.name} kept its count`);

  await backend.apply(await backend.plan([]));
  assert.equal((await backend.read(changed)).size, 0);
  assert.deepEqual(await backend.plan([]), []);
  assert.equal(backend.saves(), boot, 'the ruleset as before');
}

const skipIptables = skipReason(['iptables-legacy', 'iptables-nft', 'ip6tables-legacy', 'ip6tables-nft']);

describe('custom counters with real iptables and ip6tables', { skip: skipIptables }, () => {
  for (const { kind, isRestore } of [{ kind: 'legacy', isRestore: true }, { kind: 'nft', isRestore: false }] as const) {
    test(`${kind}, ${isRestore ? 'iptables-restore' : 'shell lines'}: a port, a protocol, a negated network and more, byte-exact against the oracle`, async () => {
      const net = new CounterNetns();
      const run = net.shell();
      try {
        const tools = { 4: `iptables-${kind}`, 6: `ip6tables-${kind}` } as const;
        // The router's firewall: UDP to it dropped (the counters come first), established accepted.
        for (const tool of Object.values(tools)) {
          net.in(net.r, [tool, '-A', 'INPUT', '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT']);
          net.in(net.r, [tool, '-A', 'INPUT', '-p', 'udp', '-j', 'DROP']);
        }
        net.warmUp();
        const listing = async (family: 4 | 6) => run({ command: `${tools[family]} -L -v -x -n`, where: 'shell' });
        const backend: CounterBackend = {
          plan: async (counters) => [
            ...planCustomCounters(parseIptablesListing(await listing(4)), { iptables: tools[4], family: 4, counters }).commands,
            ...planCustomCounters(parseIptablesListing(await listing(6)), { iptables: tools[6], family: 6, counters }).commands,
          ],
          apply: async (commands) => {
            for (const family of [4, 6] as const) {
              const mine = commands.filter((c) => c.startsWith(`${tools[family]} `));
              const target = { iptables: { binary: tools[family], where: 'shell' as const }, restore: isRestore ? { command: `${tools[family]}-restore`, where: 'shell' as const } : null, isShell: true, family };
              const outcome = await applyBatch(run, target, mine);
              assert.equal(outcome.failed, null, JSON.stringify(outcome.failed));
            }
          },
          read: async (counters) => {
            const [v4, v6] = [await listing(4), await listing(6)];
            const a = readCustomCounters(parseIptablesListing(v4), counters, 4);
            const b = readCustomCounters(parseIptablesListing(v6), counters, 6);
            for (const [name, count] of b) a.set(name, { packets: (a.get(name)?.packets ?? 0) + count.packets, bytes: (a.get(name)?.bytes ?? 0) + count.bytes });
            return a;
          },
          capture: async () => {
            capture(`iptables/1.8.9-${kind}/counters-iptables-L-v-x-n.txt`, await listing(4));
            capture(`iptables/1.8.9-${kind}/counters-ip6tables-L-v-x-n.txt`, await listing(6));
          },
          saves: () => Object.values(tools).map((t) => net.in(net.r, [`${t}-save`, '-t', 'filter']).split('\n').filter((l) => !l.startsWith('#')).map((l) => l.replace(/\[\d+:\d+\]$/, '[0:0]')).join('\n')).join('\n'),
        };
        await scenario(net, backend);
      } finally {
        run.close();
        net.destroy();
      }
    });
  }
});

describe('custom counters with real nft', { skip: skipReason([]) }, () => {
  for (const isJson of [true, false]) {
    test(`${isJson ? 'JSON' : 'text'} listings: a port, a protocol, a negated network and more, byte-exact against the oracle`, async () => {
      const net = new CounterNetns();
      const run = net.shell();
      try {
        // The router's firewall at `filter`: UDP to it dropped (the counters' chains come first); lantop's table as its setup leaves it.
        net.in(net.r, ['nft', '-f', '-'], [
          'table inet fw {', '  chain input {', '    type filter hook input priority filter; policy accept;', '    meta l4proto udp drop', '  }', '}',
          'table inet lantop {', '  chain forward {', '    type filter hook forward priority filter + 10; policy accept;', '  }', '}', '',
        ].join('\n'));
        net.warmUp();
        const list = () => run({ command: isJson ? 'nft -j list table inet lantop' : 'nft -a list table inet lantop', where: 'shell' });
        const backend: CounterBackend = {
          plan: async (counters) => planNftCustomCounters(readCounterChains(await list()), counters).commands,
          apply: async (commands) => assert.equal((await applyNftScript(run, { nft: 'nft', maxLineBytes: 4000, isShell: true }, commands)).failed, null),
          read: async (counters) => readNftCustomCounters(readCounterChains(await list()), counters),
          capture: async () => capture(`nftables/1.0.6/counters-list-${isJson ? 'j.json' : 'a.txt'}`, await list()),
          saves: () => net.in(net.r, ['nft', 'list', 'ruleset']).replace(/packets \d+ bytes \d+/g, 'packets 0 bytes 0'),
        };
        await scenario(net, backend);
      } finally {
        run.close();
        net.destroy();
      }
    });
  }
});
