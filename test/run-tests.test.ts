// scripts/run-tests.mjs against a tiny fixture suite in a temp dir (issue 13): a file that never
// exits is killed at its limit — with the processes it started, even detached ones — and named; a
// stuck test fails under its own name and location; filtering and the summary still work.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const RUNNER = new URL('../scripts/run-tests.mjs', import.meta.url).pathname;

// Never exits: a listening server, an interval, a detached child, and SIGTERM ignored (so the
// runner's SIGKILL backstop is needed, not only Node's own cancel of the file).
const HANG = `// test-file-timeout: 2
import { test } from 'node:test';
import { createServer } from 'node:net';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
test('leaves a server, an interval and a detached child behind', async () => {
  process.on('SIGTERM', () => undefined);
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  setInterval(() => undefined, 1000);
  const child = spawn('sleep', ['1000'], { detached: true, stdio: 'ignore' });
  writeFileSync(process.env.PIDS_FILE!, process.pid + ' ' + child.pid);
});
`;

// One test that would wait a minute; its own limit is 1 s. It ends cleanly once aborted.
const STUCK = `// test-timeout: 1
import { test } from 'node:test';
test('quick one', () => {});
test('waits for something that never comes', async (t) => {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 60_000);
    t.signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); });
  });
});
`;

const OK = `import { test } from 'node:test';
test('passes', () => {});
test('is skipped', { skip: true }, () => {});
`;

interface RunnerResult {
  code: number | null;
  stdout: string;
  elapsedMs: number;
}

function runRunner(roots: string, args: string[] = [], env: Record<string, string> = {}): Promise<RunnerResult> {
  const startedMs = Date.now();
  // NODE_TEST_CONTEXT marks a process as a file under a test runner; `node --test` there refuses to run.
  const { NODE_TEST_CONTEXT: _, ...outside } = process.env;
  const child = spawn(process.execPath, [RUNNER, ...args], {
    env: { ...outside, LANTOP_TEST_ROOTS: roots, LANTOP_TEST_KILL_GRACE_S: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
  return new Promise((resolve) => {
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, elapsedMs: Date.now() - startedMs });
    });
  });
}

/** Running (not gone, not a zombie: this container's init may not reap orphans). */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? '');
  } catch {
    return false;
  }
}

describe('scripts/run-tests.mjs', () => {
  let dir = '';
  let pidsFile = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'lantop-runner-'));
    pidsFile = join(dir, 'pids');
    writeFileSync(join(dir, 'hang.test.ts'), HANG);
    writeFileSync(join(dir, 'stuck.test.ts'), STUCK);
    writeFileSync(join(dir, 'ok.test.ts'), OK);
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('a file that never exits is killed at its limit, named, with all it started; the run fails', async () => {
    const run = await runRunner(dir, [], { PIDS_FILE: pidsFile });
    assert.equal(run.code, 1, run.stdout);
    assert.match(run.stdout, new RegExp(`^TIMEOUT: ${join(dir, 'hang.test.ts')} exceeded 2 s$`, 'm'));
    assert.ok(run.elapsedMs < 20_000, `took ${run.elapsedMs} ms`);
    const pids = readFileSync(pidsFile, 'utf8').trim().split(' ').map(Number);
    assert.equal(pids.length, 2);
    for (const pid of pids) assert.equal(isRunning(pid), false, `pid ${pid} outlived its file`);

    // The stuck test names itself, at its own location (not the preload's), and the file goes on.
    assert.match(run.stdout, /✖ waits for something that never comes \(\d+(\.\d+)?ms\)\n\s+'test timed out after 1000ms'/);
    assert.match(run.stdout, new RegExp(`test at \\S*stuck\\.test\\.ts:\\d+:\\d+\\n✖ waits for something`));
    assert.doesNotMatch(run.stdout, /test-default-timeout\.mjs/);

    const summary = /^(\d+) passed, (\d+) failed, (\d+) skipped \(3 files, [\d.]+ s\)$/m.exec(run.stdout);
    assert.ok(summary, run.stdout);
    // passed: ok's test, stuck's quick one, hang's test; failed: the hung file and the stuck test.
    assert.deepEqual(summary.slice(1).map(Number), [3, 2, 1]);
    const failedList = run.stdout.slice(run.stdout.indexOf('failed files (2):'));
    assert.match(failedList, new RegExp(`${join(dir, 'hang.test.ts')} — TIMEOUT: exceeded 2 s`));
    assert.match(failedList, new RegExp(`${join(dir, 'stuck.test.ts')} — 1 failed, exit 1`));
    assert.doesNotMatch(failedList, /ok\.test\.ts/);
    // The failed list repeats why each test failed, so a log's tail is enough to diagnose.
    assert.match(failedList, /✖ waits for something that never comes\n\s+location: '\S*stuck\.test\.ts:\d+:\d+'\n\s+error: 'test timed out after 1000ms'/);
  });

  test('an assertion failure is repeated at the end with its message, expected and actual', async () => {
    const failing = join(dir, 'assertion.test.ts');
    writeFileSync(failing, `import { test } from 'node:test';
import assert from 'node:assert/strict';
test('router vs oracle', () => { assert.deepEqual({ bytes: 1 }, { bytes: 2 }, 'counts for 198.51.100.10'); });
`);
    try {
      const run = await runRunner(dir, ['assertion.test']);
      assert.equal(run.code, 1, run.stdout);
      const failedList = run.stdout.slice(run.stdout.indexOf('failed files (1):'));
      assert.match(failedList, /✖ router vs oracle\n/);
      assert.match(failedList, /counts for 198\.51\.100\.10/);
      assert.match(failedList, /expected:\n\s+bytes: 2\n\s+actual:\n\s+bytes: 1/);
    } finally {
      rmSync(failing, { force: true });
    }
  });

  test('arguments filter the files; a green run needs at least one test', async () => {
    const filtered = await runRunner(dir, ['ok.test']);
    assert.equal(filtered.code, 0, filtered.stdout);
    assert.match(filtered.stdout, /^1 passed, 0 failed, 1 skipped \(1 files, [\d.]+ s\)$/m);

    const none = await runRunner(dir, ['no-such-file']);
    assert.equal(none.code, 1);
    assert.match(none.stdout, /no test files found matching no-such-file/);

    writeFileSync(join(dir, 'empty.test.ts'), '// no tests at all\nexport {};\n');
    const empty = await runRunner(dir, ['empty.test']);
    assert.equal(empty.code, 1, empty.stdout);
    assert.match(empty.stdout, /executed 0 tests; failing on purpose/);
  });
});
