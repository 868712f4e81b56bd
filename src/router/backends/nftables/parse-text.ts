// `nft -a list table inet lantop` (or any `nft list …` of whole tables) → tables, sets, chains,
// rules. Pure; never throws; what it cannot place is reported in `skipped`. Sample (nft 1.0.6,
// fixtures/nftables/1.0.6/dynamic-sets-list-a.txt):
//
//   table inet lantop { # handle 1
//   	set dl6 { # handle 3
//   		type ipv6_addr
//   		size 16384
//   		flags dynamic,timeout
//   		timeout 7d
//   		elements = { 2001:db8:1::10 counter packets 2 bytes 296 expires 6d23h59m59s988ms,
//   			     2001:db8:1::11 counter packets 1 bytes 348 expires 6d23h59m59s992ms }
//   	}
//   	chain forward { # handle 5
//   		type filter hook forward priority filter + 10; policy accept;
//   		iifname "ppp0" update @dl4 { ip daddr counter } comment "lantop" # handle 6
//   	}
//   }
//
// Element options come in any order (nft ≥ 0.9.8 prints statements first, then timeout, expires
// and comment: src/expression.c, set_elem_expr_print); a line may hold one element or several.
import { durationSeconds, priorityValue, type NftChain, type NftCounter, type NftElement, type NftListing, type NftRule, type NftSet, type NftTable } from './nft-model.js';

const TABLE_OPEN = /^table\s+([a-z0-9]+)\s+(\S+)\s*\{$/;
const BLOCK_OPEN = /^(.*?)\s*(\S+)\s*\{$/;
const HANDLE_TAIL = /\s*#\s*handle\s+(\d{1,10})$/;
const COMMENT_TAIL = /\s*comment\s+"((?:[^"\\]|\\.)*)"$/;
const COUNTER_VALUES = /\bcounter\s+packets\s+(\d{1,20})\s+bytes\s+(\d{1,20})/g;
const CHAIN_HEAD = /^type\s+(\w+)\s+hook\s+(\w+)(?:\s+device\s+\S+)?\s+priority\s+([^;]+);(?:\s*policy\s+(\w+);)?/;
/** Words that end an element's key (what follows are its options). */
const ELEMENT_OPTIONS = new Set(['counter', 'expires', 'timeout', 'comment', 'limit', 'quota', ':', 'ct', 'last', 'packets']);

type Block =
  | { kind: 'table'; table: NftTable }
  | { kind: 'set'; set: NftSet; elements: string | null }
  | { kind: 'chain'; chain: NftChain }
  | { kind: 'other'; depth: number };

/** The handle in a trailing `# handle N`, and the line without it. */
function splitHandle(line: string): { text: string; handle: number | null } {
  const m = HANDLE_TAIL.exec(line);
  return m ? { text: line.slice(0, m.index).trimEnd(), handle: Number(m[1]) } : { text: line, handle: null };
}

function braceBalance(text: string): number {
  let n = 0;
  let inQuote = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) inQuote = !inQuote;
    else if (!inQuote && c === 123) n++;
    else if (!inQuote && c === 125) n--;
  }
  return n;
}

/** Splits at commas outside quotes and braces. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let inQuote = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') inQuote = !inQuote;
    else if (inQuote) continue;
    else if (c === '{') depth++;
    else if (c === '}') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

function counterIn(text: string): NftCounter | null {
  let last: NftCounter | null = null;
  for (const m of text.matchAll(COUNTER_VALUES)) last = { packets: Number(m[1]), bytes: Number(m[2]) };
  return last;
}

/** One element of an `elements = { … }` list: its key (first words) and its counter. */
export function parseTextElement(text: string): NftElement {
  const words = text.split(/\s+/);
  const key: string[] = [];
  for (const word of words) {
    if (ELEMENT_OPTIONS.has(word)) break;
    key.push(word);
  }
  return { value: key.join(' '), counter: counterIn(text) };
}

/** A rule line (without indentation) as a rule: norm, comment, counter, handle. */
export function parseTextRule(line: string): NftRule {
  const { text, handle } = splitHandle(line.trim());
  let body = text;
  let comment: string | null = null;
  const c = COMMENT_TAIL.exec(body);
  if (c) {
    comment = c[1]!.replace(/\\(.)/g, '$1');
    body = body.slice(0, c.index);
  }
  const counter = counterIn(body);
  const norm = body.replace(COUNTER_VALUES, 'counter').replace(/\s+/g, ' ').trim();
  return { norm: norm === '' ? null : norm, display: text, comment, counter, handle };
}

function newSet(kind: 'set' | 'map', name: string, handle: number | null): NftSet {
  return { kind, name, type: null, flags: [], size: null, timeoutSeconds: null, hasCounter: false, elements: [], handle };
}

function setLine(block: Extract<Block, { kind: 'set' }>, line: string): boolean {
  const { set } = block;
  if (block.elements !== null) {
    block.elements += ' ' + line;
  } else if (line.startsWith('elements = {')) {
    block.elements = line.slice('elements = {'.length);
  } else {
    const [word, ...rest] = line.split(/\s+/);
    const value = rest.join(' ');
    if (word === 'type' || word === 'typeof') set.type = word === 'type' ? value : `typeof ${value}`;
    else if (word === 'flags') set.flags = value.split(',').map((f) => f.trim()).filter((f) => f !== '');
    else if (word === 'size' && /^\d{1,10}$/.test(value)) set.size = Number(value);
    else if (word === 'timeout') set.timeoutSeconds = durationSeconds(value);
    else if (word === 'counter' && value === '') set.hasCounter = true;
    else if (!['policy', 'comment', 'auto-merge', 'gc-interval'].includes(word ?? '')) return false;
    return true;
  }
  // The list ends where its braces balance: `{` was opened by `elements = {`.
  if (braceBalance(block.elements) >= 0) return true;
  const list = block.elements.slice(0, block.elements.lastIndexOf('}'));
  for (const item of splitTopLevel(list)) set.elements.push(parseTextElement(item));
  block.elements = null;
  return true;
}

function chainLine(chain: NftChain, line: string): void {
  const head = CHAIN_HEAD.exec(line);
  if (head && chain.rules.length === 0 && chain.hook === null) {
    chain.type = head[1]!;
    chain.hook = head[2]!;
    chain.priority = priorityValue(head[3]!);
    chain.policy = head[4] ?? null;
    return;
  }
  if (/^comment\s+"/.test(line) && chain.rules.length === 0) return;
  chain.rules.push(parseTextRule(line));
}

/** Parses a text listing; see the file comment. */
export function parseNftText(text: string): NftListing {
  const listing: NftListing = { tables: [], version: null, skipped: [] };
  if (typeof text !== 'string') return listing;
  const stack: Block[] = [];
  for (const raw of text.split(/\r?\n|\r/)) {
    const trimmed = raw.trim();
    if (trimmed === '') continue;
    const top = stack[stack.length - 1];
    if (top === undefined) {
      const { text: line, handle } = splitHandle(trimmed);
      const m = TABLE_OPEN.exec(line);
      if (m) {
        const table: NftTable = { family: m[1]!, name: m[2]!, handle, sets: [], chains: [], others: [] };
        listing.tables.push(table);
        stack.push({ kind: 'table', table });
      } else if (!trimmed.startsWith('#')) listing.skipped.push(trimmed);
      continue;
    }
    if (top.kind === 'other') {
      top.depth += braceBalance(trimmed);
      if (top.depth <= 0) stack.pop();
      continue;
    }
    if (top.kind === 'set') {
      if (top.elements === null && trimmed === '}') {
        stack.pop();
        continue;
      }
      if (!setLine(top, trimmed)) listing.skipped.push(trimmed);
      continue;
    }
    if (top.kind === 'chain') {
      if (trimmed === '}') stack.pop();
      else chainLine(top.chain, trimmed);
      continue;
    }
    // In a table: an object opens, or the table closes.
    if (trimmed === '}') {
      stack.pop();
      continue;
    }
    const { text: line, handle } = splitHandle(trimmed);
    const open = BLOCK_OPEN.exec(line);
    if (open === null) {
      listing.skipped.push(trimmed);
      continue;
    }
    const kind = open[1]!.trim();
    const name = open[2]!;
    if (kind === 'set' || kind === 'map') {
      const set = newSet(kind, name, handle);
      top.table.sets.push(set);
      stack.push({ kind: 'set', set, elements: null });
    } else if (kind === 'chain') {
      const chain: NftChain = { name, type: null, hook: null, priority: null, policy: null, rules: [], handle };
      top.table.chains.push(chain);
      stack.push({ kind: 'chain', chain });
    } else {
      top.table.others.push({ kind: kind === '' ? 'object' : kind, name });
      stack.push({ kind: 'other', depth: 1 });
    }
  }
  return listing;
}
