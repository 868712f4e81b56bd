// Live usage state: the latest snapshot, the last minute of rate samples per host (for the
// sparklines), the sort order and the scroll offset. Samples are capped per host and hosts that
// leave the snapshot lose theirs, so memory stays bounded however long the screen runs. Samples
// follow the host's identity, so a device that changes address keeps its sparkline. The family
// view (key f, issue 15) shows either address family's part of every row instead of the totals.
// The row cursor (issue 19: ↑/↓ select, Enter opens the device's connections, b/U act on it)
// follows the device's identity, so a re-sort or a new poll never moves it to another device; the
// viewport follows the cursor (liveWindow). The sparkline covers a window (key w, issue 17): the
// last minute per poll, or 10 minutes / an hour as the mean rate of 10-second / 1-minute buckets,
// rolled up as polls arrive (live-spark.ts), 60 values a host at most whatever the window.
import { compareAddresses } from '../../domain/address.js';
import { familyBytesOf, familyRatesOf } from '../../domain/family.js';
import type { HostUsage, Snapshot } from '../../domain/snapshot.js';
import { sanitizeText } from '../../sanitize.js';
import { clampScrollTop, type ScrollAction } from '../scroll.js';
import { blockReducer, type BlockAction, type BlockPrompt } from './live-block-state.js';
import { nextRollups, SPARK_WINDOWS, type HostRollups, type SparkWindow } from './live-spark.js';

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
  /** The device under the row cursor (HostUsage.identity); absent or null: the first row shown. */
  selectedIdentity?: string | null;
  /** The sparkline's window (issue 17); absent: the last minute. */
  sparkWindow?: SparkWindow;
  /** HostUsage.identity → the rates rolled up for the longer windows; absent: none yet. */
  rollups?: ReadonlyMap<string, HostRollups>;
}

export type LiveAction =
  | { type: 'snapshot'; snapshot: Snapshot }
  | { type: 'sort'; sortKey: SortKey }
  /** Next family view: all → IPv4 → IPv6 → all. */
  | { type: 'family' }
  /** Next sparkline window: 1 min → 10 min → 1 h → 1 min. */
  | { type: 'sparkWindow' }
  /** Moves the row cursor (↑/↓ one row, PgUp/PgDn a page, Home/End the ends); the viewport follows. */
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
      const rollups = new Map<string, HostRollups>();
      const previousRollups = state.rollups;
      for (const host of snapshot.hosts) {
        const previous = state.samples.get(host.identity) ?? [];
        const rate = Math.max(0, (Number.isFinite(host.downBps) ? host.downBps : 0) + (Number.isFinite(host.upBps) ? host.upBps : 0));
        // The last minute, one sample longer: copied by index (a spread builds an iterator per host).
        const from = previous.length >= SAMPLE_LIMIT ? previous.length - SAMPLE_LIMIT + 1 : 0;
        const next = new Array<number>(previous.length - from + 1);
        for (let i = from; i < previous.length; i += 1) next[i - from] = previous[i]!;
        next[next.length - 1] = rate;
        samples.set(host.identity, next);
        rollups.set(host.identity, nextRollups(previousRollups?.get(host.identity), snapshot.atMs, rate));
      }
      return { ...state, snapshot, samples, rollups, selectedIdentity: selectionAfter(state, snapshot) };
    }
    case 'sort':
      return { ...state, sortKey: action.sortKey, scrollTop: 0 };
    case 'family': {
      const next = FAMILY_VIEWS[(FAMILY_VIEWS.indexOf(state.family ?? 'all') + 1) % FAMILY_VIEWS.length] ?? 'all';
      return { ...state, family: next };
    }
    case 'sparkWindow': {
      const next = SPARK_WINDOWS[(SPARK_WINDOWS.indexOf(state.sparkWindow ?? '1m') + 1) % SPARK_WINDOWS.length] ?? '1m';
      return { ...state, sparkWindow: next };
    }
    case 'scroll':
      return moveCursor(state, action.action, action.viewportRows);
    default: {
      const block = blockReducer(state.block ?? null, action);
      if (block === (state.block ?? null)) return state;
      // The prompt's device (picked with ←/→) is the selected row: one cursor, not two.
      return block?.kind === 'ask' ? { ...state, block, selectedIdentity: block.identity } : { ...state, block };
    }
  }
}

/** The hosts in the order the screen shows them (the cursor and the block prompt walk them). */
export function shownHosts(state: LiveState): readonly HostUsage[] {
  return state.snapshot ? sortHosts(familyView(state.snapshot, state.family ?? 'all').hosts, state.sortKey) : [];
}

function indexOfIdentity(hosts: readonly HostUsage[], identity: string): number {
  for (let i = 0; i < hosts.length; i += 1) if (hosts[i]!.identity === identity) return i;
  return -1;
}

/**
 * The first row shown and the cursor's row in `hosts` (display order; -1: no rows). The cursor is
 * the selected device wherever the sort put it, else the first row shown; the viewport moves just
 * enough to show it.
 */
export function liveWindow(state: LiveState, hosts: readonly HostUsage[], viewportRows: number): { first: number; index: number } {
  let first = clampScrollTop(state.scrollTop, hosts.length, viewportRows);
  if (hosts.length === 0) return { first, index: -1 };
  const selected = state.selectedIdentity ?? null;
  const at = selected === null ? -1 : indexOfIdentity(hosts, selected);
  const index = at === -1 ? first : at;
  const rows = Math.max(1, viewportRows);
  if (index < first) first = index;
  else if (index >= first + rows) first = index - rows + 1;
  return { first, index };
}

function moveCursor(state: LiveState, action: ScrollAction, viewportRows: number): LiveState {
  const hosts = shownHosts(state);
  if (hosts.length === 0) return state;
  const rows = Math.max(1, viewportRows);
  const page = Math.max(1, rows - 1);
  const { first, index } = liveWindow(state, hosts, rows);
  const last = hosts.length - 1;
  // Pages move the cursor and the viewport together (the rows under the cursor stay in place).
  const moves: Record<ScrollAction, readonly [number, number]> = {
    up: [index - 1, first],
    down: [index + 1, first],
    pageUp: [index - page, first - page],
    pageDown: [index + page, first + page],
    home: [0, 0],
    end: [last, hosts.length],
  };
  const [target, top] = moves[action];
  const next = Math.max(0, Math.min(last, target));
  let scrollTop = clampScrollTop(top, hosts.length, rows);
  if (next < scrollTop) scrollTop = next;
  else if (next >= scrollTop + rows) scrollTop = next - rows + 1;
  const selectedIdentity = hosts[next]!.identity;
  return selectedIdentity === state.selectedIdentity && scrollTop === state.scrollTop ? state : { ...state, selectedIdentity, scrollTop };
}

// A selected device that leaves the snapshot hands the cursor to the device now on its row (so
// the cursor stays where the eye is, and does not jump back should the device return). Sorting
// only then: a poll that keeps the device costs one scan.
function selectionAfter(state: LiveState, snapshot: Snapshot): string | null {
  const selected = state.selectedIdentity ?? null;
  if (selected === null || indexOfIdentity(snapshot.hosts, selected) !== -1) return selected;
  const before = shownHosts(state);
  const row = Math.max(0, indexOfIdentity(before, selected));
  const after = shownHosts({ ...state, snapshot });
  return after.length === 0 ? null : after[Math.min(row, after.length - 1)]!.identity;
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
