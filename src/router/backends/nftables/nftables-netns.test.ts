// test-file-timeout: 240
// The nftables backend against the real kernel and nft of this machine (root; skips with one line
// otherwise, fails under LANTOP_REQUIRE_LAB=1): a router namespace between a LAN host and a WAN
// host, the backend's own commands sent through a BusyBox shell in it, counted traffic compared with
// an independent oracle (nft counters in the WAN host's namespace, which sees every forwarded packet
// with the same L3 length), then flush and teardown leave the ruleset exactly as before.
import { describe, test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { firmwareForOverride, type FirmwareProfile } from '../../firmware/families.js';
import type { RunCommand } from '../backend.js';
import { NftablesBackend, type NftReading } from './nftables-backend.js';
import { NFT_LAYOUTS, type NftLayout } from './layouts.js';

const HOSTS = ['198.51.100.10', '198.51.100.11', '2001:db8:1::10', '2001:db8:1::11'];
const WAN4 = '203.0.113.1';
const WAN6 = '2001:db8:ff::1';

function skipReason(): string | false {
  const why = process.getuid?.() !== 0 ? 'not root' : ['ip', 'nft', 'busybox'].find((p) => spawnSync('sh', ['-c', `command -v ${p}`]).status !== 0);
  if (why === undefined) return false;
  const text = why === 'not root' ? why : `${why} is not installed`;
  if (process.env['LANTOP_REQUIRE_LAB'] === '1') throw new Error(`LANTOP_REQUIRE_LAB=1 but the nft netns test cannot run: ${text}`);
  process.stderr.write(`\n*** NFT NETNS TESTS SKIPPED: ${text} ***\n\n`);
  return `cannot run: ${text}`;
}
const skip = skipReason();

const live = new Set<string>();
process.once('exit', () => {
  for (const ns of live) spawnSync('ip', ['netns', 'del', ns]);
});

function sh(argv: readonly string[], input?: string): { status: number | null; out: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', input: input ?? '', timeout: 30_000 });
  return { status: r.status, out: (r.stdout ?? '') + (r.stderr ?? '') };
}
function ok(argv: readonly string[], input?: string): string {
  const r = sh(argv, input);
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.out}`);
  return r.out;
}

/** LAN host H (two addresses per family) — router R (lan0, ppp0) — WAN host W. */
class Topology {
  readonly tag = `ltnf${process.pid % 100000}`;
  readonly r = `${this.tag}-r`;
  readonly h = `${this.tag}-h`;
  readonly w = `${this.tag}-w`;
  private shell: ChildProcess | null = null;

  up(): void {
    for (const ns of [this.r, this.h, this.w]) {
      spawnSync('ip', ['netns', 'del', ns]);
      ok(['ip', 'netns', 'add', ns]);
      live.add(ns);
      ok(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    }
    const link = (peer: string, name: string, hostIf: string) => {
      ok(['ip', 'link', 'add', hostIf, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', peer]);
      ok(['ip', 'link', 'set', hostIf, 'netns', this.r]);
      ok(['ip', '-n', this.r, 'link', 'set', hostIf, 'name', name]);
      ok(['ip', '-n', this.r, 'link', 'set', name, 'up']);
      ok(['ip', '-n', peer, 'link', 'set', 'eth0', 'up']);
    };
    link(this.h, 'lan0', `${this.tag}l`);
    link(this.w, 'ppp0', `${this.tag}w`);
    const addr = (ns: string, dev: string, ...cidrs: string[]) => {
      for (const c of cidrs) ok(['ip', '-n', ns, 'addr', 'add', c, 'dev', dev, ...(c.includes(':') ? ['nodad'] : [])]);
    };
    addr(this.r, 'lan0', '198.51.100.1/24', '2001:db8:1::1/64');
    addr(this.r, 'ppp0', '203.0.113.2/24', '2001:db8:ff::2/64');
    addr(this.h, 'eth0', '198.51.100.10/24', '198.51.100.11/24', '2001:db8:1::10/64', '2001:db8:1::11/64');
    addr(this.w, 'eth0', `${WAN4}/24`, `${WAN6}/64`);
    ok(['ip', '-n', this.h, 'route', 'add', 'default', 'via', '198.51.100.1']);
    ok(['ip', '-n', this.h, '-6', 'route', 'add', 'default', 'via', '2001:db8:1::1']);
    ok(['ip', '-n', this.w, 'route', 'add', '198.51.100.0/24', 'via', '203.0.113.2']);
    ok(['ip', '-n', this.w, '-6', 'route', 'add', '2001:db8:1::/64', 'via', '2001:db8:ff::2']);
    ok(['ip', 'netns', 'exec', this.r, 'sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1']);
    // The oracle: W's own counters per LAN address (input = upload, output = download).
    const rules = HOSTS.flatMap((a) => {
      const p = a.includes(':') ? 'ip6' : 'ip';
      return [`add rule inet oracle in ${p} saddr ${a} counter`, `add rule inet oracle out ${p} daddr ${a} counter`];
    });
    ok(['ip', 'netns', 'exec', this.w, 'nft', '-f', '-'], ['add table inet oracle', 'add chain inet oracle in { type filter hook input priority 0; }', 'add chain inet oracle out { type filter hook output priority 0; }', ...rules, ''].join('\n'));
    this.traffic(); // neighbours resolved before anything is measured
  }

  nft(...args: string[]): string {
    return ok(['ip', 'netns', 'exec', this.r, 'nft', ...args]);
  }

  nftScript(script: string): { status: number | null; out: string } {
    return sh(['ip', 'netns', 'exec', this.r, 'nft', '-f', '-'], script);
  }

  /** Pings from each LAN address to the WAN host (requests up, replies down); `from` W pings H. */
  traffic(counts: Record<string, number> = { '198.51.100.10': 3, '198.51.100.11': 2, '2001:db8:1::10': 2, '2001:db8:1::11': 1 }, size = 300): void {
    for (const [address, count] of Object.entries(counts)) {
      const six = address.includes(':');
      sh(['ip', 'netns', 'exec', this.h, 'busybox', six ? 'ping6' : 'ping', '-q', '-c', String(count), '-W', '1', '-s', String(size), '-I', address, six ? WAN6 : WAN4]);
    }
  }

  /** What W counted per LAN address: downloads (W's output) and uploads (W's input), in bytes. */
  oracle(): Map<string, { downBytes: number; upBytes: number }> {
    const text = ok(['ip', 'netns', 'exec', this.w, 'nft', 'list', 'table', 'inet', 'oracle']);
    const out = new Map(HOSTS.map((a) => [a, { downBytes: 0, upBytes: 0 }]));
    for (const m of text.matchAll(/ip6? (saddr|daddr) (\S+) counter packets \d+ bytes (\d+)/g)) {
      const pair = out.get(m[2]!)!;
      if (m[1] === 'saddr') pair.upBytes = Number(m[3]);
      else pair.downBytes = Number(m[3]);
    }
    return out;
  }

  /** Pings from W to the router's own WAN addresses. */
  pingRouter(): void {
    sh(['ip', 'netns', 'exec', this.w, 'busybox', 'ping', '-q', '-c', '3', '-i', '0.2', '-s', '500', '-W', '1', '203.0.113.2']);
    sh(['ip', 'netns', 'exec', this.w, 'busybox', 'ping6', '-q', '-c', '2', '-i', '0.2', '-s', '400', '-W', '1', '2001:db8:ff::2']);
  }

  /** One BusyBox shell in R for the whole test (the state of `_C` carries over, as on a session). */
  run(): RunCommand {
    const child = (this.shell ??= spawn('ip', ['netns', 'exec', this.r, 'busybox', 'ash'], { stdio: ['pipe', 'pipe', 'pipe'] }));
    child.stdin!.write('exec 2>&1\n');
    let buffer = '';
    let waiting: ((text: string) => void) | null = null;
    child.stdout!.removeAllListeners('data');
    child.stdout!.on('data', (d: Buffer) => {
      buffer += d.toString('utf8');
      const end = buffer.indexOf('@@END@@\n');
      if (end >= 0 && waiting) {
        const reply = buffer.slice(0, end);
        buffer = buffer.slice(end + 8);
        const w = waiting;
        waiting = null;
        w(reply.replace(/\n$/, ''));
      }
    });
    return ({ command }) =>
      new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`shell: no reply to ${command.slice(0, 80)}`)), 30_000);
        waiting = (text) => {
          clearTimeout(timer);
          resolve(text);
        };
        child.stdin!.write(`${command}\necho @@END@@\n`);
      });
  }

  down(): void {
    this.shell?.stdin?.end();
    this.shell?.kill('SIGKILL');
    this.shell = null;
    for (const ns of [this.r, this.h, this.w]) {
      spawnSync('ip', ['netns', 'del', ns]);
      live.delete(ns);
    }
  }
}

function firmware(isJson: boolean, lineBytes: number): FirmwareProfile {
  const base = firmwareForOverride('openwrt-fw4');
  return { ...base, capabilities: { ...base.capabilities, nftVersion: '1.0.6', hasNftJson: isJson, shellLineBytes: lineBytes, hasShellBatch: true } };
}

/** A fw4-like table: forward policy drop, LAN → WAN and established traffic accepted. */
const FW4 = [
  'add table inet fw4',
  // Its input drops IPv4 pings from the WAN (as the wan zone rejects what it does not allow).
  'add chain inet fw4 input { type filter hook input priority filter; policy accept; }',
  'add rule inet fw4 input iifname "ppp0" meta l4proto icmp drop',
  'add chain inet fw4 forward { type filter hook forward priority filter; policy drop; }',
  'add rule inet fw4 forward ct state established,related accept',
  'add rule inet fw4 forward iifname "lan0" oifname "ppp0" accept',
  '',
].join('\n');

describe('the nftables backend on the real kernel (network namespaces)', { skip }, () => {
  const net = new Topology();
  before(() => net.up());
  after(() => net.down());

  const read = async (backend: NftablesBackend, run: RunCommand): Promise<NftReading> => backend.read(await run(backend.readCommand));
  const minus = (a: Map<string, { downBytes: number; upBytes: number }>, b: Map<string, { downBytes: number; upBytes: number }>) =>
    new Map(HOSTS.map((h) => [h, { downBytes: (a.get(h)?.downBytes ?? 0) - (b.get(h)?.downBytes ?? 0), upBytes: (a.get(h)?.upBytes ?? 0) - (b.get(h)?.upBytes ?? 0) }]));

  for (const [index, layout] of NFT_LAYOUTS.entries()) {
    for (const isJson of [true, false]) {
      test(`${layout} (${isJson ? 'JSON' : 'text'}): setup → counts equal the oracle, per address and family → flush → teardown leaves the ruleset as it was`, async () => {
        net.nftScript(FW4.replace('policy drop', 'policy accept'));
        const before = net.nft('list', 'ruleset');
        const backend = new NftablesBackend(firmware(isJson, [450, 972, 3000][index]!), { wan: 'ppp0', layout });
        const run = net.run();
        const missing = await read(backend, run);
        assert.equal(missing.installation, 'missing');
        const plan = backend.planInstall(missing, HOSTS, { isAdopting: false, isPruning: false });
        const outcome = await backend.apply(run, plan.commands);
        assert.equal(outcome.failed, null, JSON.stringify(outcome));
        assert.equal(backend.isFreshInstall(missing, outcome.applied), true);
        assert.match(net.nft('list', 'ruleset'), /^table inet lantop \{$/m);
        const installed = await read(backend, run);
        assert.equal(installed.installation, 'complete');
        assert.equal(installed.layout, layout);
        assert.deepEqual(backend.planInstall(installed, HOSTS, { isAdopting: false, isPruning: false }).commands, [], 'verified: nothing left to do');
        assert.equal(installed.isRouterCounterMissing, false);
        const router0 = installed.routerCounters!;

        const oracle0 = net.oracle();
        net.traffic();
        const counted = minus((await read(backend, run)).counters, installed.counters);
        const expected = minus(net.oracle(), oracle0);
        assert.deepEqual(counted, expected);
        // Independently: echo requests up, replies down, each 300 bytes of payload + ICMP + IP header.
        assert.deepEqual(counted.get('198.51.100.10'), { downBytes: 3 * 328, upBytes: 3 * 328 });
        assert.deepEqual(counted.get('2001:db8:1::11'), { downBytes: 348, upBytes: 348 });
        // The router's own counters (issue 19): forwarded traffic (~2.5 kB each way) is not the router's;
        // they move by its own neighbour discovery at most (no oracle sees that exactly: MLD reports go
        // to ff02::16, which W has not joined).
        const own = async (from: { downBytes: number; upBytes: number }) => {
          const r = (await read(backend, run)).routerCounters!;
          return { downBytes: r.downBytes - from.downBytes, upBytes: r.upBytes - from.upBytes };
        };
        const forwardedOnly = await own(router0);
        assert.ok(forwardedOnly.downBytes < 500 && forwardedOnly.upBytes < 500, JSON.stringify(forwardedOnly));
        // Pings to the router's WAN addresses: IPv4 dropped by fw4's input (counted all the same: priority filter - 10), IPv6 answered.
        net.pingRouter();
        const pinged = await own({ downBytes: router0.downBytes + forwardedOnly.downBytes, upBytes: router0.upBytes + forwardedOnly.upBytes });
        assert.ok(pinged.downBytes >= 3 * 528 + 2 * 448 && pinged.downBytes < 3 * 528 + 2 * 448 + 1000, `down ${pinged.downBytes}`);
        assert.ok(pinged.upBytes >= 2 * 448 && pinged.upBytes < 2 * 448 + 1000, `up ${pinged.upBytes}: no replies to the dropped IPv4 pings`);

        const flushed = await backend.apply(run, backend.planFlush(await read(backend, run)));
        assert.equal(flushed.failed, null);
        const empty = await read(backend, run);
        assert.equal(empty.counters.size, 0);
        assert.notEqual(empty.installation, 'missing', 'flush keeps the table');
        const removed = await backend.apply(run, backend.planRemove(empty));
        assert.equal(removed.failed, null);
        assert.equal(net.nft('list', 'ruleset'), before, 'teardown removed lantop\'s table and nothing else');
        assert.equal((await read(backend, run)).installation, 'missing');
        net.nft('delete', 'table', 'inet', 'fw4');
      });
    }
  }

  test('kernel facts: one packet adds exactly one packet and its L3 length; fw4 drops are never counted; fw4 reload keeps the counters', async () => {
    const backend = new NftablesBackend(firmware(true, 972), { wan: 'ppp0' });
    const run = net.run();
    assert.equal(net.nftScript(FW4).status, 0);
    assert.equal((await backend.apply(run, backend.planInstall(await read(backend, run), [], { isAdopting: false, isPruning: false }).commands)).failed, null);
    net.traffic({ '198.51.100.10': 1, '2001:db8:1::10': 1 }, 100);
    const one = (await read(backend, run)).table!;
    const dl4 = one.sets.find((s) => s.name === 'dl4')!.elements.find((e) => e.value === '198.51.100.10')!;
    const ul6 = one.sets.find((s) => s.name === 'ul6')!.elements.find((e) => e.value === '2001:db8:1::10')!;
    assert.deepEqual(dl4.counter, { packets: 1, bytes: 20 + 8 + 100 });
    assert.deepEqual(ul6.counter, { packets: 1, bytes: 40 + 8 + 100 });
    // Unsolicited pings from the WAN: fw4 drops them at priority filter, lantop (filter + 10) never sees them.
    sh(['ip', 'netns', 'exec', net.w, 'busybox', 'ping', '-q', '-c', '2', '-W', '1', '198.51.100.11']);
    const afterDrop = await read(backend, run);
    assert.equal(afterDrop.counters.has('198.51.100.11'), false, 'dropped by fw4: not counted');
    // fw4 reload rewrites only its own table.
    assert.equal(net.nftScript(`flush table inet fw4\n${FW4}`).status, 0);
    assert.deepEqual((await read(backend, run)).counters, afterDrop.counters);
    // fw4 flush deletes every table: lantop's is missing, re-created, and counts from 0 (a new epoch).
    net.nft('flush', 'ruleset');
    const gone = await read(backend, run);
    assert.equal(gone.installation, 'missing');
    const again = await backend.apply(run, backend.planInstall(gone, [], { isAdopting: false, isPruning: false }).commands);
    assert.equal(backend.isFreshInstall(gone, again.applied), true);
    assert.equal((await read(backend, run)).counters.size, 0);
    net.nft('flush', 'ruleset');
  });

  test('a plan gone stale (the table created since the read) is refused as a whole, naming its line', async () => {
    const backend = new NftablesBackend(firmware(false, 450), { wan: 'ppp0', layout: 'static-sets' });
    const run = net.run();
    const plan = backend.planInstall(await read(backend, run), HOSTS, { isAdopting: false, isPruning: false });
    net.nft('add', 'table', 'inet', 'lantop');
    const before = net.nft('list', 'ruleset');
    const outcome = await backend.apply(run, plan.commands);
    assert.deepEqual(outcome.applied, []);
    assert.equal(outcome.failed?.command, 'create table inet lantop');
    assert.match(outcome.failed!.output, /File exists/);
    assert.equal(net.nft('list', 'ruleset'), before, 'nothing changed');
    net.nft('flush', 'ruleset');
  });

  test('repairs on the real kernel keep the counters: new hosts, pruning by handle, another WAN, a layout switch', async () => {
    const run = net.run();
    const rules = new NftablesBackend(firmware(false, 450), { wan: 'ppp0', layout: 'rules' });
    const install = async (b: NftablesBackend, hosts: string[], isPruning = false) => {
      const outcome = await b.apply(run, b.planInstall(await read(b, run), hosts, { isAdopting: false, isPruning }).commands);
      assert.equal(outcome.failed, null, JSON.stringify(outcome.failed));
      const r = await read(b, run);
      assert.deepEqual(b.planInstall(r, hosts, { isAdopting: false, isPruning }).commands, [], 'verified');
      return r;
    };
    await install(rules, HOSTS.slice(0, 2));
    net.traffic({ '198.51.100.10': 2 }, 100);
    const counted = (await read(rules, run)).counters.get('198.51.100.10');
    assert.deepEqual(counted, { downBytes: 256, upBytes: 256 });
    assert.deepEqual((await install(rules, HOSTS)).counters.get('198.51.100.10'), counted, 'new hosts: the old counters stay');
    const pruned = await install(rules, ['198.51.100.10', '2001:db8:1::10'], true);
    assert.deepEqual([...pruned.counters.keys()].sort(), ['198.51.100.10', '2001:db8:1::10']);
    assert.deepEqual(pruned.counters.get('198.51.100.10'), counted);
    const otherWan = new NftablesBackend(firmware(true, 450), { wan: 'eth9', layout: 'rules' });
    assert.deepEqual((await install(otherWan, ['198.51.100.10', '2001:db8:1::10'])).counters.get('198.51.100.10'), counted, 'another WAN rewrites the jumps only');
    const statics = new NftablesBackend(firmware(true, 450), { wan: 'ppp0', layout: 'static-sets' });
    const switched = await install(statics, HOSTS);
    assert.equal(switched.layout, 'static-sets');
    net.traffic({ '2001:db8:1::11': 1 }, 100);
    assert.deepEqual((await read(statics, run)).counters.get('2001:db8:1::11'), { downBytes: 148, upBytes: 148 });
    assert.equal((await statics.apply(run, statics.planRemove(await read(statics, run)))).failed, null);
    assert.equal(net.nft('list', 'ruleset'), '');
  });
});
