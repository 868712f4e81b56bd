// The inverse of parseIptablesListing, and the emulated router's `iptables -L`: prints chains the
// way iptables prints `iptables -L [CHAIN] [-v] [-x] [-n] [--line-numbers]` — the printf formats of
// print_header(), print_firewall() and xtables_print_num() in iptables 1.4's iptables.c, a layout
// 1.6 and 1.8 kept. Byte-identical to the real captures in fixtures/iptables/1.8.9-* (see
// format-iptables-listing.test.ts) and to this machine's iptables-legacy 1.8.9
// (src/emulator/testdata, through the emulator). Columns arrive as text: what a column says
// (`anywhere` or `0.0.0.0/0`, `tcp` or `6`) is the caller's choice, so one layout serves parsed
// records and the emulator's rules alike.
//
//   Chain TRAFFIC (1 references)
//       pkts      bytes target     prot opt in     out     source               destination
//          3     3084            0    --  ppp0   *       0.0.0.0/0            198.51.100.10

import type { Rule } from './types.js';

/** One rule as its row shows it, column by column (the columns of Rule); a parsed Rule is one. */
export type ListingRow = Omit<Rule, 'num' | 'pkts' | 'bytes' | 'isExact'> & {
  /** --line-numbers value; null or absent: the row's position. */
  num?: number | null;
  /** bigint for the emulator's 64-bit kernel counters. */
  pkts: number | bigint;
  bytes: number | bigint;
  /** `-g CHAIN`: print_firewall writes "[goto] " before the matches. */
  isGoto?: boolean;
  /** What the matches print before the comment, each with its leading blank (` MAC …`, ` TIME …`). */
  matches?: string;
};

export interface ListingChain {
  name: string;
  /** ACCEPT/DROP for built-in chains, null for user chains. */
  policy: string | null;
  references: number | null;
  policyPkts?: number | bigint | null;
  policyBytes?: number | bigint | null;
  rules: readonly ListingRow[];
}

/** print_firewall's format bits that change the layout (FMT_NOCOUNTS, FMT_VIA, …), as booleans. */
export interface ListingLayout {
  /** -v: pkts/bytes columns and the policy counters (FMT_NOCOUNTS clear). */
  hasCounters: boolean;
  /** -v: in/out columns (FMT_VIA). */
  hasInterfaces: boolean;
  /** -x: exact counters; otherwise K/M/G/T like xtables_print_num (FMT_KILOMEGAGIGA clear). */
  isExact: boolean;
  hasLineNumbers: boolean;
  /**
   * false: FMT_NOTABLE, the one-line form `iptables -v -A …` echoes for each rule it adds
   * (`  tcp opt -- in ppp0 out *  0.0.0.0/0  -> 198.51.100.23  `).
   */
  isTable: boolean;
}

export interface FormatIptablesOptions {
  /** -x: exact counters; false prints K/M/G/T suffixes like iptables does. Default true. */
  exact?: boolean;
  /** --line-numbers. Default false. */
  lineNumbers?: boolean;
  /** -v: counters and in/out columns. Default true. */
  verbose?: boolean;
}

const UINT64 = 0xffffffffffffffffn;

/** xtables_print_num: "%8llu " with -x, else "%5llu " or "%4llu%c " scaled by 1000. */
export function formatIptablesCounter(value: number | bigint, exact: boolean, inTable = true): string {
  const n = typeof value === 'bigint' ? value : Math.max(0, Math.trunc(value));
  if (exact) return inTable ? String(n).padStart(8) + ' ' : `${n} `;
  if (n <= 99999 || (typeof n === 'number' && !Number.isFinite(n))) return inTable ? String(n).padStart(5) + ' ' : `${n} `;
  // In bigint, as C's unsigned long long: exact past 2^53, and n + 500 wraps near 2^64 as it does there.
  let scaled = BigInt(n);
  let unit = '';
  for (const u of ['K', 'M', 'G', 'T']) {
    scaled = ((scaled + 500n) & UINT64) / 1000n;
    unit = u;
    if (scaled <= 9999n) break;
  }
  return inTable ? String(scaled).padStart(4) + unit + ' ' : `${scaled}${unit} `;
}

/** The "Chain …" line and the column headings (print_header), each ending in "\n". */
function formatIptablesChainHeading(chain: ListingChain, layout: ListingLayout): string {
  let s = `Chain ${chain.name}`;
  if (chain.policy === null) s += ` (${chain.references ?? 0} references)\n`;
  else if (!layout.hasCounters) s += ` (policy ${chain.policy})\n`;
  else {
    const pkts = formatIptablesCounter(chain.policyPkts ?? 0, layout.isExact, false);
    const bytes = formatIptablesCounter(chain.policyBytes ?? 0, layout.isExact, false);
    s += ` (policy ${chain.policy} ${pkts}packets, ${bytes}bytes)\n`;
  }
  if (layout.hasLineNumbers) s += 'num'.padEnd(4) + ' ';
  if (layout.hasCounters) {
    s += layout.isExact ? 'pkts'.padStart(8) + ' ' + 'bytes'.padStart(10) + ' ' : 'pkts'.padStart(5) + ' ' + 'bytes'.padStart(5) + ' ';
  }
  s += 'target'.padEnd(9) + ' ';
  s += ' prot opt';
  if (layout.hasInterfaces) s += ' ' + 'in'.padEnd(6) + ' ' + 'out'.padEnd(6) + ' ';
  s += ' ' + 'source'.padEnd(19) + ' ';
  s += ' ' + 'destination'.padEnd(19) + ' ';
  return s + '\n';
}

/** An inverted column's '!' goes in the blank iptables leaves before the value. */
function invertMark(value: string): string {
  return value.startsWith('!') ? '!' : ' ';
}
function withoutMark(value: string): string {
  return value.startsWith('!') ? value.slice(1) : value;
}

/** One rule row (print_firewall), ending in "\n". */
export function formatIptablesRow(rule: ListingRow, num: number, layout: ListingLayout): string {
  const { isTable } = layout;
  const target = rule.target ?? '';
  const prot = withoutMark(rule.prot);
  const source = withoutMark(rule.source);
  const destination = withoutMark(rule.destination);
  let s = '';
  if (layout.hasLineNumbers) s += isTable ? String(num).padEnd(4) + ' ' : `${num} `;
  if (layout.hasCounters) s += formatIptablesCounter(rule.pkts, layout.isExact, isTable) + formatIptablesCounter(rule.bytes, layout.isExact, isTable);
  s += isTable ? target.padEnd(9) + ' ' : `${target} `;
  s += invertMark(rule.prot) + (isTable ? prot.padEnd(5) : `${prot} `);
  if (!isTable) s += 'opt ';
  s += rule.opt + ' ';
  if (layout.hasInterfaces) s += isTable ? ' ' + rule.in.padEnd(6) + ' ' + rule.out.padEnd(6) + ' ' : `in ${rule.in} out ${rule.out} `;
  s += invertMark(rule.source) + (isTable ? source.padEnd(19) + ' ' : `${source} `);
  s += invertMark(rule.destination) + (isTable ? destination.padEnd(19) + ' ' : `-> ${destination}  `);
  if (rule.isGoto) s += '[goto] ';
  if (rule.matches) s += rule.matches;
  if (rule.comment !== null) s += ` /* ${rule.comment} */`;
  if (rule.extra !== '') s += ' ' + rule.extra;
  return s + '\n';
}

/** Prints chains as `iptables -L` does, each line ending in "\n", a blank line between chains. */
export function formatIptablesListing(chains: readonly ListingChain[], options: FormatIptablesOptions = {}): string {
  const verbose = options.verbose ?? true;
  const layout: ListingLayout = {
    hasCounters: verbose,
    hasInterfaces: verbose,
    isExact: options.exact ?? true,
    hasLineNumbers: options.lineNumbers ?? false,
    isTable: true,
  };
  let out = '';
  for (let c = 0; c < chains.length; c++) {
    const chain = chains[c]!;
    if (c > 0) out += '\n';
    out += formatIptablesChainHeading(chain, layout);
    for (let i = 0; i < chain.rules.length; i++) {
      const rule = chain.rules[i]!;
      out += formatIptablesRow(rule, rule.num ?? i + 1, layout);
    }
  }
  return out;
}
