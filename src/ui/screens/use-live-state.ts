// Live usage state: the latest snapshot, the last minute of rate samples per host (for the
// sparklines), the sort order and the scroll offset. Samples are capped per host and hosts that
// leave the snapshot lose theirs, so memory stays bounded however long the screen runs. Samples
// follow the host's identity, so a device that changes address keeps its sparkline. The family
// view (key f, issue 15) shows either address family's part of every row instead of the totals.
import { compareAddresses } from '../../domain/address.js';
import { familyBytesOf, familyRatesOf } from '../../domain/family.js';
import type { HostUsage, Snapshot } from '../../domain/snapshot.js';
import { sanitizeText } from '../../sanitize.js';
import { scrollTopAfter, type ScrollAction } from '../scroll.js';
import { blockReducer, type BlockAction, type BlockPrompt } from './live-block-state.js';

export const SAMPLE_LIMIT = 60;

export type SortKey = 'down' | 'up' | 'total' | 'name';

export const SORT_LABELS: Readonly<Record<SortKey, string>> = {
  down: '↓ rate',
  up: '↑ rate',
  total: 'total traffic',
  name: 'name',
};

/** Which bytes the rows show: both families (the totals), or one family's part. */
export type FamilyView = 'all' | 'ipv4' | 'ipv6';

export const FAMILY_VIEWS: readonly FamilyView[] = ['all', 'ipv4', 'ipv6'];

export const FAMILY_LABELS: Readonly<Record<FamilyView, string>> = { all: 'IPv4+IPv6', ipv4: 'IPv4 only', ipv6: 'IPv6 only' };

export interface LiveState {
  snapshot: Snapshot | null;
  /** HostUsage.identity → combined (↓+↑) bytes/s, oldest first, at most SAMPLE_LIMIT. */
  samples: ReadonlyMap<string, readonly number[]>;
  sortKey: SortKey;
  scrollTop: number;
  /** Absent: 'all' (states made before the family view). */
  family?: FamilyView;
  /** The block prompt or its answer (issue 16: live-block-state.ts); absent: none. */
  block?: BlockPrompt | null;
}

export type LiveAction =
  | { type: 'snapshot'; snapshot: Snapshot }
  | { type: 'sort'; sortKey: SortKey }
  /** Next family view: all → IPv4 → IPv6 → all. */
  | { type: 'family' }
  | { type: 'scroll'; action: ScrollAction; viewportRows: number }
  | BlockAction;

export const initialLiveState: LiveState = { snapshot: null, samples: new Map(), sortKey: 'down', scrollTop: 0 };

export function liveReducer(state: LiveState, action: LiveAction): LiveState {
  switch (action.type) {
    case 'snapshot': {
      const { snapshot } = action;
      // A repeated or out-of-order snapshot must not add a sample twice.
      if (state.snapshot !== null && snapshot.atMs <= state.snapshot.atMs) return { ...state, snapshot: snapshot.atMs === state.snapshot.atMs ? snapshot : state.snapshot };
      const samples = new Map<string, readonly number[]>();
      for (const host of snapshot.hosts) {
        const previous = state.samples.get(host.identity) ?? [];
        const rate = Math.max(0, (Number.isFinite(host.downBps) ? host.downBps : 0) + (Number.isFinite(host.upBps) ? host.upBps : 0));
        // The last minute, one sample longer: copied by index (a spread builds an iterator per host).
        const from = previous.length >= SAMPLE_LIMIT ? previous.length - SAMPLE_LIMIT + 1 : 0;
        const next = new Array<number>(previous.length - from + 1);
        for (let i = from; i < previous.length; i += 1) next[i - from] = previous[i]!;
        next[next.length - 1] = rate;
        samples.set(host.identity, next);
      }
      return { ...state, snapshot, samples };
    }
    case 'sort':
      return { ...state, sortKey: action.sortKey, scrollTop: 0 };
    case 'family': {
      const next = FAMILY_VIEWS[(FAMILY_VIEWS.indexOf(state.family ?? 'all') + 1) % FAMILY_VIEWS.length] ?? 'all';
      return { ...state, family: next };
    }
    case 'scroll':
      return { ...state, scrollTop: scrollTopAfter(state.scrollTop, action.action, state.snapshot?.hosts.length ?? 0, action.viewportRows) };
    default: {
      const block = blockReducer(state.block ?? null, action);
      return block === (state.block ?? null) ? state : { ...state, block };
    }
  }
}

const sortName = (h: HostUsage) => (h.hostname === null ? '' : sanitizeText(h.hostname, 64).trim().toLowerCase());

/** Hosts in display order; ties fall back to address order so rows never jump between equal polls. */
export function sortHosts(hosts: readonly HostUsage[], sortKey: SortKey): HostUsage[] {
  const byIp = (a: HostUsage, b: HostUsage) => compareAddresses(a.ip, b.ip);
  const compare: Record<SortKey, (a: HostUsage, b: HostUsage) => number> = {
    down: (a, b) => b.downBps - a.downBps || b.downBytes - a.downBytes || byIp(a, b),
    up: (a, b) => b.upBps - a.upBps || b.upBytes - a.upBytes || byIp(a, b),
    total: (a, b) => b.downBytes + b.upBytes - (a.downBytes + a.upBytes) || b.downBps + b.upBps - (a.downBps + a.upBps) || byIp(a, b),
    name: (a, b) => {
      const na = sortName(a);
      const nb = sortName(b);
      // Named hosts first, alphabetically; nameless ones after, by address.
      if (na !== nb) return na === '' ? 1 : nb === '' ? -1 : na < nb ? -1 : 1;
      return byIp(a, b);
    },
  };
  return [...hosts].sort(compare[sortKey]);
}

/** The host moving the most bytes right now, or null when nothing moves. */
export function topTalker(hosts: readonly HostUsage[]): HostUsage | null {
  let best: HostUsage | null = null;
  for (let i = 0; i < hosts.length; i += 1) {
    const h = hosts[i]!;
    const rate = h.downBps + h.upBps;
    if (rate > 0 && (best === null || rate > best.downBps + best.upBps)) best = h;
  }
  return best;
}

/**
 * The snapshot as the family view shows it: for 'ipv4' or 'ipv6', every row's bytes and rates are
 * that family's part, shares are of that family's bytes, and the totals are that family's. The
 * same snapshot for 'all'. Rows without a split (built by hand) are all IPv4.
 */
export function familyView(snapshot: Snapshot, family: FamilyView): Snapshot {
  if (family === 'all') return snapshot;
  const is6 = family === 'ipv6';
  const hosts = snapshot.hosts.map((h): HostUsage => {
    const b = familyBytesOf(h);
    const r = familyRatesOf(h);
    return {
      ...h,
      downBytes: is6 ? b.down6Bytes : b.down4Bytes,
      upBytes: is6 ? b.up6Bytes : b.up4Bytes,
      downBps: is6 ? r.down6Bps : r.down4Bps,
      upBps: is6 ? r.up6Bps : r.up4Bps,
    };
  });
  const totals = { downBytes: 0, upBytes: 0, downBps: 0, upBps: 0 };
  for (const h of hosts) {
    totals.downBytes += h.downBytes;
    totals.upBytes += h.upBytes;
    totals.downBps += h.downBps;
    totals.upBps += h.upBps;
  }
  for (const h of hosts) {
    h.downShare = totals.downBytes > 0 ? h.downBytes / totals.downBytes : 0;
    h.upShare = totals.upBytes > 0 ? h.upBytes / totals.upBytes : 0;
  }
  return { ...snapshot, hosts, totals };
}
