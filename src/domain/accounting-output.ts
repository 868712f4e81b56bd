// Phase: what a poll returns (issue 7, issue 14): one row per present identity, whatever number of
// addresses it has, ordered by its primary address; totals and shares over those rows; and the
// per-identity deltas the history store records.

import type { AccountedHost, HostDelta, TrackedHost } from './accounting-model.js';
import { compareAddresses } from './address.js';

type Pair = [number, number];

export interface RowsInput {
  present: ReadonlySet<string>;
  hosts: ReadonlyMap<string, TrackedHost>;
  rates: ReadonlyMap<string, Pair>;
  deltas: ReadonlyMap<string, Pair>;
  /** Identities that had a counter in this poll's listing. */
  counted: ReadonlyMap<string, unknown>;
  shareBasis: 'bytes' | 'rate';
}

export interface Rows {
  hosts: AccountedHost[];
  totals: { downBytes: number; upBytes: number; downBps: number; upBps: number };
}

function compareRows(a: AccountedHost, b: AccountedHost): number {
  return compareAddresses(a.ip, b.ip) || (a.identity < b.identity ? -1 : a.identity > b.identity ? 1 : 0);
}

export function buildRows(input: RowsInput): Rows {
  const hosts: AccountedHost[] = [];
  const totals = { downBytes: 0, upBytes: 0, downBps: 0, upBps: 0 };
  for (const identity of input.present) {
    const rec = input.hosts.get(identity);
    if (!rec) continue;
    const [downBps, upBps] = input.rates.get(identity) ?? [0, 0];
    const [dd, du] = input.deltas.get(identity) ?? [0, 0];
    hosts.push({
      identity,
      ip: rec.ip,
      addresses: [...rec.addresses],
      mac: rec.mac,
      hostname: rec.hostname,
      downBytes: rec.downBytes,
      upBytes: rec.upBytes,
      downBps,
      upBps,
      downShare: 0,
      upShare: 0,
      isCounted: input.counted.has(identity),
      deltaDownBytes: dd,
      deltaUpBytes: du,
    });
    totals.downBytes += rec.downBytes;
    totals.upBytes += rec.upBytes;
    totals.downBps += downBps;
    totals.upBps += upBps;
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
  return { hosts, totals };
}

/** The non-zero deltas of this poll, one per identity, under the host's current name and address. */
export function buildDeltaList(deltas: ReadonlyMap<string, Pair>, hosts: ReadonlyMap<string, TrackedHost>): HostDelta[] {
  const list: HostDelta[] = [];
  for (const [identity, [d, u]] of deltas) {
    const rec = hosts.get(identity);
    list.push({ identity, mac: rec?.mac ?? null, ip: rec?.ip ?? '', hostname: rec?.hostname ?? null, downBytes: d, upBytes: u });
  }
  return list;
}
