// An iptables (legacy, IPv4) that behaves like the real program on a Broadcom router, for the
// emulated router: same command-line parsing (GNU getopt rules, `!` inversion, optional arguments
// that take the next word unless it starts with '-' or '!'), same checks in the same order, same
// error texts and exit statuses, same listing layout byte for byte, and kernel-like rule traversal
// for simulated packets so counters grow only where rules match. Pure: no I/O, state passed in.
//
// Modelled on iptables 1.4.20/1.4.21 (iptables/iptables.c, libiptc, libxtables), the generation
// Broadcom SDKs ship, and checked byte for byte against captures of this machine's iptables-legacy
// 1.8.9 (testdata/iptables-1.8.9-legacy.json, dialect '1.8.9-legacy'). The dialects differ only
// where upstream changed texts between those versions (see DIALECTS).
//
// Emulated: tables filter/nat/mangle; -A -C -D (spec and number) -I [n] -R -L [chain [n]] -S -F -Z
// [n] -N -X -E -P; -s -d -i -o -p -f with `!`; -j/-g to ACCEPT DROP RETURN QUEUE, user chains, LOG,
// REJECT; -m comment --comment; -c; -v -x -n --line-numbers -w. Not emulated: other matches
// (state, tcp ports…), other targets, host names in addresses, loop detection on commit.

export type IptablesDialect = '1.4.21' | '1.8.9-legacy';

interface DialectInfo {
  /** Printed before parameter-problem messages: `iptables v1.4.21: …`. */
  banner: string;
  /** 1.8.9 prints protocol numbers (0, 6, 17) with -n; 1.4 prints names (all, tcp, udp). */
  hasNumericProtocols: boolean;
  /** 1.4 quotes `like this'; newer libxtables "like this". */
  quoteUnknownProtocol: (name: string) => string;
  /** 1.4 messages that ended in "\n" (so a blank line precedes "Try `iptables -h'…"); 1.8 trimmed them. */
  hasTrailingNewlineQuirk: boolean;
  /** Row of commands_v_options for command bit j (see COMMANDS_V_OPTIONS). */
  optionRowForBit: readonly number[];
  /** Name of log level 4 in `-L` without -n. */
  warningLevelName: string;
}

const DIALECTS: Record<IptablesDialect, DialectInfo> = {
  '1.4.21': {
    banner: 'iptables v1.4.21',
    hasNumericProtocols: false,
    quoteUnknownProtocol: (name) => `\`${name}'`,
    hasTrailingNewlineQuirk: true,
    optionRowForBit: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14],
    warningLevelName: 'warning',
  },
  '1.8.9-legacy': {
    banner: 'iptables v1.8.9 (legacy)',
    hasNumericProtocols: true,
    quoteUnknownProtocol: (name) => `"${name}"`,
    hasTrailingNewlineQuirk: false,
    optionRowForBit: [0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 8, 14],
    warningLevelName: 'warn',
  },
};

export interface IptablesResult {
  stdout: string;
  stderr: string;
  /** 0 ok, 1 OTHER_PROBLEM, 2 PARAMETER_PROBLEM, 3 VERSION_PROBLEM. */
  status: number;
}

export interface AddressMatch {
  /** IPv4 address as an unsigned 32-bit number, already masked. */
  address: number;
  mask: number;
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
// Errors: thrown inside runIptables and turned into stderr + status, as iptables' exit paths do.

class IptablesExit extends Error {
  constructor(
    readonly stderr: string,
    readonly status: number,
  ) {
    super(stderr);
  }
}

const MAX_NAME = 29; // XT_EXTENSION_MAXNAMELEN

// Standard verdicts resolve to the "standard" target in xtables_find_target; LOG and REJECT are the
// extension targets this firmware image ships. Names here clash with `-N`.
const STANDARD_TARGETS = new Set(['ACCEPT', 'DROP', 'QUEUE', 'RETURN']);
const EXTENSION_TARGETS = new Set(['LOG', 'REJECT']);
const EXTENSION_MATCHES = new Set(['comment']);

const PROTOCOLS: ReadonlyArray<[string, number]> = [
  ['all', 0], ['icmp', 1], ['igmp', 2], ['tcp', 6], ['udp', 17], ['ipv6', 41], ['gre', 47], ['esp', 50],
  ['ah', 51], ['ipv6-icmp', 58], ['sctp', 132], ['udplite', 136],
];
// xtables_chain_protos: what `-L -n` may print by name in 1.4 (proto_to_name with nolookup).
const CHAIN_PROTOS = new Map<number, string>([
  [6, 'tcp'], [132, 'sctp'], [17, 'udp'], [136, 'udplite'], [1, 'icmp'], [58, 'icmpv6'], [50, 'esp'], [51, 'ah'], [135, 'mh'], [0, 'all'],
]);
const PROTOCOL_NAMES = new Map<number, string>(PROTOCOLS.filter(([name]) => name !== 'all').map(([name, num]) => [num, name]));

const REJECT_TYPES = [
  'icmp-net-unreachable', 'icmp-host-unreachable', 'icmp-port-unreachable', 'icmp-proto-unreachable',
  'icmp-net-prohibited', 'icmp-host-prohibited', 'icmp-admin-prohibited', 'tcp-reset',
];
const LOG_LEVELS: ReadonlyArray<[string, number]> = [
  ['emerg', 0], ['alert', 1], ['crit', 2], ['error', 3], ['warning', 4], ['notice', 5], ['info', 6], ['debug', 7],
];

// ---------------------------------------------------------------------------------------------
// Addresses

export function parseIpv4(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return null;
    const n = Number(part);
    if (n > 255) return null;
    value = value * 256 + n;
  }
  return value >>> 0;
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join('.');
}

function prefixMask(bits: number): number {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

/** "/24", "" for a host mask, "/255.255.0.255" for a non-contiguous one (xtables_ipmask_to_numeric). */
function maskSuffix(mask: number): string {
  if (mask === 0xffffffff) return '';
  for (let bits = 0; bits <= 32; bits++) if (prefixMask(bits) === mask) return `/${bits}`;
  return `/${formatIpv4(mask)}`;
}

function parseAddressList(text: string, fail: (message: string) => never): AddressMatch[] {
  return text.split(',').map((item) => {
    const slash = item.indexOf('/');
    const host = slash === -1 ? item : item.slice(0, slash);
    let mask = 0xffffffff;
    if (slash !== -1) {
      const maskText = item.slice(slash + 1);
      const dotted = parseIpv4(maskText);
      if (dotted !== null) mask = dotted;
      else if (/^\d+$/.test(maskText) && Number(maskText) <= 32) mask = prefixMask(Number(maskText));
      else fail(`invalid mask \`${maskText}' specified`);
    }
    const address = parseIpv4(host);
    // The router has no resolver for LAN names; iptables says "not found" for anything unresolvable.
    if (address === null) fail(`host/network \`${host}' not found`);
    return { address: (address & mask) >>> 0, mask };
  });
}

function interfaceMatches(ruleName: string, packetName: string): boolean {
  if (ruleName === '') return true;
  if (ruleName.endsWith('+')) return packetName.startsWith(ruleName.slice(0, -1));
  return ruleName === packetName;
}

// ---------------------------------------------------------------------------------------------
// Command line (getopt_long with optstring "-:A:C:D:R:I:L::S::M:F::Z::N:X::E:P:Vh::o:p:s:d:j:i:fbvwnt:m:xc:g:46")

type ArgKind = 'none' | 'required' | 'optional';
const SHORT_OPTIONS: Record<string, ArgKind> = {
  A: 'required', C: 'required', D: 'required', R: 'required', I: 'required', L: 'optional', S: 'optional',
  M: 'required', F: 'optional', Z: 'optional', N: 'required', X: 'optional', E: 'required', P: 'required',
  V: 'none', h: 'optional', o: 'required', p: 'required', s: 'required', d: 'required', j: 'required',
  i: 'required', f: 'none', b: 'none', v: 'none', w: 'none', n: 'none', t: 'required', m: 'required',
  x: 'none', c: 'required', g: 'required', '4': 'none', '6': 'none',
};
const LONG_OPTIONS: ReadonlyArray<[string, string]> = [
  ['append', 'A'], ['delete', 'D'], ['check', 'C'], ['insert', 'I'], ['replace', 'R'], ['list', 'L'],
  ['list-rules', 'S'], ['flush', 'F'], ['zero', 'Z'], ['new-chain', 'N'], ['delete-chain', 'X'],
  ['rename-chain', 'E'], ['policy', 'P'], ['source', 's'], ['destination', 'd'], ['src', 's'], ['dst', 'd'],
  ['protocol', 'p'], ['in-interface', 'i'], ['jump', 'j'], ['table', 't'], ['match', 'm'], ['numeric', 'n'],
  ['out-interface', 'o'], ['verbose', 'v'], ['wait', 'w'], ['exact', 'x'], ['fragments', 'f'], ['version', 'V'],
  ['help', 'h'], ['line-numbers', '0'], ['modprobe', 'M'], ['set-counters', 'c'], ['goto', 'g'], ['ipv4', '4'],
  ['ipv6', '6'],
];
const LONG_KIND: Record<string, ArgKind> = { ...SHORT_OPTIONS, '0': 'none' };

const CMD = {
  NONE: 0, INSERT: 0x1, DELETE: 0x2, DELETE_NUM: 0x4, REPLACE: 0x8, APPEND: 0x10, LIST: 0x20, FLUSH: 0x40,
  ZERO: 0x80, NEW_CHAIN: 0x100, DELETE_CHAIN: 0x200, SET_POLICY: 0x400, RENAME_CHAIN: 0x800,
  LIST_RULES: 0x1000, ZERO_NUM: 0x2000, CHECK: 0x4000,
} as const;
const CMD_FLAGS = ['I', 'D', 'D', 'R', 'A', 'L', 'F', 'Z', 'N', 'X', 'P', 'E', 'S', 'Z', 'C'];
const OPT = {
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

interface ParsedCommand {
  command: number;
  table: string;
  chain: string | null;
  ruleNumber: number;
  policy: string | null;
  newName: string | null;
  options: number;
  verbose: number;
  spec: RuleSpec;
  sourceText: string | null;
  destinationText: string | null;
  jumpTo: string;
  hasCommentMatch: boolean;
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
    target: '',
    isGoto: false,
    logPrefix: '',
    logLevel: 4,
    rejectWith: 'icmp-port-unreachable',
  };
}

function parseCommandLine(commandLine: readonly string[], dialect: DialectInfo): ParsedCommand {
  const argv = [...commandLine];
  const parameterProblem = (message: string): never => {
    throw new IptablesExit(`${dialect.banner}: ${message}\nTry \`iptables -h' or 'iptables --help' for more information.\n`, 2);
  };
  const quirk = dialect.hasTrailingNewlineQuirk ? '\n' : '';
  const parsed: ParsedCommand = {
    command: CMD.NONE, table: 'filter', chain: null, ruleNumber: 0, policy: null, newName: null, options: 0,
    verbose: 0, spec: emptySpec(), sourceText: null, destinationText: null, jumpTo: '', hasCommentMatch: false,
    counters: null, printVersion: false,
  };
  let invert = false;
  let index = 0;
  const peekPlain = (): string | null => {
    const next = argv[index];
    return next !== undefined && !next.startsWith('-') && !next.startsWith('!') ? next : null;
  };
  const takePlain = (): string | null => {
    const next = peekPlain();
    if (next !== null) index++;
    return next;
  };
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
    if (parsed.jumpTo === 'LOG') {
      extra.set('log-prefix', 'required');
      extra.set('log-level', 'required');
    }
    if (parsed.jumpTo === 'REJECT') extra.set('reject-with', 'required');
    return extra;
  };

  while (index < argv.length) {
    const word = argv[index++] as string;
    let option: string;
    let optarg: string | null = null;
    if (word.startsWith('--') && word.length > 2) {
      const eq = word.indexOf('=');
      const name = word.slice(2, eq === -1 ? undefined : eq);
      const inline = eq === -1 ? null : word.slice(eq + 1);
      const extra = extensionLongOptions();
      const candidates: Array<[string, string, ArgKind]> = [
        ...LONG_OPTIONS.map(([long, short]): [string, string, ArgKind] => [long, short, LONG_KIND[short] ?? 'none']),
        ...[...extra].map(([long, kind]): [string, string, ArgKind] => [long, `--${long}`, kind]),
      ];
      const exact = candidates.filter(([long]) => long === name);
      const prefixed = candidates.filter(([long]) => long.startsWith(name));
      const uniqueTargets = new Set(prefixed.map(([, short]) => short));
      const match = exact[0] ?? (uniqueTargets.size === 1 ? prefixed[0] : undefined);
      if (!match) parameterProblem(`unknown option "${word}"`);
      const [, short, kind] = match as [string, string, ArgKind];
      option = short;
      if (kind === 'required') {
        optarg = inline ?? argv[index++] ?? null;
        if (optarg === null) parameterProblem(`option "${word}" requires an argument`);
      } else if (kind === 'optional') {
        optarg = inline;
      } else if (inline !== null) {
        parameterProblem(`unknown option "${word}"`);
      }
    } else if (word.startsWith('-') && word.length > 1 && !word.startsWith('--')) {
      // One short option per loop turn; the rest of a cluster is handled by re-queueing it.
      const letter = word[1] as string;
      const rest = word.slice(2);
      const kind = SHORT_OPTIONS[letter];
      if (kind === undefined) parameterProblem(`unknown option "${word}"`);
      option = letter;
      if (kind === 'required') {
        optarg = rest !== '' ? rest : (argv[index++] ?? null);
        if (optarg === null) parameterProblem(`option "${word}" requires an argument`);
      } else if (kind === 'optional') {
        optarg = rest !== '' ? rest : null;
      } else if (rest !== '') {
        // "-vnx": process "-v" now, "-nx" next.
        argv.splice(index, 0, `-${rest}`);
      }
    } else {
      if (word === '!') {
        if (invert) parameterProblem('multiple consecutive ! not allowed');
        invert = true;
        continue;
      }
      throw new IptablesExit(`Bad argument \`${word}'\nTry \`iptables -h' or 'iptables --help' for more information.\n`, 2);
    }

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
        throw new IptablesExit("This is the IPv4 version of iptables.\nTry `iptables -h' or 'iptables --help' for more information.\n", 2);
      case 'm': {
        if (invert) parameterProblem('unexpected ! flag before --match');
        if (!EXTENSION_MATCHES.has(optarg as string)) parameterProblem(`Couldn't load match \`${optarg}':No such file or directory\n`);
        parsed.hasCommentMatch = true;
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
        parameterProblem(`unknown option "${word}"`);
    }
    invert = false;
  }

  if (parsed.table === 'nat' && (parsed.policy === 'DROP' || parsed.jumpTo === 'DROP')) {
    parameterProblem('\nThe "nat" table is not intended for filtering, the use of DROP is therefore inhibited.\n\n');
  }
  if (parsed.hasCommentMatch && parsed.spec.comment === null) parameterProblem('comment: option "--comment" must be specified\n');
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

function genericOptionCheck(command: number, options: number, problem: (message: string) => never, dialect: DialectInfo): void {
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

// ---------------------------------------------------------------------------------------------
// Running a command

/** Runs `iptables <argv>` against the state, changing it only when the whole command succeeds. */
export function runIptables(state: IptablesState, argv: readonly string[]): IptablesResult {
  const dialect = DIALECTS[state.dialect];
  try {
    const parsed = parseCommandLine(argv, dialect);
    if (parsed.printVersion) return { stdout: `${dialect.banner}\n`, stderr: '', status: 0 };
    return execute(state, parsed, dialect);
  } catch (error) {
    if (error instanceof IptablesExit) return { stdout: '', stderr: error.stderr, status: error.status };
    throw error;
  }
}

function otherProblem(message: string): never {
  throw new IptablesExit(`iptables: ${message}.\n`, 1);
}
function invalidArgument(message = 'Invalid argument'): never {
  throw new IptablesExit(`iptables: ${message}. Run \`dmesg' for more information.\n`, 1);
}
const NO_CHAIN = 'No chain/target/match by that name';

function execute(state: IptablesState, parsed: ParsedCommand, dialect: DialectInfo): IptablesResult {
  const problem = (message: string): never => {
    throw new IptablesExit(`${dialect.banner}: ${message}\nTry \`iptables -h' or 'iptables --help' for more information.\n`, 2);
  };
  const quirk = dialect.hasTrailingNewlineQuirk ? '\n' : '';
  const { command } = parsed;
  const isRuleCommand = (command & (CMD.REPLACE | CMD.INSERT | CMD.DELETE | CMD.APPEND | CMD.CHECK)) !== 0;
  let sources: AddressMatch[] = [];
  let destinations: AddressMatch[] = [];
  if (isRuleCommand || parsed.sourceText !== null) sources = parseAddressList(parsed.sourceText ?? '0.0.0.0/0', problem);
  if (isRuleCommand || parsed.destinationText !== null) destinations = parseAddressList(parsed.destinationText ?? '0.0.0.0/0', problem);
  if ((sources.length > 1 || destinations.length > 1) && (parsed.spec.invert.source || parsed.spec.invert.destination)) {
    problem('! not allowed with multiple source or destination IP addresses');
  }
  if (command === CMD.REPLACE && (sources.length !== 1 || destinations.length !== 1)) problem('Replacement rule does not specify a unique address');
  genericOptionCheck(command, parsed.options, problem, dialect);
  if (parsed.chain !== null && parsed.chain.length >= MAX_NAME) problem(`chain name \`${parsed.chain}' too long (must be under ${MAX_NAME} chars)`);

  const original = state.tables.get(parsed.table);
  if (!original) {
    throw new IptablesExit(
      `${dialect.banner}: can't initialize iptables table \`${parsed.table}': Table does not exist (do you need to insmod?)\nPerhaps iptables or your kernel needs to be upgraded.\n`,
      3,
    );
  }
  // Work on a copy and commit only on success, like libiptc's handle + iptc_commit.
  const table = cloneTable(original);
  const chainName = parsed.chain;
  const findChain = (name: string | null): IptablesChain | undefined => (name === null ? undefined : table.chains.find((c) => c.name === name));
  let stdout = '';

  if (isRuleCommand) {
    const chain = chainName as string;
    if (chain === 'PREROUTING' || chain === 'INPUT') {
      if (parsed.options & OPT.VIANAMEOUT) problem(`Can't use -o with ${chain}\n`);
    }
    if (chain === 'POSTROUTING' || chain === 'OUTPUT') {
      if (parsed.options & OPT.VIANAMEIN) problem(`Can't use -i with ${chain}\n`);
    }
    const jump = parsed.jumpTo;
    const isChainTarget = jump !== '' && findChain(jump) !== undefined && !findChain(jump)?.isBuiltin;
    if (jump !== '' && !isChainTarget && !STANDARD_TARGETS.has(jump) && !EXTENSION_TARGETS.has(jump)) {
      if (parsed.spec.isGoto) problem(`goto '${jump}' is not a chain\n`);
      problem(`Couldn't load target \`${jump}':No such file or directory\n`);
    }
    parsed.spec.target = jump;
  }

  const ruleFor = (source: AddressMatch, destination: AddressMatch): IptablesRule => ({
    ...structuredClone(parsed.spec),
    source,
    destination,
    packets: parsed.counters?.packets ?? 0n,
    bytes: parsed.counters?.bytes ?? 0n,
  });
  const eachAddressPair = (fn: (rule: IptablesRule) => void): void => {
    for (const source of sources) for (const destination of destinations) fn(ruleFor(source, destination));
  };
  const verboseLine = (rule: IptablesRule): void => {
    if (parsed.options & OPT.VERBOSE) stdout += formatRule(rule, 0, FMT.PRINT_RULE, table, dialect);
  };

  switch (command) {
    case CMD.APPEND: {
      const chain = findChain(chainName) ?? otherProblem(NO_CHAIN);
      eachAddressPair((rule) => {
        verboseLine(rule);
        chain.rules.push(rule);
      });
      break;
    }
    case CMD.INSERT: {
      const chain = findChain(chainName);
      let position = parsed.ruleNumber - 1;
      eachAddressPair((rule) => {
        verboseLine(rule);
        if (!chain) otherProblem(NO_CHAIN);
        if (position > chain.rules.length) otherProblem('Index of insertion too big');
        chain.rules.splice(position, 0, rule);
        position++;
      });
      break;
    }
    case CMD.REPLACE: {
      const chain = findChain(chainName) ?? otherProblem(NO_CHAIN);
      eachAddressPair((rule) => {
        verboseLine(rule);
        if (parsed.ruleNumber - 1 >= chain.rules.length) otherProblem('Index of replacement too big');
        chain.rules[parsed.ruleNumber - 1] = rule;
      });
      break;
    }
    case CMD.DELETE:
    case CMD.CHECK: {
      const chain = findChain(chainName);
      eachAddressPair((rule) => {
        verboseLine(rule);
        if (!chain) otherProblem(NO_CHAIN);
        const at = chain.rules.findIndex((existing) => isSameRule(existing, rule));
        if (at === -1) otherProblem('Bad rule (does a matching rule exist in that chain?)');
        if (command === CMD.DELETE) chain.rules.splice(at, 1);
      });
      break;
    }
    case CMD.DELETE_NUM: {
      const chain = findChain(chainName) ?? otherProblem(NO_CHAIN);
      if (parsed.ruleNumber - 1 >= chain.rules.length) otherProblem('Index of deletion too big');
      chain.rules.splice(parsed.ruleNumber - 1, 1);
      break;
    }
    case CMD.FLUSH: {
      const chains = chainName === null ? table.chains : [findChain(chainName) ?? otherProblem(NO_CHAIN)];
      for (const chain of chains) {
        if (parsed.options & OPT.VERBOSE) stdout += `Flushing chain \`${chain.name}'\n`;
        chain.rules = [];
      }
      break;
    }
    case CMD.ZERO:
      stdout += zeroChains(table, chainName, (parsed.options & OPT.VERBOSE) !== 0);
      break;
    case CMD.ZERO_NUM: {
      const chain = findChain(chainName) ?? otherProblem(NO_CHAIN);
      const rule = chain.rules[parsed.ruleNumber - 1] ?? otherProblem('Index of counter too big');
      rule.packets = 0n;
      rule.bytes = 0n;
      break;
    }
    case CMD.LIST:
    case CMD.LIST | CMD.ZERO:
    case CMD.LIST | CMD.ZERO_NUM:
    case CMD.LIST_RULES:
    case CMD.LIST_RULES | CMD.ZERO:
    case CMD.LIST_RULES | CMD.ZERO_NUM: {
      const isRules = (command & CMD.LIST_RULES) !== 0;
      const listing = isRules
        ? listRules(table, chainName, parsed.ruleNumber, (parsed.options & OPT.VERBOSE) !== 0)
        : listEntries(table, chainName, parsed.ruleNumber, parsed.options, dialect);
      if (listing === null) otherProblem(NO_CHAIN);
      stdout += listing;
      if (command & CMD.ZERO) stdout += zeroChains(table, chainName, (parsed.options & OPT.VERBOSE) !== 0);
      if (command & CMD.ZERO_NUM) {
        const rule = findChain(chainName)?.rules[parsed.ruleNumber - 1] ?? otherProblem('Index of counter too big');
        rule.packets = 0n;
        rule.bytes = 0n;
      }
      break;
    }
    case CMD.NEW_CHAIN: {
      const name = chainName as string;
      if (findChain(name)) otherProblem('Chain already exists');
      insertUserChain(table, { name, isBuiltin: false, policy: null, packets: 0n, bytes: 0n, rules: [] });
      break;
    }
    case CMD.DELETE_CHAIN: {
      const names = chainName === null ? table.chains.filter((c) => !c.isBuiltin).map((c) => c.name) : [chainName];
      let failure: (() => never) | null = null;
      for (const name of names) {
        if (parsed.options & OPT.VERBOSE) stdout += `Deleting chain \`${name}'\n`;
        const chain = findChain(name);
        if (!chain) failure = () => otherProblem(NO_CHAIN);
        else if (chain.isBuiltin) failure = () => invalidArgument();
        else if (referenceCount(table, name) > 0) failure = () => otherProblem('Too many links');
        else if (chain.rules.length > 0) failure = () => otherProblem('Directory not empty');
        else table.chains = table.chains.filter((c) => c !== chain);
      }
      // libiptc goes on through every chain, then refuses to commit if any failed.
      if (failure) failure();
      break;
    }
    case CMD.RENAME_CHAIN: {
      const chain = findChain(chainName) ?? otherProblem(NO_CHAIN);
      const newName = parsed.newName as string;
      if (findChain(newName)) otherProblem('File exists');
      if (chain.isBuiltin) invalidArgument();
      for (const other of table.chains) for (const rule of other.rules) if (rule.target === chain.name) rule.target = newName;
      table.chains = table.chains.filter((c) => c !== chain);
      insertUserChain(table, { ...chain, name: newName });
      break;
    }
    case CMD.SET_POLICY: {
      const chain = findChain(chainName);
      if (!chain || !chain.isBuiltin) otherProblem('Bad built-in chain name');
      if (parsed.policy !== 'ACCEPT' && parsed.policy !== 'DROP') invalidArgument('Bad policy name');
      chain.policy = parsed.policy;
      if (parsed.counters) {
        chain.packets = parsed.counters.packets;
        chain.bytes = parsed.counters.bytes;
      }
      break;
    }
    default:
      throw new IptablesExit("Try `iptables -h' or 'iptables --help' for more information.\n", 2);
  }
  state.tables.set(table.name, table);
  return { stdout, stderr: '', status: 0 };
}

function cloneTable(table: IptablesTable): IptablesTable {
  return {
    name: table.name,
    chains: table.chains.map((chain) => ({ ...chain, rules: chain.rules.map((rule) => ({ ...rule, invert: { ...rule.invert }, source: { ...rule.source }, destination: { ...rule.destination } })) })),
  };
}

function insertUserChain(table: IptablesTable, chain: IptablesChain): void {
  const builtins = table.chains.filter((c) => c.isBuiltin);
  const users = [...table.chains.filter((c) => !c.isBuiltin), chain].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  table.chains = [...builtins, ...users];
}

function referenceCount(table: IptablesTable, name: string): number {
  let count = 0;
  for (const chain of table.chains) for (const rule of chain.rules) if (rule.target === name) count++;
  return count;
}

function zeroChains(table: IptablesTable, chainName: string | null, isVerbose: boolean): string {
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
function isSameRule(a: RuleSpec, b: RuleSpec): boolean {
  return (
    a.source.address === b.source.address && a.source.mask === b.source.mask &&
    a.destination.address === b.destination.address && a.destination.mask === b.destination.mask &&
    a.inInterface === b.inInterface && a.outInterface === b.outInterface && a.protocol === b.protocol &&
    a.isFragment === b.isFragment && a.invert.source === b.invert.source && a.invert.destination === b.invert.destination &&
    a.invert.inInterface === b.invert.inInterface && a.invert.outInterface === b.invert.outInterface &&
    a.invert.protocol === b.invert.protocol && a.invert.fragment === b.invert.fragment && a.comment === b.comment &&
    a.target === b.target && a.isGoto === b.isGoto &&
    (a.target !== 'LOG' || (a.logPrefix === b.logPrefix && a.logLevel === b.logLevel)) &&
    (a.target !== 'REJECT' || a.rejectWith === b.rejectWith)
  );
}

// ---------------------------------------------------------------------------------------------
// Listing: print_header / print_firewall / xtables_print_num of iptables 1.4, format flags and all.

const FMT = {
  NUMERIC: 0x1, NOCOUNTS: 0x2, KILOMEGAGIGA: 0x4, OPTIONS: 0x8, NOTABLE: 0x10, NOTARGET: 0x20, VIA: 0x40,
  NONEWLINE: 0x80, LINENUMBERS: 0x100,
  PRINT_RULE: 0x2 | 0x8 | 0x40 | 0x1 | 0x10,
} as const;

const padEnd = (text: string, width: number): string => text.padEnd(width, ' ');
const padStart = (text: string, width: number): string => text.padStart(width, ' ');

function printNumber(value: bigint, format: number): string {
  const notable = (format & FMT.NOTABLE) !== 0;
  const wrap = (n: bigint): bigint => n & 0xffffffffffffffffn; // C unsigned long long arithmetic
  if (!(format & FMT.KILOMEGAGIGA)) return notable ? `${value} ` : `${padStart(String(value), 8)} `;
  if (value <= 99999n) return notable ? `${value} ` : `${padStart(String(value), 5)} `;
  let number = value;
  for (const unit of ['K', 'M', 'G']) {
    number = wrap(number + 500n) / 1000n;
    if (number <= 9999n) return notable ? `${number}${unit} ` : `${padStart(String(number), 4)}${unit} `;
  }
  number = wrap(number + 500n) / 1000n;
  return notable ? `${number}T ` : `${padStart(String(number), 4)}T `;
}

function listEntries(table: IptablesTable, chainName: string | null, ruleNumber: number, options: number, dialect: DialectInfo): string | null {
  let format: number = FMT.OPTIONS;
  if (!(options & OPT.VERBOSE)) format |= FMT.NOCOUNTS;
  else format |= FMT.VIA;
  if (options & OPT.NUMERIC) format |= FMT.NUMERIC;
  if (!(options & OPT.EXPANDED)) format |= FMT.KILOMEGAGIGA;
  if (options & OPT.LINENUMBERS) format |= FMT.LINENUMBERS;
  let out = '';
  let isFound = false;
  for (const chain of table.chains) {
    if (chainName !== null && chain.name !== chainName) continue;
    if (isFound) out += '\n';
    if (!ruleNumber) out += formatHeader(chain, format, table);
    chain.rules.forEach((rule, i) => {
      if (!ruleNumber || i + 1 === ruleNumber) out += formatRule(rule, i + 1, format, table, dialect);
    });
    isFound = true;
  }
  return isFound ? out : null;
}

function formatHeader(chain: IptablesChain, format: number, table: IptablesTable): string {
  const tab = (withTable: string, withoutTable: string): string => ((format & FMT.NOTABLE) !== 0 ? withoutTable : withTable);
  let out = `Chain ${chain.name}`;
  if (chain.isBuiltin) {
    out += ` (policy ${chain.policy}`;
    if (!(format & FMT.NOCOUNTS)) {
      out += ' ' + printNumber(chain.packets, format | FMT.NOTABLE) + 'packets, ' + printNumber(chain.bytes, format | FMT.NOTABLE) + 'bytes';
    }
    out += ')\n';
  } else {
    out += ` (${referenceCount(table, chain.name)} references)\n`;
  }
  if (format & FMT.LINENUMBERS) out += tab(`${padEnd('num', 4)} `, 'num ');
  if (!(format & FMT.NOCOUNTS)) {
    if (format & FMT.KILOMEGAGIGA) out += tab(`${padStart('pkts', 5)} `, 'pkts ') + tab(`${padStart('bytes', 5)} `, 'bytes ');
    else out += tab(`${padStart('pkts', 8)} `, 'pkts ') + tab(`${padStart('bytes', 10)} `, 'bytes ');
  }
  if (!(format & FMT.NOTARGET)) out += tab(`${padEnd('target', 9)} `, 'target ');
  out += ' prot ';
  if (format & FMT.OPTIONS) out += 'opt';
  if (format & FMT.VIA) out += tab(` ${padEnd('in', 6)} `, 'in ') + tab(`${padEnd('out', 6)} `, 'out ');
  out += tab(` ${padEnd('source', 19)} `, 'source ');
  out += tab(` ${padEnd('destination', 19)} `, ' destination ');
  return out + '\n';
}

function formatRule(rule: IptablesRule, num: number, format: number, table: IptablesTable, dialect: DialectInfo): string {
  const tab = (withTable: string, withoutTable: string): string => ((format & FMT.NOTABLE) !== 0 ? withoutTable : withTable);
  const isNumeric = (format & FMT.NUMERIC) !== 0;
  let out = '';
  if (format & FMT.LINENUMBERS) out += tab(`${padEnd(String(num), 4)} `, `${num} `);
  if (!(format & FMT.NOCOUNTS)) out += printNumber(rule.packets, format) + printNumber(rule.bytes, format);
  if (!(format & FMT.NOTARGET)) out += tab(`${padEnd(rule.target, 9)} `, `${rule.target} `);
  out += rule.invert.protocol ? '!' : ' ';
  const protocolName =
    isNumeric && dialect.hasNumericProtocols && !(format & FMT.NOTABLE)
      ? undefined
      : isNumeric
        ? CHAIN_PROTOS.get(rule.protocol)
        : (rule.protocol === 0 ? 'all' : (PROTOCOL_NAMES.get(rule.protocol) ?? CHAIN_PROTOS.get(rule.protocol)));
  const protocolText = protocolName ?? String(rule.protocol);
  out += tab(padEnd(protocolText, 5), `${protocolText} `);
  if (format & FMT.OPTIONS) {
    if (format & FMT.NOTABLE) out += 'opt ';
    out += rule.invert.fragment ? '!' : '-';
    out += rule.isFragment ? 'f' : '-';
    out += ' ';
  }
  if (format & FMT.VIA) {
    const any = isNumeric ? '*' : 'any';
    const inName = (rule.invert.inInterface ? '!' : '') + (rule.inInterface !== '' ? rule.inInterface : any);
    const outName = (rule.invert.outInterface ? '!' : '') + (rule.outInterface !== '' ? rule.outInterface : any);
    out += tab(` ${padEnd(inName, 6)} `, `in ${inName} `);
    out += tab(`${padEnd(outName, 6)} `, `out ${outName} `);
  }
  const address = (match: AddressMatch): string =>
    match.mask === 0 && !isNumeric ? 'anywhere' : formatIpv4(match.address) + maskSuffix(match.mask);
  out += rule.invert.source ? '!' : ' ';
  out += tab(`${padEnd(address(rule.source), 19)} `, `${address(rule.source)} `);
  out += rule.invert.destination ? '!' : ' ';
  out += tab(`${padEnd(address(rule.destination), 19)} `, `-> ${address(rule.destination)}`);
  if (format & FMT.NOTABLE) out += '  ';
  if (rule.isGoto) out += '[goto] ';
  if (rule.comment !== null) out += ` /* ${rule.comment} */`;
  if (rule.target === 'LOG') {
    out += ' LOG';
    if (isNumeric) out += ` flags 0 level ${rule.logLevel}`;
    else {
      const name = LOG_LEVELS.find(([, level]) => level === rule.logLevel)?.[0] ?? String(rule.logLevel);
      out += ` level ${name === 'warning' ? dialect.warningLevelName : name}`;
    }
    if (rule.logPrefix !== '') out += ` prefix "${rule.logPrefix}"`;
  } else if (rule.target === 'REJECT') {
    out += ` reject-with ${rule.rejectWith}`;
  }
  void table;
  if (!(format & FMT.NONEWLINE)) out += '\n';
  return out;
}

/** xtables_save_string: bare when only [-_0-9A-Za-z], else double-quoted with \ escapes. */
function saveString(value: string): string {
  if (/^[-_0-9a-zA-Z]+$/.test(value)) return ` ${value}`;
  return ` "${value.replace(/["\\']/g, (ch) => `\\${ch}`)}"`;
}

function listRules(table: IptablesTable, chainName: string | null, ruleNumber: number, hasCounters: boolean): string | null {
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
      if (!ruleNumber || i + 1 === ruleNumber) out += saveRule(rule, chain.name, hasCounters);
    });
    isFound = true;
  }
  return isFound ? out : null;
}

function saveRule(rule: IptablesRule, chain: string, hasCounters: boolean): string {
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

// ---------------------------------------------------------------------------------------------
// Kernel side: a batch of identical packets walks a built-in chain (ipt_do_table semantics).

export interface PacketBatch {
  /** Interface the packets came in on ('' for locally generated). */
  inInterface: string;
  /** Interface they leave by ('' for locally delivered). */
  outInterface: string;
  source: number;
  destination: number;
  protocol: number;
  packets: number;
  bytes: number;
}

export type Verdict = 'ACCEPT' | 'DROP';
const MAX_JUMP_DEPTH = 32;

function ruleMatches(rule: IptablesRule, packet: PacketBatch): boolean {
  const invertIf = (isInverted: boolean, result: boolean): boolean => (isInverted ? !result : result);
  if (!invertIf(rule.invert.source, ((packet.source & rule.source.mask) >>> 0) === rule.source.address)) return false;
  if (!invertIf(rule.invert.destination, ((packet.destination & rule.destination.mask) >>> 0) === rule.destination.address)) return false;
  if (!invertIf(rule.invert.inInterface, interfaceMatches(rule.inInterface, packet.inInterface))) return false;
  if (!invertIf(rule.invert.outInterface, interfaceMatches(rule.outInterface, packet.outInterface))) return false;
  if (rule.protocol !== 0 && !invertIf(rule.invert.protocol, packet.protocol === rule.protocol)) return false;
  // Simulated packets are never fragments.
  if (rule.isFragment && !rule.invert.fragment) return false;
  return true;
}

/**
 * Runs a batch of identical packets through a built-in chain of the filter table, adding to the
 * counters of every rule that matches (and to the policy counters when the packets fall off the
 * end), and returns the verdict. A rule without target counts and continues; RETURN returns to the
 * calling chain (or the policy, in a built-in chain); ACCEPT/DROP/REJECT stop; LOG continues.
 */
export function traversePackets(state: IptablesState, hook: 'INPUT' | 'FORWARD' | 'OUTPUT', packet: PacketBatch, tableName = 'filter'): Verdict {
  const table = state.tables.get(tableName);
  const builtin = table?.chains.find((c) => c.name === hook && c.isBuiltin);
  if (!table || !builtin) return 'ACCEPT';
  const packets = BigInt(packet.packets);
  const bytes = BigInt(packet.bytes);
  const walk = (chain: IptablesChain, depth: number): Verdict | 'RETURN' => {
    for (const rule of chain.rules) {
      if (!ruleMatches(rule, packet)) continue;
      rule.packets += packets;
      rule.bytes += bytes;
      switch (rule.target) {
        case '':
        case 'LOG':
          continue;
        case 'ACCEPT':
          return 'ACCEPT';
        case 'DROP':
        case 'REJECT':
        case 'QUEUE':
          return 'DROP';
        case 'RETURN':
          return 'RETURN';
        default: {
          const next = table.chains.find((c) => c.name === rule.target);
          if (!next || depth >= MAX_JUMP_DEPTH) return 'DROP';
          const result = walk(next, depth + 1);
          if (result !== 'RETURN' || rule.isGoto) return result;
        }
      }
    }
    return 'RETURN';
  };
  const result = walk(builtin, 0);
  if (result !== 'RETURN') return result;
  builtin.packets += packets;
  builtin.bytes += bytes;
  return builtin.policy === 'DROP' ? 'DROP' : 'ACCEPT';
}
