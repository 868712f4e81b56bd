// The kernel side of the emulated iptables: a batch of identical packets walks a built-in chain
// with ipt_do_table's semantics, so counters grow only on the rules that match. Pure: the state
// is passed in and changed in place.

import type { IptablesChain, IptablesRule, IptablesState, IptablesTable } from './iptables-state.js';
import { matchesExtensions } from './iptables-matches.js';

function interfaceMatches(ruleName: string, packetName: string): boolean {
  if (ruleName === '') return true;
  if (ruleName.endsWith('+')) return packetName.startsWith(ruleName.slice(0, -1));
  return ruleName === packetName;
}

export interface PacketBatch {
  /** Interface the packets came in on ('' for locally generated). */
  inInterface: string;
  /** Interface they leave by ('' for locally delivered). */
  outInterface: string;
  source: number;
  destination: number;
  protocol: number;
  packets: number;
  bytes: number;
  /** The frames' source MAC (from an Ethernet port); absent: none (locally generated, or not modelled). */
  sourceMac?: string | null;
  /** Model time of the batch, for the time match; absent: the time match holds. */
  nowMs?: number;
  /** The batch's ports (`--sport`/`--dport`); absent: not modelled, no port match holds. */
  sourcePort?: number | null;
  destinationPort?: number | null;
  /**
   * The flows the batch is made of (issue 19, from the conntrack model): where a rule of the table
   * matches on ports, each flow walks the chains as a batch of its own (its protocol and ports);
   * their packets and bytes add up to the batch's.
   */
  flows?: readonly PacketFlow[];
}

export interface PacketFlow {
  protocol: number;
  sourcePort: number | null;
  destinationPort: number | null;
  packets: number;
  bytes: number;
}

export type Verdict = 'ACCEPT' | 'DROP';
const MAX_JUMP_DEPTH = 32;

function ruleMatches(rule: IptablesRule, packet: PacketBatch): boolean {
  const invertIf = (isInverted: boolean, result: boolean): boolean => (isInverted ? !result : result);
  if (!invertIf(rule.invert.source, ((packet.source & rule.source.mask) >>> 0) === rule.source.address)) return false;
  if (!invertIf(rule.invert.destination, ((packet.destination & rule.destination.mask) >>> 0) === rule.destination.address)) return false;
  if (!invertIf(rule.invert.inInterface, interfaceMatches(rule.inInterface, packet.inInterface))) return false;
  if (!invertIf(rule.invert.outInterface, interfaceMatches(rule.outInterface, packet.outInterface))) return false;
  if (rule.protocol !== 0 && !invertIf(rule.invert.protocol, packet.protocol === rule.protocol)) return false;
  // Simulated packets are never fragments.
  if (rule.isFragment && !rule.invert.fragment) return false;
  return matchesExtensions(rule, packet);
}

/**
 * Runs a batch of identical packets through a built-in chain of the filter table, adding to the
 * counters of every rule that matches (and to the policy counters when the packets fall off the
 * end), and returns the verdict. A rule without target counts and continues; RETURN returns to the
 * calling chain (or the policy, in a built-in chain); ACCEPT/DROP/REJECT stop; LOG continues.
 */
export function traversePackets(state: IptablesState, hook: 'INPUT' | 'FORWARD' | 'OUTPUT', packet: PacketBatch, tableName = 'filter'): Verdict {
  const table = state.tables.get(tableName);
  const builtin = table?.chains.find((c) => c.name === hook && c.isBuiltin);
  if (!table || !builtin) return 'ACCEPT';
  // A batch of flows walks flow by flow only where some rule looks at ports: dropped when any flow is.
  if (packet.flows !== undefined && packet.flows.length > 0 && table.chains.some((c) => c.rules.some((r) => r.portMatch !== null))) {
    let verdict: Verdict = 'ACCEPT';
    for (const flow of packet.flows) {
      const one: PacketBatch = { ...packet, flows: undefined, protocol: flow.protocol, sourcePort: flow.sourcePort, destinationPort: flow.destinationPort, packets: flow.packets, bytes: flow.bytes };
      if (traverseBatch(table, builtin, one) === 'DROP') verdict = 'DROP';
    }
    return verdict;
  }
  return traverseBatch(table, builtin, packet);
}

function traverseBatch(table: IptablesTable, builtin: IptablesChain, packet: PacketBatch): Verdict {
  const packets = BigInt(packet.packets);
  const bytes = BigInt(packet.bytes);
  const walk = (chain: IptablesChain, depth: number): Verdict | 'RETURN' => {
    for (const rule of chain.rules) {
      if (!ruleMatches(rule, packet)) continue;
      rule.packets += packets;
      rule.bytes += bytes;
      switch (rule.target) {
        case '':
        case 'LOG':
          continue;
        case 'ACCEPT':
          return 'ACCEPT';
        case 'DROP':
        case 'REJECT':
        case 'QUEUE':
          return 'DROP';
        case 'RETURN':
          return 'RETURN';
        default: {
          const next = table.chains.find((c) => c.name === rule.target);
          if (!next || depth >= MAX_JUMP_DEPTH) return 'DROP';
          const result = walk(next, depth + 1);
          if (result !== 'RETURN' || rule.isGoto) return result;
        }
      }
    }
    return 'RETURN';
  };
  const result = walk(builtin, 0);
  if (result !== 'RETURN') return result;
  builtin.packets += packets;
  builtin.bytes += bytes;
  return builtin.policy === 'DROP' ? 'DROP' : 'ACCEPT';
}
