// What `startEmulatedRouter` takes and counts: the emulator's options and statistics, in their own
// file so the server and each telnet connection can share them without importing each other.
import type { IptablesDialect } from './iptables.js';
import type { Flavour, HostSpec, OffloadMode } from './model.js';
import type { NftOptions } from './nft-state.js';

export interface EmulatedRouterOptions {
  flavour?: Flavour;
  /** Loopback only: '127.0.0.1' (default) or '::1'. */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  user?: string;
  password?: string;
  /** Seeds hosts, MACs, traffic and the fault knobs' randomness. */
  seed?: number;
  /** Number of simulated hosts (default: 8 on the LAN plus 2 visitors who come and go). */
  hostCount?: number;
  /** Exact hosts instead of generated ones (hostnames may be empty or hostile). */
  hosts?: HostSpec[];
  /** Simulated traffic through the iptables rules (default true). */
  traffic?: boolean;
  /** Hosts joining and leaving, leases and ARP entries changing (default: same as traffic). */
  churn?: boolean;
  /**
   * Where simulated time comes from: 'manual' (default; only tick() moves it, for deterministic
   * tests), 'real' (wall clock, for the demo), or a function returning epoch milliseconds.
   */
  clock?: 'manual' | 'real' | (() => number);
  /** Model time at start for the manual clock (default 2024-01-15T18:00:00Z). */
  startTimeMs?: number;
  iptablesDialect?: IptablesDialect;
  /** openwrt-fw4: the nft it runs (default: 1.0.8 with JSON, as OpenWrt 23.05; element timeouts as its 5.15 kernel dumps them). */
  nft?: Partial<NftOptions>;
  /** openwrt-fw4: `ip` from BusyBox (default, stock OpenWrt) or iproute2 (ip-full installed). */
  ipTool?: 'busybox' | 'iproute2';
  /**
   * Flow offload (default 'off'). 'on': broadcom's flow cache learns flows (`fcctl status`),
   * openwrt-fw4 has firewall4's flowtable (`flow_offloading` 1); after each flow's first packets
   * the firewall's counters see nothing more, while conntrack and the interfaces count everything.
   */
  offload?: OffloadMode;
  /** Send every reply in small random chunks (1–16 bytes), with `chunkDelayMs` between them. */
  splitWrites?: boolean;
  chunkDelayMs?: number;
  /** Put IAC sequences (NOP, GA, repeated WILL) inside replies and alone in their own TCP writes. */
  iacInterleave?: boolean;
  /** Line end the router sends (default '\r\n'). */
  lineEnding?: '\r\n' | '\n';
  /** Echo what the client types (default true; when false the server refuses the ECHO option). */
  echo?: boolean;
  /** Put `Login incorrect…` and the next `Login: ` in one TCP write (default false: two writes). */
  loginFailureOneWrite?: boolean;
  /** Pause between the failure text and the next login prompt when they go as two writes (default 50 ms). */
  loginFailureGapMs?: number;
  /** Real login programs wait after a wrong password; default 0 to keep tests fast. */
  loginFailureDelayMs?: number;
  /** After reboot() new connections are dropped at once for this long (default 0). */
  rebootDowntimeMs?: number;
  /** BusyBox flavour prompt (default 'root@OpenWrt:~# '). */
  shellPrompt?: string;
}

export interface EmulatorStats {
  connections: number;
  logins: number;
  failedLogins: number;
  /** The last command lines received after login, oldest first (at most 200). */
  commands: string[];
}
