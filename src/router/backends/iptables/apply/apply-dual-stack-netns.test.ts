// test-file-timeout: 180
// The iptables backend with ip6tables (issue 15) against the real tools, legacy and nf_tables, in
// throwaway network namespaces (root; skips with one line otherwise, fails under
// LANTOP_REQUIRE_LAB=1 like the lab): a router forwarding between a dual-stack LAN (one host with a
// stable and a kernel-made temporary IPv6 address, one with a stable one) and an ISP, no NAT.
// Discovery from the router's real neighbour tables, setup of both families through the backend
// (iptables-restore/ip6tables-restore for one backend, `&&` shell lines for the other), pings over
// both families, every counter equal to the ISP's own per-address counters (an independent count
// of the same L3 bytes), and a teardown that leaves `iptables-save` and `ip6tables-save` as before.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { IptablesBackend } from '../iptables-backend.js';
import type { RunCommand } from './method-result.js';
import { firmwareForOverride, type FirmwareProfile } from '../../../firmware/families.js';
import { parseArpTable } from '../../../parsers/arp-table.js';
import { parseIpv6Neighbours } from '../../../parsers/ipv6-neighbours.js';
import { parseIptablesListing } from '../../../parsers/iptables-listing.js';
import { discoverHosts } from '../../../discovery.js';
import { addressOf } from '../rule-spec.js';
import { compareAddresses } from '../../../../domain/address.js';
import { labSkipReason } from '../../../../../test/lab/lab.js';
import { busyboxShell } from '../../../../../test/helpers/netns-shell.js';

const labSkip = labSkipReason();
const STEP_MS = 20_000;

function sh(argv: readonly string[], input?: string): { status: number | null; out: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', input: input ?? '', timeout: STEP_MS });
  return { status: r.status, out: (r.stdout ?? '') + (r.stderr ?? '') };
}

function ok(argv: readonly string[]): string {
  const r = sh(argv);
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.out}`);
  return r.out;
}

/** Router, ISP and two LAN hosts; every namespace removed by destroy() (and at exit). */
class DualStackLan {
  private static serial = 0;
  readonly tag = `lt6${process.pid % 10000}${String.fromCharCode(97 + DualStackLan.serial++)}`;
  readonly r = `${this.tag}r`;
  readonly isp = `${this.tag}i`;
  readonly hosts = [`${this.tag}a`, `${this.tag}b`];
  private readonly all = [this.r, this.isp, ...this.hosts];

  constructor() {
    process.once('exit', () => this.destroy());
    for (const ns of this.all) {
      sh(['ip', 'netns', 'del', ns]);
      ok(['ip', 'netns', 'add', ns]);
      ok(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    }
    const { r, isp } = this;
    ok(['ip', '-n', r, 'link', 'add', 'br-lan', 'type', 'bridge']);
    this.in(r, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1']);
    // Routed LAN<->WAN packets cross the filter table once, at the IP layer (as in the lab).
    sh(['ip', 'netns', 'exec', r, 'sysctl', '-q', '-w', 'net.bridge.bridge-nf-call-iptables=0', 'net.bridge.bridge-nf-call-ip6tables=0']);
    ok(['ip', '-n', r, 'addr', 'add', '198.51.100.1/24', 'dev', 'br-lan']);
    ok(['ip', '-n', r, 'addr', 'add', '2001:db8:1::1/64', 'dev', 'br-lan', 'nodad']);
    ok(['ip', '-n', r, 'link', 'set', 'br-lan', 'up']);
    ok(['ip', '-n', r, 'link', 'add', 'ppp0', 'type', 'veth', 'peer', 'name', 'wan0', 'netns', isp]);
    ok(['ip', '-n', r, 'addr', 'add', '203.0.113.2/24', 'dev', 'ppp0']);
    ok(['ip', '-n', r, 'addr', 'add', '2001:db8:ff::2/64', 'dev', 'ppp0', 'nodad']);
    ok(['ip', '-n', r, 'link', 'set', 'ppp0', 'up']);
    ok(['ip', '-n', isp, 'addr', 'add', '203.0.113.1/24', 'dev', 'wan0']);
    ok(['ip', '-n', isp, 'addr', 'add', '2001:db8:ff::1/64', 'dev', 'wan0', 'nodad']);
    ok(['ip', '-n', isp, 'link', 'set', 'wan0', 'up']);
    ok(['ip', '-n', isp, 'route', 'add', '198.51.100.0/24', 'via', '203.0.113.2']);
    ok(['ip', '-n', isp, '-6', 'route', 'add', '2001:db8:1::/64', 'via', '2001:db8:ff::2']);
    this.hosts.forEach((h, i) => {
      const n = 10 + i;
      ok(['ip', '-n', h, 'link', 'add', 'eth0', 'address', `02:00:00:00:00:${n}`, 'type', 'veth', 'peer', 'name', `lan${i}`, 'netns', r]);
      ok(['ip', '-n', r, 'link', 'set', `lan${i}`, 'master', 'br-lan', 'up']);
      // Host a uses privacy extensions: the kernel makes a temporary address and prefers it.
      if (i === 0) this.in(h, ['sysctl', '-q', '-w', 'net.ipv6.conf.eth0.use_tempaddr=2']);
      ok(['ip', '-n', h, 'addr', 'add', `198.51.100.${n}/24`, 'dev', 'eth0']);
      ok(['ip', '-n', h, 'link', 'set', 'eth0', 'up']);
      ok(['ip', '-n', h, 'addr', 'add', `2001:db8:1::${n}/64`, 'dev', 'eth0', 'nodad', ...(i === 0 ? ['mngtmpaddr'] : [])]);
      ok(['ip', '-n', h, 'route', 'add', 'default', 'via', '198.51.100.1']);
      ok(['ip', '-n', h, '-6', 'route', 'add', 'default', 'via', '2001:db8:1::1']);
    });
  }

  in(ns: string, argv: readonly string[]): string {
    return ok(['ip', 'netns', 'exec', ns, ...argv]);
  }

  /** Host a's temporary address once the kernel has made it usable (not tentative). */
  async temporaryAddress(): Promise<string> {
    for (let i = 0; i < 50; i++) {
      const m = /inet6 (\S+)\/64 scope global temporary(?! tentative)/.exec(ok(['ip', '-n', this.hosts[0]!, '-6', 'addr', 'show', 'dev', 'eth0']));
      if (m) return m[1]!;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('no temporary address appeared');
  }

  ping(host: number, family: 4 | 6, count: number, size: number, from?: string): void {
    const target = family === 4 ? ['ping', '203.0.113.1'] : ['ping6', ...(from ? ['-I', from] : []), '2001:db8:ff::1'];
    const r = sh(['ip', 'netns', 'exec', this.hosts[host]!, 'busybox', target[0]!, '-c', String(count), '-s', String(size), '-W', '2', ...target.slice(1)]);
    assert.match(r.out, new RegExp(`${count} packets transmitted, ${count} packets received`), r.out);
  }

  /** The router's shell as a `run`: ONE BusyBox ash for the whole test, stderr merged, replies framed. */
  shell(): RunCommand & { close(): void } {
    return busyboxShell(this.r, STEP_MS);
  }

  /** The router's filter tables, both families, without counters or comments. */
  saves(backend: 'legacy' | 'nft'): string {
    const dump = (tool: string) => this.in(this.r, [`${tool}-${backend}-save`, '-t', 'filter']).split('\n').filter((l) => !l.startsWith('#')).map((l) => l.replace(/\[\d+:\d+\]$/, '[0:0]')).join('\n');
    return `${dump('iptables')}\n${dump('ip6tables')}`;
  }

  destroy(): void {
    for (const ns of this.all) spawnSync('ip', ['netns', 'del', ns]);
  }
}

/** The ISP's own count of what it received from / sent to each address (its INPUT -s / OUTPUT -d rules). */
function ispCounts(lan: DualStackLan, addresses: readonly string[]): Map<string, { downBytes: number; upBytes: number }> {
  const counts = new Map<string, { downBytes: number; upBytes: number }>();
  for (const family of [4, 6] as const) {
    const tool = family === 4 ? 'iptables-legacy' : 'ip6tables-legacy';
    const listing = parseIptablesListing(lan.in(lan.isp, [tool, '-L', '-v', '-x', '-n']));
    for (const address of addresses.filter((a) => a.includes(':') === (family === 6))) {
      const up = listing.chains.find((c) => c.name === 'INPUT')!.rules.find((r) => addressOf(r.source, family) === address)!;
      const down = listing.chains.find((c) => c.name === 'OUTPUT')!.rules.find((r) => addressOf(r.destination, family) === address)!;
      counts.set(address, { downBytes: down.bytes, upBytes: up.bytes });
    }
  }
  return counts;
}

const delta = (a: { downBytes: number; upBytes: number }, b: { downBytes: number; upBytes: number }) => ({ downBytes: a.downBytes - b.downBytes, upBytes: a.upBytes - b.upBytes });

function firmwareFor(backend: 'legacy' | 'nft', isRestore: boolean): FirmwareProfile {
  const profile = firmwareForOverride('busybox');
  const tool = (name: string) => ({ binary: `${name}-${backend}`, command: `${name}-${backend}`, where: 'shell' as const });
  profile.commands.iptables = tool('iptables');
  profile.commands.ip6tables = tool('ip6tables');
  profile.commands.iptablesRestore = isRestore ? { command: `iptables-${backend}-restore`, where: 'shell' } : null;
  profile.commands.ip6tablesRestore = isRestore ? { command: `ip6tables-${backend}-restore`, where: 'shell' } : null;
  return profile;
}

describe('dual-stack counting with real iptables and ip6tables', { skip: labSkip }, () => {
  const cases = [
    { backend: 'legacy', layout: 'split', isRestore: true },
    { backend: 'nft', layout: 'tree', isRestore: false },
  ] as const;
  for (const { backend, layout, isRestore } of cases) {
    test(`${backend}, ${layout}, ${isRestore ? 'iptables-restore + ip6tables-restore' : 'shell lines'}: discovered, set up, counted exactly in both families, torn down to the same tables`, async () => {
      const lan = new DualStackLan();
      const run = lan.shell();
      try {
        // The router's own firewall, so teardown has something to leave untouched.
        for (const tool of [`iptables-${backend}`, `ip6tables-${backend}`]) {
          lan.in(lan.r, [tool, '-A', 'FORWARD', '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT']);
          lan.in(lan.r, [tool, '-A', 'FORWARD', '-i', 'br-lan', '-o', 'ppp0', '-j', 'ACCEPT']);
        }
        // An INPUT that drops pings from the WAN (IPv4): they crossed the WAN all the same, so TRAFFIC_IN counts them.
        lan.in(lan.r, [`iptables-${backend}`, '-A', 'INPUT', '-i', 'ppp0', '-p', 'icmp', '-j', 'DROP']);
        const temporary = await lan.temporaryAddress();
        // Traffic before setup fills the router's neighbour tables (as a LAN in use does).
        lan.ping(0, 4, 1, 56);
        lan.ping(0, 6, 1, 56);
        lan.ping(0, 6, 1, 56, '2001:db8:1::10');
        lan.ping(1, 4, 1, 56);
        lan.ping(1, 6, 1, 56);
        const boot = lan.saves(backend);

        const hosts = discoverHosts(parseArpTable(await run({ command: 'cat /proc/net/arp', where: 'shell' })), [], { wanInterfaces: ['ppp0'] }, parseIpv6Neighbours(await run({ command: 'ip -6 neigh show', where: 'shell' })));
        const addresses = hosts.map((h) => h.ip);
        assert.deepEqual(new Set(addresses), new Set(['198.51.100.10', '198.51.100.11', '2001:db8:1::10', '2001:db8:1::11', temporary]));
        assert.deepEqual(hosts.find((h) => h.ip === temporary)!.addresses, ['198.51.100.10', '2001:db8:1::10', temporary].sort(compareAddresses));

        const backendUnderTest = new IptablesBackend(firmwareFor(backend, isRestore), { wan: 'ppp0', layout });
        const read = async () => backendUnderTest.read(await run(backendUnderTest.readCommand));
        const before = await read();
        assert.equal(before.installation, 'missing');
        assert.deepEqual(before.notes, []);
        const plan = backendUnderTest.planInstall(before, addresses, { isAdopting: false, isPruning: false });
        assert.deepEqual(plan.foreign, []);
        const outcome = await backendUnderTest.apply(run, plan.commands);
        assert.equal(outcome.failed, null, JSON.stringify(outcome.failed));
        assert.equal(backendUnderTest.isFreshInstall(before, outcome.applied), true);
        const installed = await read();
        assert.equal(installed.installation, 'complete');
        assert.deepEqual(backendUnderTest.planInstall(installed, addresses, { isAdopting: false, isPruning: false }).commands, [], 'the router has the whole plan, read back');
        assert.deepEqual(new Set(installed.counters.keys()), new Set(addresses));
        assert.equal(installed.isRouterCounterMissing, false);
        assert.notEqual(installed.routerCounters, null);
        assert.equal(installed.listing.chains.find((c) => c.name === 'INPUT')!.rules[0]!.target, 'TRAFFIC_IN', 'the jump before the DROP');
        for (const c of installed.counters.values()) assert.deepEqual(c, { downBytes: 0, upBytes: 0 });

        // The independent count: the ISP's own rules per address (created now, from zero).
        for (const a of addresses) {
          const tool = a.includes(':') ? 'ip6tables-legacy' : 'iptables-legacy';
          lan.in(lan.isp, [tool, '-A', 'INPUT', '-s', a]);
          lan.in(lan.isp, [tool, '-A', 'OUTPUT', '-d', a]);
        }
        const router0 = (await read()).routerCounters!;
        lan.ping(0, 4, 3, 1200);
        lan.ping(0, 6, 3, 1000);
        lan.ping(0, 6, 2, 500, '2001:db8:1::10');
        lan.ping(1, 4, 2, 700);
        lan.ping(1, 6, 4, 800);
        const counted = await read();
        const oracle = ispCounts(lan, addresses);
        for (const a of addresses) {
          assert.deepEqual(counted.counters.get(a), oracle.get(a), a);
          assert.ok(oracle.get(a)!.downBytes > 0 && oracle.get(a)!.upBytes > 0, a);
        }
        // ICMP echo of -s 1000 over IPv6: 40 + 8 + 1000 bytes per packet, three each way.
        assert.deepEqual(counted.counters.get(temporary), { downBytes: 3 * 1048, upBytes: 3 * 1048 });
        // Forwarded traffic is not the router's own: ~12 kB went each way, the router counters moved by
        // the router's own neighbour discovery and MLD at most (the ISP cannot see all of that: MLD
        // reports go to ff02::16, which it has not joined, so no oracle counts them exactly).
        const forwardedOnly = delta(counted.routerCounters!, router0);
        assert.ok(forwardedOnly.downBytes < 1000 && forwardedOnly.upBytes < 1000, JSON.stringify(forwardedOnly));
        // Pings from the ISP to the router's WAN addresses: IPv4 dropped by INPUT (still counted), IPv6 answered.
        sh(['ip', 'netns', 'exec', lan.isp, 'busybox', 'ping', '-c', '3', '-i', '0.2', '-s', '500', '-W', '1', '203.0.113.2']);
        sh(['ip', 'netns', 'exec', lan.isp, 'busybox', 'ping6', '-c', '2', '-i', '0.2', '-s', '400', '-W', '1', '2001:db8:ff::2']);
        const own = delta((await read()).routerCounters!, counted.routerCounters!);
        // Exactly the echo requests (IPv4: 20 + 8 + 500, IPv6: 40 + 8 + 400) plus at most neighbour discovery.
        assert.ok(own.downBytes >= 3 * 528 + 2 * 448 && own.downBytes < 3 * 528 + 2 * 448 + 1000, `down ${own.downBytes}`);
        assert.ok(own.upBytes >= 2 * 448 && own.upBytes < 2 * 448 + 1000, `up ${own.upBytes}: no replies to the dropped IPv4 pings`);

        const removal = await backendUnderTest.apply(run, backendUnderTest.planRemove(counted));
        assert.equal(removal.failed, null, JSON.stringify(removal.failed));
        assert.equal(lan.saves(backend), boot, 'iptables-save and ip6tables-save as before setup');
        assert.equal((await read()).installation, 'missing');
      } finally {
        run.close();
        lan.destroy();
      }
    });
  }
});
