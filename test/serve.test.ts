// `lantop serve` scraped over HTTP on loopback (issue 9): metric names and types, sanitised labels,
// values equal to the router's counters, a router reboot never makes the counter go down, and the
// default listener is bound to 127.0.0.1 only. The emulator runs here with a manual clock.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { startEmulatedRouter, type EmulatedRouter } from '../src/emulator/index.js';
import { runCliAsync, spawnCli } from './helpers/run-cli.js';

const HOSTILE = '\u001b[2J\u001b[31mpwned\u001b[0m' + 'y'.repeat(100);

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Minimal exposition-format reader (enough for our own output): name{l="v",…} value. */
function parseExposition(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1] ?? '', type[2] ?? '');
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `well-formed sample line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1] ?? ''] = (l[2] ?? '').replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    samples.push({ name: m[1] ?? '', labels, value: Number(m[3]) });
  }
  return { types, samples };
}

async function scrape(url: string): Promise<string> {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  return res.text();
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `accept` passes (bounded: `tries` × `gapMs`). */
async function scrapeUntil(url: string, accept: (s: Sample[], text: string) => boolean, tries = 100, gapMs = 100): Promise<{ samples: Sample[]; text: string; types: Map<string, string> }> {
  let last = '';
  for (let i = 0; i < tries; i++) {
    try {
      last = await scrape(url);
      const parsed = parseExposition(last);
      if (accept(parsed.samples, last)) return { ...parsed, text: last };
    } catch (error) {
      if (error instanceof assert.AssertionError) throw error;
    }
    await sleep(gapMs);
  }
  assert.fail(`condition not met after ${tries} scrapes; last exposition:\n${last.slice(0, 3000)}`);
}

/** Starts `lantop serve`, resolves with the URL it prints on stderr. */
async function startServe(args: string[], env: Record<string, string>): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const child = spawnCli(args, env);
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout?.resume();
  for (let i = 0; i < 200 && child.exitCode === null; i++) {
    const m = /(http:\/\/\S+)\/metrics/.exec(stderr);
    if (m) return { child, url: m[1] ?? '', stderr: () => stderr };
    await sleep(50);
  }
  child.kill('SIGKILL');
  assert.fail(`serve did not start: ${stderr}`);
}

async function stop(child: ChildProcess | undefined): Promise<number | null> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

function routerBytes(router: EmulatedRouter, ip: string, direction: 'down' | 'up'): number {
  // The tree layout (when chosen): downloads are counted in the TRAFFIC_DOWN_<k> chain of the host's
  // address group, uploads in TRAFFIC_UP_<k> (TRAFFIC_DOWN/UP themselves in the split layout).
  const base = direction === 'down' ? 'TRAFFIC_DOWN' : 'TRAFFIC_UP';
  const chains = router.state.iptables.tables.get('filter')?.chains.filter((c) => c.name === base || c.name.startsWith(`${base}_`)) ?? [];
  const rule = chains.flatMap((c) => c.rules).find((r) => {
    const address = direction === 'down' ? r.destination : r.source;
    const text = [address.address >>> 24, (address.address >>> 16) & 255, (address.address >>> 8) & 255, address.address & 255].join('.');
    return text === ip && address.mask === 0xffffffff;
  });
  return rule ? Number(rule.bytes) : 0;
}

describe('lantop serve', () => {
  let router: EmulatedRouter;
  let dir: string;
  let env: Record<string, string>;
  let base: string[];
  let child: ChildProcess | undefined;
  let ticker: NodeJS.Timeout | undefined;

  before(async () => {
    router = await startEmulatedRouter({
      clock: 'manual',
      churn: false,
      traffic: true,
      seed: 3,
      hosts: [{ hostname: HOSTILE, kind: 'laptop' }, { hostname: 'line\nbreak"quote\\', kind: 'phone' }, { hostname: 'tv', kind: 'tv' }],
    });
    dir = mkdtempSync(join(tmpdir(), 'lantop-serve-'));
    env = { LANTOP_PASSWORD: router.password, LANTOP_CONFIG_DIR: join(dir, 'config'), LANTOP_DB: join(dir, 'history.sqlite') };
    base = ['--host', router.host, '--port', String(router.port)];
    const setup = await runCliAsync([...base, 'setup', '--yes'], env);
    assert.equal(setup.code, 0, setup.stderr);
  });
  after(async () => {
    if (ticker) clearInterval(ticker);
    await stop(child);
    await router?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('serves counters equal to the router, sanitised labels, monotonic across a reboot', async () => {
    const serve = await startServe([...base, 'serve', '--listen', '127.0.0.1:0', '--interval', '500'], env);
    child = serve.child;
    const metricsUrl = `${serve.url}/metrics`;
    const ips = router.state.hosts.filter((h) => h.isOnline).map((h) => h.ip);
    assert.equal(ips.length, 3);

    // First snapshot before any traffic: lantop starts counting from the (zero) counters.
    await scrapeUntil(metricsUrl, (s) => s.some((x) => x.name === 'lantop_hosts' && x.value === 3));
    ticker = setInterval(() => router.tick(1000), 50);
    await scrapeUntil(metricsUrl, (s) => s.some((x) => x.name === 'lantop_host_bytes_total' && x.value > 0));
    clearInterval(ticker);
    ticker = undefined;

    // Frozen clock: the counters settle, and then equal the router's own rule counters.
    const expected = (ip: string, direction: 'down' | 'up') => routerBytes(router, ip, direction);
    const settled = await scrapeUntil(metricsUrl, (s) =>
      ips.every((ip) => (['down', 'up'] as const).every((d) => s.find((x) => x.name === 'lantop_host_bytes_total' && x.labels.ip === ip && x.labels.direction === d)?.value === expected(ip, d))),
    );
    const { types, samples, text } = settled;
    assert.equal(types.get('lantop_host_bytes_total'), 'counter');
    assert.equal(types.get('lantop_host_rate_bytes_per_second'), 'gauge');
    assert.equal(types.get('lantop_hosts'), 'gauge');
    assert.equal(types.get('lantop_up'), 'gauge');
    assert.equal(types.get('lantop_poll_duration_seconds'), 'histogram');
    assert.ok(types.has('process_cpu_user_seconds_total'), 'process default metrics');
    assert.ok(samples.some((x) => x.name === 'lantop_poll_duration_seconds_count' && x.value > 0));
    assert.equal(samples.find((x) => x.name === 'lantop_up')?.labels.router, `${router.host}:${router.port}`);
    assert.equal(samples.find((x) => x.name === 'lantop_up')?.value, 1);
    assert.ok(ips.some((ip) => expected(ip, 'down') > 0));

    // Labels: no escape sequences or control characters anywhere, hostnames capped at 64.
    assert.ok(!/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/.test(text), 'no control characters in the exposition');
    for (const s of samples.filter((x) => x.name === 'lantop_host_bytes_total')) {
      assert.ok([...(s.labels.hostname ?? '')].length <= 64, s.labels.hostname);
      assert.ok(!/[\u0000-\u001f]/.test(s.labels.hostname ?? ''), JSON.stringify(s.labels.hostname));
      assert.equal(s.labels.mac, router.state.hosts.find((h) => h.ip === s.labels.ip)?.mac);
    }
    const hostileIp = router.state.hosts.find((h) => h.hostname === HOSTILE)?.ip;
    const hostileLabel = samples.find((x) => x.name === 'lantop_host_bytes_total' && x.labels.ip === hostileIp)?.labels.hostname ?? '';
    assert.match(hostileLabel, /^pwnedy+…$/);

    // Reboot: the router's counters go to zero; lantop's counter must not go down, and grows on.
    const before = new Map(samples.filter((x) => x.name === 'lantop_host_bytes_total').map((x) => [`${x.labels.ip}/${x.labels.direction}`, x.value]));
    await router.reboot();
    ticker = setInterval(() => router.tick(1000), 50);
    const deadline = Date.now() + 20_000;
    let grew = false;
    while (Date.now() < deadline && !grew) {
      const now = parseExposition(await scrape(metricsUrl)).samples.filter((x) => x.name === 'lantop_host_bytes_total');
      for (const x of now) {
        const previous = before.get(`${x.labels.ip}/${x.labels.direction}`) ?? 0;
        assert.ok(x.value >= previous, `${x.labels.ip} ${x.labels.direction}: ${x.value} < ${previous} after reboot`);
      }
      grew = now.some((x) => x.value > (before.get(`${x.labels.ip}/${x.labels.direction}`) ?? 0));
      await sleep(100);
    }
    clearInterval(ticker);
    ticker = undefined;
    assert.ok(grew, 'counting resumed after the reboot');

    // Other paths: / links to /metrics, anything else is 404.
    const index = await fetch(`${serve.url}/`);
    assert.equal(index.status, 200);
    assert.match(index.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await index.text(), /href="\/metrics"/);
    assert.equal((await fetch(`${serve.url}/nope`)).status, 404);

    assert.equal(await stop(child), 0, 'SIGTERM → exit 0');
    child = undefined;
    assert.match(serve.stderr(), /stopping/);
  });

  test('the default listener is 127.0.0.1:9464, loopback only', async (t) => {
    const inUse = readFileSync('/proc/net/tcp', 'utf8').split('\n').some((l) => / [0-9A-F]{8}:24F8 [0-9A-F]{8}:0000 0A /.test(l));
    if (inUse) return t.skip('port 9464 is taken on this machine');
    const serve = await startServe([...base, 'serve'], env);
    child = serve.child;
    assert.equal(serve.url, 'http://127.0.0.1:9464');
    assert.doesNotMatch(serve.stderr(), /warning/);
    const listeners = [...readFileSync('/proc/net/tcp', 'utf8').split('\n'), ...readFileSync('/proc/net/tcp6', 'utf8').split('\n')]
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f[3] === '0A' && (f[1] ?? '').endsWith(':24F8'))
      .map((f) => f[1]);
    assert.deepEqual(listeners, ['0100007F:24F8'], 'one listener, on 127.0.0.1');
    assert.equal((await fetch('http://127.0.0.1:9464/')).status, 200);
    assert.equal(await stop(child), 0);
    child = undefined;
  });
});

test('serve --routers: one exporter for several saved routers, each with its own label and password', async () => {
  const a = await startEmulatedRouter({ clock: 'real', churn: false, seed: 11, password: 'pw-a' });
  const b = await startEmulatedRouter({ clock: 'real', churn: false, seed: 12, password: 'pw-b' });
  const dir = mkdtempSync(join(tmpdir(), 'lantop-serve-multi-'));
  let child: ChildProcess | undefined;
  try {
    const env = { LANTOP_CONFIG_DIR: join(dir, 'config'), LANTOP_DB: join(dir, 'history.sqlite'), LANTOP_PASSWORD_FLAT_A: 'pw-a', LANTOP_PASSWORD_FLAT_B: 'pw-b' };
    for (const [name, r, pw] of [['flat-a', a, 'pw-a'], ['flat-b', b, 'pw-b']] as const) {
      for (const [key, value] of [['host', r.host], ['port', String(r.port)]]) {
        const set = await runCliAsync(['--profile', name, 'config', 'set', key!, value!], env);
        assert.equal(set.code, 0, set.stderr);
      }
      const setup = await runCliAsync(['--profile', name, 'setup', '--yes'], { ...env, LANTOP_PASSWORD: pw });
      assert.equal(setup.code, 0, setup.stderr);
    }
    const missing = await runCliAsync(['serve', '--routers', 'flat-a,nope', '--listen', '127.0.0.1:0'], env);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no saved profile 'nope'/);
    const serve = await startServe(['serve', '--routers', 'flat-a,flat-b', '--listen', '127.0.0.1:0', '--interval', '500'], env);
    child = serve.child;
    const keys = [`${a.host}:${a.port}`, `${b.host}:${b.port}`];
    const { samples } = await scrapeUntil(`${serve.url}/metrics`, (s) => keys.every((k) => s.some((x) => x.name === 'lantop_up' && x.labels.router === k && x.value === 1) && s.some((x) => x.name === 'lantop_host_bytes_total' && x.labels.router === k && x.value > 0)));
    for (const k of keys) assert.ok(samples.some((x) => x.name === 'lantop_hosts' && x.labels.router === k && x.value > 0), k);
  } finally {
    await stop(child);
    await a.close();
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
