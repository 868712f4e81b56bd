// Records the parsers produce. Field names are part of the library API (README "Library API").

export interface ArpEntry {
  ip: string;
  /** Lower-case, colon-separated; null when the router printed none (incomplete entry). */
  mac: string | null;
  iface: string | null;
  /** False for incomplete/failed entries, flags 0x0, or an all-zero MAC: not a live host. */
  isComplete: boolean;
}

/**
 * One entry of the IPv6 neighbour table (`ip -6 neigh`, issue 15): an ArpEntry, so discovery takes
 * both alike, plus what the table says of it. isComplete is false for FAILED/INCOMPLETE/NOARP
 * entries and for addresses that are no host's (link-local, multicast: see isHostIpv6).
 */
export interface Ipv6NeighbourEntry extends ArpEntry {
  /** The NUD state as printed (`REACHABLE`, `STALE`, BusyBox may join flags with ','); null when none. */
  state: string | null;
  /** The `router` flag: the neighbour says it forwards (the ISP's peer, a mesh node). */
  isRouter: boolean;
}

export interface LeaseEntry {
  mac: string;
  ip: string;
  /** Raw name as the router printed it (hostile: sanitise before display); null when none. */
  hostname: string | null;
  /** Seconds left on the lease, or null when the source does not say. */
  leaseSeconds: number | null;
}

export interface Rule {
  num: number | null;
  pkts: number;
  bytes: number;
  /** False when the listing was printed without -x and carried K/M/G suffixes. */
  isExact: boolean;
  /** null or '' for a rule that only counts. */
  target: string | null;
  /** Each of prot, source and destination may start with '!' (inverted match). */
  prot: string;
  /** Two characters: `--`, `-f`, `!f`. */
  opt: string;
  /** '!' included when inverted, e.g. `!ppp0`. */
  in: string;
  out: string;
  source: string;
  destination: string;
  /** Matches and target options after the address columns, comment removed. */
  extra: string;
  comment: string | null;
}

export interface Chain {
  name: string;
  /** ACCEPT/DROP for built-in chains, null for user chains. */
  policy: string | null;
  /** "(N references)" of a user chain; null for built-ins. */
  references: number | null;
  /**
   * Policy counters of a built-in chain as printed with -v ("policy ACCEPT 12 packets, 3456
   * bytes"); null or absent for user chains and listings without -v. (Added by issue 5.)
   */
  policyPkts?: number | null;
  policyBytes?: number | null;
  rules: Rule[];
}

export interface ParseReport {
  /** Lines the parser could not read, kept for diagnostics (raw: sanitise before display). */
  skipped: string[];
}

export interface IptablesListing {
  chains: Chain[];
  warnings: string[];
  errors: string[];
}
