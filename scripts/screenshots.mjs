#!/usr/bin/env node
// The documentation's pictures (issue 17): docs/img/live-page.png (serve's live page) and
// docs/img/html-report.png (`report --html`), taken with Debian's chromium (headless, through
// playwright-core) from demo data: the emulated router on loopback, with four weeks of history
// seeded into a temporary database (the report shows all four weeks) (a deterministic daily pattern per device) so the charts have
// something to draw. Needs dist/ (npm run build) and /usr/bin/chromium. Nothing leaves the machine.
//
//   node scripts/screenshots.mjs        (or: npm run screenshots)
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const OUT = join(ROOT, 'docs', 'img');
const dist = (path) => import(pathToFileURL(join(ROOT, 'dist', path)).href);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const { startEmulatedRouter } = await dist('emulator/index.js');
const { Accountant } = await dist('domain/accounting.js');
const { HistoryStore } = await dist('store/history-store.js');

function run(args, env, { wait = true } = {}) {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  child.stdout.resume();
  if (!wait) return { child, stderr: () => stderr };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(stderr);
      else reject(new Error(`lantop ${args.join(' ')} exited ${code}: ${stderr}`));
    });
  });
}

/** Bytes per 5 minutes for a device: quiet nights, a busy evening, a per-device scale. */
function traffic(i, t) {
  const hour = new Date(t).getHours() + new Date(t).getMinutes() / 60;
  const evening = Math.exp(-((hour - 20.5) ** 2) / 6);
  const daytime = Math.exp(-((hour - 13) ** 2) / 10) * 0.4;
  const scale = [9, 5, 14, 3, 20, 1.5, 6, 0.2][i % 8];
  const wobble = (0.75 + 0.5 * Math.abs(Math.sin(t / 3_600_000 + i * 1.7))) * (0.55 + 0.9 * Math.abs(Math.sin(Math.floor(t / 86_400_000) * 1.3 + i)));
  const down = Math.round((evening + daytime + 0.02) * scale * wobble * 60e6);
  return [down, Math.round(down * (0.04 + 0.02 * (i % 3)))];
}

/** Four weeks (and at least this month) so far, a poll every 5 minutes, through the real Accountant into the store. */
function seedHistory(dbPath, key, hosts, nowMs) {
  const store = HistoryStore.open({ path: dbPath, hostname: 'screenshots', autoPrune: false });
  try {
    const month = new Date(nowMs);
    const startMs = Math.min(new Date(month.getFullYear(), month.getMonth(), 1).getTime(), nowMs - 28 * 86_400_000);
    const routerId = store.routerId(key, startMs);
    const holder = { id: 'screenshots', pid: process.pid, hostname: 'screenshots' };
    const acct = new Accountant({ linkBitsPerSecond: 1e12 });
    const raw = hosts.map(() => [0, 0]);
    let first = true;
    const stepMs = 5 * 60_000;
    for (let t = startMs; t < nowMs - 60_000; t += stepMs) {
      if (!first) hosts.forEach((_, i) => {
        const [d, u] = traffic(i, t);
        raw[i][0] += d;
        raw[i][1] += u;
      });
      store.tryAcquireLease(routerId, holder, t, 10 * 60_000);
      const result = acct.process({
        atMs: t,
        counters: new Map(hosts.map((h, i) => [h.ip, { downBytes: raw[i][0], upBytes: raw[i][1] }])),
        hosts: hosts.map((h) => ({ ip: h.ip, mac: h.mac, hostname: h.hostname })),
        ...(first ? { newAddresses: hosts.map((h) => h.ip) } : {}),
      });
      first = false;
      store.recordPoll(routerId, holder.id, result, acct.exportState(), 10 * 60_000);
    }
    store.releaseLease(routerId, holder.id);
  } finally {
    store.close();
  }
}

const router = await startEmulatedRouter({ clock: 'real', churn: false, traffic: true, seed: 7 });
const dir = mkdtempSync(join(tmpdir(), 'lantop-screenshots-'));
let serve = null;
let browser = null;
try {
  mkdirSync(OUT, { recursive: true });
  const env = { LANTOP_PASSWORD: router.password, LANTOP_CONFIG_DIR: join(dir, 'config'), LANTOP_DB: join(dir, 'history.sqlite') };
  const base = ['--host', router.host, '--port', String(router.port)];
  const key = `${router.host}:${router.port}`;
  const hosts = router.state.hosts.filter((h) => h.isOnline);
  seedHistory(env.LANTOP_DB, key, hosts, Date.now());
  await run([...base, 'setup', '--yes'], env);

  serve = run([...base, 'serve', '--listen', '127.0.0.1:0', '--interval', '1000'], env, { wait: false });
  let url = null;
  for (let i = 0; i < 300 && url === null; i++) {
    url = /live page on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(serve.stderr())?.[1] ?? null;
    if (url === null) await sleep(50);
  }
  if (url === null) throw new Error(`serve did not start: ${serve.stderr()}`);

  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 }, deviceScaleFactor: 1 });
  page.on('request', (r) => {
    if (!r.url().startsWith(url) && !r.url().startsWith('file:') && !r.url().startsWith('data:')) throw new Error(`a request elsewhere: ${r.url()}`);
  });
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForSelector('section[data-router] tbody tr', { timeout: 20_000 });
  await page.waitForSelector('#lantop-charts canvas', { timeout: 20_000 });
  await sleep(5000); // a few polls: real rates
  await page.screenshot({ path: join(OUT, 'live-page.png'), fullPage: true });

  const report = join(dir, 'report.html');
  await run([...base, 'report', '--period', 'all', '--html', report], env);
  const reportPage = await browser.newPage({ viewport: { width: 1200, height: 900 }, deviceScaleFactor: 1 });
  await reportPage.route('**/*', (route) => (route.request().url().startsWith('file:') ? route.continue() : route.abort()));
  await reportPage.goto(pathToFileURL(report).href, { waitUntil: 'load' });
  await reportPage.waitForSelector('[data-chart] canvas', { timeout: 20_000 });
  await sleep(500);
  await reportPage.screenshot({ path: join(OUT, 'html-report.png'), fullPage: true });
  process.stderr.write(`screenshots: wrote ${join('docs', 'img', 'live-page.png')} and ${join('docs', 'img', 'html-report.png')}\n`);
} finally {
  await browser?.close();
  if (serve && serve.child.exitCode === null) {
    const exited = new Promise((resolve) => serve.child.once('exit', resolve));
    serve.child.kill('SIGTERM');
    await exited;
  }
  await router.close();
  rmSync(dir, { recursive: true, force: true });
}
