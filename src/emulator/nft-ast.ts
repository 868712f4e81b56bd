// What the emulated nft's parser reads a script into (nft-parse.ts), what the evaluator applies
// (nft-eval.ts), and the errors both raise in nft's own format. Types and the error printer only.

import type { NftKeyType } from './nft-values.js';

export type NftFamily = 'ip' | 'ip6' | 'inet';
export type NftHook = 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting';

/** Where a token or a span sits: nft's `struct location` (1-based line and columns). */
export interface NftLocation {
  line: number;
  first: number;
  last: number;
  lineStart: number;
}

/**
 * An error as nft reports it. `locations[0]` is underlined with ^, the others with ~ (erec_print).
 * `isKernel` marks errors the kernel returns for the batch ("Could not process rule: …"): they come
 * after the handles of the batch were taken, so those stay used.
 */
export class NftError extends Error {
  /** Errors nft reports after this one for the same input (each printed the same way). */
  readonly followers: NftError[] = [];
  constructor(message: string, readonly locations: NftLocation[], readonly isKernel = false) {
    super(isKernel ? `Could not process rule: ${message}` : message);
  }
}

/**
 * The error text nft prints (src/erec.c: print_location + erec_print): `/dev/stdin:L:F-T: ` before
 * `Error:` for a script read from stdin, nothing for a command line; then the line and the marks.
 */
export function formatNftError(error: NftError, input: string, source: 'stdin' | 'cli'): string {
  return [error, ...error.followers].map((e) => formatOne(e, input, source)).join('');
}

function formatOne(error: NftError, input: string, source: 'stdin' | 'cli'): string {
  const where = error.locations[0];
  if (where === undefined) return `Error: ${error.message}\n`;
  const prefix = source === 'stdin' ? `/dev/stdin:${where.line}:${where.first}-${where.last}: ` : '';
  const start = source === 'stdin' ? where.lineStart : 0;
  const newline = input.indexOf('\n', start);
  const line = input.slice(start, newline < 0 ? input.length : newline);
  let end = 0;
  for (const location of error.locations) end = Math.max(end, location.last);
  const marks: string[] = [];
  for (let i = 0; i < end; i++) marks.push(line[i] === '\t' ? '\t' : ' ');
  for (let l = error.locations.length - 1; l >= 0; l--) {
    const location = error.locations[l] as NftLocation;
    for (let i = Math.max(0, location.first - 1); i < location.last; i++) marks[i] = l > 0 ? '~' : '^';
  }
  return `${prefix}Error: ${error.message}\n${line}\n${marks.join('')}\n`;
}

export interface NamedSpec {
  family: NftFamily;
  table: string;
  tableLoc: NftLocation;
}

export type MatchKey =
  | { kind: 'meta'; key: 'iifname' | 'oifname' }
  | { kind: 'payload'; protocol: 'ip' | 'ip6' | 'ether'; field: 'saddr' | 'daddr' }
  | { kind: 'ct'; key: 'state' }
  /** `meta l4proto NAME` (issue 19: lantop's protocol classes). */
  | { kind: 'l4proto' }
  /** `tcp sport N`, `udp dport N`, … (and `meta l4proto tcp th sport N`, which nft lists this way). */
  | { kind: 'port'; protocol: 'tcp' | 'udp' | 'sctp'; field: 'sport' | 'dport' };

/** A match's right side as written, read into a MatchValue once evaluated (nft-eval.ts). */
export interface RawMatchValue {
  kind: 'raw';
  items: Array<{ text: string; loc: NftLocation }>;
  /** Written in braces (an anonymous set, or one value in braces). */
  isSet: boolean;
  /** `/N` after an address. */
  prefix: { length: number; loc: NftLocation } | null;
}

export type MatchValue =
  | RawMatchValue
  | { kind: 'value'; value: bigint | string }
  | { kind: 'prefix'; value: bigint; length: number }
  | { kind: 'set-ref'; name: string; loc: NftLocation }
  | { kind: 'anonymous'; values: Array<bigint | string> }
  /** `ct state established,related`: the bits of a flag list. */
  | { kind: 'flags'; bits: number };

export type Statement =
  | { kind: 'match'; key: MatchKey; op: '==' | '!='; right: MatchValue; keyLoc: NftLocation }
  | { kind: 'counter'; packets: bigint; bytes: bigint }
  | { kind: 'update'; set: string; setLoc: NftLocation; key: MatchKey & { kind: 'payload' }; keyLoc: NftLocation; stmtLoc: NftLocation; hasCounter: boolean }
  | { kind: 'verdict'; verdict: 'accept' | 'drop' | 'return' }
  | { kind: 'jump'; verdict: 'jump' | 'goto'; target: string; targetLoc: NftLocation };

export interface RuleSpec {
  statements: Statement[];
  comment: string | null;
}

export interface ChainSpec {
  base: { type: 'filter'; hook: NftHook; priority: number; policy: 'accept' | 'drop' } | null;
  comment: string | null;
  rules: RuleSpec[];
}

/** An element as written: its key is read once the set's type is known (nft-eval.ts). */
export interface ElementSpec {
  text: string;
  loc: NftLocation;
  timeoutMs: number | null;
  expiresMs: number | null;
  counter: { packets: bigint; bytes: bigint } | null;
  /** `comment "…"` (NFTA_SET_ELEM_USERDATA; lantop's block tags, issue 16); absent: none. */
  comment?: string | null;
}

export interface SetSpec {
  keyType: Exclude<NftKeyType, 'ifname' | 'ct_state' | 'inet_proto' | 'inet_service'>;
  isDynamic: boolean;
  hasTimeoutFlag: boolean;
  isConstant: boolean;
  timeoutMs: number;
  size: number;
  hasCounter: boolean;
  elements: ElementSpec[];
}

export type NftCommand =
  | { kind: 'add-table'; spec: NamedSpec; isCreate: boolean; items: TableItem[] }
  | { kind: 'add-chain'; spec: NamedSpec; name: string; nameLoc: NftLocation; chain: ChainSpec; isCreate: boolean }
  | { kind: 'add-set'; spec: NamedSpec; name: string; nameLoc: NftLocation; set: SetSpec; isCreate: boolean }
  | { kind: 'add-rule'; spec: NamedSpec; chain: string; chainLoc: NftLocation; rule: RuleSpec; isInsert: boolean }
  | { kind: 'elements'; op: 'add' | 'create' | 'delete'; spec: NamedSpec; set: string; setLoc: NftLocation; elements: ElementSpec[] }
  | { kind: 'delete'; what: 'table' | 'chain' | 'set'; spec: NamedSpec; name: string; nameLoc: NftLocation }
  | { kind: 'delete-rule'; spec: NamedSpec; chain: string; chainLoc: NftLocation; handle: number; handleLoc: NftLocation }
  | { kind: 'flush'; what: 'table' | 'chain' | 'set'; spec: NamedSpec; name: string; nameLoc: NftLocation }
  | { kind: 'flush-ruleset'; family: NftFamily | null }
  | { kind: 'list'; what: 'ruleset'; family: NftFamily | null }
  | { kind: 'list'; what: 'tables'; family: NftFamily | null }
  | { kind: 'list'; what: 'table'; spec: NamedSpec }
  | { kind: 'list'; what: 'chain'; spec: NamedSpec; name: string; nameLoc: NftLocation }
  | { kind: 'list'; what: 'set'; spec: NamedSpec; name: string; nameLoc: NftLocation };

export type TableItem =
  | { kind: 'chain'; name: string; nameLoc: NftLocation; chain: ChainSpec }
  | { kind: 'set'; name: string; nameLoc: NftLocation; set: SetSpec };
