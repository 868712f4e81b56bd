// Section 1 (issue 21): refresh latency on the netns lab router with 253 hosts, for each way in the
// lab offers — telnet to the vendor CLI (the listing runs in the shell behind `sh`), telnet to a
// login that lands in a shell, SSH (dropbear; lands in a shell) — each against
//   - the physical limit: the listing run on the router itself + one loopback round trip carrying
//     its bytes;
//   - the floor of the connection: the same listing read by a bare client on the same router
//     (raw-floor.ts), which only looks for the end marker;
//   - the seed script's procedure (a fresh login per command batch, two per refresh);
// and the first poll after connect (login + detection from the stored profile + first listing)
// against the login alone. Every figure of one router kind is interleaved with the others'.
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Lab } from '../test/lab/lab.js';
import { openRouter, sessionOptions, type OpenRouter } from '../src/app/open-router.js';
import { withWanRead } from '../src/router/wan-read.js';
import { resolveSettings } from '../src/config/resolve.js';
import { ProfileStore } from '../src/config/profiles.js';
import { openSession } from '../src/transport/connect.js';
import { connectTelnet } from '../src/transport/telnet.js';
import { connectSsh } from '../src/transport/ssh.js';
import { rawSsh, rawTelnet, type RawReader } from './raw-floor.js';
import { log, median, round, timeRuns, withTimeout } from './util.js';

/** Where the bench's own telnetd for the shell-login router listens (in the router namespace). */
const SHELL_LOGIN_TELNET_PORT = 2323;
const LIMIT_TARGET = 1.5;
const SEED_TARGET = 100;
const FIRST_POLL_TARGET = 2;

export interface RefreshBenchOptions {
  pollRuns: number;
  seedRuns: number;
  firstPollRuns: number;
  doSsh: boolean;
}

interface RouterKind {
  name: string;
  protocol: 'telnet' | 'ssh';
  port: number;
  /** Where a login lands. */
  login: 'vendor CLI' | 'shell';
  /** The seed script's two command batches on this router. */
  seedCommands: readonly string[];
}

function kindsOf(lab: Lab, options: RefreshBenchOptions): RouterKind[] {
  const kinds: RouterKind[] = [
    // The seed listed without -n; the lab router has no resolver of its own (a real one runs
    // dnsmasq), and reverse lookups would go to this machine's nameserver, so -n is added: that
    // only makes the seed procedure faster than it was, never slower.
    { name: 'telnet, vendor CLI', protocol: 'telnet', port: lab.telnetPort, login: 'vendor CLI', seedCommands: ['iptables -L TRAFFIC -v -x -n', 'lanhosts show all'] },
    { name: 'telnet, shell login', protocol: 'telnet', port: SHELL_LOGIN_TELNET_PORT, login: 'shell', seedCommands: ['iptables -L TRAFFIC -v -x -n', 'cat /tmp/dhcp.leases'] },
  ];
  if (options.doSsh) kinds.push({ name: 'SSH, shell login', protocol: 'ssh', port: lab.sshPort, login: 'shell', seedCommands: ['iptables -L TRAFFIC -v -x -n', 'cat /tmp/dhcp.leases'] });
  return kinds;
}

/**
 * A second telnet server on the lab router whose login lands in the shell (BusyBox telnetd + login,
 * as on OpenWrt/DD-WRT builds): the lab's own telnetd runs the vendor CLI. Returns its stopper.
 */
async function startShellLoginTelnetd(lab: Lab): Promise<() => Promise<void>> {
  const script = [
    "printf '#!/bin/sh\\nexec /bin/busybox login\\n' > /tmp/lantop-bench-login",
    'chmod 700 /tmp/lantop-bench-login',
    `nohup /bin/busybox telnetd -F -p ${SHELL_LOGIN_TELNET_PORT} -l /tmp/lantop-bench-login >/dev/null 2>&1 & echo $!`,
  ].join('; ');
  const r = await lab.exec(['bash', '-c', script]);
  const pid = Number(r.stdout.trim());
  if (r.code !== 0 || !(pid > 0)) throw new Error(`shell-login telnetd: ${r.stdout} ${r.stderr}`);
  for (let i = 0; i < 50; i++) {
    const probe = await lab.exec(['bash', '-c', `exec 3<>/dev/tcp/${lab.routerIp}/${SHELL_LOGIN_TELNET_PORT}`]);
    if (probe.code === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return async () => {
    await lab.exec(['kill', String(pid)]);
  };
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

/**
 * The listing run locally in the router namespace, timed by bash itself (no fork for timing).
 * `command` is what lantop's poll sends (its backend's read command: on a router with ip6tables
 * both listings, joined by a marker), so the limit is "the same listing run on the router".
 */
async function localListing(lab: Lab, n: number, command: string): Promise<{ times: number[]; bytes: number }> {
  const run = `{ ${command}; }`;
  const script = `${run} >/dev/null 2>&1; for i in $(seq ${n}); do s=$EPOCHREALTIME; ${run} >/dev/null 2>&1; e=$EPOCHREALTIME; echo "$s $e"; done; ${run} 2>&1 | wc -c`;
  const r = await lab.exec(['bash', '-c', script], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`local listing failed: ${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  const bytes = Number(lines.pop());
  return { times: lines.map((l) => l.split(' ').map(Number)).map(([s, e]) => (e! - s!) * 1000), bytes };
}

function settingsFor(lab: Lab, kind: RouterKind) {
  return resolveSettings({ host: lab.routerIp, port: kind.port, protocol: kind.protocol, user: lab.user }, {}, undefined, 'bench');
}

function openKind(lab: Lab, kind: RouterKind, profiles: ProfileStore): Promise<OpenRouter> {
  return withTimeout(openRouter({ settings: settingsFor(lab, kind), password: lab.password, isManaged: true, profiles }), 30_000, `open ${kind.name}`);
}

function rawReader(lab: Lab, kind: RouterKind): Promise<RawReader> {
  const login = { host: lab.routerIp, port: kind.port, user: lab.user, password: lab.password, enter: kind.login === 'vendor CLI' ? 'sh' : null };
  return kind.protocol === 'telnet' ? rawTelnet(login) : rawSsh(login);
}

async function seedRefresh(lab: Lab, kind: RouterKind): Promise<void> {
  // A fresh login per command batch, as the seed script did.
  for (const command of kind.seedCommands) {
    const session = kind.protocol === 'telnet'
      ? await connectTelnet({ host: lab.routerIp, port: kind.port, user: lab.user, password: lab.password })
      // The seed ran one command per ssh invocation: exec channels, no persistent shell to set up.
      : await connectSsh({ host: lab.routerIp, port: kind.port, user: lab.user, password: lab.password, preferExec: true });
    try {
      const out = await session.exec(command);
      if (command.startsWith('iptables') && !out.includes('Chain TRAFFIC')) throw new Error(`seed: unexpected output: ${out.slice(0, 200)}`);
    } finally {
      await session.close();
    }
  }
}

interface KindSamples {
  poll: number[];
  floor: number[];
  login: number[];
  firstPoll: number[];
  hostsRead: number;
  parseMs: number;
}

/** Polls and raw reads, every router kind in turn per round (drift hits all alike). */
async function pollRounds(lab: Lab, kinds: RouterKind[], profiles: ProfileStore, runs: number, samples: Map<RouterKind, KindSamples>, listing: string): Promise<void> {
  const open: Array<{ kind: RouterKind; router: OpenRouter; raw: RawReader }> = [];
  try {
    for (const kind of kinds) {
      const router = await openKind(lab, kind, profiles);
      open.push({ kind, router, raw: await rawReader(lab, kind) });
    }
    for (let round_ = -3; round_ < runs; round_++) {
      for (const { kind, router, raw } of open) {
        const s = samples.get(kind)!;
        const t0 = performance.now();
        s.hostsRead = (await withTimeout(router.client.readTraffic(), 10_000, 'readTraffic')).counters.size;
        const pollMs = performance.now() - t0;
        const floorMs = await raw.time(listing);
        if (round_ >= 0) {
          s.poll.push(pollMs);
          s.floor.push(floorMs);
        }
      }
    }
    // What lantop does with the text once it is in: parse + per-host counters, on one captured listing.
    for (const { kind, router } of open) {
      const text = await router.session.exec(listing, { where: 'shell' });
      samples.get(kind)!.parseMs = median(await timeRuns(50, () => router.client.backend.read(text), 10));
    }
  } finally {
    for (const { router, raw } of open) {
      raw.close();
      await router.session.close().catch(() => undefined);
    }
  }
}

/** Login alone vs login + stored-profile detection + first listing, interleaved per kind. */
async function firstPollRounds(lab: Lab, kinds: RouterKind[], profiles: ProfileStore, runs: number, samples: Map<RouterKind, KindSamples>): Promise<void> {
  for (let i = 0; i < runs; i++) {
    for (const kind of kinds) {
      const s = samples.get(kind)!;
      let t0 = performance.now();
      const session = await withTimeout(openSession(sessionOptions(settingsFor(lab, kind), lab.password, { profiles })), 30_000, `login ${kind.name}`);
      s.login.push(performance.now() - t0);
      await session.close();
      t0 = performance.now();
      const router = await openKind(lab, kind, profiles);
      try {
        await withTimeout(router.client.readTraffic(), 10_000, 'first readTraffic');
        s.firstPoll.push(performance.now() - t0);
        if (router.firmware.source !== 'stored') throw new Error(`${kind.name}: the profile was not reused (${router.firmware.source})`);
      } finally {
        await router.session.close();
      }
    }
  }
}

export async function refreshBench(lab: Lab, options: RefreshBenchOptions): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = { targets: { limit: LIMIT_TARGET, seed: SEED_TARGET, firstPoll: FIRST_POLL_TARGET } };
  const stopShellLogin = await startShellLoginTelnetd(lab);
  const configDir = mkdtempSync(join(tmpdir(), 'lantop-bench-profiles-'));
  try {
    const profiles = new ProfileStore({ LANTOP_CONFIG_DIR: configDir });
    const kinds = kindsOf(lab, options);
    const samples = new Map(kinds.map((k) => [k, { poll: [], floor: [], login: [], firstPoll: [], hostsRead: 0, parseMs: NaN } as KindSamples]));
    // The first open of each kind probes the router and stores its profile, as a first run does;
    // every kind lands on the same router, so their backends send the same read command.
    const readCommands = new Set<string>();
    for (const kind of kinds) {
      const router = await openKind(lab, kind, profiles);
      const spec = router.client.backend.readCommand;
      if (spec.where !== 'shell') throw new Error(`${kind.name}: the listing does not run in the shell (${spec.where})`);
      // A poll also reads the WAN interface's counters on the same line (issue 19): the limit is
      // that whole line run on the router.
      readCommands.add(withWanRead(spec.command, router.client.wan));
      await router.session.close();
    }
    if (readCommands.size !== 1) throw new Error(`the router kinds read with different commands: ${[...readCommands].join(' | ')}`);
    const listing = [...readCommands][0]!;
    const local = await localListing(lab, 40, listing);
    const rttSmall = await loopbackRoundTrips(200, 1);
    const rttListing = await loopbackRoundTrips(200, local.bytes);
    const limitMs = median(local.times) + median(rttListing);
    out['limit'] = {
      command: listing,
      localListingMedianMs: round(median(local.times)), listingBytes: local.bytes,
      loopbackRttSmallMedianMs: round(median(rttSmall), 3), loopbackRttListingMedianMs: round(median(rttListing), 3),
      limitMs: round(limitMs), runs: local.times.length,
    };
    log(`refresh: ${options.pollRuns} polls and raw reads per router (${kinds.map((k) => k.name).join('; ')})`);
    await pollRounds(lab, kinds, profiles, options.pollRuns, samples, listing);
    log(`refresh: first poll after connect vs login, ${options.firstPollRuns} runs per router`);
    await firstPollRounds(lab, kinds, profiles, options.firstPollRuns, samples);
    const routers: Array<Record<string, unknown>> = [];
    for (const kind of kinds) {
      log(`refresh: seed procedure, ${kind.name}`);
      const seedTimes = await timeRuns(options.seedRuns, () => withTimeout(seedRefresh(lab, kind), 30_000, 'seed refresh'), 1);
      const s = samples.get(kind)!;
      const pollMs = median(s.poll);
      const floorMs = median(s.floor);
      const seedMs = median(seedTimes);
      const loginMs = median(s.login);
      const firstPollMs = median(s.firstPoll);
      routers.push({
        name: kind.name, protocol: kind.protocol, login: kind.login, hostsRead: s.hostsRead,
        lantopPollMedianMs: round(pollMs), lantopPollRuns: s.poll.length, parseAndCountersMedianMs: round(s.parseMs, 3),
        floorMedianMs: round(floorMs), ratioLantopToFloor: round(pollMs / floorMs), ratioFloorToLimit: round(floorMs / limitMs),
        seedRefreshMedianMs: round(seedMs), seedRuns: seedTimes.length,
        ratioLantopToLimit: round(pollMs / limitMs), ratioSeedToLantop: round(seedMs / pollMs, 1), ratioSeedToFloor: round(seedMs / floorMs, 1),
        meetsLimitTarget: pollMs / limitMs <= LIMIT_TARGET, meetsSeedTarget: seedMs / pollMs >= SEED_TARGET,
        firstPoll: {
          loginMedianMs: round(loginMs), firstPollMedianMs: round(firstPollMs), runs: s.firstPoll.length,
          ratioToLogin: round(firstPollMs / loginMs), meetsTarget: firstPollMs / loginMs <= FIRST_POLL_TARGET,
        },
      });
    }
    out.routers = routers;
  } finally {
    await stopShellLogin().catch(() => undefined);
    rmSync(configDir, { recursive: true, force: true });
  }
  return out;
}
