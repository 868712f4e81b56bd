// Applying parsed nft commands to the emulated ruleset as one transaction, like nft's evaluation
// followed by the kernel's batch: all or nothing. A table block expands as nft_cmd_expand() does
// (the table, then its chains, its sets, then the rules), so handles come out as on a real kernel:
// one counter per table for chains, sets, anonymous sets and rules, one per namespace for tables.
// Evaluation errors (a missing set, a datatype mismatch) leave everything as it was; an error the
// kernel returns ("Could not process rule: …") aborts the batch after its handles were taken, as
// the kernel's counters do not roll back. Pure.

import { NftError, type ChainSpec, type ElementSpec, type MatchKey, type MatchValue, type NamedSpec, type NftCommand, type RawMatchValue, type RuleSpec, type SetSpec, type Statement } from './nft-ast.js';
import { readAddress } from './nft-parse-rule.js';
import { cloneNftState, DYNAMIC_SET_DEFAULT_SIZE, findTable, type NftChain, type NftSet, type NftState, type NftTable } from './nft-state.js';
import { compareIfnames, CT_STATES, DATATYPE_DESCRIPTIONS, parseInetProtoValue, parseInetServiceValue } from './nft-values.js';

const KEY_TYPE_OF = { ip: 'ipv4_addr', ip6: 'ipv6_addr', ether: 'ether_addr' } as const;

/** Applies the commands (no `list` among them) to `state`; null on success, else the error. */
export function applyNftBatch(state: NftState, commands: readonly NftCommand[], nowMs: number, isCheckOnly = false): NftError | null {
  // nft evaluates the whole script before it sends anything: an evaluation error anywhere wins
  // over what the kernel would have refused (a command the kernel refuses is simply skipped here).
  const evaluation = cloneNftState(state);
  for (const command of commands) {
    try {
      applyCommand(evaluation, command, nowMs);
    } catch (error) {
      if (!(error instanceof NftError)) throw error;
      if (!error.isKernel) return error;
    }
  }
  const work = cloneNftState(state);
  try {
    for (const command of commands) applyCommand(work, command, nowMs);
  } catch (error) {
    if (!(error instanceof NftError)) throw error;
    if (error.isKernel && !isCheckOnly) keepHandleCounters(state, work);
    return error;
  }
  if (!isCheckOnly) {
    state.tables = work.tables;
    state.nextTableHandle = work.nextTableHandle;
  }
  return null;
}

function keepHandleCounters(state: NftState, work: NftState): void {
  state.nextTableHandle = work.nextTableHandle;
  for (const table of state.tables) {
    const after = findTable(work, table.family, table.name);
    if (after && after.handle === table.handle) table.nextHandle = after.nextHandle;
  }
}

const noEntry = (loc: Parameters<typeof kernelError>[1]) => kernelError('No such file or directory', loc);
function kernelError(message: string, loc: NftError['locations'][number]): NftError {
  return new NftError(message, [loc], true);
}

function tableOf(state: NftState, spec: NamedSpec, isKernelCheck: boolean): NftTable {
  const table = findTable(state, spec.family, spec.table);
  if (!table) throw isKernelCheck ? noEntry(spec.tableLoc) : new NftError('No such file or directory', [spec.tableLoc]);
  return table;
}

function applyCommand(state: NftState, command: NftCommand, nowMs: number): void {
  switch (command.kind) {
    case 'add-table': {
      let table = findTable(state, command.spec.family, command.spec.table);
      if (table && command.isCreate) throw kernelError('File exists', command.spec.tableLoc);
      if (!table) {
        table = { family: command.spec.family, name: command.spec.table, handle: state.nextTableHandle++, nextHandle: 1, chains: [], sets: [] };
        state.tables.push(table);
      }
      for (const item of command.items) if (item.kind === 'chain') addChain(table, item.name, item.chain, false, item.nameLoc);
      for (const item of command.items) if (item.kind === 'set') addSet(table, item.name, item.set, false, item.nameLoc, nowMs);
      for (const item of command.items) {
        if (item.kind !== 'chain') continue;
        const chain = table.chains.find((c) => c.name === item.name) as NftChain;
        for (const rule of item.chain.rules) addRule(table, chain, rule, false);
      }
      return;
    }
    case 'add-chain': {
      const table = tableOf(state, command.spec, false);
      const chain = addChain(table, command.name, command.chain, command.isCreate, command.nameLoc);
      for (const rule of command.chain.rules) addRule(table, chain, rule, false);
      return;
    }
    case 'add-set':
      addSet(tableOf(state, command.spec, false), command.name, command.set, command.isCreate, command.nameLoc, nowMs);
      return;
    case 'add-rule': {
      const table = tableOf(state, command.spec, true);
      const chain = table.chains.find((c) => c.name === command.chain);
      if (!chain) throw noEntry(command.chainLoc);
      addRule(table, chain, command.rule, command.isInsert);
      return;
    }
    case 'elements': {
      const set = setOf(state, command.spec, command.set, command.setLoc);
      if (command.op === 'delete') deleteElements(set, command.elements);
      else addElements(set, command.elements, command.op === 'create', nowMs);
      return;
    }
    case 'delete':
      return deleteObject(state, command);
    case 'delete-rule': {
      const table = tableOf(state, command.spec, true);
      const chain = table.chains.find((c) => c.name === command.chain);
      if (!chain) throw noEntry(command.chainLoc);
      const index = chain.rules.findIndex((rule) => rule.handle === command.handle);
      if (index < 0) throw noEntry(command.handleLoc);
      chain.rules.splice(index, 1);
      return;
    }
    case 'flush':
      return flushObject(state, command);
    case 'flush-ruleset':
      state.tables = state.tables.filter((table) => command.family !== null && table.family !== command.family);
      return;
    case 'list':
      return;
  }
}

function setOf(state: NftState, spec: NamedSpec, name: string, loc: NftError['locations'][number]): NftSet {
  const table = tableOf(state, spec, false);
  const set = table.sets.find((s) => s.name === name);
  if (!set) throw new NftError('No such file or directory', [loc]);
  return set;
}

function addChain(table: NftTable, name: string, spec: ChainSpec, isCreate: boolean, loc: NftError['locations'][number]): NftChain {
  const existing = table.chains.find((c) => c.name === name);
  if (existing) {
    if (isCreate) throw kernelError('File exists', loc);
    if (spec.base && (!existing.base || existing.base.hook !== spec.base.hook || existing.base.priority !== spec.base.priority)) {
      throw kernelError('Operation not supported', loc);
    }
    if (spec.base && existing.base) existing.base.policy = spec.base.policy;
    if (spec.comment !== null) existing.comment = spec.comment;
    return existing;
  }
  const chain: NftChain = { name, handle: table.nextHandle++, base: spec.base ? { ...spec.base } : null, comment: spec.comment, rules: [] };
  table.chains.push(chain);
  return chain;
}

function addSet(table: NftTable, name: string, spec: SetSpec, isCreate: boolean, loc: NftError['locations'][number], nowMs: number): void {
  let set = table.sets.find((s) => s.name === name);
  const wanted: Omit<NftSet, 'handle' | 'elements'> = {
    name, keyType: spec.keyType, isDynamic: spec.isDynamic, isConstant: spec.isConstant, timeoutMs: spec.timeoutMs,
    // A default timeout implies the timeout flag (evaluate.c); a dynamic set has a size.
    hasTimeoutFlag: spec.hasTimeoutFlag || spec.timeoutMs > 0,
    size: spec.size,
    hasCounter: spec.hasCounter,
  };
  if (set) {
    const isSame = set.keyType === wanted.keyType && set.isDynamic === wanted.isDynamic && set.timeoutMs === wanted.timeoutMs && set.hasCounter === wanted.hasCounter && set.size === wanted.size;
    if (isCreate || !isSame) throw kernelError('File exists', loc);
  } else {
    set = { ...wanted, handle: table.nextHandle++, elements: new Map() };
    table.sets.push(set);
  }
  addElements(set, spec.elements, false, nowMs);
}

function addElements(set: NftSet, elements: readonly ElementSpec[], isCreate: boolean, nowMs: number): void {
  for (const spec of elements) {
    const value = readAddress(spec.text, spec.loc, set.keyType);
    if (set.elements.has(value)) {
      if (isCreate) throw kernelError('File exists', spec.loc);
      continue;
    }
    if (set.size > 0 && set.elements.size >= set.size) throw kernelError('Too many open files in system', spec.loc);
    const timeoutMs = spec.timeoutMs ?? set.timeoutMs;
    const lifetime = spec.expiresMs ?? timeoutMs;
    set.elements.set(value, {
      value,
      counter: spec.counter ? { ...spec.counter } : set.hasCounter ? { packets: 0n, bytes: 0n } : null,
      expiresAtMs: set.hasTimeoutFlag && lifetime > 0 ? nowMs + lifetime : null,
      timeoutMs: spec.timeoutMs !== null && spec.timeoutMs !== set.timeoutMs ? spec.timeoutMs : null,
      ...(spec.comment != null ? { comment: spec.comment } : {}),
    });
  }
}

function deleteElements(set: NftSet, elements: readonly ElementSpec[]): void {
  for (const spec of elements) {
    const value = readAddress(spec.text, spec.loc, set.keyType);
    if (!set.elements.delete(value)) throw kernelError('No such file or directory', spec.loc);
  }
}

function isSetReferenced(table: NftTable, name: string): boolean {
  return table.chains.some((chain) => chain.rules.some((rule) => rule.statements.some((s) => (s.kind === 'update' && s.set === name) || (s.kind === 'match' && s.right.kind === 'set-ref' && s.right.name === name))));
}

function deleteObject(state: NftState, command: Extract<NftCommand, { kind: 'delete' }>): void {
  const table = tableOf(state, command.spec, true);
  if (command.what === 'table') {
    state.tables.splice(state.tables.indexOf(table), 1);
    return;
  }
  if (command.what === 'set') {
    const index = table.sets.findIndex((s) => s.name === command.name);
    if (index < 0) throw noEntry(command.nameLoc);
    if (isSetReferenced(table, command.name)) throw kernelError('Device or resource busy', command.nameLoc);
    table.sets.splice(index, 1);
    return;
  }
  const index = table.chains.findIndex((c) => c.name === command.name);
  if (index < 0) throw noEntry(command.nameLoc);
  // A chain with rules goes with them; one another chain jumps to is busy.
  const isJumpedTo = table.chains.some((c) => c.name !== command.name && c.rules.some((r) => r.statements.some((s) => s.kind === 'jump' && s.target === command.name)));
  if (isJumpedTo) throw kernelError('Device or resource busy', command.nameLoc);
  table.chains.splice(index, 1);
}

function flushObject(state: NftState, command: Extract<NftCommand, { kind: 'flush' }>): void {
  if (command.what === 'set') {
    setOf(state, command.spec, command.name, command.nameLoc).elements.clear();
    return;
  }
  const table = tableOf(state, command.spec, command.what === 'chain');
  if (command.what === 'table') {
    for (const chain of table.chains) chain.rules = [];
    return;
  }
  const chain = table.chains.find((c) => c.name === command.name);
  if (!chain) throw noEntry(command.nameLoc);
  chain.rules = [];
}

function addRule(table: NftTable, chain: NftChain, spec: RuleSpec, isInsert: boolean): void {
  // nft checks the statements first; the kernel then takes the handles (each anonymous set is a
  // set of its own, __set%d, before the rule) and only then looks up jump targets and sets.
  const statements = spec.statements.map((statement) => evaluateStatement(table, statement));
  for (const statement of statements) if (statement.kind === 'match' && statement.right.kind === 'anonymous') table.nextHandle++;
  const rule = { handle: table.nextHandle++, statements, comment: spec.comment };
  for (const statement of statements) kernelCheck(table, statement);
  if (isInsert) chain.rules.unshift(rule);
  else chain.rules.push(rule);
}

function evaluateStatement(table: NftTable, statement: Statement): Statement {
  if (statement.kind === 'match') {
    const right = resolveValue(statement.key, statement.right);
    if (right.kind === 'set-ref') {
      const set = table.sets.find((s) => s.name === right.name);
      if (!set) throw new NftError('No such file or directory', [right.loc]);
      const keyType = statement.key.kind === 'payload' ? KEY_TYPE_OF[statement.key.protocol] : null;
      if (keyType !== set.keyType) {
        const expected = keyType ? DATATYPE_DESCRIPTIONS[keyType] : statement.key.kind === 'meta' ? 'network interface name' : 'conntrack state';
        throw new NftError(`datatype mismatch, expected ${expected}, expression has type ${DATATYPE_DESCRIPTIONS[set.keyType]}`, [right.loc, statement.keyLoc]);
      }
    }
    return { ...statement, right: sortedValue(right) };
  }
  if (statement.kind === 'update') {
    const set = table.sets.find((s) => s.name === statement.set);
    if (!set) throw new NftError('No such file or directory', [statement.setLoc]);
    const keyType = KEY_TYPE_OF[statement.key.protocol];
    if (keyType !== set.keyType) {
      throw new NftError(`datatype mismatch: expected ${DATATYPE_DESCRIPTIONS[set.keyType]}, expression has type ${DATATYPE_DESCRIPTIONS[keyType]}`, [statement.keyLoc, statement.stmtLoc]);
    }
  }
  return statement.kind === 'counter' ? { ...statement } : statement;
}

function kernelCheck(table: NftTable, statement: Statement): void {
  if (statement.kind === 'update') {
    const set = table.sets.find((s) => s.name === statement.set) as NftSet;
    // Only a dynamic set (a hash with an update operation) takes elements from the packet path;
    // one without a size gets 65535 from the kernel (nft_dynset_init).
    if (!set.isDynamic) throw kernelError('Operation not supported', statement.stmtLoc);
    if (set.size === 0) set.size = DYNAMIC_SET_DEFAULT_SIZE;
  }
  if (statement.kind === 'jump') {
    const target = table.chains.find((c) => c.name === statement.target);
    if (!target) throw noEntry(statement.targetLoc);
    if (target.base) throw kernelError('Operation not supported', statement.targetLoc);
  }
}

/** The right side of a match read as its key's type (datatype.c's parsers and their errors). */
function resolveValue(key: MatchKey, value: MatchValue): MatchValue {
  if (value.kind !== 'raw') return value;
  const read = (item: RawMatchValue['items'][number]): bigint | string => {
    if (key.kind === 'meta') {
      if (item.text.includes('*')) throw kernelError('Operation not supported', item.loc);
      return item.text;
    }
    if (key.kind === 'ct') {
      const bit = CT_STATES.find(([name]) => name === item.text)?.[1];
      if (bit === undefined) throw new NftError('Could not parse conntrack state', [item.loc]);
      return BigInt(bit);
    }
    if (key.kind === 'l4proto') {
      const protocol = parseInetProtoValue(item.text);
      if (protocol === null) throw new NftError('Could not resolve protocol name', [item.loc]);
      return protocol;
    }
    if (key.kind === 'port') {
      const port = parseInetServiceValue(item.text);
      if (port === null) throw new NftError('Service out of range', [item.loc]);
      if (port === undefined) throw new NftError('Could not resolve service: Servname not supported for ai_socktype', [item.loc]);
      return port;
    }
    return readAddress(item.text, item.loc, KEY_TYPE_OF[key.protocol]);
  };
  const values = value.items.map(read);
  if (key.kind === 'ct' && !(value.isSet && values.length > 1)) return { kind: 'flags', bits: values.reduce((bits, v) => bits | Number(v), 0) };
  if (values.length > 1) return { kind: 'anonymous', values };
  const single = values[0] as bigint | string;
  if (value.prefix === null || key.kind !== 'payload') return { kind: 'value', value: single };
  const bits = key.protocol === 'ip' ? 32 : 128;
  const first = value.items[0] as RawMatchValue['items'][number];
  if (value.prefix.length > bits) throw new NftError(`Prefix length ${value.prefix.length} is invalid for type of ${bits} bits width`, [{ ...first.loc, last: value.prefix.loc.last }]);
  if (value.prefix.length === bits) return { kind: 'value', value: single };
  const mask = ((1n << BigInt(bits)) - 1n) ^ ((1n << BigInt(bits - value.prefix.length)) - 1n);
  return { kind: 'prefix', value: (single as bigint) & mask, length: value.prefix.length };
}

/** Anonymous sets come back from the kernel sorted (list_expr_sort): store them that way. */
function sortedValue(value: MatchValue): MatchValue {
  if (value.kind !== 'anonymous') return value;
  const values = [...value.values].sort((a, b) =>
    typeof a === 'string' && typeof b === 'string' ? compareIfnames(a, b) : (a as bigint) < (b as bigint) ? -1 : (a as bigint) > (b as bigint) ? 1 : 0,
  );
  return { kind: 'anonymous', values };
}
