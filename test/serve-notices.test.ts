// `lantop serve` prints what its quota enforcer does (issue 16): a quota crossing, the blocks it
// sets, one line each on stderr, router text sanitised, and a crossing not printed again on later
// checks. The real CLI (src/cli.ts under tsx) against the emulated router on loopback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulatedRouter } from '../src/emulator/index.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HOSTILE = '\u001b[2J\u001b[31mpwned\u001b[0m\nfake: line';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function lantop(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli.ts'), ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function runToEnd(args: string[], env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = lantop(args, env);
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout?.resume();
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  return { code, stderr };
}

test('serve prints quota crossings and blocks on stderr, sanitised, each once', async () => {
  const router = await startEmulatedRouter({ clock: 'real', churn: false, seed: 5, hosts: [{ hostname: HOSTILE, kind: 'laptop' }, { hostname: 'tv', kind: 'tv' }] });
  const dir = mkdtempSync(join(tmpdir(), 'lantop-serve-notices-'));
  let child: ChildProcess | undefined;
  try {
    const env = { LANTOP_PASSWORD: router.password, LANTOP_CONFIG_DIR: join(dir, 'config'), LANTOP_DB: join(dir, 'history.sqlite') };
    const base = ['--host', router.host, '--port', String(router.port)];
    const setup = await runToEnd([...base, 'setup', '--yes'], env);
    assert.equal(setup.code, 0, setup.stderr);
    const add = await runToEnd([...base, 'quota', 'add', 'line', '--limit', '1B', '--period', '1h', '--block'], env);
    assert.equal(add.code, 0, add.stderr);

    child = lantop([...base, 'serve', '--listen', '127.0.0.1:0', '--interval', '500'], env);
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdout?.resume();
    const key = `${router.host}:${router.port}`.replace(/\./g, '\\.');
    const blocked = new RegExp(`^warning: ${key}: .*blocked`, 'gm');
    // The first check runs after the first poll (nothing counted yet); the next 10 s later.
    for (let i = 0; i < 300 && (stderr.match(blocked) ?? []).length < 2 && child.exitCode === null; i++) await sleep(100);
    assert.match(stderr, new RegExp(`^warning: ${key}: .* at 80 % of the .*quota; .* used`, 'm'), stderr);
    assert.match(stderr, new RegExp(`^warning: ${key}: .* at 100 % of the .*quota`, 'm'));
    assert.equal((stderr.match(blocked) ?? []).length, 2, `both devices blocked, one line each:\n${stderr}`);
    assert.match(stderr, new RegExp(`^warning: ${key}: pwned\\S* \\([0-9a-f:]{17}\\) blocked`, 'm'), 'the hostile name without its escapes');
    assert.doesNotMatch(stderr, /^fake/m, 'no line of its own from a name');
    assert.doesNotMatch(stderr, /\u001b/);

    // A later check (10 s on) finds the crossings recorded: nothing is printed again.
    const printed = stderr;
    await sleep(11_000);
    assert.equal(stderr, printed, 'no repeats');
  } finally {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child!.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    await router.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
