// Traffic classes in the iptables backend (issue 19, `setup --ports/--protocols`): one more chain,
// TRAFFIC_CLASS, jumped to from FORWARD right after the TRAFFIC jump (so after LANTOP_BLOCK and
// before any `ESTABLISHED -j ACCEPT`), holding two counting rules per class and nothing else — no
// target, so every packet walks the whole chain and returns to FORWARD as it came:
//   -A TRAFFIC_CLASS -i WAN -p tcp -m tcp --sport 443 -m comment --comment lantop   (down)
//   -A TRAFFIC_CLASS -o WAN -p tcp -m tcp --dport 443 -m comment --comment lantop   (up)
//   -A TRAFFIC_CLASS -i WAN -p udp -m comment --comment lantop                       (a whole protocol)
// `iptables -L -v -x -n` (1.8.9, fixtures/iptables/1.8.9-nft/classes-*.txt) lists them as
//        0        0            6    --  ppp0   *       0.0.0.0/0            0.0.0.0/0            tcp spt:443 /* lantop */
// with the protocol as a number (older versions print its name). ip6tables gets the same chain for
// IPv6 (an `icmp` class lives in iptables only, `icmpv6` in ip6tables only: `-p ipv6-icmp`); the
// reading sums both. The chain exists only while some class is wanted; it never makes the
// installation incomplete, and it is read from the listing every poll already sends.
import type { CounterPair } from '../../../domain/accounting.js';
import type { AddressFamily } from '../../../domain/address.js';
import { classKey, classOfKey, compareClasses, type ClassProtocol, type TrafficClass } from '../../../domain/traffic-class.js';
import type { Chain, IptablesListing, Rule } from '../../parsers/types.js';
import { canonicalInterfaceName } from '../../tokens.js';
import { addressOf, command, findChain, ifaceOf, LANTOP_COMMENT } from './rule-spec.js';
import { jumpPositions, planJump } from './router-chains.js';
import { TRAFFIC_CHAIN } from './layouts.js';

export const CLASS_CHAIN = 'TRAFFIC_CLASS';

/** `-p` as lantop writes it, and every name or number a listing may print for it. */
const PROTOCOLS: Readonly<Record<ClassProtocol, { arg: string; listed: readonly string[]; families: readonly AddressFamily[] }>> = {
  tcp: { arg: 'tcp', listed: ['tcp', '6'], families: [4, 6] },
  udp: { arg: 'udp', listed: ['udp', '17'], families: [4, 6] },
  icmp: { arg: 'icmp', listed: ['icmp', '1'], families: [4] },
  icmpv6: { arg: 'ipv6-icmp', listed: ['ipv6-icmp', 'icmpv6', '58'], families: [6] },
  gre: { arg: 'gre', listed: ['gre', '47'], families: [4, 6] },
  esp: { arg: 'esp', listed: ['esp', '50'], families: [4, 6] },
  sctp: { arg: 'sctp', listed: ['sctp', '132'], families: [4, 6] },
};
const LISTED_PROTOCOL = new Map<string, ClassProtocol>(Object.entries(PROTOCOLS).flatMap(([p, v]) => v.listed.map((name) => [name, p as ClassProtocol] as const)));
// What follows the columns for a ported class: `tcp spt:443`, `udp dpt:53`, `sctp spt:80`.
const PORT_EXTRA = /^(tcp|udp|sctp) (spt|dpt):(\d{1,5})$/;

/** Whether a class can be counted in a family's table (icmp in iptables, icmpv6 in ip6tables). */
export function isClassOfFamily(c: TrafficClass, family: AddressFamily): boolean {
  return PROTOCOLS[c.protocol]?.families.includes(family) ?? false;
}

/** The argv after `-A TRAFFIC_CLASS` of a class's rule in one direction. */
export function classRuleTokens(c: TrafficClass, direction: 'down' | 'up', wan: string, isTagging: boolean): string[] {
  const t = direction === 'down' ? ['-i', wan] : ['-o', wan];
  const { arg } = PROTOCOLS[c.protocol];
  t.push('-p', arg);
  if (c.port !== null) t.push('-m', arg, direction === 'down' ? '--sport' : '--dport', String(c.port));
  if (isTagging) t.push('-m', 'comment', '--comment', LANTOP_COMMENT);
  return t;
}

export interface ListedClassRule {
  class: TrafficClass;
  direction: 'down' | 'up';
  wan: string;
  isTagged: boolean;
}

/** A listed rule of TRAFFIC_CLASS as the class rule it is, or null when it has a shape lantop never writes. */
export function classRuleOf(rule: Rule, family: AddressFamily): ListedClassRule | null {
  if (rule.target !== null && rule.target !== '') return null;
  if (rule.opt !== '--' && rule.opt !== '' && rule.opt !== '   ') return null;
  if (addressOf(rule.source, family) !== null || addressOf(rule.destination, family) !== null) return null;
  const inIface = ifaceOf(rule.in);
  const outIface = ifaceOf(rule.out);
  if (inIface === undefined || outIface === undefined || (inIface === null) === (outIface === null)) return null;
  const direction = inIface !== null ? 'down' : 'up';
  const protocol = LISTED_PROTOCOL.get(rule.prot);
  if (protocol === undefined || !PROTOCOLS[protocol].families.includes(family)) return null;
  const extra = rule.extra.trim();
  let port: number | null = null;
  if (extra !== '') {
    const m = PORT_EXTRA.exec(extra);
    if (m === null || m[1] !== protocol || m[2] !== (direction === 'down' ? 'spt' : 'dpt')) return null;
    port = Number(m[3]);
    if (port < 1 || port > 65535 || String(port) !== m[3]) return null;
  }
  return { class: { protocol, port }, direction, wan: (inIface ?? outIface)!, isTagged: rule.comment === LANTOP_COMMENT };
}

function isOurs(rule: ListedClassRule | null, isTagging: boolean): rule is ListedClassRule {
  return rule !== null && (rule.isTagged || !isTagging);
}

/**
 * The classes with a rule in a family's TRAFFIC_CLASS for this WAN, in classKey order (one with a
 * direction missing too: a sync that keeps the classes puts it back).
 */
export function installedClasses(listing: IptablesListing, wan: string, family: AddressFamily = 4, isTagging = false): TrafficClass[] {
  const chain = findChain(listing, CLASS_CHAIN);
  const iface = canonicalInterfaceName(wan);
  if (chain === undefined || iface === null) return [];
  const classes = new Map<string, TrafficClass>();
  for (const rule of chain.rules) {
    const listed = classRuleOf(rule, family);
    if (isOurs(listed, isTagging) && listed.wan === iface) classes.set(classKey(listed.class), listed.class);
  }
  return [...classes.values()].sort(compareClasses);
}

/**
 * Each class's counters in a family's listing (the first rule of a class and direction counts), or
 * an empty map when the chain or its FORWARD jump is not there.
 */
export function readClassCounters(listing: IptablesListing, wan: string, family: AddressFamily = 4): Map<string, CounterPair> {
  const out = new Map<string, CounterPair>();
  const iface = canonicalInterfaceName(wan);
  const chain = findChain(listing, CLASS_CHAIN);
  if (iface === null || chain === undefined || jumpPositions(findChain(listing, 'FORWARD'), CLASS_CHAIN).length === 0) return out;
  const counted = new Set<string>();
  for (const rule of chain.rules) {
    const listed = classRuleOf(rule, family);
    if (listed === null || listed.wan !== iface) continue;
    const key = classKey(listed.class);
    if (counted.has(`${key} ${listed.direction}`)) continue;
    counted.add(`${key} ${listed.direction}`);
    const pair = out.get(key) ?? { downBytes: 0, upBytes: 0 };
    if (listed.direction === 'down') pair.downBytes = rule.bytes;
    else pair.upBytes = rule.bytes;
    out.set(key, pair);
  }
  return out;
}

export interface ClassPlanOptions {
  wan: string;
  isTagging: boolean;
  iptables: string;
  family?: AddressFamily;
  /** null: the classes installed in this listing; []: none (the chain and its jump go). */
  classes: readonly TrafficClass[] | null;
  /**
   * The commands that run before these (the host plan): their FORWARD inserts and deletes are
   * replayed, so the jump lands right after the TRAFFIC jump as it will be then.
   */
  before?: readonly string[];
}

export interface ClassPlan {
  commands: string[];
  /** Rules in TRAFFIC_CLASS that lantop did not write. */
  foreignRules: Rule[];
  notes: string[];
  /** The classes this family counts after the plan, in classKey order. */
  classes: TrafficClass[];
}

/**
 * Plans a family's class counters: the chain created when absent, stale and duplicate class rules
 * deleted by line number (highest first), missing ones appended, the jump placed right after
 * TRAFFIC's; with no class wanted, lantop's rules, the jump and (when nothing else is left in it)
 * the chain removed. Classes of the other family are left out silently: the caller says so once.
 */
export function planClassCounters(listing: IptablesListing, options: ClassPlanOptions): ClassPlan {
  const wan = canonicalInterfaceName(options.wan);
  if (wan === null) throw new TypeError('invalid WAN interface name');
  const family = options.family ?? 4;
  const ipt = options.iptables;
  const existing = findChain(listing, CLASS_CHAIN);
  const requested = options.classes ?? installedClasses(listing, wan, family, options.isTagging);
  const wanted = dedupe(requested).filter((c) => isClassOfFamily(c, family));
  const notes: string[] = [];
  const foreignRules: Rule[] = [];
  const forward = replayForward(findChain(listing, 'FORWARD'), options.before ?? [], ipt);

  if (wanted.length === 0) {
    // Kept as it is unless asked: a flushed chain stays empty (with its jump) until setup says otherwise.
    if (existing === undefined || options.classes === null) return { commands: [], foreignRules: existing?.rules.filter((r) => !isOurs(classRuleOf(r, family), options.isTagging)) ?? [], notes, classes: [] };
    const commands: string[] = [];
    for (const position of jumpPositions(forward, CLASS_CHAIN).sort((a, b) => b - a)) commands.push(command(ipt, '-D', 'FORWARD', [String(position)]));
    const positions: number[] = [];
    for (const [index, rule] of existing.rules.entries()) {
      if (isOurs(classRuleOf(rule, family), options.isTagging)) positions.push(rule.num ?? index + 1);
      else foreignRules.push(rule);
    }
    if (foreignRules.length === 0) commands.push(command(ipt, '-F', CLASS_CHAIN), command(ipt, '-X', CLASS_CHAIN));
    else for (const position of positions.sort((a, b) => b - a)) commands.push(command(ipt, '-D', CLASS_CHAIN, [String(position)]));
    notes.push(foreignRules.length === 0 ? `no traffic classes: removing ${CLASS_CHAIN} and its FORWARD jump` : `no traffic classes: removing lantop's rules from ${CLASS_CHAIN} (the chain stays: it holds rules lantop did not write)`);
    return { commands, foreignRules, notes, classes: [] };
  }

  const want = wanted.flatMap((c) => (['down', 'up'] as const).map((direction) => ({ c, direction, key: `${classKey(c)} ${direction}` })));
  const creations: string[] = [];
  const deletions: string[] = [];
  const additions: string[] = [];
  if (existing === undefined) {
    creations.push(command(ipt, '-N', CLASS_CHAIN));
    notes.push(`counting traffic classes ${wanted.map(classKey).join(', ')} in chain ${CLASS_CHAIN} (from FORWARD)`);
    for (const w of want) additions.push(command(ipt, '-A', CLASS_CHAIN, classRuleTokens(w.c, w.direction, wan, options.isTagging)));
  } else {
    const present = new Set<string>();
    const dropped = new Set<string>();
    const positions: number[] = [];
    for (const [index, rule] of existing.rules.entries()) {
      const listed = classRuleOf(rule, family);
      if (!isOurs(listed, options.isTagging)) {
        foreignRules.push(rule);
        continue;
      }
      const key = `${classKey(listed.class)} ${listed.direction}`;
      const isWanted = listed.wan === wan && listed.isTagged === options.isTagging && want.some((w) => w.key === key);
      if (isWanted && !present.has(key)) {
        present.add(key);
        continue;
      }
      positions.push(rule.num ?? index + 1);
      if (listed.wan === wan && !isWanted && listed.isTagged === options.isTagging) dropped.add(classKey(listed.class));
      else notes.push(isWanted ? `removing a duplicate rule in ${CLASS_CHAIN}` : `removing a stale rule in ${CLASS_CHAIN}`);
    }
    if (dropped.size > 0) notes.push(`no longer counting traffic class(es) ${[...dropped].join(', ')}`);
    for (const position of positions.sort((a, b) => b - a)) deletions.push(command(ipt, '-D', CLASS_CHAIN, [String(position)]));
    const missing = want.filter((w) => !present.has(w.key));
    for (const w of missing) additions.push(command(ipt, '-A', CLASS_CHAIN, classRuleTokens(w.c, w.direction, wan, options.isTagging)));
    const added = [...new Set(missing.map((w) => classKey(w.c)))];
    if (added.length > 0) notes.push(`counting traffic class(es) ${added.join(', ')} in ${CLASS_CHAIN}`);
  }
  const trafficAt = jumpPositions(forward, TRAFFIC_CHAIN)[0];
  const first = trafficAt !== undefined ? trafficAt + 1 : forward?.rules[0]?.target === 'LANTOP_BLOCK' ? 2 : 1;
  const jumps = planJump(forward, 'FORWARD', CLASS_CHAIN, first, ipt, notes);
  return { commands: [...creations, ...deletions, ...additions, ...jumps], foreignRules, notes, classes: wanted };
}

/** `teardown` (and `[]`): the FORWARD positions of the class jumps, for removal with TRAFFIC's. */
export function classJumpPositions(listing: IptablesListing): number[] {
  return jumpPositions(findChain(listing, 'FORWARD'), CLASS_CHAIN);
}

/** Once each, in classKey order; re-read from their keys, so only valid protocols and ports reach a command. */
function dedupe(classes: readonly TrafficClass[]): TrafficClass[] {
  const out = new Map<string, TrafficClass>();
  for (const c of classes) {
    const valid = typeof c?.protocol === 'string' ? classOfKey(classKey(c)) : null;
    if (valid !== null) out.set(classKey(valid), valid);
  }
  return [...out.values()].sort(compareClasses);
}

const JUMP = /^(\S+) -I FORWARD (\d+) -j (\S+)$/;
const DELETE = /^(\S+) -D FORWARD (\d+)$/;

/** FORWARD as it will be after the plain jump inserts and line deletes among `commands` (planJump's forms). */
function replayForward(forward: Chain | undefined, commands: readonly string[], iptables: string): Chain | undefined {
  if (forward === undefined) return undefined;
  let rules = forward.rules;
  for (const c of commands) {
    const jump = JUMP.exec(c);
    const del = jump === null ? DELETE.exec(c) : null;
    if ((jump ?? del)?.[1] !== iptables) continue;
    if (rules === forward.rules) rules = [...rules];
    if (jump !== null) rules.splice(Number(jump[2]) - 1, 0, { ...PLAIN_JUMP, target: jump[3]! });
    else rules.splice(Number(del![2]) - 1, 1);
  }
  return rules === forward.rules ? forward : { ...forward, rules: rules.map((r, i) => (r.num === null ? r : { ...r, num: i + 1 })) };
}

const PLAIN_JUMP: Rule = { num: null, pkts: 0, bytes: 0, isExact: true, target: '', prot: 'all', opt: '--', in: '*', out: '*', source: '0.0.0.0/0', destination: '0.0.0.0/0', extra: '', comment: null };
