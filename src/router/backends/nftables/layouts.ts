// What lantop keeps in its own `table inet lantop` (issue 15), per layout, and how a listing of that
// table is read back: the counters per address and direction, and whether the installation is
// complete. Nothing here lives in `inet fw4`: fw4 reload/restart rewrite only their own table
// (openwrt/firewall4 root/sbin/fw4), so lantop's survives them; `fw4 flush` and a reboot delete it.
//
// One base chain `forward`, hooked at `filter + 10` with policy accept: after fw4's forward chain
// (priority filter), so it sees what the router really forwards and nothing fw4 dropped (measured:
// forwarded-netns.test.ts), and never needs a jump repaired. Download = in on the WAN interface, per
// destination; upload = out on the WAN, per source (before masquerading: that is postrouting).
//
//   dynamic-sets  sets dl4/ul4/dl6/ul6 `flags dynamic,timeout`; `update @dl4 { ip daddr counter }`
//                 counts every address on its first packet, no per-host commands at all. An
//                 element idle for the timeout expires (its counter goes, and comes back at 0).
//   static-sets   the same sets with a set-level `counter`, one element per host (kernel ≥ 5.7).
//   rules         chains dl/ul jumped to from forward; one `ip daddr X counter return` per host.
//
// The router's own WAN traffic (issue 19), for "accounted %": base chains router_in (hook input)
// and router_out (hook output), one `iifname "WAN" counter` / `oifname "WAN" counter` each, in every
// layout. Forwarded packets never pass input or output, so they count nothing the forward chain
// counts; the inet table counts IPv4 and IPv6 in one rule.
//
// Every rule lantop writes carries `comment "lantop"`; a rule without it is someone else's.
import { canonicalAddress, addressFamily } from '../../../domain/address.js';
import type { CounterPair } from '../../../domain/accounting.js';
import type { InstallationState } from '../../../domain/poller.js';
import { findChain, findSet, type NftChain, type NftRule, type NftSet, type NftTable } from './nft-model.js';
import { classKey, compareClasses, type ClassProtocol, type TrafficClass } from '../../../domain/traffic-class.js';
import { canonicalInterfaceName } from '../../tokens.js';

export const NFT_LAYOUTS = ['dynamic-sets', 'static-sets', 'rules'] as const;
export type NftLayout = (typeof NFT_LAYOUTS)[number];
/** Fewest rules per packet and no per-host commands (bench/router-cost.ts measures all three). */
export const DEFAULT_NFT_LAYOUT: NftLayout = 'dynamic-sets';

export function isNftLayout(name: string): name is NftLayout {
  return (NFT_LAYOUTS as readonly string[]).includes(name);
}

export const TABLE_FAMILY = 'inet';
export const TABLE_NAME = 'lantop';
/** How every command names the table: the one table lantop ever touches. */
export const TABLE = `${TABLE_FAMILY} ${TABLE_NAME}`;
export const FORWARD_CHAIN = 'forward';
export const DOWN_CHAIN = 'dl';
export const UP_CHAIN = 'ul';
export const LANTOP_COMMENT = 'lantop';
/** `filter + 10`: after fw4's forward chain (filter = 0). */
export const FORWARD_PRIORITY = 10;
export const FORWARD_DECLARATION = `{ type filter hook forward priority filter + ${FORWARD_PRIORITY}; policy accept; }`;

/**
 * `filter - 10`: before fw4's input and output chains (priority filter), where the forward chain
 * goes after fw4's. Accepting ends only the current base chain, but dropping ends them all
 * (doc/nft.txt, "Overall evaluation of the ruleset"): a chain after fw4's input would miss every
 * WAN packet fw4 drops or rejects (its input `policy drop`, the wan zone's reject), and those
 * crossed the WAN all the same. Not at `filter` itself: equal priorities run in undefined order.
 * Still after conntrack (-200) and mangle (-150): what is dropped there (e.g. conntrack INVALID)
 * goes uncounted, a few bytes at most.
 */
export const ROUTER_PRIORITY = -10;
export interface RouterChainSlot {
  name: string;
  hook: 'input' | 'output';
  /** down = what the router received from the WAN; up = what it sent there. */
  direction: Direction;
}
export const ROUTER_CHAINS: readonly RouterChainSlot[] = [
  { name: 'router_in', hook: 'input', direction: 'down' },
  { name: 'router_out', hook: 'output', direction: 'up' },
];
export const ROUTER_CHAIN_NAMES: readonly string[] = ROUTER_CHAINS.map((c) => c.name);

export function routerDeclaration(slot: RouterChainSlot): string {
  return `{ type filter hook ${slot.hook} priority filter - ${-ROUTER_PRIORITY}; policy accept; }`;
}

/** The router chain's one rule, normalised (nft-model.ts), comment left out. */
export function routerRule(slot: RouterChainSlot, wan: string): string {
  return `${slot.direction === 'down' ? 'iifname' : 'oifname'} "${wan}" counter`;
}

export function isRouterChainAsDeclared(chain: NftChain, slot: RouterChainSlot): boolean {
  return chain.type === 'filter' && chain.hook === slot.hook && chain.priority === ROUTER_PRIORITY && chain.policy === 'accept';
}

/**
 * The router's own WAN counters, or null when they are not in place: a chain missing or hooked
 * otherwise, or without lantop's counting rule for this WAN (the first such rule counts).
 */
export function readRouterCounters(table: NftTable | null, wan: string): CounterPair | null {
  if (table === null) return null;
  const pair: CounterPair = { downBytes: 0, upBytes: 0 };
  for (const slot of ROUTER_CHAINS) {
    const chain = findChain(table, slot.name);
    if (chain === null || !isRouterChainAsDeclared(chain, slot)) return null;
    const wanted = routerRule(slot, wan);
    const rule = chain.rules.find((r) => isLantopRule(r) && r.norm === wanted);
    if (rule === undefined) return null;
    // A JSON counter always has values; text without them (`nft -s`) reads as 0.
    const bytes = rule.counter?.bytes ?? 0;
    if (slot.direction === 'down') pair.downBytes = bytes;
    else pair.upBytes = bytes;
  }
  return pair;
}

export type Direction = 'down' | 'up';
export type Family = 4 | 6;

export interface SetSlot {
  name: string;
  family: Family;
  direction: Direction;
}
export const SET_SLOTS: readonly SetSlot[] = [
  { name: 'dl4', family: 4, direction: 'down' },
  { name: 'dl6', family: 6, direction: 'down' },
  { name: 'ul4', family: 4, direction: 'up' },
  { name: 'ul6', family: 6, direction: 'up' },
];
export const LANTOP_SETS = SET_SLOTS.map((s) => s.name);
export const LANTOP_CHAINS = [FORWARD_CHAIN, DOWN_CHAIN, UP_CHAIN];

/**
 * Dynamic set bounds. The size caps memory when a scan of the LAN prefix from outside makes
 * addresses up (an IPv6 /64 has 2^64); when a set is full, new addresses are not counted (their
 * packets pass: measured) until idle ones expire. The timeout keeps idle addresses (IPv6 privacy
 * addresses, valid 2 days: RFC 8981) from filling it; every packet refreshes it (measured).
 */
export const DYNAMIC_SIZE: Readonly<Record<Family, number>> = { 4: 4096, 6: 16384 };
export const DYNAMIC_TIMEOUT_SECONDS = 7 * 86400;

const typeOf = (family: Family) => (family === 4 ? 'ipv4_addr' : 'ipv6_addr');
const protocolOf = (family: Family) => (family === 4 ? 'ip' : 'ip6');
const fieldOf = (direction: Direction) => (direction === 'down' ? 'daddr' : 'saddr');

/** The `{ … }` of `add set inet lantop NAME`, per layout (rules: none). */
export function setDeclaration(layout: NftLayout, slot: SetSlot): string | null {
  if (layout === 'dynamic-sets') return `{ type ${typeOf(slot.family)}; size ${DYNAMIC_SIZE[slot.family]}; flags dynamic,timeout; timeout ${DYNAMIC_TIMEOUT_SECONDS / 86400}d; }`;
  if (layout === 'static-sets') return `{ type ${typeOf(slot.family)}; counter; }`;
  return null;
}

/** Whether a listed set is the one the layout declares (nft 1.0.6 JSON omits `dynamic`). */
export function isSetAsDeclared(set: NftSet, layout: NftLayout, slot: SetSlot): boolean {
  if (set.kind !== 'set' || set.type !== typeOf(slot.family)) return false;
  // A set with a timeout has the flag even where the text leaves it out (a map's `timeout 5m`).
  const hasTimeout = set.flags.includes('timeout') || set.timeoutSeconds !== null;
  if (layout === 'dynamic-sets') return hasTimeout && set.timeoutSeconds === DYNAMIC_TIMEOUT_SECONDS && set.size === DYNAMIC_SIZE[slot.family] && !set.hasCounter && !set.flags.includes('interval');
  if (layout === 'static-sets') return !hasTimeout && set.hasCounter && !set.flags.includes('interval');
  return false;
}

export function isForwardAsDeclared(chain: NftChain): boolean {
  return chain.type === 'filter' && chain.hook === FORWARD_CHAIN && chain.priority === FORWARD_PRIORITY && chain.policy === 'accept';
}

/** The forward chain's rules lantop writes, normalised (nft-model.ts), comment left out. */
export function forwardRules(layout: NftLayout, wan: string): string[] {
  if (layout === 'rules') return [`iifname "${wan}" jump ${DOWN_CHAIN}`, `oifname "${wan}" jump ${UP_CHAIN}`];
  return SET_SLOTS.map((slot) => {
    const iface = slot.direction === 'down' ? `iifname "${wan}"` : `oifname "${wan}"`;
    const key = `${protocolOf(slot.family)} ${fieldOf(slot.direction)}`;
    return layout === 'dynamic-sets' ? `${iface} update @${slot.name} { ${key} counter }` : `${iface} ${key} @${slot.name}`;
  });
}

/** The host rule of the rules layout (address canonical), normalised. */
export function hostRule(address: string, direction: Direction): string {
  const family: Family = addressFamily(address) === 6 ? 6 : 4;
  return `${protocolOf(family)} ${fieldOf(direction)} ${address} counter return`;
}

const HOST_RULE = /^(ip6?) (daddr|saddr) (\S+) counter return$/;

/** The canonical address a host rule of that chain counts, or null when it is not one. */
export function hostRuleAddress(rule: NftRule, direction: Direction): string | null {
  const m = rule.norm === null ? null : HOST_RULE.exec(rule.norm);
  if (m === null || m[2] !== fieldOf(direction)) return null;
  const address = canonicalAddress(m[3]!);
  if (address === null || protocolOf(addressFamily(address) === 6 ? 6 : 4) !== m[1]) return null;
  return address;
}

export const isLantopRule = (rule: NftRule): boolean => rule.comment === LANTOP_COMMENT;

/** The canonical address of a set element of that family, or null. */
export function elementAddress(value: string, family: Family): string | null {
  const address = canonicalAddress(value);
  return address !== null && addressFamily(address) === family ? address : null;
}

/**
 * Every counter lantop's objects hold, per canonical address: set elements (dl*, ul*) and host
 * rules (dl, ul; the first rule of an address counts, `return` ends the walk there).
 */
export function readCounters(table: NftTable | null): Map<string, CounterPair> {
  const counters = new Map<string, CounterPair>();
  if (table === null) return counters;
  const add = (address: string, direction: Direction, bytes: number) => {
    let pair = counters.get(address);
    if (pair === undefined) counters.set(address, (pair = { downBytes: 0, upBytes: 0 }));
    if (direction === 'down') pair.downBytes += bytes;
    else pair.upBytes += bytes;
  };
  for (const slot of SET_SLOTS) {
    for (const element of findSet(table, slot.name)?.elements ?? []) {
      const address = element.counter === null ? null : elementAddress(element.value, slot.family);
      if (address !== null) add(address, slot.direction, element.counter!.bytes);
    }
  }
  for (const [name, direction] of [[DOWN_CHAIN, 'down'], [UP_CHAIN, 'up']] as const) {
    const seen = new Set<string>();
    for (const rule of findChain(table, name)?.rules ?? []) {
      const address = isLantopRule(rule) && rule.counter !== null ? hostRuleAddress(rule, direction) : null;
      if (address === null || seen.has(address)) continue;
      seen.add(address);
      add(address, direction, rule.counter!.bytes);
    }
  }
  return counters;
}

/** lantop's forward rules, exactly the wanted ones once each (a stale lookup would count twice). */
function hasExactForwardRules(chain: NftChain, layout: NftLayout, wan: string): boolean {
  const ours = chain.rules.filter(isLantopRule).map((r) => r.norm ?? '').sort();
  const wanted = forwardRules(layout, wan).sort();
  return ours.length === wanted.length && ours.every((n, i) => n === wanted[i]);
}

/** Whether the table counts as the layout says (hosts aside). */
export function isLayoutComplete(table: NftTable, layout: NftLayout, wan: string): boolean {
  const forward = findChain(table, FORWARD_CHAIN);
  if (forward === null || !isForwardAsDeclared(forward) || !hasExactForwardRules(forward, layout, wan)) return false;
  if (layout === 'rules') return [DOWN_CHAIN, UP_CHAIN].every((name) => findChain(table, name)?.hook === null);
  return SET_SLOTS.every((slot) => {
    const set = findSet(table, slot.name);
    return set !== null && isSetAsDeclared(set, layout, slot);
  });
}

/** The layout the table is in: the complete one, else the one its objects suggest; null: none. */
export function layoutOfTable(table: NftTable | null, wan: string): NftLayout | null {
  if (table === null) return null;
  for (const layout of NFT_LAYOUTS) if (isLayoutComplete(table, layout, wan)) return layout;
  if (findChain(table, DOWN_CHAIN) !== null || findChain(table, UP_CHAIN) !== null) return 'rules';
  const sets = SET_SLOTS.map((slot) => findSet(table, slot.name)).filter((s): s is NftSet => s !== null);
  if (sets.some((s) => s.flags.includes('timeout') || s.flags.includes('dynamic'))) return 'dynamic-sets';
  if (sets.some((s) => s.hasCounter)) return 'static-sets';
  return null;
}

export function installationOf(table: NftTable | null, wan: string): InstallationState {
  if (table === null) return 'missing';
  return NFT_LAYOUTS.some((layout) => isLayoutComplete(table, layout, wan)) ? 'complete' : 'incomplete';
}

export const LAYOUT_DESCRIPTIONS: Readonly<Record<NftLayout, string>> = {
  'dynamic-sets': 'dynamic sets dl4/ul4/dl6/ul6 (every address counted from its first forwarded packet, idle ones expire after 7 days)',
  'static-sets': 'sets dl4/ul4/dl6/ul6 with one counted element per host',
  rules: 'one counter rule per host and direction in chains dl and ul',
};

// Traffic classes (issue 19, `setup --ports/--protocols`): a base chain `classes` hooked like
// `forward` (filter + 10, policy accept: after fw4's forward chain, so it counts what the router
// really forwards), two counting rules per class, nothing else:
//   iifname "WAN" tcp sport 443 counter comment "lantop"        down: from the WAN, the remote port
//   oifname "WAN" tcp dport 443 counter comment "lantop"        up: to the WAN
//   iifname "WAN" meta l4proto udp counter comment "lantop"     a whole protocol
// nft 1.0.6 lists `meta l4proto tcp th sport 443` back as `tcp sport 443` (measured:
// fixtures/nftables/1.0.6/classes-list-*), so lantop writes that form. The inet table counts both
// families in one rule; `icmp` is IPv4's protocol 1, `icmpv6` IPv6's 58 (`ipv6-icmp`). Rules of the
// two base chains never see each other's verdicts: counting only, both accept.
export const CLASS_CHAIN = 'classes';
export const CLASS_DECLARATION = FORWARD_DECLARATION;

/** nft's name for a class protocol (`meta l4proto NAME`, `NAME sport N`). */
const NFT_PROTOCOL: Readonly<Record<ClassProtocol, string>> = { tcp: 'tcp', udp: 'udp', icmp: 'icmp', icmpv6: 'ipv6-icmp', gre: 'gre', esp: 'esp', sctp: 'sctp' };
const CLASS_PROTOCOL = new Map<string, ClassProtocol>(Object.entries(NFT_PROTOCOL).map(([p, name]) => [name, p as ClassProtocol]));
const CLASS_RULE = /^(iifname|oifname) "([^"]+)" (?:(tcp|udp|sctp) (sport|dport) (\d{1,5})|meta l4proto ([a-z0-9-]+)) counter$/;

/** A class's rule in one direction, normalised (nft-model.ts), comment left out. */
export function classRule(c: TrafficClass, direction: Direction, wan: string): string {
  const iface = `${direction === 'down' ? 'iifname' : 'oifname'} "${wan}"`;
  const match = c.port === null ? `meta l4proto ${NFT_PROTOCOL[c.protocol]}` : `${NFT_PROTOCOL[c.protocol]} ${direction === 'down' ? 'sport' : 'dport'} ${c.port}`;
  return `${iface} ${match} counter`;
}

/** Both rules of each class, downs and ups interleaved per class, in the classes' order. */
export function classRules(classes: readonly TrafficClass[], wan: string): string[] {
  return classes.flatMap((c) => [classRule(c, 'down', wan), classRule(c, 'up', wan)]);
}

/** A rule of the classes chain as the class and direction it counts, or null when lantop never writes it. */
export function classOfRule(rule: NftRule): { class: TrafficClass; direction: Direction; wan: string } | null {
  const m = !isLantopRule(rule) || rule.norm === null ? null : CLASS_RULE.exec(rule.norm);
  if (m === null) return null;
  const direction: Direction = m[1] === 'iifname' ? 'down' : 'up';
  const wan = canonicalInterfaceName(m[2]!);
  if (wan === null) return null;
  if (m[6] !== undefined) {
    const protocol = CLASS_PROTOCOL.get(m[6]);
    return protocol === undefined ? null : { class: { protocol, port: null }, direction, wan };
  }
  const port = Number(m[5]);
  if (m[4] !== (direction === 'down' ? 'sport' : 'dport') || port < 1 || port > 65535 || String(port) !== m[5]) return null;
  return { class: { protocol: m[3] as ClassProtocol, port }, direction, wan };
}

export function isClassChainAsDeclared(chain: NftChain): boolean {
  return isForwardAsDeclared(chain);
}

/** The classes with a lantop rule for this WAN in the classes chain, in classKey order. */
export function installedClasses(table: NftTable | null, wan: string): TrafficClass[] {
  const chain = table === null ? null : findChain(table, CLASS_CHAIN);
  const out = new Map<string, TrafficClass>();
  for (const rule of chain?.rules ?? []) {
    const listed = classOfRule(rule);
    if (listed !== null && listed.wan === wan) out.set(classKey(listed.class), listed.class);
  }
  return [...out.values()].sort(compareClasses);
}

/** Each class's counters (the first rule of a class and direction counts); empty when the chain is not hooked as declared. */
export function readClassCounters(table: NftTable | null, wan: string): Map<string, CounterPair> {
  const out = new Map<string, CounterPair>();
  const chain = table === null ? null : findChain(table, CLASS_CHAIN);
  if (chain === null || !isClassChainAsDeclared(chain)) return out;
  const seen = new Set<string>();
  for (const rule of chain.rules) {
    const listed = classOfRule(rule);
    if (listed === null || listed.wan !== wan) continue;
    const key = classKey(listed.class);
    if (seen.has(`${key} ${listed.direction}`)) continue;
    seen.add(`${key} ${listed.direction}`);
    const pair = out.get(key) ?? { downBytes: 0, upBytes: 0 };
    const bytes = rule.counter?.bytes ?? 0;
    if (listed.direction === 'down') pair.downBytes = bytes;
    else pair.upBytes = bytes;
    out.set(key, pair);
  }
  return out;
}
