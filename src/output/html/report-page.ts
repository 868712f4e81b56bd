// The HTML report (issue 17, docs/reports.md): one self-contained file from a ReportDocument — the
// period and router, totals per device and person (and per custom counter, issue 18), and the
// charts (uPlot and the document inlined, so the file opens with no network). Pure: the assets are handed in (app/report-assets.ts reads
// them). Tables are written here with every text escaped; the charts are drawn in the browser by
// REPORT_CHARTS_SCRIPT from the inlined JSON. A Content-Security-Policy forbids every fetch.

import type { ReportDocument } from '../../domain/report-document.js';
import { formatBytes, formatShare } from '../units.js';
import { REPORT_CHARTS_SCRIPT } from './report-charts-script.js';

export interface ReportAssets {
  uplotJs: string;
  uplotCss: string;
}

const HTML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

/**
 * JSON that is safe inside <script type="application/json">: `<`, `>` and `&` (so no `</script>` or
 * `<!--` can end or confuse the element) and U+2028/U+2029 are written as \u escapes. They can only
 * occur inside JSON strings, where the escapes mean the same characters: JSON.parse gives the value back.
 */
export function inlineJson(value: unknown): string {
  const text = JSON.stringify(value) ?? 'null';
  return text.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The browser script defining `window.lantopCharts = { render(container, doc) }`; uPlot must be loaded first. */
export function reportChartsScript(): string {
  return REPORT_CHARTS_SCRIPT;
}

/** Script or style text inlined into the page: nothing in it may close its element early. */
function inlineText(text: string, element: 'script' | 'style'): string {
  const closing = new RegExp(`</(${element})`, 'gi');
  return text.replace(closing, '<\\/$1').replace(/<!--/g, '<\\!--');
}

export const REPORT_CSS = `
.lantop-report { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d1d1f; max-width: 1100px; margin: 0 auto; padding: 16px 20px 40px; }
.lantop-report h1 { font-size: 1.5em; margin: 0 0 4px; }
.lantop-report h2 { font-size: 1.2em; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.lantop-report h3, .lantop-charts h3 { font-size: 1em; margin: 20px 0 6px; color: #444; }
.lantop-muted { color: #666; margin: 2px 0; }
.lantop-summary { display: flex; gap: 28px; flex-wrap: wrap; margin: 14px 0; }
.lantop-summary div { background: #f4f5f7; border-radius: 6px; padding: 8px 14px; }
.lantop-summary strong { display: block; font-size: 1.3em; }
.lantop-table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
.lantop-table th, .lantop-table td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eee; white-space: nowrap; }
.lantop-table td.lantop-name { white-space: normal; overflow-wrap: anywhere; max-width: 260px; }
.lantop-table th.num, .lantop-table td.num { text-align: right; }
.lantop-table tfoot td { font-weight: 600; border-top: 2px solid #ccc; }
.lantop-charts { min-height: 40px; }
.lantop-chart { margin: 6px 0 18px; }
.lantop-multiples { display: flex; flex-wrap: wrap; gap: 12px; }
.lantop-multiple { border: 1px solid #eee; border-radius: 6px; padding: 4px; }
.lantop-multiple .u-title { font-size: 12px; font-weight: 600; }
.lantop-empty { color: #666; font-style: italic; }
`;

/** Local date and time, YYYY-MM-DD HH:MM, in the zone of the process that writes the report. */
function localTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

function cells(values: ReadonlyArray<[string, string?]>, tag: 'td' | 'th'): string {
  return values.map(([text, cls]) => `<${tag}${cls ? ` class="${cls}"` : ''}>${escapeHtml(text)}</${tag}>`).join('');
}

function devicesTable(doc: ReportDocument): string {
  if (doc.devices.length === 0) return '<p class="lantop-empty">No device used the line in this period.</p>';
  const head = cells([['#', 'num'], ['Device'], ['Person'], ['Address'], ['MAC'], ['↓ Download', 'num'], ['↑ Upload', 'num'], ['Total', 'num'], ['Share', 'num']], 'th');
  const rows = doc.devices.map((d, i) => {
    const row = cells([[String(i + 1), 'num'], [d.name, 'lantop-name'], [d.person ?? ''], [d.ip ?? ''], [d.mac ?? ''], [formatBytes(d.downBytes), 'num'], [formatBytes(d.upBytes), 'num'], [formatBytes(d.downBytes + d.upBytes), 'num'], [formatShare(d.share), 'num']], 'td');
    return `<tr data-identity="${escapeHtml(d.identity)}">${row}</tr>`;
  });
  const t = doc.totals;
  const foot = cells([[''], [`All ${doc.hostCount} device${doc.hostCount === 1 ? '' : 's'}`], [''], [''], [''], [formatBytes(t.downBytes), 'num'], [formatBytes(t.upBytes), 'num'], [formatBytes(t.downBytes + t.upBytes), 'num'], [formatShare(t.downBytes + t.upBytes > 0 ? 1 : 0), 'num']], 'td');
  return `<table class="lantop-table" id="lantop-devices"><thead><tr>${head}</tr></thead><tbody>\n${rows.join('\n')}\n</tbody><tfoot><tr>${foot}</tr></tfoot></table>`;
}

function personsTable(doc: ReportDocument): string {
  if (doc.persons.length === 0) return '<p class="lantop-muted">No persons are saved for this router (<code>lantop person add NAME DEVICE…</code> groups devices).</p>';
  const head = cells([['Person'], ['Devices', 'num'], ['↓ Download', 'num'], ['↑ Upload', 'num'], ['Total', 'num'], ['Share', 'num']], 'th');
  const rows = doc.persons.map((p) => `<tr>${cells([[p.name, 'lantop-name'], [String(p.identities.length), 'num'], [formatBytes(p.downBytes), 'num'], [formatBytes(p.upBytes), 'num'], [formatBytes(p.downBytes + p.upBytes), 'num'], [formatShare(p.share), 'num']], 'td')}</tr>`);
  return `<table class="lantop-table" id="lantop-persons"><thead><tr>${head}</tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table>`;
}

/** The custom counters' section (issue 18), '' without counters: such a page is as before. */
function countersSection(doc: ReportDocument): string {
  const counters = doc.counters ?? [];
  if (counters.length === 0) return '';
  const head = cells([['Counter'], ['Bytes', 'num'], ['Packets', 'num']], 'th');
  const rows = counters.map((c) => `<tr title="${escapeHtml(`${c.bytes} bytes`)}">${cells([[c.name, 'lantop-name'], [formatBytes(c.bytes), 'num'], [String(c.packets), 'num']], 'td')}</tr>`);
  return `<section>
<h2>Custom counters</h2>
<table class="lantop-table" id="lantop-counters"><thead><tr>${head}</tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table>
<p class="lantop-muted">Bytes and packets in the period (<code>lantop counter add</code>); a chart per counter is under Charts.</p>
</section>
`;
}

function exactness(doc: ReportDocument): string {
  const { range, effective } = doc;
  if (effective.startMs === range.startMs && effective.endMs >= range.endMs - 60_000) return '';
  return `<p class="lantop-muted">Finer history was pruned: the totals are exact for ${escapeHtml(localTime(effective.startMs))} – ${escapeHtml(localTime(effective.endMs))}.</p>`;
}

/** The whole report as one HTML document that needs nothing but itself. */
export function renderReportHtml(doc: ReportDocument, assets: ReportAssets): string {
  const t = doc.totals;
  const shownEndMs = Math.min(doc.range.endMs, Math.max(doc.generatedAtMs, doc.range.startMs));
  const span = doc.period === 'all' || doc.period === 'custom' ? '' : ` (${localTime(doc.range.startMs)} – ${localTime(doc.range.endMs)})`;
  const title = `lantop report: ${doc.router}, ${doc.periodLabel}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="lantop">
<title>${escapeHtml(title)}</title>
<style>${inlineText(assets.uplotCss, 'style')}</style>
<style>${inlineText(REPORT_CSS, 'style')}</style>
</head>
<body>
<main class="lantop-report">
<header>
<h1>Traffic on ${escapeHtml(doc.router)}</h1>
<p class="lantop-period"><strong>${escapeHtml(doc.periodLabel)}</strong>${escapeHtml(span)}</p>
<p class="lantop-muted">Generated ${escapeHtml(localTime(doc.generatedAtMs))} by lantop from its history; charts per ${escapeHtml(doc.granularity)}, up to ${escapeHtml(localTime(shownEndMs))}.</p>
${exactness(doc)}
</header>
<section class="lantop-summary">
<div>↓ Download<strong>${escapeHtml(formatBytes(t.downBytes))}</strong></div>
<div>↑ Upload<strong>${escapeHtml(formatBytes(t.upBytes))}</strong></div>
<div>Devices<strong>${doc.hostCount}</strong></div>
</section>
<section>
<h2>Devices</h2>
${devicesTable(doc)}
</section>
<section>
<h2>Persons</h2>
${personsTable(doc)}
</section>
${countersSection(doc)}<section>
<h2>Charts</h2>
<div id="lantop-charts" class="lantop-charts"><noscript><p class="lantop-empty">The charts need JavaScript; the tables above hold the same totals.</p></noscript></div>
</section>
</main>
<script type="application/json" id="lantop-report-data">${inlineJson(doc)}</script>
<script>${inlineText(assets.uplotJs, 'script')}</script>
<script>${inlineText(REPORT_CHARTS_SCRIPT, 'script')}</script>
<script>
(function () {
  var doc = JSON.parse(document.getElementById('lantop-report-data').textContent);
  window.lantopCharts.render(document.getElementById('lantop-charts'), doc);
})();
</script>
</body>
</html>
`;
}
