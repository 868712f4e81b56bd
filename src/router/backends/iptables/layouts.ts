// The iptables backend's rule layouts, as strategies. Both count the same bytes with one user chain
// TRAFFIC jumped to from FORWARD:
//   flat   the seed script's layout: two rules per host in TRAFFIC; every forwarded packet walks
//          all 2N of them.
//   split  per-direction sub-chains with `-j RETURN`: a packet walks 2 rules plus, on average,
//          half of one direction's N (BENCHMARKS.md measures both; split is the default).
import type { IptablesListing } from '../../parsers/types.js';
import { findChain, type RuleSpec } from './rule-spec.js';

export const TRAFFIC_CHAIN = 'TRAFFIC';
export const DOWN_CHAIN = 'TRAFFIC_DOWN';
export const UP_CHAIN = 'TRAFFIC_UP';
/** Every chain lantop may own, in the order plans visit them. */
export const LANTOP_CHAINS: readonly string[] = [TRAFFIC_CHAIN, DOWN_CHAIN, UP_CHAIN];

export type RuleLayout = 'flat' | 'split';

/** Used when neither the user nor the router says otherwise (see BENCHMARKS.md for the choice). */
export const DEFAULT_LAYOUT: RuleLayout = 'split';

export interface HostCounterRule {
  direction: 'down' | 'up';
  address: string;
}

export interface LayoutStrategy {
  readonly name: RuleLayout;
  /** For people (dry-run, doctor). */
  readonly description: string;
  /** The rules lantop wants for these hosts, per chain, in order. */
  desiredRules(hostIps: readonly string[], options: { wan: string; isTagging: boolean }): Map<string, RuleSpec[]>;
  /** The host counter a rule of this layout holds, or null when it holds none. */
  counterOf(spec: RuleSpec, wan: string): HostCounterRule | null;
  /** A rule of this layout's shape, tagged or not (how untagged rules are recognised). */
  isOwnShape(spec: RuleSpec): boolean;
}

const FLAT: LayoutStrategy = {
  name: 'flat',
  description: `flat layout: chain ${TRAFFIC_CHAIN} (two rules per host), jumped to from FORWARD`,
  desiredRules(hostIps, { wan, isTagging }) {
    return new Map<string, RuleSpec[]>([
      [
        TRAFFIC_CHAIN,
        hostIps.flatMap((ip) => [
          { chain: TRAFFIC_CHAIN, in: wan, out: null, source: null, destination: ip, target: null, isTagged: isTagging },
          { chain: TRAFFIC_CHAIN, in: null, out: wan, source: ip, destination: null, target: null, isTagged: isTagging },
        ]),
      ],
    ]);
  },
  counterOf(spec, wan) {
    if (spec.chain !== TRAFFIC_CHAIN) return null;
    if (spec.in === wan && spec.out === null && spec.source === null && spec.destination !== null) return { direction: 'down', address: spec.destination };
    if (spec.out === wan && spec.in === null && spec.destination === null && spec.source !== null) return { direction: 'up', address: spec.source };
    return null;
  },
  isOwnShape(spec) {
    const down = spec.in !== null && spec.out === null && spec.source === null && spec.destination !== null;
    const up = spec.in === null && spec.out !== null && spec.source !== null && spec.destination === null;
    return down || up;
  },
};

const SPLIT: LayoutStrategy = {
  name: 'split',
  description: `split layout: chain ${TRAFFIC_CHAIN} (one jump per direction) to ${DOWN_CHAIN} and ${UP_CHAIN} (one rule per host each), jumped to from FORWARD`,
  desiredRules(hostIps, { wan, isTagging }) {
    return new Map<string, RuleSpec[]>([
      [
        TRAFFIC_CHAIN,
        [
          { chain: TRAFFIC_CHAIN, in: wan, out: null, source: null, destination: null, target: DOWN_CHAIN, isTagged: isTagging },
          { chain: TRAFFIC_CHAIN, in: null, out: wan, source: null, destination: null, target: UP_CHAIN, isTagged: isTagging },
        ],
      ],
      [DOWN_CHAIN, hostIps.map((ip) => ({ chain: DOWN_CHAIN, in: null, out: null, source: null, destination: ip, target: 'RETURN', isTagged: isTagging }))],
      [UP_CHAIN, hostIps.map((ip) => ({ chain: UP_CHAIN, in: null, out: null, source: ip, destination: null, target: 'RETURN', isTagged: isTagging }))],
    ]);
  },
  counterOf(spec) {
    if (spec.chain === DOWN_CHAIN && spec.destination !== null && spec.source === null) return { direction: 'down', address: spec.destination };
    if (spec.chain === UP_CHAIN && spec.source !== null && spec.destination === null) return { direction: 'up', address: spec.source };
    return null;
  },
  isOwnShape(spec) {
    const subDown = spec.in === null && spec.out === null && spec.source === null && spec.destination !== null;
    const subUp = spec.in === null && spec.out === null && spec.source !== null && spec.destination === null;
    const jump = spec.source === null && spec.destination === null && (spec.target === DOWN_CHAIN || spec.target === UP_CHAIN);
    return subDown || subUp || jump;
  },
};

export const LAYOUTS: Readonly<Record<RuleLayout, LayoutStrategy>> = { flat: FLAT, split: SPLIT };

/** The layout already on the router, or null when none of lantop's chains is there. */
export function layoutOfListing(listing: IptablesListing): RuleLayout | null {
  if (findChain(listing, DOWN_CHAIN) !== undefined || findChain(listing, UP_CHAIN) !== undefined) return 'split';
  if (findChain(listing, TRAFFIC_CHAIN) !== undefined) return 'flat';
  return null;
}

/** A rule of any layout's shape (how untagged rules are recognised when not tagging). */
export function isAnyLayoutShape(spec: RuleSpec): boolean {
  return FLAT.isOwnShape(spec) || SPLIT.isOwnShape(spec);
}
