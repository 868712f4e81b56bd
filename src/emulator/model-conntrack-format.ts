// /proc/net/nf_conntrack as the emulated router prints it (issue 19): the connection table of
// model-conntrack.ts, line by line as ct_seq_show prints it (testdata/SOURCE.md, "Connection
// tracking"). Pure.

import type { RouterModel } from './model.js';
import type { Connection } from './model-conntrack-state.js';
import { conntrackTimeouts, remainingSeconds } from './model-conntrack.js';
import { parseIpv6Value } from './nft-values.js';

/** The address as %pI4 / %pI6 print it: IPv6 fully expanded, eight groups of four hex digits. */
export function kernelAddress(address: string): string {
  if (!address.includes(':')) return address;
  const value = parseIpv6Value(address);
  if (value === null) return address;
  const hex = value.toString(16).padStart(32, '0');
  return hex.replace(/(.{4})(?!$)/g, '$1:');
}

function tuple(connection: Connection, isReply: boolean, protocol: number): string {
  const src = isReply ? connection.destination : connection.source;
  const dst = isReply ? connection.replyDestination : connection.destination;
  const sport = isReply ? connection.destinationPort : connection.sourcePort;
  const dport = isReply ? connection.sourcePort : connection.destinationPort;
  return `src=${kernelAddress(src)} dst=${kernelAddress(dst)} ${protocol === 6 || protocol === 17 ? `sport=${sport} dport=${dport} ` : ''}`;
}

/**
 * /proc/net/nf_conntrack as ct_seq_show prints it: "%-8s %u %-8s %u " l3/l4 names and numbers, the
 * timeout (left out for offloaded entries on the 5.15 kernel), the TCP state, the original tuple,
 * "packets=%llu bytes=%llu " when accounting is attached, [UNREPLIED], the reply tuple and its
 * counters, [OFFLOAD] or [ASSURED], mark=, zone= (CONFIG_NF_CONNTRACK_ZONES, OpenWrt) and use=.
 * Broadcom's 2.6.30-era kernel always prints the timeout and has neither [OFFLOAD] nor zone=.
 */
export function formatProcNetConntrack(model: RouterModel): string {
  const limits = conntrackTimeouts(model.flavour);
  const isModern = model.flavour !== 'broadcom';
  const rows = [...model.conntrack.connections].sort((a, b) => bucket(a.id) - bucket(b.id) || a.id - b.id);
  let out = '';
  for (const connection of rows) {
    const isOffloadShown = isModern && connection.isOffloaded;
    const l3 = connection.family === 4 ? 'ipv4' : 'ipv6';
    const l4 = connection.protocol === 6 ? 'tcp' : 'udp';
    let line = `${l3.padEnd(8)} ${connection.family === 4 ? 2 : 10} ${l4.padEnd(8)} ${connection.protocol} `;
    if (!isOffloadShown) line += `${Math.max(0, remainingSeconds(connection, limits, model.nowMs))} `;
    if (connection.protocol === 6) line += connection.isClosed ? 'TIME_WAIT ' : 'ESTABLISHED ';
    line += tuple(connection, false, connection.protocol);
    if (connection.hasAcct) line += `packets=${connection.origPackets} bytes=${connection.origBytes} `;
    if (!connection.isSeenReply) line += '[UNREPLIED] ';
    line += tuple(connection, true, connection.protocol);
    if (connection.hasAcct) line += `packets=${connection.replyPackets} bytes=${connection.replyBytes} `;
    if (isOffloadShown) line += '[OFFLOAD] ';
    else if (connection.isAssured) line += '[ASSURED] ';
    line += isModern ? 'mark=0 zone=0 use=2\n' : 'mark=0 use=2\n';
    out += line;
  }
  return out;
}

function bucket(id: number): number {
  return (Math.imul(id ^ (id >>> 7), 0x9e3779b1) >>> 0) % 1024;
}
