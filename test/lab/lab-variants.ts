// Router variants of the lab: what real firmware does differently from the lab's default CMS CLI,
// each taken from a published capture or firmware source (test/lab/SOURCE.md says which).
// Pure data and small pure functions: lab-router-files.ts and lab-router-processes.ts turn a profile
// into files, daemons and environment for broadcom-cli.sh; the self-tests and the compatibility
// matrix read the same data.

/** The vendor CLI behind the telnet login. */
export type CliFlavour =
  /** Broadcom CMS CLI (` > `): Comtrend/D-Link/TP-Link DSL/Sagemcom/ZyXEL builds; `sh` and `iptables` hidden. */
  | 'broadcom-cms'
  /** Huawei ATP CLI (`ATP>`): `help` shows a greeting, `?` five commands; hidden `shell` opens BusyBox ash. */
  | 'huawei-atp'
  /** TP-Link COMMAND-LINE Interface (`TP-Link(conf)#`): `username:`/`password:`, hidden `sh`. */
  | 'tplink';

/** What the CLI prints for a command it does not know. */
export type UnknownCommandStyle =
  /** `telnetd:error:<uptime>:processInput:406:unrecognized command X` (Sagemcom F@ST2704R). */
  | 'telnetd-error'
  /** `consoled:error:<sec%1000>.<ms>:processInput:395:unrecognized command X` (ZyXEL VMG1312). */
  | 'consoled-error'
  /** Nothing, just the next prompt (CMS with `logdest` syslog: the error goes to syslog). */
  | 'silent'
  /** `Command failed.` (Huawei ATP CLI, HG655d). */
  | 'command-failed';

/** `lanhosts show all`: the CMS table with lease time and name, or the SDK's `Active … VLAN ID` one. */
export type LanhostsLayout = 'cms' | 'sdk';

/** The telnet server: BusyBox telnetd (-l login program) or GNU inetutils telnetd under inetd (-E). */
export type TelnetDaemon = 'busybox' | 'inetutils';

/**
 * What the router runs. 'vendor': Broadcom-style firmware, a vendor CLI behind telnet (`cli`), the
 * real iptables/ip6tables, the lab's boot firewall. 'openwrt': OpenWrt 24.10's userland as far as a
 * client sees it (lab-openwrt.ts): no iptables at all, nftables with firewall4's ruleset and a `fw4`
 * command, BusyBox login and ash (`root@OpenWrt:~# `) on telnet and SSH; `cli` does not apply.
 */
export type RouterFirmware = 'vendor' | 'openwrt';

export interface OutputChunking {
  /** At most this many bytes per write (1..64). */
  bytes: number;
  /** Pause after each write (1..20 ms). */
  delayMs: number;
}

export interface RouterProfile {
  cli: CliFlavour;
  unknownCommand: UnknownCommandStyle;
  lanhostsLayout: LanhostsLayout;
  telnetd: TelnetDaemon;
  /** Everything the router sends on its telnet port leaves in small delayed pieces (slow-relay.mjs); null: at once. */
  chunking: OutputChunking | null;
  /** Whether the router's shell has `/tmp/dhcp.leases` (dnsmasq format). */
  leaseFile: boolean;
  firmware: RouterFirmware;
  /** Dual stack: documentation prefixes on LAN and WAN, routed (no NAT66), hosts with a stable and a
   * temporary address (lab-topology.ts). Off: IPv6 is disabled in every namespace. */
  ipv6: boolean;
}

export const DEFAULT_PROFILE: Readonly<RouterProfile> = Object.freeze({
  cli: 'broadcom-cms',
  unknownCommand: 'telnetd-error',
  lanhostsLayout: 'cms',
  telnetd: 'busybox',
  chunking: null,
  leaseFile: true,
  firmware: 'vendor',
  ipv6: false,
});

/** Named variants; each differs from `cms` (the default) in what its name says. */
export const LAB_VARIANTS = Object.freeze({
  /** The default: Comtrend BCM96328 `help` (no sh/iptables), Sagemcom's unknown-command error. */
  cms: {},
  'unknown-silent': { unknownCommand: 'silent' },
  'unknown-consoled': { unknownCommand: 'consoled-error' },
  'lanhosts-sdk': { lanhostsLayout: 'sdk' },
  'huawei-atp': { cli: 'huawei-atp', unknownCommand: 'command-failed' },
  // No published capture shows this CLI's answer to an unknown command: 'silent' prints nothing.
  'tplink-hash': { cli: 'tplink', unknownCommand: 'silent' },
  'inetutils-telnetd': { telnetd: 'inetutils' },
  'slow-chunked': { chunking: { bytes: 5, delayMs: 2 } },
  'ssh-no-leases': { leaseFile: false },
  /** The CMS router, dual stack: ip6tables beside iptables, a routed /64 on the LAN. */
  'dual-stack': { ipv6: true },
  /** OpenWrt 24.10 with firewall4: nft only, dual stack as OpenWrt's default configuration is. */
  'openwrt-fw4': { firmware: 'openwrt', ipv6: true },
} satisfies Record<string, Partial<RouterProfile>>);

export type LabVariantName = keyof typeof LAB_VARIANTS;
export const LAB_VARIANT_NAMES = Object.keys(LAB_VARIANTS) as LabVariantName[];

export function isLabVariantName(name: string): name is LabVariantName {
  return Object.prototype.hasOwnProperty.call(LAB_VARIANTS, name);
}

/** The profile of a variant, with explicit overrides on top. Throws on values out of range. */
export function resolveProfile(variant: LabVariantName = 'cms', overrides: Partial<RouterProfile> = {}): RouterProfile {
  if (!isLabVariantName(variant)) throw new Error(`unknown lab variant ${JSON.stringify(variant)} (known: ${LAB_VARIANT_NAMES.join(', ')})`);
  const profile: RouterProfile = { ...DEFAULT_PROFILE, ...(LAB_VARIANTS[variant] as Partial<RouterProfile>), ...overrides };
  const chunking = profile.chunking;
  if (chunking !== null) {
    if (!Number.isInteger(chunking.bytes) || chunking.bytes < 1 || chunking.bytes > 64) throw new Error('chunking.bytes must be 1..64');
    if (!Number.isInteger(chunking.delayMs) || chunking.delayMs < 1 || chunking.delayMs > 20) throw new Error('chunking.delayMs must be 1..20');
    if (profile.telnetd !== 'busybox') throw new Error('chunking works with the BusyBox telnetd only');
  }
  if (profile.firmware === 'openwrt' && (profile.telnetd !== 'busybox' || chunking !== null)) {
    // The OpenWrt router's filesystem holds BusyBox, nft and dropbear only: no node, no inetutils.
    throw new Error('the openwrt firmware runs BusyBox telnetd only, without chunking');
  }
  return profile;
}

/** How a telnet client talks to this profile's CLI (what the self-tests and raw clients wait for). */
export interface CliDialogue {
  loginPrompt: RegExp;
  passwordPrompt: RegExp;
  /** The CLI prompt at the very end of the output. */
  prompt: RegExp;
  /** The hidden command that opens the BusyBox shell; null when the login lands in the shell. */
  shellCommand: string | null;
  /** The command that ends the session. */
  logoutCommand: string;
}

/** BusyBox ash's prompt from OpenWrt's /etc/profile (`PS1='\u@\h:\w\$ '`), e.g. `root@OpenWrt:~# `.
 * Debian's BusyBox asks for the cursor position after it (ESC [ 6 n); OpenWrt's build does not. */
export const OPENWRT_PROMPT = /[a-z_][a-z0-9_-]*@OpenWrt:[^\r\n]*[#$] (?:\u001b\[6n)?$/;

export function cliDialogue(profile: RouterProfile): CliDialogue {
  if (profile.firmware === 'openwrt') {
    // BusyBox login: "<hostname> login: ", "Password: ", then the user's shell.
    return { loginPrompt: /OpenWrt login: $/, passwordPrompt: /Password: $/, prompt: OPENWRT_PROMPT, shellCommand: null, logoutCommand: 'exit' };
  }
  switch (profile.cli) {
    case 'broadcom-cms':
      return { loginPrompt: /Login: $/, passwordPrompt: /Password: $/, prompt: / > $/, shellCommand: 'sh', logoutCommand: 'logout' };
    case 'huawei-atp':
      return { loginPrompt: /Login: $/, passwordPrompt: /Password: $/, prompt: /ATP>$/, shellCommand: 'shell', logoutCommand: 'exit' };
    case 'tplink':
      return { loginPrompt: /username:$/, passwordPrompt: /password:$/, prompt: /TP-Link\(conf\)#$/, shellCommand: 'sh', logoutCommand: 'logout' };
  }
}

/**
 * Where host names can come from on this profile, per way in: 'required' (the CLI's lanhosts table
 * or the shell's lease file has them), 'optional' (only the lab's generic /tmp/dhcp.leases in the
 * shell behind a hidden command: a name, if any, must be the right one), 'none' (no source at all).
 */
export type NameSource = 'required' | 'optional' | 'none';

export function nameSource(profile: RouterProfile, protocol: 'telnet' | 'ssh'): NameSource {
  if (protocol === 'ssh' || profile.firmware === 'openwrt') return profile.leaseFile ? 'required' : 'none';
  if (profile.cli === 'broadcom-cms' && profile.lanhostsLayout === 'cms') return 'required';
  return profile.leaseFile ? 'optional' : 'none';
}

/** Environment for broadcom-cli.sh (besides credentials and paths), as strings. */
export function cliEnvironment(profile: RouterProfile): Record<string, string> {
  return {
    LAB_CLI: profile.cli,
    LAB_UNKNOWN: profile.unknownCommand,
    LAB_LANHOSTS_LAYOUT: profile.lanhostsLayout,
  };
}

/** Published texts the CLI prints verbatim: fixture path (under fixtures/) → file name in the lab. */
export const CLI_TEXTS: Readonly<Record<string, string>> = Object.freeze({
  'cms-help.txt': 'broadcom-cli/comtrend-bcm96328/help.txt',
  'atp-banner.txt': 'huawei-atp/hg533/banner.txt',
  'atp-help.txt': 'huawei-atp/hg533/help.txt',
  'atp-question-mark.txt': 'huawei-atp/hg533/question-mark.txt',
  'atp-command-failed.txt': 'huawei-atp/hg655d/command-failed.txt',
  'tplink-banner.txt': 'tplink-cli/vx231v/banner.txt',
  'tplink-help.txt': 'tplink-cli/vx231v/help.txt',
});
