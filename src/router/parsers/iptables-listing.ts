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
import { codeUnitsOf, isIfaceAt, isIpv4ColumnAt, isProtAt, isTrimmed, plainCounter } from './iptables-columns.js';

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

function isBlank(code: number): boolean {
  return code === 32 || code === 9;
}

// Token boundaries of the line being parsed (one rule at a time; reused to spare the allocator:
// a 10,000-rule listing would otherwise make 100,000 token objects per poll). Indices are into the
// whole text: lines are never cut out of it, only the fields a rule keeps are.
const STARTS = new Int32Array(16);
const ENDS = new Int32Array(16);

/** Fills STARTS/ENDS with up to `max` tokens of codes[from, end); returns how many it found. */
function scan(codes: Uint16Array, from: number, end: number, max: number): number {
  let i = from;
  let n = 0;
  while (n < max) {
    while (i < end && isBlank(codes[i]!)) i++;
    if (i >= end) break;
    STARTS[n] = i;
    while (i < end && !isBlank(codes[i]!)) i++;
    ENDS[n] = i;
    n++;
  }
  return n;
}

function isAddressAt(text: string, codes: Uint16Array, k: number): boolean {
  return isIpv4ColumnAt(codes, STARTS[k]!, ENDS[k]!) || ADDRESS.test(tokenAt(text, k));
}

function parseColumns(m: RegExpExecArray): Columns {
  return { hasNum: m[1] !== undefined, hasCounters: m[2] !== undefined, hasOpt: m[3] !== undefined, hasVia: m[4] !== undefined };
}

function tokenAt(text: string, k: number): string {
  return text.slice(STARTS[k]!, ENDS[k]!);
}

function isOptAt(codes: Uint16Array, k: number, count: number): boolean {
  if (k >= count || ENDS[k]! - STARTS[k]! !== 2) return false;
  const a = codes[STARTS[k]!]!;
  const b = codes[STARTS[k]! + 1]!;
  return (a === 45 || a === 33) && (b === 45 || b === 102); // [-!][-f]
}

// What follows the destination column, set by readExtra (module state, like STARTS/ENDS: no
// object per rule for a pair of strings).
let extraText = '';
let extraComment: string | null = null;

/** The comment match's opening "/* " at codes[i]. */
function isCommentOpenAt(codes: Uint16Array, i: number): boolean {
  return codes[i] === 47 && codes[i + 1] === 42 && codes[i + 2] === 32;
}

/** The comment match's closing blank, star, slash at codes[i]. */
function isCommentCloseAt(codes: Uint16Array, i: number): boolean {
  return codes[i] === 32 && codes[i + 1] === 42 && codes[i + 2] === 47;
}

/**
 * Matches and comment after the destination: text[from, end) trimmed, the comment taken out. The
 * usual shapes (nothing, or a comment alone) are read without a regex or a temporary string.
 */
function readExtra(text: string, codes: Uint16Array, from: number, end: number): void {
  let start = from;
  while (start < end && isTrimmed(codes[start]!)) start++;
  extraComment = null;
  extraText = '';
  if (start >= end) return;
  // A comment alone: "/* " then the first " */" ends the line (COMMENT's lazy match); its "."
  // stops at U+2028/U+2029, so a comment holding one takes the general path below.
  if (end - start >= 6 && isCommentOpenAt(codes, start) && isCommentCloseAt(codes, end - 3)) {
    let i = start + 3;
    while (i < end - 3 && !isCommentCloseAt(codes, i) && codes[i] !== 0x2028 && codes[i] !== 0x2029) i++;
    if (i === end - 3) {
      extraComment = text.slice(start + 3, i);
      return;
    }
  }
  let extra = text.slice(start, end);
  const c = extra.includes('/* ') ? COMMENT.exec(extra) : null;
  if (c) {
    extraComment = c[1]!;
    extra = (extra.slice(0, c.index) + ' ' + extra.slice(c.index + c[0].length)).trim();
  }
  if (extra.includes('  ') || extra.includes('\t')) extra = extra.replace(/\s+/g, ' ');
  extraText = extra;
}

/** The rule on text[start, end) (a line with its trailing blanks trimmed), or null. */
function parseRule(text: string, codes: Uint16Array, start: number, end: number, cols: Columns): Rule | null {
  let pos = start;
  let num: number | null = null;
  let pkts = 0;
  let bytes = 0;
  let isExact = true;
  let targetStart = start;
  if (cols.hasNum) {
    if (scan(codes, start, end, 1) < 1) return null;
    const n = plainCounter(codes, STARTS[0]!, ENDS[0]!);
    if (n < 0) return null;
    num = n;
    pos = ENDS[0]!;
    // "%-4u " : the target (or the counters) start after a 4-wide left-aligned field.
    targetStart = Math.max(ENDS[0]!, STARTS[0]! + 4) + 1;
  }
  if (cols.hasCounters) {
    if (scan(codes, pos, end, 2) < 2) return null;
    const p = plainCounter(codes, STARTS[0]!, ENDS[0]!);
    const b = plainCounter(codes, STARTS[1]!, ENDS[1]!);
    if (p >= 0 && b >= 0 && Number.isSafeInteger(p) && Number.isSafeInteger(b)) {
      pkts = p;
      bytes = b;
    } else {
      // Without -x: K/M/G/T suffixes (or digits beyond 2^53): the slow, general path.
      const pc = parseCounter(tokenAt(text, 0));
      const bc = parseCounter(tokenAt(text, 1));
      if (!pc || !bc) return null;
      pkts = pc.value;
      bytes = bc.value;
      isExact = pc.isExact && bc.isExact;
    }
    // xtables_print_num ends with exactly one blank; the "%-9s " target field starts after it.
    targetStart = ENDS[1]! + 1;
  }
  // At most 7 columns: target, prot, opt, in, out, source, destination (readExtra reads the rest).
  const count = scan(codes, Math.min(targetStart, end), end, 7);
  let i = 0;
  let targetIsEmpty: boolean;
  if (cols.hasOpt && isOptAt(codes, 1, count) && !isOptAt(codes, 2, count)) targetIsEmpty = true;
  else if (cols.hasOpt && isOptAt(codes, 2, count)) targetIsEmpty = false;
  else targetIsEmpty = targetStart >= end || codes[targetStart] === 32;
  let target: string | null = null;
  if (!targetIsEmpty) {
    if (i >= count) return null;
    target = tokenAt(text, i++);
  }
  if (i >= count) return null;
  const protToken = i++;
  let prot: string | null = null; // set when the token is not the protocol alone
  let opt = '';
  if (cols.hasOpt) {
    if (isOptAt(codes, i, count)) {
      opt = tokenAt(text, i++);
    } else {
      // A protocol name longer than its "%-5s" field runs into the opt column ("icmpv6--"),
      // and old ip6tables left the opt column blank: both leave no separate opt token.
      const glued = /^(.+?)([-!][-f])$/.exec(tokenAt(text, protToken));
      if (glued) {
        prot = glued[1]!;
        opt = glued[2]!;
      }
    }
  }
  if (prot === null) {
    if (!isProtAt(codes, STARTS[protToken]!, ENDS[protToken]!)) return null;
    prot = tokenAt(text, protToken);
  } else if (!PROT.test(prot)) return null;
  let inIface = '*';
  let outIface = '*';
  if (cols.hasVia) {
    if (i + 1 >= count) return null;
    if (!isIfaceAt(codes, STARTS[i]!, ENDS[i]!) || !isIfaceAt(codes, STARTS[i + 1]!, ENDS[i + 1]!)) return null;
    inIface = tokenAt(text, i++);
    outIface = tokenAt(text, i++);
  }
  if (i + 1 >= count) return null;
  if (!isAddressAt(text, codes, i) || !isAddressAt(text, codes, i + 1)) return null;
  const source = tokenAt(text, i++);
  const destination = tokenAt(text, i);
  readExtra(text, codes, ENDS[i]!, end);
  return { num, pkts, bytes, isExact, target, prot, opt, in: inIface, out: outIface, source, destination, extra: extraText, comment: extraComment };
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
  // One pass over the text with indices (lines as split(/\r?\n|\r/) would cut them): a line becomes
  // a string only when it is not a rule, i.e. a few times per listing. The next \n and \r are
  // searched for again only once passed, so a text without one of them stays linear.
  const length = text.length;
  const codes = codeUnitsOf(text);
  let nextLf = text.indexOf('\n');
  let nextCr = text.indexOf('\r');
  let pos = 0;
  while (pos < length) {
    if (nextLf >= 0 && nextLf < pos) nextLf = text.indexOf('\n', pos);
    if (nextCr >= 0 && nextCr < pos) nextCr = text.indexOf('\r', pos);
    let end = nextLf < 0 ? length : nextLf;
    let next = end + 1;
    if (nextCr >= 0 && nextCr < end) {
      end = nextCr;
      next = nextCr + 1 < length && codes[nextCr + 1] === 10 ? nextCr + 2 : nextCr + 1;
    }
    const lineStart = pos;
    pos = next;
    // The line is text[lineStart, end); trimEnd and trimStart as indices.
    let trimmedEnd = end;
    while (trimmedEnd > lineStart && isTrimmed(codes[trimmedEnd - 1]!)) trimmedEnd--;
    let trimmedStart = lineStart;
    while (trimmedStart < trimmedEnd && isTrimmed(codes[trimmedStart]!)) trimmedStart++;
    if (trimmedStart === trimmedEnd) continue;
    // No real line is this long; refusing it keeps every regex below linear on hostile input.
    if (trimmedEnd - lineStart > MAX_LINE_LENGTH) {
      skipped.push(text.slice(lineStart, Math.min(end, lineStart + 200)));
      continue;
    }
    // Fast path for the bulk of a listing: inside a chain, a line that starts with a digit can only
    // be a rule (chain, header, warning and error lines start with letters or '#').
    if (chain !== null && cols !== null && (cols.hasNum || cols.hasCounters)) {
      const first = codes[trimmedStart]!;
      if (first >= 48 && first <= 57) {
        const rule = parseRule(text, codes, lineStart, trimmedEnd, cols);
        if (rule) {
          chain.rules.push(rule);
          continue;
        }
      }
    }
    const line = text.slice(lineStart, trimmedEnd);
    const rawLine = text.slice(lineStart, end);
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
    const rule = chain && cols ? parseRule(text, codes, lineStart, trimmedEnd, cols) : null;
    if (rule && chain) chain.rules.push(rule);
    else skipped.push(rawLine);
  }
  return { chains, warnings, errors, skipped };
}
