// The emulated iptables' `mac` and `time` matches (issue 16: what lantop's block rules use), and
// the `tcp`/`udp`/`sctp` port matches (issue 19: lantop's traffic classes), as
// iptables-extensions(8) describes them and libxt_mac.c / libxt_time.c implement them:
//   -m mac --mac-source XX:XX:XX:XX:XX:XX   the frame's source MAC; PREROUTING, INPUT, FORWARD only
//   -m time --datestop YYYY[-MM[-DD[Thh[:mm[:ss]]]]]   UTC (no --kerneltz here); matches while
//        the packet's time is not after it (xt_time.c: `if (stamp > info->date_stop) return false`)
//   -p tcp [-m tcp] --sport N / --dport N   one port each (no ranges, no names here); `-p tcp`
//        loads the protocol's match by itself, as iptables does for an option it does not know yet
// Messages as iptables 1.8.9 prints them (fixtures/blocking/iptables-1.8.9-mac-time.txt); listing as
// libxt_mac prints a MAC (1.4: "%02X", 1.8: lower case), libxt_time its date (gmtime) and
// libxt_tcp/udp/sctp their ports (` tcp spt:443 dpt:80`: fixtures/iptables/1.8.9-nft/classes-*). Pure.
import type { ArgKind } from './iptables-getopt.js';
import type { RuleSpec } from './iptables-state.js';

// A few /etc/services names (Debian's netbase), for `--sport https` and the listing without -n
// (getservbyport: `tcp spt:https`); ports without a name print as numbers.
const SERVICES: ReadonlyArray<[string, number]> = [['ssh', 22], ['domain', 53], ['http', 80], ['ntp', 123], ['https', 443]];

const PORT_MATCHES: ReadonlyMap<number, 'tcp' | 'udp' | 'sctp'> = new Map([[6, 'tcp'], [17, 'udp'], [132, 'sctp']]);
const PORT_PROTOCOL: Readonly<Record<'tcp' | 'udp' | 'sctp', number>> = { tcp: 6, udp: 17, sctp: 132 };

/** The port match of a rule: one loaded with -m, else the protocol's own (`-p tcp`). */
function portMatchOf(loaded: ReadonlySet<string>, protocol: number): 'tcp' | 'udp' | 'sctp' | null {
  for (const name of ['tcp', 'udp', 'sctp'] as const) if (loaded.has(name)) return name;
  return PORT_MATCHES.get(protocol) ?? null;
}

/** The long options a loaded match adds (`--mac-source`, `--datestop`, `--sport`, …). */
export function addMatchOptions(loaded: ReadonlySet<string>, extra: Map<string, ArgKind>, protocol = 0): void {
  if (loaded.has('mac')) extra.set('mac-source', 'required');
  if (loaded.has('time')) extra.set('datestop', 'required');
  if (portMatchOf(loaded, protocol) !== null) for (const name of ['sport', 'dport', 'source-port', 'destination-port']) extra.set(name, 'required');
}

/** libxt_time's time_parse_date for an end date (defaults 2038-01-01T00:00:00), in unix seconds; null: invalid. */
export function parseDatestop(text: string): number | null {
  const m = /^(\d+)(?:-(\d+)(?:-(\d+)(?:T(\d+)(?::(\d+)(?::(\d+))?)?)?)?)?$/.exec(text);
  if (!m) return null;
  const [year, month = 1, day = 1, hour = 0, minute = 0, second = 0] = m.slice(1).map((v) => (v === undefined ? undefined : Number(v))) as number[];
  if (year! < 1970 || year! > 2038 || month > 12 || day > 31 || hour > 23 || minute > 59 || second > 59) return null;
  return Date.UTC(year!, month - 1, day, hour, minute, second) / 1000;
}

/**
 * A match option's value into the rule; false when `word` is not a match option. `problem` throws
 * iptables' parameter problem.
 */
export function parseMatchOption(word: string, optarg: string, spec: RuleSpec, problem: (message: string) => never): boolean {
  if (word === '--mac-source') {
    if (!/^[0-9A-Fa-f]{1,2}(?::[0-9A-Fa-f]{1,2}){5}$/.test(optarg)) problem('Invalid MAC address specified.');
    spec.macSource = optarg.split(':').map((b) => b.padStart(2, '0').toLowerCase()).join(':');
    return true;
  }
  if (word === '--sport' || word === '--dport' || word === '--source-port' || word === '--destination-port') {
    // xtables_parse_port: digits only here (a service name would need the router's /etc/services).
    const named = SERVICES.find(([name]) => name === optarg)?.[1];
    if (named === undefined && (!/^\d{1,5}$/.test(optarg) || Number(optarg) > 65535)) problem(`invalid port/service \`${optarg}' specified`);
    const port = named ?? Number(optarg);
    if (word === '--sport' || word === '--source-port') spec.sourcePort = port;
    else spec.destinationPort = port;
    spec.portMatch = PORT_MATCHES.get(spec.protocol) ?? spec.portMatch ?? 'tcp';
    return true;
  }
  if (word === '--datestop') {
    const seconds = parseDatestop(optarg);
    if (seconds === null) problem(`Invalid date "${optarg}" specified. Should be YYYY[-MM[-DD[Thh[:mm[:ss]]]]]`);
    spec.datestop = seconds;
    return true;
  }
  return false;
}

/** XTOPT_MAND: `-m mac` without --mac-source; a loaded port match is kept even without ports (`-m tcp` lists as ` tcp`). */
export function checkMatchOptions(loaded: ReadonlySet<string>, spec: RuleSpec, problem: (message: string) => never): void {
  if (loaded.has('mac') && spec.macSource === null) problem('mac: option "--mac-source" must be specified\n');
  const named = portMatchOf(loaded, -1);
  if (named !== null) spec.portMatch = named;
}

function portsText(rule: RuleSpec, isSave: boolean, isNumeric: boolean): string {
  if (rule.portMatch === null) return '';
  if (isSave) return ` -m ${rule.portMatch}${rule.sourcePort !== null ? ` --sport ${rule.sourcePort}` : ''}${rule.destinationPort !== null ? ` --dport ${rule.destinationPort}` : ''}`;
  const name = (port: number) => (isNumeric || rule.portMatch === 'sctp' ? undefined : SERVICES.find(([, p]) => p === port)?.[0]) ?? String(port);
  return ` ${rule.portMatch}${rule.sourcePort !== null ? ` spt:${name(rule.sourcePort)}` : ''}${rule.destinationPort !== null ? ` dpt:${name(rule.destinationPort)}` : ''}`;
}

function macText(mac: string, isUpperCase: boolean): string {
  return isUpperCase ? mac.toUpperCase() : mac;
}

function dateText(seconds: number, separator: string): string {
  return new Date(seconds * 1000).toISOString().slice(0, 19).replace('T', separator);
}

/** What `-L` prints for the matches (each with its leading blank), before the comment. */
export function listMatches(rule: RuleSpec, isMacUpperCase: boolean, isNumeric = true): string {
  let out = '';
  if (rule.macSource !== null) out += ` MAC ${macText(rule.macSource, isMacUpperCase)}`;
  if (rule.datestop !== null) out += ` TIME until date ${dateText(rule.datestop, ' ')} UTC`;
  return out + portsText(rule, false, isNumeric);
}

/** What `-S` / iptables-save prints for them. */
export function saveMatches(rule: RuleSpec, isMacUpperCase: boolean): string {
  let out = '';
  if (rule.macSource !== null) out += ` -m mac --mac-source ${macText(rule.macSource, isMacUpperCase)}`;
  if (rule.datestop !== null) out += ` -m time --datestop ${dateText(rule.datestop, 'T')}`;
  return out + portsText(rule, true, true);
}

/** Whether a packet batch meets the rule's mac, time and port matches. */
export function matchesExtensions(rule: RuleSpec, packet: { protocol: number; sourcePort?: number | null; destinationPort?: number | null; sourceMac?: string | null; nowMs?: number }): boolean {
  if (rule.portMatch !== null) {
    // Ports only of the match's protocol; a batch without ports (not modelled) meets no port match.
    if (packet.protocol !== PORT_PROTOCOL[rule.portMatch]) return false;
    if (rule.sourcePort !== null && (packet.sourcePort ?? null) !== rule.sourcePort) return false;
    if (rule.destinationPort !== null && (packet.destinationPort ?? null) !== rule.destinationPort) return false;
  }
  // No frame, no MAC (locally generated packets, or a batch that carries none): no match.
  if (rule.macSource !== null && packet.sourceMac !== rule.macSource) return false;
  if (rule.datestop !== null && packet.nowMs !== undefined && Math.floor(packet.nowMs / 1000) > rule.datestop) return false;
  return true;
}
