// iptables' command line, read as iptables 1.4's do_command4() reads it: which command, which
// chain, the rule it describes, and the checks made while reading, in the same order, with the same
// texts (`!` inversion, optional arguments that take the next word unless it starts with '-' or
// '!', -c packet and byte counters, the extensions' options). getopt itself is iptables-getopt.ts;
// running the command is iptables-run.ts. Pure.

import { IptablesGetopt, type ArgKind } from './iptables-getopt.js';
import { addMatchOptions, checkMatchOptions, parseMatchOption } from './iptables-matches.js';
import {
  EXTENSION_MATCHES, EXTENSION_TARGETS, LOG_LEVELS, MAX_NAME, PROTOCOLS, REJECT_TYPES, STANDARD_TARGETS,
} from './iptables-names.js';
import { IptablesExit, USAGE_HINT, parameterProblem as exitWithParameterProblem, type DialectInfo, type RuleSpec } from './iptables-state.js';

export const CMD = {
  NONE: 0, INSERT: 0x1, DELETE: 0x2, DELETE_NUM: 0x4, REPLACE: 0x8, APPEND: 0x10, LIST: 0x20, FLUSH: 0x40,
  ZERO: 0x80, NEW_CHAIN: 0x100, DELETE_CHAIN: 0x200, SET_POLICY: 0x400, RENAME_CHAIN: 0x800,
  LIST_RULES: 0x1000, ZERO_NUM: 0x2000, CHECK: 0x4000,
} as const;
const CMD_FLAGS = ['I', 'D', 'D', 'R', 'A', 'L', 'F', 'Z', 'N', 'X', 'P', 'E', 'S', 'Z', 'C'];
export const OPT = {
  NUMERIC: 0x1, SOURCE: 0x2, DESTINATION: 0x4, PROTOCOL: 0x8, JUMP: 0x10, VERBOSE: 0x20, EXPANDED: 0x40,
  VIANAMEIN: 0x80, VIANAMEOUT: 0x100, LINENUMBERS: 0x200, COUNTERS: 0x400, FRAGMENT: 0x800,
} as const;
const OPT_FLAGS = ['n', 's', 'd', 'p', 'j', 'v', 'x', 'i', 'o', '0', 'c', 'f'];
const OPT_INVERTIBLE = [false, true, true, true, false, false, false, true, true, false, false, true];
// commands_v_options, rows in the 1.4 source's order: INSERT DELETE DELETE_NUM REPLACE APPEND LIST FLUSH
// ZERO ZERO_NUM NEW_CHAIN DEL_CHAIN SET_POLICY RENAME LIST_RULES CHECK. 1.4 indexes it by command bit,
// which from ZERO_NUM on is one row off (so `-P CHAIN POLICY -c P B` is refused); 1.8 fixed that.
const COMMANDS_V_OPTIONS = [
  'x     x  x  ', 'x     x  xx ', 'xxxxx xxxxxx', 'x     x  x  ', 'x     x  x  ', ' xxxx  xx xx',
  'xxxxx xxxxxx', 'xxxxx xxxxxx', 'xxxxx xxxxxx', 'xxxxx xxxxxx', 'xxxxx xxxxxx', 'xxxxx xxxx x',
  'xxxxx xxxxxx', 'xxxxx xxxxxx', 'x     x  xx ',
];

function highestBitChar(flags: readonly string[], bits: number): string {
  let index = 0;
  for (let option = bits; option > 1; option >>= 1) index++;
  return flags[index] ?? '?';
}

export interface ParsedCommand {
  /** CMD bits (a listing may carry ZERO too). */
  command: number;
  table: string;
  chain: string | null;
  ruleNumber: number;
  policy: string | null;
  newName: string | null;
  /** OPT bits. */
  options: number;
  verbose: number;
  spec: RuleSpec;
  /** -s/-d as typed: resolved by the command, after the option checks (iptables' order). */
  sourceText: string | null;
  destinationText: string | null;
  jumpTo: string;
  hasCommentMatch: boolean;
  /** Other matches loaded with -m (mac, time, tcp, udp, sctp). */
  matches: Set<string>;
  counters: { packets: bigint; bytes: bigint } | null;
  printVersion: boolean;
}

function emptySpec(): RuleSpec {
  return {
    source: { address: 0, mask: 0 },
    destination: { address: 0, mask: 0 },
    inInterface: '',
    outInterface: '',
    protocol: 0,
    isFragment: false,
    invert: { source: false, destination: false, inInterface: false, outInterface: false, protocol: false, fragment: false },
    comment: null,
    macSource: null,
    datestop: null,
    portMatch: null,
    sourcePort: null,
    destinationPort: null,
    target: '',
    isGoto: false,
    logPrefix: '',
    logLevel: 4,
    rejectWith: 'icmp-port-unreachable',
  };
}

/** Reads the command line; throws IptablesExit for what iptables refuses while reading. */
export function parseCommandLine(commandLine: readonly string[], dialect: DialectInfo): ParsedCommand {
  const parameterProblem = (message: string): never => exitWithParameterProblem(dialect, message);
  const getopt = new IptablesGetopt(commandLine, parameterProblem);
  const quirk = dialect.hasTrailingNewlineQuirk ? '\n' : '';
  const parsed: ParsedCommand = {
    command: CMD.NONE, table: 'filter', chain: null, ruleNumber: 0, policy: null, newName: null, options: 0,
    verbose: 0, spec: emptySpec(), sourceText: null, destinationText: null, jumpTo: '', hasCommentMatch: false, matches: new Set(),
    counters: null, printVersion: false,
  };
  let invert = false;
  const takePlain = (): string | null => getopt.takePlain();
  const addCommand = (newCommand: number, otherCommands: number): void => {
    if (invert) parameterProblem('unexpected ! flag');
    if (parsed.command & ~otherCommands) {
      parameterProblem(`Cannot use -${highestBitChar(CMD_FLAGS, newCommand)} with -${highestBitChar(CMD_FLAGS, parsed.command & ~otherCommands)}${quirk}`);
    }
    parsed.command |= newCommand;
  };
  const setOption = (option: number): void => {
    const bit = Math.log2(option);
    if (parsed.options & option) parameterProblem(`multiple -${OPT_FLAGS[bit]} flags not allowed`);
    parsed.options |= option;
    if (invert) {
      if (!OPT_INVERTIBLE[bit]) parameterProblem(`cannot have ! before -${OPT_FLAGS[bit]}`);
    }
  };
  const parseRuleNumber = (text: string): number => {
    if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 2147483647) parameterProblem(`Invalid rule number \`${text}'`);
    return Number(text);
  };
  const parseInterface = (name: string): string => {
    if (name === '') parameterProblem('Empty interface is likely to be undesired');
    if (name.length > 15) parameterProblem(`interface name \`${name}' must be shorter than IFNAMSIZ (15)`);
    return name;
  };
  const extensionLongOptions = (): Map<string, ArgKind> => {
    const extra = new Map<string, ArgKind>();
    if (parsed.hasCommentMatch) extra.set('comment', 'required');
    addMatchOptions(parsed.matches, extra, parsed.spec.protocol);
    if (parsed.jumpTo === 'LOG') {
      extra.set('log-prefix', 'required');
      extra.set('log-level', 'required');
    }
    if (parsed.jumpTo === 'REJECT') extra.set('reject-with', 'required');
    return extra;
  };

  while (getopt.hasMore()) {
    const next = getopt.next(extensionLongOptions());
    if (next.type === 'bang') {
      if (invert) parameterProblem('multiple consecutive ! not allowed');
      invert = true;
      continue;
    }
    if (next.type === 'argument') throw new IptablesExit(`Bad argument \`${next.word}'\n${USAGE_HINT}`, 2);
    const { option, optarg, word } = next;

    switch (option) {
      case 'A':
        addCommand(CMD.APPEND, CMD.NONE);
        parsed.chain = optarg;
        break;
      case 'C':
        addCommand(CMD.CHECK, CMD.NONE);
        parsed.chain = optarg;
        break;
      case 'D': {
        addCommand(CMD.DELETE, CMD.NONE);
        parsed.chain = optarg;
        const number = takePlain();
        if (number !== null) {
          parsed.ruleNumber = parseRuleNumber(number);
          parsed.command = CMD.DELETE_NUM;
        }
        break;
      }
      case 'R': {
        addCommand(CMD.REPLACE, CMD.NONE);
        parsed.chain = optarg;
        const number = takePlain();
        if (number === null) parameterProblem('-R requires a rule number');
        parsed.ruleNumber = parseRuleNumber(number as string);
        break;
      }
      case 'I': {
        addCommand(CMD.INSERT, CMD.NONE);
        parsed.chain = optarg;
        const number = takePlain();
        parsed.ruleNumber = number !== null ? parseRuleNumber(number) : 1;
        break;
      }
      case 'L':
      case 'S': {
        addCommand(option === 'L' ? CMD.LIST : CMD.LIST_RULES, CMD.ZERO | CMD.ZERO_NUM);
        if (optarg !== null) parsed.chain = optarg;
        else {
          const chain = takePlain();
          if (chain !== null) parsed.chain = chain;
        }
        const number = takePlain();
        if (number !== null) parsed.ruleNumber = parseRuleNumber(number);
        break;
      }
      case 'F':
      case 'X': {
        addCommand(option === 'F' ? CMD.FLUSH : CMD.DELETE_CHAIN, CMD.NONE);
        if (optarg !== null) parsed.chain = optarg;
        else {
          const chain = takePlain();
          if (chain !== null) parsed.chain = chain;
        }
        break;
      }
      case 'Z': {
        addCommand(CMD.ZERO, CMD.LIST | CMD.LIST_RULES);
        if (optarg !== null) parsed.chain = optarg;
        else {
          const chain = takePlain();
          if (chain !== null) parsed.chain = chain;
        }
        const number = takePlain();
        if (number !== null) {
          parsed.ruleNumber = parseRuleNumber(number);
          parsed.command = CMD.ZERO_NUM;
        }
        break;
      }
      case 'N': {
        const name = optarg as string;
        if (name.startsWith('-') || name.startsWith('!')) parameterProblem(`chain name not allowed to start with \`${name[0]}'${quirk}`);
        if (name === '' || STANDARD_TARGETS.has(name) || EXTENSION_TARGETS.has(name)) parameterProblem(`chain name may not clash with target name${quirk}`);
        addCommand(CMD.NEW_CHAIN, CMD.NONE);
        parsed.chain = name;
        break;
      }
      case 'E': {
        addCommand(CMD.RENAME_CHAIN, CMD.NONE);
        parsed.chain = optarg;
        const newName = takePlain();
        if (newName === null) parameterProblem('-E requires old-chain-name and new-chain-name');
        parsed.newName = newName;
        break;
      }
      case 'P': {
        addCommand(CMD.SET_POLICY, CMD.NONE);
        parsed.chain = optarg;
        const policy = takePlain();
        if (policy === null) parameterProblem('-P requires a chain and a policy');
        parsed.policy = policy;
        break;
      }
      case 'h':
        throw new IptablesExit('', 0); // help text not emulated; real iptables prints it and exits 0
      case 'p': {
        setOption(OPT.PROTOCOL);
        parsed.spec.invert.protocol = invert;
        const name = (optarg as string).toLowerCase();
        let number: number | undefined;
        if (/^\d+$/.test(name) && Number(name) <= 255) number = Number(name);
        else number = PROTOCOLS.find(([protocol]) => protocol === name)?.[1];
        if (number === undefined) parameterProblem(`unknown protocol ${dialect.quoteUnknownProtocol(name)} specified`);
        parsed.spec.protocol = number as number;
        if (number === 0 && invert) parameterProblem('rule would never match protocol');
        break;
      }
      case 's':
        setOption(OPT.SOURCE);
        parsed.spec.invert.source = invert;
        parsed.sourceText = optarg;
        break;
      case 'd':
        setOption(OPT.DESTINATION);
        parsed.spec.invert.destination = invert;
        parsed.destinationText = optarg;
        break;
      case 'g':
      case 'j': {
        setOption(OPT.JUMP);
        const target = optarg as string;
        if (target.length < 1) parameterProblem('Invalid target name (too short)');
        if (target.length >= MAX_NAME) parameterProblem(`Invalid target name \`${target}' (${MAX_NAME - 1} chars max)`);
        if (/\s/.test(target)) parameterProblem(`Invalid target name \`${target}'`);
        parsed.jumpTo = target;
        parsed.spec.isGoto = option === 'g';
        break;
      }
      case 'i':
        parseInterface(optarg as string);
        setOption(OPT.VIANAMEIN);
        parsed.spec.invert.inInterface = invert;
        parsed.spec.inInterface = optarg as string;
        break;
      case 'o':
        parseInterface(optarg as string);
        setOption(OPT.VIANAMEOUT);
        parsed.spec.invert.outInterface = invert;
        parsed.spec.outInterface = optarg as string;
        break;
      case 'f':
        setOption(OPT.FRAGMENT);
        parsed.spec.invert.fragment = invert;
        parsed.spec.isFragment = true;
        break;
      case 'v':
        if (!parsed.verbose) setOption(OPT.VERBOSE);
        parsed.verbose++;
        break;
      case 'w':
      case 'b':
      case '4':
      case 'M':
        break;
      case '6':
        throw new IptablesExit(`This is the IPv4 version of iptables.\n${USAGE_HINT}`, 2);
      case 'm': {
        if (invert) parameterProblem('unexpected ! flag before --match');
        if (!EXTENSION_MATCHES.has(optarg as string)) parameterProblem(`Couldn't load match \`${optarg}':No such file or directory\n`);
        if (optarg === 'comment') parsed.hasCommentMatch = true;
        else parsed.matches.add(optarg as string);
        break;
      }
      case 'n':
        setOption(OPT.NUMERIC);
        break;
      case 't':
        if (invert) parameterProblem('unexpected ! flag before --table');
        parsed.table = optarg as string;
        break;
      case 'x':
        setOption(OPT.EXPANDED);
        break;
      case 'V':
        parsed.printVersion = true;
        return parsed;
      case '0':
        setOption(OPT.LINENUMBERS);
        break;
      case 'c': {
        setOption(OPT.COUNTERS);
        const packetsText = optarg as string;
        const comma = packetsText.indexOf(',', 1);
        const bytesText = comma !== -1 ? packetsText.slice(comma + 1) : takePlain();
        if (bytesText === null) parameterProblem('-c requires packet and byte counter');
        const packets = leadingUnsigned(comma !== -1 ? packetsText.slice(0, comma) : packetsText);
        if (packets === null) parameterProblem('-c packet counter not numeric');
        const bytes = leadingUnsigned(bytesText as string);
        if (bytes === null) parameterProblem('-c byte counter not numeric');
        parsed.counters = { packets: packets as bigint, bytes: bytes as bigint };
        break;
      }
      case '--comment':
        parsed.spec.comment = optarg as string;
        break;
      case '--log-prefix':
        if ((optarg as string).length > 29) parameterProblem('Maximum prefix length 29 for --log-prefix');
        parsed.spec.logPrefix = optarg as string;
        break;
      case '--log-level': {
        const level = /^\d$/.test(optarg as string) && Number(optarg) <= 7 ? Number(optarg) : LOG_LEVELS.find(([name]) => name === optarg)?.[1];
        if (level === undefined) parameterProblem(`log-level \`${optarg}' unknown`);
        parsed.spec.logLevel = level as number;
        break;
      }
      case '--reject-with':
        if (!REJECT_TYPES.includes(optarg as string)) parameterProblem(`unknown reject type "${optarg}"`);
        parsed.spec.rejectWith = optarg as string;
        break;
      default:
        if (!parseMatchOption(word, optarg as string, parsed.spec, parameterProblem)) parameterProblem(`unknown option "${word}"`);
    }
    invert = false;
  }

  if (parsed.table === 'nat' && (parsed.policy === 'DROP' || parsed.jumpTo === 'DROP')) {
    parameterProblem('\nThe "nat" table is not intended for filtering, the use of DROP is therefore inhibited.\n\n');
  }
  if (parsed.hasCommentMatch && parsed.spec.comment === null) parameterProblem('comment: option "--comment" must be specified\n');
  checkMatchOptions(parsed.matches, parsed.spec, parameterProblem);
  if (!parsed.command) parameterProblem('no command specified');
  if (invert) parameterProblem('nothing appropriate following !');
  return parsed;
}

/** sscanf("%llu") on the leading digits, wrapping at 2^64 like the C library does for huge input. */
function leadingUnsigned(text: string): bigint | null {
  const match = /^\s*\+?(\d+)/.exec(text);
  if (!match) return null;
  const value = BigInt(match[1] as string);
  return value > 0xffffffffffffffffn ? 0xffffffffffffffffn : value;
}

/** generic_opt_check: the options each command allows (COMMANDS_V_OPTIONS), made after -s/-d are read. */
export function genericOptionCheck(command: number, options: number, problem: (message: string) => never, dialect: DialectInfo): void {
  const quirk = dialect.hasTrailingNewlineQuirk ? '\n' : '';
  for (let i = 0; i < OPT_FLAGS.length; i++) {
    let legal = 0;
    for (let j = 0; j < COMMANDS_V_OPTIONS.length; j++) {
      if (!(command & (1 << j))) continue;
      const cell = (COMMANDS_V_OPTIONS[dialect.optionRowForBit[j] ?? j] as string)[i];
      if (!(options & (1 << i))) {
        if (cell === '+') problem(`You need to supply the \`-${OPT_FLAGS[i]}' option for this command${quirk}`);
      } else if (cell !== 'x') legal = 1;
      else if (legal === 0) legal = -1;
    }
    if (legal === -1) problem(`Illegal option \`-${OPT_FLAGS[i]}' with this command${quirk}`);
  }
}
