// Per-firmware command tables: data, not `if` chains (STYLE.md principle 4). Each family says
// where the ARP table and the host names come from, how iptables is reached, and whether the
// vendor CLI must be left for a shell (`sh`) first. Detection (detect-firmware.ts) picks one;
// `--firmware NAME` picks one by hand (firmwareForOverride).

import type { ShellMode } from '../../transport/session.js';
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
  /** What to send in the vendor CLI to reach a BusyBox shell (`sh`, Huawei `shell`); null: no CLI. */
  shellCommand: string | null;
  /** What leaves that shell back to the CLI. */
  exitShellCommand: string | null;
  /** Lists the neighbour table; read with parseArpTable. */
  listArp: CommandSpec;
  /** Lists host names; null when the firmware has no known source. */
  listNames: (CommandSpec & { parser: 'lan-hosts' | 'dhcp-leases' }) | null;
  /** The iptables binary and where it runs; null when there is none (nftables-only firmware). */
  iptables: (CommandSpec & { binary: string }) | null;
  /** True when iptables needs the shell and the session starts in the vendor CLI. */
  entersShellFirst: boolean;
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
   * nftables is the only firewall tool (OpenWrt fw4 without iptables-nft). lantop cannot count
   * there yet: nftables accounting comes in a later issue.
   */
  nftOnly: boolean;
}

export interface FirmwareProfile {
  family: FirmwareFamily;
  commands: FirmwareCommands;
  capabilities: FirmwareCapabilities;
  /** How the family was chosen, for `--debug` and error messages (raw router text: sanitise). */
  evidence: string[];
}

const shell = (command: string): CommandSpec => ({ command, where: 'shell' });
const iptablesInShell = { binary: 'iptables', command: 'iptables', where: 'shell' as const };

function dnsmasqFamily(leaseFile: string): FirmwareCommands {
  return {
    shellCommand: null,
    exitShellCommand: null,
    listArp: shell('cat /proc/net/arp'),
    listNames: { ...shell(`cat ${leaseFile}`), parser: 'dhcp-leases' },
    iptables: iptablesInShell,
    entersShellFirst: false,
  };
}

/** The command table of each family. Frozen: callers copy before changing. */
export const FIRMWARE_COMMANDS: Readonly<Record<FirmwareFamily, Readonly<FirmwareCommands>>> = Object.freeze({
  // D-Link DSL-27xx, TP-Link TD-W, Comtrend, Sagemcom F@st, Huawei ATP: Broadcom CMS CLI at ` > `;
  // `arp show` and `lanhosts show all` are CLI commands, and the CLI passes `iptables` through.
  'broadcom-cli': {
    shellCommand: 'sh',
    exitShellCommand: 'exit',
    listArp: { command: 'arp show', where: 'cli' },
    listNames: { command: 'lanhosts show all', where: 'cli', parser: 'lan-hosts' },
    iptables: { binary: 'iptables', command: 'iptables', where: 'cli' },
    entersShellFirst: false,
  },
  busybox: dnsmasqFamily('/tmp/dhcp.leases'),
  'openwrt-fw3': dnsmasqFamily('/tmp/dhcp.leases'),
  // OpenWrt 22.03+: firewall4 on nftables; iptables exists only if iptables-nft is installed.
  'openwrt-fw4': { ...dnsmasqFamily('/tmp/dhcp.leases'), iptables: null },
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
    capabilities: { hasCommentMatch: null, hasCheck: null, iptablesVersion: null, backend: null, nftOnly: family === 'openwrt-fw4' },
    evidence: [`--firmware ${family}`],
  };
}
