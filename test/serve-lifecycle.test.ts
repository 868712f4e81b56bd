// `lantop serve` as a service runs it (issue 22, docs/service.md): the built CLI (dist/cli.js,
// `npm run build`) against the emulated router on loopback, with --log-format json. /healthz
// answers without a token and names no address; SIGHUP reloads the access token and the
// never-block list without a new login; SIGTERM takes a last poll, records it, releases the
// history lease, logs each step, and exits 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { startEmulatedRouter } from '../src/emulator/index.js';
import { HistoryStore } from '../src/store/history-store.js';
import { runCliAsync, spawnCli } from './helpers/run-cli.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface LogLine {
  time: string;
  level: string;
  router: string | null;
  event: string;
  message: string;
}

async function until<T>(what: string, probe: () => T | null | undefined | Promise<T | null | undefined>, dump: () => string, tries = 200, gapMs = 50): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const value = await probe();
    if (value !== null && value !== undefined) return value;
    await sleep(gapMs);
  }
  assert.fail(`${what} did not happen; output so far:\n${dump()}`);
}

test('serve: json log lines, /healthz, SIGHUP reload without a new login, SIGTERM records the last poll and exits 0', async () => {
  const router = await startEmulatedRouter({ clock: 'real', churn: false, seed: 9, hosts: [{ hostname: 'laptop', kind: 'laptop' }, { hostname: 'tv', kind: 'tv' }] });
  const dir = mkdtempSync(join(tmpdir(), 'lantop-serve-life-'));
  const env = { LANTOP_PASSWORD: router.password, LANTOP_CONFIG_DIR: join(dir, 'config'), LANTOP_DB: join(dir, 'history.sqlite') };
  const base = ['--host', router.host, '--port', String(router.port)];
  const key = `${router.host}:${router.port}`;
  let child: ChildProcess | undefined;
  try {
    const setup = await runCliAsync([...base, 'setup', '--yes'], env);
    assert.equal(setup.code, 0, setup.stderr);
    const loginsBefore = router.stats.logins;

    child = spawnCli([...base, 'serve', '--listen', '127.0.0.1:0', '--interval', '500', '--log-format', 'json'], env);
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const dump = () => `stdout:\n${stdout}\nstderr:\n${stderr}`;
    const lines = (): LogLine[] => stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as LogLine);
    const url = await until('listening', () => lines().map((l) => /(http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(l.message)?.[1]).find(Boolean), dump);
    for (const line of lines()) {
      assert.deepEqual(Object.keys(line), ['time', 'level', 'router', 'event', 'message']);
      assert.ok(!Number.isNaN(Date.parse(line.time)));
    }
    assert.equal(stderr, '', 'json mode: the log is on stdout, nothing on stderr');

    // /healthz: 200 once polled, no token needed, and no router or device address in it.
    const health = await until('a healthy /healthz', async () => {
      const res = await fetch(`${url}/healthz`);
      return res.status === 200 ? ((await res.json()) as { status: string; routers: Array<{ name: string; state: string; last_poll_age_seconds: number }> }) : null;
    }, dump);
    assert.equal(health.status, 'ok');
    assert.deepEqual(health.routers.map((r) => [r.name, r.state]), [['default', 'up']]);
    assert.ok(health.routers[0]!.last_poll_age_seconds < 30);
    const healthText = await (await fetch(`${url}/healthz`)).text();
    assert.doesNotMatch(healthText, /127\.0\.0\.1|\d+\.\d+\.\d+\.\d+|laptop|tv/);
    assert.equal((await fetch(`${url}/api/usage`)).status, 200, 'no token yet');

    // SIGHUP: a token made and a never-block entry saved meanwhile are picked up.
    const token = await runCliAsync(['serve', 'token'], env);
    assert.equal(token.code, 0, token.stderr);
    const set = await runCliAsync(['config', 'set', 'neverBlock', '02:00:5e:10:00:01'], env);
    assert.equal(set.code, 0, set.stderr);
    child.kill('SIGHUP');
    const reload = await until('the reload line', () => lines().find((l) => l.event === 'reload'), dump);
    assert.equal(reload.level, 'info');
    assert.match(reload.message, /^reloaded the access token, the never-block list of profile default, alert channels \(none configured\)/);
    assert.equal((await fetch(`${url}/api/usage`)).status, 401, 'the new token is required now');
    assert.equal((await fetch(`${url}/api/usage`, { headers: { authorization: `Bearer ${token.stdout.trim()}` } })).status, 200);
    assert.equal((await fetch(`${url}/healthz`)).status, 200, 'still polling: the session was kept');
    assert.equal(router.stats.logins, loginsBefore + 1, 'one login: serve did not reconnect on SIGHUP');
    assert.equal(child.exitCode, null, 'SIGHUP does not end it');
    await sleep(400);
    assert.equal(lines().filter((l) => l.event === 'reload').length, 1, 'one SIGHUP, one reload');
    // A setting the session depends on: logged as waiting for a restart, not applied.
    assert.equal((await runCliAsync(['config', 'set', 'wan', 'eth9'], env)).code, 0);
    child.kill('SIGHUP');
    await until('a second reload', () => (lines().filter((l) => l.event === 'reload').length === 3 ? true : null), dump);
    const [restart, second] = lines().filter((l) => l.event === 'reload').slice(1);
    assert.deepEqual(restart, { ...restart!, level: 'warn', router: key, message: 'profile default: wan changed; that applies when serve restarts (the session stays as it is)' });
    assert.match(second!.message, /^reloaded alert channels \(none configured\);/, 'nothing else taken');
    assert.equal((await fetch(`${url}/healthz`)).status, 200, 'still polling');

    // SIGTERM: a last poll after the signal, recorded; the lease released; exit 0.
    const signalledMs = Date.now();
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child?.kill('SIGKILL'), 15_000);
    const code = await exited;
    clearTimeout(timer);
    assert.equal(code, 0, dump());
    const events = lines().map((l) => l.event);
    assert.deepEqual(events.slice(-3), ['stopping', 'stopped', 'stopped'], dump());
    const routerStop = lines().find((l) => l.event === 'stopped' && l.router === key);
    assert.match(routerStop?.message ?? '', /^last poll recorded at \S+Z; history lease released$/, dump());
    const store = HistoryStore.open({ path: env.LANTOP_DB });
    try {
      const id = store.findRouter(key);
      assert.notEqual(id, null);
      const state = store.loadState(id!);
      assert.ok(state?.lastPollMs !== null && state!.lastPollMs! >= signalledMs, `the last poll (${state?.lastPollMs}) is after SIGTERM (${signalledMs})`);
      assert.equal(new Date(state!.lastPollMs!).toISOString(), /recorded at (\S+);/.exec(routerStop!.message)?.[1], 'the log says which poll');
      assert.equal(store.getLease(id!), null, 'the lease is released');
    } finally {
      store.close();
    }
  } finally {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await router.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('serve: text log lines on stderr as before; SIGINT stops it the same way', async () => {
  const router = await startEmulatedRouter({ clock: 'real', churn: false, seed: 4 });
  const dir = mkdtempSync(join(tmpdir(), 'lantop-serve-life-'));
  const env = { LANTOP_PASSWORD: router.password, LANTOP_CONFIG_DIR: join(dir, 'config'), LANTOP_DB: join(dir, 'history.sqlite') };
  let child: ChildProcess | undefined;
  try {
    child = spawnCli(['--host', router.host, '--port', String(router.port), 'serve', '--listen', '127.0.0.1:0', '--interval', '500'], env);
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const dump = () => `stdout:\n${stdout}\nstderr:\n${stderr}`;
    const url = await until('listening', () => /(http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(stderr)?.[1], dump);
    assert.match(stderr, /^lantop serve: metrics for .* on http:\/\/127\.0\.0\.1:\d+\/metrics \(Ctrl-C to stop\)$/m);
    await until('a poll', async () => ((await fetch(`${url}/healthz`)).status === 200 ? true : null), dump);
    child.kill('SIGHUP');
    await until('the reload line', () => (/^lantop serve: reloaded /m.test(stderr) ? true : null), dump);
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    assert.equal(await exited, 0, dump());
    assert.match(stderr, /^lantop serve: stopping$/m);
    assert.match(stderr, new RegExp(`^lantop serve: ${router.host.replace(/\./g, '\\.')}:${router.port}: last poll recorded at \\S+Z; history lease released$`, 'm'));
    assert.match(stderr, /^lantop serve: stopped$/m);
    assert.equal(stdout, '', 'text mode: nothing on stdout');
    assert.doesNotMatch(stderr, /^<\d>/m, 'no priority prefix outside the journal');
  } finally {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await router.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
