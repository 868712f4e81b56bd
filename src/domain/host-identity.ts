// Who an address belongs to (issue 7, issue 14): a host's identity is its MAC when known, else
// `ip:<address>`. Discovery hands in one entry per (MAC, address) pair, so a dual-stack host is an
// IPv4 entry and any number of IPv6 entries under one MAC: one identity, one row.
//
// IPv6 counters of addresses discovery does not list (issue 15: a backend may count every forwarded
// address, a privacy address talks before the neighbour table shows it) go to ONE row,
// UNATTRIBUTED_IPV6_IDENTITY, not one `ip:` row per address: such addresses come and go by the
// dozen a day. Once discovery ties the address to a MAC, its counter's later bytes go to the MAC
// (the baseline moves with it, so nothing is counted twice); the bytes already counted stay with
// the unattributed row. IPv4 keeps its `ip:<address>` rows, and a MAC-less host that discovery
// lists (IPv4 or IPv6) is still `ip:<address>`. Link-local IPv6 is never a host's address.

import type { CounterBaseline, PollHost } from './accounting-model.js';
import { isIpv6LinkLocal, isIpv6Text } from './family.js';
import { UNATTRIBUTED_IPV6_IDENTITY } from './snapshot.js';

const ZERO_MAC = /^(?:00[:-]){5}00$/i;
const BROADCAST_MAC = /^(?:ff[:-]){5}ff$/i;

/** raw → normalizeMac(raw): discovery hands in the same MACs on every poll (issue 21). */
const normalizedMacs = new Map<string, string | null>();
const MAX_CACHED_MACS = 4096;

/** Lower-case, colon-separated; null for missing, all-zero or broadcast MACs. */
export function normalizeMac(mac: string | null | undefined): string | null {
  if (!mac) return null;
  const cached = normalizedMacs.get(mac);
  if (cached !== undefined) return cached;
  const m = mac.trim().toLowerCase().replace(/-/g, ':');
  const normalized = m === '' || ZERO_MAC.test(m) || BROADCAST_MAC.test(m) ? null : m;
  // Bounded: rotating random MACs must not grow it for ever.
  if (normalizedMacs.size >= MAX_CACHED_MACS) normalizedMacs.clear();
  normalizedMacs.set(mac, normalized);
  return normalized;
}

function ipIdentity(ip: string): string {
  return `ip:${ip}`;
}

export function isIpIdentity(identity: string): boolean {
  return identity.startsWith('ip:');
}

/** The MAC an identity names, or null (`ip:<address>`, the unattributed IPv6 row). */
export function macOfIdentity(identity: string): string | null {
  return isIpIdentity(identity) || identity === UNATTRIBUTED_IPV6_IDENTITY ? null : identity;
}

export interface DiscoveredAddress {
  mac: string | null;
  hostname: string | null;
}

/** Discovery by address, MACs normalised; the first entry for an address wins; link-local IPv6 left out. */
export function readDiscovery(hosts: readonly PollHost[]): Map<string, DiscoveredAddress> {
  const byAddress = new Map<string, DiscoveredAddress>();
  for (const h of hosts) {
    if (byAddress.has(h.ip) || isIpv6LinkLocal(h.ip)) continue;
    byAddress.set(h.ip, { mac: normalizeMac(h.mac), hostname: h.hostname });
  }
  return byAddress;
}

/**
 * The identity an address's bytes go to in this poll: the MAC discovery gives it, else whoever
 * its counters belonged to at the last poll (discovery may miss a host for a while), else the
 * address itself — or, for an IPv6 address discovery does not list, the unattributed row.
 */
export function identityOfAddress(
  address: string,
  discovery: ReadonlyMap<string, DiscoveredAddress>,
  baselines: ReadonlyMap<string, CounterBaseline>,
): string {
  const found = discovery.get(address);
  const identity = found?.mac ?? baselines.get(address)?.identity;
  if (identity !== undefined) return identity;
  return found === undefined && isIpv6Text(address) ? UNATTRIBUTED_IPV6_IDENTITY : ipIdentity(address);
}

/**
 * The MAC-less identities a MAC first seen in this poll absorbs: those of each of its addresses
 * (a dual-stack host that was MAC-less had one per address). A MAC lantop already knew absorbs
 * none: the address may have been another device's (test: "a MAC-less IP taken by an
 * already-known MAC is not merged into it").
 */
export function identitiesToMerge(
  discovery: ReadonlyMap<string, DiscoveredAddress>,
  isKnown: (identity: string) => boolean,
): Array<{ from: string; to: string }> {
  const merges: Array<{ from: string; to: string }> = [];
  for (const [address, h] of discovery) {
    if (h.mac === null || isKnown(h.mac)) continue;
    const from = ipIdentity(address);
    if (isKnown(from)) merges.push({ from, to: h.mac });
  }
  return merges;
}
