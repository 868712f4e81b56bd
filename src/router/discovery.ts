// Discovery: who is on the LAN right now. Liveness comes from the neighbour tables (ARP, and
// `ip -6 neigh` for IPv6: issue 15); names come from DHCP leases / `lanhosts`, matched by MAC (the
// identity) — never by IP alone, since a stale lease may name an address someone else now holds. A
// device is its MAC with every IPv4 and IPv6 address it holds, temporary (privacy) ones included;
// link-local and multicast IPv6 addresses are never a host's. Pure: parsed records in, hosts out.
//
// Hostnames are data from the network and may be hostile: kept raw here, sanitised at display.

import { canonicalAddress, compareAddresses } from '../domain/address.js';
import { isHostIpv6 } from './parsers/ipv6-neighbours.js';
import type { ArpEntry, LeaseEntry } from './parsers/types.js';
import { canonicalMac, isGroupMac, isZeroMac } from './tokens.js';

/** One (MAC, address) pair: a device holding several addresses is listed once per address. */
export interface DiscoveredHost {
  /** Who the host is: its MAC (discovery only lists neighbours whose MAC it knows). */
  identity: string;
  ip: string;
  /** Every address this MAC holds right now, in address order (IPv4 first); includes `ip`. */
  addresses: string[];
  /** Lower-case colon form. */
  mac: string;
  /** Raw name from the router (hostile: sanitise before display); null when none is known. */
  hostname: string | null;
  iface: string | null;
}

export interface DiscoveryOptions {
  /** WAN interface(s) whose neighbours are not LAN hosts (the ISP peer on ppp0). Default ['ppp0']. */
  wanInterfaces?: readonly string[];
  /** When given, only neighbours on these interfaces count (e.g. ['br0']). */
  lanInterfaces?: readonly string[];
}

/** The unspecified addresses: what a neighbour table shows for a slot nobody holds. */
const UNSPECIFIED = new Set(['0.0.0.0', '::']);

/**
 * Merges neighbour entries and leases into live LAN hosts: complete entries only, not on a WAN
 * interface, not zero/group MACs, no link-local or multicast IPv6; one host per address, IPv4 or
 * IPv6 (when an address shows two MACs, the one a lease confirms wins, else the first listed); any
 * number of addresses per MAC, each named by the MAC's lease when its own address has none; ordered
 * by address. `neighbours6` (parseIpv6Neighbours) are taken after the ARP entries, alike.
 */
export function discoverHosts(
  arp: readonly ArpEntry[],
  leases: readonly LeaseEntry[],
  options: DiscoveryOptions = {},
  neighbours6: readonly ArpEntry[] = [],
): DiscoveredHost[] {
  const wan = new Set(options.wanInterfaces ?? ['ppp0']);
  const lan = options.lanInterfaces ? new Set(options.lanInterfaces) : null;

  // Names by MAC; a lease for the same MAC and address beats one for the same MAC elsewhere.
  const namesByMacIp = new Map<string, string | null>();
  const namesByMac = new Map<string, string>();
  const leasedPairs = new Set<string>();
  for (const lease of leases) {
    const mac = canonicalMac(lease.mac);
    const ip = canonicalAddress(lease.ip);
    if (mac === null || ip === null) continue;
    leasedPairs.add(`${mac} ${ip}`);
    namesByMacIp.set(`${mac} ${ip}`, lease.hostname);
    if (lease.hostname !== null && !namesByMac.has(mac)) namesByMac.set(mac, lease.hostname);
  }

  const byIp = new Map<string, DiscoveredHost>();
  for (const entry of [...arp, ...neighbours6]) {
    if (!entry.isComplete || entry.mac === null) continue;
    if (entry.iface !== null && wan.has(entry.iface)) continue;
    if (lan && (entry.iface === null || !lan.has(entry.iface))) continue;
    const ip = canonicalAddress(entry.ip);
    const mac = canonicalMac(entry.mac);
    if (ip === null || mac === null || isZeroMac(mac) || isGroupMac(mac) || UNSPECIFIED.has(ip)) continue;
    if (ip.includes(':') && !isHostIpv6(ip)) continue;
    const existing = byIp.get(ip);
    if (existing) {
      // Same address twice: keep the first, unless only the newcomer is confirmed by a lease.
      const isExistingLeased = leasedPairs.has(`${existing.mac} ${ip}`);
      if (existing.mac === mac || isExistingLeased || !leasedPairs.has(`${mac} ${ip}`)) continue;
    }
    const pairName = namesByMacIp.get(`${mac} ${ip}`);
    const hostname = pairName ?? namesByMac.get(mac) ?? null;
    byIp.set(ip, { identity: mac, ip, addresses: [], mac, hostname, iface: entry.iface });
  }

  const hosts = [...byIp.values()].sort((a, b) => compareAddresses(a.ip, b.ip));
  // Sorted already, so each MAC's list comes out in address order.
  const addressesByMac = new Map<string, string[]>();
  for (const h of hosts) {
    const list = addressesByMac.get(h.mac);
    if (list) list.push(h.ip);
    else addressesByMac.set(h.mac, [h.ip]);
  }
  for (const h of hosts) h.addresses = [...addressesByMac.get(h.mac)!];
  return hosts;
}
