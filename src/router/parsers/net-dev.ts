// `cat /proc/net/dev` → bytes and packets per interface (issue 19: reconciliation against the WAN).
// Example rows, modern (torvalds/linux net/core/net-procfs.c, `"%6s: %7llu %7llu …"`) and old
// (2.6 kernels, net/core/dev.c `"%6s:%8lu %7lu …"`: a number of 8 digits or more is glued to the
// name, e.g. CentOS 6 in shirou/gopsutil#28):
//     eth0: 479875252   20186    0    0    0     0          0         0  2058069   16750    0 …
//     eth1:79088109  201292    0    0    0     0          0         0 236038842  234067    0 …
// Columns after the name: rx bytes packets errs drop fifo frame compressed multicast, then tx bytes
// packets errs drop fifo colls carrier compressed. Split on the FIRST ':' (kernel names cannot hold
// one since 2.6: alias names like eth0:1 never appear here), then on whitespace.
//
// Which format a listing is in can only be told from a glued line (old) or a line with a space after
// the colon AND rx bytes of 8 digits or more (modern): both formats pad the first number to 8
// characters after the colon, so below 10 MB received they print the same text.
import { canonicalInterfaceName } from '../tokens.js';

export interface NetDevCounters {
  rxBytes: number;
  rxPackets: number;
  txBytes: number;
  txPackets: number;
}

export type NetDevFormat = 'modern' | 'glued' | 'unknown';

export interface NetDevReport {
  interfaces: Map<string, NetDevCounters>;
  /** 'glued': an old kernel's `%6s:%8lu`; 'modern': `%6s: %7llu`; 'unknown': no line tells them apart. */
  format: NetDevFormat;
  /** Interfaces with a counter ≥ 2^32: theirs are 64-bit, whatever the format. */
  wideInterfaces: Set<string>;
  /** Lines that are neither the two header lines nor a readable interface row (raw: sanitise). */
  skipped: string[];
}

const TWO_32 = 2 ** 32;
const DIGITS = /^[0-9]{1,20}$/;

function counterOf(field: string | undefined): number | null {
  if (field === undefined || !DIGITS.test(field)) return null;
  const value = Number(field);
  // Beyond 2^53 a number is no longer exact: better skipped than wrong (STYLE.md principle 10).
  return Number.isSafeInteger(value) ? value : null;
}

/** Reads /proc/net/dev; never throws. Unreadable lines (and names that are no valid token) are skipped. */
export function readNetDev(text: string): NetDevReport {
  const interfaces = new Map<string, NetDevCounters>();
  const skipped: string[] = [];
  let sawGlued = false;
  let sawModern = false;
  const wideInterfaces = new Set<string>();
  const lines = typeof text === 'string' ? text.split(/\r?\n/) : [];
  for (const line of lines) {
    if (line.trim() === '') continue;
    const colon = line.indexOf(':');
    if (colon < 0) {
      // The two header lines ("Inter-|   Receive …" and " face |bytes …") carry '|' and no ':'.
      if (!line.includes('|')) skipped.push(line);
      continue;
    }
    const name = canonicalInterfaceName(line.slice(0, colon).trim());
    const rest = line.slice(colon + 1);
    const fields = rest.trim().split(/\s+/);
    if (name === null || fields.length < 16) {
      skipped.push(line);
      continue;
    }
    const rxBytes = counterOf(fields[0]);
    const rxPackets = counterOf(fields[1]);
    const txBytes = counterOf(fields[8]);
    const txPackets = counterOf(fields[9]);
    if (rxBytes === null || rxPackets === null || txBytes === null || txPackets === null) {
      skipped.push(line);
      continue;
    }
    if (rest.length > 0 && rest[0] !== ' ' && rest[0] !== '\t') sawGlued = true;
    else if ((fields[0] as string).length >= 8) sawModern = true;
    if (rxBytes >= TWO_32 || rxPackets >= TWO_32 || txBytes >= TWO_32 || txPackets >= TWO_32) wideInterfaces.add(name);
    interfaces.set(name, { rxBytes, rxPackets, txBytes, txPackets });
  }
  const format: NetDevFormat = sawGlued ? 'glued' : sawModern ? 'modern' : 'unknown';
  return { interfaces, format, wideInterfaces, skipped };
}

/** The counters per interface of /proc/net/dev (see readNetDev for the format and what is skipped). */
export function parseNetDev(text: string): Map<string, NetDevCounters> {
  return readNetDev(text).interfaces;
}

/**
 * How wide the counters of a listing are, which decides whether a counter that went down wrapped
 * (32) or restarted (64). In order:
 *  1. a counter ≥ 2^32 proves 64 (CentOS 6's glued `eth0:3742334317097` in fluent/fluent-bit#2366:
 *     the old format printed `unsigned long`, 64-bit on 64-bit CPUs). In the old formats any
 *     interface's proves it for all (one C type); in the modern one only the interface's own does,
 *     since a driver without 64-bit stats on a 32-bit CPU still keeps `unsigned long` counters;
 *  2. the caller's hint, when it knows better (e.g. from `uname -m` and the kernel release);
 *  3. the format: glued (the old `%8lu`, routers of that age are 32-bit MIPS/ARM) → 32, modern → 64;
 *     'unknown' (nothing tells the formats apart) → 32, the cautious answer: the reconciler takes a
 *     32-bit counter that went down for a wrap only when its packet counter agrees (src/domain/wan.ts).
 * A modern kernel on a 32-bit CPU may still wrap at 4 GiB for a driver without 64-bit stats: that
 * read is then taken for a reset and its delta discarded, never counted negative.
 */
export function counterBitsOf(report: Pick<NetDevReport, 'format' | 'wideInterfaces'>, iface: string, hint?: 32 | 64 | null): 32 | 64 {
  if (report.format === 'modern' ? report.wideInterfaces.has(iface) : report.wideInterfaces.size > 0) return 64;
  if (hint === 32 || hint === 64) return hint;
  return report.format === 'modern' ? 64 : 32;
}
