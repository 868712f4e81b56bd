// test-file-timeout: 90
// Users-mode serve's live page in a real browser (issue 18): Debian's chromium (headless, through
// playwright-core) opens / of `runUsersServe` on a scripted gateway (users-gateway-fake.test.ts):
// the table's rows are the users, headed "User", counted as users, the hostile-looking name shown
// as text, and nothing is requested but serve itself. Skipped without /usr/bin/chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PassThrough } from 'node:stream';
import { chromium, type Browser } from 'playwright-core';
import { FakeUsersGateway, gatewayServices } from './users-gateway-fake.test.js';
import { runUsersServe } from './users-serve.js';

const skip = existsSync('/usr/bin/chromium') ? false : 'chromium is not installed (apt-get install chromium)';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('the users-mode live page lists users, says users, and stays on serve', { skip, timeout: 80_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lantop-users-page-'));
  const gateway = new FakeUsersGateway();
  gateway.login('alice', '203.0.113.10', 37680, 2001);
  gateway.login('_-odd-name$', '203.0.113.11', 39360, 2002);
  const services = gatewayServices(gateway, join(dir, 'h.sqlite'));
  let said = '';
  (services.io.stderr as PassThrough).on('data', (d: Buffer) => (said += d.toString()));
  const signals = new EventEmitter();
  const serving = runUsersServe(services, { listen: '127.0.0.1:0', interval: '500', signals });
  let browser: Browser | null = null;
  try {
    let base = '';
    for (let i = 0; i < 200 && base === ''; i++) {
      base = /live page on (http:\/\/127\.0\.0\.1:\d+)\//.exec(said)?.[1] ?? '';
      if (base === '') await sleep(50);
    }
    assert.notEqual(base, '', `serve did not start: ${said}`);
    for (let i = 0; !(gateway.rules().includes('pid:2001') && gateway.rules().includes('pid:2002')); i++) {
      assert.ok(i < 100, 'no session rules');
      await sleep(100);
    }
    gateway.count(2001, 120_000, 8_000);
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
    const page = await browser.newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(`${base}/`);
    await page.waitForFunction('document.querySelectorAll(".lantop-live-table tbody tr").length === 2', undefined, { timeout: 20_000 });
    const head = await page.$eval('.lantop-live-table thead th', (th) => th.textContent);
    assert.equal(head, 'User');
    const meta = await page.$eval('.lantop-router-meta', (p) => p.textContent ?? '');
    assert.match(meta, /· 2 users/);
    const names = await page.$$eval('.lantop-live-table tbody tr td:first-child', (tds) => tds.map((td) => td.textContent));
    assert.deepEqual([...names].sort(), ['_-odd-name$', 'alice']);
    const foot = await page.$eval('.lantop-live-table tfoot td', (td) => td.textContent);
    assert.equal(foot, 'All 2 users');
    for (const url of requests) assert.ok(url.startsWith(base), `request beyond serve: ${url}`);
  } finally {
    await browser?.close();
    signals.emit('SIGTERM');
    assert.equal(await serving, 0);
    rmSync(dir, { recursive: true, force: true });
  }
});
