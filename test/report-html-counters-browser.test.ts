// The HTML report with custom counters (issue 18) in a real browser: Debian's chromium opens the file
// from disk, makes no request but the file itself, lists both counters in the "Custom counters"
// table and paints one chart per counter (pixels of the counter's colour on each canvas), with a
// clean console; the device charts are all still there.
// test-file-timeout: 90
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { Harness, HOUR, IPS, MACS, MIN, T0 } from './store/history-harness.js';
import { HistoryStore } from '../src/store/history-store.js';
import { makeCustomCounter, type CounterInput } from '../src/domain/custom-counter.js';
import { loadReportDocument } from '../src/app/report-document.js';
import { loadReportAssets } from '../src/app/report-assets.js';
import { renderReportHtml } from '../src/output/html/report-page.js';

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
  document: PageElement;
}

function counter(input: CounterInput) {
  const made = makeCustomCounter(input);
  assert.ok(made.counter, JSON.stringify(made.problems));
  return made.counter;
}

test('a report with two counters draws a chart for each, offline', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lantop-report-counters-html-'));
  let browser: Browser | null = null;
  try {
    const store = HistoryStore.open({ path: join(dir, 'history.sqlite'), hostname: 'testhost', autoPrune: false });
    let html: string;
    try {
      const h = new Harness(store, T0 + 9 * HOUR, 'router-1');
      h.run(200, 20_000, { hosts: IPS.map((ip, i) => ({ ip, mac: MACS[i] ?? null, hostname: `host-${i}` })) });
      store.counters.add('router-1', counter({ name: 'ssh-in', hook: 'input', inIf: 'ppp0', proto: 'tcp', dport: '22' }), T0);
      store.counters.add('router-1', counter({ name: 'dns-out', hook: 'output', proto: 'udp', dport: '53' }), T0);
      for (let m = 0; m < 60; m++) {
        store.counters.record('router-1', T0 + 9 * HOUR + m * MIN, new Map([['ssh-in', { bytes: 50_000 + 1000 * m, packets: 40 }], ['dns-out', { bytes: m % 5 === 0 ? 9000 : 1500, packets: 6 }]]));
      }
      const doc = loadReportDocument(store, 'router-1', { kind: 'custom', sinceMs: T0 + 9 * HOUR, untilMs: T0 + 11 * HOUR }, h.clock.now());
      assert.ok(doc !== null);
      assert.deepEqual(doc.counters?.map((c) => c.name), ['ssh-in', 'dns-out']);
      html = renderReportHtml(doc, loadReportAssets());
    } finally {
      store.close();
    }
    const file = join(dir, 'report.html');
    writeFileSync(file, html);
    const url = pathToFileURL(file).href;

    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
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
    await page.waitForSelector('[data-chart="counter"] canvas', { timeout: 10_000 });

    const seen = await page.evaluate(() => {
      const { document } = globalThis as unknown as PageGlobals;
      const rows = [...document.querySelectorAll('#lantop-counters tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? ''));
      // The palette's first two colours: ssh-in is #4e79a7, dns-out #f28e2b.
      const colours = [[0x4e, 0x79, 0xa7], [0xf2, 0x8e, 0x2b]];
      const charts = [...document.querySelectorAll('[data-chart]')].map((box) => ({ chart: box.getAttribute('data-chart'), title: box.querySelector('.u-title')?.textContent ?? '', canvas: box.querySelector('canvas') }));
      const counters = charts
        .filter((c) => c.chart === 'counter')
        .map((c, i) => {
          const canvas = c.canvas;
          const data = canvas?.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data ?? new Uint8ClampedArray();
          const [r, g, b] = colours[i] ?? [0, 0, 0];
          let painted = 0;
          let own = 0;
          for (let k = 0; k < data.length; k += 4) {
            if ((data[k + 3] ?? 0) > 0) painted++;
            if (data[k] === r && data[k + 1] === g && data[k + 2] === b && data[k + 3] === 255) own++;
          }
          return { title: c.title, painted, own };
        });
      return { rows, kinds: charts.map((c) => c.chart), counters };
    });
    assert.deepEqual(requests, [url], 'no request but the file itself');
    assert.deepEqual(problems, []);
    assert.deepEqual(seen.rows.map((r) => r[0]), ['ssh-in', 'dns-out']);
    assert.deepEqual(seen.rows[0]?.slice(1), ['4.77 MB', '2400']);
    assert.deepEqual(seen.kinds, ['stacked-down', 'stacked-up', 'share', 'device', 'device', 'device', 'counter', 'counter']);
    assert.deepEqual(seen.counters.map((c) => c.title), ['ssh-in – 4.77 MB', 'dns-out – 180 kB']);
    for (const c of seen.counters) {
      assert.ok(c.painted > 500, `${c.title}: a drawing (${c.painted} px)`);
      assert.ok(c.own > 50, `${c.title}: its line in its colour (${c.own} px)`);
    }
  } finally {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
