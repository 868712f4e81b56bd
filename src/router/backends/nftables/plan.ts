// The nftables backend's plans: from one listing of `table inet lantop` to the exact `nft -f`
// script lines that make it count (setup), empty its counters (flush) or remove it (teardown).
// `setup --dry-run` prints exactly these lines; apply.ts sends them as one transaction. Every line
// names `inet lantop` and nothing else; addresses and the WAN name enter only as validated tokens
// (canonicalAddress, canonicalInterfaceName), never as router text.
//
// Order within the script matters even though it commits as one: nft resolves references in order,
// so stale rules go first (they may reference sets and chains that go next), then sets and chains,
// then host elements and rules, and the forward rules last.
import { compareAddresses, canonicalAddress, addressFamily } from '../../../domain/address.js';
import { canonicalInterfaceName } from '../../tokens.js';
import { findChain, findSet, type NftRule, type NftSet, type NftTable } from './nft-model.js';
import {
  CLASS_CHAIN, CLASS_DECLARATION, DOWN_CHAIN, FORWARD_CHAIN, FORWARD_DECLARATION, LANTOP_CHAINS, LANTOP_COMMENT, LANTOP_SETS, ROUTER_CHAIN_NAMES, ROUTER_CHAINS, SET_SLOTS, TABLE, UP_CHAIN,
  elementAddress, forwardRules, hostRule, hostRuleAddress, isForwardAsDeclared, isLantopRule, isRouterChainAsDeclared, isSetAsDeclared, layoutOfTable,
  routerDeclaration, routerRule, setDeclaration, classRules, installedClasses, isClassChainAsDeclared,
  type Direction, type NftLayout, type SetSlot,
} from './layouts.js';
import type { NftChain } from './nft-model.js';
import { classKey, classOfKey, compareClasses, type TrafficClass } from '../../../domain/traffic-class.js';
import { COUNTER_NFT_CHAIN_NAMES } from './counter-rules.js';

export interface NftPlanOptions {
  wan: string;
  layout: NftLayout;
  isPruning: boolean;
  /** Traffic classes (issue 19): absent or null keeps those in place, [] removes them all, a list: exactly these. */
  classes?: readonly TrafficClass[] | null;
}

export interface NftPlan {
  commands: string[];
  /** Objects in lantop's table that lantop did not write, one line each (raw router text). */
  foreign: string[];
  rejectedHosts: string[];
  notes: string[];
}

export const CREATE_TABLE = `create table ${TABLE}`;
export const DELETE_TABLE = `delete table ${TABLE}`;
const tagged = (rule: string) => `${rule} comment "${LANTOP_COMMENT}"`;

/** Valid host addresses, canonical, deduplicated, in address order; the rest rejected (raw). */
export function validHostAddresses(hosts: readonly string[]): { addresses: string[]; rejected: string[] } {
  const addresses = new Set<string>();
  const rejected: string[] = [];
  for (const raw of hosts) {
    const address = typeof raw === 'string' ? canonicalAddress(raw) : null;
    if (address === null || !isCountable(address)) rejected.push(String(raw));
    else addresses.add(address);
  }
  return { addresses: [...addresses].sort(compareAddresses), rejected };
}

/** Unicast addresses a router forwards: not unspecified, broadcast, multicast, loopback or link-local. */
function isCountable(address: string): boolean {
  if (addressFamily(address) === 4) {
    const first = Number(address.split('.')[0]);
    return address !== '0.0.0.0' && address !== '255.255.255.255' && first !== 127 && first < 224;
  }
  return address !== '::' && address !== '::1' && !/^f[ef]/.test(address) && !address.startsWith('::ffff:');
}

function wanToken(wan: string): string {
  const token = canonicalInterfaceName(wan);
  if (token === null) throw new TypeError('invalid WAN interface name');
  return token;
}

/** The whole table from nothing. */
function creation(layout: NftLayout, wan: string, addresses: readonly string[], classes: readonly TrafficClass[]): string[] {
  const commands = [CREATE_TABLE];
  for (const slot of layout === 'rules' ? [] : SET_SLOTS) commands.push(`add set ${TABLE} ${slot.name} ${declarationOf(layout, slot)}`);
  commands.push(`add chain ${TABLE} ${FORWARD_CHAIN} ${FORWARD_DECLARATION}`);
  if (layout === 'rules') commands.push(`add chain ${TABLE} ${DOWN_CHAIN}`, `add chain ${TABLE} ${UP_CHAIN}`);
  for (const slot of ROUTER_CHAINS) commands.push(`add chain ${TABLE} ${slot.name} ${routerDeclaration(slot)}`);
  if (classes.length > 0) commands.push(`add chain ${TABLE} ${CLASS_CHAIN} ${CLASS_DECLARATION}`);
  commands.push(...hostAdditions(layout, addresses, () => false));
  for (const rule of forwardRules(layout, wan)) commands.push(`add rule ${TABLE} ${FORWARD_CHAIN} ${tagged(rule)}`);
  for (const slot of ROUTER_CHAINS) commands.push(`add rule ${TABLE} ${slot.name} ${tagged(routerRule(slot, wan))}`);
  for (const rule of classRules(classes, wan)) commands.push(`add rule ${TABLE} ${CLASS_CHAIN} ${tagged(rule)}`);
  return commands;
}

/** Only called for the set layouts. */
const declarationOf = (layout: NftLayout, slot: SetSlot): string => setDeclaration(layout, slot) ?? '';

/** Per-host elements (static-sets) or rules (rules) for addresses not yet there: downloads first, then uploads. */
function hostAdditions(layout: NftLayout, addresses: readonly string[], isPresent: (address: string, direction: Direction) => boolean): string[] {
  const out: string[] = [];
  if (layout === 'static-sets') {
    for (const slot of SET_SLOTS) {
      for (const address of addresses) if (addressFamily(address) === slot.family && !isPresent(address, slot.direction)) out.push(`add element ${TABLE} ${slot.name} { ${address} }`);
    }
  } else if (layout === 'rules') {
    for (const [chain, direction] of [[DOWN_CHAIN, 'down'], [UP_CHAIN, 'up']] as const) {
      for (const address of addresses) if (!isPresent(address, direction)) out.push(`add rule ${TABLE} ${chain} ${tagged(hostRule(address, direction))}`);
    }
  }
  return out;
}

function describeSet(set: NftSet): string {
  return `${set.kind} ${set.name} (${set.type ?? 'type unknown'}, ${set.elements.length} element(s))`;
}

/**
 * Plans `setup`: from the listed table (null: it does not exist) to the layout counting these hosts,
 * sending only what is missing or wrong; the counters in place are kept. Objects someone else put in
 * the table are reported in `foreign` and left alone.
 */
export function planNftInstall(table: NftTable | null, hosts: readonly string[], options: NftPlanOptions): NftPlan {
  const wan = wanToken(options.wan);
  const { layout } = options;
  const { addresses, rejected } = validHostAddresses(hosts);
  const asked = options.classes === undefined || options.classes === null ? null : dedupeClasses(options.classes);
  if (table === null) {
    const classes = asked ?? [];
    return { commands: creation(layout, wan, addresses, classes), foreign: [], rejectedHosts: rejected, notes: [`creating table ${TABLE} (${layout})`, ...(classes.length > 0 ? [`counting traffic classes ${classes.map(classKey).join(', ')} in chain ${CLASS_CHAIN}`] : [])] };
  }

  const notes: string[] = [];
  const foreign: string[] = [];
  const first: string[] = []; // stale rules deleted
  const objects: string[] = []; // chains and sets removed, created
  const hostsOut: string[] = []; // host entries removed, added
  const last: string[] = []; // forward rules added

  for (const set of table.sets) if (!LANTOP_SETS.includes(set.name) || set.kind !== 'set') foreign.push(describeSet(set));
  for (const other of table.others) foreign.push(`${other.kind} ${other.name}`);
  for (const chain of table.chains) {
    // The custom counters' chains (issue 18) are planned by counter-rules.ts, from the same listing.
    if (COUNTER_NFT_CHAIN_NAMES.includes(chain.name)) continue;
    if (!LANTOP_CHAINS.includes(chain.name) && !ROUTER_CHAIN_NAMES.includes(chain.name) && chain.name !== CLASS_CHAIN) foreign.push(`chain ${chain.name} (${chain.rules.length} rule(s))`);
    else for (const rule of chain.rules) if (!isLantopRule(rule)) foreign.push(`in chain ${chain.name}: ${rule.display}`);
  }
  const previous = layoutOfTable(table, wan);
  if (previous !== null && previous !== layout) notes.push(`switching layout from ${previous} to ${layout}: the counters start again from 0`);

  // The forward chain (and, after the sets and host chains, the router's own: issue 19): declared
  // as lantop declares them, holding exactly lantop's rules.
  const forward = findChain(table, FORWARD_CHAIN);
  planBaseChain(forward, FORWARD_CHAIN, FORWARD_DECLARATION, forward !== null && isForwardAsDeclared(forward), forwardRules(layout, wan), '(nothing was being counted)', { first, objects, last, notes });

  // Sets: the layout's, as declared; a set of another declaration is re-created (its counters go).
  const keptSets = new Set<string>();
  for (const slot of SET_SLOTS) {
    const set = findSet(table, slot.name);
    if (set !== null && set.kind !== 'set') continue; // a map of that name: foreign, left alone
    const isWanted = layout !== 'rules';
    if (set !== null && isWanted && isSetAsDeclared(set, layout, slot)) {
      keptSets.add(slot.name);
      continue;
    }
    if (set !== null) objects.push(`delete set ${TABLE} ${slot.name}`);
    if (isWanted) objects.push(`add set ${TABLE} ${slot.name} ${declarationOf(layout, slot)}`);
  }
  // The host chains: wanted by the rules layout only.
  for (const name of [DOWN_CHAIN, UP_CHAIN]) {
    const chain = findChain(table, name);
    if (layout === 'rules') {
      if (chain === null) objects.push(`add chain ${TABLE} ${name}`);
      else if (chain.hook !== null) objects.push(`flush chain ${TABLE} ${name}`, `delete chain ${TABLE} ${name}`, `add chain ${TABLE} ${name}`);
    } else if (chain !== null) objects.push(`flush chain ${TABLE} ${name}`, `delete chain ${TABLE} ${name}`);
  }

  for (const slot of ROUTER_CHAINS) {
    const chain = findChain(table, slot.name);
    planBaseChain(chain, slot.name, routerDeclaration(slot), chain !== null && isRouterChainAsDeclared(chain, slot), [routerRule(slot, wan)], "(the router's own WAN traffic)", { first, objects, last, notes });
  }

  planClassChain(table, wan, asked, { first, objects, last, notes });

  // Host entries in what is kept; departed hosts keep theirs unless pruning (their counters are history).
  const wantedSet = new Set(addresses);
  const present = new Set<string>();
  const key = (address: string, direction: Direction) => `${direction} ${address}`;
  if (layout === 'static-sets') {
    for (const slot of SET_SLOTS) {
      if (!keptSets.has(slot.name)) continue;
      for (const element of findSet(table, slot.name)!.elements) {
        const address = elementAddress(element.value, slot.family);
        if (address === null) continue;
        present.add(key(address, slot.direction));
        if (options.isPruning && !wantedSet.has(address)) {
          hostsOut.push(`delete element ${TABLE} ${slot.name} { ${address} }`);
          notes.push(`removing departed host ${address} from set ${slot.name}`);
        }
      }
    }
  } else if (layout === 'rules') {
    for (const [name, direction] of [[DOWN_CHAIN, 'down'], [UP_CHAIN, 'up']] as const) {
      const chain = findChain(table, name);
      if (chain === null || chain.hook !== null) continue;
      const stale: NftRule[] = [];
      for (const rule of chain.rules) {
        if (!isLantopRule(rule)) continue;
        const address = hostRuleAddress(rule, direction);
        // A second rule of an address never counts (the first returns): removed with stale shapes.
        if (address === null || present.has(key(address, direction))) stale.push(rule);
        else if (options.isPruning && !wantedSet.has(address)) {
          stale.push(rule);
          notes.push(`removing the rule of departed host ${address} in chain ${name}`);
        } else present.add(key(address, direction));
      }
      const removal = deleteByHandle(name, stale);
      if (removal === null) notes.push(`${stale.length} stale rule(s) in chain ${name} stay: the listing has no rule handles`);
      else hostsOut.push(...removal);
    }
  }
  hostsOut.push(...hostAdditions(layout, addresses, (address, direction) => present.has(key(address, direction))));
  if (layout === 'dynamic-sets' && options.isPruning) notes.push('dynamic sets prune themselves: an address idle for 7 days expires');
  return { commands: [...first, ...objects, ...hostsOut, ...last], foreign, rejectedHosts: rejected, notes };
}

/**
 * A base chain of lantop's: created when absent, re-created when hooked otherwise, else its stale
 * lantop rules (another WAN or layout, duplicates) deleted and the missing wanted ones added.
 */
function planBaseChain(chain: NftChain | null, name: string, declaration: string, isAsDeclared: boolean, wanted: readonly string[], why: string, out: { first: string[]; objects: string[]; last: string[]; notes: string[] }): void {
  let remaining = [...wanted];
  if (chain === null || !isAsDeclared) {
    if (chain !== null) {
      out.objects.push(`flush chain ${TABLE} ${name}`, `delete chain ${TABLE} ${name}`);
      out.notes.push(`re-creating chain ${name} (it was not hooked as lantop hooks it)`);
    } else out.notes.push(`creating chain ${name} ${why}`);
    out.objects.push(`add chain ${TABLE} ${name} ${declaration}`);
  } else {
    const stale = chain.rules.filter((rule) => {
      if (!isLantopRule(rule)) return false;
      const i = rule.norm === null ? -1 : remaining.indexOf(rule.norm);
      if (i < 0) return true;
      remaining.splice(i, 1);
      return false;
    });
    if (stale.length > 0) out.notes.push(`replacing ${stale.length} rule(s) of chain ${name} (another WAN or layout, or duplicates)`);
    const removal = deleteByHandle(name, stale);
    if (removal !== null) out.first.push(...removal);
    else if (chain.rules.every(isLantopRule)) {
      // No handles (a text listing without -a): nothing but lantop's rules, so flush and re-add.
      out.first.push(`flush chain ${TABLE} ${name}`);
      remaining = [...wanted];
    } else out.notes.push(`${stale.length} stale rule(s) in chain ${name} stay: the listing has no rule handles`);
  }
  for (const rule of remaining) out.last.push(`add rule ${TABLE} ${name} ${tagged(rule)}`);
}

/**
 * The classes chain (issue 19): the classes asked for (null: those in place) as planBaseChain keeps
 * a chain; none asked for: lantop's rules and, when nothing else is left in it, the chain removed.
 * With null and nothing in place (a flushed chain) it stays as it is.
 */
function planClassChain(table: NftTable, wan: string, asked: TrafficClass[] | null, out: { first: string[]; objects: string[]; last: string[]; notes: string[] }): void {
  const chain = findChain(table, CLASS_CHAIN);
  const wanted = asked ?? installedClasses(table, wan);
  if (wanted.length > 0) {
    const before = new Set(installedClasses(table, wan).map(classKey));
    const added = wanted.map(classKey).filter((k) => !before.has(k));
    const dropped = [...before].filter((k) => !wanted.some((c) => classKey(c) === k));
    if (chain !== null && added.length > 0) out.notes.push(`counting traffic class(es) ${added.join(', ')}`);
    if (dropped.length > 0) out.notes.push(`no longer counting traffic class(es) ${dropped.join(', ')}`);
    planBaseChain(chain, CLASS_CHAIN, CLASS_DECLARATION, chain !== null && isClassChainAsDeclared(chain), classRules(wanted, wan), `(traffic classes ${wanted.map(classKey).join(', ')})`, out);
    return;
  }
  if (chain === null || asked === null) return;
  const ours = chain.rules.filter((r) => isLantopRule(r));
  if (ours.length === chain.rules.length) {
    out.objects.push(`flush chain ${TABLE} ${CLASS_CHAIN}`, `delete chain ${TABLE} ${CLASS_CHAIN}`);
    out.notes.push(`no traffic classes: removing chain ${CLASS_CHAIN}`);
    return;
  }
  const removal = deleteByHandle(CLASS_CHAIN, ours);
  if (removal !== null) out.first.push(...removal);
  out.notes.push(removal === null ? `${ours.length} class rule(s) in chain ${CLASS_CHAIN} stay: the listing has no rule handles` : `no traffic classes: removing lantop's rules from chain ${CLASS_CHAIN} (it holds rules lantop did not write)`);
}

/** Once each, in classKey order; re-read from their keys, so only valid protocols and ports reach a command. */
function dedupeClasses(classes: readonly TrafficClass[]): TrafficClass[] {
  const out = new Map<string, TrafficClass>();
  for (const c of classes) {
    const valid = typeof c?.protocol === 'string' ? classOfKey(classKey(c)) : null;
    if (valid !== null) out.set(classKey(valid), valid);
  }
  return [...out.values()].sort(compareClasses);
}

/** `delete rule … handle N` for each; null when a handle is unknown (a text listing without `-a`). */
function deleteByHandle(chain: string, rules: readonly NftRule[]): string[] | null {
  if (!rules.every((r) => r.handle !== null && Number.isSafeInteger(r.handle) && r.handle > 0)) return null;
  return rules.map((r) => `delete rule ${TABLE} ${chain} handle ${r.handle}`);
}

/** `flush`: empty lantop's counters (set elements, host rules, the router's and the classes' rules); the table and its chains stay. */
export function planNftFlush(table: NftTable | null): string[] {
  if (table === null) return [];
  const commands: string[] = [];
  for (const name of LANTOP_SETS) {
    const set = findSet(table, name);
    if (set !== null && set.kind === 'set' && set.elements.length > 0) commands.push(`flush set ${TABLE} ${name}`);
  }
  // The router's chains are emptied like the host chains: the next setup or sync puts their rule back at 0.
  for (const name of [DOWN_CHAIN, UP_CHAIN, ...ROUTER_CHAIN_NAMES, CLASS_CHAIN]) {
    const ours = findChain(table, name)?.rules.filter(isLantopRule) ?? [];
    if (ours.length === 0) continue;
    // Someone else's rules in the chain stay where the handles allow it.
    const isOnlyOurs = ours.length === findChain(table, name)!.rules.length;
    commands.push(...((isOnlyOurs ? null : deleteByHandle(name, ours)) ?? [`flush chain ${TABLE} ${name}`]));
  }
  return commands;
}

/** `teardown`: lantop's table, and nothing else. */
export function planNftRemove(table: NftTable | null): string[] {
  return table === null ? [] : [DELETE_TABLE];
}
