// What a history report is (issue 14: the model outputs render, so output/ need not know the store):
// per-host totals over a range, and dense series. The store computes them; output/ and app/ read them.

import type { FamilyBytes } from './family.js';

/** How fine the history is at some point: minute samples, hourly or daily rollups. */
export type Granularity = 'minute' | 'hour' | 'day';

/**
 * A host's bytes in a range. The family split (the IPv4 and IPv6 parts, issue 15) is on every
 * total the store makes; history recorded before issue 15 is IPv4 (lantop counted no IPv6 then).
 * Optional for totals built by hand, which read as all IPv4 (family.ts familyBytesOf).
 */
export interface HostTotal extends Partial<FamilyBytes> {
  identity: string;
  mac: string | null;
  ip: string;
  hostname: string | null;
  firstSeenMs: number;
  lastSeenMs: number;
  downBytes: number;
  upBytes: number;
}

export interface PeriodReport {
  router: string;
  requested: { startMs: number; endMs: number };
  /** The range the totals are exact for; differs from `requested` only where finer data was pruned. */
  effective: { startMs: number; endMs: number };
  startPrecision: Granularity;
  endPrecision: Granularity;
  /** Sorted by downBytes + upBytes, largest first; cut to `top` when given. */
  hosts: HostTotal[];
  /** Over all hosts, also those cut by `top`. */
  totals: { downBytes: number; upBytes: number };
  /** The IPv4 and IPv6 parts of `totals`; on every report the store makes (absent: a report built by hand). */
  totalsByFamily?: FamilyBytes;
  hostCount: number;
}

export interface SeriesPoint {
  startMs: number;
  /** null where this granularity was already pruned (unknown, not zero). */
  downBytes: number | null;
  upBytes: number | null;
}

