// `lantop serve`'s live page in a real browser (issue 17, docs/web.md): Debian's chromium (headless,
// driven by playwright-core) opens / of a serve polling the emulated router, and must show every
// device (a hostile host name as text), see the numbers change from the event stream, draw the
// history chart, log no error (so no Content-Security-Policy violation), and make no request but to
// serve itself. With a token: /api needs it (401 without, 200 with the header), and the page opened
// with ?token= works.
// test-file-timeout: 150
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startEmulatedRouter, type EmulatedRouter } from '../src/emulator/index.js';
import { runCliAsync, spawnCli } from './helpers/run-cli.js';

const EVIL = '<img src=http://203.0.113.9/x onerror=alert(1)>';
const TOKEN = 'T0k3n_for-the-browser-test-0123456789';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function startServe(args: string[], env: Record<string, string>): Promise<{ child: ChildProcess; base: string; stderr: () => string }> {
  const child = spawnCli(args, env);
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout?.resume();
  for (let i = 0; i < 300 && child.exitCode === null; i++) {
    const m = /live page on (http:\/\/127\.0\.0\.1:\d+)\//.exec(stderr);
    if (m) return { child, base: m[1] ?? '', stderr: () => stderr };
    await sleep(50);
  }
  child.kill('SIGKILL');
  assert.fail(`serve did not start: ${stderr}`);
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** A page that records every request and every console error or warning. */
async function watchedPage(browser: Browser): Promise<{ page: Page; requests: string[]; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
  const requests: string[] = [];
  const problems: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  return { page, requests, problems };
}

/** Waits until `read` gives something `accept` takes (bounded). */
async function until<T>(read: () => Promise<T>, accept: (value: T) => boolean, what: string, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < end) {
    last = await read();
    if (accept(last)) return last;
    await sleep(200);
  }
  assert.fail(`${what}: not seen within ${timeoutMs} ms; last: ${JSON.stringify(last)?.slice(0, 1000)}`);
}

// Counts the painted pixels of the first canvas in the stacked chart (uPlot draws axes and series there).
const PAINTED_PIXELS = `(() => {
  const canvas = document.querySelector('#lantop-charts [data-chart] canvas') || document.querySelector('#lantop-charts canvas');
  if (!canvas || canvas.width === 0 || canvas.height === 0) return 0;
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let n = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) n++;
  return n;
})()`;

describe('the live page of lantop serve, in chromium', () => {
  let router: EmulatedRouter;
  let dir: string;
  let env: Record<string, string>;
  let cli: string[];
  let browser: Browser | null = null;
  let names: string[];

  before(async () => {
    router = await startEmulatedRouter({
      clock: 'real',
      churn: false,
      traffic: true,
      seed: 5,
      hosts: [{ hostname: EVIL, kind: 'laptop' }, { hostname: 'phone', kind: 'phone' }, { hostname: 'tv', kind: 'tv' }, { hostname: 'console', kind: 'laptop' }],
    });
    dir = mkdtempSync(join(tmpdir(), 'lantop-serve-page-'));
    env = { LANTOP_PASSWORD: router.password, LANTOP_CONFIG_DIR: join(dir, 'config'), LANTOP_DB: join(dir, 'history.sqlite') };
    cli = ['--host', router.host, '--port', String(router.port)];
    const setup = await runCliAsync([...cli, 'setup', '--yes'], env);
    assert.equal(setup.code, 0, setup.stderr);
    names = router.state.hosts.filter((h) => h.isOnline).map((h) => h.hostname);
    assert.equal(names.length, 4);
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  });
  after(async () => {
    await browser?.close();
    await router?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('shows every device, updates live, draws the chart, asks nothing of anyone else', { timeout: 60_000 }, async () => {
    const serve = await startServe([...cli, 'serve', '--listen', '127.0.0.1:0', '--interval', '500'], env);
    try {
      const { page, requests, problems } = await watchedPage(browser!);
      await page.goto(`${serve.base}/`, { waitUntil: 'load', timeout: 20_000 });
      const key = `${router.host}:${router.port}`;
      const table = page.locator(`section[data-router="${key}"] tbody`);
      const shown = await until(() => table.locator('td[data-field="name"]').allTextContents(), (n) => n.length === names.length, 'a row per device');
      assert.deepEqual([...shown].sort(), [...names].sort(), 'every device by its name, the hostile one as plain text');
      assert.equal(await page.locator('img').count(), 0, 'no markup from a host name');
      assert.match((await page.locator(`section[data-router="${key}"] .lantop-router-meta`).textContent()) ?? '', /Last update \d\d:\d\d:\d\d/);
      assert.equal(await page.locator(`section[data-router="${key}"] .lantop-router-state`).textContent(), 'live');

      // The totals grow from poll to poll (the emulator's traffic, every 500 ms).
      const totals = () => table.locator('td[data-field="down-total"]').allTextContents();
      const first = await totals();
      await until(totals, (now) => now.join('|') !== first.join('|'), 'a total that changes');
      await until(() => table.locator('td[data-field="down-rate"]').allTextContents(), (r) => r.some((t) => !/^0 B\/s$/.test(t)), 'a non-zero rate');

      // The history chart: canvases with pixels on them; then another period redraws.
      await page.waitForSelector('#lantop-charts canvas', { timeout: 15_000 });
      assert.ok(((await page.evaluate(PAINTED_PIXELS)) as number) > 100, 'the chart canvas is painted');
      await page.click('button[data-period="month"]');
      await until(() => page.locator('#lantop-chart-status').textContent(), (t) => /month/i.test(t ?? ''), 'the month tab loads');
      await page.waitForSelector('#lantop-charts canvas', { timeout: 10_000 });
      assert.ok(((await page.evaluate(PAINTED_PIXELS)) as number) > 100, 'the month chart is painted');

      const foreign = requests.filter((url) => !url.startsWith(`${serve.base}/`));
      assert.deepEqual(foreign, [], 'every request goes to serve itself');
      assert.ok(requests.some((url) => url.startsWith(`${serve.base}/events`)), 'the page listens to /events');
      assert.deepEqual(problems, [], 'no console error (no CSP violation)');
      await page.close();
    } finally {
      await stop(serve.child);
    }
  });

  test('with a token: /api needs it, and the page opened with ?token= works', { timeout: 60_000 }, async () => {
    const serve = await startServe([...cli, 'serve', '--listen', '127.0.0.1:0', '--interval', '500'], { ...env, LANTOP_SERVE_TOKEN: TOKEN });
    try {
      const api = `${serve.base}/api/usage`;
      assert.equal((await fetch(api)).status, 401);
      assert.equal((await fetch(api, { headers: { Authorization: 'Bearer wrong-token-wrong-token-000' } })).status, 401);
      const ok = await until(() => fetch(api, { headers: { Authorization: `Bearer ${TOKEN}` } }), (r) => r.status === 200, 'the first poll');
      const doc = (await ok.json()) as { schema: number; router: string; hosts: unknown[] };
      assert.equal(doc.schema, 1);
      assert.equal(doc.hosts.length, names.length);
      assert.equal((await fetch(`${serve.base}/api/report?period=today`, { headers: { 'X-Lantop-Token': TOKEN } })).status, 200);
      assert.equal((await fetch(`${serve.base}/events`)).status, 401);
      assert.equal((await fetch(`${serve.base}/metrics`)).status, 200, 'on loopback /metrics stays open');

      const { page, requests, problems } = await watchedPage(browser!);
      await page.goto(`${serve.base}/`, { waitUntil: 'load', timeout: 20_000 });
      await until(() => page.locator('#lantop-banner').textContent(), (t) => /needs the access token/.test(t ?? ''), 'the page without the token says what it needs');
      await page.goto(`${serve.base}/?token=${TOKEN}`, { waitUntil: 'load', timeout: 20_000 });
      await until(() => page.locator('section[data-router] tbody tr').count(), (n) => n === names.length, 'rows with the token');
      await page.waitForSelector('#lantop-charts canvas', { timeout: 15_000 });
      assert.deepEqual(requests.filter((url) => !url.startsWith(`${serve.base}/`)), []);
      // Only the 401s of the first visit (chromium logs a failed resource load as a console error).
      assert.deepEqual(problems.filter((p) => !/401/.test(p)), []);
      await page.close();
    } finally {
      await stop(serve.child);
    }
  });
});
