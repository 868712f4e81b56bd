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
  /** The address shown for the host (its lowest IPv4, else its lowest IPv6). */
  ip: string;
  /** Every address counted for the host now, in address order (IPv4 first); includes `ip`. */
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
  /** True when lantop has accounting rules for this host. */
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
