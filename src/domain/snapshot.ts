// The one snapshot model every output renders: Ink screens, --json, CSV and Prometheus
// (STYLE.md principle 2). Nothing computes usage twice.

import type { FamilyBytes, FamilyRates, FamilySplit } from './family.js';
import type { QuotaUsage } from './quota.js';
import type { OffloadReport } from './offload-model.js';
import type { WanView } from './wan-model.js';
import type { ClassUsage } from './class-usage.js';
import type { CounterUsage } from './counter-usage.js';

/**
 * The one row for IPv6 bytes no device can be named for yet (issue 15): counters of IPv6
 * addresses that the neighbour table has not tied to a MAC. Its `ip` is '' (it is no one host),
 * its addresses are those counted for it now, its hostname null; outputs show UNATTRIBUTED_IPV6_NAME.
 */
export const UNATTRIBUTED_IPV6_IDENTITY = 'unattributed:ipv6';
export const UNATTRIBUTED_IPV6_NAME = 'unattributed IPv6';

export function isUnattributedIdentity(identity: string): boolean {
  return identity === UNATTRIBUTED_IPV6_IDENTITY;
}

export type ConnectionState =
  | { kind: 'connecting' }
  | { kind: 'connected' }
  | { kind: 'reconnecting'; inMs: number; reason: string }
  | { kind: 'failed'; reason: string };

/**
 * One row. The family split (FamilyBytes, FamilyRates: the IPv4 and IPv6 parts of the bytes and
 * rates) is on every row the accountant makes; optional for rows built by hand, which read as all
 * IPv4 (familyBytesOf / familyRatesOf in family.ts).
 */
export interface HostUsage extends Partial<FamilyBytes>, Partial<FamilyRates> {
  /**
   * Who this row is: the MAC when known, else `ip:<address>`, or UNATTRIBUTED_IPV6_IDENTITY.
   * Rows are keyed by it everywhere.
   */
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
  /** Blocked on the router until then (issue 16); absent or null: not blocked. */
  blockedUntilMs?: number | null;
}

/**
 * One quota as the screens and `usage --json` show it (issue 16), from the quota enforcer's last
 * evaluation (app/quota-enforcer.ts), not a database read per frame. `name` is display-safe.
 */
export interface QuotaUsageView extends Pick<QuotaUsage, 'usedBytes' | 'limitBytes' | 'leftBytes' | 'percent' | 'startMs' | 'resetMs'> {
  id: number;
  subject: { kind: 'device' | 'person' | 'line'; id: string };
  /** Sanitised: a device's host name (else its identity), a person's name, or "whole line". */
  name: string;
  /** The identities the quota counts (a device's own, a person's devices; [] for the line: every device). */
  identities: string[];
  direction: 'down' | 'up' | 'total';
  /** As `quota add --period` takes it: day, week, month, cycle:N, Nh, Nm. */
  period: string;
  /** Some device of the subject is blocked now. */
  isBlocked: boolean;
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
  /**
   * The IPv4 and IPv6 parts of `totals`. On every snapshot the poller makes; absent on snapshots
   * built by hand, whose outputs then carry no family fields (as before issue 15).
   */
  totalsByFamily?: FamilySplit;
  pollLatencyMs: number | null;
  connection: ConnectionState;
  notices: Notice[];
  /** The router's quotas and their usage (issue 16); absent when it has none or there is no history. */
  quotas?: QuotaUsageView[];
  /** What crossed the WAN and how much of it the per-device counters saw (issue 19); absent: not read. */
  wan?: WanView | null;
  /** Fast paths found on the router at connect (issue 19); absent: not probed. */
  offload?: OffloadReport | null;
  /** Traffic classes (issue 19, `setup --ports/--protocols`), in classKey order; absent when none are installed. */
  classes?: ClassUsage[];
  /** Custom counters (issue 18, `lantop counter add`), by name; absent when the router has none. */
  counters?: CounterUsage[];
}
