// Sections 1 (refresh latency) and 2 (router cost) on the netns lab router: 253 LAN hosts (every
// address of 198.51.100.0/24 but the router's own .1: three namespaces, the console, and permanent
// ARP entries), lantop's rules installed by lantop itself.
import net from 'node:net';
import { spawn } from 'node:child_process';
import { startLab, type Lab } from '../test/lab/lab.js';
import { openRouter, type OpenRouter } from '../src/app/open-router.js';
import { resolveSettings } from '../src/config/resolve.js';
import { connectTelnet } from '../src/transport/telnet.js';
import { connectSsh } from '../src/transport/ssh.js';
import { DOWN_CHAIN, TRAFFIC_CHAIN, type RuleLayout } from '../src/router/backends/iptables/layouts.js';
import { findChain } from '../src/router/backends/iptables/rule-spec.js';
import type { IptablesReading } from '../src/router/backends/iptables/iptables-backend.js';
import type { IptablesListing } from '../src/router/parsers/types.js';
import { log, median, round, runProgram, sleep, timeRuns, withTimeout } from './util.js';

const ISP_IP = '203.0.113.1';
const LISTING_COMMAND = 'iptables -L -v -x -n --line-numbers';
// The seed script listed without -n; the lab router has no resolver of its own (a real one runs
// dnsmasq), and reverse lookups would go to this machine's nameserver, so -n is added: that only
// makes the seed procedure faster than it was, never slower.
const SEED_COMMANDS = ['iptables -L TRAFFIC -v -x -n', 'lanhosts show all'];

export interface LabBenchOptions {
  backend: 'legacy' | 'nft';
  pollRuns: number;
  seedRuns: number;
  transferBytes: number;
  rounds: number;
  doSsh: boolean;
  /** Bytes per transfer with GSO limited to one segment (per-packet forwarding, like a router without offloads). */
  perPacketBytes: number;
}

export interface LabBenchResult {
  backend: string;
  hosts: number;
  rulesFlat: number;
  refresh: Record<string, unknown>;
  router: Record<string, unknown>;
}

function lastOctet(ip: string): number {
  return Number(ip.split('.')[3]);
}

async function addArpEntries(lab: Lab, skip: ReadonlySet<string>): Promise<number> {
  const lines: string[] = [];
  for (let x = 2; x <= 253; x++) {
    const ip = `198.51.100.${x}`;
    if (skip.has(ip)) continue;
    lines.push(`neigh replace ${ip} lladdr 02:be:00:00:00:${x.toString(16).padStart(2, '0')} dev br0 nud permanent`);
  }
  const result = await lab.exec(['ip', '-batch', '-'], { input: lines.join('\n') + '\n', timeoutMs: 20_000 });
  if (result.code !== 0) throw new Error(`ip neigh batch failed: ${result.stderr}`);
  return lines.length;
}

function settingsFor(lab: Lab, protocol: 'telnet' | 'ssh') {
  return resolveSettings({ host: lab.routerIp, port: protocol === 'telnet' ? lab.telnetPort : lab.sshPort, protocol, user: lab.user }, {}, undefined, 'bench');
}

async function open(lab: Lab, protocol: 'telnet' | 'ssh', layout?: RuleLayout): Promise<OpenRouter> {
  return withTimeout(openRouter({ settings: settingsFor(lab, protocol), password: lab.password, isManaged: true, ...(layout ? { layout } : {}) }), 30_000, `open ${protocol}`);
}

/**
 * Installs a layout with lantop in two steps, the way DHCP churn orders rules: h1 and .13–.254
 * first (sorted), then the rest appended by a second `setup` — so h1 is the first host in the
 * rule order and h3 the last (the flat layout's worst case).
 */
async function installLayout(lab: Lab, layout: RuleLayout): Promise<{ positions: Record<string, number>; hostCount: number; ruleCount: number }> {
  const router = await open(lab, 'telnet', layout);
  try {
    const { client } = router;
    const teardown = await client.apply(await client.planTeardown());
    if (teardown.failed) throw new Error(`teardown failed: ${teardown.failed.command}`);
    await lab.refreshArp();
    const hosts = await client.listHosts();
    const [h1, h2, h3] = lab.hosts;
    const early = hosts.map((h) => h.ip).filter((ip) => ip === h1!.ip || lastOctet(ip) >= 13);
    const first = await client.apply(client.backend.planInstall(await client.readTraffic(), early, { isAdopting: false, isPruning: false }).commands);
    if (first.failed) throw new Error(`setup (step 1) failed: ${first.failed.command}: ${first.failed.output}`);
    const outcome = await client.setup();
    if (outcome.failed || !outcome.isVerified) throw new Error(`setup failed or not verified: ${outcome.failed?.command ?? ''}`);
    // The iptables backend's reading carries the listing it was read from.
    const { listing } = (await client.readTraffic()) as IptablesReading;
    const chain = findChain(listing, layout === 'flat' ? TRAFFIC_CHAIN : DOWN_CHAIN)!;
    const positions: Record<string, number> = {};
    for (const h of [h1!, h2!, h3!]) positions[h.name] = 1 + chain.rules.findIndex((r) => r.destination === h.ip || r.destination === `${h.ip}/32`);
    const ruleCount = countRules(listing);
    return { positions, hostCount: hosts.length, ruleCount };
  } finally {
    await router.session.close();
  }
}

function countRules(listing: IptablesListing): number {
  return listing.chains.filter((c) => c.name.startsWith('TRAFFIC')).reduce((n, c) => n + c.rules.length, 0);
}

/** Transfers through the router and compares lantop's per-host deltas with the oracle's. */
async function checkCounts(lab: Lab, layout: RuleLayout): Promise<{ isIdentical: boolean; hosts: Record<string, unknown> }> {
  const router = await open(lab, 'telnet', layout);
  try {
    const before = (await router.client.readTraffic()).counters;
    const oracleBefore = await lab.settle();
    await lab.transfer('h1', { downBytes: 3_000_000, upBytes: 400_000 });
    await lab.transfer('h3', { downBytes: 2_000_000, upBytes: 700_000 });
    const oracleAfter = await lab.settle();
    const after = (await router.client.readTraffic()).counters;
    let isIdentical = true;
    const hosts: Record<string, unknown> = {};
    for (const h of lab.hosts) {
      const lantopDown = (after.get(h.ip)?.downBytes ?? NaN) - (before.get(h.ip)?.downBytes ?? NaN);
      const lantopUp = (after.get(h.ip)?.upBytes ?? NaN) - (before.get(h.ip)?.upBytes ?? NaN);
      const oracleDown = oracleAfter[h.ip]!.downBytes - oracleBefore[h.ip]!.downBytes;
      const oracleUp = oracleAfter[h.ip]!.upBytes - oracleBefore[h.ip]!.upBytes;
      const same = lantopDown === oracleDown && lantopUp === oracleUp;
      if (!same) isIdentical = false;
      hosts[h.name] = { lantopDown, oracleDown, lantopUp, oracleUp, same };
    }
    return { isIdentical, hosts };
  } finally {
    await router.session.close();
  }
}

/**
 * GSO on the ISP's sending interface: 65535 segments (the default, 64 KB super-packets through the
 * router) or 1 (every MTU-sized packet walks the rules on its own, as on a router without offloads).
 */
async function setIspGsoSegments(lab: Lab, segments: number): Promise<void> {
  const r = await runProgram(['ip', '-n', lab.ispNs, 'link', 'set', 'wan0', 'gso_max_segs', String(segments)], { timeoutMs: 10_000 });
  if (r.code !== 0) throw new Error(`ip link set gso_max_segs: ${r.stderr}`);
}

async function saveFilter(lab: Lab): Promise<string> {
  const r = await lab.exec(['iptables-save', '-t', 'filter']);
  if (r.code !== 0) throw new Error(`iptables-save: ${r.stderr}`);
  return r.stdout;
}

async function restoreFilter(lab: Lab, dump: string): Promise<void> {
  const r = await lab.exec(['iptables-restore'], { input: dump, timeoutMs: 20_000 });
  if (r.code !== 0) throw new Error(`iptables-restore: ${r.stderr}`);
}

/** One bounded download of `bytes` from the ISP to the host (socat, /dev/zero → /dev/null); MB/s. */
async function throughput(lab: Lab, host: string, bytes: number, port: number): Promise<number> {
  const before = (await lab.oracle())[lab.hosts.find((h) => h.name === host)!.ip]!.downBytes;
  const server = spawn('timeout', ['60', 'ip', 'netns', 'exec', lab.ispNs, 'bash', '-c', `head -c ${bytes} /dev/zero | socat -u -b 262144 STDIN TCP-LISTEN:${port},reuseaddr`], { stdio: 'ignore' });
  const serverDone = new Promise<void>((resolve) => server.on('close', () => resolve()));
  try {
    await sleep(150);
    const r = await lab.hostExec(host, ['bash', '-c', `s=$EPOCHREALTIME; socat -u -b 262144 TCP:${ISP_IP}:${port},retry=100,interval=0.02 GOPEN:/dev/null; c=$?; e=$EPOCHREALTIME; echo "$c $s $e"`], { timeoutMs: 60_000 });
    const [code, s, e] = r.stdout.trim().split(' ');
    if (code === '127') throw new Error('socat is not installed; the router-cost bench moves its bytes with it: apt-get install socat');
    if (r.code !== 0 || code !== '0') throw new Error(`transfer to ${host} failed: ${r.stdout} ${r.stderr}`);
    await withTimeout(serverDone, 10_000, 'socat server exit');
    const after = (await lab.settle())[lab.hosts.find((h) => h.name === host)!.ip]!.downBytes;
    if (after - before < bytes) throw new Error(`transfer to ${host}: the oracle saw ${after - before} bytes, fewer than ${bytes}`);
    return bytes / 1e6 / (Number(e) - Number(s));
  } finally {
    if (server.exitCode === null) server.kill('SIGKILL');
  }
}

/** Round trips on 127.0.0.1: a one-line request answered with `responseBytes` bytes. */
async function loopbackRoundTrips(n: number, responseBytes: number): Promise<number[]> {
  const payload = Buffer.alloc(responseBytes, 0x61);
  const server = net.createServer((socket) => socket.on('data', () => socket.write(payload)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const socket = net.connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const once = () => new Promise<void>((resolve) => {
    let got = 0;
    const onData = (d: Buffer) => {
      got += d.length;
      if (got >= responseBytes) {
        socket.off('data', onData);
        resolve();
      }
    };
    socket.on('data', onData);
    socket.write('x\n');
  });
  try {
    return await timeRuns(n, () => withTimeout(once(), 5_000, 'loopback round trip'), 3);
  } finally {
    socket.destroy();
    server.close();
  }
}

/** The listing run locally in the router namespace, timed by bash itself (no fork for timing). */
async function localListing(lab: Lab, n: number): Promise<{ times: number[]; bytes: number }> {
  const script = `${LISTING_COMMAND} >/dev/null; for i in $(seq ${n}); do s=$EPOCHREALTIME; ${LISTING_COMMAND} >/dev/null; e=$EPOCHREALTIME; echo "$s $e"; done; ${LISTING_COMMAND} | wc -c`;
  const r = await lab.exec(['bash', '-c', script], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`local listing failed: ${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  const bytes = Number(lines.pop());
  return { times: lines.map((l) => l.split(' ').map(Number)).map(([s, e]) => (e! - s!) * 1000), bytes };
}

async function seedRefresh(lab: Lab, protocol: 'telnet' | 'ssh'): Promise<void> {
  // A fresh login per command batch, as the seed script did.
  for (const command of protocol === 'telnet' ? SEED_COMMANDS : [SEED_COMMANDS[0]!, 'cat /tmp/dhcp.leases']) {
    const session = protocol === 'telnet'
      ? await connectTelnet({ host: lab.routerIp, port: lab.telnetPort, user: lab.user, password: lab.password })
      // The seed ran one command per ssh invocation: exec channels, no persistent shell to set up.
      : await connectSsh({ host: lab.routerIp, port: lab.sshPort, user: lab.user, password: lab.password, preferExec: true });
    try {
      const out = await session.exec(command);
      if (command.startsWith('iptables') && !out.includes('Chain TRAFFIC')) throw new Error(`seed: unexpected output: ${out.slice(0, 200)}`);
    } finally {
      await session.close();
    }
  }
}

async function refreshBench(lab: Lab, options: LabBenchOptions): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const local = await localListing(lab, 40);
  const rttSmall = await loopbackRoundTrips(200, 1);
  const rttListing = await loopbackRoundTrips(200, local.bytes);
  const limitMs = median(local.times) + median(rttListing);
  out.limit = {
    localListingMedianMs: round(median(local.times)), listingBytes: local.bytes,
    loopbackRttSmallMedianMs: round(median(rttSmall), 3), loopbackRttListingMedianMs: round(median(rttListing), 3),
    limitMs: round(limitMs), runs: local.times.length,
  };
  for (const protocol of options.doSsh ? (['telnet', 'ssh'] as const) : (['telnet'] as const)) {
    log(`refresh: lantop poll over ${protocol}`);
    const router = await open(lab, protocol);
    let pollTimes: number[];
    let hostsRead = 0;
    try {
      pollTimes = await timeRuns(options.pollRuns, async () => {
        hostsRead = (await withTimeout(router.client.readTraffic(), 10_000, 'readTraffic')).counters.size;
      }, 3);
    } finally {
      await router.session.close();
    }
    log(`refresh: seed procedure over ${protocol}`);
    const seedTimes = await timeRuns(options.seedRuns, () => withTimeout(seedRefresh(lab, protocol), 30_000, 'seed refresh'), 1);
    const lantopMs = median(pollTimes);
    const seedMs = median(seedTimes);
    out[protocol] = {
      hostsRead, lantopPollMedianMs: round(lantopMs), lantopPollRuns: pollTimes.length,
      seedRefreshMedianMs: round(seedMs), seedRuns: seedTimes.length,
      ratioLantopToLimit: round(lantopMs / limitMs), ratioSeedToLantop: round(seedMs / lantopMs, 1),
      meetsLimitTarget: lantopMs / limitMs <= 1.5, meetsSeedTarget: seedMs / lantopMs >= 20,
    };
  }
  return out;
}

export async function runLabBench(options: LabBenchOptions): Promise<LabBenchResult> {
  log(`lab: starting (${options.backend}); waits for the lab lock if another lab runs`);
  const lab = await startLab({ hosts: 3, backend: options.backend });
  try {
    const extra = await addArpEntries(lab, new Set(lab.hosts.map((h) => h.ip)));
    log(`lab: ${extra} extra ARP entries; installing the flat layout with lantop`);
    const noneDump = await saveFilter(lab);
    const flat = await installLayout(lab, 'flat');
    const flatCounts = await checkCounts(lab, 'flat');
    const flatDump = await saveFilter(lab);
    log(`lab: flat: ${flat.hostCount} hosts, ${flat.ruleCount} rules, positions ${JSON.stringify(flat.positions)}, counts ${flatCounts.isIdentical ? 'identical' : 'DIFFER'}`);

    const refresh = await refreshBench(lab, options);

    log('lab: installing the split layout with lantop');
    const split = await installLayout(lab, 'split');
    const splitCounts = await checkCounts(lab, 'split');
    const splitDump = await saveFilter(lab);
    log(`lab: split: ${split.ruleCount} rules, positions ${JSON.stringify(split.positions)}, counts ${splitCounts.isIdentical ? 'identical' : 'DIFFER'}`);

    // Throughput: variants interleaved round by round (iptables-restore of lantop's own dumps), so
    // drift on this shared machine hits all three alike; once with offloads as they are, once
    // per packet.
    const variants: Array<[string, string]> = [['none', noneDump], ['flat', flatDump], ['split', splitDump]];
    const modes: Array<[string, number, number]> = [['offload', 65535, options.transferBytes], ['perPacket', 1, options.perPacketBytes]];
    const samples: Record<string, Record<string, number[]>> = {};
    let port = 5301;
    try {
      for (let round_ = 0; round_ < options.rounds; round_++) {
        for (const [mode, segments, bytes] of modes) {
          await setIspGsoSegments(lab, segments);
          for (const [name, dump] of variants) {
            await restoreFilter(lab, dump);
            for (const host of ['h3', 'h1']) {
              const mbps = await throughput(lab, host, bytes, port++);
              ((samples[`${mode}/${name}`] ??= {})[host] ??= []).push(mbps);
            }
          }
        }
        log(`router: round ${round_ + 1}/${options.rounds} done`);
      }
    } finally {
      await setIspGsoSegments(lab, 65535).catch(() => undefined);
    }
    await restoreFilter(lab, noneDump);
    const table: Record<string, unknown> = {};
    for (const [mode, , bytes] of modes) {
      for (const [name] of variants) {
        for (const host of ['h3', 'h1']) {
          const runs = samples[`${mode}/${name}`]![host]!;
          const none = median(samples[`${mode}/none`]![host]!);
          table[`${mode}/${name}/${host}`] = { bytes, medianMBps: round(median(runs), 1), percentOfNoRules: round((100 * median(runs)) / none, 1), samplesMBps: runs.map((v) => round(v, 1)) };
        }
      }
    }
    return {
      backend: options.backend,
      hosts: flat.hostCount,
      rulesFlat: flat.ruleCount,
      refresh,
      router: {
        transferBytes: options.transferBytes, perPacketBytes: options.perPacketBytes, rounds: options.rounds,
        flat: { rules: flat.ruleCount, positions: flat.positions, counts: flatCounts },
        split: { rules: split.ruleCount, positions: split.positions, counts: splitCounts },
        countsIdentical: flatCounts.isIdentical && splitCounts.isIdentical,
        throughput: table,
      },
    };
  } finally {
    await lab.stop();
  }
}
