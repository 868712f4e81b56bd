// What the emulated iptables prints about its rules: `-L` (and the rule `-v -A …` echoes) through
// the printer lantop's parser tests use (router/parsers/format-iptables-listing.ts), with the
// column texts print_firewall() chooses — names or numbers, `anywhere` or 0.0.0.0/0, the LOG and
// REJECT options — and `-S` in iptables-save's form. Pure.

import {
  formatIptablesListing, formatIptablesRow, type ListingChain, type ListingLayout, type ListingRow,
} from '../router/parsers/format-iptables-listing.js';
import { OPT } from './iptables-argv.js';
import { listMatches, saveMatches } from './iptables-matches.js';
import { CHAIN_PROTOS, LOG_LEVELS, PROTOCOL_NAMES, formatIpv4, maskSuffix, type AddressMatch } from './iptables-names.js';
import { referenceCount, type DialectInfo, type IptablesChain, type IptablesRule, type IptablesTable } from './iptables-state.js';

/** FMT_NUMERIC: numbers instead of names; `isTable` false is FMT_NOTABLE (see ListingLayout). */
function toListingRow(rule: IptablesRule, isNumeric: boolean, isTable: boolean, dialect: DialectInfo): ListingRow {
  const protocolName =
    isNumeric && dialect.hasNumericProtocols && isTable
      ? undefined
      : isNumeric
        ? CHAIN_PROTOS.get(rule.protocol)
        : (rule.protocol === 0 ? 'all' : (PROTOCOL_NAMES.get(rule.protocol) ?? CHAIN_PROTOS.get(rule.protocol)));
  const any = isNumeric ? '*' : 'any';
  const mark = (isInverted: boolean): string => (isInverted ? '!' : '');
  const address = (match: AddressMatch): string =>
    match.mask === 0 && !isNumeric ? 'anywhere' : formatIpv4(match.address) + maskSuffix(match.mask);
  return {
    pkts: rule.packets,
    bytes: rule.bytes,
    target: rule.target,
    prot: mark(rule.invert.protocol) + (protocolName ?? String(rule.protocol)),
    opt: (rule.invert.fragment ? '!' : '-') + (rule.isFragment ? 'f' : '-'),
    in: mark(rule.invert.inInterface) + (rule.inInterface !== '' ? rule.inInterface : any),
    out: mark(rule.invert.outInterface) + (rule.outInterface !== '' ? rule.outInterface : any),
    source: mark(rule.invert.source) + address(rule.source),
    destination: mark(rule.invert.destination) + address(rule.destination),
    isGoto: rule.isGoto,
    matches: listMatches(rule, dialect.isMacUpperCase, isNumeric),
    comment: rule.comment,
    extra: targetOptions(rule, isNumeric, dialect),
  };
}

/** What the LOG and REJECT targets' print() functions add after the matches. */
function targetOptions(rule: IptablesRule, isNumeric: boolean, dialect: DialectInfo): string {
  if (rule.target === 'REJECT') return `reject-with ${rule.rejectWith}`;
  if (rule.target !== 'LOG') return '';
  let out = 'LOG';
  if (isNumeric) out += ` flags 0 level ${rule.logLevel}`;
  else {
    const name = LOG_LEVELS.find(([, level]) => level === rule.logLevel)?.[0] ?? String(rule.logLevel);
    out += ` level ${name === 'warning' ? dialect.warningLevelName : name}`;
  }
  if (rule.logPrefix !== '') out += ` prefix "${rule.logPrefix}"`;
  return out;
}

function toListingChain(chain: IptablesChain, table: IptablesTable, isNumeric: boolean, dialect: DialectInfo): ListingChain {
  return {
    name: chain.name,
    policy: chain.isBuiltin ? chain.policy : null,
    references: chain.isBuiltin ? null : referenceCount(table, chain.name),
    policyPkts: chain.packets,
    policyBytes: chain.bytes,
    rules: chain.rules.map((rule) => toListingRow(rule, isNumeric, true, dialect)),
  };
}

/** `-L [chain [n]]` with the -v -x -n --line-numbers bits in `options`; null when no chain matched. */
export function listChains(table: IptablesTable, chainName: string | null, ruleNumber: number, options: number, dialect: DialectInfo): string | null {
  const isNumeric = (options & OPT.NUMERIC) !== 0;
  const chains = table.chains.filter((chain) => chainName === null || chain.name === chainName).map((chain) => toListingChain(chain, table, isNumeric, dialect));
  if (chains.length === 0) return null;
  const verbose = (options & OPT.VERBOSE) !== 0;
  const exact = (options & OPT.EXPANDED) !== 0;
  const lineNumbers = (options & OPT.LINENUMBERS) !== 0;
  if (!ruleNumber) return formatIptablesListing(chains, { exact, lineNumbers, verbose });
  // `-L CHAIN N`: that rule's row alone, no heading.
  const layout: ListingLayout = { hasCounters: verbose, hasInterfaces: verbose, isExact: exact, hasLineNumbers: lineNumbers, isTable: true };
  let out = '';
  chains.forEach((chain, i) => {
    if (i > 0) out += '\n';
    const row = chain.rules[ruleNumber - 1];
    if (row) out += formatIptablesRow(row, ruleNumber, layout);
  });
  return out;
}

// FMT_PRINT_RULE: how `iptables -v -A/-I/-D/-C/-R …` shows each rule it is about to apply.
const VERBOSE_RULE_LAYOUT: ListingLayout = { hasCounters: false, hasInterfaces: true, isExact: false, hasLineNumbers: false, isTable: false };

export function formatVerboseRule(rule: IptablesRule, dialect: DialectInfo): string {
  return formatIptablesRow(toListingRow(rule, true, false, dialect), 0, VERBOSE_RULE_LAYOUT);
}

// ---------------------------------------------------------------------------------------------
// `-S`: the rules as iptables-save would write them.

/** xtables_save_string: bare when only [-_0-9A-Za-z], else double-quoted with \ escapes. */
function saveString(value: string): string {
  if (/^[-_0-9a-zA-Z]+$/.test(value)) return ` ${value}`;
  return ` "${value.replace(/["\\']/g, (ch) => `\\${ch}`)}"`;
}

/** `-S [chain [n]]`; with -v (`hasCounters`) the counters as `-c packets bytes`. Null when no chain matched. */
export function listRules(table: IptablesTable, chainName: string | null, ruleNumber: number, hasCounters: boolean, isMacUpperCase = false): string | null {
  let out = '';
  let isFound = false;
  if (!ruleNumber) {
    for (const chain of table.chains) {
      if (chainName !== null && chain.name !== chainName) continue;
      if (chain.isBuiltin) out += `-P ${chain.name} ${chain.policy}${hasCounters ? ` -c ${chain.packets} ${chain.bytes}` : ''}\n`;
      else out += `-N ${chain.name}\n`;
    }
  }
  for (const chain of table.chains) {
    if (chainName !== null && chain.name !== chainName) continue;
    chain.rules.forEach((rule, i) => {
      if (!ruleNumber || i + 1 === ruleNumber) out += saveRule(rule, chain.name, hasCounters, isMacUpperCase);
    });
    isFound = true;
  }
  return isFound ? out : null;
}

function saveRule(rule: IptablesRule, chain: string, hasCounters: boolean, isMacUpperCase: boolean): string {
  const bang = (isInverted: boolean): string => (isInverted ? ' !' : '');
  let out = `-A ${chain}`;
  const ip = (flag: string, match: AddressMatch, isInverted: boolean): string => {
    if (!match.mask && !match.address && !isInverted) return '';
    const suffix = match.mask === 0xffffffff ? '/32' : maskSuffix(match.mask);
    return `${bang(isInverted)} ${flag} ${formatIpv4(match.address)}${suffix}`;
  };
  out += ip('-s', rule.source, rule.invert.source);
  out += ip('-d', rule.destination, rule.invert.destination);
  if (rule.inInterface !== '') out += `${bang(rule.invert.inInterface)} -i ${rule.inInterface}`;
  if (rule.outInterface !== '') out += `${bang(rule.invert.outInterface)} -o ${rule.outInterface}`;
  if (rule.protocol !== 0) out += `${bang(rule.invert.protocol)} -p ${PROTOCOL_NAMES.get(rule.protocol) ?? rule.protocol}`;
  if (rule.isFragment) out += `${bang(rule.invert.fragment)} -f`;
  out += saveMatches(rule, isMacUpperCase);
  if (rule.comment !== null) out += ` -m comment --comment${saveString(rule.comment)}`;
  if (hasCounters) out += ` -c ${rule.packets} ${rule.bytes}`;
  if (rule.target !== '') out += ` -${rule.isGoto ? 'g' : 'j'} ${rule.target}`;
  if (rule.target === 'LOG') {
    if (rule.logPrefix !== '') out += ` --log-prefix${saveString(rule.logPrefix)}`;
    if (rule.logLevel !== 4) out += ` --log-level ${rule.logLevel}`;
  }
  if (rule.target === 'REJECT') out += ` --reject-with ${rule.rejectWith}`;
  return out + '\n';
}
