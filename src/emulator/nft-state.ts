// The emulated nftables ruleset, as the kernel keeps it: tables in creation order, each with its
// chains, sets and rules and one handle counter for all of them (nf_tables' table->hgenerator), a
// per-namespace counter for table handles, counters as 64-bit numbers, set elements with their own
// counters and expiry. Pure data plus small helpers; commands change it in nft-eval.ts, packets in
// nft-traversal.ts.

import type { NftFamily, NftHook, Statement } from './nft-ast.js';

export type NftVersion = '1.0.6' | '1.0.8';

/** `nft -v` and the JSON metainfo of each version (configure.ac: AC_INIT, RELEASE_NAME). */
export const NFT_RELEASE_NAMES: Record<NftVersion, string> = { '1.0.6': 'Lester Gooch #5', '1.0.8': 'Old Doc Yak #2' };

export interface NftCounterValue {
  packets: bigint;
  bytes: bigint;
}

export interface NftElement {
  value: bigint;
  counter: NftCounterValue | null;
  /** Model ms when it expires; null: never. */
  expiresAtMs: number | null;
  /** The element's own timeout, when the kernel keeps one (see NftOptions.dumpsDefaultElementTimeout). */
  timeoutMs: number | null;
  /** Its comment (user data); absent: none. */
  comment?: string | null;
}

export interface NftSet {
  name: string;
  handle: number;
  keyType: 'ipv4_addr' | 'ipv6_addr' | 'ether_addr';
  isDynamic: boolean;
  hasTimeoutFlag: boolean;
  isConstant: boolean;
  /** Default timeout in ms (0: none). */
  timeoutMs: number;
  /** The declared size (0: none; a dynamic set without one gets 65535, as nft gives it). */
  size: number;
  /** Set-level `counter`: every element gets one. */
  hasCounter: boolean;
  elements: Map<bigint, NftElement>;
}

/** A rule as stored: the parsed statements (counter statements carry the live counts). */
export interface NftRule {
  handle: number;
  statements: Statement[];
  comment: string | null;
}

export interface NftChain {
  name: string;
  handle: number;
  base: { type: 'filter'; hook: NftHook; priority: number; policy: 'accept' | 'drop' } | null;
  comment: string | null;
  rules: NftRule[];
}

export interface NftTable {
  family: NftFamily;
  name: string;
  handle: number;
  /** The next handle of a chain, set, anonymous set or rule in this table. */
  nextHandle: number;
  chains: NftChain[];
  sets: NftSet[];
}

export interface NftOptions {
  version: NftVersion;
  /** Built with JSON support (OpenWrt: nftables-json; nftables-nojson refuses -j). */
  hasJson: boolean;
  /**
   * Kernels before "netfilter: nf_tables: add timeout extension to elements to prepare for
   * updates" (netfilter-devel, Oct 2023; OpenWrt 23.05 runs 5.15) dump an element's timeout when
   * it has one even if it equals the set's: elements `update @set` adds then list as
   * `… timeout 7d expires …`. Later kernels (this machine's 6.x) print only `expires`.
   */
  dumpsDefaultElementTimeout: boolean;
}

export interface NftState {
  tables: NftTable[];
  nextTableHandle: number;
  options: NftOptions;
}

export const DYNAMIC_SET_DEFAULT_SIZE = 65535;

export function createNftState(options: Partial<NftOptions> = {}): NftState {
  return {
    tables: [],
    nextTableHandle: 1,
    options: { version: options.version ?? '1.0.8', hasJson: options.hasJson ?? true, dumpsDefaultElementTimeout: options.dumpsDefaultElementTimeout ?? true },
  };
}

export function cloneNftState(state: NftState): NftState {
  return structuredClone(state);
}

export function findTable(state: NftState, family: NftFamily, name: string): NftTable | undefined {
  return state.tables.find((table) => table.family === family && table.name === name);
}

/** Elements whose time ran out are gone (the kernel's garbage collector, done on every look). */
export function expireElements(set: NftSet, nowMs: number): void {
  for (const [key, element] of set.elements) {
    if (element.expiresAtMs !== null && element.expiresAtMs <= nowMs) set.elements.delete(key);
  }
}

export function expireAll(state: NftState, nowMs: number): void {
  for (const table of state.tables) for (const set of table.sets) expireElements(set, nowMs);
}

/** Elements in the order nft lists them: by value (list_expr_sort). */
export function sortedElements(set: NftSet): NftElement[] {
  return [...set.elements.values()].sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
}
