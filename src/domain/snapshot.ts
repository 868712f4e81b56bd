// The one snapshot model every output renders: Ink screens, --json, CSV and Prometheus
// (STYLE.md principle 2). Nothing computes usage twice.

export type ConnectionState =
  | { kind: 'connecting' }
  | { kind: 'connected' }
  | { kind: 'reconnecting'; inMs: number; reason: string }
  | { kind: 'failed'; reason: string };

export interface HostUsage {
  /** Who this row is: the MAC when known, else `ip:<address>`. Rows are keyed by it everywhere. */
  identity: string;
  /**
   * The address shown for the host: its lowest IPv4, else its lowest IPv6 — but one it was shown
   * under stays while it still has it and it is of that family (host-bookkeeping.ts
   * choosePrimaryAddress: a stale ARP entry beside a new lease must not make it flap).
   */
  ip: string;
  /**
   * Its addresses now, in address order (IPv4 first); includes `ip`. Discovery's when it lists the
   * host, else those its counters were read for.
   */
  addresses: string[];
  mac: string | null;
  /** Raw from the router; sanitise at display time. */
  hostname: string | null;
  /** Cumulative bytes counted by lantop for this host (survives router resets). */
  downBytes: number;
  upBytes: number;
  downBps: number;
  upBps: number;
  /** 0..1 of the total of that direction; 0 when the total is 0. */
  downShare: number;
  upShare: number;
  /** True when one of its addresses has a counter (or the last sync gave it one). */
  isCounted: boolean;
}

export interface Notice {
  atMs: number;
  level: 'info' | 'warn' | 'error';
  text: string;
}

export interface Snapshot {
  schema: 1;
  router: string;
  atMs: number;
  hosts: HostUsage[];
  totals: { downBytes: number; upBytes: number; downBps: number; upBps: number };
  pollLatencyMs: number | null;
  connection: ConnectionState;
  notices: Notice[];
}
