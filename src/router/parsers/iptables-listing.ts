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
const OPT = /^[-!][-f]$/;
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

interface Token {
  text: string;
  start: number;
  end: number;
}

function tokensFrom(line: string, from: number, max: number): Token[] {
  const out: Token[] = [];
  const re = /\S+/g;
  re.lastIndex = from;
  let m: RegExpExecArray | null;
  while (out.length < max && (m = re.exec(line)) !== null) {
    out.push({ text: m[0], start: m.index, end: m.index + m[0].length });
  }
  return out;
}

function parseColumns(m: RegExpExecArray): Columns {
  return { hasNum: m[1] !== undefined, hasCounters: m[2] !== undefined, hasOpt: m[3] !== undefined, hasVia: m[4] !== undefined };
}

function parseRule(line: string, cols: Columns): Rule | null {
  let pos = 0;
  let num: number | null = null;
  let pkts: Counter = { value: 0, isExact: true };
  let bytes: Counter = { value: 0, isExact: true };
  let targetStart = 0;
  if (cols.hasNum) {
    const [tok] = tokensFrom(line, 0, 1);
    if (!tok || !/^\d+$/.test(tok.text)) return null;
    num = Number(tok.text);
    pos = tok.end;
    // "%-4u " : the target (or the counters) start after a 4-wide left-aligned field.
    targetStart = Math.max(tok.end, tok.start + 4) + 1;
  }
  if (cols.hasCounters) {
    const toks = tokensFrom(line, pos, 2);
    const p = toks[0] ? parseCounter(toks[0].text) : null;
    const b = toks[1] ? parseCounter(toks[1].text) : null;
    if (!p || !b) return null;
    pkts = p;
    bytes = b;
    // xtables_print_num ends with exactly one blank; the "%-9s " target field starts after it.
    targetStart = toks[1]!.end + 1;
  }
  const toks = tokensFrom(line, Math.min(targetStart, line.length), 8);
  let i = 0;
  let targetIsEmpty: boolean;
  if (cols.hasOpt && toks[1] && OPT.test(toks[1].text) && !(toks[2] && OPT.test(toks[2].text))) targetIsEmpty = true;
  else if (cols.hasOpt && toks[2] && OPT.test(toks[2].text)) targetIsEmpty = false;
  else targetIsEmpty = targetStart >= line.length || line[targetStart] === ' ';
  let target: string | null = null;
  if (!targetIsEmpty) {
    const tok = toks[i++];
    if (!tok) return null;
    target = tok.text;
  }
  let prot = toks[i++]?.text;
  if (prot === undefined) return null;
  let opt = '';
  if (cols.hasOpt) {
    const next = toks[i]?.text;
    if (next !== undefined && OPT.test(next)) {
      opt = next;
      i++;
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
    const a = toks[i++]?.text;
    const b = toks[i++]?.text;
    if (a === undefined || b === undefined || !IFACE.test(a) || !IFACE.test(b)) return null;
    inIface = a;
    outIface = b;
  }
  const src = toks[i++];
  const dst = toks[i++];
  if (!src || !dst || !ADDRESS.test(src.text) || !ADDRESS.test(dst.text)) return null;
  let extra = line.slice(dst.end).trim();
  let comment: string | null = null;
  const c = COMMENT.exec(extra);
  if (c) {
    comment = c[1]!;
    extra = (extra.slice(0, c.index) + ' ' + extra.slice(c.index + c[0].length)).trim();
  }
  extra = extra.replace(/\s+/g, ' ');
  return {
    num,
    pkts: pkts.value,
    bytes: bytes.value,
    isExact: pkts.isExact && bytes.isExact,
    target,
    prot,
    opt,
    in: inIface,
    out: outIface,
    source: src.text,
    destination: dst.text,
    extra,
    comment,
  };
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
    if (line.trim() === '') continue;
    // No real line is this long; refusing it keeps every regex below linear on hostile input.
    if (line.length > MAX_LINE_LENGTH) {
      skipped.push(rawLine.slice(0, 200));
      continue;
    }
    const chainMatch = CHAIN_LINE.exec(line.trim());
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
    if (WARNING_LINE.test(line.trim())) {
      warnings.push(line.trim());
      continue;
    }
    if (ERROR_LINE.test(line.trim())) {
      errors.push(line.trim());
      continue;
    }
    const rule = chain && cols ? parseRule(line, cols) : null;
    if (rule && chain) chain.rules.push(rule);
    else skipped.push(rawLine);
  }
  return { chains, warnings, errors, skipped };
}
