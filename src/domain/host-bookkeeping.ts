// Phase: who is on the network now (issue 7, issue 14). Discovery knows each host's current
// addresses and name; counters alone only keep a host present. A host has any number of addresses
// (one IPv4 and several IPv6 under one MAC): its record keeps them all and one primary address.
// The unattributed IPv6 row (host-identity.ts) is present while any address is counted for it; it
// has no name and no primary address, and its addresses are those counted for it now.

import type { AccountingEvent, CounterBaseline, FamilyQuad, TrackedHost } from './accounting-model.js';
import { compareAddresses } from './address.js';
import { isIpv6Text } from './family.js';
import { identityOfAddress, macOfIdentity, type DiscoveredAddress } from './host-identity.js';
import { UNATTRIBUTED_IPV6_IDENTITY } from './snapshot.js';

export interface HostBookkeepingInput {
  atMs: number;
  discovery: ReadonlyMap<string, DiscoveredAddress>;
  /** After this poll's counters were read: who each address's bytes went to. */
  baselines: ReadonlyMap<string, CounterBaseline>;
  /** identity → the addresses counted for it now (computeCounterDeltas). */
  countedAddressesOf: ReadonlyMap<string, string[]>;
  /** identity → [downBytes, upBytes, down6Bytes, up6Bytes] counted now. */
  deltas: ReadonlyMap<string, FamilyQuad>;
  /** Identities present at the previous poll. */
  previouslyPresent: ReadonlySet<string>;
  forgetAfterMs: number | null;
}

/**
 * The address a host is shown and stored under: the one it had while that is still among its
 * addresses and of the preferred family (a stale ARP entry beside a new lease must not make it
 * flap), else the lowest, IPv4 first. `addresses` is sorted.
 */
export function choosePrimaryAddress(known: string | null, addresses: readonly string[]): string {
  const lowest = addresses[0] ?? '';
  if (known !== null && isIpv6Text(known) === isIpv6Text(lowest) && addresses.includes(known)) return known;
  return lowest;
}

/** Each present identity with its addresses (sorted) and the name discovery gave it. */
function gatherPresent(input: HostBookkeepingInput): Map<string, { addresses: string[]; hostname: string | null }> {
  const seen = new Map<string, { addresses: string[]; hostname: string | null }>();
  for (const [address, h] of input.discovery) {
    const identity = identityOfAddress(address, input.discovery, input.baselines);
    // A MAC-less neighbour entry for an address still unattributed: the row shows counters only.
    if (identity === UNATTRIBUTED_IPV6_IDENTITY) continue;
    const cur = seen.get(identity);
    if (!cur) seen.set(identity, { addresses: [address], hostname: h.hostname });
    else {
      cur.addresses.push(address);
      if (cur.hostname === null) cur.hostname = h.hostname;
    }
  }
  // A host discovery missed is shown with the addresses counted for it. One discovery lists is
  // shown with discovery's addresses only: a counter that outlived its address (an IPv6 temporary
  // address that expired, an old lease's rule) still adds its bytes, but is not an address it has.
  for (const [identity, addresses] of input.countedAddressesOf) {
    if (!seen.has(identity)) seen.set(identity, { addresses: [...addresses], hostname: null });
  }
  for (const entry of seen.values()) if (entry.addresses.length > 1) entry.addresses.sort(compareAddresses);
  return seen;
}

/**
 * Updates `hosts` in place (it holds every host lantop remembers) and returns the identities
 * present now; appends host-appeared, ip-changed, host-renamed and host-disappeared to `events`.
 */
export function updateHostRecords(input: HostBookkeepingInput, hosts: Map<string, TrackedHost>, events: AccountingEvent[]): Set<string> {
  const { atMs } = input;
  const present = new Set<string>();
  for (const [identity, { addresses, hostname }] of gatherPresent(input)) {
    present.add(identity);
    const mac = macOfIdentity(identity);
    const rec = hosts.get(identity);
    if (!rec) {
      const ip = identity === UNATTRIBUTED_IPV6_IDENTITY ? '' : choosePrimaryAddress(null, addresses);
      hosts.set(identity, { identity, mac, ip, addresses, hostname, downBytes: 0, upBytes: 0, firstSeenMs: atMs, lastSeenMs: atMs });
      events.push({ kind: 'host-appeared', identity, ip });
      continue;
    }
    const ip = identity === UNATTRIBUTED_IPV6_IDENTITY ? '' : choosePrimaryAddress(rec.ip, addresses);
    // Only an IPv4 change is news: IPv6 hosts rotate temporary addresses (RFC 8981) several times a
    // day, and a dual-stack host whose IPv4 discovery missed this once has not moved.
    if (rec.mac !== null && !addresses.includes(rec.ip) && !isIpv6Text(rec.ip) && !isIpv6Text(ip)) {
      events.push({ kind: 'ip-changed', identity, fromIp: rec.ip, toIp: ip });
    }
    rec.ip = ip;
    rec.addresses = addresses;
    if (mac !== null) rec.mac = mac;
    if (hostname !== null && hostname !== rec.hostname) {
      if (rec.hostname !== null) events.push({ kind: 'host-renamed', identity });
      rec.hostname = hostname;
    }
    rec.lastSeenMs = atMs;
  }
  for (const [identity, [d, u, d6, u6]] of input.deltas) {
    const rec = hosts.get(identity);
    if (rec) {
      rec.downBytes += d;
      rec.upBytes += u;
      // The IPv6 part is kept from the host's first IPv6 byte on (an IPv4-only record stays as before).
      if (d6 > 0 || u6 > 0) {
        rec.down6Bytes = (rec.down6Bytes ?? 0) + d6;
        rec.up6Bytes = (rec.up6Bytes ?? 0) + u6;
      }
    }
  }
  for (const identity of input.previouslyPresent) {
    if (!present.has(identity)) events.push({ kind: 'host-disappeared', identity, ip: hosts.get(identity)?.ip ?? '' });
  }
  if (input.forgetAfterMs !== null) {
    const cutoff = atMs - input.forgetAfterMs;
    for (const [identity, rec] of hosts) {
      if (rec.lastSeenMs < cutoff && !present.has(identity)) hosts.delete(identity);
    }
  }
  return present;
}
