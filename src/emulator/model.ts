// The emulated router's state: its LAN hosts (generated from a seed, or given), the iptables
// tables, the line's capacity, the clock, and a reboot that loses everything in RAM. Time passing
// (traffic, churn, ARP ageing) is model-simulation.ts; what the router prints about the LAN is
// model-formats.ts. Pure.
//
// Addresses: LAN br0 198.51.100.0/24 (router .1), WAN ppp0 203.0.113.0/24 — documentation ranges,
// never real networks (RFC 5737). The OpenWrt fw4 flavour names them br-lan and pppoe-wan, counts
// with nftables instead of iptables and is dual-stack (model-ipv6.ts: 2001:db8:1::/64).

import { fw4Ruleset } from './fw4-ruleset.js';
import { createIptablesState, parseIpv4, type IptablesDialect, type IptablesState } from './iptables.js';
import { assignIpv6, type HostIpv6Address } from './host-ipv6.js';
import { createConntrackState, type ConntrackState, type InterfaceCounters } from './model-conntrack-state.js';
import { runNft } from './nft-run.js';
import { createNftState, type NftOptions, type NftState } from './nft-state.js';
import { chance, createPrng, nextInt, type Prng } from './prng.js';

/** broadcom: a Broadcom CLI router; busybox: an OpenWrt-like shell with iptables; openwrt-fw4: OpenWrt 23.05 (nftables, dual-stack). */
export type Flavour = 'broadcom' | 'busybox' | 'openwrt-fw4';
/** Flow offload (issue 19): Broadcom's flow cache learning, OpenWrt's flowtable (fw4 flow_offloading). */
export type OffloadMode = 'off' | 'on';
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
  /** The IPv6 part of downBytes/upBytes (0 on IPv4-only flavours). */
  downBytes6: number;
  upBytes6: number;
  /** Remote endpoint on the WAN side this host talks to. */
  wanPeer: string;
  /** Dual-stack flavours: the host's global IPv6 addresses, link-local address, IPv6 peer and share of bytes. */
  ipv6: HostIpv6Address[];
  linkLocal: string | null;
  wanPeer6: string | null;
  ipv6Share: number;
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
  /** The nftables ruleset (openwrt-fw4 only). */
  nft: NftState | null;
  /** Files the router's shell wrote in RAM (/tmp), lost on reboot. */
  files: Map<string, string>;
  /** How `ip neigh` prints: BusyBox's applet (stock OpenWrt) or iproute2's ip-full. */
  ipTool: 'busybox' | 'iproute2';
  isTrafficOn: boolean;
  isChurnOn: boolean;
  /** Line capacity in bytes per second; all hosts together never exceed it. */
  lineDownBytesPerSecond: number;
  lineUpBytesPerSecond: number;
  prng: Prng;
  /** Draws for the IPv6 side (dual-stack only), apart so IPv4-only flavours draw what they did before. */
  prng6: Prng | null;
  /** Time simulated but not yet turned into whole steps. */
  carryMs: number;
  /** Connection tracking: the flows that carry the hosts' bytes (model-conntrack.ts). */
  conntrack: ConntrackState;
  /** Interface counters since boot, as /proc/net/dev prints them (L3 bytes; see model-netdev.ts). */
  netdev: Map<string, InterfaceCounters>;
  /** Flow offload: later packets of a flow bypass the firewall's counters (model-conntrack.ts). */
  offload: OffloadMode;
  /** The router's own traffic since boot (DNS forwarding, NTP), L3 bytes per side and direction. */
  routerOwn: { wanRxBytes: number; wanTxBytes: number; lanRxBytes: number; lanTxBytes: number };
  /** Model ms of the last NTP poll. */
  lastNtpPollMs: number;
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
  /** openwrt-fw4: what its nft is (default 1.0.8 with JSON, a 5.15 kernel's element timeouts). */
  nft?: Partial<NftOptions>;
  /** openwrt-fw4: `ip` from BusyBox (default, as stock OpenWrt) or from ip-full (iproute2). */
  ipTool?: 'busybox' | 'iproute2';
  /** Flow offload (default 'off'): broadcom's flow cache, openwrt-fw4's flowtable. */
  offload?: OffloadMode;
}

export const LAN_PREFIX = '198.51.100.';
export const WAN_PREFIX = '203.0.113.';

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
  const firstHost = flavour === 'broadcom' ? 2 : 100;
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
      downBytes6: 0,
      upBytes6: 0,
      wanPeer: `${WAN_PREFIX}${nextInt(prng, 10, 250)}`,
      ipv6: [],
      linkLocal: null,
      wanPeer6: null,
      ipv6Share: 0,
      level: 1,
      burstSecondsLeft: 0,
      isSessionOn: kind !== 'tv' || chance(prng, 0.6),
    };
  });
  const isTrafficOn = options.traffic ?? true;
  const isFw4 = flavour === 'openwrt-fw4';
  const prng6 = isFw4 ? createPrng(((options.seed ?? 1) * 2654435761) >>> 0) : null;
  if (prng6) assignIpv6(hosts, prng6, now);
  const model: RouterModel = {
    flavour,
    routerName: flavour === 'broadcom' ? 'BCM96328' : 'OpenWrt',
    lanInterface: isFw4 ? 'br-lan' : 'br0',
    wanInterface: isFw4 ? 'pppoe-wan' : 'ppp0',
    lanAddress: `${LAN_PREFIX}1`,
    wanAddress: `${WAN_PREFIX}2`,
    leaseSeconds,
    nowMs: now,
    // The router has been up a while when we first log in.
    bootedAtMs: now - nextInt(prng, 3_600, 40 * 86_400) * 1000,
    bootCount: 1,
    hosts,
    iptables: createIptablesState(options.iptablesDialect ?? '1.4.21'),
    nft: isFw4 ? createNftState(options.nft) : null,
    files: new Map(),
    ipTool: options.ipTool ?? 'busybox',
    isTrafficOn,
    isChurnOn: options.churn ?? isTrafficOn,
    lineDownBytesPerSecond: 2_000_000,
    lineUpBytesPerSecond: 120_000,
    prng,
    prng6,
    carryMs: 0,
    conntrack: bootConntrack(options.seed ?? 1, flavour),
    netdev: new Map(),
    offload: options.offload ?? 'off',
    routerOwn: { wanRxBytes: 0, wanTxBytes: 0, lanRxBytes: 0, lanTxBytes: 0 },
    lastNtpPollMs: now,
  };
  bootFirewall(model);
  return model;
}

/** The connection table at boot: OpenWrt ships net.netfilter.nf_conntrack_acct=1; Broadcom's kernel leaves it 0 without DPI. */
function bootConntrack(seed: number, flavour: Flavour): ConntrackState {
  return createConntrackState(seed, flavour !== 'broadcom');
}

/** firewall4 writes its table at boot (the only nftables state a fresh OpenWrt has). */
function bootFirewall(model: RouterModel): void {
  if (model.nft) runNft(model.nft, ['-f', '-'], fw4Ruleset(model.lanInterface, model.wanInterface), model.nowMs);
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

/**
 * A reboot as on a real router: iptables back to the boot defaults (user rules gone, counters
 * zero), ARP table and DHCP leases (RAM) lost; hosts still on the LAN ask again and reappear.
 */
export function rebootModel(model: RouterModel): void {
  model.iptables = createIptablesState(model.iptables.dialect);
  if (model.nft) model.nft = createNftState(model.nft.options);
  model.files = new Map();
  // Conntrack, interface counters and sysctls live in RAM too (nf_conntrack_acct back to its default).
  model.conntrack = bootConntrack(model.bootCount * 7919 + 1, model.flavour);
  model.netdev = new Map();
  model.routerOwn = { wanRxBytes: 0, wanTxBytes: 0, lanRxBytes: 0, lanTxBytes: 0 };
  model.bootedAtMs = model.nowMs;
  model.bootCount++;
  bootFirewall(model);
  for (const host of model.hosts) {
    host.downBytes = 0;
    host.upBytes = 0;
    host.downBytes6 = 0;
    host.upBytes6 = 0;
    host.downBytesPerSecond = 0;
    host.upBytesPerSecond = 0;
    host.arp = 'absent';
    host.arpSinceMs = model.nowMs;
    host.leaseEndsAtMs = host.isOnline ? model.nowMs + model.leaseSeconds * 1000 : null;
  }
}
