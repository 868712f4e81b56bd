// The iptables backend's rule layouts, as strategies. All count the same bytes with one user chain
// TRAFFIC jumped to from FORWARD:
//   flat   the seed script's layout: two rules per host in TRAFFIC; every forwarded packet walks
//          all 2N of them.
//   split  per-direction sub-chains with `-j RETURN`: a packet walks 2 rules plus, on average,
//          half of one direction's N.
//   tree   split with one more level (issue 21): TRAFFIC_DOWN/UP hold one rule per address group
//          (a /28 of hosts, coarser when they are spread) jumping to a sub-chain TRAFFIC_DOWN_<k>
//          / TRAFFIC_UP_<k> with that group's host rules; a packet walks every group rule plus
//          its own group's hosts: ~32 rules for the last of 254 hosts instead of ~254.
// BENCHMARKS.md measures all three (section 2). ip6tables gets the same chains and layouts (issue
// 15); only the tree's address groups differ (ipv6-groups.ts).
import type { AddressFamily } from '../../../domain/address.js';
import type { IptablesListing } from '../../parsers/types.js';
import { addressGroups6, type AddressGroup } from './ipv6-groups.js';
import { findChain, type RuleSpec } from './rule-spec.js';

export const TRAFFIC_CHAIN = 'TRAFFIC';
export const DOWN_CHAIN = 'TRAFFIC_DOWN';
export const UP_CHAIN = 'TRAFFIC_UP';
/** Sub-chains per direction of the tree layout: fixed names, so every listing names the same chains. */
export const TREE_SUBCHAINS = 16;
const TREE_DOWN_CHAINS = Array.from({ length: TREE_SUBCHAINS }, (_, k) => `${DOWN_CHAIN}_${k}`);
const TREE_UP_CHAINS = Array.from({ length: TREE_SUBCHAINS }, (_, k) => `${UP_CHAIN}_${k}`);
const TREE_DOWN_SET: ReadonlySet<string> = new Set(TREE_DOWN_CHAINS);
const TREE_UP_SET: ReadonlySet<string> = new Set(TREE_UP_CHAINS);
/** Every chain lantop may own, in the order plans visit them (a chain before the sub-chains its rules jump to). */
export const LANTOP_CHAINS: readonly string[] = [TRAFFIC_CHAIN, DOWN_CHAIN, UP_CHAIN, ...TREE_DOWN_CHAINS, ...TREE_UP_CHAINS];

export type RuleLayout = 'flat' | 'split' | 'tree';
export const RULE_LAYOUTS: readonly RuleLayout[] = ['flat', 'split', 'tree'];

/**
 * Used when neither the user nor the router says otherwise, for a LAN of up to TREE_FROM_HOSTS
 * hosts (see BENCHMARKS.md for the choice).
 */
export const DEFAULT_LAYOUT: RuleLayout = 'split';
/**
 * From this many hosts of a family the default is the tree (issue 21). Measured per packet on the
 * lab router with 254 hosts: split costs its last host 65.7 % of the no-rules forwarding rate (a walk
 * of 255 rules, ~5 ns each), the tree 91.5 % (32 rules) and its first host 93.6 %, against split's
 * 97 % for its first host. A host's walk is about n + 2 rules in split and 2 + groups + n/groups in
 * the tree, so below ~30 hosts the two differ by a few dozen ns per packet at most, and split keeps
 * the ruleset to three chains; above, split's later hosts pay for every host before them.
 */
export const TREE_FROM_HOSTS = 33;

/** The default layout for a family with this many host addresses. */
export function defaultLayoutFor(hostCount: number): RuleLayout {
  return hostCount >= TREE_FROM_HOSTS ? 'tree' : DEFAULT_LAYOUT;
}

export interface HostCounterRule {
  direction: 'down' | 'up';
  address: string;
}

export interface LayoutStrategy {
  readonly name: RuleLayout;
  /** For people (dry-run, doctor). */
  readonly description: string;
  /** The rules lantop wants for these hosts (all of one family, IPv4 unless said), per chain, in order. */
  desiredRules(hostIps: readonly string[], options: { wan: string; isTagging: boolean; family?: AddressFamily }): Map<string, RuleSpec[]>;
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

/** The two jumps of TRAFFIC into the per-direction chains (split and tree). */
function directionJumps(wan: string, isTagging: boolean): RuleSpec[] {
  return [
    { chain: TRAFFIC_CHAIN, in: wan, out: null, source: null, destination: null, target: DOWN_CHAIN, isTagged: isTagging },
    { chain: TRAFFIC_CHAIN, in: null, out: wan, source: null, destination: null, target: UP_CHAIN, isTagged: isTagging },
  ];
}

/**
 * A host rule of a per-direction chain: TRAFFIC_DOWN/UP (split) or a tree sub-chain. One function
 * for both, so a listing read during a switch between them counts every host once either way.
 */
function directionCounter(spec: RuleSpec): HostCounterRule | null {
  const isDown = spec.chain === DOWN_CHAIN || TREE_DOWN_SET.has(spec.chain);
  if (isDown && spec.destination !== null && spec.source === null) return { direction: 'down', address: spec.destination };
  const isUp = spec.chain === UP_CHAIN || TREE_UP_SET.has(spec.chain);
  if (isUp && spec.source !== null && spec.destination === null) return { direction: 'up', address: spec.source };
  return null;
}

const SPLIT: LayoutStrategy = {
  name: 'split',
  description: `split layout: chain ${TRAFFIC_CHAIN} (one jump per direction) to ${DOWN_CHAIN} and ${UP_CHAIN} (one rule per host each), jumped to from FORWARD`,
  desiredRules(hostIps, { wan, isTagging }) {
    return new Map<string, RuleSpec[]>([
      [TRAFFIC_CHAIN, directionJumps(wan, isTagging)],
      [DOWN_CHAIN, hostIps.map((ip) => ({ chain: DOWN_CHAIN, in: null, out: null, source: null, destination: ip, target: 'RETURN', isTagged: isTagging }))],
      [UP_CHAIN, hostIps.map((ip) => ({ chain: UP_CHAIN, in: null, out: null, source: ip, destination: null, target: 'RETURN', isTagged: isTagging }))],
    ]);
  },
  counterOf: directionCounter,
  isOwnShape(spec) {
    const subDown = spec.in === null && spec.out === null && spec.source === null && spec.destination !== null;
    const subUp = spec.in === null && spec.out === null && spec.source !== null && spec.destination === null;
    const jump = spec.source === null && spec.destination === null && (spec.target === DOWN_CHAIN || spec.target === UP_CHAIN);
    return subDown || subUp || jump;
  },
};

const TREE: LayoutStrategy = {
  name: 'tree',
  description: `tree layout: chain ${TRAFFIC_CHAIN} (one jump per direction) to ${DOWN_CHAIN} and ${UP_CHAIN} (one rule per address group) to ${DOWN_CHAIN}_<k> and ${UP_CHAIN}_<k> (one rule per host each), jumped to from FORWARD`,
  desiredRules(hostIps, { wan, isTagging, family }) {
    const rules = new Map<string, RuleSpec[]>([[TRAFFIC_CHAIN, directionJumps(wan, isTagging)], [DOWN_CHAIN, []], [UP_CHAIN, []]]);
    for (const group of family === 6 ? addressGroups6(hostIps, TREE_SUBCHAINS, MAX_GROUPS) : addressGroups(hostIps)) {
      const downChain = TREE_DOWN_CHAINS[group.index]!;
      const upChain = TREE_UP_CHAINS[group.index]!;
      // -j, not -g: after the host's RETURN the packet walks the remaining group rules (which
      // cannot match it): the last host walks no more than with -g, and the rule stays a plain jump.
      rules.get(DOWN_CHAIN)!.push({ chain: DOWN_CHAIN, in: null, out: null, source: null, destination: group.prefix, target: downChain, isTagged: isTagging });
      rules.get(UP_CHAIN)!.push({ chain: UP_CHAIN, in: null, out: null, source: group.prefix, destination: null, target: upChain, isTagged: isTagging });
      for (const ip of group.hosts) {
        (rules.get(downChain) ?? rules.set(downChain, []).get(downChain)!).push({ chain: downChain, in: null, out: null, source: null, destination: ip, target: 'RETURN', isTagged: isTagging });
        (rules.get(upChain) ?? rules.set(upChain, []).get(upChain)!).push({ chain: upChain, in: null, out: null, source: ip, destination: null, target: 'RETURN', isTagged: isTagging });
      }
    }
    return rules;
  },
  counterOf: directionCounter,
  isOwnShape(spec) {
    const isGroupRule = spec.in === null && spec.out === null && spec.target !== null
      && (TREE_DOWN_SET.has(spec.target) ? spec.source === null && spec.destination !== null : TREE_UP_SET.has(spec.target) && spec.destination === null && spec.source !== null);
    return isGroupRule || SPLIT.isOwnShape(spec);
  },
};

/** Address groups: the most a tree layout dispatches on before its rules outnumber the hosts'. */
const MAX_GROUPS = 2 * TREE_SUBCHAINS;
/** Longest group prefix: 16 addresses, so a full /24 makes 16 groups of 16. */
const GROUP_PREFIX_LENGTH = 28;

/**
 * The hosts (canonical IPv4, in the plan's order) by group: /28 prefixes, made shorter until there
 * are at most MAX_GROUPS of them (hosts spread over many /24s), in address order. Sub-chain k holds
 * every group with number ≡ k: groups never overlap, so each host has exactly one rule.
 */
export function addressGroups(hostIps: readonly string[]): AddressGroup[] {
  const values = hostIps.map(ipv4Value);
  let length = GROUP_PREFIX_LENGTH;
  while (length > 8 && new Set(values.map((v) => v >>> (32 - length))).size > MAX_GROUPS) length--;
  const groups = new Map<number, AddressGroup>();
  for (let i = 0; i < values.length; i++) {
    const number = values[i]! >>> (32 - length);
    let group = groups.get(number);
    if (group === undefined) {
      group = { prefix: `${ipv4Text((number << (32 - length)) >>> 0)}/${length}`, index: number % TREE_SUBCHAINS, hosts: [] };
      groups.set(number, group);
    }
    group.hosts.push(hostIps[i]!);
  }
  return [...groups.entries()].sort((a, b) => a[0] - b[0]).map(([, g]) => g);
}

function ipv4Value(ip: string): number {
  const [a, b, c, d] = ip.split('.').map(Number);
  return ((a! << 24) | (b! << 16) | (c! << 8) | d!) >>> 0;
}

function ipv4Text(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}

export const LAYOUTS: Readonly<Record<RuleLayout, LayoutStrategy>> = { flat: FLAT, split: SPLIT, tree: TREE };

/** The layout already on the router, or null when none of lantop's chains is there. */
export function layoutOfListing(listing: IptablesListing): RuleLayout | null {
  if (listing.chains.some((c) => TREE_DOWN_SET.has(c.name) || TREE_UP_SET.has(c.name))) return 'tree';
  if (findChain(listing, DOWN_CHAIN) !== undefined || findChain(listing, UP_CHAIN) !== undefined) return 'split';
  if (findChain(listing, TRAFFIC_CHAIN) !== undefined) return 'flat';
  return null;
}

/** A rule of any layout's shape (how untagged rules are recognised when not tagging). */
export function isAnyLayoutShape(spec: RuleSpec): boolean {
  return FLAT.isOwnShape(spec) || TREE.isOwnShape(spec);
}
