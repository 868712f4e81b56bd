// test-file-timeout: 300 (measured ~20 s alone; waits for the machine-wide lab lock, up to 5 min)
// `lantop --mode users serve` against the gateway lab (issue 18, docs/users-mode.md "serve"): the
// REAL built CLI, from the root namespace, logs in to the gateway over SSH and serves on a loopback
// port of the kernel's choosing (`--listen 127.0.0.1:0`; the port is read from its "metrics … on
// http://127.0.0.1:PORT/metrics" line). alice and `_-odd-name$` push through their tunnels; at a
// quiet point `/metrics`' per-user counters equal lantop's own `/api/usage` document (the `usage
// --mode users --json` document of the same poll), and over a quiet phase they move by exactly the
// oracle's bytes (the quiet-point method of users-mode-e2e.test.ts). `/healthz` is 200.
// Needs root and the gateway lab's packages; otherwise skipped with one loud line.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { HOSTILE_USER, gatewaySkipReason, startGatewayLab, type GatewayLab, type GatewaySession } from './gateway-lab.js';
import { CLI_PATH } from './lantop-cli.js';
import { bytesOnlyOf, perUserDelta, perUserOf, usersCliArgs, usersCliEnv, type PerUser, type UsersDoc } from './users-cli.js';
import { sleep } from './run-command.js';

const labSkip = gatewaySkipReason();
const skip = labSkip !== false ? labSkip : existsSync(CLI_PATH) ? false : 'dist/cli.js is not built (npm run build)';

interface Scrape {
  /** lantop_users_last_poll_timestamp_seconds{router} × 1000. */
  pollMs: number;
  totals: PerUser;
  sessions: Record<string, number>;
  routers: Set<string>;
  text: string;
}

/** Prometheus text → the users' series (label values as written: `\\`, `\"`, `\n` escapes undone). */
function parseScrape(text: string): Scrape {
  const totals: PerUser = {};
  const sessions: Record<string, number> = {};
  const routers = new Set<string>();
  let pollMs = Number.NaN;
  const unescape = (v: string) => v.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
  for (const line of text.split('\n')) {
    const m = /^(lantop_users?_[a-z_]+)\{(.*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...m[2]!.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, unescape(l[2]!)]));
    const value = Number(m[3]);
    if (labels['router'] !== undefined) routers.add(labels['router']);
    if (m[1] === 'lantop_users_last_poll_timestamp_seconds') pollMs = Math.round(value * 1000);
    const user = labels['user'];
    if (user === undefined) continue;
    const t = (totals[user] ??= { downBytes: 0, upBytes: 0 });
    if (m[1] === 'lantop_user_download_bytes_total') t.downBytes = value;
    if (m[1] === 'lantop_user_upload_bytes_total') t.upBytes = value;
    if (m[1] === 'lantop_user_sessions') sessions[user] = value;
  }
  return { pollMs, totals, sessions, routers, text };
}

describe('users-mode serve (gateway lab, real CLI)', { skip }, () => {
  let lab: GatewayLab;
  const dir = mkdtempSync(join(tmpdir(), 'lantop-users-serve-'));
  const sessions: GatewaySession[] = [];
  const measured: string[] = [];
  let serve: ChildProcessByStdio<null, Readable, Readable> | undefined;
  let serveStderr = '';
  let base = '';
  const users = () => lab.users.map((u) => u.name);
  const get = async (path: string) => {
    const response = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(10_000) });
    return { status: response.status, text: await response.text() };
  };
  const scrape = async () => {
    const r = await get('/metrics');
    assert.equal(r.status, 200, r.text);
    return parseScrape(r.text);
  };
  /** A scrape of a poll that began after `sinceMs`. */
  const pollAfter = async (sinceMs: number, what: string): Promise<Scrape> => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const s = await scrape();
      if (s.pollMs > sinceMs + 50) return s;
      if (Date.now() > deadline) throw new Error(`timed out waiting for a poll (${what}); serve said:\n${serveStderr}`);
      await sleep(200);
    }
  };
  /** /metrics and /api/usage of one and the same poll (scraped until the poll did not change between). */
  const consistent = async (): Promise<{ scrape: Scrape; usage: UsersDoc }> => {
    for (let i = 0; i < 20; i++) {
      const first = await scrape();
      const usage = await get('/api/usage');
      const second = await scrape();
      if (usage.status === 200 && first.pollMs === second.pollMs) {
        const doc = JSON.parse(usage.text) as UsersDoc;
        if (Math.abs(Date.parse(doc.at) - first.pollMs) <= 1) return { scrape: first, usage: doc };
      }
      await sleep(100);
    }
    throw new Error('no consistent /metrics + /api/usage pair in 20 tries');
  };
  const quiet = async (what: string): Promise<{ lantop: PerUser; oracle: PerUser; scrape: Scrape }> => {
    await lab.settle();
    const s = await pollAfter(Date.now(), what);
    const oracle = bytesOnlyOf(await lab.oracleByUser());
    await lab.resetOracle();
    return { lantop: s.totals, oracle, scrape: s };
  };
  const fill = (p: PerUser): PerUser => Object.fromEntries(users().map((u) => [u, p[u] ?? { downBytes: 0, upBytes: 0 }]));

  before(async () => {
    lab = await startGatewayLab();
    sessions.push(await lab.login(1, 'alice', { tunnel: 'D' }));
    sessions.push(await lab.login(2, HOSTILE_USER, { tunnel: 'L' }));
    const argv = usersCliArgs(CLI_PATH, lab.gatewayConsoleIp, dir, ['serve', '--listen', '127.0.0.1:0', '--interval', '1000']);
    const child = spawn(process.execPath, argv, { env: usersCliEnv(lab.root.password, dir), stdio: ['ignore', 'pipe', 'pipe'] });
    serve = child;
    child.stdout.on('data', (d: Buffer) => (serveStderr += `(stdout) ${d.toString()}`));
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not say where it listens:\n${serveStderr}`)), 30_000);
      child.stderr.on('data', (d: Buffer) => {
        serveStderr += d.toString();
        const m = /on http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(serveStderr);
        if (m) { clearTimeout(timer); resolve(Number(m[1])); }
      });
      child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`serve exited ${code}:\n${serveStderr}`)); });
    });
    assert.ok(port > 0 && port < 65536);
    base = `http://127.0.0.1:${port}`;
  });

  after(async () => {
    if (serve && serve.exitCode === null) {
      const done = new Promise<void>((resolve) => serve!.once('exit', () => resolve()));
      serve.kill('SIGTERM');
      const timer = setTimeout(() => serve?.kill('SIGKILL'), 10_000);
      await done;
      clearTimeout(timer);
    }
    for (const s of sessions) await s.end().catch(() => undefined);
    // The rules lantop left (serve does not tear down): out again with the CLI.
    if (lab) {
      await new Promise<void>((resolve) => {
        const t = spawn(process.execPath, usersCliArgs(CLI_PATH, lab.gatewayConsoleIp, dir, ['teardown', '--yes']), { env: usersCliEnv(lab.root.password, dir), stdio: 'ignore' });
        const timer = setTimeout(() => t.kill('SIGKILL'), 30_000);
        t.once('exit', () => { clearTimeout(timer); resolve(); });
      });
    }
    if (measured.length > 0) process.stderr.write(`users-serve e2e, measured:\n  ${measured.join('\n  ')}\n`);
    await lab?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('/healthz 200; /api/usage lists the users; /metrics labels the hostile name exactly', async () => {
    const counted = async () => {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const s = await scrape();
        if (s.sessions['alice'] === 1 && s.sessions[HOSTILE_USER] === 1) return s;
        if (Date.now() > deadline) throw new Error(`sessions not counted; last scrape:\n${s.text}\n${serveStderr}`);
        await sleep(250);
      }
    };
    const s = await counted();
    assert.deepEqual([...s.routers], [`${lab.gatewayConsoleIp}:22`]);
    assert.match(s.text, /^lantop_user_download_bytes_total\{router="198\.51\.100\.129:22",user="_-odd-name\$"\} \d+$/m);
    assert.match(s.text, /^lantop_user_upload_bytes_total\{router="198\.51\.100\.129:22",user="alice"\} \d+$/m);
    assert.doesNotMatch(s.text, /user="root"/);
    const health = await get('/healthz');
    assert.equal(health.status, 200, health.text);
    const usage = await get('/api/usage');
    assert.equal(usage.status, 200);
    const doc = JSON.parse(usage.text) as UsersDoc;
    assert.equal(doc.mode, 'users');
    assert.deepEqual(doc.users.filter((u) => u.sessions > 0).map((u) => u.user).sort(), [HOSTILE_USER, 'alice'].sort());
  });

  test('after pushes /metrics equals /api/usage, and over a quiet phase it moves by exactly the oracle\'s bytes', async () => {
    const [alice, odd] = sessions as [GatewaySession, GatewaySession];
    await lab.pushThroughTunnel(alice, { downBytes: 123_456, upBytes: 7_890 });
    const start = await quiet('the first quiet point');
    const same = await consistent();
    assert.deepEqual(fill(same.scrape.totals), fill(perUserOf(same.usage)), '/metrics totals = the usage document\'s');
    assert.ok(start.lantop['alice']!.downBytes > 123_456, 'the push before the phase is in alice\'s total');

    await lab.pushThroughTunnel(alice, { downBytes: 300_000, upBytes: 25_000 });
    await lab.pushThroughTunnel(odd, { downBytes: 8_000, upBytes: 160_000 });
    const point = await quiet('after the phase');
    const got = perUserDelta(start.lantop, point.lantop, users());
    measured.push(`serve /metrics over the phase: ${JSON.stringify(got)} oracle ${JSON.stringify(point.oracle)}`);
    assert.deepEqual(got, point.oracle);
    const end = await consistent();
    measured.push(`/metrics = /api/usage at the end: ${JSON.stringify(end.scrape.totals)}`);
    assert.deepEqual(fill(end.scrape.totals), fill(perUserOf(end.usage)));
    assert.equal((await get('/healthz')).status, 200);
  });
});
