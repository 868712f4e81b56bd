// The emulated router's state and its simulated LAN: hosts that join and leave (DHCP churn, ARP
// entries going stale), per-host traffic with plausible varying rates from a seeded PRNG, pushed
// through the iptables emulator the way the kernel would (FORWARD for LAN↔WAN, INPUT/OUTPUT for
// the router's own DNS), and a reboot that loses everything in RAM. Pure: time only moves when
// advanceModel is called with a later time.
//
// Addresses: LAN br0 198.51.100.0/24 (router .1), WAN ppp0 203.0.113.0/24 — documentation ranges,
// never real networks (RFC 5737).

import { createIptablesState, formatIpv4, parseIpv4, traversePackets, type IptablesDialect, type IptablesState } from './iptables.js';
import { chance, createPrng, nextFloat, nextGaussian, nextInt, type Prng } from './prng.js';

export type Flavour = 'broadcom' | 'busybox';
export type HostKind = 'phone' | 'laptop' | 'tablet' | 'tv' | 'downloader' | 'console' | 'iot';

export interface HostSpec {
  /** Raw DHCP hostname; '' for none. May be hostile (escape sequences, shell metacharacters). */
  hostname: string;
  kind?: HostKind;
  mac?: string;
  ip?: string;
  /** Joins later (a visitor) instead of being on the LAN from the start. */
  isVisitor?: boolean;
}

export type ArpState = 'reachable' | 'stale' | 'incomplete' | 'absent';

export interface SimulatedHost {
  mac: string;
  ip: string;
  hostname: string;
  kind: HostKind;
  isVisitor: boolean;
  isOnline: boolean;
  arp: ArpState;
  /** When the ARP entry last changed state (model ms). */
  arpSinceMs: number;
  /** Model ms when the DHCP lease ends; null when the host holds no lease. */
  leaseEndsAtMs: number | null;
  /** Current rates in bytes per second, as last simulated (what the host *tries* to move). */
  downBytesPerSecond: number;
  upBytesPerSecond: number;
  /** Bytes actually moved through the router since it booted (ground truth for tests). */
  downBytes: number;
  upBytes: number;
  /** Remote endpoint on the WAN side this host talks to. */
  wanPeer: string;
  /** Internal rate state: slow random walk and burst countdown. */
  level: number;
  burstSecondsLeft: number;
  isSessionOn: boolean;
}

export interface RouterModel {
  flavour: Flavour;
  routerName: string;
  lanInterface: string;
  wanInterface: string;
  lanAddress: string;
  wanAddress: string;
  leaseSeconds: number;
  nowMs: number;
  bootedAtMs: number;
  bootCount: number;
  hosts: SimulatedHost[];
  iptables: IptablesState;
  isTrafficOn: boolean;
  isChurnOn: boolean;
  /** Line capacity in bytes per second; all hosts together never exceed it. */
  lineDownBytesPerSecond: number;
  lineUpBytesPerSecond: number;
  prng: Prng;
  /** Time simulated but not yet turned into whole steps. */
  carryMs: number;
}

export interface ModelOptions {
  flavour?: Flavour;
  seed?: number;
  hostCount?: number;
  hosts?: HostSpec[];
  traffic?: boolean;
  churn?: boolean;
  startTimeMs?: number;
  iptablesDialect?: IptablesDialect;
}

const STEP_MS = 1000;
const MAX_STEPS_PER_ADVANCE = 3600;
export const LAN_PREFIX = '198.51.100.';
export const WAN_PREFIX = '203.0.113.';

// Mean rates in bytes/s (down, up) and how bursty each kind is. A 16/1 Mbit DSL line is the limit.
const KIND_PROFILE: Record<HostKind, { down: number; up: number; burstChance: number; burstFactor: number; sessionChance: number }> = {
  phone: { down: 12_000, up: 2_500, burstChance: 0.02, burstFactor: 25, sessionChance: 1 },
  tablet: { down: 20_000, up: 3_000, burstChance: 0.015, burstFactor: 20, sessionChance: 1 },
  laptop: { down: 60_000, up: 12_000, burstChance: 0.01, burstFactor: 15, sessionChance: 1 },
  tv: { down: 700_000, up: 8_000, burstChance: 0, burstFactor: 1, sessionChance: 0.004 },
  downloader: { down: 1_300_000, up: 45_000, burstChance: 0, burstFactor: 1, sessionChance: 1 },
  console: { down: 30_000, up: 10_000, burstChance: 0.005, burstFactor: 40, sessionChance: 1 },
  iot: { down: 150, up: 120, burstChance: 0, burstFactor: 1, sessionChance: 1 },
};

const DEFAULT_HOSTS: HostSpec[] = [
  { hostname: 'Pixel-7', kind: 'phone' },
  { hostname: 'Annas-iPhone', kind: 'phone' },
  { hostname: 'LivingRoom-TV', kind: 'tv' },
  { hostname: 'bens-thinkpad', kind: 'laptop' },
  { hostname: 'seedbox', kind: 'downloader' },
  { hostname: '', kind: 'phone' },
  { hostname: 'Zoë-MacBook', kind: 'laptop' },
  { hostname: 'esp32-plug', kind: 'iot' },
  { hostname: 'Galaxy-S21', kind: 'phone', isVisitor: true },
  { hostname: 'guest-laptop', kind: 'laptop', isVisitor: true },
];

/** Names a DHCP client may send that a client of the router must treat as hostile text. */
export const HOSTILE_HOSTNAMES: readonly string[] = [
  '\u001b[2J\u001b[31mpwned\u001b[0m',
  'kid$(reboot);`id`',
  'tab\there\u0007bell',
  '\u202eevil-rtl',
  'x'.repeat(300),
];

const KINDS: HostKind[] = ['phone', 'laptop', 'tablet', 'phone', 'tv', 'console', 'iot', 'laptop'];

export function createRouterModel(options: ModelOptions = {}): RouterModel {
  const flavour = options.flavour ?? 'broadcom';
  const prng = createPrng(options.seed ?? 1);
  const now = options.startTimeMs ?? Date.UTC(2024, 0, 15, 18, 0, 0);
  const leaseSeconds = flavour === 'broadcom' ? 86_400 : 43_200;
  let specs: HostSpec[];
  if (options.hosts) specs = options.hosts;
  else if (options.hostCount !== undefined) {
    if (!Number.isInteger(options.hostCount) || options.hostCount < 0 || options.hostCount > 250) {
      throw new RangeError('hostCount must be an integer from 0 to 250 (one /24 LAN)');
    }
    specs = Array.from({ length: options.hostCount }, (_, i): HostSpec => {
      const base = DEFAULT_HOSTS[i];
      if (base && !base.isVisitor) return base;
      return { hostname: i % 7 === 3 ? '' : `host-${String(i + 1).padStart(3, '0')}`, kind: KINDS[i % KINDS.length] as HostKind };
    });
  } else specs = DEFAULT_HOSTS;

  const usedIps = new Set<string>(specs.flatMap((spec) => (spec.ip ? [spec.ip] : [])));
  const firstHost = flavour === 'busybox' ? 100 : 2;
  let nextHost = firstHost;
  const allocateIp = (): string => {
    for (let tries = 0; tries < 253; tries++) {
      const candidate = `${LAN_PREFIX}${nextHost}`;
      nextHost = nextHost >= 254 ? 2 : nextHost + 1;
      if (!usedIps.has(candidate)) {
        usedIps.add(candidate);
        return candidate;
      }
    }
    throw new RangeError('no free address left in 198.51.100.0/24');
  };
  const usedMacs = new Set<string>();
  const hosts = specs.map((spec): SimulatedHost => {
    const ip = spec.ip ?? allocateIp();
    if (!ip.startsWith(LAN_PREFIX) || parseIpv4(ip) === null) throw new RangeError(`host address ${ip} is outside 198.51.100.0/24`);
    let mac = spec.mac?.toLowerCase();
    while (!mac || usedMacs.has(mac)) mac = randomMac(prng, spec.kind === 'phone');
    usedMacs.add(mac);
    const kind = spec.kind ?? 'laptop';
    const isVisitor = spec.isVisitor ?? false;
    return {
      mac,
      ip,
      hostname: spec.hostname,
      kind,
      isVisitor,
      isOnline: !isVisitor,
      arp: isVisitor ? 'absent' : 'reachable',
      arpSinceMs: now,
      leaseEndsAtMs: isVisitor ? null : now + nextInt(prng, leaseSeconds / 2, leaseSeconds) * 1000,
      downBytesPerSecond: 0,
      upBytesPerSecond: 0,
      downBytes: 0,
      upBytes: 0,
      wanPeer: `${WAN_PREFIX}${nextInt(prng, 10, 250)}`,
      level: 1,
      burstSecondsLeft: 0,
      isSessionOn: kind !== 'tv' || chance(prng, 0.6),
    };
  });
  const isTrafficOn = options.traffic ?? true;
  return {
    flavour,
    routerName: flavour === 'broadcom' ? 'BCM96328' : 'OpenWrt',
    lanInterface: 'br0',
    wanInterface: 'ppp0',
    lanAddress: `${LAN_PREFIX}1`,
    wanAddress: `${WAN_PREFIX}2`,
    leaseSeconds,
    nowMs: now,
    // The router has been up a while when we first log in.
    bootedAtMs: now - nextInt(prng, 3_600, 40 * 86_400) * 1000,
    bootCount: 1,
    hosts,
    iptables: createIptablesState(options.iptablesDialect ?? '1.4.21'),
    isTrafficOn,
    isChurnOn: options.churn ?? isTrafficOn,
    lineDownBytesPerSecond: 2_000_000,
    lineUpBytesPerSecond: 120_000,
    prng,
    carryMs: 0,
  };
}

function randomMac(prng: Prng, isRandomised: boolean): string {
  const bytes = Array.from({ length: 6 }, () => nextInt(prng, 0, 255));
  // Phones randomise their MAC (locally administered bit); other devices carry a vendor OUI (unicast).
  bytes[0] = isRandomised ? ((bytes[0] as number) & 0xfc) | 0x02 : (bytes[0] as number) & 0xfc;
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

export function uptimeSeconds(model: RouterModel): number {
  return Math.max(0, (model.nowMs - model.bootedAtMs) / 1000);
}

/** Moves simulated time forward to `toMs` in whole one-second steps (earlier times are ignored). */
export function advanceModel(model: RouterModel, toMs: number): void {
  if (!(toMs > model.nowMs)) return;
  let remaining = toMs - model.nowMs + model.carryMs;
  // After a long gap (laptop asleep during the demo) take bigger steps rather than thousands of them.
  const stepMs = Math.max(STEP_MS, Math.ceil(remaining / MAX_STEPS_PER_ADVANCE / STEP_MS) * STEP_MS);
  const start = model.nowMs - model.carryMs;
  let simulated = 0;
  while (remaining >= stepMs) {
    simulated += stepMs;
    model.nowMs = start + simulated;
    step(model, stepMs / 1000);
    remaining -= stepMs;
  }
  model.carryMs = remaining;
  model.nowMs = toMs;
}

function step(model: RouterModel, seconds: number): void {
  if (model.isChurnOn) churn(model, seconds);
  for (const host of model.hosts) {
    expireLease(model, host);
    ageArp(model, host);
  }
  if (!model.isTrafficOn) return;
  const demands = model.hosts.map((host) => (host.isOnline ? demand(model, host) : { down: 0, up: 0 }));
  const totalDown = demands.reduce((sum, d) => sum + d.down, 0);
  const totalUp = demands.reduce((sum, d) => sum + d.up, 0);
  const downScale = totalDown > model.lineDownBytesPerSecond ? model.lineDownBytesPerSecond / totalDown : 1;
  const upScale = totalUp > model.lineUpBytesPerSecond ? model.lineUpBytesPerSecond / totalUp : 1;
  model.hosts.forEach((host, i) => {
    const wanted = demands[i] as { down: number; up: number };
    host.downBytesPerSecond = Math.round(wanted.down * downScale);
    host.upBytesPerSecond = Math.round(wanted.up * upScale);
    if (!host.isOnline) return;
    const down = Math.round(host.downBytesPerSecond * seconds);
    const up = Math.round(host.upBytesPerSecond * seconds);
    if (down > 0 || up > 0) {
      host.arp = 'reachable';
      host.arpSinceMs = model.nowMs;
    }
    forward(model, host, down, up);
  });
  // The router's own DNS forwarder: a little INPUT/OUTPUT traffic from the LAN, never in FORWARD.
  const lookups = nextInt(model.prng, 0, 3);
  if (lookups > 0) {
    const asker = model.hosts.find((host) => host.isOnline);
    if (asker) {
      const lan = parseIpv4(model.lanAddress) as number;
      const hostIp = parseIpv4(asker.ip) as number;
      traversePackets(model.iptables, 'INPUT', { inInterface: model.lanInterface, outInterface: '', source: hostIp, destination: lan, protocol: 17, packets: lookups, bytes: lookups * 72 });
      traversePackets(model.iptables, 'OUTPUT', { inInterface: '', outInterface: model.lanInterface, source: lan, destination: hostIp, protocol: 17, packets: lookups, bytes: lookups * 140 });
    }
  }
}

function demand(model: RouterModel, host: SimulatedHost): { down: number; up: number } {
  const profile = KIND_PROFILE[host.kind];
  const prng = model.prng;
  if (host.kind === 'tv') {
    // Streams in sessions: on for an episode or two, then off for a while.
    if (chance(prng, host.isSessionOn ? 0.002 : profile.sessionChance)) host.isSessionOn = !host.isSessionOn;
    if (!host.isSessionOn) return { down: 200 + nextInt(prng, 0, 300), up: 100 + nextInt(prng, 0, 100) };
  }
  // Slow random walk of the activity level (log-space, pulled back towards 1).
  host.level = Math.min(4, Math.max(0.05, Math.exp(0.85 * Math.log(host.level) + 0.35 * nextGaussian(prng))));
  if (host.burstSecondsLeft > 0) host.burstSecondsLeft--;
  else if (chance(prng, profile.burstChance)) host.burstSecondsLeft = nextInt(prng, 3, 25);
  const burst = host.burstSecondsLeft > 0 ? profile.burstFactor : 1;
  const jitter = (): number => 0.8 + 0.4 * nextFloat(prng);
  return {
    down: profile.down * host.level * burst * jitter(),
    up: profile.up * Math.sqrt(host.level) * Math.sqrt(burst) * jitter(),
  };
}

function forward(model: RouterModel, host: SimulatedHost, down: number, up: number): void {
  const hostIp = parseIpv4(host.ip) as number;
  const peer = parseIpv4(host.wanPeer) as number;
  // Most bytes are TCP; a tenth is UDP (QUIC, DNS, games). Packet sizes as seen on a DSL line.
  for (const [protocol, share] of [[6, 0.9], [17, 0.1]] as const) {
    const downBytes = Math.round(down * share);
    const upBytes = Math.round(up * share);
    if (downBytes > 0) {
      const verdict = traversePackets(model.iptables, 'FORWARD', {
        inInterface: model.wanInterface, outInterface: model.lanInterface, source: peer, destination: hostIp,
        protocol, packets: Math.max(1, Math.ceil(downBytes / 1380)), bytes: downBytes,
      });
      if (verdict === 'ACCEPT') host.downBytes += downBytes;
    }
    if (upBytes > 0) {
      const verdict = traversePackets(model.iptables, 'FORWARD', {
        inInterface: model.lanInterface, outInterface: model.wanInterface, source: hostIp, destination: peer,
        protocol, packets: Math.max(1, Math.ceil(upBytes / 190)), bytes: upBytes,
      });
      if (verdict === 'ACCEPT') host.upBytes += upBytes;
    }
  }
}

function churn(model: RouterModel, seconds: number): void {
  const prng = model.prng;
  for (const host of model.hosts) {
    const isStayer = host.kind === 'downloader' || host.kind === 'iot' || host.kind === 'tv';
    if (host.isOnline) {
      // Phones and laptops leave every half hour or so on average; visitors sooner.
      const leaveRate = isStayer ? 0 : host.isVisitor ? 1 / 900 : 1 / 2400;
      if (chance(prng, leaveRate * seconds)) {
        host.isOnline = false;
        host.downBytesPerSecond = 0;
        host.upBytesPerSecond = 0;
      } else if (host.leaseEndsAtMs !== null && host.leaseEndsAtMs - model.nowMs < (model.leaseSeconds * 1000) / 2) {
        host.leaseEndsAtMs = model.nowMs + model.leaseSeconds * 1000; // DHCP renew at T1
      }
    } else {
      const joinRate = host.isVisitor ? 1 / 3600 : 1 / 600;
      if (chance(prng, joinRate * seconds)) join(model, host);
    }
  }
}

function join(model: RouterModel, host: SimulatedHost): void {
  host.isOnline = true;
  host.arp = 'reachable';
  host.arpSinceMs = model.nowMs;
  host.leaseEndsAtMs = model.nowMs + model.leaseSeconds * 1000;
  host.level = 1;
}

function expireLease(model: RouterModel, host: SimulatedHost): void {
  if (host.leaseEndsAtMs !== null && host.leaseEndsAtMs <= model.nowMs) {
    if (host.isOnline) host.leaseEndsAtMs = model.nowMs + model.leaseSeconds * 1000;
    else host.leaseEndsAtMs = null;
  }
}

/** Kernel neighbour states as /proc/net/arp shows them: reachable/stale 0x2, then incomplete 0x0, then gone. */
function ageArp(model: RouterModel, host: SimulatedHost): void {
  const age = model.nowMs - host.arpSinceMs;
  if (host.isOnline) {
    if (host.arp === 'absent' || host.arp === 'incomplete') {
      host.arp = 'reachable';
      host.arpSinceMs = model.nowMs;
    } else if (host.arp === 'reachable' && age > 60_000) {
      host.arp = 'stale';
    }
    return;
  }
  if ((host.arp === 'reachable' || host.arp === 'stale') && age > 90_000) {
    host.arp = 'incomplete';
    host.arpSinceMs = model.nowMs;
  } else if (host.arp === 'incomplete' && age > 180_000) {
    host.arp = 'absent';
    host.arpSinceMs = model.nowMs;
  }
}

/**
 * A reboot as on a real router: iptables back to the boot defaults (user rules gone, counters
 * zero), ARP table and DHCP leases (RAM) lost; hosts still on the LAN ask again and reappear.
 */
export function rebootModel(model: RouterModel): void {
  model.iptables = createIptablesState(model.iptables.dialect);
  model.bootedAtMs = model.nowMs;
  model.bootCount++;
  for (const host of model.hosts) {
    host.downBytes = 0;
    host.upBytes = 0;
    host.downBytesPerSecond = 0;
    host.upBytesPerSecond = 0;
    host.arp = 'absent';
    host.arpSinceMs = model.nowMs;
    host.leaseEndsAtMs = host.isOnline ? model.nowMs + model.leaseSeconds * 1000 : null;
  }
}

// ---------------------------------------------------------------------------------------------
// What the router's files and commands print about the LAN.

/** /proc/net/arp: the kernel's "%-16s 0x%-10x0x%-10x%-17s     %-8s %s\n" rows, in hash-bucket order. */
export function formatProcNetArp(model: RouterModel): string {
  let out = 'IP address       HW type     Flags       HW address            Mask     Device\n';
  const rows = model.hosts
    .filter((host) => host.arp !== 'absent')
    .sort((a, b) => arpBucket(a.ip) - arpBucket(b.ip) || a.ip.localeCompare(b.ip));
  for (const host of rows) {
    const isComplete = host.arp !== 'incomplete';
    const mac = isComplete ? host.mac : '00:00:00:00:00:00';
    out += `${host.ip.padEnd(16)} 0x${'1'.padEnd(10)}0x${(isComplete ? '2' : '0').padEnd(10)}${mac.padEnd(17)}     ${'*'.padEnd(8)} ${model.lanInterface}\n`;
  }
  return out;
}

function arpBucket(ip: string): number {
  const value = parseIpv4(ip) ?? 0;
  return (Math.imul(value ^ (value >>> 16), 0x45d9f3b) >>> 0) % 32;
}

/** Broadcom CLI `lanhosts show all` (cli_cmd.c: processLanHostsCmd / printHostsInLanDev). */
export function formatLanHosts(model: RouterModel): string {
  let out = `Bridge ${model.lanInterface}\n   MAC Addr          IP Addr     Lease Time Remaining    Hostname\n`;
  for (const host of model.hosts) {
    if (host.leaseEndsAtMs === null) continue;
    const remaining = Math.max(0, Math.floor((host.leaseEndsAtMs - model.nowMs) / 1000));
    out += `${host.mac}  ${host.ip}        ${remaining}              ${host.hostname}\n`;
  }
  return out;
}

/** dnsmasq's /tmp/dhcp.leases: "<expiry epoch> <mac> <ip> <hostname|*> <client-id|*>", newest first. */
export function formatDhcpLeases(model: RouterModel): string {
  return model.hosts
    .filter((host) => host.leaseEndsAtMs !== null)
    .sort((a, b) => (b.leaseEndsAtMs ?? 0) - (a.leaseEndsAtMs ?? 0))
    .map((host) => {
      // dnsmasq keeps only legal host names; anything else becomes "*".
      const name = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(host.hostname) ? host.hostname : '*';
      const clientId = host.kind === 'iot' ? '*' : `01:${host.mac}`;
      return `${Math.floor((host.leaseEndsAtMs as number) / 1000)} ${host.mac} ${host.ip} ${name} ${clientId}\n`;
    })
    .join('');
}

/** `ip neigh show` as BusyBox/iproute2 print it. */
export function formatIpNeigh(model: RouterModel): string {
  return model.hosts
    .filter((host) => host.arp !== 'absent')
    .map((host) =>
      host.arp === 'incomplete'
        ? `${host.ip} dev ${model.lanInterface}  FAILED\n`
        : `${host.ip} dev ${model.lanInterface} lladdr ${host.mac} ${host.arp === 'reachable' ? 'REACHABLE' : 'STALE'}\n`,
    )
    .join('');
}

/** /proc/uptime: seconds up and idle seconds, two decimals. */
export function formatProcUptime(model: RouterModel): string {
  const up = uptimeSeconds(model);
  return `${up.toFixed(2)} ${(up * 0.93).toFixed(2)}\n`;
}

export { formatIpv4 };
