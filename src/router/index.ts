/**
 * lantop's router library: read what consumer routers print, detect which firmware they run,
 * and discover LAN hosts. Everything here is pure (text in, records out) except probeFirmware,
 * which talks through the narrow Session interface.
 *
 * ```ts
 * import { parseArpTable, parseDhcpLeases, discoverHosts, parseIptablesListing } from 'lantop';
 * const hosts = discoverHosts(parseArpTable(arpText), parseDhcpLeases(leaseText), { wanInterfaces: ['ppp0'] });
 * const { chains, errors } = parseIptablesListing(listingText);
 * ```
 *
 * Parsers never throw; the `…Report` variants also return the lines they skipped. Host names
 * and other router text are hostile data: sanitise (src/sanitize.ts) before display, and never
 * put them in a command (build commands from the validated tokens below).
 *
 * @module
 */

/** Parser records: ArpEntry, Ipv6NeighbourEntry, LeaseEntry, Rule, Chain, IptablesListing, ParseReport. */
export type { ArpEntry, Ipv6NeighbourEntry, LeaseEntry, Rule, Chain, IptablesListing, ParseReport } from './parsers/types.js';

/** ARP / neighbour tables: `arp show`, `/proc/net/arp`, `arp -a`, `arp -n`, `ip neigh`. */
export { parseArpTable, parseArpTableReport, type ArpTableReport, type ArpFormat } from './parsers/arp-table.js';

/** The IPv6 neighbour table, `ip -6 neigh` (iproute2 and BusyBox formats); isHostIpv6 says which addresses can be a host's. */
export { parseIpv6Neighbours, parseIpv6NeighboursReport, isHostIpv6, type Ipv6NeighboursReport, type Ipv6NeighbourFormat } from './parsers/ipv6-neighbours.js';

/** Broadcom vendor CLI `lanhosts show all` (several layouts). */
export { parseLanHosts, parseLanHostsReport, type LanHostsReport } from './parsers/lan-hosts.js';

/** DHCP leases: dnsmasq, BusyBox udhcpd `dumpleases`, ISC dhcpd.leases. */
export {
  parseDhcpLeases,
  parseDhcpLeasesReport,
  type DhcpLeasesOptions,
  type DhcpLeasesReport,
  type LeaseFormat,
} from './parsers/dhcp-leases.js';

/** iptables `-L [CHAIN] -v [-x] -n [--line-numbers]` listings, 1.3.x–1.8.x, legacy and nf_tables. */
export { parseIptablesListing, type IptablesListingReport } from './parsers/iptables-listing.js';

/** Prints chains exactly as iptables 1.8.9 does (the emulated router and round-trip tests use it). */
export {
  formatIptablesListing,
  formatIptablesCounter,
  type FormatIptablesOptions,
} from './parsers/format-iptables-listing.js';

/** iptables, shell and vendor CLI error texts → typed results (never "0 rules"). */
export {
  classifyRouterOutput,
  classifyRouterOutputAll,
  classifyRouterLine,
  parseIptablesError,
  type RouterOutputProblem,
  type RouterOutputKind,
} from './parsers/router-errors.js';

/** Validated tokens: the only values allowed into commands sent to a router. */
export {
  canonicalIpv4,
  isIpv4,
  ipv4ToNumber,
  canonicalMac,
  isZeroMac,
  isGroupMac,
  canonicalInterfaceName,
  isInterfaceName,
} from './tokens.js';

/** Firmware families, their command tables and capabilities; `--firmware` override. */
export {
  FIRMWARE_FAMILIES,
  FIRMWARE_COMMANDS,
  firmwareCommands,
  firmwareForOverride,
  isFirmwareFamily,
  type FirmwareFamily,
  type FirmwareCommands,
  type FirmwareCapabilities,
  type FirmwareProfile,
  type CommandSpec,
} from './firmware/families.js';

/** Firmware detection: read-only probeRouter(session), pure detectFirmware(probes), both in probeFirmware. */
export { detectFirmware } from './firmware/detect-firmware.js';
export { probeFirmware, probeRouter } from './firmware/probe-router.js';
export { PROBE_COMMANDS, LEASE_FILES, type RouterProbes, type ProbeAnswer, type ProbeId } from './firmware/probes.js';

/** Discovery: ARP + names → live LAN hosts, one per IP, MAC as identity, ordered by IP. */
export { discoverHosts, type DiscoveredHost, type DiscoveryOptions } from './discovery.js';
