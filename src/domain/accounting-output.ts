// Phase: what a poll returns (issue 7, issue 14): one row per present identity, whatever number of
// addresses it has, ordered by its primary address; totals and shares over those rows; and the
// per-identity deltas the history store records. Each row, total and delta also carries its split
// by address family (issue 15): the IPv6 part as counted, the IPv4 part the rest. The unattributed
// IPv6 row comes last.

import type { AccountedHost, FamilyQuad, HostDelta, TrackedHost } from './accounting-model.js';
import { compareAddresses } from './address.js';
import { emptyFamilySplit, type FamilyBytes, type FamilySplit } from './family.js';
import { UNATTRIBUTED_IPV6_IDENTITY } from './snapshot.js';

type Quad = FamilyQuad;

export interface RowsInput {
  present: ReadonlySet<string>;
  hosts: ReadonlyMap<string, TrackedHost>;
  /** identity → [downBps, upBps, down6Bps, up6Bps] */
  rates: ReadonlyMap<string, Quad>;
  deltas: ReadonlyMap<string, Quad>;
  /** Identities that had a counter in this poll's listing. */
  counted: ReadonlyMap<string, unknown>;
  shareBasis: 'bytes' | 'rate';
}

export interface Rows {
  hosts: AccountedHost[];
  totals: { downBytes: number; upBytes: number; downBps: number; upBps: number };
  totalsByFamily: FamilySplit;
}

function compareRows(a: AccountedHost, b: AccountedHost): number {
  const aLast = a.identity === UNATTRIBUTED_IPV6_IDENTITY;
  if (aLast !== (b.identity === UNATTRIBUTED_IPV6_IDENTITY)) return aLast ? 1 : -1;
  return compareAddresses(a.ip, b.ip) || (a.identity < b.identity ? -1 : a.identity > b.identity ? 1 : 0);
}

/** Bytes per second of one family: the whole rate less the other family's part, never below 0 (float rounding). */
function partRate(whole: number, other: number): number {
  return whole > other ? whole - other : 0;
}

export function buildRows(input: RowsInput): Rows {
  const hosts: AccountedHost[] = [];
  const totals = { downBytes: 0, upBytes: 0, downBps: 0, upBps: 0 };
  const byFamily = emptyFamilySplit();
  for (const identity of input.present) {
    const rec = input.hosts.get(identity);
    if (!rec) continue;
    const [downBps, upBps, down6Bps, up6Bps] = input.rates.get(identity) ?? [0, 0, 0, 0];
    const [dd, du, dd6, du6] = input.deltas.get(identity) ?? [0, 0, 0, 0];
    const down6Bytes = rec.down6Bytes ?? 0;
    const up6Bytes = rec.up6Bytes ?? 0;
    const row: AccountedHost = {
      identity,
      ip: rec.ip,
      addresses: [...rec.addresses],
      mac: rec.mac,
      hostname: rec.hostname,
      downBytes: rec.downBytes,
      upBytes: rec.upBytes,
      downBps,
      upBps,
      down4Bytes: rec.downBytes - down6Bytes,
      up4Bytes: rec.upBytes - up6Bytes,
      down6Bytes,
      up6Bytes,
      // The IPv4 rate is the whole rate less its IPv6 part (the window sums both families and IPv6).
      down4Bps: partRate(downBps, down6Bps),
      up4Bps: partRate(upBps, up6Bps),
      down6Bps,
      up6Bps,
      downShare: 0,
      upShare: 0,
      isCounted: input.counted.has(identity),
      deltaDownBytes: dd,
      deltaUpBytes: du,
      deltaDown6Bytes: dd6,
      deltaUp6Bytes: du6,
    };
    hosts.push(row);
    totals.downBytes += rec.downBytes;
    totals.upBytes += rec.upBytes;
    totals.downBps += downBps;
    totals.upBps += upBps;
    byFamily.down4Bytes += row.down4Bytes;
    byFamily.up4Bytes += row.up4Bytes;
    byFamily.down6Bytes += row.down6Bytes;
    byFamily.up6Bytes += row.up6Bytes;
    byFamily.down4Bps += row.down4Bps;
    byFamily.up4Bps += row.up4Bps;
    byFamily.down6Bps += down6Bps;
    byFamily.up6Bps += up6Bps;
  }
  hosts.sort(compareRows);
  const isByRate = input.shareBasis === 'rate';
  const downTotal = isByRate ? totals.downBps : totals.downBytes;
  const upTotal = isByRate ? totals.upBps : totals.upBytes;
  for (const h of hosts) {
    const down = isByRate ? h.downBps : h.downBytes;
    const up = isByRate ? h.upBps : h.upBytes;
    h.downShare = downTotal > 0 ? down / downTotal : 0;
    h.upShare = upTotal > 0 ? up / upTotal : 0;
  }
  return { hosts, totals, totalsByFamily: byFamily };
}

/**
 * The non-zero deltas of this poll, one per identity, under the host's current name and address,
 * and the family split of each (by identity).
 */
export function buildDeltaList(
  deltas: ReadonlyMap<string, Quad>,
  hosts: ReadonlyMap<string, TrackedHost>,
): { deltas: HostDelta[]; deltasByFamily: Map<string, FamilyBytes> } {
  const list: HostDelta[] = [];
  const byFamily = new Map<string, FamilyBytes>();
  for (const [identity, [d, u, d6, u6]] of deltas) {
    const rec = hosts.get(identity);
    list.push({ identity, mac: rec?.mac ?? null, ip: rec?.ip ?? '', hostname: rec?.hostname ?? null, downBytes: d, upBytes: u });
    byFamily.set(identity, { down4Bytes: d - d6, up4Bytes: u - u6, down6Bytes: d6, up6Bytes: u6 });
  }
  return { deltas: list, deltasByFamily: byFamily };
}
