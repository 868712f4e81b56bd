// The HTML report's custom counters (issue 18): a "Custom counters" table (names escaped anyway)
// and the counters' series in the inlined JSON for the chart script; a document without counters
// has neither.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ReportDocument } from '../../domain/report-document.js';
import { escapeHtml, renderReportHtml, reportChartsScript } from './report-page.js';
import { loadReportAssets } from '../../app/report-assets.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2024, 2, 4);
const ODD = '<b>x</b>&"\'';

function documentOf(counters?: ReportDocument['counters']): ReportDocument {
  return {
    version: 1,
    router: '198.51.100.1:23',
    period: 'custom',
    periodLabel: '2024-03-04 → 2024-03-04',
    range: { startMs: T0, endMs: T0 + 3 * HOUR },
    effective: { startMs: T0, endMs: T0 + 3 * HOUR },
    generatedAtMs: T0 + 3 * HOUR,
    granularity: 'hour',
    bucketMs: HOUR,
    bucketStartsMs: [0, 1, 2].map((k) => T0 + k * HOUR),
    totals: { downBytes: 1000, upBytes: 100 },
    totalSeries: { down: [null, 400, 600], up: [null, 40, 60] },
    devices: [{ identity: 'aa:00:00:00:00:01', name: 'tv', ip: '198.51.100.10', mac: 'aa:00:00:00:00:01', downBytes: 1000, upBytes: 100, share: 1, person: null, series: { down: [null, 400, 600], up: [null, 40, 60] } }],
    otherSeries: null,
    persons: [],
    hostCount: 1,
    ...(counters === undefined ? {} : { counters }),
  };
}

const COUNTERS = [
  { name: 'ssh-in', bytes: 1_234_567, packets: 890, series: [null, 1_000_000, 234_567] },
  { name: ODD, bytes: 0, packets: 0, series: [null, 0, 0] },
];
const assets = loadReportAssets();
const dataOf = (html: string): ReportDocument => {
  const m = /<script type="application\/json" id="lantop-report-data">([\s\S]*?)<\/script>/.exec(html);
  assert.ok(m?.[1] !== undefined);
  return JSON.parse(m[1]) as ReportDocument;
};

test('a document with counters: the section lists each (escaped) with bytes and packets; the JSON carries their series', () => {
  const html = renderReportHtml(documentOf(COUNTERS), assets);
  assert.match(html, /<h2>Custom counters<\/h2>/);
  const table = /<table class="lantop-table" id="lantop-counters">([\s\S]*?)<\/table>/.exec(html)?.[1] ?? '';
  const rows = table.match(/<tr title="[^"]*">.*?<\/tr>/g) ?? [];
  assert.deepEqual(rows, [
    '<tr title="1234567 bytes"><td class="lantop-name">ssh-in</td><td class="num">1.23 MB</td><td class="num">890</td></tr>',
    `<tr title="0 bytes"><td class="lantop-name">${escapeHtml(ODD)}</td><td class="num">0 B</td><td class="num">0</td></tr>`,
  ]);
  assert.ok(!html.includes('<b>x</b>'), 'the name is escaped');
  assert.ok(html.indexOf('id="lantop-persons"') < html.indexOf('id="lantop-counters"') && html.indexOf('id="lantop-counters"') < html.indexOf('id="lantop-charts"'));
  const data = dataOf(html);
  assert.deepEqual(data.counters, COUNTERS);
  for (const c of data.counters ?? []) {
    assert.equal(c.series.length, data.bucketStartsMs.length, `${c.name}: one value per bucket`);
    assert.ok(c.series.every((v) => v === null || (Number.isSafeInteger(v) && v >= 0)));
  }
  assert.match(reportChartsScript(), /data-chart', 'counter'/, 'the script draws a chart per counter');
  assert.doesNotMatch(html, /https?:\/\//i, 'still no URL');
});

test('a document without counters (or with an empty list) has no counters section', () => {
  for (const doc of [documentOf(), documentOf([])]) {
    const html = renderReportHtml(doc, assets);
    assert.doesNotMatch(html, /<h2>Custom counters|id="lantop-counters"/);
    assert.match(html, /<\/section>\n<section>\n<h2>Charts<\/h2>/, 'the persons section is followed by the charts, as before');
  }
});
