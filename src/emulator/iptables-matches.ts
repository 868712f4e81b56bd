// The emulated iptables' `mac` and `time` matches (issue 16: what lantop's block rules use), as
// iptables-extensions(8) describes them and libxt_mac.c / libxt_time.c implement them:
//   -m mac --mac-source XX:XX:XX:XX:XX:XX   the frame's source MAC; PREROUTING, INPUT, FORWARD only
//   -m time --datestop YYYY[-MM[-DD[Thh[:mm[:ss]]]]]   UTC (no --kerneltz here); matches while
//        the packet's time is not after it (xt_time.c: `if (stamp > info->date_stop) return false`)
// Messages as iptables 1.8.9 prints them (fixtures/blocking/iptables-1.8.9-mac-time.txt); listing as
// libxt_mac prints a MAC (1.4: "%02X", 1.8: lower case) and libxt_time its date (gmtime). Pure.
import type { ArgKind } from './iptables-getopt.js';
import type { RuleSpec } from './iptables-state.js';

/** The long options a loaded match adds (`--mac-source`, `--datestop`). */
export function addMatchOptions(loaded: ReadonlySet<string>, extra: Map<string, ArgKind>): void {
  if (loaded.has('mac')) extra.set('mac-source', 'required');
  if (loaded.has('time')) extra.set('datestop', 'required');
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
  if (word === '--datestop') {
    const seconds = parseDatestop(optarg);
    if (seconds === null) problem(`Invalid date "${optarg}" specified. Should be YYYY[-MM[-DD[Thh[:mm[:ss]]]]]`);
    spec.datestop = seconds;
    return true;
  }
  return false;
}

/** XTOPT_MAND: `-m mac` without --mac-source. */
export function checkMatchOptions(loaded: ReadonlySet<string>, spec: RuleSpec, problem: (message: string) => never): void {
  if (loaded.has('mac') && spec.macSource === null) problem('mac: option "--mac-source" must be specified\n');
}

function macText(mac: string, isUpperCase: boolean): string {
  return isUpperCase ? mac.toUpperCase() : mac;
}

function dateText(seconds: number, separator: string): string {
  return new Date(seconds * 1000).toISOString().slice(0, 19).replace('T', separator);
}

/** What `-L` prints for the matches (each with its leading blank), before the comment. */
export function listMatches(rule: RuleSpec, isMacUpperCase: boolean): string {
  let out = '';
  if (rule.macSource !== null) out += ` MAC ${macText(rule.macSource, isMacUpperCase)}`;
  if (rule.datestop !== null) out += ` TIME until date ${dateText(rule.datestop, ' ')} UTC`;
  return out;
}

/** What `-S` / iptables-save prints for them. */
export function saveMatches(rule: RuleSpec, isMacUpperCase: boolean): string {
  let out = '';
  if (rule.macSource !== null) out += ` -m mac --mac-source ${macText(rule.macSource, isMacUpperCase)}`;
  if (rule.datestop !== null) out += ` -m time --datestop ${dateText(rule.datestop, 'T')}`;
  return out;
}

/** Whether a packet batch meets the rule's mac and time matches. */
export function matchesExtensions(rule: RuleSpec, packet: { sourceMac?: string | null; nowMs?: number }): boolean {
  // No frame, no MAC (locally generated packets, or a batch that carries none): no match.
  if (rule.macSource !== null && packet.sourceMac !== rule.macSource) return false;
  if (rule.datestop !== null && packet.nowMs !== undefined && Math.floor(packet.nowMs / 1000) > rule.datestop) return false;
  return true;
}
