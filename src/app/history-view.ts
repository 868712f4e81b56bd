// The History screen's data (issue 17) for one router key of the history database: a period's
// per-row totals and its chart. Devices use the router's key (LiveRouterController); users mode
// (issue 18) the gateway's users key (usersHistoryKey), whose rows are the users.
import { lastHoursSpec, shiftedPeriod } from '../domain/periods.js';
import { GRANULARITY_MS } from '../domain/chart-resolution.js';
import { alignSeries, chartWindow } from '../domain/report-document-builder.js';
import { RouterError } from '../errors.js';
import { sanitizeText } from '../sanitize.js';
import type { HistoryStore } from '../store/history-store.js';
import { periodSpec } from './history-report.js';
import type { HistoryPeriod, HistoryQuery, HistoryView } from './types.js';

/** The History screen's `h` view: the last this many hours, per minute (issue 17). */
export const HISTORY_HOURS = 6;

/**
 * `query.offset` periods back, the total series and, when asked, one row's, at chart-resolution's
 * granularity for the period. Throws a RouterError without a database.
 */
export function loadHistoryView(store: HistoryStore | null, routerKey: string, nowMs: number, period: HistoryPeriod, query: HistoryQuery = {}): HistoryView {
  if (store === null) throw new RouterError('History is not available: no database.', 'Pass --db PATH or check the data directory is writable.');
  const offset = query.offset ?? 0;
  if (!Number.isInteger(offset)) throw new RangeError(`history offset must be an integer, got ${String(offset)}`);
  const spec = period === 'hours' ? lastHoursSpec(nowMs, HISTORY_HOURS) : periodSpec({ period });
  const range = shiftedPeriod(spec, nowMs, offset);
  const routerId = store.findRouter(routerKey);
  const report = routerId === null ? null : store.hostTotals(routerId, range.startMs, range.endMs);
  const { granularity, bucketStartsMs } = chartWindow(spec, range, report, nowMs);
  const first = bucketStartsMs[0];
  const last = bucketStartsMs[bucketStartsMs.length - 1];
  const seriesOf = (identity: string | null) =>
    alignSeries(routerId === null || first === undefined || last === undefined ? [] : store.series(routerId, identity, first, last + GRANULARITY_MS[granularity], granularity), bucketStartsMs);
  const rows = (report?.hosts ?? []).map((h) => ({ identity: h.identity, ip: h.ip, mac: h.mac, hostname: h.hostname === null ? null : sanitizeText(h.hostname, 255), downBytes: h.downBytes, upBytes: h.upBytes }));
  const identity = query.identity ?? null;
  const named = identity === null ? undefined : rows.find((r) => r.identity === identity);
  const counters = store.counters.query(routerKey, range.startMs, range.endMs).filter((c) => c.bytes > 0).sort((a, b) => b.bytes - a.bytes).map((c) => ({ name: sanitizeText(c.name, 40), bytes: c.bytes, packets: c.packets }));
  return {
    ...(counters.length > 0 ? { counters } : {}),
    period,
    startMs: range.startMs,
    endMs: range.endMs,
    rows,
    totals: report?.totals ?? { downBytes: 0, upBytes: 0 },
    offset,
    chart: {
      granularity,
      bucketStartsMs,
      total: seriesOf(null),
      device: identity === null ? null : { identity, name: sanitizeText(named?.hostname ?? named?.ip ?? identity, 64), ...seriesOf(identity) },
    },
  };
}
