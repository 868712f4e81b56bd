// `nft -j list …`, as nft 1.0.6 prints it (src/json.c: table_print_json, set_print_json,
// set_elem_expr_json, chain_print_json, rule_print_json and the statement printers), serialised the
// way jansson's json_dumpf does with JSON_PRESERVE_ORDER: ", " and ": " between items, non-ASCII
// text as is. Checked byte for byte against the real nft in nft-real.test.ts. Pure.

import type { MatchKey, MatchValue, NftFamily, Statement } from './nft-ast.js';
import { ctStateNames, elementTimeout, keyTypeOf, type NftOutputFlags } from './nft-listing.js';
import { NFT_RELEASE_NAMES, sortedElements, type NftChain, type NftSet, type NftState, type NftTable } from './nft-state.js';
import { CT_STATES, formatKeyValue } from './nft-values.js';

type Json = string | number | bigint | boolean | null | Json[] | { [key: string]: Json };

/** jansson's compact-with-spaces output of a value built in key order. */
export function serialiseJson(value: Json): string {
  if (value === null) return 'null';
  if (typeof value === 'bigint' || typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  // jansson writes other control characters as \u00XX with upper-case hex.
  if (typeof value === 'string') return JSON.stringify(value).replace(/\\u00([0-9a-f]{2})/g, (_, hex: string) => `\\u00${hex.toUpperCase()}`);
  if (Array.isArray(value)) return `[${value.map(serialiseJson).join(', ')}]`;
  return `{${Object.entries(value).map(([k, v]) => `${serialiseJson(k)}: ${serialiseJson(v)}`).join(', ')}}`;
}

function metainfo(state: NftState): Json {
  const version = state.options.version;
  return { metainfo: { version, release_name: NFT_RELEASE_NAMES[version], json_schema_version: 1 } };
}

function keyJson(key: MatchKey): Json {
  if (key.kind === 'meta') return { meta: { key: key.key } };
  if (key.kind === 'ct') return { ct: { key: 'state' } };
  if (key.kind === 'l4proto') return { meta: { key: 'l4proto' } };
  return { payload: { protocol: key.protocol, field: key.field } };
}

function valueJson(key: MatchKey, value: bigint | string): Json {
  const type = keyTypeOf(key);
  if (type === 'ifname') return String(value);
  if (type === 'ct_state') return CT_STATES.find(([, bit]) => BigInt(bit) === value)?.[0] ?? Number(value);
  // A port is a JSON number, a protocol its name (measured, nft 1.0.6: `"right": 443`, `"right": "udp"`).
  if (type === 'inet_service') return Number(value);
  if (type === 'inet_proto') {
    const name = formatKeyValue(type, value as bigint);
    return /^\d+$/.test(name) ? Number(value) : name;
  }
  return formatKeyValue(type, value as bigint);
}

function matchJson(key: MatchKey, op: '==' | '!=', right: MatchValue): Json {
  let rightJson: Json = null;
  let opText: string = op;
  switch (right.kind) {
    case 'value':
      rightJson = valueJson(key, right.value);
      break;
    case 'prefix':
      rightJson = { prefix: { addr: valueJson(key, right.value), len: right.length } };
      break;
    case 'set-ref':
      rightJson = `@${right.name}`;
      break;
    case 'anonymous':
      rightJson = { set: right.values.map((v) => valueJson(key, v)) };
      break;
    case 'flags': {
      // A flag match without an operator is nft's implicit "in" (a bitwise test).
      const names = ctStateNames(right.bits);
      rightJson = names.length === 1 ? (names[0] as string) : op === '!=' ? { '|': names } : names;
      if (op === '==') opText = 'in';
      break;
    }
  }
  return { match: { op: opText, left: keyJson(key), right: rightJson } };
}

function statementJson(statement: Statement, flags: NftOutputFlags): Json {
  switch (statement.kind) {
    case 'match':
      return matchJson(statement.key, statement.op, statement.right);
    case 'counter':
      return { counter: flags.stateless ? null : { packets: statement.packets, bytes: statement.bytes } };
    case 'update': {
      const body: { [key: string]: Json } = { op: 'update', elem: keyJson(statement.key), set: `@${statement.set}` };
      if (statement.hasCounter) body['stmt'] = [{ counter: null }];
      return { set: body };
    }
    case 'verdict':
      return { [statement.verdict]: null };
    case 'jump':
      return { [statement.verdict]: { target: statement.target } };
  }
}

function setJson(table: NftTable, set: NftSet, state: NftState, nowMs: number, flags: NftOutputFlags): Json {
  const body: { [key: string]: Json } = { family: table.family, name: set.name, table: table.name, type: set.keyType, handle: set.handle };
  if (!set.isConstant && set.size > 0) body['size'] = set.size;
  // json.c lists constant, interval and timeout, never dynamic.
  const setFlags = [set.isConstant && 'constant', set.hasTimeoutFlag && 'timeout'].filter((f): f is string => typeof f === 'string');
  if (setFlags.length > 0) body['flags'] = setFlags;
  if (set.timeoutMs > 0) body['timeout'] = Math.floor(set.timeoutMs / 1000);
  const elements = sortedElements(set);
  if (!flags.terse && elements.length > 0) {
    body['elem'] = elements.map((element): Json => {
      const value = formatKeyValue(set.keyType, element.value);
      const timeout = elementTimeout(set, element, state.options.dumpsDefaultElementTimeout);
      const expires = flags.stateless || element.expiresAtMs === null ? null : element.expiresAtMs - nowMs;
      if (timeout === null && expires === null && element.counter === null && element.comment == null) return value;
      const elem: { [key: string]: Json } = { val: value };
      if (timeout !== null) elem['timeout'] = Math.floor(timeout / 1000);
      if (expires !== null) elem['expires'] = Math.floor(expires / 1000);
      if (element.counter) elem['counter'] = flags.stateless ? null : { packets: element.counter.packets, bytes: element.counter.bytes };
      if (element.comment != null) elem['comment'] = element.comment;
      return { elem };
    });
  }
  if (set.hasCounter) body['stmt'] = [{ counter: null }];
  return { set: body };
}

function chainJson(table: NftTable, chain: NftChain, state: NftState): Json {
  const body: { [key: string]: Json } = { family: table.family, table: table.name, name: chain.name, handle: chain.handle };
  // Chain comments reach the JSON from nft 1.0.8 on (json.c, chain_print_json).
  if (chain.comment !== null && state.options.version !== '1.0.6') body['comment'] = chain.comment;
  if (chain.base) Object.assign(body, { type: chain.base.type, hook: chain.base.hook, prio: chain.base.priority, policy: chain.base.policy });
  return { chain: body };
}

function rulesJson(table: NftTable, chain: NftChain, flags: NftOutputFlags): Json[] {
  return chain.rules.map((rule) => {
    const body: { [key: string]: Json } = { family: table.family, table: table.name, chain: chain.name, handle: rule.handle };
    if (rule.comment !== null) body['comment'] = rule.comment;
    body['expr'] = rule.statements.map((s) => statementJson(s, flags));
    return { rule: body };
  });
}

/** table_print_json_full(): the table, its sets, its chains, then all their rules. */
function tableJson(table: NftTable, state: NftState, nowMs: number, flags: NftOutputFlags): Json[] {
  const items: Json[] = [{ table: { family: table.family, name: table.name, handle: table.handle } }];
  for (const set of table.sets) items.push(setJson(table, set, state, nowMs, flags));
  for (const chain of table.chains) items.push(chainJson(table, chain, state));
  for (const chain of table.chains) items.push(...rulesJson(table, chain, flags));
  return items;
}

function document(state: NftState, items: Json[]): string {
  return `${serialiseJson({ nftables: [metainfo(state), ...items] })}\n`;
}

export function rulesetJson(state: NftState, family: NftFamily | null, nowMs: number, flags: NftOutputFlags): string {
  return document(state, state.tables.filter((t) => family === null || t.family === family).flatMap((t) => tableJson(t, state, nowMs, flags)));
}

export function tablesJson(state: NftState, family: NftFamily | null): string {
  return document(state, state.tables.filter((t) => family === null || t.family === family).map((t) => ({ table: { family: t.family, name: t.name, handle: t.handle } })));
}

export function tableListingJson(table: NftTable, state: NftState, nowMs: number, flags: NftOutputFlags): string {
  return document(state, tableJson(table, state, nowMs, flags));
}

export function setListingJson(table: NftTable, set: NftSet, state: NftState, nowMs: number, flags: NftOutputFlags): string {
  return document(state, [setJson(table, set, state, nowMs, flags)]);
}

export function chainListingJson(table: NftTable, chain: NftChain, state: NftState, flags: NftOutputFlags): string {
  return document(state, [chainJson(table, chain, state), ...rulesJson(table, chain, flags)]);
}
