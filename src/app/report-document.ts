// The ReportDocument of one router and period (issue 17), asked from the history store: totals per
// device, the series of all devices and of the busiest few, the saved persons, and the router's
// custom counters (issue 18) with their bytes per bucket. The HTML report,
// serve's /api/report/document and the mails all build it here; domain/report-document-builder.ts
// turns the answers into the document.

import { resolvePeriod, type PeriodSpec } from '../domain/periods.js';
import type { SeriesPoint } from '../domain/report.js';
import type { ReportDocument } from '../domain/report-document.js';
import { GRANULARITY_MS } from '../domain/chart-resolution.js';
import { buildReportDocument, chartWindow, DEFAULT_SERIES_DEVICES, type ChartWindow, type CounterInput } from '../domain/report-document-builder.js';
import { counterKey } from '../domain/custom-counter.js';
import { reportCounterRows } from '../output/report-counters.js';
import type { HistoryStore } from '../store/history-store.js';

/** Null when the history has nothing for this router. */
export function loadReportDocument(store: HistoryStore, key: string, spec: PeriodSpec, nowMs: number, options: { seriesDevices?: number } = {}): ReportDocument | null {
  const routerId = store.findRouter(key);
  if (routerId === null) return null;
  const range = resolvePeriod(spec, nowMs);
  const report = store.hostTotals(routerId, range.startMs, range.endMs);
  const window = chartWindow(spec, range, report, nowMs);
  const { granularity, bucketStartsMs } = window;
  const first = bucketStartsMs[0];
  const last = bucketStartsMs[bucketStartsMs.length - 1];
  const seriesOf = (identity: string | null): SeriesPoint[] =>
    first === undefined || last === undefined ? [] : store.series(routerId, identity, first, last + GRANULARITY_MS[granularity], granularity);
  const limit = Math.max(0, Math.floor(options.seriesDevices ?? DEFAULT_SERIES_DEVICES));
  const deviceSeries = new Map<string, SeriesPoint[]>();
  for (const h of report.hosts.slice(0, limit)) deviceSeries.set(h.identity, seriesOf(h.identity));
  return buildReportDocument({
    router: key,
    spec,
    range,
    report,
    window,
    generatedAtMs: nowMs,
    totalSeries: seriesOf(null),
    deviceSeries,
    persons: store.quotas.listPersons(key),
    counters: countersOf(store, key, range, window),
  });
}

/**
 * The counters as the plain report lists them (output/report-counters.ts): those recorded in the
 * period, then the router's that counted nothing (0 B); each with its bytes per chart bucket.
 */
function countersOf(store: HistoryStore, key: string, range: { startMs: number; endMs: number }, window: ChartWindow): CounterInput[] {
  const listed = store.counters.list(key).map((c) => ({ name: c.counter.name, match: counterKey(c.counter) }));
  const rows = reportCounterRows(store.counters.query(key, range.startMs, range.endMs), listed);
  if (rows.length === 0) return [];
  const first = window.bucketStartsMs[0];
  const last = window.bucketStartsMs[window.bucketStartsMs.length - 1];
  const series =
    first === undefined || last === undefined
      ? new Map<string, never[]>()
      : store.counters.series(key, rows.map((r) => r.name), first, last + GRANULARITY_MS[window.granularity], window.granularity, store.availability());
  return rows.map((r) => ({ name: r.name, bytes: r.bytes, packets: r.packets, points: series.get(r.name) ?? [] }));
}
