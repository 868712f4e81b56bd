// The emulated router's connection tracking (issue 19): each host's forwarded bytes are carried by
// a few connections to documentation addresses, shaped by what the device is (a phone: HTTPS,
// QUIC, DNS; the TV: one long HTTPS stream; the seedbox: iperf on 5201 …). Connections open, close
// (TCP TIME_WAIT 120 s) and time out as the kernel's would; their counters exist only when
// accounting was on when they were created (nf_ct_acct_ext_add runs at creation only). The same
// pass decides what the firewall sees under offload: a connection's first packets go through the
// rules, later ones bypass them (Broadcom's flow cache, OpenWrt's flowtable), yet still count in
// conntrack (Broadcom's seq_print_acct adds the flow-cache bytes; fw4 ≥ 23.05 gives its flowtable
// `counter`) and on the interfaces. The table's data is model-conntrack-state.ts; /proc/net/nf_conntrack
// is printed by model-conntrack-format.ts. Pure; randomness from its own generator, so the model's
// other draws stay what they were.

import type { Flavour, HostKind, RouterModel, SimulatedHost } from './model.js';
import type { Connection, InterfaceCounters } from './model-conntrack-state.js';
import { nextInt, type Prng } from './prng.js';
import { flowsOf, type ModelFlow } from './model-flows.js';

interface FlowTemplate {
  protocol: 6 | 17;
  port: number;
  weight: number;
  /** Lifetime range in seconds, then the pause before the slot opens a new connection. */
  lifeS: [number, number];
  pauseS: [number, number];
}

const HTTPS = (weight: number, life: [number, number] = [30, 900]): FlowTemplate => ({ protocol: 6, port: 443, weight, lifeS: life, pauseS: [0, 5] });
const QUIC = (weight: number): FlowTemplate => ({ protocol: 17, port: 443, weight, lifeS: [20, 300], pauseS: [0, 10] });
const DNS: FlowTemplate = { protocol: 17, port: 53, weight: 0.05, lifeS: [1, 2], pauseS: [20, 120] };

/** What each kind of device talks to (ports: IANA; iperf3 5201, MQTT over TLS 8883, Xbox Live 3074). */
const FLOWS: Record<HostKind, FlowTemplate[]> = {
  phone: [HTTPS(5), HTTPS(2, [60, 1800]), QUIC(4), DNS],
  tablet: [HTTPS(5), HTTPS(2, [60, 1800]), QUIC(4), DNS],
  laptop: [HTTPS(6), HTTPS(2), QUIC(3), { protocol: 6, port: 22, weight: 0.5, lifeS: [120, 3600], pauseS: [60, 600] }, DNS],
  tv: [HTTPS(20, [600, 3600]), QUIC(1), DNS],
  downloader: [{ protocol: 6, port: 5201, weight: 10, lifeS: [60, 600], pauseS: [0, 30] }, HTTPS(3), QUIC(1), DNS],
  console: [{ protocol: 17, port: 3074, weight: 4, lifeS: [300, 1800], pauseS: [5, 60] }, HTTPS(3), DNS],
  iot: [{ protocol: 6, port: 8883, weight: 3, lifeS: [3600, 86_400], pauseS: [5, 30] }, { protocol: 17, port: 123, weight: 0.2, lifeS: [1, 1], pauseS: [600, 1200] }, DNS],
};

/** Packets a connection shows the firewall before the fast path takes it (the first few). */
export const OFFLOAD_AFTER_PACKETS = 3;
const TIME_WAIT_S = 120;
/** The resolver the router forwards to, and the NTP server it polls (documentation addresses). */
export const UPSTREAM_RESOLVER = '203.0.113.53';
export const NTP_SERVER = '203.0.113.123';
export const NTP_POLL_MS = 64_000;

/** Kernel timeouts: OpenWrt's sysctl-nf-conntrack.conf, or the kernel defaults (Broadcom). */
export function conntrackTimeouts(flavour: Flavour): { tcpEstablished: number; udp: number; udpStream: number } {
  return flavour === 'broadcom' ? { tcpEstablished: 432_000, udp: 30, udpStream: 180 } : { tcpEstablished: 7440, udp: 60, udpStream: 180 };
}

function lifetimeMs(prng: Prng, range: [number, number]): number {
  return nextInt(prng, range[0], range[1]) * 1000;
}

function remoteFor(prng: Prng, family: 4 | 6, template: FlowTemplate): string {
  if (template.port === 53) return family === 4 ? UPSTREAM_RESOLVER : '2001:db8:ff00::53';
  if (template.port === 123) return family === 4 ? NTP_SERVER : '2001:db8:ff00::123';
  return family === 4 ? `203.0.113.${nextInt(prng, 10, 250)}` : `2001:db8:ff00::${nextInt(prng, 0x10, 0xfff0).toString(16)}`;
}

function open(model: RouterModel, fields: Pick<Connection, 'kind' | 'hostMac' | 'slot' | 'family' | 'protocol' | 'source' | 'destination' | 'destinationPort' | 'weight'> & { sourcePort?: number; lifeMs: number }): Connection {
  const ct = model.conntrack;
  const isNated = fields.kind === 'forward' && fields.family === 4;
  const connection: Connection = {
    id: ct.nextId++,
    kind: fields.kind,
    hostMac: fields.hostMac,
    slot: fields.slot,
    family: fields.family,
    protocol: fields.protocol,
    source: fields.source,
    sourcePort: fields.sourcePort ?? nextInt(ct.prng, 32_768, 60_999),
    destination: fields.destination,
    destinationPort: fields.destinationPort,
    replyDestination: isNated ? model.wanAddress : fields.source,
    createdAtMs: model.nowMs,
    lastPacketMs: model.nowMs,
    endsAtMs: model.nowMs + fields.lifeMs,
    isClosed: false,
    closedAtMs: 0,
    hasAcct: ct.isAcctOn,
    origPackets: 0,
    origBytes: 0,
    replyPackets: 0,
    replyBytes: 0,
    isSeenOrig: false,
    isSeenReply: false,
    isAssured: false,
    firewallPackets: 0,
    isOffloaded: false,
    weight: fields.weight,
  };
  ct.connections.push(connection);
  return connection;
}

/** The host's open connections for a batch, opening what its device kind has free slots for. */
function openConnections(model: RouterModel, host: SimulatedHost, family: 4 | 6, address: string, protocol: 6 | 17 | null): Connection[] {
  const ct = model.conntrack;
  const templates = FLOWS[host.kind];
  const found: Connection[] = [];
  for (const connection of ct.connections) {
    if (connection.kind === 'forward' && !connection.isClosed && connection.hostMac === host.mac && connection.family === family && connection.source === address && (protocol === null || connection.protocol === protocol)) {
      found.push(connection);
    }
  }
  for (let slot = 0; slot < templates.length; slot++) {
    const template = templates[slot] as FlowTemplate;
    if (protocol !== null && template.protocol !== protocol) continue;
    if (found.some((c) => c.slot === slot)) continue;
    const key = `${host.mac}/${family}/${slot}`;
    if ((ct.slotOpensAtMs.get(key) ?? 0) > model.nowMs) continue;
    found.push(open(model, {
      kind: 'forward', hostMac: host.mac, slot, family, protocol: template.protocol, source: address,
      destination: remoteFor(ct.prng, family, template), destinationPort: template.port, weight: template.weight,
      lifeMs: lifetimeMs(ct.prng, template.lifeS),
    }));
  }
  if (found.length === 0) {
    // Every slot of this protocol is pausing: the bytes still need a connection (the first template of it).
    const slot = Math.max(0, templates.findIndex((t) => protocol === null || t.protocol === protocol));
    const template = templates[slot] as FlowTemplate;
    found.push(open(model, {
      kind: 'forward', hostMac: host.mac, slot, family, protocol: protocol ?? template.protocol, source: address,
      destination: remoteFor(ct.prng, family, template), destinationPort: template.port, weight: 1, lifeMs: lifetimeMs(ct.prng, template.lifeS),
    }));
  }
  return found;
}

/** One query and its answer (DNS, NTP): what such a connection carries, once, in L3 bytes. */
function exchangeBytes(connection: Connection, direction: 'up' | 'down'): number | null {
  if (connection.destinationPort !== 53 && connection.destinationPort !== 123) return null;
  const isDone = direction === 'up' ? connection.isSeenOrig : connection.isSeenReply;
  if (isDone) return 0;
  const ip = connection.family === 4 ? 20 : 40;
  return connection.destinationPort === 123 ? ip + 56 : ip + (direction === 'up' ? 40 : 100);
}

/** Splits `total` over the connections in whole bytes: exchanges take theirs, the rest by weight (remainder to the heaviest). */
function split(total: number, connections: readonly Connection[], direction: 'up' | 'down', out: number[]): void {
  out.length = connections.length;
  let left = total;
  let weights = 0;
  let heaviest = -1;
  for (let i = 0; i < connections.length; i++) {
    const connection = connections[i] as Connection;
    const exchange = exchangeBytes(connection, direction);
    if (exchange !== null) {
      out[i] = Math.min(left, exchange);
      left -= out[i] as number;
      continue;
    }
    out[i] = 0;
    weights += connection.weight;
    if (heaviest < 0 || connection.weight > (connections[heaviest] as Connection).weight) heaviest = i;
  }
  if (heaviest < 0) {
    // Only exchanges: the first one carries the rest.
    out[0] = (out[0] as number) + left;
    return;
  }
  let given = 0;
  for (let i = 0; i < connections.length; i++) {
    if (exchangeBytes(connections[i] as Connection, direction) !== null) continue;
    out[i] = Math.floor((left * (connections[i] as Connection).weight) / weights);
    given += out[i] as number;
  }
  out[heaviest] = (out[heaviest] as number) + left - given;
}

const shares: number[] = [];
const visibleBytes: number[] = [];

/**
 * Carries `bytes` of a host's forwarded traffic in one direction ('up' = LAN → WAN, the original
 * direction of its connections) for one step: splits them over its connections, hands the firewall
 * the part it sees (`traverse(packets, bytes)` → accepted?), and counts what got through in
 * conntrack and on the interfaces. Offload off: the firewall sees the whole batch, exactly as
 * before this model existed. Returns the bytes that got through.
 */
export function carryForwarded(
  model: RouterModel, host: SimulatedHost, family: 4 | 6, address: string, protocol: 6 | 17 | null,
  direction: 'up' | 'down', bytes: number, packetBytes: number, traverse: (packets: number, bytes: number, flows: ModelFlow[]) => boolean,
): number {
  const connections = openConnections(model, host, family, address, protocol);
  split(bytes, connections, direction, shares);
  const isOffload = model.offload === 'on';
  let firewallPackets = 0;
  let firewallBytes = 0;
  if (!isOffload) {
    firewallPackets = Math.max(1, Math.ceil(bytes / packetBytes));
    firewallBytes = bytes;
  } else {
    visibleBytes.length = connections.length;
    for (let i = 0; i < connections.length; i++) {
      const connection = connections[i] as Connection;
      const share = shares[i] as number;
      const packets = share > 0 ? Math.ceil(share / packetBytes) : 0;
      const seen = connection.isOffloaded ? 0 : Math.min(packets, Math.max(0, OFFLOAD_AFTER_PACKETS - connection.firewallPackets));
      const seenBytes = packets === 0 ? 0 : seen === packets ? share : Math.round((share * seen) / packets);
      visibleBytes[i] = seenBytes;
      firewallPackets += seen;
      firewallBytes += seenBytes;
    }
  }
  // The flows hand the chains each connection's protocol and ports (issue 19's class counters).
  const isAccepted = firewallBytes > 0 ? traverse(firewallPackets, firewallBytes, flowsOf(connections, isOffload ? visibleBytes : shares, firewallPackets, direction)) : true;
  let carried = 0;
  let carriedPackets = 0;
  for (let i = 0; i < connections.length; i++) {
    const connection = connections[i] as Connection;
    const share = shares[i] as number;
    if (share <= 0) continue;
    // Dropped by the firewall: a flow the fast path already carries goes on regardless (offloaded
    // flows bypass new rules until flushed); others stall, modelled as never sent.
    const isBypassing = isOffload && connection.isOffloaded;
    if (!isAccepted && !isBypassing) continue;
    const packets = Math.ceil(share / packetBytes);
    if (isOffload && !connection.isOffloaded) {
      connection.firewallPackets += packets;
      if (connection.firewallPackets >= OFFLOAD_AFTER_PACKETS && (connection.isSeenReply || direction === 'down')) {
        connection.isOffloaded = true;
        model.conntrack.offloadInserted++;
      }
    }
    count(connection, direction === 'up' ? 'orig' : 'reply', packets, share, model.nowMs);
    carried += share;
    carriedPackets += packets;
  }
  if (carried > 0) {
    const lan = model.lanInterface;
    const wan = model.wanInterface;
    if (direction === 'up') {
      addRx(model, lan, carried, carriedPackets);
      addTx(model, wan, carried, carriedPackets);
    } else {
      addRx(model, wan, carried, carriedPackets);
      addTx(model, lan, carried, carriedPackets);
    }
  }
  return carried;
}

function count(connection: Connection, direction: 'orig' | 'reply', packets: number, bytes: number, nowMs: number): void {
  if (connection.hasAcct) {
    if (direction === 'orig') {
      connection.origPackets += packets;
      connection.origBytes += bytes;
    } else {
      connection.replyPackets += packets;
      connection.replyBytes += bytes;
    }
  }
  if (direction === 'reply') connection.isSeenReply = true;
  else connection.isSeenOrig = true;
  // TCP is assured once the handshake completes (both directions seen); UDP once it is a stream.
  if (connection.isSeenReply && (connection.protocol === 6 || nowMs - connection.createdAtMs >= 2000)) connection.isAssured = true;
  connection.lastPacketMs = nowMs;
}

function counters(model: RouterModel, name: string): InterfaceCounters {
  let entry = model.netdev.get(name);
  if (!entry) {
    entry = { rxBytes: 0, rxPackets: 0, txBytes: 0, txPackets: 0 };
    model.netdev.set(name, entry);
  }
  return entry;
}

export function addRx(model: RouterModel, name: string, bytes: number, packets: number): void {
  const entry = counters(model, name);
  entry.rxBytes += bytes;
  entry.rxPackets += packets;
}

export function addTx(model: RouterModel, name: string, bytes: number, packets: number): void {
  const entry = counters(model, name);
  entry.txBytes += bytes;
  entry.txPackets += packets;
}

/** A router-own exchange (DNS to or from it, NTP): one conntrack entry per 5-tuple, reused while it lives. */
export function trackRouterOwn(
  model: RouterModel, kind: 'input' | 'output', source: string, sourcePort: number | null,
  destination: string, destinationPort: number, requests: number, requestBytes: number, replyBytes: number,
): void {
  const ct = model.conntrack;
  let connection = ct.connections.find((c) => c.kind === kind && !c.isClosed && c.source === source && c.destination === destination && c.destinationPort === destinationPort && (sourcePort === null ? model.nowMs - c.createdAtMs < 5000 : c.sourcePort === sourcePort));
  connection ??= open(model, {
    kind, hostMac: '', slot: -1, family: 4, protocol: 17, source, destination, destinationPort, weight: 1, lifeMs: 1000,
    ...(sourcePort !== null ? { sourcePort } : {}),
  });
  connection.endsAtMs = model.nowMs + 1000;
  count(connection, 'orig', requests, requestBytes, model.nowMs);
  count(connection, 'reply', requests, replyBytes, model.nowMs);
}

/** Time passing for the table: connections close, closed and idle ones time out and leave it. */
export function ageConnections(model: RouterModel): void {
  const ct = model.conntrack;
  const limits = conntrackTimeouts(model.flavour);
  const now = model.nowMs;
  let kept = 0;
  for (let i = 0; i < ct.connections.length; i++) {
    const connection = ct.connections[i] as Connection;
    if (!connection.isClosed && now >= connection.endsAtMs) {
      connection.isClosed = true;
      connection.closedAtMs = now;
      // The fast path hands a finished flow back to conntrack (TCP FIN/RST tears the flowtable entry down).
      if (connection.isOffloaded) {
        connection.isOffloaded = false;
        ct.offloadRemoved++;
      }
      if (connection.kind === 'forward' && connection.slot >= 0) {
        const template = FLOWS[kindOfHost(model, connection.hostMac)][connection.slot];
        if (template) ct.slotOpensAtMs.set(`${connection.hostMac}/${connection.family}/${connection.slot}`, now + lifetimeMs(ct.prng, template.pauseS));
      }
    }
    if (remainingSeconds(connection, limits, now) > 0) ct.connections[kept++] = connection;
    else {
      if (connection.isOffloaded) ct.offloadRemoved++;
      if (connection.kind !== 'forward') continue;
      const gone = ct.goneBytes.get(connection.hostMac) ?? { up: 0, down: 0 };
      gone.up += connection.origBytes;
      gone.down += connection.replyBytes;
      ct.goneBytes.set(connection.hostMac, gone);
    }
  }
  ct.connections.length = kept;
}

function kindOfHost(model: RouterModel, mac: string): HostKind {
  return model.hosts.find((h) => h.mac === mac)?.kind ?? 'laptop';
}

/** Seconds until the entry times out, as nf_ct_expires()/HZ prints it. */
export function remainingSeconds(connection: Connection, limits: ReturnType<typeof conntrackTimeouts>, nowMs: number): number {
  if (connection.protocol === 6) {
    if (connection.isClosed) return TIME_WAIT_S - Math.floor((nowMs - connection.closedAtMs) / 1000);
    return limits.tcpEstablished - Math.floor((nowMs - connection.lastPacketMs) / 1000);
  }
  // An offloaded UDP flow is kept alive by the flowtable while packets flow.
  const timeout = connection.isAssured ? limits.udpStream : limits.udp;
  return timeout - Math.floor((nowMs - connection.lastPacketMs) / 1000);
}

/** Writing /proc/sys/net/netfilter/nf_conntrack_acct: proc_dointvec; false for text it refuses. */
export function writeConntrackAcct(model: RouterModel, text: string): boolean {
  const match = /^\s*(-?\d+)\s*$/.exec(text);
  if (!match) return text === '';
  model.conntrack.isAcctOn = Number(match[1]) !== 0;
  return true;
}

/** Live + gone bytes per host MAC, in each direction (what the table has counted since boot). */
export function conntrackBytesByHost(model: RouterModel): Map<string, { up: number; down: number }> {
  const totals = new Map<string, { up: number; down: number }>();
  for (const [mac, gone] of model.conntrack.goneBytes) totals.set(mac, { up: gone.up, down: gone.down });
  for (const connection of model.conntrack.connections) {
    if (connection.kind !== 'forward') continue;
    const entry = totals.get(connection.hostMac) ?? { up: 0, down: 0 };
    entry.up += connection.origBytes;
    entry.down += connection.replyBytes;
    totals.set(connection.hostMac, entry);
  }
  return totals;
}

/** Offloaded flows right now (fcctl's Active<N>): connections the fast path carries. */
export function offloadedCount(model: RouterModel): number {
  let n = 0;
  for (const connection of model.conntrack.connections) if (connection.isOffloaded) n++;
  return n;
}
