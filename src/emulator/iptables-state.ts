// What the emulated iptables keeps: tables of chains of rules with their counters, as libiptc holds
// them, the version dialects, the operations a command applies to a table, and the exit paths that
// turn a failure into stderr + status. Pure: no I/O.

import type { AddressMatch } from './iptables-names.js';

export type IptablesDialect = '1.4.21' | '1.8.9-legacy';

export interface DialectInfo {
  /** Printed before parameter-problem messages: `iptables v1.4.21: …`. */
  banner: string;
  /** 1.8.9 prints protocol numbers (0, 6, 17) with -n; 1.4 prints names (all, tcp, udp). */
  hasNumericProtocols: boolean;
  /** 1.4 quotes `like this'; newer libxtables "like this". */
  quoteUnknownProtocol: (name: string) => string;
  /** 1.4 messages that ended in "\n" (so a blank line precedes "Try `iptables -h'…"); 1.8 trimmed them. */
  hasTrailingNewlineQuirk: boolean;
  /** Row of commands_v_options for command bit j (see COMMANDS_V_OPTIONS in iptables-argv.ts). */
  optionRowForBit: readonly number[];
  /** Name of log level 4 in `-L` without -n. */
  warningLevelName: string;
  /** libxt_mac prints a MAC with "%02X" in 1.4 (print_mac), lower case in 1.8 (xtables_print_mac). */
  isMacUpperCase: boolean;
}

export const DIALECTS: Record<IptablesDialect, DialectInfo> = {
  '1.4.21': {
    banner: 'iptables v1.4.21',
    hasNumericProtocols: false,
    quoteUnknownProtocol: (name) => `\`${name}'`,
    hasTrailingNewlineQuirk: true,
    optionRowForBit: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14],
    warningLevelName: 'warning',
    isMacUpperCase: true,
  },
  '1.8.9-legacy': {
    banner: 'iptables v1.8.9 (legacy)',
    hasNumericProtocols: true,
    quoteUnknownProtocol: (name) => `"${name}"`,
    hasTrailingNewlineQuirk: false,
    optionRowForBit: [0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 8, 14],
    warningLevelName: 'warn',
    isMacUpperCase: false,
  },
};

export interface IptablesResult {
  stdout: string;
  stderr: string;
  /** 0 ok, 1 OTHER_PROBLEM, 2 PARAMETER_PROBLEM, 3 VERSION_PROBLEM. */
  status: number;
}

export interface RuleSpec {
  source: AddressMatch;
  destination: AddressMatch;
  /** '' = any interface; a trailing '+' is a prefix wildcard. */
  inInterface: string;
  outInterface: string;
  /** IP protocol number; 0 = all. */
  protocol: number;
  isFragment: boolean;
  invert: { source: boolean; destination: boolean; inInterface: boolean; outInterface: boolean; protocol: boolean; fragment: boolean };
  comment: string | null;
  /** `-m mac --mac-source` (lower case) and `-m time --datestop` (unix seconds, UTC): iptables-matches.ts. */
  macSource: string | null;
  datestop: number | null;
  /** `-m tcp|udp|sctp` (loaded by name or by `-p`) with `--sport`/`--dport` (issue 19's class rules); null: none. */
  portMatch: 'tcp' | 'udp' | 'sctp' | null;
  sourcePort: number | null;
  destinationPort: number | null;
  /** '' when the rule has no target (it only counts). */
  target: string;
  isGoto: boolean;
  /** LOG: --log-prefix / --log-level; REJECT: --reject-with. */
  logPrefix: string;
  logLevel: number;
  rejectWith: string;
}

export interface IptablesRule extends RuleSpec {
  packets: bigint;
  bytes: bigint;
}

export interface IptablesChain {
  name: string;
  isBuiltin: boolean;
  /** ACCEPT/DROP for built-in chains, null for user chains. */
  policy: string | null;
  /** Policy counters (packets that fell off the end of a built-in chain). */
  packets: bigint;
  bytes: bigint;
  rules: IptablesRule[];
}

export interface IptablesTable {
  name: string;
  /** Built-in chains in hook order, then user chains sorted by name (as libiptc keeps them). */
  chains: IptablesChain[];
}

export interface IptablesState {
  dialect: IptablesDialect;
  tables: Map<string, IptablesTable>;
}

const BUILTIN_CHAINS: Record<string, string[]> = {
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
};

export function createIptablesState(dialect: IptablesDialect = '1.4.21'): IptablesState {
  const tables = new Map<string, IptablesTable>();
  for (const [name, chains] of Object.entries(BUILTIN_CHAINS)) {
    tables.set(name, {
      name,
      chains: chains.map((chain) => ({ name: chain, isBuiltin: true, policy: 'ACCEPT', packets: 0n, bytes: 0n, rules: [] })),
    });
  }
  return { dialect, tables };
}

// ---------------------------------------------------------------------------------------------
// Exit paths: thrown while a command runs and turned into stderr + status by runIptables, as
// iptables' exit_error() calls end the program.

export class IptablesExit extends Error {
  constructor(
    readonly stderr: string,
    readonly status: number,
  ) {
    super(stderr);
  }
}

export const USAGE_HINT = "Try `iptables -h' or 'iptables --help' for more information.\n";

/** PARAMETER_PROBLEM (status 2): the banner, the message, the usage hint. */
export function parameterProblem(dialect: DialectInfo, message: string): never {
  throw new IptablesExit(`${dialect.banner}: ${message}\n${USAGE_HINT}`, 2);
}

/** OTHER_PROBLEM (status 1): what libiptc's iptc_strerror said. */
export function otherProblem(message: string): never {
  throw new IptablesExit(`iptables: ${message}.\n`, 1);
}

export function invalidArgument(message = 'Invalid argument'): never {
  throw new IptablesExit(`iptables: ${message}. Run \`dmesg' for more information.\n`, 1);
}

export const NO_CHAIN = 'No chain/target/match by that name';

// ---------------------------------------------------------------------------------------------
// Table operations (libiptc's handle: a command works on a copy, committed only on success).

export function cloneTable(table: IptablesTable): IptablesTable {
  return {
    name: table.name,
    chains: table.chains.map((chain) => ({ ...chain, rules: chain.rules.map((rule) => ({ ...rule, invert: { ...rule.invert }, source: { ...rule.source }, destination: { ...rule.destination } })) })),
  };
}

export function insertUserChain(table: IptablesTable, chain: IptablesChain): void {
  const builtins = table.chains.filter((c) => c.isBuiltin);
  const users = [...table.chains.filter((c) => !c.isBuiltin), chain].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  table.chains = [...builtins, ...users];
}

/** How many rules jump or go to the chain: the "(N references)" of `-L`, and what blocks `-X`. */
export function referenceCount(table: IptablesTable, name: string): number {
  let count = 0;
  for (const chain of table.chains) for (const rule of chain.rules) if (rule.target === name) count++;
  return count;
}

/** `-Z [chain]`: zeroes rule and policy counters; with -v says which chains. */
export function zeroChains(table: IptablesTable, chainName: string | null, isVerbose: boolean): string {
  const chains = chainName === null ? table.chains : [table.chains.find((c) => c.name === chainName) ?? otherProblem(NO_CHAIN)];
  let out = '';
  for (const chain of chains) {
    if (isVerbose) out += `Zeroing chain \`${chain.name}'\n`;
    chain.packets = 0n;
    chain.bytes = 0n;
    for (const rule of chain.rules) {
      rule.packets = 0n;
      rule.bytes = 0n;
    }
  }
  return out;
}

/** The fields `iptables -D/-C` compare (everything but the counters). */
export function isSameRule(a: RuleSpec, b: RuleSpec): boolean {
  return (
    a.source.address === b.source.address && a.source.mask === b.source.mask &&
    a.destination.address === b.destination.address && a.destination.mask === b.destination.mask &&
    a.inInterface === b.inInterface && a.outInterface === b.outInterface && a.protocol === b.protocol &&
    a.isFragment === b.isFragment && a.invert.source === b.invert.source && a.invert.destination === b.invert.destination &&
    a.invert.inInterface === b.invert.inInterface && a.invert.outInterface === b.invert.outInterface &&
    a.invert.protocol === b.invert.protocol && a.invert.fragment === b.invert.fragment && a.comment === b.comment &&
    a.macSource === b.macSource && a.datestop === b.datestop &&
    a.portMatch === b.portMatch && a.sourcePort === b.sourcePort && a.destinationPort === b.destinationPort &&
    a.target === b.target && a.isGoto === b.isGoto &&
    (a.target !== 'LOG' || (a.logPrefix === b.logPrefix && a.logLevel === b.logLevel)) &&
    (a.target !== 'REJECT' || a.rejectWith === b.rejectWith)
  );
}
