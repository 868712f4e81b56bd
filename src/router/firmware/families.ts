// Per-firmware command tables: data, not `if` chains (STYLE.md principle 4). Each family says
// where the ARP table and the host names come from, how iptables is reached, and how the vendor
// CLI reaches its shell. These are the *defaults* for `--firmware NAME` (firmwareForOverride);
// detection (detect-firmware.ts) builds the table of a router from what its probes answered.

import type { ShellMode, ShellRoute } from '../../transport/session.js';
import { UsageError } from '../../errors.js';

export const FIRMWARE_FAMILIES = [
  'broadcom-cli',
  'busybox',
  'openwrt-fw3',
  'openwrt-fw4',
  'dd-wrt',
  'asuswrt',
  'tomato',
  'generic-linux',
] as const;

export type FirmwareFamily = (typeof FIRMWARE_FAMILIES)[number];

/** A command and the shell it must be sent in. */
export interface CommandSpec {
  command: string;
  where: ShellMode;
}

export interface FirmwareCommands {
  /** How the vendor CLI reaches a POSIX shell and back (`sh`/`exit`, Huawei `shell`); null: none. */
  shellRoute: ShellRoute | null;
  /** Lists the neighbour table; read with parseArpTable. */
  listArp: CommandSpec;
  /** Lists host names; null when the firmware has no known source. */
  listNames: (CommandSpec & { parser: 'lan-hosts' | 'dhcp-leases' }) | null;
  /** The iptables binary and where it runs; null when there is none (nftables-only firmware). */
  iptables: (CommandSpec & { binary: string }) | null;
  /** `iptables-restore` in the shell, to apply a plan in one batch; null: not found (line by line). */
  iptablesRestore: CommandSpec | null;
  /** The ip6tables binary and where it runs (IPv6 counters beside iptables'); null: none answered. */
  ip6tables: (CommandSpec & { binary: string }) | null;
  /** `ip6tables-restore` in the shell; null: not found. */
  ip6tablesRestore: CommandSpec | null;
  /** The `nft` binary (always in the shell); null: none answered. */
  nft: CommandSpec | null;
  /** Lists the IPv6 neighbour table (`ip -6 neigh show`, iproute2 or BusyBox); null: no IPv6 source. */
  listNeighbours6: CommandSpec | null;
}

export interface FirmwareCapabilities {
  /** `-m comment` works; null: not determined (try it and fall back on `Bad argument`/`no-extension`). */
  hasCommentMatch: boolean | null;
  /** `-C` (check rule) exists (iptables ≥ 1.4.11); null: version unknown. */
  hasCheck: boolean | null;
  /** e.g. "1.8.9", "1.4.21"; null when not seen. */
  iptablesVersion: string | null;
  backend: 'legacy' | 'nft' | null;
  /**
   * Longest command line lantop sends to the router's shell (before the transport's sentinel): the
   * line probe's measure (BusyBox ash with line editing keeps 1022 bytes on Debian, 510 on OpenWrt;
   * dash/bash a pty's 4095), else by the shell's name; null: unknown, batch conservatively.
   */
  shellLineBytes: number | null;
  /** The shell runs what batched changes use (assignments, `&&`, `{ eval …; }`, printf); null: not probed. */
  hasShellBatch: boolean | null;
  /** nftables is the only firewall tool (OpenWrt fw4 without iptables-nft): the nftables backend counts. */
  nftOnly: boolean;
  /** e.g. "1.0.6" from `nft -v`; null when no nft answered. */
  nftVersion: string | null;
  /** `nft -j` works (some firmware ships nftables-nojson); null: not probed. */
  hasNftJson: boolean | null;
}

/** One probe and what the router answered (already sanitised and cut short: display-safe). */
export interface ProbeEvidence {
  command: string;
  where: ShellMode;
  /** The first lines of the answer, sanitised; '' for silence. */
  answer: string;
  isAccepted: boolean;
}

/** One decision of detection: what was chosen and the probes that decided it. */
export interface DetectionDecision {
  what: 'login' | 'family' | 'shell' | 'iptables' | 'ip6tables' | 'nft' | 'ipv6-neighbours' | 'batch' | 'line' | 'comment' | 'arp' | 'names';
  /** In words, e.g. "`iptables` in the shell (v1.8.9, legacy)". */
  chosen: string;
  tried: ProbeEvidence[];
}

export interface FirmwareProfile {
  family: FirmwareFamily;
  commands: FirmwareCommands;
  capabilities: FirmwareCapabilities;
  /** How the family was chosen, in short lines for error messages (display-safe). */
  evidence: string[];
  /** Each decision with its probes (empty for --firmware). */
  decisions: DetectionDecision[];
  /** Probed on this connection, reused from an earlier run's probes, or named by --firmware. */
  source: 'probed' | 'stored' | 'override';
}

const shell = (command: string): CommandSpec => ({ command, where: 'shell' });
const iptablesInShell = { binary: 'iptables', command: 'iptables', where: 'shell' as const };

function dnsmasqFamily(leaseFile: string): FirmwareCommands {
  return {
    shellRoute: null,
    listArp: shell('cat /proc/net/arp'),
    listNames: { ...shell(`cat ${leaseFile}`), parser: 'dhcp-leases' },
    iptables: iptablesInShell,
    iptablesRestore: null,
    ip6tables: { ...iptablesInShell, binary: 'ip6tables', command: 'ip6tables' },
    ip6tablesRestore: null,
    nft: null,
    listNeighbours6: shell('ip -6 neigh show'),
  };
}

/** The command table of each family. Frozen: callers copy before changing. */
export const FIRMWARE_COMMANDS: Readonly<Record<FirmwareFamily, Readonly<FirmwareCommands>>> = Object.freeze({
  // D-Link DSL-27xx, TP-Link TD-W, Comtrend, Sagemcom F@st, Huawei ATP: Broadcom CMS CLI at ` > `;
  // `arp show` and `lanhosts show all` are CLI commands, and the CLI passes `iptables` through.
  'broadcom-cli': {
    shellRoute: { enter: 'sh', exit: 'exit' },
    listArp: { command: 'arp show', where: 'cli' },
    listNames: { command: 'lanhosts show all', where: 'cli', parser: 'lan-hosts' },
    iptables: { binary: 'iptables', command: 'iptables', where: 'cli' },
    iptablesRestore: null,
    // Unknown without probing: detection decides (many Broadcom builds have no IPv6 tools).
    ip6tables: null,
    ip6tablesRestore: null,
    nft: null,
    listNeighbours6: null,
  },
  busybox: dnsmasqFamily('/tmp/dhcp.leases'),
  'openwrt-fw3': dnsmasqFamily('/tmp/dhcp.leases'),
  // OpenWrt 22.03+: firewall4 on nftables; iptables exists only if iptables-nft is installed.
  'openwrt-fw4': { ...dnsmasqFamily('/tmp/dhcp.leases'), iptables: null, ip6tables: null, nft: shell('nft') },
  'dd-wrt': dnsmasqFamily('/tmp/dnsmasq.leases'),
  asuswrt: dnsmasqFamily('/var/lib/misc/dnsmasq.leases'),
  tomato: dnsmasqFamily('/var/lib/misc/dnsmasq.leases'),
  // A plain Linux router: the lease file may be in any of dnsmasq's usual places (missing ones are
  // silent; names are a nicety). A fixed path: nothing from the router reaches this command.
  'generic-linux': dnsmasqFamily('/tmp/dhcp.leases /tmp/dnsmasq.leases /var/lib/misc/dnsmasq.leases 2>/dev/null'),
});

export function isFirmwareFamily(name: string): name is FirmwareFamily {
  return (FIRMWARE_FAMILIES as readonly string[]).includes(name);
}

/** A deep copy of a family's command table. */
export function firmwareCommands(family: FirmwareFamily): FirmwareCommands {
  return structuredClone(FIRMWARE_COMMANDS[family]) as FirmwareCommands;
}

/**
 * `--firmware NAME`: the profile for a family chosen by the user, without probing. Capabilities
 * are unknown (null) except nftOnly for openwrt-fw4. Throws UsageError for an unknown name.
 */
export function firmwareForOverride(name: string): FirmwareProfile {
  const family = name.trim().toLowerCase();
  if (!isFirmwareFamily(family)) {
    throw new UsageError(
      `Unknown firmware '${name.slice(0, 40)}'.`,
      `Use one of: ${FIRMWARE_FAMILIES.join(', ')} — or leave --firmware out to detect it.`,
    );
  }
  return {
    family,
    commands: firmwareCommands(family),
    capabilities: { hasCommentMatch: null, hasCheck: null, iptablesVersion: null, backend: null, shellLineBytes: null, hasShellBatch: null, nftOnly: family === 'openwrt-fw4', nftVersion: null, hasNftJson: null },
    evidence: [`--firmware ${family}`],
    decisions: [],
    source: 'override',
  };
}
