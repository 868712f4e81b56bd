// Custom counters in the iptables backend (issue 18, `lantop counter add`): one chain per hook,
// LANTOP_CIN (jumped to from INPUT), LANTOP_COUT (OUTPUT) and LANTOP_CFWD (FORWARD), created only
// while some counter of that hook is wanted, each holding one counting rule per counter and nothing
// else — no target, so every packet walks the chain and returns to its hook as it came:
//   -A LANTOP_CIN -i ppp0 ! -s 198.51.100.0/24 -p tcp -m tcp --dport 22 -m comment --comment lantop:c:3f09c1d2a4b7
// The comment is `lantop:c:` + counterId (a hash of the counter's matches, never its name). The
// jump goes in before any ACCEPT or DROP of the firewall, so a counter counts what reached the
// hook: at position 1, or right after the plain jumps to lantop's own chains (TRAFFIC*, LANTOP_*)
// the hook starts with, and it may stay behind those — the block chain and TRAFFIC insist on their
// positions, and two planners insisting would move each other on every sync.
// Jumps are deleted by their spec (`-D INPUT -j LANTOP_CIN`), not by number, so the plan holds
// whatever the host plan before it did to the built-in chains.
//
// `iptables -L -v -x -n` (1.8.9, fixtures/iptables/1.8.9-*/counters-*.txt) lists a rule as
//        3      180            6    --  ppp0   *      !198.51.100.0/24      0.0.0.0/0            tcp dpt:22 /* lantop:c:3f09c1d2a4b7 */
// (the protocol as a number; older versions print its name). A listed rule is read back into the
// counter it is (domain/custom-counter.ts validates it) and counts only when its tag is that
// counter's id: a tagged rule someone edited is stale, deleted and written again. ip6tables gets the
// counters of IPv6 (and of both families; `icmp` is `-p ipv6-icmp` there); the reading sums both.
import type { AddressFamily } from '../../../domain/address.js';
import { counterId, distinctCounterMatches, isCounterOfFamily, makeCustomCounter, type CounterHook, type CounterInput, type CustomCounter } from '../../../domain/custom-counter.js';
import type { Chain, IptablesListing, Rule } from '../../parsers/types.js';
import { canonicalInterfaceName } from '../../tokens.js';
import { command, findChain, ifaceOf } from './rule-spec.js';
import { isPlainJumpTo, jumpPositions } from './router-chains.js';

export interface CounterChain {
  name: string;
  /** The built-in chain that jumps to it. */
  hook: 'INPUT' | 'OUTPUT' | 'FORWARD';
}

export const COUNTER_CHAINS: Readonly<Record<CounterHook, CounterChain>> = {
  input: { name: 'LANTOP_CIN', hook: 'INPUT' },
  output: { name: 'LANTOP_COUT', hook: 'OUTPUT' },
  forward: { name: 'LANTOP_CFWD', hook: 'FORWARD' },
};
export const COUNTER_CHAIN_NAMES: readonly string[] = Object.values(COUNTER_CHAINS).map((c) => c.name);
const HOOKS = Object.keys(COUNTER_CHAINS) as CounterHook[];
export const COUNTER_TAG_PREFIX = 'lantop:c:';

/** The comment of a counter's rules. */
export function counterTag(c: CustomCounter): string {
  return `${COUNTER_TAG_PREFIX}${counterId(c)}`;
}

/** `-p` as lantop writes it per family; the names and numbers a listing may print for it. */
const PROTOCOLS = {
  tcp: { 4: 'tcp', 6: 'tcp', listed: ['tcp', '6'] },
  udp: { 4: 'udp', 6: 'udp', listed: ['udp', '17'] },
  icmp: { 4: 'icmp', 6: 'ipv6-icmp', listed: { 4: ['icmp', '1'], 6: ['ipv6-icmp', 'icmpv6', '58'] } },
} as const;
const ANY_PROTOCOL = new Set(['all', '0']);
const ANY_NETWORK = new Set(['0.0.0.0/0', '::/0', 'anywhere']);
// What follows the columns for ports: `tcp spt:22`, `udp dpt:53`, `tcp spt:1024 dpt:22`.
const PORTS_EXTRA = /^(tcp|udp)(?: spt:(\d{1,5}))?(?: dpt:(\d{1,5}))?$/;

/** The argv after `-A CHAIN` of a counter's rule in a family's table. */
export function counterRuleTokens(c: CustomCounter, family: AddressFamily): string[] {
  const t: string[] = [];
  const iface = (name: string) => {
    const token = canonicalInterfaceName(name);
    if (token === null) throw new TypeError('invalid interface name');
    return token;
  };
  if (c.inIf !== undefined) t.push('-i', iface(c.inIf));
  if (c.outIf !== undefined) t.push('-o', iface(c.outIf));
  if (c.src !== undefined) t.push(...(c.src.negated ? ['!'] : []), '-s', c.src.cidr);
  if (c.dst !== undefined) t.push(...(c.dst.negated ? ['!'] : []), '-d', c.dst.cidr);
  if (c.proto !== undefined) {
    t.push('-p', PROTOCOLS[c.proto][family]);
    if (c.sport !== undefined || c.dport !== undefined) t.push('-m', c.proto);
    if (c.sport !== undefined) t.push('--sport', String(c.sport));
    if (c.dport !== undefined) t.push('--dport', String(c.dport));
  }
  t.push('-m', 'comment', '--comment', counterTag(c));
  return t;
}

function protocolOf(listed: string, family: AddressFamily): CustomCounter['proto'] | null | undefined {
  if (ANY_PROTOCOL.has(listed)) return null;
  if ((PROTOCOLS.tcp.listed as readonly string[]).includes(listed)) return 'tcp';
  if ((PROTOCOLS.udp.listed as readonly string[]).includes(listed)) return 'udp';
  if ((PROTOCOLS.icmp.listed[family] as readonly string[]).includes(listed)) return 'icmp';
  return undefined;
}

/** An address column as the network text a counter takes (`!198.51.100.0/24`), null for any; undefined: not one. */
function networkOf(column: string): string | null | undefined {
  if (ANY_NETWORK.has(column)) return null;
  return column === '' || column === '!' ? undefined : column;
}

/**
 * A listed rule of a counter chain as the counter it is (named `listed`), or null when it has a
 * shape lantop never writes (a target, a negated protocol or interface, another match, the other
 * family's address).
 */
export function listedCounterOf(rule: Rule, hook: CounterHook, family: AddressFamily): CustomCounter | null {
  if ((rule.target !== null && rule.target !== '') || (rule.opt !== '--' && rule.opt !== '' && rule.opt !== '   ')) return null;
  const input: CounterInput = { name: 'listed', hook };
  const inIf = ifaceOf(rule.in);
  const outIf = ifaceOf(rule.out);
  if (inIf === undefined || outIf === undefined) return null;
  if (inIf !== null) input.inIf = inIf;
  if (outIf !== null) input.outIf = outIf;
  const src = networkOf(rule.source);
  const dst = networkOf(rule.destination);
  if (src === undefined || dst === undefined) return null;
  if (src !== null) input.src = src;
  if (dst !== null) input.dst = dst;
  const proto = protocolOf(rule.prot, family);
  if (proto === undefined) return null;
  if (proto !== null) input.proto = proto;
  const extra = rule.extra.trim();
  if (extra !== '') {
    const m = PORTS_EXTRA.exec(extra);
    if (m === null || m[1] !== proto || (m[2] === undefined && m[3] === undefined)) return null;
    if (m[2] !== undefined) input.sport = m[2];
    if (m[3] !== undefined) input.dport = m[3];
  }
  const { counter } = makeCustomCounter(input);
  if (counter === null || !isCounterOfFamily(counter, family)) return null;
  return counter;
}

/** The counter id a listed rule counts for: its tag, when the rule is the counter that tag names; else null. */
function idOfRule(rule: Rule, hook: CounterHook, family: AddressFamily): string | null {
  if (rule.comment === null || !rule.comment.startsWith(COUNTER_TAG_PREFIX)) return null;
  const listed = listedCounterOf(rule, hook, family);
  const id = rule.comment.slice(COUNTER_TAG_PREFIX.length);
  return listed !== null && counterId(listed) === id ? id : null;
}

const isTagged = (rule: Rule) => rule.comment !== null && rule.comment.startsWith(COUNTER_TAG_PREFIX);

export interface RuleCount {
  packets: number;
  bytes: number;
}

/**
 * Each counter's packets and bytes in a family's listing, by counter name (counters with the same
 * matches read the same rule); a counter whose rule, chain or jump is not there is absent.
 */
export function readCustomCounters(listing: IptablesListing, counters: readonly CustomCounter[], family: AddressFamily = 4): Map<string, RuleCount> {
  const byId = new Map<string, RuleCount>();
  for (const hook of HOOKS) {
    const { name, hook: builtIn } = COUNTER_CHAINS[hook];
    const chain = findChain(listing, name);
    if (chain === undefined || jumpPositions(findChain(listing, builtIn), name).length === 0) continue;
    for (const rule of chain.rules) {
      const id = idOfRule(rule, hook, family);
      // The first rule of an id counts: a duplicate sees only what the first saw as well.
      if (id !== null && !byId.has(id)) byId.set(id, { packets: rule.pkts, bytes: rule.bytes });
    }
  }
  const out = new Map<string, RuleCount>();
  for (const c of counters) {
    const count = isCounterOfFamily(c, family) ? byId.get(counterId(c)) : undefined;
    if (count !== undefined) out.set(c.name, { ...count });
  }
  return out;
}

/** The ids with a valid rule in a family's counter chains whose jump is in place. */
export function installedCounterIds(listing: IptablesListing, family: AddressFamily = 4): Set<string> {
  const ids = new Set<string>();
  for (const hook of HOOKS) {
    const { name, hook: builtIn } = COUNTER_CHAINS[hook];
    const chain = findChain(listing, name);
    if (chain === undefined || jumpPositions(findChain(listing, builtIn), name).length === 0) continue;
    for (const rule of chain.rules) {
      const id = idOfRule(rule, hook, family);
      if (id !== null) ids.add(id);
    }
  }
  return ids;
}

export interface CounterPlanOptions {
  /** The family's binary (`iptables`, `ip6tables-nft`). */
  iptables: string;
  family: AddressFamily;
  /** Exactly these counters ([]: none; the chains and jumps go). */
  counters: readonly CustomCounter[];
}

export interface CounterPlan {
  commands: string[];
  /** Rules in the counter chains that lantop did not write (they stay). */
  foreignRules: Rule[];
  notes: string[];
}

const isLantopJump = (rule: Rule) => rule.target !== null && /^(?:TRAFFIC|LANTOP_)/.test(rule.target) && isPlainJumpTo(rule, rule.target);

/** Only lantop's own jumps before this position (1-based): the jump may stay there. */
function isEarlyEnough(hookChain: Chain | undefined, position: number): boolean {
  const rules = hookChain?.rules ?? [];
  for (let i = 0; i < position - 1; i++) if (!isLantopJump(rules[i]!)) return false;
  return true;
}

/** Where a new jump goes: right after the lantop jumps the hook starts with (so none of them moves). */
function insertPosition(hookChain: Chain | undefined, name: string): number {
  const rules = hookChain?.rules ?? [];
  let n = 0;
  while (n < rules.length && isLantopJump(rules[n]!) && rules[n]!.target !== name) n++;
  return n + 1;
}

/**
 * Plans a family's custom counters: per hook with counters, the chain created when absent, stale
 * and duplicate lantop rules deleted by line number (highest first), missing ones appended, then one
 * plain jump early in the hook; per hook without, lantop's rules, the jump and (when nothing else
 * is left in it) the chain removed. A second call on the listing after the plan sends nothing.
 */
export function planCustomCounters(listing: IptablesListing, options: CounterPlanOptions): CounterPlan {
  const { iptables: ipt, family } = options;
  const wantedAll = distinctCounterMatches(options.counters).filter((c) => isCounterOfFamily(c, family));
  const creations: string[] = [];
  const changes: string[] = [];
  const jumps: string[] = [];
  const foreignRules: Rule[] = [];
  const notes: string[] = [];
  for (const hook of HOOKS) {
    const { name, hook: builtIn } = COUNTER_CHAINS[hook];
    const existing = findChain(listing, name);
    const hookChain = findChain(listing, builtIn);
    const positions = jumpPositions(hookChain, name);
    const wanted = wantedAll.filter((c) => c.hook === hook);
    const foreign = existing?.rules.filter((r) => !isTagged(r)) ?? [];
    foreignRules.push(...foreign);
    if (wanted.length === 0) {
      if (existing === undefined) continue;
      for (let i = 0; i < positions.length; i++) jumps.push(command(ipt, '-D', builtIn, ['-j', name]));
      if (foreign.length === 0) {
        jumps.push(command(ipt, '-F', name), command(ipt, '-X', name));
        notes.push(`no ${hook} counters: removing ${name} and its ${builtIn} jump`);
      } else {
        const ours = existing.rules.flatMap((r, i) => (isTagged(r) ? [r.num ?? i + 1] : []));
        for (const n of ours.sort((a, b) => b - a)) changes.push(command(ipt, '-D', name, [String(n)]));
        notes.push(`no ${hook} counters: removing lantop's rules from ${name} (the chain stays: it holds rules lantop did not write)`);
      }
      continue;
    }
    const present = new Set<string>();
    if (existing === undefined) {
      creations.push(command(ipt, '-N', name));
      notes.push(`counting ${wanted.length} ${hook} counter(s) in chain ${name} (from ${builtIn})`);
    } else {
      const wantedIds = new Set(wanted.map(counterId));
      const stale: number[] = [];
      for (const [i, rule] of existing.rules.entries()) {
        if (!isTagged(rule)) continue;
        const id = idOfRule(rule, hook, family);
        if (id !== null && wantedIds.has(id) && !present.has(id)) present.add(id);
        else stale.push(rule.num ?? i + 1);
      }
      if (stale.length > 0) notes.push(`removing ${stale.length} stale or duplicate rule(s) from ${name}`);
      for (const n of stale.sort((a, b) => b - a)) changes.push(command(ipt, '-D', name, [String(n)]));
    }
    const missing = wanted.filter((c) => !present.has(counterId(c)));
    for (const c of missing) changes.push(command(ipt, '-A', name, counterRuleTokens(c, family)));
    if (existing !== undefined && missing.length > 0) notes.push(`adding ${missing.length} ${hook} counter(s) to ${name}`);
    const first = positions[0];
    if (first === undefined || !isEarlyEnough(hookChain, first)) {
      // The deleted jumps all stand after the leading lantop jumps (else the first would be early enough).
      const at = insertPosition(hookChain, name);
      for (let i = 0; i < positions.length; i++) jumps.push(command(ipt, '-D', builtIn, ['-j', name]));
      jumps.push(command(ipt, '-I', builtIn, [String(at), '-j', name]));
      if (first !== undefined) notes.push(`moving the ${builtIn} jump to ${name} from position ${first} to ${at}`);
    } else if (positions.length > 1) {
      // `-D` by spec takes the first one; re-inserted where it was.
      for (let i = 0; i < positions.length; i++) jumps.push(command(ipt, '-D', builtIn, ['-j', name]));
      jumps.push(command(ipt, '-I', builtIn, [String(first), '-j', name]));
      notes.push(`removing ${positions.length - 1} duplicate ${builtIn} jump(s) to ${name}`);
    }
  }
  return { commands: [...creations, ...changes, ...jumps], foreignRules, notes };
}

/** `teardown`: every lantop counter rule, jump and (empty) chain of a family's table. */
export function planCustomCounterRemoval(listing: IptablesListing, iptables: string, family: AddressFamily = 4): string[] {
  return planCustomCounters(listing, { iptables, family, counters: [] }).commands;
}
