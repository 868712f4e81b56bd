// The emulated nft's rule and element parser (the statements of nft-parse.ts): iifname/oifname,
// ip/ip6/ether saddr/daddr (an address, a prefix, @set or an anonymous set) and ct state matches
// with == or !=, counter [packets N bytes N], update @set { key [counter] }, accept/drop/return,
// jump/goto, and element lists with timeout/expires/counter. Addresses are read as nft reads them
// (datatype.c: "Could not resolve hostname: …", "Invalid LL address"). Pure.

import { NftError, type ElementSpec, type MatchKey, type MatchValue, type NftLocation, type RawMatchValue, type RuleSpec, type Statement } from './nft-ast.js';
import { END_OF_COMMAND, locationOf, spanOf, syntaxError, unsupported, type NftCursor } from './nft-cursor.js';
import { isNftKeyword, numberValue, type NftToken } from './nft-lexer.js';
import { parseIpv4Value, parseIpv6Value, parseMacValue, parseNftTime, type NftKeyType } from './nft-values.js';

/** One rule: statements up to the end of the line (or `;`, or the block's `}`). */
export function parseRule(cursor: NftCursor, inBlock: boolean): RuleSpec {
  const statements: Statement[] = [];
  let comment: string | null = null;
  if (cursor.isSeparator(inBlock)) throw syntaxError(cursor.peek());
  while (!cursor.isSeparator(inBlock)) {
    const token = cursor.peek();
    // After a statement, punctuation cannot start another: the command should have ended.
    if (token.kind === 'punct' && statements.length > 0) throw syntaxError(token, inBlock ? undefined : END_OF_COMMAND);
    if (cursor.is('comment')) {
      if (statements.length === 0) throw syntaxError(token);
      cursor.next();
      const text = cursor.next();
      if (text.kind !== 'quoted' && text.kind !== 'string') throw syntaxError(text, 'string');
      comment = text.text;
      if (!cursor.isSeparator(inBlock)) throw syntaxError(cursor.peek(), inBlock ? undefined : END_OF_COMMAND);
      break;
    }
    if (cursor.is('th')) {
      statements.push(parseTransportHeader(cursor, statements.pop()));
      continue;
    }
    statements.push(parseStatement(cursor));
  }
  return { statements, comment };
}

function parseStatement(cursor: NftCursor): Statement {
  const token = cursor.next();
  if (token.kind !== 'string') throw syntaxError(token);
  switch (token.text) {
    case 'counter': {
      if (!cursor.is('packets')) return { kind: 'counter', packets: 0n, bytes: 0n };
      const { packets, bytes } = parseCounterValues(cursor);
      return { kind: 'counter', packets, bytes };
    }
    case 'accept':
    case 'drop':
    case 'return':
      return { kind: 'verdict', verdict: token.text };
    case 'jump':
    case 'goto': {
      const target = cursor.name();
      return { kind: 'jump', verdict: token.text, target: target.text, targetLoc: locationOf(target) };
    }
    case 'iifname':
    case 'oifname':
      return parseMatch(cursor, { kind: 'meta', key: token.text }, locationOf(token));
    case 'ip':
    case 'ip6':
    case 'ether': {
      const field = cursor.peek();
      if (field.text !== 'saddr' && field.text !== 'daddr') throw unsupported(field);
      cursor.next();
      return parseMatch(cursor, { kind: 'payload', protocol: token.text, field: field.text }, spanOf(token, field));
    }
    case 'meta': {
      const key = cursor.peek();
      if (key.text !== 'l4proto') throw unsupported(key);
      cursor.next();
      return parseMatch(cursor, { kind: 'l4proto' }, spanOf(token, key));
    }
    case 'tcp':
    case 'udp':
    case 'sctp': {
      const field = cursor.peek();
      if (field.text !== 'sport' && field.text !== 'dport') throw unsupported(field);
      cursor.next();
      return parseMatch(cursor, { kind: 'port', protocol: token.text, field: field.text }, spanOf(token, field));
    }
    case 'ct': {
      const key = cursor.peek();
      if (key.text !== 'state') throw unsupported(key);
      cursor.next();
      return parseMatch(cursor, { kind: 'ct', key: 'state' }, spanOf(token, key));
    }
    case 'update':
      return parseUpdate(cursor, token);
    default:
      // A bare word starts an expression that needs more (as in nft): the next token is unexpected.
      if (!isNftKeyword(token.text)) throw syntaxError(cursor.peek());
      if (['comment', 'elements', 'type', 'policy', 'table', 'chain', 'set'].includes(token.text)) throw syntaxError(token);
      throw unsupported(token);
  }
}

/**
 * `th sport N` right after `meta l4proto tcp|udp|sctp`: the one port match nft makes of the two
 * (measured, 1.0.6: `meta l4proto tcp th sport 443` lists as `tcp sport 443`). Anything else
 * before `th` is not emulated.
 */
function parseTransportHeader(cursor: NftCursor, previous: Statement | undefined): Statement {
  const th = cursor.next();
  const field = cursor.peek();
  const item = previous?.kind === 'match' && previous.key.kind === 'l4proto' && previous.op === '==' && previous.right.kind === 'raw' && !previous.right.isSet ? previous.right.items[0]?.text : undefined;
  if ((item !== 'tcp' && item !== 'udp' && item !== 'sctp') || (field.text !== 'sport' && field.text !== 'dport')) throw unsupported(th);
  cursor.next();
  return parseMatch(cursor, { kind: 'port', protocol: item, field: field.text }, spanOf(th, field));
}

function parseCounterValues(cursor: NftCursor): { packets: bigint; bytes: bigint } {
  cursor.expect('packets');
  const packets = cursor.next();
  if (packets.kind !== 'number') throw syntaxError(packets, 'number');
  cursor.expect('bytes');
  const bytes = cursor.next();
  if (bytes.kind !== 'number') throw syntaxError(bytes, 'number');
  return { packets: numberValue(packets), bytes: numberValue(bytes) };
}

function parseMatch(cursor: NftCursor, key: MatchKey, keyLoc: NftLocation): Statement {
  let op: '==' | '!=' = '==';
  if (cursor.is('==') || cursor.is('eq')) cursor.next();
  else if (cursor.is('!=') || cursor.is('ne')) {
    cursor.next();
    op = '!=';
  } else if (['<', '>', '<=', '>=', 'lt', 'gt', 'le', 'ge', '&', '|', '^', 'and', 'or', 'xor'].some((o) => cursor.is(o))) throw unsupported(cursor.peek());
  const right = parseMatchValue(cursor, key);
  return { kind: 'match', key, op, right, keyLoc };
}

/** An address of the key's type, as nft's datatype parsers read it (datatype.c). */
export function readAddress(text: string, loc: NftLocation, type: NftKeyType): bigint {
  const value = type === 'ipv4_addr' ? parseIpv4Value(text) : type === 'ipv6_addr' ? parseIpv6Value(text) : parseMacValue(text);
  if (value !== null) return value;
  if (type === 'ether_addr') throw new NftError('Invalid LL address', [loc]);
  const isOtherFamily = type === 'ipv4_addr' ? parseIpv6Value(text) !== null : parseIpv4Value(text) !== null;
  throw new NftError(`Could not resolve hostname: ${isOtherFamily ? 'Address family for hostname not supported' : 'Name or service not known'}`, [loc]);
}

/**
 * The right side as written: `@set`, one value (an address may carry `/len`), `{ a, b }`, or for
 * ct state a comma list. Values are read once evaluated, as nft does: a syntax error anywhere in
 * the script is reported before a bad address.
 */
function parseMatchValue(cursor: NftCursor, key: MatchKey): MatchValue {
  const readOne = (): { text: string; loc: NftLocation } => {
    const token = cursor.next();
    if (token.kind !== 'string' && token.kind !== 'quoted' && token.kind !== 'number') throw syntaxError(token);
    if (key.kind !== 'meta' && token.kind === 'quoted') throw syntaxError(token);
    return { text: token.text, loc: locationOf(token) };
  };
  if (cursor.is('@') && (key.kind === 'meta' || key.kind === 'payload')) {
    const at = cursor.next();
    const name = cursor.name();
    return { kind: 'set-ref', name: name.text, loc: spanOf(at, name) };
  }
  if (cursor.is('{')) {
    cursor.next();
    const items: RawMatchValue['items'] = [];
    for (;;) {
      cursor.skipLineBreaks();
      if (cursor.is('}')) break;
      items.push(readOne());
      if (cursor.is('/')) throw unsupported(cursor.peek());
      cursor.skipLineBreaks();
      if (cursor.is(',')) cursor.next();
      else if (!cursor.is('}')) throw syntaxError(cursor.peek());
    }
    if (items.length === 0) throw syntaxError(cursor.peek());
    cursor.next();
    return { kind: 'raw', items, isSet: true, prefix: null };
  }
  const items = [readOne()];
  if (key.kind === 'ct') {
    while (cursor.is(',')) {
      cursor.next();
      items.push(readOne());
    }
    return { kind: 'raw', items, isSet: false, prefix: null };
  }
  if (cursor.is('/') && key.kind === 'payload' && key.protocol !== 'ether') {
    cursor.next();
    const length = cursor.next();
    if (length.kind !== 'number') throw syntaxError(length, 'number');
    return { kind: 'raw', items, isSet: false, prefix: { length: Number(numberValue(length)), loc: locationOf(length) } };
  }
  return { kind: 'raw', items, isSet: false, prefix: null };
}

function parseUpdate(cursor: NftCursor, start: NftToken): Statement {
  const at = cursor.expect('@');
  const name = cursor.name();
  cursor.expect('{');
  const protocol = cursor.next();
  const field = cursor.next();
  if ((protocol.text !== 'ip' && protocol.text !== 'ip6' && protocol.text !== 'ether') || (field.text !== 'saddr' && field.text !== 'daddr')) throw unsupported(protocol);
  let hasCounter = false;
  if (cursor.is('counter')) {
    cursor.next();
    hasCounter = true;
  } else if (!cursor.is('}')) throw unsupported(cursor.peek());
  const close = cursor.expect('}');
  return {
    kind: 'update', set: name.text, setLoc: spanOf(at, name),
    key: { kind: 'payload', protocol: protocol.text as 'ip' | 'ip6' | 'ether', field: field.text },
    keyLoc: spanOf(protocol, field), stmtLoc: spanOf(start, close), hasCounter,
  };
}

/** `{ a, b timeout 1h, c counter packets 1 bytes 2 }` after the `{`, through the closing `}`. */
export function parseElementList(cursor: NftCursor): ElementSpec[] {
  const elements: ElementSpec[] = [];
  for (;;) {
    cursor.skipLineBreaks();
    if (cursor.is('}')) {
      cursor.next();
      return elements;
    }
    elements.push(parseElement(cursor));
    cursor.skipLineBreaks();
    if (cursor.is(',')) cursor.next();
    else if (!cursor.is('}')) throw syntaxError(cursor.peek());
  }
}

function parseElement(cursor: NftCursor): ElementSpec {
  const token = cursor.next();
  if (token.kind !== 'string' && token.kind !== 'number') throw syntaxError(token);
  if (cursor.is('/') || cursor.is('-') || cursor.is(':') || cursor.is('.')) throw unsupported(cursor.peek());
  const element: ElementSpec = { text: token.text, loc: locationOf(token), timeoutMs: null, expiresMs: null, counter: null };
  for (;;) {
    if (cursor.is('timeout') || cursor.is('expires')) {
      const word = cursor.next().text;
      const time = cursor.next();
      const ms = parseNftTime(time.text);
      if (ms === null) throw new NftError('wrong time format', [locationOf(time)]);
      if (word === 'timeout') element.timeoutMs = ms;
      else element.expiresMs = ms;
    } else if (cursor.is('counter')) {
      cursor.next();
      element.counter = cursor.is('packets') ? parseCounterValues(cursor) : { packets: 0n, bytes: 0n };
    } else if (cursor.is('comment')) {
      // An element's comment (nft(8), "SET ELEMENTS": `comment string`), kept as its user data.
      cursor.next();
      const text = cursor.next();
      if (text.kind !== 'string' && text.kind !== 'quoted') throw syntaxError(text, 'string');
      element.comment = text.text;
    } else return element;
  }
}
