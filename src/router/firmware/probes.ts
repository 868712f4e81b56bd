// The read-only probes detection runs: their ids, their exact command lines per mode, and the shape
// of what the router answered (the input of the pure decision, detect-firmware.ts). A vendor CLI's
// `help` is only a hint: real firmware hides `sh` and `iptables` (a published Comtrend BCM96328 /
// Sagemcom F@ST2704R help lists neither), so every capability is decided by trying its probe
// (issue 13).
//
// Vendor CLI (` > `, `ATP>`):  help                         → hint: which entries to try first
//                              iptables -V                  → "iptables v1.4.21"
//                              arp show / lanhosts show all → parse, or an error text
//                              sh, shell, system shell, busybox sh → the sentinel probe says shell
// Shell (`# `):                cat /etc/openwrt_release /etc/os-release 2>/dev/null
//                              which nft fw4 fw3 nvram uci busybox iptables iptables-restore ip
//                                    ip6tables ip6tables-restore
//                              nvram get DD_BOARD / buildno / os_version   (only when nvram exists)
//                              iptables -V 2>&1, iptables -m comment --help 2>&1
//                              ip6tables -V 2>&1, nft -v 2>&1, nft -j list tables 2>&1,
//                              ip -6 neigh show 2>&1   (each only when `which` found it)
//                              the line probe (line-budget.ts), only where the shell's name leaves
//                              its line limit open (BusyBox ash, an unknown shell)
//                              cat /proc/net/arp, ip -4 neigh show, lease files that exist
// Probe commands avoid pipes, and error lines are recognised (classifyRouterOutput), never data.
import type { ShellMode, ShellRoute } from '../../transport/session.js';
import { LINE_PROBE_COMMAND } from './line-budget.js';

export type ProbeId =
  | 'help'
  | 'release'
  | 'commands'
  | 'nvram-dd-board'
  | 'nvram-buildno'
  | 'nvram-os-version'
  | 'iptables-version'
  | 'iptables-comment'
  | 'ip6tables-version'
  | 'nft-version'
  | 'nft-json'
  | 'ip6-neigh'
  | 'arp-show'
  | 'proc-net-arp'
  | 'ip-neigh'
  | 'lanhosts'
  | 'lease-files'
  | 'leases'
  | 'shell-exe'
  | 'shell-batch'
  | 'shell-line';

/** Lease files of dnsmasq and ISC dhcpd in the places firmwares keep them. Fixed paths: nothing
 * from the router is ever put into a command. */
export const LEASE_FILES: readonly string[] = [
  '/tmp/dhcp.leases',
  '/tmp/dnsmasq.leases',
  '/var/lib/misc/dnsmasq.leases',
  '/tmp/var/lib/misc/dnsmasq.leases',
  '/var/lib/dnsmasq/dnsmasq.leases',
  '/var/lib/dhcp/dhcpd.leases',
];

/** The exact command line of each probe, per mode (the scripted tests expect these strings). */
export const PROBE_COMMANDS = Object.freeze({
  cli: {
    help: 'help',
    'iptables-version': 'iptables -V',
    'iptables-comment': 'iptables -m comment --help',
    'arp-show': 'arp show',
    lanhosts: 'lanhosts show all',
  },
  shell: {
    release: 'cat /etc/openwrt_release /etc/os-release 2>/dev/null',
    // `which`, not `command -v`: dash and BusyBox ash print only the first name of `command -v a b`.
    commands: 'which nft fw4 fw3 nvram uci busybox iptables iptables-restore ip ip6tables ip6tables-restore 2>/dev/null',
    'nvram-dd-board': 'nvram get DD_BOARD',
    'nvram-buildno': 'nvram get buildno',
    'nvram-os-version': 'nvram get os_version',
    'iptables-version': 'iptables -V 2>&1',
    'iptables-comment': 'iptables -m comment --help 2>&1',
    // IPv6 (issue 15): each run only where `which` found the program.
    'ip6tables-version': 'ip6tables -V 2>&1',
    'nft-version': 'nft -v 2>&1',
    // Lists only the table names; a build without JSON (nftables-nojson) refuses -j.
    'nft-json': 'nft -j list tables 2>&1',
    'ip6-neigh': 'ip -6 neigh show 2>&1',
    'proc-net-arp': 'cat /proc/net/arp 2>&1',
    'ip-neigh': 'ip -4 neigh show 2>&1',
    'lease-files': `for f in ${LEASE_FILES.join(' ')}; do [ -r "$f" ] && echo "$f"; done`,
    // Which program the shell is: decides how long a line it takes whole (apply/line-budget.ts).
    'shell-exe': 'readlink /proc/$$/exe 2>/dev/null',
    // What the batched lines of apply/ rely on, in one line; a limited shell answers otherwise. (It
    // prints no final newline on purpose: the transport must frame such output too.)
    'shell-batch': `_L=1&&_C='printf %s_ "$_L"'&&{ eval "$_C";};_L=;_C=`,
    // How long a line the shell takes whole, measured (3.2 kB, DEL characters included).
    'shell-line': LINE_PROBE_COMMAND,
  },
} as const);

export interface ProbeAnswer {
  id: ProbeId;
  command: string;
  where: ShellMode;
  output: string;
}

/** Everything the probes learned: the input of the pure decision. */
export interface RouterProbes {
  /** Where the login landed. */
  loginMode: ShellMode;
  /** The way from the CLI into a shell that worked; null: none found (or a shell login). */
  shellRoute: ShellRoute | null;
  /** Entry commands tried from the CLI, in order (empty for a shell login). */
  shellEntriesTried: readonly string[];
  answers: readonly ProbeAnswer[];
}
