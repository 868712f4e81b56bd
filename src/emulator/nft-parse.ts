// The emulated nft's parser: tokens (nft-lexer.ts) → commands (nft-ast.ts), for the subset of the
// nft language this emulator runs (README.md, "nftables"). Table blocks and `add`/`create`/
// `insert`/`delete`/`flush`/`list` commands; chains with a filter hook, priority and policy; sets
// of IPv4, IPv6 or Ethernet addresses; rules of iifname/oifname, ip/ip6/ether saddr/daddr and ct
// state matches, counter, update @set, verdicts and a comment. The first syntax error stops the
// parse with nft's wording ("syntax error, unexpected X[, expecting Y]"; nft itself goes on and may
// report more). Statements nft knows but this emulator does not model are refused the way a
// kernel without the feature refuses them. Pure.

import { NftError, type ChainSpec, type NamedSpec, type NftCommand, type NftFamily, type NftHook, type RuleSpec, type SetSpec, type TableItem } from './nft-ast.js';
import { END_OF_COMMAND, locationOf, NftCursor, spanOf, syntaxError, unsupported } from './nft-cursor.js';
import { isNftKeyword, numberValue, tokenizeNft, type NftToken } from './nft-lexer.js';
import { parseElementList, parseRule } from './nft-parse-rule.js';
import { parseNftTime } from './nft-values.js';

const HOOKS: readonly NftHook[] = ['prerouting', 'input', 'forward', 'output', 'postrouting'];
const STANDARD_PRIORITIES: Record<string, number> = { raw: -300, mangle: -150, dstnat: -100, filter: 0, security: 50, srcnat: 100 };
export function parseNftScript(input: string): NftCommand[] {
  const cursor = new NftCursor(tokenizeNft(input));
  const commands: NftCommand[] = [];
  for (;;) {
    cursor.skipNewlines();
    if (cursor.peek().kind === 'eof') {
      if (cursor.errors.length > 0) cursor.fail();
      return commands;
    }
    try {
      commands.push(parseCommand(cursor));
      if (!cursor.isSeparator(false)) throw syntaxError(cursor.peek(), END_OF_COMMAND);
    } catch (error) {
      cursor.recover(error);
    }
  }
}

/** Table-level objects nft has and this emulator does not: each wants a name first. */
const TABLE_OBJECTS = new Set(['counter', 'quota', 'limit', 'ct', 'map', 'flowtable', 'secmark', 'synproxy', 'meter']);

function parseFamily(cursor: NftCursor): NftFamily {
  const token = cursor.peek();
  if (cursor.is('ip') || cursor.is('ip6') || cursor.is('inet')) return cursor.next().text as NftFamily;
  if (cursor.is('arp') || cursor.is('bridge') || cursor.is('netdev')) throw unsupported(token);
  return 'ip';
}

function parseTableSpec(cursor: NftCursor): NamedSpec {
  const family = parseFamily(cursor);
  const table = cursor.name();
  return { family, table: table.text, tableLoc: locationOf(table) };
}

function parseCommand(cursor: NftCursor): NftCommand {
  const verb = cursor.peek();
  if (cursor.is('table')) {
    cursor.next();
    const spec = parseTableSpec(cursor);
    return { kind: 'add-table', spec, isCreate: false, items: cursor.is('{') ? parseTableBlock(cursor) : [] };
  }
  if (verb.kind !== 'string' || !isNftKeyword(verb.text)) throw syntaxError(verb);
  cursor.next();
  switch (verb.text) {
    case 'add':
    case 'create':
      return parseAdd(cursor, verb.text === 'create');
    case 'insert':
      if (!cursor.is('rule')) throw unsupported(cursor.peek());
      cursor.next();
      return { ...parseRuleCommand(cursor), isInsert: true };
    case 'delete':
      return parseDelete(cursor);
    case 'flush':
      return parseFlush(cursor);
    case 'list':
      return parseList(cursor);
    case 'replace': case 'get': case 'reset': case 'rename': case 'import': case 'export': case 'monitor': case 'describe':
    case 'define': case 'redefine': case 'undefine': case 'include': case 'destroy':
      throw unsupported(verb);
    default:
      throw syntaxError(verb);
  }
}

function parseAdd(cursor: NftCursor, isCreate: boolean): NftCommand {
  const object = cursor.next();
  switch (object.text) {
    case 'table': {
      const spec = parseTableSpec(cursor);
      return { kind: 'add-table', spec, isCreate, items: cursor.is('{') ? parseTableBlock(cursor) : [] };
    }
    case 'chain': {
      const spec = parseTableSpec(cursor);
      const name = cursor.name();
      const chain = cursor.is('{') ? parseChainBlock(cursor) : { base: null, comment: null, rules: [] };
      return { kind: 'add-chain', spec, name: name.text, nameLoc: locationOf(name), chain, isCreate };
    }
    case 'set': {
      const spec = parseTableSpec(cursor);
      const name = cursor.name();
      return { kind: 'add-set', spec, name: name.text, nameLoc: locationOf(name), set: parseSetBlock(cursor), isCreate };
    }
    case 'element':
      return parseElementsCommand(cursor, isCreate ? 'create' : 'add');
    case 'rule':
      if (isCreate) throw syntaxError(object);
      return { ...parseRuleCommand(cursor), isInsert: false };
    case 'map': case 'flowtable': case 'counter': case 'quota': case 'limit': case 'ct': case 'secmark': case 'synproxy':
      throw unsupported(object);
    default:
      throw syntaxError(object);
  }
}

function parseRuleCommand(cursor: NftCursor): Omit<Extract<NftCommand, { kind: 'add-rule' }>, 'isInsert'> {
  const spec = parseTableSpec(cursor);
  const chain = cursor.name();
  if (cursor.is('position') || cursor.is('handle') || cursor.is('index')) throw unsupported(cursor.peek());
  return { kind: 'add-rule', spec, chain: chain.text, chainLoc: locationOf(chain), rule: parseRule(cursor, false) };
}

function parseElementsCommand(cursor: NftCursor, op: 'add' | 'create' | 'delete'): NftCommand {
  const spec = parseTableSpec(cursor);
  const set = cursor.name();
  cursor.expect('{');
  return { kind: 'elements', op, spec, set: set.text, setLoc: locationOf(set), elements: parseElementList(cursor) };
}

function parseDelete(cursor: NftCursor): NftCommand {
  const object = cursor.next();
  if (object.text === 'element') return parseElementsCommand(cursor, 'delete');
  if (object.text === 'rule') {
    const spec = parseTableSpec(cursor);
    const chain = cursor.name();
    cursor.expect('handle', 'handle');
    const handle = cursor.next();
    if (handle.kind !== 'number') throw syntaxError(handle, 'number');
    return { kind: 'delete-rule', spec, chain: chain.text, chainLoc: locationOf(chain), handle: Number(numberValue(handle)), handleLoc: locationOf(handle) };
  }
  if (object.text !== 'table' && object.text !== 'chain' && object.text !== 'set') {
    if (isNftKeyword(object.text)) throw unsupported(object);
    throw syntaxError(object);
  }
  const spec = parseTableSpec(cursor);
  if (object.text === 'table') return { kind: 'delete', what: 'table', spec, name: spec.table, nameLoc: spec.tableLoc };
  const name = cursor.name();
  return { kind: 'delete', what: object.text, spec, name: name.text, nameLoc: locationOf(name) };
}

function parseFlush(cursor: NftCursor): NftCommand {
  const object = cursor.next();
  if (object.text === 'ruleset') {
    const family = cursor.isSeparator(false) ? null : parseFamily(cursor);
    return { kind: 'flush-ruleset', family };
  }
  if (object.text !== 'table' && object.text !== 'chain' && object.text !== 'set') {
    if (isNftKeyword(object.text)) throw unsupported(object);
    throw syntaxError(object);
  }
  const spec = parseTableSpec(cursor);
  if (object.text === 'table') return { kind: 'flush', what: 'table', spec, name: spec.table, nameLoc: spec.tableLoc };
  const name = cursor.name();
  return { kind: 'flush', what: object.text, spec, name: name.text, nameLoc: locationOf(name) };
}

function parseList(cursor: NftCursor): NftCommand {
  const object = cursor.next();
  switch (object.text) {
    case 'ruleset':
    case 'tables':
      return { kind: 'list', what: object.text === 'ruleset' ? 'ruleset' : 'tables', family: cursor.isSeparator(false) ? null : parseFamily(cursor) };
    case 'table':
      return { kind: 'list', what: 'table', spec: parseTableSpec(cursor) };
    case 'chain':
    case 'set': {
      const spec = parseTableSpec(cursor);
      const name = cursor.name();
      return { kind: 'list', what: object.text === 'chain' ? 'chain' : 'set', spec, name: name.text, nameLoc: locationOf(name) };
    }
    default:
      if (isNftKeyword(object.text) || object.text === 'chains' || object.text === 'sets' || object.text === 'counters') throw unsupported(object);
      throw syntaxError(object);
  }
}

function parseTableBlock(cursor: NftCursor): TableItem[] {
  cursor.expect('{');
  const items: TableItem[] = [];
  for (;;) {
    cursor.skipNewlines();
    if (cursor.is('}')) {
      cursor.next();
      return items;
    }
    if (cursor.peek().kind === 'eof') cursor.fail(syntaxError(cursor.peek()));
    try {
      const word = cursor.peek();
      if (cursor.is('chain') || cursor.is('set')) {
        cursor.next();
        const name = cursor.name();
        if (word.text === 'chain') items.push({ kind: 'chain', name: name.text, nameLoc: locationOf(name), chain: parseChainBlock(cursor) });
        else items.push({ kind: 'set', name: name.text, nameLoc: locationOf(name), set: parseSetBlock(cursor) });
      } else if (word.kind === 'string' && TABLE_OBJECTS.has(word.text)) {
        cursor.next();
        const name = cursor.peek();
        throw name.kind === 'string' && !isNftKeyword(name.text) ? unsupported(word) : syntaxError(name, 'string');
      } else if (word.kind === 'string' && isNftKeyword(word.text)) throw unsupported(word);
      else throw syntaxError(word);
      if (!cursor.isSeparator(true)) throw syntaxError(cursor.peek());
    } catch (error) {
      cursor.recover(error);
    }
  }
}

function parseChainBlock(cursor: NftCursor): ChainSpec {
  cursor.expect('{');
  let base = null as ChainSpec['base'];
  let comment: string | null = null;
  const rules: RuleSpec[] = [];
  for (;;) {
    cursor.skipNewlines();
    if (cursor.is('}')) {
      cursor.next();
      return { base, comment, rules };
    }
    if (cursor.peek().kind === 'eof') cursor.fail(syntaxError(cursor.peek()));
    try {
      ({ base, comment } = parseChainItem(cursor, base, comment, rules));
      if (!cursor.isSeparator(true)) throw syntaxError(cursor.peek());
    } catch (error) {
      cursor.recover(error);
    }
  }
}

/** One line of a chain block: its hook, policy or comment, or a rule (added to `rules`). */
function parseChainItem(cursor: NftCursor, base: ChainSpec['base'], comment: string | null, rules: RuleSpec[]): { base: ChainSpec['base']; comment: string | null } {
  if (cursor.is('type')) base = parseHook(cursor, base);
  else if (cursor.is('policy')) {
    const policy = cursor.next();
    if (!cursor.is('accept') && !cursor.is('drop')) throw syntaxError(cursor.peek());
    const verdict = cursor.next().text as 'accept' | 'drop';
    if (base === null) throw new NftError('invalid policy expression value', [locationOf(policy)]);
    base = { ...base, policy: verdict };
  } else if (cursor.is('comment')) {
    cursor.next();
    const text = cursor.next();
    if (text.kind !== 'quoted' && text.kind !== 'string') throw syntaxError(text, 'string');
    comment = text.text;
  } else if (cursor.is('devices') || cursor.is('flags')) throw unsupported(cursor.peek());
  else rules.push(parseRule(cursor, true));
  return { base, comment };
}

function parseHook(cursor: NftCursor, previous: ChainSpec['base']): NonNullable<ChainSpec['base']> {
  cursor.next();
  const type = cursor.next();
  if (type.kind !== 'string') throw syntaxError(type, 'string');
  if (type.text === 'nat' || type.text === 'route') throw unsupported(type);
  if (type.text !== 'filter') throw new NftError('unknown chain type', [locationOf(type)]);
  cursor.expect('hook', 'hook');
  const hook = cursor.next();
  if (hook.text === 'ingress' || hook.text === 'egress') throw unsupported(hook);
  if (!(HOOKS as readonly string[]).includes(hook.text)) throw new NftError('unknown chain hook', [locationOf(hook)]);
  if (cursor.is('device')) throw unsupported(cursor.peek());
  const priorityWord = cursor.expect('priority', 'priority');
  const priority = parsePriority(cursor, hook.text as NftHook, priorityWord);
  return { type: 'filter', hook: hook.text as NftHook, priority, policy: previous?.policy ?? 'accept' };
}

function parsePriority(cursor: NftCursor, hook: NftHook, priorityWord: NftToken): number {
  const first = cursor.peek();
  if (cursor.is('-') && cursor.peek(1).kind === 'number') {
    cursor.next();
    return -Number(numberValue(cursor.next()));
  }
  if (first.kind === 'number') return Number(numberValue(cursor.next()));
  if (first.kind !== 'string' || isNftKeyword(first.text)) throw syntaxError(first);
  cursor.next();
  let value = STANDARD_PRIORITIES[first.text];
  const isAllowed = value !== undefined && (first.text === 'dstnat' ? hook === 'prerouting' : first.text === 'srcnat' ? hook === 'postrouting' : true);
  let last = first;
  let offset = 0;
  if ((cursor.is('+') || cursor.is('-')) && cursor.peek(1).kind === 'number') {
    const sign = cursor.next().text === '+' ? 1 : -1;
    last = cursor.next();
    offset = sign * Number(numberValue(last));
  }
  if (value === undefined || !isAllowed) throw new NftError('invalid priority expression value in this context.', [spanOf(priorityWord, last)]);
  value += offset;
  return value;
}

function parseSetBlock(cursor: NftCursor): SetSpec {
  const open = cursor.expect('{');
  const set: SetSpec = { keyType: 'ipv4_addr', isDynamic: false, hasTimeoutFlag: false, isConstant: false, timeoutMs: 0, size: 0, hasCounter: false, elements: [] };
  let hasType = false;
  let typeError: NftError | null = null;
  let previous = open;
  for (;;) {
    cursor.skipNewlines();
    if (cursor.is('}')) {
      cursor.next();
      if (!hasType) {
        // An unknown type is reported, then the set without a key (evaluate.c goes on).
        const noKey = new NftError('set definition does not specify key', [spanOf(open, previous)]);
        if (typeError === null) throw noKey;
        typeError.followers.push(noKey);
        throw typeError;
      }
      return set;
    }
    const word = cursor.next();
    switch (word.text) {
      case 'type': {
        const type = cursor.next();
        if (type.text !== 'ipv4_addr' && type.text !== 'ipv6_addr' && type.text !== 'ether_addr') {
          if (/^(?:inet_service|inet_proto|mark|ifname|iface_index|integer|ipv4_addr\.|ct_state)/.test(type.text) || cursor.is('.') || cursor.is(':')) throw unsupported(type);
          typeError = new NftError(`unknown datatype ${type.text}`, [locationOf(type)]);
          break;
        }
        set.keyType = type.text;
        hasType = true;
        break;
      }
      case 'flags':
        do {
          const flag = cursor.next();
          if (flag.text === 'dynamic') set.isDynamic = true;
          else if (flag.text === 'timeout') set.hasTimeoutFlag = true;
          else if (flag.text === 'constant') set.isConstant = true;
          else if (flag.text === 'interval') throw unsupported(flag);
          else throw syntaxError(flag);
        } while (cursor.is(',') && cursor.next());
        break;
      case 'timeout': {
        const time = cursor.next();
        if (time.kind !== 'string') throw syntaxError(time, 'string');
        const ms = parseNftTime(time.text);
        if (ms === null) throw new NftError('wrong time format', [locationOf(time)]);
        set.timeoutMs = ms;
        break;
      }
      case 'size': {
        const size = cursor.next();
        if (size.kind !== 'number') throw syntaxError(size, 'number');
        set.size = Number(numberValue(size));
        break;
      }
      case 'counter':
        set.hasCounter = true;
        break;
      case 'elements':
        cursor.expect('=');
        cursor.expect('{');
        set.elements = parseElementList(cursor);
        break;
      default:
        if (word.kind === 'string' && isNftKeyword(word.text)) throw unsupported(word);
        throw syntaxError(word);
    }
    if (!cursor.isSeparator(true)) throw syntaxError(cursor.peek());
    if (cursor.is(';')) previous = cursor.peek();
  }
}
