// The ReportDocument of one router and period (issue 17), asked from the history store: totals per
// device, the series of all devices and of the busiest few, and the saved persons. The HTML report,
// serve's /api/report/document and the mails all build it here; domain/report-document-builder.ts
// turns the answers into the document.

import { resolvePeriod, type PeriodSpec } from '../domain/periods.js';
import type { SeriesPoint } from '../domain/report.js';
import type { ReportDocument } from '../domain/report-document.js';
import { GRANULARITY_MS } from '../domain/chart-resolution.js';
import { buildReportDocument, chartWindow, DEFAULT_SERIES_DEVICES } from '../domain/report-document-builder.js';
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
  });
}
