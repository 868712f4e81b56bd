// The plain per-host usage table: `lantop usage` on a TTY and the snapshot `lantop` prints when
// stdout is not a terminal. Pure: snapshot + width → text. Same units and columns as the live
// screen; narrow widths drop the percentages, then the totals, then the IP (never name or rates).
// An IPv6 address shows whole when there is room; otherwise it is cut to the IPv4 width first.
import { compareAddresses, MAX_ADDRESS_LENGTH } from '../domain/address.js';
import { isUnattributedIdentity, UNATTRIBUTED_IPV6_NAME, type HostUsage, type Snapshot } from '../domain/snapshot.js';
import { IPV4_COLUMN_WIDTH, renderTable, type Column } from './table.js';
import { formatBytes, formatLocalTime, formatRate, formatShare } from './units.js';
import type { CounterUsage } from '../domain/counter-usage.js';
import { sanitizeText } from '../sanitize.js';

interface UsageRow {
  name: string;
  ip: string;
  downBps: number;
  upBps: number;
  downBytes: number;
  upBytes: number;
  downShare: number | null;
  upShare: number | null;
}

export const USAGE_COLUMNS: readonly Column<UsageRow>[] = [
  { header: 'NAME', value: (r) => r.name, maxWidth: 32, priority: 10 },
  { header: 'IP', value: (r) => r.ip, maxWidth: MAX_ADDRESS_LENGTH, minWidth: IPV4_COLUMN_WIDTH, priority: 5 },
  { header: '↓RATE', value: (r) => formatRate(r.downBps), align: 'right', priority: 9 },
  { header: '↑RATE', value: (r) => formatRate(r.upBps), align: 'right', priority: 8 },
  { header: '↓TOTAL', value: (r) => formatBytes(r.downBytes), align: 'right', priority: 4 },
  { header: '↑TOTAL', value: (r) => formatBytes(r.upBytes), align: 'right', priority: 3 },
  { header: '↓%', value: (r) => (r.downShare === null ? '' : formatShare(r.downShare)), align: 'right', priority: 2 },
  { header: '↑%', value: (r) => (r.upShare === null ? '' : formatShare(r.upShare)), align: 'right', priority: 1 },
];

/** Busiest first (current rate, then bytes so far), then by address so output is stable. */
function compareByActivity(a: HostUsage, b: HostUsage): number {
  return b.downBps + b.upBps - (a.downBps + a.upBps) || b.downBytes + b.upBytes - (a.downBytes + a.upBytes) || compareAddresses(a.ip, b.ip);
}

export function renderPlainSnapshot(snapshot: Snapshot, width: number): string {
  const rows: UsageRow[] = [...snapshot.hosts].sort(compareByActivity).map((h) => ({
    // Hostnames are router text: cleaned here (so an all-escape name reads "(no name)") and again,
    // with the cut to maxWidth, in renderTable.
    name: isUnattributedIdentity(h.identity) ? UNATTRIBUTED_IPV6_NAME : (h.hostname === null ? '' : sanitizeText(h.hostname, 32).trim()) || '(no name)',
    ip: h.ip,
    downBps: h.downBps,
    upBps: h.upBps,
    downBytes: h.downBytes,
    upBytes: h.upBytes,
    downShare: h.downShare,
    upShare: h.upShare,
  }));
  const { totals } = snapshot;
  rows.push({
    name: `TOTAL (${snapshot.hosts.length} ${snapshot.hosts.length === 1 ? 'host' : 'hosts'})`,
    ip: '',
    downBps: totals.downBps,
    upBps: totals.upBps,
    downBytes: totals.downBytes,
    upBytes: totals.upBytes,
    downShare: null,
    upShare: null,
  });
  const table = renderTable(rows, USAGE_COLUMNS, Math.max(1, width));
  return snapshot.counters && snapshot.counters.length > 0 ? `${table}\n${renderCounters(snapshot.counters, width)}` : table;
}

const COUNTER_COLUMNS: readonly Column<CounterUsage>[] = [
  { header: 'COUNTER', value: (c) => c.name, maxWidth: 32, priority: 10 },
  { header: 'MATCH', value: (c) => c.match, maxWidth: 60, priority: 4 },
  { header: 'RATE', value: (c) => formatRate(c.bps), align: 'right', priority: 9 },
  { header: 'TOTAL', value: (c) => formatBytes(c.bytes), align: 'right', priority: 8 },
  { header: 'PACKETS', value: (c) => String(c.packets), align: 'right', priority: 3 },
  { header: 'SINCE', value: (c) => (c.sinceMs === null ? '' : formatLocalTime(c.sinceMs)), priority: 2 },
];

/** The "Counters" section (issue 18, lantop counter add): totals since each counter's reset; `(not on the router)` when its rule was not read. */
export function renderCounters(counters: readonly CounterUsage[], width: number): string {
  const rows = counters.map((c) => (c.isCounted ? c : { ...c, name: `${c.name} (not on the router)` }));
  return `Counters\n${renderTable(rows, COUNTER_COLUMNS, Math.max(1, width))}`;
}
