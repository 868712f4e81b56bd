// The drill-down model (issue 19): one device's connections as the router's connection table
// (conntrack) shows them, attributed to the device, with rates from two reads and grouped views.
// Pure data: parsers/conntrack.ts reads the router's text, domain/connections.ts builds these.

/** One conntrack entry, as the router printed it (parsed by key=value, never by column). */
export interface ConntrackTuple {
  /** Canonical address text (domain/address.ts: IPv6 compressed, lower case). */
  src: string;
  dst: string;
  /** null for protocols without ports (icmp, gre, …). */
  sport: number | null;
  dport: number | null;
  /** null when the router does not account connections (nf_conntrack_acct=0, old kernels). */
  packets: number | null;
  bytes: number | null;
}

export interface ConntrackEntry {
  family: 4 | 6;
  /** Lower-case protocol name as printed (tcp, udp, icmp, icmpv6, gre, sctp, unknown). */
  protocol: string;
  protocolNumber: number | null;
  /** Seconds left before the entry expires; null when not printed (offloaded entries). */
  timeoutS: number | null;
  /** TCP state (ESTABLISHED, TIME_WAIT, …); null for protocols without one. */
  state: string | null;
  original: ConntrackTuple;
  reply: ConntrackTuple;
  isOffloaded: boolean;
  isHardwareOffloaded: boolean;
  isAssured: boolean;
  isUnreplied: boolean;
  /**
   * ICMP/ICMPv6 entries: the original direction's type=/code=/id= (they have no ports); absent or
   * null for other protocols. The id tells two pings to one host apart (DeviceConnection.key).
   */
  icmp?: { type: number; code: number; id: number } | null;
}

export type ConntrackFormat = 'nf_conntrack' | 'ip_conntrack' | 'conntrack-tools';

export interface ConntrackReport {
  entries: ConntrackEntry[];
  /** Lines that were not entries (raw: sanitise before display). */
  skipped: string[];
  format: ConntrackFormat | null;
  /** Some entry carried packets=/bytes= (accounting on), false when none did, null when there were no entries. */
  hasAccounting: boolean | null;
}

/** One connection of one device. */
export interface DeviceConnection {
  /** Stable across reads: protocol + both tuples' addresses and ports. */
  key: string;
  protocol: string;
  /** Who initiated: the device (outbound, the usual case) or the remote (inbound, a port forward). */
  initiator: 'device' | 'remote';
  /** The device's own address and port in this connection. */
  localAddress: string;
  localPort: number | null;
  /** The other end as the device sees it (never the router's WAN address after NAT). */
  remote: string;
  remotePort: number | null;
  /** Bytes towards the device / from it, cumulative for the connection; null without accounting. */
  downBytes: number | null;
  upBytes: number | null;
  /** From two reads; 0 on the first read of a connection (or without accounting). */
  downBps: number;
  upBps: number;
  state: string | null;
  isOffloaded: boolean;
  /** Since lantop first saw the connection (ms); the router keeps no start time. */
  ageMs: number;
  /** Seconds the router keeps it without traffic; null when not printed. */
  timeoutS: number | null;
  /** The remote's reverse-DNS name when the router's resolver gave one (raw: sanitise). */
  remoteName: string | null;
  /** Well-known service name of the remote port (https, dns, …), null when unknown. */
  service: string | null;
}

export type ConnectionGrouping = 'connections' | 'remote' | 'port' | 'protocol';
export type ConnectionSort = 'bytes' | 'rate';

/** A grouped row: every connection of one remote host, one remote port/service or one protocol. */
export interface ConnectionGroup {
  /** What the group is, display-ready except remote names (sanitise): '203.0.113.7', 'tcp/443 https', 'udp'. */
  label: string;
  key: string;
  /** 'remote' groups: the remote's reverse-DNS name when a connection carried one (raw: sanitise). */
  remoteName?: string | null;
  connections: number;
  downBytes: number | null;
  upBytes: number | null;
  downBps: number;
  upBps: number;
}

/** One read of a device's connections (what `top DEVICE --json` prints and the screen shows). */
export interface ConnectionsView {
  atMs: number;
  /** The device as lantop knows it. */
  identity: string;
  /** Display-safe name (host name or address). */
  name: string;
  addresses: string[];
  connections: DeviceConnection[];
  /**
   * on: bytes per connection; off: the router does not account connections (nf_conntrack_acct=0) —
   * connections are listed without bytes; unknown: not said (no entries, or the switch unreadable).
   */
  accounting: 'on' | 'off' | 'unknown';
  /** The one command that turns accounting on (shown only when off; run only with consent). */
  enableAccountingCommand: string | null;
  /** Where the table came from, e.g. "/proc/net/nf_conntrack" or "conntrack -L". */
  source: string;
  /** Display-safe notes (no connection table, table full, …). */
  notes: string[];
}
