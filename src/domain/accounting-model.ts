// The accountant's vocabulary (issue 7, issue 14): what a poll hands in, what is carried between
// polls, and what comes out. Backend-neutral: counters per host address and direction; how the
// router keeps them is the backend's business (src/router/backends/).

import type { FamilyBytes, FamilyRates, FamilySplit } from './family.js';
import type { HostUsage, Notice } from './snapshot.js';

export interface CounterPair {
  downBytes: number;
  upBytes: number;
}

/**
 * [downBytes, upBytes, down6Bytes, up6Bytes]: bytes over both families, then their IPv6 part (the
 * IPv4 part is the rest). Also rates in bytes per second, in the same order.
 */
export type FamilyQuad = [down: number, up: number, down6: number, up6: number];

/** One (MAC, address) pair from discovery: a dual-stack host comes as several, one per address. */
export interface PollHost {
  /** Canonical IPv4 or IPv6 text (src/domain/address.ts). */
  ip: string;
  mac: string | null;
  /** Raw from the router (hostile); stored and passed on, never interpreted. */
  hostname: string | null;
}

export interface PollInput {
  atMs: number;
  /** Cumulative router counters per canonical host address that has counters. */
  counters: ReadonlyMap<string, CounterPair>;
  /** Hosts from discovery (may include hosts without counters, may miss hosts that have them). */
  hosts: readonly PollHost[];
  /**
   * Identifies the router's current boot (or installation incarnation). A change means every
   * counter restarted from 0. undefined or null: unknown this poll (the last known marker is kept).
   * It must be stable while the router runs: a spurious change double-counts a whole epoch.
   */
  bootMarker?: string | null;
  /** When the router booted (now − uptime), if known: narrows the window of bytes that may be lost. */
  bootAtMs?: number | null;
  /**
   * All of lantop's counters were installed from scratch since the previous poll (none were
   * there): every counter started at 0. On a router never counted before this is the first
   * installation, not a reset.
   */
  isReinstalled?: boolean;
  /** Addresses whose counters lantop (re)installed since the previous poll: they started at 0. */
  newAddresses?: Iterable<string>;
  /** When lantop (re)installed the counters (isReinstalled): nothing after it is missing. Default: atMs. */
  rulesInstalledAtMs?: number | null;
  /**
   * Were lantop's counting rules complete at this read (all there, and reached by the traffic)?
   * false: the router counted nothing (or not everything) since this or an earlier read, so this
   * read does not close the window a later reset reports. Default true.
   */
  isInstallationComplete?: boolean;
}

export interface AccountingOptions {
  /** Highest plausible rate in each direction, bits per second (vnStat's MaxBandwidth). Default 1 Gbit/s. */
  linkBitsPerSecond?: number;
  /** A delta above link × elapsed × margin is absurd. Default 1.5. */
  absurdMargin?: number;
  /** Elapsed times shorter than this count as this long in the absurd check (poll jitter). Default 1000 ms. */
  minLimitElapsedMs?: number;
  /** Rates cover at least this much time (once that much history exists). Default 5000 ms. */
  rateWindowMs?: number;
  /** What downShare/upShare divide: cumulative bytes (default) or the current rate. */
  shareBasis?: 'bytes' | 'rate';
  /**
   * Hosts not seen for this long leave the state (their history stays in the store), so devices
   * with rotating random MACs do not grow it forever. Default 30 days; null keeps them all.
   */
  forgetAfterMs?: number | null;
}

export const DEFAULT_LINK_BITS_PER_SECOND = 1_000_000_000;
export const DEFAULT_ABSURD_MARGIN = 1.5;
export const DEFAULT_MIN_LIMIT_ELAPSED_MS = 1000;
export const DEFAULT_RATE_WINDOW_MS = 5000;
export const DEFAULT_FORGET_AFTER_MS = 30 * 86_400_000;

/**
 * One host as lantop knows it; identity is the MAC when known, else `ip:<address>` (or the
 * unattributed IPv6 row, snapshot.ts UNATTRIBUTED_IPV6_IDENTITY).
 */
export interface HostRecord {
  identity: string;
  mac: string | null;
  /** The primary address: its lowest IPv4, else its lowest IPv6 (a known one is kept while it stays). */
  ip: string;
  /**
   * Its addresses when last seen, in address order (IPv4 first); includes `ip`. Absent in states
   * saved before hosts had several addresses (issue 14): read as `[ip]`.
   */
  addresses?: string[];
  hostname: string | null;
  /** Cumulative bytes counted by lantop (all epochs), over both families. */
  downBytes: number;
  upBytes: number;
  /**
   * The IPv6 part of downBytes/upBytes (issue 15), set (both) from the host's first IPv6 byte on.
   * Absent: 0 — every IPv4-only host, and every state saved before issue 15 (no IPv6 was counted).
   */
  down6Bytes?: number;
  up6Bytes?: number;
  firstSeenMs: number;
  lastSeenMs: number;
}

/** A host record in the accountant's hands: its addresses are always known. */
export type TrackedHost = HostRecord & { addresses: string[] };

export interface CounterBaseline {
  /** Whose bytes this address's counters were at the last poll. */
  identity: string;
  downBytes: number;
  upBytes: number;
}

export interface RatePoint {
  atMs: number;
  /**
   * identity → [downBytes, upBytes, down6Bytes, up6Bytes] counted in the poll at atMs (non-zero
   * only); points saved before issue 15 have the first two only (no IPv6).
   */
  deltas: Record<string, [number, number] | FamilyQuad>;
}

/** Everything carried between polls; JSON-serialisable. */
export interface AccountingState {
  version: 1;
  epoch: number;
  bootMarker: string | null;
  lastAtMs: number | null;
  /**
   * The last poll at which the counting rules were complete: a later reset's missing window starts
   * here. Absent: lastAtMs if any counter is known, else null (exportState writes it only when it
   * differs from that, i.e. while the rules are missing; states from before it existed read the same).
   */
  lastCountedAtMs?: number | null;
  /** Last raw router counters per address, including addresses whose counters vanished from the listing. */
  counters: Record<string, CounterBaseline>;
  hosts: Record<string, HostRecord>;
  /** Identities present at the last poll. */
  present: string[];
  /** Optional: without it rates restart from the last poll (fine after a restart). */
  rateWindow?: RatePoint[];
  /** identity → [downBps, upBps, down6Bps, up6Bps] last shown; carried over when no time has elapsed. */
  lastRates?: Record<string, [number, number] | FamilyQuad>;
  /**
   * What the sync after the last poll installed, for the next poll to know (issue 15): a one-shot
   * `usage` whose poll put the counters back after a reboot or `fw4 flush` ends before the poll that
   * must count them from 0. Absent: nothing installed (the usual case). Written by the poller.
   */
  pending?: PendingInstall;
}

/** Counters the last sync (re)installed: they start from 0 at the next poll. */
export interface PendingInstall {
  isReinstalled: boolean;
  newAddresses: string[];
  rulesInstalledAtMs: number | null;
}

export function emptyAccountingState(): AccountingState {
  return { version: 1, epoch: 0, bootMarker: null, lastAtMs: null, counters: {}, hosts: {}, present: [] };
}

export type ResetReason = 'reboot' | 'reinstalled' | 'counter-decrease';

export type AccountingEvent =
  | {
      kind: 'reset';
      reason: ResetReason;
      epoch: number;
      /** Addresses whose counters went down (counter-decrease), or all counted addresses. */
      ips: string[];
      /**
       * Traffic in [fromMs, toMs] could not be counted: the router's counts between the last
       * complete read and the reset are lost, and after a loss of the rules nothing counted until
       * they were put back. At most link speed × that time, usually far less. fromMs is null when
       * nothing was counted before; toMs ≤ fromMs means nothing is missing.
       */
      missingFromMs: number | null;
      missingToMs: number;
    }
  | { kind: 'absurd-delta'; ip: string; identity: string; direction: 'down' | 'up'; deltaBytes: number; limitBytes: number; elapsedMs: number }
  | { kind: 'baseline'; ips: string[] }
  | { kind: 'clock-jump'; fromMs: number; toMs: number }
  | { kind: 'invalid-counter'; ip: string }
  | { kind: 'host-appeared'; identity: string; ip: string }
  | { kind: 'host-disappeared'; identity: string; ip: string }
  /** The host's IPv4 address changed (an IPv6 address coming or going is no event: see host-bookkeeping.ts). */
  | { kind: 'ip-changed'; identity: string; fromIp: string; toIp: string }
  | { kind: 'host-renamed'; identity: string }
  /** An address's counters now belong to another identity (the address was given to another device). */
  | { kind: 'ip-reassigned'; ip: string; fromIdentity: string; toIdentity: string }
  /**
   * An IPv6 address counted in the unattributed row is now known to be this device's (the
   * neighbour table shows it): its later bytes go to the device, those counted before stay.
   */
  | { kind: 'address-attributed'; ip: string; identity: string }
  /** A MAC-less host's MAC became known: its history moved to the MAC identity. */
  | { kind: 'identity-merged'; fromIdentity: string; toIdentity: string };

export type AccountedHost = HostUsage & FamilyBytes & FamilyRates & {
  /** Bytes counted in this poll (the sum over the host's addresses), and their IPv6 part. */
  deltaDownBytes: number;
  deltaUpBytes: number;
  deltaDown6Bytes: number;
  deltaUp6Bytes: number;
};

export interface HostDelta {
  identity: string;
  mac: string | null;
  ip: string;
  hostname: string | null;
  downBytes: number;
  upBytes: number;
}

export interface AccountingResult {
  atMs: number;
  epoch: number;
  /** Hosts present in this poll (in discovery or in the counters), ordered by primary address. */
  hosts: AccountedHost[];
  /** Sums over `hosts`. */
  totals: { downBytes: number; upBytes: number; downBps: number; upBps: number };
  /** The IPv4 and IPv6 parts of `totals`. */
  totalsByFamily: FamilySplit;
  /** Non-zero per-identity deltas of this poll: what the history store records. */
  deltas: HostDelta[];
  /** The IPv4 and IPv6 parts of each of `deltas`, by identity (every identity in `deltas` has one). */
  deltasByFamily: ReadonlyMap<string, FamilyBytes>;
  events: AccountingEvent[];
  notices: Notice[];
}
