// `nft -j list table inet lantop` (or any `nft -j list …`) → tables, sets, chains, rules: the same
// records as parse-text.ts, rules rendered into the same normalised listing syntax. Pure; never
// throws; objects it cannot read are reported in `skipped`. Sample (nft 1.0.6,
// fixtures/nftables/1.0.6/dynamic-sets-list-j.json, one line in reality):
//
//   {"nftables": [{"metainfo": {"version": "1.0.6", …}}, {"table": {"family": "inet", "name": "lantop", "handle": 1}},
//    {"set": {"family": "inet", "name": "dl4", "table": "lantop", "type": "ipv4_addr", "handle": 1, "size": 4096,
//     "flags": ["timeout"], "timeout": 604800,
//     "elem": [{"elem": {"val": "198.51.100.10", "expires": 604797, "counter": {"packets": 3, "bytes": 384}}}]}},
//    {"rule": {"family": "inet", "table": "lantop", "chain": "forward", "handle": 6, "comment": "lantop",
//     "expr": [{"match": {"op": "==", "left": {"meta": {"key": "iifname"}}, "right": "ppp0"}},
//              {"set": {"op": "update", "elem": {"payload": {"protocol": "ip", "field": "daddr"}}, "set": "@dl4", "stmt": [{"counter": null}]}}]}}]}
//
// nft 1.0.6 leaves `dynamic` out of a set's JSON flags (the text says `flags dynamic,timeout`);
// newer versions list it. An element without attributes is a bare value (libnftables-json(5), "ELEM").
import type { NftChain, NftCounter, NftElement, NftListing, NftRule, NftSet, NftTable } from './nft-model.js';

type Json = unknown;
type Obj = Record<string, Json>;

const isObj = (v: Json): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: Json): string | null => (typeof v === 'string' ? v : null);
const num = (v: Json): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const excerpt = (v: Json): string => {
  try {
    return JSON.stringify(v).slice(0, 200);
  } catch {
    return '(unreadable)';
  }
};

function counterOf(v: Json): NftCounter | null {
  if (!isObj(v)) return null;
  const packets = num(v['packets']);
  const bytes = num(v['bytes']);
  return packets !== null && bytes !== null ? { packets, bytes } : null;
}

/** An element's key as text: a string or number as is, anything else (prefix, range, concat) as JSON. */
function valueText(v: Json): string {
  if (typeof v === 'string' || typeof v === 'number') return String(v);
  return excerpt(v);
}

function elementOf(item: Json): NftElement {
  if (isObj(item) && isObj(item['elem'])) {
    const elem = item['elem'];
    return { value: valueText(elem['val']), counter: counterOf(elem['counter']) };
  }
  // A map element is [key, value]; the key may itself be an elem object.
  if (Array.isArray(item) && item.length === 2) return elementOf(item[0]);
  return { value: valueText(item), counter: null };
}

function setOf(kind: 'set' | 'map', o: Obj): NftSet {
  const type = o['type'];
  const flags = Array.isArray(o['flags']) ? o['flags'].filter((f): f is string => typeof f === 'string') : typeof o['flags'] === 'string' ? [o['flags']] : [];
  const stmts = Array.isArray(o['stmt']) ? o['stmt'] : [];
  return {
    kind,
    name: str(o['name']) ?? '',
    // A concatenation is a list of types (`ipv4_addr . inet_service` in text).
    type: typeof type === 'string' ? type : Array.isArray(type) && type.every((t) => typeof t === 'string') ? type.join(' . ') : type === undefined ? null : `typeof ${excerpt(type)}`,
    flags,
    size: num(o['size']),
    timeoutSeconds: num(o['timeout']),
    hasCounter: stmts.some((s) => isObj(s) && 'counter' in s),
    elements: Array.isArray(o['elem']) ? o['elem'].map(elementOf) : [],
    handle: num(o['handle']),
  };
}

const IFNAME_KEYS = new Set(['iifname', 'oifname']);

/** A payload/meta operand in listing syntax, or null. */
function operand(v: Json): string | null {
  if (!isObj(v)) return null;
  const meta = v['meta'];
  if (isObj(meta)) {
    // nft prints some meta keys bare (iifname, oifname), the rest as `meta KEY`.
    const key = str(meta['key']);
    return key === null ? null : IFNAME_KEYS.has(key) ? key : `meta ${key}`;
  }
  const payload = v['payload'];
  if (isObj(payload)) {
    const protocol = str(payload['protocol']);
    const field = str(payload['field']);
    return protocol !== null && field !== null ? `${protocol} ${field}` : null;
  }
  return null;
}

/** One statement in listing syntax (counter values returned aside), or null when not understood. */
function statement(expr: Json, seen: { counter: NftCounter | null }): string | null {
  if (!isObj(expr)) return null;
  const keys = Object.keys(expr);
  if (keys.length !== 1) return null;
  const key = keys[0]!;
  const body = expr[key];
  switch (key) {
    case 'match': {
      if (!isObj(body) || body['op'] !== '==') return null;
      const left = operand(body['left']);
      // A port or protocol number is a JSON number (`"right": 443`); the text lists it in decimal.
      const rightNumber = num(body['right']);
      const right = str(body['right']) ?? (rightNumber !== null && Number.isSafeInteger(rightNumber) && rightNumber >= 0 ? String(rightNumber) : null);
      if (left === null || right === null) return null;
      return IFNAME_KEYS.has(left) ? `${left} "${right}"` : `${left} ${right}`;
    }
    case 'set': {
      if (!isObj(body)) return null;
      const op = str(body['op']);
      const target = str(body['set']);
      const elem = operand(body['elem']);
      if (op === null || target === null || elem === null) return null;
      const inner: string[] = [];
      for (const s of Array.isArray(body['stmt']) ? body['stmt'] : []) {
        const text = statement(s, { counter: null });
        if (text === null) return null;
        inner.push(text);
      }
      return `${op} ${target} { ${[elem, ...inner].join(' ')} }`;
    }
    case 'counter':
      if (body !== null) seen.counter = counterOf(body);
      return 'counter';
    case 'return':
    case 'accept':
    case 'drop':
    case 'continue':
      return key;
    case 'jump':
    case 'goto':
      return isObj(body) && typeof body['target'] === 'string' ? `${key} ${body['target']}` : null;
    default:
      return null;
  }
}

function ruleOf(o: Obj): NftRule {
  const seen = { counter: null as NftCounter | null };
  const parts: string[] = [];
  let isUnderstood = Array.isArray(o['expr']);
  for (const expr of Array.isArray(o['expr']) ? o['expr'] : []) {
    const text = statement(expr, seen);
    if (text === null) {
      isUnderstood = false;
      break;
    }
    parts.push(text);
  }
  const handle = num(o['handle']);
  const norm = isUnderstood && parts.length > 0 ? parts.join(' ') : null;
  const comment = str(o['comment']);
  return {
    norm,
    display: norm !== null ? `${norm}${comment !== null ? ` comment "${comment}"` : ''}` : `rule${handle !== null ? ` handle ${handle}` : ''}: ${excerpt(o['expr'])}`,
    comment,
    counter: seen.counter,
    handle,
  };
}

/** The nft JSON document in `text` (after any warning lines), or null. */
function documentIn(text: string): Obj | null {
  const start = text.search(/\{\s*"nftables"\s*:/);
  if (start < 0) return null;
  try {
    const doc: Json = JSON.parse(text.slice(start).trim());
    return isObj(doc) && Array.isArray(doc['nftables']) ? doc : null;
  } catch {
    return null;
  }
}

/** True when the text holds an nft JSON document (even an empty one). */
export function isNftJson(text: string): boolean {
  return typeof text === 'string' && documentIn(text) !== null;
}

/** Parses a JSON listing; see the file comment. */
export function parseNftJson(text: string): NftListing {
  const listing: NftListing = { tables: [], version: null, skipped: [] };
  const doc = typeof text === 'string' ? documentIn(text) : null;
  if (doc === null) return listing;
  const tableOf = (o: Obj): NftTable | null => listing.tables.find((t) => t.family === o['family'] && t.name === o['table']) ?? null;
  const rules: Obj[] = [];
  for (const item of doc['nftables'] as Json[]) {
    if (!isObj(item) || Object.keys(item).length !== 1) {
      listing.skipped.push(excerpt(item));
      continue;
    }
    const kind = Object.keys(item)[0]!;
    const o = item[kind];
    if (!isObj(o)) {
      listing.skipped.push(excerpt(item));
      continue;
    }
    if (kind === 'metainfo') {
      listing.version = str(o['version']);
    } else if (kind === 'table') {
      listing.tables.push({ family: str(o['family']) ?? '', name: str(o['name']) ?? '', handle: num(o['handle']), sets: [], chains: [], others: [] });
    } else if (kind === 'rule') {
      // Rules may come before their chain in other versions' order: placed after the loop.
      rules.push(o);
    } else {
      const table = tableOf(o);
      if (table === null) listing.skipped.push(excerpt(item));
      else if (kind === 'set' || kind === 'map') table.sets.push(setOf(kind, o));
      else if (kind === 'chain') table.chains.push(chainOf(o));
      else table.others.push({ kind, name: str(o['name']) ?? '' });
    }
  }
  for (const o of rules) {
    const chain = tableOf(o)?.chains.find((c) => c.name === o['chain']);
    if (chain === undefined) listing.skipped.push(excerpt({ rule: o }));
    else chain.rules.push(ruleOf(o));
  }
  return listing;
}

function chainOf(o: Obj): NftChain {
  return {
    name: str(o['name']) ?? '',
    type: str(o['type']),
    hook: str(o['hook']),
    priority: num(o['prio']),
    policy: str(o['policy']),
    rules: [],
    handle: num(o['handle']),
  };
}
