// What an nft listing holds, as both parsers (parse-text.ts for `nft -a list …`, parse-json.ts for
// `nft -j list …`) return it: tables with their sets, chains and rules, every value still the
// router's text (hostile: canonicalise addresses before use, sanitise before display). A rule is kept
// as a normalised text (`norm`) in nft's own listing syntax without counter values, comment or
// handle — e.g. `iifname "ppp0" update @dl4 { ip daddr counter }` — so the planner compares it with
// the rules it writes, whichever format it was read from.

export interface NftCounter {
  packets: number;
  bytes: number;
}

export interface NftElement {
  /** The element's key as listed: an address for lantop's sets, anything for others (raw). */
  value: string;
  counter: NftCounter | null;
}

export interface NftSet {
  kind: 'set' | 'map';
  name: string;
  /** `ipv4_addr`, `ipv6_addr`, …; `typeof …` when declared by expression; null: not listed. */
  type: string | null;
  flags: string[];
  size: number | null;
  timeoutSeconds: number | null;
  /** A set-level `counter` (every element gets one). */
  hasCounter: boolean;
  elements: NftElement[];
  handle: number | null;
}

export interface NftRule {
  /** In nft's listing syntax without counter values, comment and handle; null: not understood. */
  norm: string | null;
  /** The rule as a person reads it (raw router text). */
  display: string;
  comment: string | null;
  /** The rule's own counter, when it has one with values. */
  counter: NftCounter | null;
  handle: number | null;
}

export interface NftChain {
  name: string;
  /** Base chains only: `filter`, `nat`, …; null for a regular chain. */
  type: string | null;
  hook: string | null;
  priority: number | null;
  policy: string | null;
  rules: NftRule[];
  handle: number | null;
}

export interface NftTable {
  family: string;
  name: string;
  handle: number | null;
  sets: NftSet[];
  chains: NftChain[];
  /** Other objects in the table (named counters, quotas, flowtables, …): kind and name. */
  others: Array<{ kind: string; name: string }>;
}

export interface NftListing {
  tables: NftTable[];
  /** `metainfo.version` of a JSON listing; null in text. */
  version: string | null;
  /** Lines (text) or objects (JSON) the parser did not understand, for diagnostics (raw). */
  skipped: string[];
}

export function findTable(listing: NftListing, family: string, name: string): NftTable | null {
  return listing.tables.find((t) => t.family === family && t.name === name) ?? null;
}

export function findSet(table: NftTable, name: string): NftSet | null {
  return table.sets.find((s) => s.name === name) ?? null;
}

export function findChain(table: NftTable, name: string): NftChain | null {
  return table.chains.find((c) => c.name === name) ?? null;
}

/** Base-chain priority names (nft(8), "PRIORITY"); the inet/ip/ip6 values. */
export const PRIORITY_NAMES: Readonly<Record<string, number>> = { raw: -300, mangle: -150, dstnat: -100, filter: 0, security: 50, srcnat: 100 };

/** `filter + 10`, `filter - 5`, `10`, `-150`, `mangle` → a number; null when it is none of these. */
export function priorityValue(text: string): number | null {
  const m = /^\s*(?:([a-z]+)\s*(?:([+-])\s*(\d{1,6}))?|(-?\d{1,6}))\s*$/.exec(text);
  if (m === null) return null;
  if (m[4] !== undefined) return Number(m[4]);
  const base = PRIORITY_NAMES[m[1]!];
  if (base === undefined) return null;
  const offset = m[3] === undefined ? 0 : Number(m[3]) * (m[2] === '-' ? -1 : 1);
  return base + offset;
}

/** nft's time format (`7d`, `6d23h59m57s980ms`, `30m`) in whole seconds; null when it is not one. */
export function durationSeconds(text: string): number | null {
  const m = /^(?:(\d{1,6})d)?(?:(\d{1,3})h)?(?:(\d{1,3})m(?!s))?(?:(\d{1,3})s)?(?:(\d{1,4})ms)?$/.exec(text);
  if (m === null || text === '') return null;
  const [, d = '0', h = '0', min = '0', s = '0'] = m;
  return Number(d) * 86400 + Number(h) * 3600 + Number(min) * 60 + Number(s);
}
