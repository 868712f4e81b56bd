// The iptables backend's plans: from one filter-table listing (`iptables -L -v -x -n`) to the exact
// commands that make it count the wanted hosts (setup), empty lantop's chains (flush) or remove
// them (teardown). `setup --dry-run` prints exactly what these return; nothing here talks to a
// router. Hosts enter as address strings and are re-parsed here, so even a caller bug cannot
// smuggle router text into a command. An ip6tables listing is planned the same way with family 6
// (issue 15): only IPv6 host addresses get rules there, only IPv4 ones in iptables.
import type { IptablesListing, Rule } from '../../parsers/types.js';
import { canonicalIpv4, canonicalIpv6, compareAddresses, type AddressFamily } from '../../../domain/address.js';
import { isHostIpv6 } from '../../parsers/ipv6-neighbours.js';
import { canonicalInterfaceName } from '../../tokens.js';
import { command, findChain, sameSpec, specOfListedRule, tokensOf, type RuleSpec } from './rule-spec.js';
import { specOfListedPrefixRule } from './prefix-spec.js';
import { isAnyLayoutShape, LANTOP_CHAINS, LAYOUTS, TRAFFIC_CHAIN, type RuleLayout } from './layouts.js';
import { jumpPositions, planJump, planRouterJumpRemoval, ROUTER_CHAIN_NAMES } from './router-chains.js';
import { CLASS_CHAIN } from './class-chain.js';

export interface PlanOptions {
  wan: string;
  layout: RuleLayout;
  /** Tag rules with `-m comment --comment lantop` (off when the router lacks the comment match). */
  isTagging: boolean;
  /** Take over rules in lantop's chains that lantop did not write. */
  isAdopting: boolean;
  /** Remove rules for hosts not in the desired list (off by default: their counters are history). */
  isPruning: boolean;
  /** The iptables binary as the firmware table names it (ip6tables for family 6). */
  iptables: string;
  /** The listing's address family: 4 (iptables, the default) or 6 (ip6tables). */
  family?: AddressFamily;
}

export interface TrafficPlan {
  /** Commands in the order they must run. Empty when the router already matches. */
  commands: string[];
  /** Rules in lantop's chains that lantop did not write; non-empty and not adopting = refuse. */
  foreignRules: Rule[];
  /** Host addresses this plan cannot count (not a host address of its family): they get no rules. */
  rejectedHosts: string[];
  /** Human-readable notes on what the plan does (moved jump, removed duplicates, …). */
  notes: string[];
}

/** The accounting rules lantop wants for these hosts in a layout, per chain, in order (library API). */
export function desiredRules(hostIps: readonly string[], options: Pick<PlanOptions, 'wan' | 'layout' | 'isTagging' | 'family'>): Map<string, RuleSpec[]> {
  return LAYOUTS[options.layout].desiredRules(hostIps, options);
}

/** A listed rule of lantop's chains as a spec: a host rule, or a tree layout's group rule (a prefix). */
function specOf(chainName: string, rule: Rule, family: AddressFamily): RuleSpec | null {
  return specOfListedRule(chainName, rule, family) ?? specOfListedPrefixRule(chainName, rule, family);
}

/** Lantop's rules keep their shape exactly; an untagged rule of that shape counts when not tagging. */
function isLantopShape(spec: RuleSpec, options: Pick<PlanOptions, 'isTagging'>): boolean {
  if (spec.isTagged) return true;
  if (options.isTagging) return false;
  return isAnyLayoutShape(spec);
}

/** Valid host IPs of the family, canonical, deduplicated, in numeric order; the rest reported as rejected. */
function validHostIps(hostIps: readonly string[], family: AddressFamily): { ips: string[]; rejected: string[] } {
  const ips = new Set<string>();
  const rejected: string[] = [];
  for (const raw of hostIps) {
    if (family === 6) {
      // Never a link-local or multicast address: no host is reached through the router by it.
      const ip = canonicalIpv6(raw);
      if (ip === null || !isHostIpv6(ip)) rejected.push(raw);
      else ips.add(ip);
      continue;
    }
    const ip = canonicalIpv4(raw);
    if (ip === null || ip === '0.0.0.0' || ip === '255.255.255.255') rejected.push(raw);
    else ips.add(ip);
  }
  return { ips: [...ips].sort(compareAddresses), rejected };
}

/**
 * Plans `setup`: from the current filter-table listing (one `iptables -L -v -x -n`) to the desired
 * rules, sending only what is missing or wrong. Order matters for safety: chains first, then their
 * rules, the FORWARD jump last, so a jump never points at a chain that is not there.
 */
export function planSetup(listing: IptablesListing, hostIpsIn: readonly string[], options: PlanOptions): TrafficPlan {
  const wan = canonicalInterfaceName(options.wan);
  if (wan === null) throw new TypeError(`invalid WAN interface name`);
  const family = options.family ?? 4;
  const opts = { ...options, wan, family };
  const { ips: wantedIps, rejected } = validHostIps(hostIpsIn, family);
  const notes: string[] = [];
  const commands: string[] = [];
  const foreignRules: Rule[] = [];
  const ipt = options.iptables;

  // The tree groups hosts by address: a departed host keeps its rule (unless pruning) only if it
  // stays in the layout, so hosts lantop already counts are laid out with the wanted ones.
  const layoutIps = options.layout === 'tree' && !options.isPruning ? withCountedHosts(wantedIps, listing, opts) : wantedIps;
  const desired = LAYOUTS[options.layout].desiredRules(layoutIps, opts);
  const allChains = LANTOP_CHAINS;
  const deletions: string[] = [];
  const additions: string[] = [];
  const creations: string[] = [];

  for (const chainName of allChains) {
    const want = desired.get(chainName);
    const existing = findChain(listing, chainName);
    if (want === undefined) {
      // A chain of the other layout: empty it and remove it after the jumps into it are gone.
      if (existing !== undefined) {
        for (const rule of existing.rules) {
          const spec = specOf(chainName, rule, family);
          if (spec === null || !isLantopShape(spec, opts)) foreignRules.push(rule);
        }
        notes.push(`switching layout: ${chainName} is emptied and removed`);
      }
      continue;
    }
    if (existing === undefined) {
      creations.push(command(ipt, '-N', chainName));
      for (const spec of want) additions.push(command(ipt, '-A', chainName, tokensOf(spec)));
      continue;
    }
    const remaining = [...want];
    const positions: number[] = [];
    for (const [index, rule] of existing.rules.entries()) {
      const spec = specOf(chainName, rule, family);
      if (spec === null || !isLantopShape(spec, opts)) {
        foreignRules.push(rule);
        continue;
      }
      const wanted = remaining.findIndex((w) => sameSpec(w, spec));
      if (wanted >= 0) {
        remaining.splice(wanted, 1);
        continue;
      }
      // Ours but not wanted: a duplicate, a stale shape (old WAN name, other tagging), or the
      // rule of a host that is no longer discovered — kept unless pruning (its counter is history).
      const isDuplicate = want.some((w) => sameSpec(w, spec));
      const hostIp = spec.destination ?? spec.source;
      const isDepartedHost = !isDuplicate && hostIp !== null && (LAYOUTS[options.layout].desiredRules([hostIp], opts).get(chainName) ?? []).some((w) => sameSpec(w, spec));
      if (isDepartedHost && !options.isPruning) continue;
      // By line number, not by spec: `-D spec` removes the FIRST match, which for a duplicate is
      // the older rule with the larger counter.
      positions.push(rule.num ?? index + 1);
      notes.push(isDuplicate ? `removing a duplicate rule in ${chainName}` : isDepartedHost ? `removing the rule of departed host ${hostIp} in ${chainName}` : `removing a stale rule in ${chainName}`);
    }
    for (const position of positions.sort((a, b) => b - a)) deletions.push(command(ipt, '-D', chainName, [String(position)]));
    for (const spec of remaining) additions.push(command(ipt, '-A', chainName, tokensOf(spec)));
  }

  // The jump. Position 1 matters: consumer firewalls put `-m state --state ESTABLISHED,RELATED
  // -j ACCEPT` early in FORWARD, and a jump after it would count only each connection's first packets.
  const forward = findChain(listing, 'FORWARD');
  // lantop's block chain (issue 16, block-rules.ts) keeps position 1: it drops before anything is counted.
  const first = forward?.rules[0]?.target === 'LANTOP_BLOCK' ? 2 : 1;
  const jumpCommands = planJump(forward, 'FORWARD', TRAFFIC_CHAIN, first, ipt, notes);

  if (jumpPositions(forward, TRAFFIC_CHAIN).length === 0 && findChain(listing, TRAFFIC_CHAIN) === undefined) notes.push('creating the TRAFFIC chain and its FORWARD jump');
  commands.push(...creations, ...deletions, ...additions, ...jumpCommands);
  // Chains of the other layout go last: flushed, then removed once nothing jumps to them.
  const staleChains = allChains.filter((name) => desired.get(name) === undefined && findChain(listing, name) !== undefined);
  for (const name of staleChains) commands.push(command(ipt, '-F', name), command(ipt, '-X', name));
  return { commands, foreignRules, rejectedHosts: rejected, notes };
}

/** The wanted hosts and those with a host rule of lantop's shape in the listing, in address order. */
function withCountedHosts(wantedIps: readonly string[], listing: IptablesListing, options: Pick<PlanOptions, 'wan' | 'isTagging'> & { family: AddressFamily }): string[] {
  const ips = new Set(wantedIps);
  for (const chainName of LANTOP_CHAINS) {
    for (const rule of findChain(listing, chainName)?.rules ?? []) {
      // Read for the listing's family: an address of the other family is never lantop's.
      const spec = specOfListedRule(chainName, rule, options.family);
      if (spec === null || !isLantopShape(spec, options)) continue;
      const held = LAYOUTS.flat.counterOf(spec, options.wan) ?? LAYOUTS.tree.counterOf(spec, options.wan);
      // Laid out again, so written into commands: a host address of the family only.
      if (held !== null && (options.family === 4 || isHostIpv6(held.address))) ips.add(held.address);
    }
  }
  return ips.size === wantedIps.length ? [...wantedIps] : [...ips].sort(compareAddresses);
}

/**
 * `flush`: empty the chains (the router's and the classes' too); TRAFFIC, TRAFFIC_CLASS and their
 * jumps stay so the next setup re-adds the rules.
 */
export function planFlush(listing: IptablesListing, iptables: string): string[] {
  return [...LANTOP_CHAINS, ...ROUTER_CHAIN_NAMES, CLASS_CHAIN].filter((name) => findChain(listing, name) !== undefined).map((name) => command(iptables, '-F', name));
}

/**
 * `teardown`: every jump to TRAFFIC and TRAFFIC_CLASS out of FORWARD (highest line first, both
 * together: each delete shifts the lines below it) and to TRAFFIC_IN/OUT out of INPUT/OUTPUT, then
 * lantop's chains; nothing else.
 */
export function planTeardown(listing: IptablesListing, iptables: string): string[] {
  const commands: string[] = [];
  const forward = findChain(listing, 'FORWARD');
  for (const position of [...jumpPositions(forward, TRAFFIC_CHAIN), ...jumpPositions(forward, CLASS_CHAIN)].sort((a, b) => b - a)) commands.push(command(iptables, '-D', 'FORWARD', [String(position)]));
  commands.push(...planRouterJumpRemoval(listing, iptables));
  const present = [...LANTOP_CHAINS, ...ROUTER_CHAIN_NAMES, CLASS_CHAIN].filter((name) => findChain(listing, name) !== undefined);
  for (const name of present) commands.push(command(iptables, '-F', name));
  for (const name of present) commands.push(command(iptables, '-X', name));
  return commands;
}
