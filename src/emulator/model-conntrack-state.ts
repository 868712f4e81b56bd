// The emulated router's connection table as data (issue 19): its connections, their counters and
// the interface counters they add to, and the table's state at boot. Apart from model-conntrack.ts
// (the simulation) and model-conntrack-format.ts (/proc/net/nf_conntrack) so that model.ts can hold
// the state without importing either. Pure.

import { createPrng, type Prng } from './prng.js';

export type ConnectionKind = 'forward' | 'input' | 'output';

export interface Connection {
  id: number;
  kind: ConnectionKind;
  /** MAC of the LAN host the connection belongs to ('' for the router's own). */
  hostMac: string;
  slot: number;
  family: 4 | 6;
  protocol: 6 | 17;
  /** Original direction: the side that opened it (a LAN host, or the router itself). */
  source: string;
  sourcePort: number;
  destination: string;
  destinationPort: number;
  /** Reply direction's destination: the WAN address for NATed IPv4, else the source. */
  replyDestination: string;
  createdAtMs: number;
  lastPacketMs: number;
  /** When the application closes it (TCP FIN; UDP just stops). */
  endsAtMs: number;
  isClosed: boolean;
  closedAtMs: number;
  /** Accounting attached at creation (nf_conntrack_acct was 1 then). */
  hasAcct: boolean;
  origPackets: number;
  origBytes: number;
  replyPackets: number;
  replyBytes: number;
  isSeenOrig: boolean;
  isSeenReply: boolean;
  isAssured: boolean;
  /** Packets the firewall saw (offload: after OFFLOAD_AFTER_PACKETS the flow leaves the slow path). */
  firewallPackets: number;
  isOffloaded: boolean;
  weight: number;
}

export interface InterfaceCounters {
  rxBytes: number;
  rxPackets: number;
  txBytes: number;
  txPackets: number;
}

export interface ConntrackState {
  connections: Connection[];
  nextId: number;
  /** /proc/sys/net/netfilter/nf_conntrack_acct. */
  isAcctOn: boolean;
  prng: Prng;
  /** When each host's slot may open its next connection (key `mac/slot`). */
  slotOpensAtMs: Map<string, number>;
  /** Flows the fast path took and gave back since boot (fcctl's Cummulative [ insert - remove ]). */
  offloadInserted: number;
  offloadRemoved: number;
  /** Bytes of connections that left the table, per host MAC (ground truth for tests: live + gone = forwarded). */
  goneBytes: Map<string, { up: number; down: number }>;
}

/** The table at boot; `isAcctOn` is nf_conntrack_acct's default on the firmware (model.ts decides it). */
export function createConntrackState(seed: number, isAcctOn: boolean): ConntrackState {
  return {
    connections: [],
    nextId: 1,
    isAcctOn,
    prng: createPrng(((seed * 40503) ^ 0x5bd1e995) >>> 0),
    slotOpensAtMs: new Map(),
    offloadInserted: 0,
    offloadRemoved: 0,
    goneBytes: new Map(),
  };
}
