// The TRAFFIC plan: desired accounting rules → the exact iptables commands, as data.
// `setup --dry-run` prints exactly what this returns; nothing here talks to a router.
//
// Every command is built from validated tokens only (canonical IPv4, checked interface names,
// fixed chain names and a fixed comment). A hostname or MAC never reaches a command: hosts
// enter as IP strings and are re-parsed here, so even a caller bug cannot smuggle text through.
import type { Chain, IptablesListing, Rule } from './parsers/types.js';
import { canonicalInterfaceName, canonicalIpv4, ipv4ToNumber } from './tokens.js';

export const TRAFFIC_CHAIN = 'TRAFFIC';
export const DOWN_CHAIN = 'TRAFFIC_DOWN';
export const UP_CHAIN = 'TRAFFIC_UP';
export const LANTOP_COMMENT = 'lantop';

/**
 * 'flat' is the seed script's layout: two rules per host in TRAFFIC, every forwarded packet walks
 * all 2N of them. 'split' counts the same bytes with per-direction sub-chains and `-j RETURN`,
 * so a packet walks 2 rules plus, on average, half of one direction's N (docs/rules.md).
 */
export type RuleLayout = 'flat' | 'split';

/** Used when neither the user nor the router says otherwise (see BENCHMARKS.md for the choice). */
export const DEFAULT_LAYOUT: RuleLayout = 'split';

export interface RuleSpec {
  chain: string;
  /** `-i` / `-o` / `-s` / `-d`; null = not matched on. */
  in: string | null;
  out: string | null;
  source: string | null;
  destination: string | null;
  target: string | null;
  isTagged: boolean;
}

export interface PlanOptions {
  wan: string;
  layout: RuleLayout;
  /** Tag rules with `-m comment --comment lantop` (off when the router lacks the comment match). */
  isTagging: boolean;
  /** Take over rules in lantop's chains that lantop did not write. */
  isAdopting: boolean;
  /** Remove rules for hosts not in the desired list (off by default: their counters are history). */
  isPruning: boolean;
  /** The iptables binary as the firmware table names it. */
  iptables: string;
}

export interface TrafficPlan {
  /** Commands in the order they must run. Empty when the router already matches. */
  commands: string[];
  /** Rules in lantop's chains that lantop did not write; non-empty and not adopting = refuse. */
  foreignRules: Rule[];
  /** Host IPs that were rejected as not a valid IPv4 address (they get no rules). */
  rejectedHosts: string[];
  /** Human-readable notes on what the plan does (moved jump, removed duplicates, …). */
  notes: string[];
}

function tokensOf(spec: RuleSpec): string[] {
  const t: string[] = [];
  if (spec.in !== null) t.push('-i', spec.in);
  if (spec.source !== null) t.push('-s', spec.source);
  if (spec.destination !== null) t.push('-d', spec.destination);
  if (spec.out !== null) t.push('-o', spec.out);
  if (spec.isTagged) t.push('-m', 'comment', '--comment', LANTOP_COMMENT);
  if (spec.target !== null) t.push('-j', spec.target);
  return t;
}

function command(iptables: string, action: string, chain: string, rest: string[] = []): string {
  return [iptables, action, chain, ...rest].join(' ');
}

/** The accounting rules lantop wants for these hosts, per chain, in order. */
export function desiredRules(hostIps: readonly string[], options: Pick<PlanOptions, 'wan' | 'layout' | 'isTagging'>): Map<string, RuleSpec[]> {
  const tag = options.isTagging;
  const wan = options.wan;
  const rules = new Map<string, RuleSpec[]>();
  if (options.layout === 'flat') {
    rules.set(
      TRAFFIC_CHAIN,
      hostIps.flatMap((ip) => [
        { chain: TRAFFIC_CHAIN, in: wan, out: null, source: null, destination: ip, target: null, isTagged: tag },
        { chain: TRAFFIC_CHAIN, in: null, out: wan, source: ip, destination: null, target: null, isTagged: tag },
      ]),
    );
  } else {
    rules.set(TRAFFIC_CHAIN, [
      { chain: TRAFFIC_CHAIN, in: wan, out: null, source: null, destination: null, target: DOWN_CHAIN, isTagged: tag },
      { chain: TRAFFIC_CHAIN, in: null, out: wan, source: null, destination: null, target: UP_CHAIN, isTagged: tag },
    ]);
    rules.set(DOWN_CHAIN, hostIps.map((ip) => ({ chain: DOWN_CHAIN, in: null, out: null, source: null, destination: ip, target: 'RETURN', isTagged: tag })));
    rules.set(UP_CHAIN, hostIps.map((ip) => ({ chain: UP_CHAIN, in: null, out: null, source: ip, destination: null, target: 'RETURN', isTagged: tag })));
  }
  return rules;
}

const ANY_ADDRESS = new Set(['0.0.0.0/0', 'anywhere', '::/0']);
const ANY_IFACE = new Set(['*', 'any', '']);

// Every poll lists the same few hundred addresses: remember what each column text reads as.
const ADDRESS_CACHE = new Map<string, string | null | undefined>();
const ADDRESS_CACHE_LIMIT = 20_000;

/** An address column as a canonical IP (host /32 folded), null for "any", undefined when other. */
function addressOf(column: string): string | null | undefined {
  if (ANY_ADDRESS.has(column)) return null;
  if (ADDRESS_CACHE.has(column)) return ADDRESS_CACHE.get(column);
  const bare = column.endsWith('/32') ? column.slice(0, -3) : column;
  const address = canonicalIpv4(bare) ?? undefined;
  if (ADDRESS_CACHE.size >= ADDRESS_CACHE_LIMIT) ADDRESS_CACHE.clear();
  ADDRESS_CACHE.set(column, address);
  return address;
}

function ifaceOf(column: string): string | null | undefined {
  if (ANY_IFACE.has(column)) return null;
  return canonicalInterfaceName(column) ?? undefined;
}

/** Reads a listed rule back into a spec, or null when it has a shape lantop never writes. */
export function specOfListedRule(chain: string, rule: Rule): RuleSpec | null {
  const isTagged = rule.comment === LANTOP_COMMENT;
  // Anything besides the comment (other matches, negations, a protocol) is not ours.
  if (rule.extra.trim() !== '' || (rule.prot !== 'all' && rule.prot !== '0')) return null;
  if (rule.opt !== '--' && rule.opt !== '' && rule.opt !== '   ') return null;
  const source = addressOf(rule.source);
  const destination = addressOf(rule.destination);
  const inIface = ifaceOf(rule.in);
  const outIface = ifaceOf(rule.out);
  if (source === undefined || destination === undefined || inIface === undefined || outIface === undefined) return null;
  return { chain, in: inIface, out: outIface, source, destination, target: rule.target, isTagged };
}

function sameSpec(a: RuleSpec, b: RuleSpec): boolean {
  return a.chain === b.chain && a.in === b.in && a.out === b.out && a.source === b.source && a.destination === b.destination && a.target === b.target && a.isTagged === b.isTagged;
}

/** Lantop's rules keep their shape exactly; an untagged rule of that shape counts when not tagging. */
function isLantopShape(spec: RuleSpec, options: Pick<PlanOptions, 'wan' | 'isTagging'>): boolean {
  if (spec.isTagged) return true;
  if (options.isTagging) return false;
  return isAccountingShape(spec);
}

function isAccountingShape(spec: RuleSpec): boolean {
  const down = spec.in !== null && spec.out === null && spec.source === null && spec.destination !== null;
  const up = spec.in === null && spec.out !== null && spec.source !== null && spec.destination === null;
  const subDown = spec.in === null && spec.out === null && spec.source === null && spec.destination !== null;
  const subUp = spec.in === null && spec.out === null && spec.source !== null && spec.destination === null;
  const jump = spec.source === null && spec.destination === null && (spec.target === DOWN_CHAIN || spec.target === UP_CHAIN);
  return down || up || subDown || subUp || jump;
}

/** A listed rule as one line of text (raw router text: sanitise before display). */
export function describeRule(rule: Rule): string {
  return [rule.target ?? '', rule.prot, rule.in, rule.out, rule.source, rule.destination, rule.extra, rule.comment ? `/* ${rule.comment} */` : ''].filter(Boolean).join(' ');
}

export function findChain(listing: IptablesListing, name: string): Chain | undefined {
  return listing.chains.find((chain) => chain.name === name);
}

function isJumpToTraffic(rule: Rule): boolean {
  return rule.target === TRAFFIC_CHAIN && rule.extra.trim() === '' && addressOf(rule.source) === null && addressOf(rule.destination) === null && ifaceOf(rule.in) === null && ifaceOf(rule.out) === null;
}

/** Valid host IPs, canonical, deduplicated, in numeric order; the rest reported as rejected. */
export function validHostIps(hostIps: readonly string[]): { ips: string[]; rejected: string[] } {
  const ips = new Set<string>();
  const rejected: string[] = [];
  for (const raw of hostIps) {
    const ip = canonicalIpv4(raw);
    if (ip === null || ip === '0.0.0.0' || ip === '255.255.255.255') rejected.push(raw);
    else ips.add(ip);
  }
  return { ips: [...ips].sort((a, b) => ipv4ToNumber(a) - ipv4ToNumber(b)), rejected };
}

/**
 * Plans `setup`: from the current filter-table listing (one `iptables -L -v -x -n`) to the desired
 * rules, sending only what is missing or wrong. Order matters for safety: chains first, then their
 * rules, the FORWARD jump last, so a jump never points at a chain that is not there.
 */
export function planSetup(listing: IptablesListing, hostIpsIn: readonly string[], options: PlanOptions): TrafficPlan {
  const wan = canonicalInterfaceName(options.wan);
  if (wan === null) throw new TypeError(`invalid WAN interface name`);
  const opts = { ...options, wan };
  const { ips: wantedIps, rejected } = validHostIps(hostIpsIn);
  const notes: string[] = [];
  const commands: string[] = [];
  const foreignRules: Rule[] = [];
  const ipt = options.iptables;

  const desired = desiredRules(wantedIps, opts);
  const allChains = [TRAFFIC_CHAIN, DOWN_CHAIN, UP_CHAIN];
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
          const spec = specOfListedRule(chainName, rule);
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
      const spec = specOfListedRule(chainName, rule);
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
      const isDepartedHost = !isDuplicate && hostIp !== null && (desiredRules([hostIp], opts).get(chainName) ?? []).some((w) => sameSpec(w, spec));
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
  const jumpPositions = (forward?.rules ?? []).map((rule, i) => (isJumpToTraffic(rule) ? i + 1 : 0)).filter((n) => n > 0);
  const jumpCommands: string[] = [];
  if (jumpPositions.length === 0) {
    jumpCommands.push(command(ipt, '-I', 'FORWARD', ['1', '-j', TRAFFIC_CHAIN]));
  } else {
    const extra = jumpPositions.length - (jumpPositions[0] === 1 ? 1 : 0);
    if (jumpPositions[0] !== 1) {
      jumpCommands.push(command(ipt, '-I', 'FORWARD', ['1', '-j', TRAFFIC_CHAIN]));
      notes.push(`moving the FORWARD jump from position ${jumpPositions[0]} to 1`);
    }
    // Delete the old/extra jumps by spec: after an insert at 1, the first match is the new one,
    // so delete by line number, highest first, to keep numbers valid.
    const shift = jumpPositions[0] !== 1 ? 1 : 0;
    const toDelete = jumpPositions.filter((p) => p !== 1 || shift === 1).map((p) => p + shift).sort((a, b) => b - a);
    for (const position of toDelete.slice(0, extra)) jumpCommands.push(command(ipt, '-D', 'FORWARD', [String(position)]));
    if (jumpPositions.length > 1) notes.push(`removing ${jumpPositions.length - 1} duplicate FORWARD jump(s)`);
  }

  if (jumpPositions.length === 0 && findChain(listing, TRAFFIC_CHAIN) === undefined) notes.push('creating the TRAFFIC chain and its FORWARD jump');
  commands.push(...creations, ...deletions, ...additions, ...jumpCommands);
  // Chains of the other layout go last: flushed, then removed once nothing jumps to them.
  const staleChains = allChains.filter((name) => desired.get(name) === undefined && findChain(listing, name) !== undefined);
  for (const name of staleChains) commands.push(command(ipt, '-F', name), command(ipt, '-X', name));
  return { commands, foreignRules, rejectedHosts: rejected, notes };
}

/** `flush`: empty the chains; TRAFFIC and its jump stay so the next setup re-adds the rules. */
export function planFlush(listing: IptablesListing, iptables: string): string[] {
  return [TRAFFIC_CHAIN, DOWN_CHAIN, UP_CHAIN].filter((name) => findChain(listing, name) !== undefined).map((name) => command(iptables, '-F', name));
}

/** `teardown`: every jump to TRAFFIC out of FORWARD, then lantop's chains; nothing else. */
export function planTeardown(listing: IptablesListing, iptables: string): string[] {
  const commands: string[] = [];
  const forward = findChain(listing, 'FORWARD');
  const jumps = (forward?.rules ?? []).map((rule, i) => (isJumpToTraffic(rule) ? i + 1 : 0)).filter((n) => n > 0);
  for (const position of jumps.sort((a, b) => b - a)) commands.push(command(iptables, '-D', 'FORWARD', [String(position)]));
  const present = [TRAFFIC_CHAIN, DOWN_CHAIN, UP_CHAIN].filter((name) => findChain(listing, name) !== undefined);
  for (const name of present) commands.push(command(iptables, '-F', name));
  for (const name of present) commands.push(command(iptables, '-X', name));
  return commands;
}

export interface HostCounters {
  downBytes: number;
  upBytes: number;
  isExact: boolean;
}

/**
 * Per-host cumulative counters from a listing, whatever the layout: download = `-i WAN -d IP`
 * in TRAFFIC or `-d IP` in TRAFFIC_DOWN; upload = `-s IP -o WAN` or `-s IP` in TRAFFIC_UP.
 * Duplicate rules for one host (a half-finished setup) are not added twice: the first counts.
 */
export function readHostCounters(listing: IptablesListing, wan: string): Map<string, HostCounters> {
  const counters = new Map<string, HostCounters>();
  const seen = new Set<string>();
  const entry = (ip: string): HostCounters => {
    let c = counters.get(ip);
    if (c === undefined) {
      c = { downBytes: 0, upBytes: 0, isExact: true };
      counters.set(ip, c);
    }
    return c;
  };
  for (const chainName of [TRAFFIC_CHAIN, DOWN_CHAIN, UP_CHAIN]) {
    const chain = findChain(listing, chainName);
    if (chain === undefined) continue;
    for (const rule of chain.rules) {
      const spec = specOfListedRule(chainName, rule);
      if (spec === null) continue;
      let direction: 'down' | 'up' | null = null;
      let ip: string | null = null;
      if (chainName === TRAFFIC_CHAIN && spec.in === wan && spec.out === null && spec.source === null && spec.destination !== null) {
        direction = 'down';
        ip = spec.destination;
      } else if (chainName === TRAFFIC_CHAIN && spec.out === wan && spec.in === null && spec.destination === null && spec.source !== null) {
        direction = 'up';
        ip = spec.source;
      } else if (chainName === DOWN_CHAIN && spec.destination !== null && spec.source === null) {
        direction = 'down';
        ip = spec.destination;
      } else if (chainName === UP_CHAIN && spec.source !== null && spec.destination === null) {
        direction = 'up';
        ip = spec.source;
      }
      if (direction === null || ip === null) continue;
      const key = `${direction} ${ip}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const c = entry(ip);
      if (direction === 'down') c.downBytes = rule.bytes;
      else c.upBytes = rule.bytes;
      if (!rule.isExact) c.isExact = false;
    }
  }
  return counters;
}
