// The HTML report in a real browser (issue 17): Debian's chromium opens the file from disk and must
// make no request but the file itself, show every device in the table, draw every chart (pixels on
// the canvases, the busiest device's colour in the stacked chart), log no error, and redraw cleanly
// when render() is called again (as serve's live page does).
// test-file-timeout: 90
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { Harness, HOUR, IPS, MACS, T0 } from './store/history-harness.js';
import { HistoryStore } from '../src/store/history-store.js';
import { loadReportDocument } from '../src/app/report-document.js';
import { loadReportAssets } from '../src/app/report-assets.js';
import { renderReportHtml } from '../src/output/html/report-page.js';

const EVIL = '</script><img src=x onerror=alert(1)>';

/** The page's globals, typed just enough for the checks below (the project compiles without the DOM library). */
interface PageElement {
  textContent: string | null;
  width: number;
  height: number;
  getAttribute(name: string): string | null;
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement> & Iterable<PageElement>;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
}
interface PageGlobals {
  document: PageElement & { title: string; getElementById(id: string): PageElement | null };
  lantopCharts: { render(container: PageElement, doc: unknown): void };
}

test('the report opens offline, lists every device and draws its charts', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lantop-report-html-'));
  let browser: Browser | null = null;
  try {
    const store = HistoryStore.open({ path: join(dir, 'history.sqlite'), hostname: 'testhost', autoPrune: false });
    let html: string;
    let names: string[];
    try {
      const h = new Harness(store, T0 + 9 * HOUR, 'router-1');
      h.run(300, 20_000, { hosts: IPS.map((ip, i) => ({ ip, mac: MACS[i] ?? null, hostname: i === 0 ? EVIL : `host-${i}` })) });
      store.quotas.addPerson('router-1', { name: 'Ana', identities: [MACS[0] ?? ''] }, h.clock.now());
      const doc = loadReportDocument(store, 'router-1', { kind: 'custom', sinceMs: T0 + 9 * HOUR, untilMs: T0 + 11 * HOUR }, h.clock.now(), { seriesDevices: 2 });
      assert.ok(doc !== null);
      assert.ok(doc.otherSeries !== null);
      names = doc.devices.map((d) => d.name);
      html = renderReportHtml(doc, loadReportAssets());
    } finally {
      store.close();
    }
    const file = join(dir, 'report.html');
    writeFileSync(file, html);
    const url = pathToFileURL(file).href;

    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
    // Past the page's own Content-Security-Policy: the markup and scripts themselves must ask for nothing.
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 }, bypassCSP: true });
    const requests: string[] = [];
    const problems: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    await page.route('**/*', (route) => (route.request().url() === url ? route.continue() : route.abort()));
    await page.goto(url, { waitUntil: 'load', timeout: 20_000 });
    await page.waitForSelector('[data-chart="device"] canvas', { timeout: 10_000 });

    assert.deepEqual(requests, [url], 'no request but the file itself');
    assert.deepEqual(problems, []);

    const seen = await page.evaluate(() => {
      const { document } = globalThis as unknown as PageGlobals;
      const rows = [...document.querySelectorAll('#lantop-devices tbody tr')].map((tr) => tr.querySelector('td.lantop-name')?.textContent ?? '');
      const charts = [...document.querySelectorAll('[data-chart]')].map((box) => {
        const canvas = box.querySelector('canvas');
        if (!canvas) return { chart: box.getAttribute('data-chart'), painted: 0, blue: 0 };
        const ctx = canvas.getContext('2d');
        const data = ctx?.getImageData(0, 0, canvas.width, canvas.height).data ?? new Uint8ClampedArray();
        let painted = 0;
        let blue = 0;
        for (let i = 0; i < data.length; i += 4) {
          if ((data[i + 3] ?? 0) > 0) painted++;
          if (data[i] === 0x4e && data[i + 1] === 0x79 && data[i + 2] === 0xa7 && data[i + 3] === 255) blue++;
        }
        return { chart: box.getAttribute('data-chart'), painted, blue, pixels: canvas.width * canvas.height };
      });
      return { rows, charts, images: document.querySelectorAll('img').length, title: document.title };
    });
    assert.deepEqual(seen.rows, names, 'the table shows every device, names as text');
    assert.ok(seen.rows.includes(EVIL));
    assert.equal(seen.images, 0, 'the hostile name made no element');
    const kinds = seen.charts.map((c) => c.chart);
    assert.deepEqual(kinds, ['stacked-down', 'stacked-up', 'share', 'device', 'device', 'device'], 'two stacked, one share, two devices and "other"');
    for (const c of seen.charts) assert.ok(c.painted > 500, `${c.chart} has a drawing (${c.painted} px)`);
    const stacked = seen.charts[0];
    assert.ok(stacked !== undefined && stacked.blue > 2000, `the busiest device's area is filled (${stacked?.blue} px)`);

    // Redrawn with another document (serve's live page): the old charts go, nothing doubles.
    const after = await page.evaluate(() => {
      const { document, lantopCharts } = globalThis as unknown as PageGlobals;
      const container = document.getElementById('lantop-charts');
      const doc = JSON.parse(document.getElementById('lantop-report-data')?.textContent ?? 'null') as { devices: unknown[] };
      if (container === null) return -1;
      lantopCharts.render(container, { ...doc, devices: doc.devices.slice(0, 1), otherSeries: null });
      lantopCharts.render(container, doc);
      return container.querySelectorAll('canvas').length;
    });
    assert.equal(after, 6);
    assert.deepEqual(problems, []);
    assert.deepEqual(requests, [url]);
  } finally {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
