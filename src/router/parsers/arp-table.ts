// Neighbour tables, whichever way the router prints them. Every line is recognised on its own,
// so a command echo, a prompt or a console log line in the middle costs only that line.
//
// `cat /proc/net/arp` and Broadcom CLI `arp show` (same six columns):
//   IP address       HW type     Flags       HW address            Mask     Device
//   198.51.100.10    0x1         0x2         02:00:00:00:00:10     *        br0
// net-tools `arp -n`:
//   198.51.100.10            ether   02:00:00:00:00:10   C                     br0
//   198.51.100.99                    (incomplete)                              br0
// BusyBox / net-tools `arp -a` (BusyBox puts two spaces before "on"):
//   ? (198.51.100.10) at 02:00:00:00:00:10 [ether]  on br0
//   ? (198.51.100.99) at <incomplete>  on br0
// iproute2 / BusyBox `ip neigh` (and `ip -s neigh`, where iproute2 6.1 glues "1/1/1probes"):
//   198.51.100.10 dev br0 lladdr 02:00:00:00:00:10 ref 1 used 0/0/0 probes 1 REACHABLE
//   198.51.100.99 dev br0  used 7/67/4probes 6 FAILED
//
// Only IPv4 neighbours are returned; IPv6 lines from `ip neigh` are ignored, not reported.

import type { ArpEntry } from './types.js';
import { canonicalIpv4 } from '../../domain/address.js';
import { canonicalMac, isGroupMac, isZeroMac } from '../tokens.js';

const MAX_LINE_LENGTH = 4096;

export type ArpFormat = 'proc-net-arp' | 'arp-n' | 'arp-a' | 'ip-neigh';

export interface ArpTableReport {
  entries: ArpEntry[];
  /** Lines that looked like neither a header nor an entry (raw: sanitise before display). */
  skipped: string[];
  /** Formats recognised, in order of first appearance. */
  formats: ArpFormat[];
}

const IPV4 = String.raw`\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}`;
const PROC_ROW = new RegExp(String.raw`^\s*(${IPV4})\s+(0x[0-9a-fA-F]+)\s+(0x[0-9a-fA-F]+)\s+(\S+)\s+(\S+)\s+(\S+)\s*$`);
const ARP_A_ROW = new RegExp(String.raw`^\s*\S+\s+\((${IPV4})\)\s+at\s+(\S+)(?:\s+\[(\w+)\])?((?:\s+(?!on\s)\S+)*)\s+on\s+(\S+)`);
const ARP_N_ROW = new RegExp(String.raw`^\s*(${IPV4})\s+(?:(\w+)\s+)?([0-9A-Fa-f:]{11,17}|\(incomplete\))\s+(?:([CMPA]+)\s+)?(?:(\S+)\s+)?(\S+)\s*$`);
const IP_NEIGH_ROW = new RegExp(String.raw`^\s*(${IPV4})\s+dev\s+(\S+)(.*)$`);
const IPV6_NEIGH_ROW = /^\s*[0-9a-fA-F:]*:[0-9a-fA-F:.]*\s+dev\s+\S+/;
const HEADER = /^\s*(IP address\s+HW type|Address\s+HWtype|Entries:|Skipped:|Found:)/i;
const IP_NEIGH_LIVE_STATES = new Set(['REACHABLE', 'STALE', 'DELAY', 'PROBE', 'PERMANENT', 'NOARP']);

function isLiveMac(mac: string | null): mac is string {
  return mac !== null && !isZeroMac(mac) && !isGroupMac(mac);
}

function parseLine(line: string): { entry: ArpEntry; format: ArpFormat } | 'ignore' | null {
  let m = PROC_ROW.exec(line);
  if (m) {
    const ip = canonicalIpv4(m[1]!);
    if (ip === null) return null;
    const flags = Number.parseInt(m[3]!, 16);
    const mac = canonicalMac(m[4]!);
    // ATF_COM (0x2) = resolved. 0x0 with an all-zero MAC is an incomplete or failed entry.
    const isComplete = (flags & 0x2) !== 0 && isLiveMac(mac);
    return { entry: { ip, mac: mac !== null && !isZeroMac(mac) ? mac : null, iface: m[6]!, isComplete }, format: 'proc-net-arp' };
  }
  m = ARP_A_ROW.exec(line);
  if (m) {
    const ip = canonicalIpv4(m[1]!);
    if (ip === null) return null;
    const mac = canonicalMac(m[2]!);
    return { entry: { ip, mac: mac !== null && !isZeroMac(mac) ? mac : null, iface: m[5]!, isComplete: isLiveMac(mac) }, format: 'arp-a' };
  }
  m = IP_NEIGH_ROW.exec(line);
  if (m) {
    const ip = canonicalIpv4(m[1]!);
    if (ip === null) return null;
    const rest = m[3]!;
    const lladdr = /\blladdr\s+(\S+)/.exec(rest);
    const mac = lladdr ? canonicalMac(lladdr[1]!) : null;
    const state = /([A-Z]+)\s*$/.exec(rest)?.[1] ?? '';
    const isComplete = isLiveMac(mac) && (state === '' || IP_NEIGH_LIVE_STATES.has(state));
    return { entry: { ip, mac: mac !== null && !isZeroMac(mac) ? mac : null, iface: m[2]!, isComplete }, format: 'ip-neigh' };
  }
  m = ARP_N_ROW.exec(line);
  if (m) {
    const ip = canonicalIpv4(m[1]!);
    if (ip === null) return null;
    const mac = canonicalMac(m[3]!);
    return { entry: { ip, mac: mac !== null && !isZeroMac(mac) ? mac : null, iface: m[6]!, isComplete: isLiveMac(mac) }, format: 'arp-n' };
  }
  if (IPV6_NEIGH_ROW.test(line)) return 'ignore';
  return null;
}

/** Parses any supported neighbour listing and reports what it could not read. Never throws. */
export function parseArpTableReport(text: string): ArpTableReport {
  const entries: ArpEntry[] = [];
  const skipped: string[] = [];
  const formats: ArpFormat[] = [];
  if (typeof text !== 'string') return { entries, skipped, formats };
  for (const rawLine of text.split(/\r?\n|\r/)) {
    const line = rawLine.trimEnd();
    if (line.trim() === '' || HEADER.test(line)) continue;
    // No real line is this long; refusing it keeps every regex below linear on hostile input.
    if (line.length > MAX_LINE_LENGTH) {
      skipped.push(rawLine.slice(0, 200));
      continue;
    }
    const parsed = parseLine(line);
    if (parsed === 'ignore') continue;
    if (parsed === null) {
      skipped.push(rawLine);
      continue;
    }
    entries.push(parsed.entry);
    if (!formats.includes(parsed.format)) formats.push(parsed.format);
  }
  return { entries, skipped, formats };
}

/**
 * ARP / neighbour entries from `arp show`, `/proc/net/arp`, `arp -a`, `arp -n` or `ip neigh`,
 * in the order printed. The same IP may appear more than once (one per interface); discovery
 * decides. See {@link parseArpTableReport} for the skipped lines.
 */
export function parseArpTable(text: string): ArpEntry[] {
  return parseArpTableReport(text).entries;
}
