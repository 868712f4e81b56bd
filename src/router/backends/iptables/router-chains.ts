// The router's own WAN traffic (issue 19), so lantop can say what share of the WAN's bytes its
// per-host counters saw: two more chains, TRAFFIC_IN jumped to from INPUT and TRAFFIC_OUT jumped to
// from OUTPUT, each holding one counting rule (`-i WAN` / `-o WAN`, no target). Both jumps sit at
// position 1, before any ACCEPT or DROP: a WAN packet the router then drops still crossed the WAN,
// and an `ESTABLISHED -j ACCEPT` first would hide every reply. Forwarded packets never pass INPUT or
// OUTPUT, so nothing here counts what TRAFFIC counts. ip6tables gets the same chains (the same
// listing is read, the same plan made with family 6); the reading sums both families.
//
// The chains are listed by the `iptables -L -v -x -n` each poll already sends (the whole filter
// table), so reading them costs no round trip. They never make the installation incomplete: host
// counting does not depend on them (BackendReading.isRouterCounterMissing).
import type { CounterPair } from '../../../domain/accounting.js';
import type { AddressFamily } from '../../../domain/address.js';
import type { Chain, IptablesListing, Rule } from '../../parsers/types.js';
import { canonicalInterfaceName } from '../../tokens.js';
import { addressOf, command, findChain, ifaceOf, sameSpec, specOfListedRule, tokensOf, type RuleSpec } from './rule-spec.js';

export const ROUTER_IN_CHAIN = 'TRAFFIC_IN';
export const ROUTER_OUT_CHAIN = 'TRAFFIC_OUT';

export interface RouterChain {
  name: string;
  /** The built-in chain that jumps to it. */
  hook: 'INPUT' | 'OUTPUT';
  /** down = what the router received from the WAN; up = what it sent there. */
  direction: 'down' | 'up';
}

export const ROUTER_CHAINS: readonly RouterChain[] = [
  { name: ROUTER_IN_CHAIN, hook: 'INPUT', direction: 'down' },
  { name: ROUTER_OUT_CHAIN, hook: 'OUTPUT', direction: 'up' },
];
export const ROUTER_CHAIN_NAMES: readonly string[] = ROUTER_CHAINS.map((c) => c.name);

/** The one rule lantop wants in the chain. */
function wantedRule(chain: RouterChain, wan: string, isTagging: boolean): RuleSpec {
  const isIn = chain.direction === 'down';
  return { chain: chain.name, in: isIn ? wan : null, out: isIn ? null : wan, source: null, destination: null, target: null, isTagged: isTagging };
}

/** A counting rule of the chain's shape, whatever the interface (how untagged rules are recognised). */
function isRouterShape(spec: RuleSpec, chain: RouterChain): boolean {
  const isIn = chain.direction === 'down';
  return spec.source === null && spec.destination === null && spec.target === null && (isIn ? spec.in !== null && spec.out === null : spec.out !== null && spec.in === null);
}

/** A jump with nothing else: the only kind lantop writes (and removes). */
export function isPlainJumpTo(rule: Rule, target: string): boolean {
  return rule.target === target && rule.extra.trim() === '' && addressOf(rule.source) === null && addressOf(rule.destination) === null && ifaceOf(rule.in) === null && ifaceOf(rule.out) === null;
}

/** The 1-based positions of the plain jumps to `target` in a built-in chain. */
export function jumpPositions(hookChain: Chain | undefined, target: string): number[] {
  return (hookChain?.rules ?? []).map((rule, i) => (isPlainJumpTo(rule, target) ? i + 1 : 0)).filter((n) => n > 0);
}

/**
 * The commands that leave exactly one plain jump to `target` at `first` in `hook`: inserted there
 * when absent or elsewhere, the others deleted by line number, highest first.
 */
export function planJump(hookChain: Chain | undefined, hook: string, target: string, first: number, iptables: string, notes: string[]): string[] {
  const positions = jumpPositions(hookChain, target);
  const commands: string[] = [];
  if (positions.length === 0) return [command(iptables, '-I', hook, [String(first), '-j', target])];
  const extra = positions.length - (positions[0] === first ? 1 : 0);
  if (positions[0] !== first) {
    commands.push(command(iptables, '-I', hook, [String(first), '-j', target]));
    notes.push(`moving the ${hook} jump from position ${positions[0]} to ${first}`);
  }
  // After an insert at `first`, the rules from there on moved down by one.
  const shift = positions[0] !== first ? 1 : 0;
  const toDelete = positions.filter((p) => p !== first || shift === 1).map((p) => (p >= first ? p + shift : p)).sort((a, b) => b - a);
  for (const position of toDelete.slice(0, extra)) commands.push(command(iptables, '-D', hook, [String(position)]));
  if (positions.length > 1) notes.push(`removing ${positions.length - 1} duplicate ${hook} jump(s)`);
  return commands;
}

export interface RouterPlanOptions {
  wan: string;
  isTagging: boolean;
  iptables: string;
  family?: AddressFamily;
}

export interface RouterPlan {
  commands: string[];
  /** Rules in TRAFFIC_IN/OUT that lantop did not write. */
  foreignRules: Rule[];
  notes: string[];
}

/**
 * Plans the router's counters in one listing: chains created first, then their rules (a stale one
 * — an old WAN name, a duplicate — deleted by line number), the jumps last, so a jump never points
 * at a chain that is not there. Empty when the listing already has them as wanted.
 */
export function planRouterCounters(listing: IptablesListing, options: RouterPlanOptions): RouterPlan {
  // A checked token only: the WAN name is written into commands.
  const wan = canonicalInterfaceName(options.wan);
  if (wan === null) throw new TypeError('invalid WAN interface name');
  const family = options.family ?? 4;
  const ipt = options.iptables;
  const creations: string[] = [];
  const deletions: string[] = [];
  const additions: string[] = [];
  const jumps: string[] = [];
  const foreignRules: Rule[] = [];
  const notes: string[] = [];
  const absent = ROUTER_CHAINS.filter((c) => findChain(listing, c.name) === undefined);
  if (absent.length === ROUTER_CHAINS.length) notes.push(`counting the router's own WAN traffic: chains ${ROUTER_IN_CHAIN} (from INPUT) and ${ROUTER_OUT_CHAIN} (from OUTPUT)`);
  for (const chain of ROUTER_CHAINS) {
    const want = wantedRule(chain, wan, options.isTagging);
    const existing = findChain(listing, chain.name);
    if (existing === undefined) {
      creations.push(command(ipt, '-N', chain.name));
      additions.push(command(ipt, '-A', chain.name, tokensOf(want)));
    } else {
      let isPresent = false;
      const positions: number[] = [];
      for (const [index, rule] of existing.rules.entries()) {
        const spec = specOfListedRule(chain.name, rule, family);
        const isOurs = spec !== null && (spec.isTagged || (!options.isTagging && isRouterShape(spec, chain)));
        if (!isOurs) {
          foreignRules.push(rule);
          continue;
        }
        if (!isPresent && sameSpec(spec, want)) {
          isPresent = true;
          continue;
        }
        positions.push(rule.num ?? index + 1);
        notes.push(sameSpec(spec, want) ? `removing a duplicate rule in ${chain.name}` : `removing a stale rule in ${chain.name}`);
      }
      for (const position of positions.sort((a, b) => b - a)) deletions.push(command(ipt, '-D', chain.name, [String(position)]));
      if (!isPresent) additions.push(command(ipt, '-A', chain.name, tokensOf(want)));
    }
    jumps.push(...planJump(findChain(listing, chain.hook), chain.hook, chain.name, 1, ipt, notes));
  }
  return { commands: [...creations, ...deletions, ...additions, ...jumps], foreignRules, notes };
}

/**
 * The router's counters in one listing, or null when they are not in place: a chain, its counting
 * rule for this WAN, or the jump to it is missing (the first matching rule counts, as for hosts).
 */
export function readRouterCounters(listing: IptablesListing, wan: string, family: AddressFamily = 4): CounterPair | null {
  const iface = canonicalInterfaceName(wan);
  if (iface === null) return null;
  const pair: CounterPair = { downBytes: 0, upBytes: 0 };
  for (const chain of ROUTER_CHAINS) {
    if (jumpPositions(findChain(listing, chain.hook), chain.name).length === 0) return null;
    const want = wantedRule(chain, iface, false);
    const rule = findChain(listing, chain.name)?.rules.find((r) => {
      const spec = specOfListedRule(chain.name, r, family);
      return spec !== null && sameSpec({ ...spec, isTagged: false }, want);
    });
    if (rule === undefined) return null;
    if (chain.direction === 'down') pair.downBytes = rule.bytes;
    else pair.upBytes = rule.bytes;
  }
  return pair;
}

/** `teardown`'s first part: every plain jump to the router's chains, highest line first per chain. */
export function planRouterJumpRemoval(listing: IptablesListing, iptables: string): string[] {
  const commands: string[] = [];
  for (const chain of ROUTER_CHAINS) {
    for (const position of jumpPositions(findChain(listing, chain.hook), chain.name).sort((a, b) => b - a)) commands.push(command(iptables, '-D', chain.hook, [String(position)]));
  }
  return commands;
}
