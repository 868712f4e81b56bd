// The inverse of parseIptablesListing: prints chains the way iptables 1.8.9 prints
// `iptables -L [CHAIN] [-v] [-x] -n [--line-numbers]` — the printf formats of print_header(),
// print_firewall() and xtables_print_num(). Used by the property tests (round trip) and
// available to the emulated router. Byte-identical to the real captures in
// fixtures/iptables/1.8.9-* (see format-iptables-listing.test.ts).
//
//   Chain TRAFFIC (1 references)
//       pkts      bytes target     prot opt in     out     source               destination
//          3     3084            0    --  ppp0   *       0.0.0.0/0            198.51.100.10

import type { Chain, Rule } from './types.js';

export interface FormatIptablesOptions {
  /** -x: exact counters; false prints K/M/G/T suffixes like iptables does. Default true. */
  exact?: boolean;
  /** --line-numbers. Default false. */
  lineNumbers?: boolean;
  /** -v: counters and in/out columns. Default true. */
  verbose?: boolean;
}

/** xtables_print_num: "%8llu " with -x, else "%5llu " or "%4llu%c " scaled by 1000. */
export function formatIptablesCounter(value: number, exact: boolean, inTable = true): string {
  const n = Math.max(0, Math.trunc(value));
  if (exact) return inTable ? String(n).padStart(8) + ' ' : `${n} `;
  if (n <= 99999) return inTable ? String(n).padStart(5) + ' ' : `${n} `;
  let scaled = n;
  let unit = '';
  for (const u of ['K', 'M', 'G', 'T']) {
    scaled = Math.floor((scaled + 500) / 1000);
    unit = u;
    if (scaled <= 9999) break;
  }
  return inTable ? String(scaled).padStart(4) + unit + ' ' : `${scaled}${unit} `;
}

function chainLine(chain: Chain, exact: boolean, verbose: boolean): string {
  if (chain.policy === null) return `Chain ${chain.name} (${chain.references ?? 0} references)`;
  if (!verbose) return `Chain ${chain.name} (policy ${chain.policy})`;
  const pkts = formatIptablesCounter(chain.policyPkts ?? 0, exact, false);
  const bytes = formatIptablesCounter(chain.policyBytes ?? 0, exact, false);
  return `Chain ${chain.name} (policy ${chain.policy} ${pkts}packets, ${bytes}bytes)`;
}

function headerLine(exact: boolean, lineNumbers: boolean, verbose: boolean): string {
  let s = lineNumbers ? 'num'.padEnd(4) + ' ' : '';
  if (verbose) s += exact ? 'pkts'.padStart(8) + ' ' + 'bytes'.padStart(10) + ' ' : 'pkts'.padStart(5) + ' ' + 'bytes'.padStart(5) + ' ';
  s += 'target'.padEnd(9) + ' ';
  s += ' prot opt';
  if (verbose) s += ' ' + 'in'.padEnd(6) + ' ' + 'out'.padEnd(6) + ' ';
  s += ' ' + 'source'.padEnd(19) + ' ';
  s += ' ' + 'destination'.padEnd(19) + ' ';
  return s;
}

function inverted(value: string): [string, string] {
  return value.startsWith('!') ? ['!', value.slice(1)] : [' ', value];
}

function ruleLine(rule: Rule, index: number, exact: boolean, lineNumbers: boolean, verbose: boolean): string {
  let s = lineNumbers ? String(rule.num ?? index + 1).padEnd(4) + ' ' : '';
  if (verbose) s += formatIptablesCounter(rule.pkts, exact) + formatIptablesCounter(rule.bytes, exact);
  s += (rule.target ?? '').padEnd(9) + ' ';
  const [protInv, prot] = inverted(rule.prot);
  s += protInv + prot.padEnd(5);
  s += rule.opt + ' ';
  if (verbose) s += ' ' + rule.in.padEnd(6) + ' ' + rule.out.padEnd(6) + ' ';
  for (const address of [rule.source, rule.destination]) {
    const [inv, value] = inverted(address);
    s += inv + value.padEnd(19) + ' ';
  }
  if (rule.comment !== null) s += ` /* ${rule.comment} */`;
  if (rule.extra !== '') s += ' ' + rule.extra;
  return s;
}

/** Prints chains as `iptables -L` does (1.8.9 layout), each line ending in "\n". */
export function formatIptablesListing(chains: readonly Chain[], options: FormatIptablesOptions = {}): string {
  const exact = options.exact ?? true;
  const lineNumbers = options.lineNumbers ?? false;
  const verbose = options.verbose ?? true;
  const parts: string[] = [];
  chains.forEach((chain, chainIndex) => {
    if (chainIndex > 0) parts.push('');
    parts.push(chainLine(chain, exact, verbose));
    parts.push(headerLine(exact, lineNumbers, verbose));
    chain.rules.forEach((rule, i) => parts.push(ruleLine(rule, i, exact, lineNumbers, verbose)));
  });
  return parts.length === 0 ? '' : parts.join('\n') + '\n';
}
