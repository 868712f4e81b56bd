// Custom counters in the ReportDocument (issue 18): totals and per-bucket bytes laid on the
// document's buckets, busiest first, pruned or unanswered buckets null; no counters, no field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PeriodReport } from './report.js';
import { buildReportDocument, counterDocs, type ChartWindow, type CounterInput, type ReportDocumentInput } from './report-document-builder.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2024, 2, 4);
const WINDOW: ChartWindow = { startMs: T0, endMs: T0 + 4 * HOUR, granularity: 'hour', bucketStartsMs: [0, 1, 2, 3].map((k) => T0 + k * HOUR) };
const REPORT: PeriodReport = {
  router: 'r',
  requested: { startMs: T0, endMs: T0 + 4 * HOUR },
  effective: { startMs: T0, endMs: T0 + 4 * HOUR },
  startPrecision: 'minute',
  endPrecision: 'minute',
  hosts: [],
  totals: { downBytes: 0, upBytes: 0 },
  hostCount: 0,
};
const input = (counters?: readonly CounterInput[]): ReportDocumentInput => ({
  router: '198.51.100.1:23',
  spec: { kind: 'custom', sinceMs: T0, untilMs: T0 + 4 * HOUR },
  range: { startMs: T0, endMs: T0 + 4 * HOUR },
  report: REPORT,
  window: WINDOW,
  generatedAtMs: T0 + 4 * HOUR,
  totalSeries: [],
  deviceSeries: new Map(),
  persons: [],
  ...(counters === undefined ? {} : { counters }),
});
const at = (k: number, bytes: number | null) => ({ startMs: T0 + k * HOUR, bytes });

test('counters: totals as given, series on the buckets (null where pruned or not answered), most bytes first then by name', () => {
  const doc = buildReportDocument(
    input([
      { name: 'dns-out', bytes: 300, packets: 3, points: [at(3, 100), at(1, 200)] },
      { name: 'ssh-in', bytes: 2 ** 40 + 7, packets: 9, points: [at(0, null), at(1, 2 ** 40), at(2, 0), at(3, 7), at(4, 55)] },
      { name: 'idle', bytes: 0, packets: 0, points: [0, 1, 2, 3].map((k) => at(k, 0)) },
      { name: 'alpha', bytes: 0, packets: 0, points: [] },
    ]),
  );
  assert.deepEqual(doc.counters, [
    { name: 'ssh-in', bytes: 2 ** 40 + 7, packets: 9, series: [null, 2 ** 40, 0, 7] },
    { name: 'dns-out', bytes: 300, packets: 3, series: [null, 200, null, 100] },
    { name: 'alpha', bytes: 0, packets: 0, series: [null, null, null, null] },
    { name: 'idle', bytes: 0, packets: 0, series: [0, 0, 0, 0] },
  ]);
  assert.deepEqual(JSON.parse(JSON.stringify(doc)), doc, 'JSON-safe');
});

test('no counters, or an empty list: the document has no counters field (as before issue 18)', () => {
  assert.equal('counters' in buildReportDocument(input()), false);
  assert.equal('counters' in buildReportDocument(input([])), false);
  assert.deepEqual(buildReportDocument(input([])), buildReportDocument(input()));
});

test('a name is sanitised anyway (names are lantop-validated, the document is shared)', () => {
  assert.deepEqual(counterDocs([{ name: 'a\u001b[31mb\u0007', bytes: 1, packets: 1, points: [] }], [T0]).map((c) => c.name), ['ab']);
});
