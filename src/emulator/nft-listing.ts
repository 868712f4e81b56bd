// `nft list …` as text, as nft 1.0.6 prints it (src/rule.c: table_print, set_print_declaration,
// do_set_print, chain_print_declaration, rule_print; src/expression.c: set_expr_print with
// calculate_delim, set_elem_expr_print; src/statement.c: counter and dynset statements). Checked
// byte for byte against the real nft in nft-real.test.ts. Pure.

import type { MatchKey, MatchValue, NftFamily, NftHook, Statement } from './nft-ast.js';
import { sortedElements, type NftChain, type NftElement, type NftSet, type NftState, type NftTable } from './nft-state.js';
import { CT_STATES, formatKeyValue, formatNftTime, type NftKeyType } from './nft-values.js';

export interface NftOutputFlags {
  /** -a: `# handle N` after tables, chains, sets and rules. */
  handles: boolean;
  /** -s: counters without values, no `expires`. */
  stateless: boolean;
  /** -t: sets without their elements. */
  terse: boolean;
  /** -y: priorities as numbers. */
  numericPriority: boolean;
}

export const DEFAULT_OUTPUT: NftOutputFlags = { handles: false, stateless: false, terse: false, numericPriority: false };

const STANDARD_PRIORITIES: ReadonlyArray<[string, number]> = [['raw', -300], ['mangle', -150], ['dstnat', -100], ['filter', 0], ['security', 50], ['srcnat', 100]];

/** prio2str(): a standard name within 10 of the value ("filter + 10"), if valid for the hook. */
export function priorityText(priority: number, hook: NftHook, flags: NftOutputFlags): string {
  if (!flags.numericPriority) {
    for (const [name, value] of STANDARD_PRIORITIES) {
      if (Math.abs(priority - value) > 10) continue;
      if ((name === 'dstnat' && hook !== 'prerouting') || (name === 'srcnat' && hook !== 'postrouting')) break;
      const offset = priority - value;
      return offset > 0 ? `${name} + ${offset}` : offset < 0 ? `${name} - ${-offset}` : name;
    }
  }
  return String(priority);
}

export function keyTypeOf(key: MatchKey): NftKeyType {
  if (key.kind === 'meta') return 'ifname';
  if (key.kind === 'ct') return 'ct_state';
  if (key.kind === 'l4proto') return 'inet_proto';
  if (key.kind === 'port') return 'inet_service';
  return key.protocol === 'ip' ? 'ipv4_addr' : key.protocol === 'ip6' ? 'ipv6_addr' : 'ether_addr';
}

/** One value of a match as nft prints it (names quoted, addresses in their text form). */
export function valueText(type: NftKeyType, value: bigint | string): string {
  if (type === 'ifname') return `"${String(value)}"`;
  if (type === 'ct_state') return CT_STATES.find(([, bit]) => BigInt(bit) === value)?.[0] ?? String(value);
  return formatKeyValue(type, value as bigint);
}

export function ctStateNames(bits: number): string[] {
  return CT_STATES.filter(([, bit]) => (bits & bit) !== 0).map(([name]) => name);
}

export function keyText(key: MatchKey): string {
  return key.kind === 'meta' ? key.key : key.kind === 'ct' ? 'ct state' : key.kind === 'l4proto' ? 'meta l4proto' : `${key.protocol} ${key.field}`;
}

function matchValueText(key: MatchKey, value: MatchValue, op: '==' | '!='): string {
  const type = keyTypeOf(key);
  switch (value.kind) {
    case 'value':
      return valueText(type, value.value);
    case 'prefix':
      return `${valueText(type, value.value)}/${value.length}`;
    case 'set-ref':
      return `@${value.name}`;
    case 'anonymous':
      return `{ ${value.values.map((v) => valueText(type, v)).join(', ')} }`;
    case 'flags':
      // A negated flag list prints as the expression nft keeps: `!= established | related`.
      return ctStateNames(value.bits).join(op === '!=' ? ' | ' : ',');
    case 'raw':
      return value.items.map((item) => item.text).join(',');
  }
}

function statementText(statement: Statement, flags: NftOutputFlags): string {
  switch (statement.kind) {
    case 'match':
      return `${keyText(statement.key)} ${statement.op === '!=' ? '!= ' : ''}${matchValueText(statement.key, statement.right, statement.op)}`;
    case 'counter':
      return flags.stateless ? 'counter' : `counter packets ${statement.packets} bytes ${statement.bytes}`;
    case 'update':
      return `update @${statement.set} { ${keyText(statement.key)}${statement.hasCounter ? ' counter' : ''} }`;
    case 'verdict':
      return statement.verdict;
    case 'jump':
      return `${statement.verdict} ${statement.target}`;
  }
}

function elementText(set: NftSet, element: NftElement, nowMs: number, flags: NftOutputFlags, dumpsDefaultTimeout: boolean): string {
  let text = formatKeyValue(set.keyType, element.value);
  if (element.counter) text += flags.stateless ? ' counter' : ` counter packets ${element.counter.packets} bytes ${element.counter.bytes}`;
  const timeout = elementTimeout(set, element, dumpsDefaultTimeout);
  if (timeout !== null) text += ` timeout ${formatNftTime(timeout)}`;
  if (!flags.stateless && element.expiresAtMs !== null) text += ` expires ${formatNftTime(element.expiresAtMs - nowMs)}`;
  // After the timers, as nft prints it (fixtures/blocking/nft-1.0.6-block-table.txt).
  if (element.comment != null) text += ` comment "${element.comment}"`;
  return text;
}

/** The element timeout the kernel dumps, or null. */
export function elementTimeout(set: NftSet, element: NftElement, dumpsDefaultTimeout: boolean): number | null {
  if (element.timeoutMs === null) return null;
  return element.timeoutMs !== set.timeoutMs || dumpsDefaultTimeout ? element.timeoutMs : null;
}

function setText(set: NftSet, state: NftState, nowMs: number, flags: NftOutputFlags): string {
  let out = `\tset ${set.name} {${flags.handles ? ` # handle ${set.handle}` : ''}\n\t\ttype ${set.keyType}\n`;
  if (!set.isConstant && set.size > 0) out += `\t\tsize ${set.size}\n`;
  // The timeout flag is left out when a default timeout says it (unless other flags are printed).
  const shown = set.isConstant || set.isDynamic || (set.hasTimeoutFlag && set.timeoutMs === 0);
  if (shown) {
    const names = [set.isConstant && 'constant', set.isDynamic && 'dynamic', set.hasTimeoutFlag && 'timeout'].filter(Boolean);
    out += `\t\tflags ${names.join(',')}\n`;
  }
  if (set.hasCounter) out += '\t\tcounter\n';
  if (set.timeoutMs > 0) out += `\t\ttimeout ${formatNftTime(set.timeoutMs)}\n`;
  const elements = sortedElements(set);
  if (!flags.terse && elements.length > 0) {
    // calculate_delim(): two IPv4 addresses per line, one of other types.
    const perLine = set.keyType === 'ipv4_addr' ? 2 : 1;
    let text = '';
    elements.forEach((element, i) => {
      if (i > 0) text += i % perLine === 0 ? ',\n\t\t\t     ' : ', ';
      text += elementText(set, element, nowMs, flags, state.options.dumpsDefaultElementTimeout);
    });
    out += `\t\telements = { ${text} }\n`;
  }
  return `${out}\t}\n`;
}

function chainText(chain: NftChain, flags: NftOutputFlags): string {
  let out = `\tchain ${chain.name} {${flags.handles ? ` # handle ${chain.handle}` : ''}${chain.comment !== null ? `\n\t\tcomment "${chain.comment}"` : ''}\n`;
  if (chain.base) {
    out += `\t\ttype ${chain.base.type} hook ${chain.base.hook} priority ${priorityText(chain.base.priority, chain.base.hook, flags)}; policy ${chain.base.policy};\n`;
  }
  for (const rule of chain.rules) {
    const body = rule.statements.map((s) => statementText(s, flags)).join(' ');
    out += `\t\t${body}${rule.comment !== null ? ` comment "${rule.comment}"` : ''}${flags.handles ? ` # handle ${rule.handle}` : ''}\n`;
  }
  return `${out}\t}\n`;
}

export function tableText(table: NftTable, state: NftState, nowMs: number, flags: NftOutputFlags): string {
  let out = `table ${table.family} ${table.name} {${flags.handles ? ` # handle ${table.handle}` : ''}\n`;
  let delimiter = '';
  for (const set of table.sets) {
    out += delimiter + setText(set, state, nowMs, flags);
    delimiter = '\n';
  }
  for (const chain of table.chains) {
    out += delimiter + chainText(chain, flags);
    delimiter = '\n';
  }
  return `${out}}\n`;
}

export function rulesetText(state: NftState, family: NftFamily | null, nowMs: number, flags: NftOutputFlags): string {
  return state.tables.filter((t) => family === null || t.family === family).map((t) => tableText(t, state, nowMs, flags)).join('');
}

export function tablesText(state: NftState, family: NftFamily | null): string {
  return state.tables.filter((t) => family === null || t.family === family).map((t) => `table ${t.family} ${t.name}\n`).join('');
}

export function setListingText(table: NftTable, set: NftSet, state: NftState, nowMs: number, flags: NftOutputFlags): string {
  return `table ${table.family} ${table.name} {\n${setText(set, state, nowMs, flags)}}\n`;
}

export function chainListingText(table: NftTable, chain: NftChain, flags: NftOutputFlags): string {
  return `table ${table.family} ${table.name} {\n${chainText(chain, flags)}}\n`;
}
