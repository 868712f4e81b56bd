// The kernel side of the emulated nftables: a batch of identical packets walks every base chain on
// its hook, lowest priority first, with nf_tables' semantics (doc/nft.txt, "Overall evaluation of
// the ruleset"): `accept` ends the current base chain and the packet goes on to the next one,
// `drop` ends everything, a chain's end is its policy; jump/goto/return between regular chains.
// Counters add the batch's packets and bytes (the L3 length, like nft_counter); `update @set`
// adds an element on a key's first packet (with a counter when the statement has one) and
// refreshes its expiry after that; a lookup of a set with counters counts on its element. A match
// on a header the packet does not have (ip on IPv6, ether from a PPP link) fails, as nft's implicit
// dependencies make it. Pure: the state is changed in place.

import type { MatchKey, MatchValue, NftHook, Statement } from './nft-ast.js';
import { expireElements, type NftChain, type NftSet, type NftState, type NftTable } from './nft-state.js';

export interface NftPacket {
  hook: NftHook;
  family: 4 | 6;
  /** '' for locally generated (output) or locally delivered (input) sides. */
  iifname: string;
  oifname: string;
  saddr: bigint;
  daddr: bigint;
  /** Ethernet addresses when the packet arrived on an Ethernet device; null from PPP or locally. */
  etherSaddr: bigint | null;
  etherDaddr: bigint | null;
  /** One conntrack state bit (CT_STATES); simulated flows are established. */
  ctState: number;
  packets: number;
  bytes: number;
  /** The batch's IP protocol and ports (`meta l4proto`, `tcp sport`); absent: unknown, those matches fail. */
  l4proto?: number | null;
  sport?: number | null;
  dport?: number | null;
  /**
   * The flows the batch is made of (issue 19, from the conntrack model): where a rule matches on
   * the protocol or a port, each flow walks the chains as a batch of its own; their packets and
   * bytes add up to the batch's.
   */
  flows?: readonly NftFlow[];
}

export interface NftFlow {
  l4proto: number;
  sport: number | null;
  dport: number | null;
  packets: number;
  bytes: number;
}

const PORT_PROTOCOLS: Readonly<Record<'tcp' | 'udp' | 'sctp', number>> = { tcp: 6, udp: 17, sctp: 132 };

export type NftVerdict = 'accept' | 'drop';
const MAX_JUMP_DEPTH = 16;

function keyValue(key: MatchKey, packet: NftPacket): bigint | string | number | null {
  if (key.kind === 'meta') return key.key === 'iifname' ? packet.iifname : packet.oifname;
  if (key.kind === 'ct') return packet.ctState;
  if (key.kind === 'l4proto') return packet.l4proto === undefined || packet.l4proto === null ? null : BigInt(packet.l4proto);
  if (key.kind === 'port') {
    const port = key.field === 'sport' ? packet.sport : packet.dport;
    return packet.l4proto !== PORT_PROTOCOLS[key.protocol] || port === undefined || port === null ? null : BigInt(port);
  }
  if (key.protocol === 'ether') return key.field === 'saddr' ? packet.etherSaddr : packet.etherDaddr;
  if ((key.protocol === 'ip') !== (packet.family === 4)) return null;
  return key.field === 'saddr' ? packet.saddr : packet.daddr;
}

function prefixMask(bits: number, length: number): bigint {
  return ((1n << BigInt(bits)) - 1n) ^ ((1n << BigInt(bits - length)) - 1n);
}

/** Whether a match holds; a set member that matches counts the batch when it has a counter. */
function matches(table: NftTable, statement: Extract<Statement, { kind: 'match' }>, packet: NftPacket, nowMs: number): boolean {
  const actual = keyValue(statement.key, packet);
  if (actual === null) return false;
  const right: MatchValue = statement.right;
  let isEqual = false;
  switch (right.kind) {
    case 'value':
      isEqual = actual === right.value;
      break;
    case 'prefix':
      isEqual = (BigInt(actual) & prefixMask(packet.family === 4 ? 32 : 128, right.length)) === right.value;
      break;
    case 'anonymous':
      isEqual = right.values.some((value) => (typeof value === 'bigint' && typeof actual === 'number' ? Number(value) === actual : value === actual));
      break;
    case 'flags':
      isEqual = ((actual as number) & right.bits) !== 0;
      break;
    case 'set-ref': {
      const set = table.sets.find((s) => s.name === right.name) as NftSet;
      expireElements(set, nowMs);
      const element = set.elements.get(actual as bigint);
      isEqual = element !== undefined;
      if (element?.counter && statement.op === '==') {
        element.counter.packets += BigInt(packet.packets);
        element.counter.bytes += BigInt(packet.bytes);
      }
      break;
    }
  }
  return statement.op === '==' ? isEqual : !isEqual;
}

/** `update @set { key [counter] }`; false when the packet has no such key or the set is full. */
function update(table: NftTable, statement: Extract<Statement, { kind: 'update' }>, packet: NftPacket, nowMs: number): boolean {
  const key = keyValue(statement.key, packet);
  if (typeof key !== 'bigint') return false;
  const set = table.sets.find((s) => s.name === statement.set) as NftSet;
  expireElements(set, nowMs);
  const element = set.elements.get(key);
  if (element) {
    if (element.expiresAtMs !== null) element.expiresAtMs = nowMs + set.timeoutMs;
    if (element.counter) {
      element.counter.packets += BigInt(packet.packets);
      element.counter.bytes += BigInt(packet.bytes);
    }
    return true;
  }
  if (set.size > 0 && set.elements.size >= set.size) return false;
  set.elements.set(key, {
    value: key,
    counter: statement.hasCounter ? { packets: BigInt(packet.packets), bytes: BigInt(packet.bytes) } : null,
    expiresAtMs: set.timeoutMs > 0 ? nowMs + set.timeoutMs : null,
    // The update's template carries the set's timeout (nft_dynset_init).
    timeoutMs: set.timeoutMs > 0 ? set.timeoutMs : null,
  });
  return true;
}

type Outcome = NftVerdict | 'continue';

function walk(table: NftTable, chain: NftChain, packet: NftPacket, nowMs: number, depth: number): Outcome {
  for (const rule of chain.rules) {
    let outcome: Outcome | 'next-rule' = 'next-rule';
    for (const statement of rule.statements) {
      if (statement.kind === 'match') {
        if (!matches(table, statement, packet, nowMs)) break;
      } else if (statement.kind === 'counter') {
        statement.packets += BigInt(packet.packets);
        statement.bytes += BigInt(packet.bytes);
      } else if (statement.kind === 'update') {
        if (!update(table, statement, packet, nowMs)) break;
      } else if (statement.kind === 'verdict') {
        outcome = statement.verdict === 'return' ? 'continue' : statement.verdict;
        break;
      } else {
        const target = table.chains.find((c) => c.name === statement.target);
        if (!target || depth >= MAX_JUMP_DEPTH) return 'drop';
        const result = walk(table, target, packet, nowMs, depth + 1);
        if (result !== 'continue') return result;
        if (statement.verdict === 'goto') return 'continue';
      }
    }
    if (outcome !== 'next-rule') return outcome;
  }
  return 'continue';
}

/** Whether a rule of these tables looks at the protocol or a port (then flows walk one by one). */
function hasFlowMatch(chains: ReadonlyArray<{ table: NftTable }>): boolean {
  const seen = new Set<NftTable>();
  for (const { table } of chains) {
    if (seen.has(table)) continue;
    seen.add(table);
    for (const chain of table.chains) for (const rule of chain.rules) for (const s of rule.statements) if (s.kind === 'match' && (s.key.kind === 'l4proto' || s.key.kind === 'port')) return true;
  }
  return false;
}

/**
 * Runs the batch through every base chain of its hook (lowest priority first); its verdict. A batch
 * of flows, where some rule matches on protocol or port, walks flow by flow: dropped when any is.
 */
export function traverseNft(state: NftState, packet: NftPacket, nowMs: number): NftVerdict {
  const chains = hookChains(state, packet);
  if (packet.flows !== undefined && packet.flows.length > 0 && hasFlowMatch(chains)) {
    let verdict: NftVerdict = 'accept';
    for (const flow of packet.flows) {
      const one: NftPacket = { ...packet, flows: undefined, l4proto: flow.l4proto, sport: flow.sport, dport: flow.dport, packets: flow.packets, bytes: flow.bytes };
      if (walkHook(chains, one, nowMs) === 'drop') verdict = 'drop';
    }
    return verdict;
  }
  return walkHook(chains, packet, nowMs);
}

function walkHook(chains: ReadonlyArray<{ table: NftTable; chain: NftChain }>, packet: NftPacket, nowMs: number): NftVerdict {
  for (const { table, chain } of chains) {
    const outcome = walk(table, chain, packet, nowMs, 0);
    if (outcome === 'drop' || (outcome === 'continue' && chain.base?.policy === 'drop')) return 'drop';
  }
  return 'accept';
}

function hookChains(state: NftState, packet: NftPacket): Array<{ table: NftTable; chain: NftChain }> {
  const chains: Array<{ table: NftTable; chain: NftChain }> = [];
  for (const table of state.tables) {
    if (table.family === 'ip' && packet.family !== 4) continue;
    if (table.family === 'ip6' && packet.family !== 6) continue;
    for (const chain of table.chains) if (chain.base?.hook === packet.hook) chains.push({ table, chain });
  }
  chains.sort((a, b) => (a.chain.base?.priority ?? 0) - (b.chain.base?.priority ?? 0));
  return chains;
}
