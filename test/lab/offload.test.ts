// test-file-timeout: 180
// Self-tests of the lab's software flow offload and conntrack accounting options (issue 19), without
// lantop: with offload on, a steady download to h1 is seen by a forward-hook counter only for its
// first packets while the host's oracle sees all of it; the router's WAN device (ppp0) sees all of it
// (L3 = bytes − 14 × packets on a veth); conntrack's bytes= follow the fast path only with the
// kernel's flowtable `counter` (the emulated one cannot, and the test says which it checked); with
// accounting off conntrack entries carry no bytes=; with offload off the forward counter = the oracle.
// And the routers report their fast path as real firmware does (lab-offload-standins.ts): OpenWrt's
// `uci -q get firewall.@defaults[0].flow_offloading`, a vendor router's `fcctl status`.
// Needs root; skipped with one loud line otherwise (an error with LANTOP_REQUIRE_LAB=1).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { l3Bytes, startLab, variantSkipReason, type ConntrackEntry, type InterfaceCounters, type Lab, type LabOptions } from './lab.js';
import { inNs } from './lab-forwarding.js';
import { FCCTL_STATUS_HEAD } from './lab-offload-standins.js';

const PORT = 5601;
const CHUNK_BYTES = 30_000; // every 20 ms: 1.5 MB/s, about 3 MB in the 2 s a test streams
const STREAM_MS = 2_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Streams CHUNK_BYTES every 20 ms to each client, IPv4 and IPv6 (a dual-stack socket). */
const serverScript = `require('net').createServer((s)=>{const t=setInterval(()=>s.write(Buffer.alloc(${CHUNK_BYTES},97)),20);s.on('data',()=>{});s.on('error',()=>{});s.on('close',()=>clearInterval(t));}).listen(${PORT},'::',()=>console.log('up'));`;
/** Reads everything, sends a small request every 200 ms (the ACK stream and a little upload). */
const clientScript = (host: string, local: string): string => `const s=require('net').connect({port:${PORT},host:'${host}',localAddress:'${local}'});s.on('data',()=>{});s.on('error',()=>{});setInterval(()=>{if(s.writable)s.write(Buffer.alloc(100,98));},200);`;

/** A scratch table in the router: h1's bytes in the forward hook, after the firewall's own filter. */
function forwardCounters(h1: { ip: string; ip6: string | null }): string {
  return [
    'table inet lab_cmp {',
    '  counter down4 { }', '  counter up4 { }', '  counter down6 { }', '  counter up6 { }',
    '  chain count {',
    '    type filter hook forward priority filter + 10; policy accept;',
    `    iifname "ppp0" ip daddr ${h1.ip} counter name "down4"`,
    `    oifname "ppp0" ip saddr ${h1.ip} counter name "up4"`,
    ...(h1.ip6 ? [`    iifname "ppp0" ip6 daddr ${h1.ip6} counter name "down6"`, `    oifname "ppp0" ip6 saddr ${h1.ip6} counter name "up6"`] : []),
    '  }',
    '}',
    '',
  ].join('\n');
}

type Counter = { packets: number; bytes: number };
async function readForward(lab: Lab): Promise<Record<string, Counter>> {
  const json = JSON.parse((await lab.exec(['nft', '-j', 'list', 'counters', 'table', 'inet', 'lab_cmp'])).stdout) as { nftables: Array<{ counter?: { name: string; packets: number; bytes: number } }> };
  return Object.fromEntries(json.nftables.flatMap((item) => (item.counter ? [[item.counter.name, { packets: item.counter.packets, bytes: item.counter.bytes }]] : [])));
}

interface Reading { downBytes: number; downPackets: number; forward: Counter; wan: InterfaceCounters }

async function read(lab: Lab, family: 4 | 6): Promise<Reading> {
  const [devices, forward, wan] = await Promise.all([lab.oracleByHost(), readForward(lab), lab.wanCounters()]);
  const h1 = devices['h1']!;
  const counts = family === 4 ? h1.ipv4 : h1.ipv6;
  return { downBytes: counts.downBytes, downPackets: counts.downPackets, forward: forward[family === 4 ? 'down4' : 'down6']!, wan };
}

interface Measured {
  oracle: { bytes: number; packets: number };
  forward: Counter;
  wanL3: number;
  wanPackets: number;
  entry: ConntrackEntry | undefined;
}

/** h1 downloads for STREAM_MS from the ISP's server; what each counter saw, and conntrack's entry. */
async function stream(lab: Lab, family: 4 | 6, during?: () => Promise<void>): Promise<Measured> {
  const h1 = lab.hosts[0]!;
  const children: ChildProcess[] = [];
  try {
    const server = inNs(lab.ispNs, serverScript);
    children.push(server);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('server did not start')), 5_000);
      server.stdout!.once('data', () => { clearTimeout(timer); resolve(); });
    });
    await lab.settle();
    const before = await read(lab, family);
    const client = inNs(h1.ns, family === 4 ? clientScript('203.0.113.1', h1.ip) : clientScript('2001:db8:ff::1', h1.ip6!));
    children.push(client);
    await sleep(STREAM_MS);
    await during?.();
    // The entry while the connection is up (a closed one may be gone before it is read).
    await lab.fastPathIdle();
    const entries = await lab.conntrack();
    const entry = entries.find((e) => e.proto === 'tcp' && e.original.dport === PORT && (e.original.src === h1.ip || e.original.src === h1.ip6));
    client.kill('SIGKILL');
    server.kill('SIGKILL');
    await sleep(200);
    await lab.settle();
    const after = await read(lab, family);
    return {
      oracle: { bytes: after.downBytes - before.downBytes, packets: after.downPackets - before.downPackets },
      forward: { bytes: after.forward.bytes - before.forward.bytes, packets: after.forward.packets - before.forward.packets },
      wanL3: l3Bytes(after.wan.rxBytes - before.wan.rxBytes, after.wan.rxPackets - before.wan.rxPackets),
      wanPackets: after.wan.rxPackets - before.wan.rxPackets,
      entry,
    };
  } finally {
    for (const child of children) child.kill('SIGKILL');
  }
}

async function withLab(options: LabOptions, body: (lab: Lab) => Promise<void>): Promise<void> {
  const lab = await startLab({ hosts: 2, ...options });
  try {
    const added = await lab.exec(['nft', '-f', '-'], { input: forwardCounters(lab.hosts[0]!) });
    assert.equal(added.code, 0, added.stderr);
    await body(lab);
  } catch (error) {
    if (error instanceof Error) error.message += `\n${lab.diagnostics()}`;
    throw error;
  } finally {
    await lab.stop();
  }
}

const describeWhat = (m: Measured): string => JSON.stringify({ ...m, entry: m.entry ? { state: m.entry.state, flags: m.entry.flags, reply: m.entry.reply } : null });

/** The WAN device saw the download whole: its L3 bytes are the oracle's plus at most a little of the
 * router's own traffic on the link (ARP, neighbour discovery: a few small frames in 2 s). */
function assertWanSawAll(m: Measured): void {
  assert.ok(m.wanL3 >= m.oracle.bytes, `WAN L3 ${m.wanL3} < oracle ${m.oracle.bytes}: ${describeWhat(m)}`);
  assert.ok(m.wanL3 - m.oracle.bytes <= 1_000, `WAN L3 ${m.wanL3} exceeds oracle ${m.oracle.bytes} by more than the router's own frames`);
  assert.ok(m.wanPackets - m.oracle.packets >= 0 && m.wanPackets - m.oracle.packets <= 10, `WAN packets ${m.wanPackets} vs oracle ${m.oracle.packets}`);
}

/** `uci -q get firewall.@defaults[0].<option>` in the router, as lantop's probe asks it (a shell line). */
async function uciGet(lab: Lab, option: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await lab.exec(['/bin/ash', '-c', `uci -q get 'firewall.@defaults[0].${option}'`]);
  return { code: r.code, stdout: r.stdout, stderr: r.stderr };
}

/** `fcctl status` in the vendor router's shell (the lab's bin/ first in PATH, as for SSH logins). */
async function fcctlStatus(lab: Lab): Promise<{ enabled: boolean; active: number; inserted: number; removed: number; text: string }> {
  const r = await lab.exec(['/bin/sh', '-c', 'fcctl status']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.deepEqual(lines.slice(0, 8), [...FCCTL_STATUS_HEAD], 'the SDK\'s fixed lines');
  assert.equal(lines.length, 10, 'nine lines');
  const m = /^\tFlow Learning (Enabled|Disabled) : Max<16383>, Active<(\d+)>, Cummulative \[ (\d+) - (\d+) \]$/.exec(lines[8]!);
  assert.ok(m, `Flow Learning line: ${JSON.stringify(lines[8])}`);
  return { enabled: m[1] === 'Enabled', active: Number(m[2]), inserted: Number(m[3]), removed: Number(m[4]), text: r.stdout };
}

describe('lab: software flow offload and conntrack accounting', { skip: variantSkipReason('openwrt-fw4'), timeout: 170_000 }, () => {
  test('openwrt-fw4, offload on: forward counters see only the first packets, ppp0 and the host all of it', async () => {
    await withLab({ variant: 'openwrt-fw4', flowOffload: 'software' }, async (lab) => {
      assert.equal(lab.flowOffload, 'software');
      assert.ok(lab.fastPath === 'kernel-flowtable' || lab.fastPath === 'emulated');
      assert.equal(lab.conntrackAcct, true, 'OpenWrt ships nf_conntrack_acct=1');
      assert.equal(await lab.routerSysctl('net.netfilter.nf_conntrack_acct'), '1');
      assert.deepEqual(await uciGet(lab, 'flow_offloading'), { code: 0, stdout: '1\n', stderr: '' }, 'uci: offloading on');
      assert.deepEqual(await uciGet(lab, 'flow_offloading_hw'), { code: 1, stdout: '', stderr: '' }, 'uci: no hardware offload (unset)');
      assert.match((await lab.exec(['/bin/ash', '-c', 'cat /etc/config/firewall'])).stdout, /^config defaults\n(?:\t[^\n]*\n)*\toption flow_offloading '1'\n/);
      assert.equal((await lab.exec(['/bin/ash', '-c', 'command -v uci'])).stdout, '/usr/sbin/uci\n');
      assert.equal((await lab.exec(['/bin/ash', '-c', 'fcctl status'])).code, 127, 'no fcctl on OpenWrt');
      const ruleset = await lab.nftRuleset();
      if (lab.fastPath === 'kernel-flowtable') {
        assert.match(ruleset, /flowtable ft \{[^}]*devices = \{ "br0", "ppp0" \}[^}]*counter/s);
        assert.match(ruleset, /meta l4proto \{ tcp, udp \} flow (?:add|offload) @ft/);
      } else {
        assert.match(ruleset, /table netdev lab_fastpath \{/);
      }

      for (const family of [4, 6] as const) {
        const m = await stream(lab, family);
        assert.ok(m.oracle.bytes > 2_000_000, `IPv${family}: the host got ${m.oracle.bytes} bytes`);
        const shortfall = 1 - m.forward.bytes / m.oracle.bytes;
        assert.ok(shortfall > 0.9, `IPv${family}: the forward hook saw ${m.forward.bytes} of ${m.oracle.bytes} (shortfall ${(shortfall * 100).toFixed(1)} %): ${describeWhat(m)}`);
        assert.ok(m.forward.packets > 0, `IPv${family}: the first packets took the normal path: ${describeWhat(m)}`);
        console.log(`# IPv${family} (${lab.fastPath}): oracle ${m.oracle.bytes} B / ${m.oracle.packets} pkts, forward ${m.forward.bytes} B / ${m.forward.packets} pkts, WAN L3 ${m.wanL3} B / ${m.wanPackets} pkts, conntrack reply ${m.entry?.reply.bytes} B`);
        assertWanSawAll(m);
        assert.ok(m.entry, `IPv${family}: conntrack has the connection`);
        const replyBytes = m.entry.reply.bytes;
        assert.ok(replyBytes !== null, 'accounting on: bytes= in the entry');
        if (lab.fastPath === 'kernel-flowtable') {
          assert.ok(m.entry.flags.includes('OFFLOAD'), `[OFFLOAD]: ${m.entry.flags.join(' ')}`);
          assert.ok(replyBytes >= m.oracle.bytes * 0.9, `flowtable counter: conntrack ${replyBytes} follows the fast path (oracle ${m.oracle.bytes})`);
        } else {
          // The emulated fast path passes conntrack by (lab-fastpath.ts): its bytes are the normal path's.
          assert.ok(replyBytes <= m.forward.bytes + 10_000, `emulated: conntrack ${replyBytes} ≈ forward ${m.forward.bytes}`);
        }
      }
      const { offloaded, failures } = await lab.fastPathIdle();
      if (lab.fastPath === 'emulated') assert.ok(offloaded >= 2, `fast-path adds: ${offloaded}`);
      assert.deepEqual(failures.filter((f) => f.startsWith('add')), [], 'no add refused');
    });
  });

  test('openwrt-fw4, offload off, accounting off: forward counter = oracle exactly; no bytes= in conntrack', async () => {
    await withLab({ variant: 'openwrt-fw4', flowOffload: 'off', conntrackAcct: false }, async (lab) => {
      assert.equal(lab.fastPath, null);
      assert.equal(await lab.routerSysctl('net.netfilter.nf_conntrack_acct'), '0');
      assert.doesNotMatch(await lab.nftRuleset(), /flowtable|lab_fastpath/);
      for (const option of ['flow_offloading', 'flow_offloading_hw']) {
        assert.deepEqual(await uciGet(lab, option), { code: 1, stdout: '', stderr: '' }, `uci: ${option} unset`);
      }
      const noisy = await lab.exec(['/bin/ash', '-c', "uci get 'firewall.@defaults[0].flow_offloading'"]);
      assert.deepEqual([noisy.code, noisy.stdout, noisy.stderr], [1, '', 'uci: Entry not found\n'], 'without -q: the error');
      const m = await stream(lab, 4);
      assert.ok(m.oracle.bytes > 2_000_000, `the host got ${m.oracle.bytes} bytes`);
      assert.deepEqual(m.forward, { bytes: m.oracle.bytes, packets: m.oracle.packets }, `forward = oracle: ${describeWhat(m)}`);
      assertWanSawAll(m);
      assert.ok(m.entry, 'conntrack has the connection');
      assert.equal(m.entry.original.bytes, null, 'no bytes= without accounting');
      assert.equal(m.entry.reply.bytes, null);
      assert.equal(m.entry.state, 'ESTABLISHED');
    });
  });

  test('dual-stack (iptables) router, offload on, accounting on: the same shortfall beside iptables', async () => {
    await withLab({ variant: 'dual-stack', flowOffload: 'software', conntrackAcct: true }, async (lab) => {
      assert.equal(await lab.routerSysctl('net.netfilter.nf_conntrack_acct'), '1');
      const idle = await fcctlStatus(lab);
      assert.deepEqual([idle.enabled, idle.active], [true, 0], `fcctl before any traffic: ${idle.text}`);
      let streaming: Awaited<ReturnType<typeof fcctlStatus>> | null = null;
      const m = await stream(lab, 4, async () => {
        await lab.fastPathIdle();
        streaming = await fcctlStatus(lab);
      });
      assert.ok(m.oracle.bytes > 2_000_000, `the host got ${m.oracle.bytes} bytes`);
      assert.ok(m.forward.bytes < m.oracle.bytes * 0.1, `forward ${m.forward.bytes} of ${m.oracle.bytes}: ${describeWhat(m)}`);
      assertWanSawAll(m);
      assert.ok(m.entry?.reply.bytes !== null && m.entry?.reply.bytes !== undefined, 'accounting on: bytes=');
      const during = streaming as Awaited<ReturnType<typeof fcctlStatus>> | null;
      assert.ok(during, 'fcctl read during the stream');
      assert.deepEqual([during.enabled, during.active], [true, 1], `fcctl while h1's one connection is on the fast path: ${during.text}`);
      assert.ok(during.inserted >= 1 && during.removed === during.inserted - 1, during.text);
      // The client's end (FIN/RST) takes the normal path and ends the offload: Active falls back to 0.
      let ended = await fcctlStatus(lab);
      for (let i = 0; i < 20 && ended.active !== 0; i++) {
        await sleep(100);
        await lab.fastPathIdle();
        ended = await fcctlStatus(lab);
      }
      assert.deepEqual([ended.enabled, ended.active, ended.removed], [true, 0, ended.inserted], `fcctl after the stream: ${ended.text}`);
    });
  });

  test('cms (iptables) router, offload off: fcctl says Flow Learning Disabled; no uci', async () => {
    await withLab({ variant: 'cms', flowOffload: 'off' }, async (lab) => {
      assert.equal(lab.fastPath, null);
      const status = await fcctlStatus(lab);
      assert.deepEqual([status.enabled, status.active, status.inserted, status.removed], [false, 0, 0, 0], status.text);
      assert.equal((await lab.exec(['/bin/sh', '-c', 'uci -q get firewall.@defaults[0].flow_offloading'])).code, 127, 'no uci on the vendor router');
    });
  });
});
