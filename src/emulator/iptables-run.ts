// Running one iptables command against the emulated tables: the checks do_command4() makes after
// reading the command line, then the libiptc operation on a copy of the table, committed only when
// the whole command succeeded (iptc_commit). Pure: the state is passed in.

import { CMD, OPT, genericOptionCheck, parseCommandLine, type ParsedCommand } from './iptables-argv.js';
import { formatVerboseRule, listChains, listRules } from './iptables-listing.js';
import { EXTENSION_TARGETS, MAX_NAME, STANDARD_TARGETS, parseAddressList, type AddressMatch } from './iptables-names.js';
import {
  DIALECTS, IptablesExit, NO_CHAIN, cloneTable, insertUserChain, invalidArgument, isSameRule, otherProblem,
  USAGE_HINT, parameterProblem, referenceCount, zeroChains,
  type DialectInfo, type IptablesChain, type IptablesResult, type IptablesRule, type IptablesState,
} from './iptables-state.js';

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

function execute(state: IptablesState, parsed: ParsedCommand, dialect: DialectInfo): IptablesResult {
  const problem = (message: string): never => parameterProblem(dialect, message);
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
    if (parsed.options & OPT.VERBOSE) stdout += formatVerboseRule(rule, dialect);
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
        ? listRules(table, chainName, parsed.ruleNumber, (parsed.options & OPT.VERBOSE) !== 0, DIALECTS[state.dialect].isMacUpperCase)
        : listChains(table, chainName, parsed.ruleNumber, parsed.options, dialect);
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
      throw new IptablesExit(USAGE_HINT, 2);
  }
  state.tables.set(table.name, table);
  return { stdout, stderr: '', status: 0 };
}
