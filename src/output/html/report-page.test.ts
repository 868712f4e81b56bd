// The HTML report page (issue 17): self-contained (no URL to fetch), the data round-trips through the
// inlined JSON, and router text can never become markup.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { ReportDocument } from '../../domain/report-document.js';
import { escapeHtml, inlineJson, renderReportHtml, reportChartsScript, REPORT_CSS } from './report-page.js';
import { loadReportAssets } from '../../app/report-assets.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2024, 2, 4);
const EVIL = '</script><img src=x onerror=alert(1)>';

function sampleDocument(names: string[] = [EVIL, 'laptop & "tablet"', 'tv']): ReportDocument {
  const buckets = [0, 1, 2].map((k) => T0 + k * HOUR);
  const devices = names.map((name, i) => ({
    identity: `aa:00:00:00:00:0${i}`,
    name,
    ip: `198.51.100.${10 + i}`,
    mac: `aa:00:00:00:00:0${i}`,
    downBytes: 3000 - i * 1000,
    upBytes: 300 - i * 100,
    share: (3300 - i * 1100) / 6600,
    person: i === 0 ? '<b>Eve</b>' : null,
    series: i < 2 ? { down: [null, 1000 - i * 300, 2000 - i * 700], up: [null, 100, 200 - i * 100] } : null,
  }));
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
    bucketStartsMs: buckets,
    totals: { downBytes: 6000, upBytes: 600 },
    totalSeries: { down: [null, 2700, 3300], up: [null, 200, 300] },
    devices,
    otherSeries: { down: [null, 0, 0], up: [null, 0, 0] },
    persons: [{ name: '<b>Eve</b>', identities: ['aa:00:00:00:00:00'], downBytes: 3000, upBytes: 300, share: 0.5 }],
    hostCount: names.length,
  };
}

describe('renderReportHtml', () => {
  const assets = loadReportAssets();
  const doc = sampleDocument();
  const html = renderReportHtml(doc, assets);

  test('names no URL at all: nothing to fetch, no src or href, a CSP that forbids fetching', () => {
    assert.doesNotMatch(html, /https?:\/\//i);
    assert.doesNotMatch(html, /\b(?:src|href|action|srcset|poster|data)\s*=\s*["']?\s*(?:[a-z][a-z0-9+.-]*:)?\/\//i);
    assert.doesNotMatch(html, /<(?:link|img|iframe|object|embed)\b/i);
    assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; /);
    assert.ok(html.includes(assets.uplotJs.slice(200, 400)), 'uPlot is inlined');
    assert.ok(html.includes(reportChartsScript()), 'the chart script is inlined as is');
    assert.ok(html.includes(REPORT_CSS));
  });

  test('the inlined JSON gives the document back', () => {
    const m = /<script type="application\/json" id="lantop-report-data">([\s\S]*?)<\/script>/.exec(html);
    assert.ok(m?.[1] !== undefined);
    assert.deepEqual(JSON.parse(m[1]), doc);
  });

  test('a hostile host name appears only escaped', () => {
    assert.ok(!html.includes('<img'), 'no img element');
    assert.ok(!html.includes('<b>Eve'), 'person names escaped');
    assert.ok(html.includes(escapeHtml(EVIL)), 'escaped in the table');
    assert.ok(html.includes('laptop &amp; &quot;tablet&quot;'));
    // Every </script> closes one of our four script elements.
    assert.equal(html.match(/<\/script/gi)?.length, 4);
    assert.equal(html.match(/<script\b/gi)?.length, 4);
  });

  test('the tables list every device and person with totals', () => {
    const rows = html.match(/<tr data-identity="[^"]*">/g) ?? [];
    assert.equal(rows.length, 3);
    assert.match(html, /<td>6\.00 kB<\/td>|<td class="num">6\.00 kB<\/td>/);
    assert.match(html, /id="lantop-persons"/);
    assert.match(html, /All 3 devices/);
  });

  test('an empty period still renders', () => {
    const empty = { ...sampleDocument([]), totals: { downBytes: 0, upBytes: 0 }, otherSeries: null, persons: [] };
    const page = renderReportHtml(empty, assets);
    assert.match(page, /No device used the line in this period/);
    assert.match(page, /No persons are saved/);
  });
});

describe('inlineJson', () => {
  test('JSON.parse gives the value back; never </script, <!-- or a raw U+2028/2029', () => {
    const tricky = fc.constantFrom('</script>', '<!--', '-->', '\u2028', '\u2029', '&amp;', '<', '>', '&', '"', '\\', '</SCRIPT ');
    const text = fc.array(fc.oneof(fc.string(), tricky, fc.string({ unit: 'binary' })), { maxLength: 6 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(fc.jsonValue(), text, (value, s) => {
        const input = { value, s, list: [s, value] };
        const out = inlineJson(input);
        assert.deepEqual(JSON.parse(out), JSON.parse(JSON.stringify(input)));
        assert.ok(!/<\/script/i.test(out));
        assert.ok(!out.includes('<!--'));
        assert.ok(!/[<>&\u2028\u2029]/.test(out));
      }),
      { numRuns: 500 },
    );
  });

  test('undefined becomes null', () => {
    assert.equal(inlineJson(undefined), 'null');
    assert.equal(inlineJson('\u2028</script>'), '"\\u2028\\u003c/script\\u003e"');
  });
});

test('escapeHtml escapes the five characters', () => {
  assert.equal(escapeHtml(`<a href="x" title='y'>&</a>`), '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
});
