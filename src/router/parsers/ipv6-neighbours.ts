// The IPv6 neighbour table, `ip -6 neigh show`, in both formats routers print (issue 15):
//
// iproute2 (fixtures/generic-linux/debian-12/ip-6-neigh-show*.txt; with -s it adds `ref`/`used`):
//   2001:db8:1::10 dev br-lan lladdr 02:00:00:00:00:10 REACHABLE
//   2001:db8:ff::1 dev ppp0 lladdr 96:83:de:fc:2c:7c router REACHABLE
//   2001:db8:1::99 dev br-lan INCOMPLETE
// BusyBox, which always prints the statistics (ipneigh.c: `xshow_stats`; fixtures/busybox/1.35.0/):
//   2001:db8:1::10 dev br-lan lladdr 02:00:00:00:00:10 ref 1 used 0/0/0 probes 4 REACHABLE
//   2001:db8:1::99 dev br-lan  used 0/0/0 probes 6 FAILED
//
// Read by token, never by position (wrtbwmon's `$4`/`$5` break on BusyBox, pyrovski#8): the MAC is
// the token after `lladdr`, the state the last token. An entry is a live host (isComplete) only with
// a MAC, a live state (not FAILED, INCOMPLETE, NOARP or none) and an address that can be a host's:
// link-local fe80::/10, multicast ff00::/8, loopback, unspecified and IPv4-mapped addresses are kept
// as entries but never complete (they name no device across the router). IPv4 lines (an `ip neigh`
// that ignored -6) are ignored, not reported.

import type { Ipv6NeighbourEntry, ParseReport } from './types.js';
import { canonicalIpv6 } from '../../domain/address.js';
import { canonicalMac, isGroupMac, isZeroMac } from '../tokens.js';

const MAX_LINE_LENGTH = 4096;
const MAX_TOKENS = 32;

export type Ipv6NeighbourFormat = 'iproute2' | 'busybox';

export interface Ipv6NeighboursReport extends ParseReport {
  entries: Ipv6NeighbourEntry[];
  /** Formats recognised, in order of first appearance. */
  formats: Ipv6NeighbourFormat[];
}

/** Neighbour Unreachability Detection states of a neighbour that answered recently enough. */
const LIVE_STATES = new Set(['REACHABLE', 'STALE', 'DELAY', 'PROBE', 'PERMANENT']);
/** States that are never a live host, even beside a live one (BusyBox joins flags with ','). */
const DEAD_STATES = new Set(['FAILED', 'INCOMPLETE', 'NOARP', 'NONE']);
const STATE = /^[A-Z]+(?:,[A-Z]+)*$/;
const IPV4_START = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/**
 * True for a canonical IPv6 address that can be a LAN host's across the router: global unicast or
 * unique local — not link-local (fe80::/10), multicast (ff00::/8), loopback, unspecified or
 * IPv4-mapped. The one rule for discovery and for the rules lantop writes.
 */
export function isHostIpv6(address: string): boolean {
  const canonical = canonicalIpv6(address);
  if (canonical === null || canonical !== address) return false;
  if (canonical === '::' || canonical === '::1' || canonical.startsWith('::ffff:')) return false;
  const head = canonical.startsWith('::') ? 0 : Number.parseInt(canonical.slice(0, canonical.indexOf(':')), 16);
  if ((head & 0xff00) === 0xff00) return false;
  if ((head & 0xffc0) === 0xfe80) return false;
  return true;
}

function isLiveState(state: string | null): boolean {
  if (state === null) return false;
  const flags = state.split(',');
  return flags.some((f) => LIVE_STATES.has(f)) && !flags.some((f) => DEAD_STATES.has(f));
}

function parseLine(line: string): { entry: Ipv6NeighbourEntry; format: Ipv6NeighbourFormat } | 'ignore' | null {
  const tokens = line.trim().split(/\s+/, MAX_TOKENS);
  const first = tokens[0] ?? '';
  if (tokens[1] !== 'dev' || tokens.length < 3) return null;
  if (IPV4_START.test(first)) return 'ignore';
  const ip = canonicalIpv6(first);
  if (ip === null) return null;
  const iface = tokens[2]!;
  const at = tokens.indexOf('lladdr', 3);
  const rawMac = at > 0 ? tokens[at + 1] : undefined;
  const mac = rawMac !== undefined ? canonicalMac(rawMac) : null;
  if (rawMac !== undefined && mac === null) return null;
  const last = tokens[tokens.length - 1]!;
  const state = tokens.length > 3 && STATE.test(last) ? last : null;
  // BusyBox always prints `used a/b/c`; iproute2 only with -s, where it glues `1/1/1probes`.
  const format: Ipv6NeighbourFormat = tokens.includes('used') && !tokens.some((t) => /^\d+\/\d+\/\d+probes$/.test(t)) ? 'busybox' : 'iproute2';
  const liveMac = mac !== null && !isZeroMac(mac) && !isGroupMac(mac) ? mac : null;
  return {
    entry: {
      ip,
      mac: mac !== null && !isZeroMac(mac) ? mac : null,
      iface,
      isComplete: liveMac !== null && isLiveState(state) && isHostIpv6(ip),
      state,
      isRouter: tokens.includes('router'),
    },
    format,
  };
}

/** Parses `ip -6 neigh [show]` (iproute2 or BusyBox) and reports what it could not read. Never throws. */
export function parseIpv6NeighboursReport(text: string): Ipv6NeighboursReport {
  const entries: Ipv6NeighbourEntry[] = [];
  const skipped: string[] = [];
  const formats: Ipv6NeighbourFormat[] = [];
  if (typeof text !== 'string') return { entries, skipped, formats };
  for (const rawLine of text.split(/\r?\n|\r/)) {
    if (rawLine.trim() === '') continue;
    if (rawLine.length > MAX_LINE_LENGTH) {
      skipped.push(rawLine.slice(0, 200));
      continue;
    }
    const parsed = parseLine(rawLine);
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

/** The IPv6 neighbours in the order printed; see {@link parseIpv6NeighboursReport}. */
export function parseIpv6Neighbours(text: string): Ipv6NeighbourEntry[] {
  return parseIpv6NeighboursReport(text).entries;
}
