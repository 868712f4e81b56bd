// Discovery: who is on the LAN right now. Liveness comes from the neighbour table (ARP); names
// come from DHCP leases / `lanhosts`, matched by MAC (the identity) — never by IP alone, since a
// stale lease may name an address someone else now holds. Pure: parsed records in, hosts out.
//
// Hostnames are data from the network and may be hostile: kept raw here, sanitised at display.

import type { ArpEntry, LeaseEntry } from './parsers/types.js';
import { canonicalIpv4, canonicalMac, ipv4ToNumber, isGroupMac, isZeroMac } from './tokens.js';

export interface DiscoveredHost {
  ip: string;
  /** Lower-case colon form: the host's identity. */
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

/**
 * Merges neighbour entries and leases into live LAN hosts: complete entries only, not on a WAN
 * interface, not zero/group MACs; one host per IP (when an IP shows two MACs, the one a lease
 * confirms wins, else the first listed); ordered by numeric IP.
 */
export function discoverHosts(
  arp: readonly ArpEntry[],
  leases: readonly LeaseEntry[],
  options: DiscoveryOptions = {},
): DiscoveredHost[] {
  const wan = new Set(options.wanInterfaces ?? ['ppp0']);
  const lan = options.lanInterfaces ? new Set(options.lanInterfaces) : null;

  // Names by MAC; a lease for the same MAC and IP beats one for the same MAC elsewhere.
  const namesByMacIp = new Map<string, string | null>();
  const namesByMac = new Map<string, string>();
  const leasedPairs = new Set<string>();
  for (const lease of leases) {
    const mac = canonicalMac(lease.mac);
    const ip = canonicalIpv4(lease.ip);
    if (mac === null || ip === null) continue;
    leasedPairs.add(`${mac} ${ip}`);
    namesByMacIp.set(`${mac} ${ip}`, lease.hostname);
    if (lease.hostname !== null && !namesByMac.has(mac)) namesByMac.set(mac, lease.hostname);
  }

  const byIp = new Map<string, DiscoveredHost>();
  for (const entry of arp) {
    if (!entry.isComplete || entry.mac === null) continue;
    if (entry.iface !== null && wan.has(entry.iface)) continue;
    if (lan && (entry.iface === null || !lan.has(entry.iface))) continue;
    const ip = canonicalIpv4(entry.ip);
    const mac = canonicalMac(entry.mac);
    if (ip === null || mac === null || isZeroMac(mac) || isGroupMac(mac) || ip === '0.0.0.0') continue;
    const existing = byIp.get(ip);
    if (existing) {
      // Same IP twice: keep the first, unless only the newcomer is confirmed by a lease.
      const isExistingLeased = leasedPairs.has(`${existing.mac} ${ip}`);
      if (existing.mac === mac || isExistingLeased || !leasedPairs.has(`${mac} ${ip}`)) continue;
    }
    const pairName = namesByMacIp.get(`${mac} ${ip}`);
    const hostname = pairName ?? namesByMac.get(mac) ?? null;
    byIp.set(ip, { ip, mac, hostname, iface: entry.iface });
  }
  return [...byIp.values()].sort((a, b) => ipv4ToNumber(a.ip) - ipv4ToNumber(b.ip));
}
