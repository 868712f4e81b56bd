// `iptables -L [CHAIN] -v -x -n [--line-numbers]` as printed by iptables 1.3.x … 1.8.x, legacy
// and nf_tables, e.g. (1.8.9, an accounting rule has an empty target column):
//   Chain TRAFFIC (1 references)
//       pkts      bytes target     prot opt in     out     source               destination
//          3     3084            0    --  ppp0   *       0.0.0.0/0            198.51.100.10
//
// Columns are read for what they are, not by whitespace splitting: the header line says which
// columns exist (num, pkts/bytes, opt, in/out); iptables prints the target with "%-9s " right
// after the counters, so an empty target is a blank at that position — and, as a cross-check
// that also survives a transport that trimmed leading blanks, the prot/opt shape of the tokens
// that follow (`0 --` vs `ACCEPT 0 --`). Counters without -x carry K/M/G/T suffixes (iptables
// divides by 1000 with rounding): such values are approximations and the rule is marked
// isExact: false. Lines that are neither header, rule, warning nor error (command echo,
// prompts, daemon log lines interleaved on Broadcom consoles) are reported in `skipped`.

import type { Chain, IptablesListing, ParseReport, Rule } from './types.js';

const MAX_LINE_LENGTH = 4096;

/** parseIptablesListing's result: the documented API fields plus the lines it skipped. */
export type IptablesListingReport = IptablesListing & ParseReport;

interface Columns {
  hasNum: boolean;
  hasCounters: boolean;
  hasOpt: boolean;
  hasVia: boolean;
}

const CHAIN_LINE =
  /^Chain (\S+) \((?:policy (\S+)(?: (\d+[KMGT]?) packets, (\d+[KMGT]?) bytes)?|(\d+) references|ERROR obtaining refs)\)\s*$/;
const HEADER_LINE = /^\s*(num\s+)?(pkts\s+bytes\s+)?target\s+prot\s+(opt\s+)?(in\s+out\s+)?source\s+destination\s*$/;
const WARNING_LINE = /^#?\s*Warning:/i;
// iptables' own error wording (see fixtures/iptables/*/iptables-errors.txt) and its usage hint.
const ERROR_LINE =
  /^(?:(?:ip6?tables|iptables-\w+|ip6tables-\w+|xtables-\w+)(?: v[\d.]+(?: \([^)]*\))?)?: |Bad argument |Try `ip6?tables -h'|Fatal: |Another app is currently holding the xtables lock|can't initialize ip6?tables table|ip6?tables: )/;
const COUNTER = /^(\d+)([KMGT]?)$/;
const PROT = /^!?(?:all|\d{1,3}|[a-z][a-z0-9-]*)$/;
const IFACE = /^!?[A-Za-z0-9_.:@+*-]{1,16}$/;
// A whole address: dotted quad (with /len or /mask), IPv6, "anywhere", or a name (no -n).
// Truncated values such as "198" are refused, so a cut-off last line is skipped, not misread.
const ADDRESS =
  /^!?(?:\d{1,3}(?:\.\d{1,3}){3}(?:\/(?:\d{1,2}|\d{1,3}(?:\.\d{1,3}){3}))?|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(?:\/\d{1,3})?|anywhere|[A-Za-z][A-Za-z0-9.-]*(?:\/[0-9.]+)?)$/;
const COMMENT = /\/\* (.*?) \*\//;
const SCALE: Record<string, number> = { '': 1, K: 1e3, M: 1e6, G: 1e9, T: 1e12 };

interface Counter {
  value: number;
  isExact: boolean;
}

function parseCounter(text: string): Counter | null {
  const m = COUNTER.exec(text);
  if (!m) return null;
  const digits = m[1]!;
  const suffix = m[2]!;
  const value = Number(digits) * SCALE[suffix]!;
  // Beyond 2^53 a JavaScript number cannot hold every byte count exactly (9 PB; STYLE.md §10).
  return { value, isExact: suffix === '' && Number.isSafeInteger(value) };
}

/** A plain decimal counter (the -x case) without a regex or an object; -1 when it is not one. */
function plainCounter(line: string, start: number, end: number): number {
  if (end - start > 20) return -1;
  let value = 0;
  for (let i = start; i < end; i++) {
    const digit = line.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return end > start ? value : -1;
}

function isBlank(code: number): boolean {
  return code === 32 || code === 9;
}

// Token boundaries of the line being parsed (one rule at a time; reused to spare the allocator:
// a 10,000-rule listing would otherwise make 100,000 token objects per poll).
const STARTS = new Int32Array(16);
const ENDS = new Int32Array(16);

/** Fills STARTS/ENDS from `offset` with up to `max` tokens found from `from`; returns the new count. */
function scan(line: string, from: number, offset: number, max: number): number {
  const length = line.length;
  let i = from;
  let n = offset;
  while (n < offset + max) {
    while (i < length && isBlank(line.charCodeAt(i))) i++;
    if (i >= length) break;
    STARTS[n] = i;
    while (i < length && !isBlank(line.charCodeAt(i))) i++;
    ENDS[n] = i;
    n++;
  }
  return n;
}

function parseColumns(m: RegExpExecArray): Columns {
  return { hasNum: m[1] !== undefined, hasCounters: m[2] !== undefined, hasOpt: m[3] !== undefined, hasVia: m[4] !== undefined };
}

function tokenAt(line: string, k: number): string {
  return line.slice(STARTS[k]!, ENDS[k]!);
}

function isOptAt(line: string, k: number, count: number): boolean {
  if (k >= count || ENDS[k]! - STARTS[k]! !== 2) return false;
  const a = line.charCodeAt(STARTS[k]!);
  const b = line.charCodeAt(STARTS[k]! + 1);
  return (a === 45 || a === 33) && (b === 45 || b === 102); // [-!][-f]
}

function parseRule(line: string, cols: Columns): Rule | null {
  let pos = 0;
  let num: number | null = null;
  let pkts = 0;
  let bytes = 0;
  let isExact = true;
  let targetStart = 0;
  if (cols.hasNum) {
    if (scan(line, 0, 0, 1) < 1) return null;
    const n = plainCounter(line, STARTS[0]!, ENDS[0]!);
    if (n < 0) return null;
    num = n;
    pos = ENDS[0]!;
    // "%-4u " : the target (or the counters) start after a 4-wide left-aligned field.
    targetStart = Math.max(ENDS[0]!, STARTS[0]! + 4) + 1;
  }
  if (cols.hasCounters) {
    if (scan(line, pos, 0, 2) < 2) return null;
    const p = plainCounter(line, STARTS[0]!, ENDS[0]!);
    const b = plainCounter(line, STARTS[1]!, ENDS[1]!);
    if (p >= 0 && b >= 0 && Number.isSafeInteger(p) && Number.isSafeInteger(b)) {
      pkts = p;
      bytes = b;
    } else {
      // Without -x: K/M/G/T suffixes (or digits beyond 2^53): the slow, general path.
      const pc = parseCounter(line.slice(STARTS[0]!, ENDS[0]!));
      const bc = parseCounter(line.slice(STARTS[1]!, ENDS[1]!));
      if (!pc || !bc) return null;
      pkts = pc.value;
      bytes = bc.value;
      isExact = pc.isExact && bc.isExact;
    }
    // xtables_print_num ends with exactly one blank; the "%-9s " target field starts after it.
    targetStart = ENDS[1]! + 1;
  }
  const count = scan(line, Math.min(targetStart, line.length), 0, 8);
  let i = 0;
  let targetIsEmpty: boolean;
  if (cols.hasOpt && isOptAt(line, 1, count) && !isOptAt(line, 2, count)) targetIsEmpty = true;
  else if (cols.hasOpt && isOptAt(line, 2, count)) targetIsEmpty = false;
  else targetIsEmpty = targetStart >= line.length || line[targetStart] === ' ';
  let target: string | null = null;
  if (!targetIsEmpty) {
    if (i >= count) return null;
    target = tokenAt(line, i++);
  }
  if (i >= count) return null;
  let prot = tokenAt(line, i++);
  let opt = '';
  if (cols.hasOpt) {
    if (isOptAt(line, i, count)) {
      opt = tokenAt(line, i++);
    } else {
      // A protocol name longer than its "%-5s" field runs into the opt column ("icmpv6--"),
      // and old ip6tables left the opt column blank: both leave no separate opt token.
      const glued = /^(.+?)([-!][-f])$/.exec(prot);
      if (glued) {
        prot = glued[1]!;
        opt = glued[2]!;
      }
    }
  }
  if (!PROT.test(prot)) return null;
  let inIface = '*';
  let outIface = '*';
  if (cols.hasVia) {
    if (i + 1 >= count) return null;
    const a = tokenAt(line, i++);
    const b = tokenAt(line, i++);
    if (!IFACE.test(a) || !IFACE.test(b)) return null;
    inIface = a;
    outIface = b;
  }
  if (i + 1 >= count) return null;
  const source = tokenAt(line, i++);
  const destination = tokenAt(line, i);
  const dstEnd = ENDS[i]!;
  if (!ADDRESS.test(source) || !ADDRESS.test(destination)) return null;
  let extra = line.slice(dstEnd).trim();
  let comment: string | null = null;
  if (extra !== '') {
    const c = extra.includes('/* ') ? COMMENT.exec(extra) : null;
    if (c) {
      comment = c[1]!;
      extra = (extra.slice(0, c.index) + ' ' + extra.slice(c.index + c[0].length)).trim();
    }
    if (extra.includes('  ') || extra.includes('\t')) extra = extra.replace(/\s+/g, ' ');
  }
  return { num, pkts, bytes, isExact, target, prot, opt, in: inIface, out: outIface, source, destination, extra, comment };
}

/**
 * Parses an iptables listing into chains and rules. Never throws: warning lines go to
 * `warnings`, iptables error lines to `errors` (classify them with classifyRouterOutput),
 * anything unreadable to `skipped`. An empty `chains` with non-empty `errors` is a failure,
 * never "0 rules". Linear in the size of the text.
 */
export function parseIptablesListing(text: string): IptablesListingReport {
  const chains: Chain[] = [];
  const warnings: string[] = [];
  const errors: string[] = [];
  const skipped: string[] = [];
  if (typeof text !== 'string') return { chains, warnings, errors, skipped };
  let chain: Chain | null = null;
  let cols: Columns | null = null;
  for (const rawLine of text.split(/\r?\n|\r/)) {
    const line = rawLine.trimEnd();
    if (line === '' || line.trimStart() === '') continue;
    // No real line is this long; refusing it keeps every regex below linear on hostile input.
    if (line.length > MAX_LINE_LENGTH) {
      skipped.push(rawLine.slice(0, 200));
      continue;
    }
    // Fast path for the bulk of a listing: inside a chain, a line that starts with a digit can only
    // be a rule (chain, header, warning and error lines start with letters or '#').
    if (chain !== null && cols !== null && (cols.hasNum || cols.hasCounters)) {
      const first = line.charCodeAt(line.length - line.trimStart().length);
      if (first >= 48 && first <= 57) {
        const rule = parseRule(line, cols);
        if (rule) {
          chain.rules.push(rule);
          continue;
        }
      }
    }
    const trimmed = line.trim();
    const chainMatch = CHAIN_LINE.exec(trimmed);
    if (chainMatch) {
      const policyPkts = chainMatch[3] !== undefined ? parseCounter(chainMatch[3]) : null;
      const policyBytes = chainMatch[4] !== undefined ? parseCounter(chainMatch[4]) : null;
      chain = {
        name: chainMatch[1]!,
        policy: chainMatch[2] ?? null,
        references: chainMatch[5] !== undefined ? Number(chainMatch[5]) : null,
        policyPkts: policyPkts?.value ?? null,
        policyBytes: policyBytes?.value ?? null,
        rules: [],
      };
      chains.push(chain);
      cols = null;
      continue;
    }
    const headerMatch = HEADER_LINE.exec(line);
    if (headerMatch) {
      cols = parseColumns(headerMatch);
      continue;
    }
    if (WARNING_LINE.test(trimmed)) {
      warnings.push(trimmed);
      continue;
    }
    if (ERROR_LINE.test(trimmed)) {
      errors.push(trimmed);
      continue;
    }
    const rule = chain && cols ? parseRule(line, cols) : null;
    if (rule && chain) chain.rules.push(rule);
    else skipped.push(rawLine);
  }
  return { chains, warnings, errors, skipped };
}
