// The router lab: a consumer router built from network namespaces, real iptables (legacy or nft),
// real BusyBox telnetd with a Broadcom-style CLI, real dropbear, LAN hosts, an ISP with a traffic
// server, and an independent nftables oracle that counts per-host bytes. See test/lab/README.md.
// This file is the public face (startLab, the Lab interface); the lab itself is router-lab.ts.
//
// Everything the lab runs is an argument array (run-command.ts) with a deadline, and everything it
// creates is registered for cleanup (lab-registry.ts): stop(), process exit, SIGINT/SIGTERM, and
// stale labs of dead processes at the next start. test/lab/cleanup.sh removes leftovers by hand.
import { canRunLab, canRunVariant } from './lab-check.js';
import type { IptablesBackend, LabLease } from './lab-model.js';
import type { ConntrackEntry, FastPathKind, FlowOffload, InterfaceCounters } from './lab-fastpath.js';
import type { OracleCounts, OracleDevices } from './lab-oracle.js';
import type { Fw4Command } from './lab-router-firewall.js';
import type { HostAddress6 } from './lab-topology.js';
import { cleanupStaleLabs, installExitHandlers } from './lab-registry.js';
import type { CliDialogue, LabVariantName, RouterProfile } from './lab-variants.js';
import { RouterLab } from './router-lab.js';
import { LabError, type ExecResult } from './run-command.js';

export type { IptablesBackend, LabLease } from './lab-model.js';
export type { OracleCounts, OracleDeviceCounts, OracleDevices, OracleHostCounts } from './lab-oracle.js';
export { deviceCounts, oracleDelta } from './lab-oracle.js';
export type { ConntrackEntry, ConntrackTuple, FastPathKind, FlowOffload, InterfaceCounters } from './lab-fastpath.js';
export { ETHERNET_HEADER_BYTES, l3Bytes, parseConntrackList, parseProcNetDev } from './lab-fastpath.js';
export type { Fw4Command } from './lab-router-firewall.js';
export type { HostAddress6 } from './lab-topology.js';
export { OPENWRT_PROMPT } from './lab-variants.js';
export type { ExecResult } from './run-command.js';
export type { CliDialogue, LabVariantName, RouterFirmware, RouterProfile } from './lab-variants.js';
export { LAB_VARIANT_NAMES, cliDialogue, nameSource, resolveProfile } from './lab-variants.js';
export { LabError } from './run-command.js';
export { canRunLab, canRunVariant, labSkipReason, variantSkipReason, type LabCheck } from './lab-check.js';
export { destroyLabByPrefixSync } from './lab-registry.js';

export interface LabOptions {
  /** LAN hosts h1..hN (default 3). */
  hosts?: number;
  /** iptables-legacy (default) or iptables-nft; meaningless on 'openwrt-fw4' (no iptables; default 'nft'). */
  backend?: IptablesBackend;
  /** Login for telnet (CLI) and SSH. User default `admin` (`root` on 'openwrt-fw4'); password default `admin`. */
  user?: string;
  password?: string;
  /** Lease hostnames for h1..hN; default: 'alice-laptop', 'bobs-phone', '' (no name), 'host-4'… */
  hostnames?: Array<string | Buffer>;
  /** First line the CLI prints on connect. */
  banner?: string;
  /**
   * The `# ` shell behind `sh` (telnet) and SSH logins. 'plain' (default): an ash (dash) without
   * line editing, like old Broadcom BusyBox builds. 'busybox': Debian's BusyBox ash with line
   * editing, which sends a cursor-position query (ESC [ 6 n) after every prompt.
   */
  shell?: 'plain' | 'busybox';
  /**
   * Which real-firmware behaviour the router shows (lab-variants.ts, sources in SOURCE.md): 'cms'
   * (default), 'unknown-silent', 'unknown-consoled', 'lanhosts-sdk', 'huawei-atp', 'tplink-hash',
   * 'inetutils-telnetd', 'slow-chunked', 'ssh-no-leases', 'dual-stack' (cms with IPv6),
   * 'openwrt-fw4' (OpenWrt 24.10, nft only, fw4; dual stack).
   */
  variant?: LabVariantName;
  /** Single aspects on top of the variant (e.g. { unknownCommand: 'silent', telnetd: 'inetutils' }). */
  profile?: Partial<RouterProfile>;
  /** Dual stack (shorthand for profile.ipv6; default: the variant's, true for 'dual-stack' and 'openwrt-fw4'). */
  ipv6?: boolean;
  /**
   * 'software': the router forwards established TCP/UDP connections on a fast path that skips its
   * forward and postrouting hooks, as OpenWrt's "software flow offloading" (fw4 `flow_offloading=1`)
   * does. The kernel's flowtable where the kernel has one, else an emulation (`lab.fastPath`; what
   * differs: lab-fastpath.ts, README). Default 'off'. Any variant.
   */
  flowOffload?: FlowOffload;
  /** net.netfilter.nf_conntrack_acct in the router's namespace: conntrack entries carry packets=/bytes=.
   * Default: true on 'openwrt-fw4' (OpenWrt's sysctl-nf-conntrack.conf), false elsewhere (the kernel's). */
  conntrackAcct?: boolean;
}

export interface LabHost {
  index: number;
  /** h1, h2, … */
  name: string;
  ns: string;
  ip: string;
  mac: string;
  /** The lease hostname as text (lossy for non-UTF-8 names; '' = no name). */
  hostname: string;
  hostnameBytes: Buffer;
  /** Stable IPv6 address (2001:db8:1::10 for h1); null when the lab is not dual stack. */
  ip6: string | null;
  /** The current temporary (privacy) address the kernel made; changes with rotateTemporaryAddress(). */
  tempIp6: string | null;
}

export type HostRef = number | string | LabHost;

export interface TransferOptions {
  downBytes: number;
  upBytes: number;
  timeoutMs?: number;
  /** 4 (default): to the ISP's 203.0.113.1 through NAT; 6: to 2001:db8:ff::1, routed. */
  family?: 4 | 6;
  /** IPv6 source: the host's 'stable' (default) or 'temporary' address, or one of its addresses. */
  source?: 'stable' | 'temporary' | string;
}

export interface TransferResult {
  host: string;
  downBytes: number;
  upBytes: number;
  ms: number;
  family: 4 | 6;
  /** The host's address the connection used. */
  source: string;
}

export interface Lab {
  readonly prefix: string;
  readonly backend: IptablesBackend;
  readonly routerIp: string;
  /** The router's LAN IPv6 address (2001:db8:1::1); null when not dual stack. */
  readonly routerIp6: string | null;
  readonly ipv6: boolean;
  readonly telnetPort: number;
  readonly sshPort: number;
  readonly user: string;
  readonly password: string;
  readonly routerNs: string;
  readonly ispNs: string;
  readonly variant: LabVariantName;
  readonly profile: RouterProfile;
  /** Login prompts, CLI prompt and hidden shell command of this router's telnet CLI. */
  readonly dialogue: CliDialogue;
  /** The root namespace's own port on br0 (lantop connects from here); it is in the router's ARP table. */
  readonly console: { ip: string; mac: string; iface: string };
  readonly hosts: readonly LabHost[];
  readonly leases: readonly LabLease[];
  /** File name the hostile hostnames touch in /tmp; see markerExists(). */
  readonly markerName: string;
  readonly flowOffload: FlowOffload;
  /** How 'software' offload is done here: the kernel's flowtable, or the emulated fast path; null when off. */
  readonly fastPath: FastPathKind | null;
  readonly conntrackAcct: boolean;

  /** hK downloads exactly downBytes and uploads exactly upBytes (application bytes, one TCP
   * connection: IPv4 through the router's NAT, or IPv6 routed, from the chosen source address),
   * then waits until the oracle settles. */
  transfer(host: HostRef, amounts: TransferOptions): Promise<TransferResult>;
  /** Ground truth per address (IPv4 and, when dual stack, each IPv6 address): IP-level bytes and
   * packets each host moved to and from the WAN, counted in the host itself (lab-oracle.ts), so no
   * router firewall change (fw4 flush, reboot, teardown) touches it. */
  oracle(): Promise<OracleCounts>;
  /** The same counts per host (by name): by address, by family (ipv4, ipv6) and in total. */
  oracleByHost(): Promise<OracleDevices>;
  resetOracle(): Promise<void>;
  /** Waits until the oracle stops changing (in-flight ACKs/FINs), returns its final reading. */
  settle(): Promise<OracleCounts>;
  /** Reads `read` (e.g. the oracle and the router's own counters together) until it stops changing. */
  settleReading<T>(read: () => Promise<T>): Promise<T>;
  /** The host's global IPv6 addresses now (stable, temporary, deprecated temporaries). */
  hostAddresses6(host: HostRef): Promise<HostAddress6[]>;
  /** The host's temporary address reaches the end of its preferred lifetime: deprecated, and the
   * kernel makes a new one (returned, and now host.tempIp6). Dual stack only. */
  rotateTemporaryAddress(host: HostRef): Promise<string>;
  /** Router reboot: every process in the router killed (sessions drop), every nftables table and
   * all iptables state replaced by the boot firewall (counters zero; OpenWrt: fw4's ruleset only),
   * ARP and IPv6 neighbours flushed; after downMs the daemons come back. */
  reboot(options?: { downMs?: number }): Promise<void>;
  /** SIGKILL telnetd (its sessions die with it); restarted after downMs. */
  killTelnetd(options?: { downMs?: number }): Promise<void>;
  /** SIGKILL dropbear and its sessions; restarted after downMs. */
  killSshd(options?: { downMs?: number }): Promise<void>;
  /** ppp0 down for `ms`, then up with the default route restored (NAT flows on it break). */
  flapWan(ms: number): Promise<void>;
  /** The router's bridge port towards the console goes down for `ms`: lantop's packets vanish. */
  flapLan(ms: number): Promise<void>;
  /** Replaces the DHCP lease table (`lanhosts show all` and /tmp/dhcp.leases). */
  setLeases(leases: readonly LabLease[]): Promise<void>;
  /** Hostile names whose commands would touch /tmp/<markerName>. */
  hostileHostnames(): Array<string | Buffer>;
  /** True when /tmp/<markerName> exists in the router's /tmp or in this machine's /tmp. */
  markerExists(): boolean;
  /** Every host pings the router (dual stack: from its stable and its temporary address too) and the
   * router pings the console, so the ARP and neighbour tables are complete. */
  refreshArp(): Promise<void>;
  /** `iptables-save` of the router (its backend). Default: `#` lines dropped and chain counters
   * zeroed, so two dumps compare byte for byte; `raw: true` returns it untouched. */
  iptablesSave(options?: { counters?: boolean; raw?: boolean }): Promise<string>;
  /** The same for ip6tables-save (iptables routers, dual stack). */
  ip6tablesSave(options?: { counters?: boolean; raw?: boolean }): Promise<string>;
  /** The router's `nft list ruleset`; default: every `counter packets N bytes M` zeroed, so two
   * dumps compare byte for byte; `raw: true` returns it untouched. */
  nftRuleset(options?: { raw?: boolean }): Promise<string>;
  /** OpenWrt router: runs its `fw4 <command>` as a user would (reload: flush + re-add table inet fw4;
   * restart: delete + re-create it; flush: delete every table `nft list tables` shows). Resolves to
   * fw4's output; rejects with its error text on a non-zero exit. */
  fw4(command: Fw4Command): Promise<string>;
  /** Runs a program in the router (its network and mount namespaces; the lab's iptables first in PATH). */
  exec(argv: readonly string[], options?: { timeoutMs?: number; input?: string }): Promise<ExecResult>;
  /** Runs a program in a LAN host's namespace. */
  hostExec(host: HostRef, argv: readonly string[], options?: { timeoutMs?: number }): Promise<ExecResult>;
  /** /proc/net/dev of the router's WAN device ppp0 (a veth: L3 bytes = bytes − 14 × packets, l3Bytes()). */
  wanCounters(): Promise<InterfaceCounters>;
  /** /proc/net/dev of a host's own eth0 (rx = what it received, tx = what it sent; LAN traffic included). */
  hostLinkCounters(host: HostRef): Promise<InterfaceCounters>;
  /** The router's conntrack table (`conntrack -L`, IPv4 and IPv6), parsed. */
  conntrack(): Promise<ConntrackEntry[]>;
  /** A sysctl of the router's namespace, e.g. 'net.netfilter.nf_conntrack_acct'. */
  routerSysctl(name: string): Promise<string>;
  /** Emulated fast path: waits until every conntrack event seen so far is applied; how many
   * connections it put on the fast path, and nft's refusals. Zeros when not emulated. */
  fastPathIdle(): Promise<{ offloaded: number; failures: string[] }>;
  /** Last stderr lines of the daemons, for failure messages. */
  diagnostics(): string;
  stop(): Promise<void>;
}

/** Builds and starts a lab. On any failure everything created so far is removed before it throws. */
export async function startLab(options: LabOptions = {}): Promise<Lab> {
  const check = canRunLab();
  if (!check.ok) throw new LabError(`the lab cannot run here: ${check.why}`);
  const variantCheck = canRunVariant(options.variant ?? 'cms', options.profile ?? {});
  if (!variantCheck.ok) throw new LabError(`the lab cannot run here: ${variantCheck.why}`);
  installExitHandlers();
  cleanupStaleLabs();
  const lab = new RouterLab(options);
  try {
    await lab.start();
  } catch (error) {
    const diagnostics = lab.diagnostics();
    lab.destroySync();
    if (error instanceof Error && diagnostics) error.message += `\n--- lab diagnostics ---\n${diagnostics}`;
    throw error;
  }
  return lab;
}
