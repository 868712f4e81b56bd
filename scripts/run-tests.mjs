#!/usr/bin/env node
// Collects every *.test.ts(x) under src/ and test/ and runs each file in its own
// `node --import tsx --test FILE` (Node 20's `--test DIR` finds no .ts files and sh has no recursive
// `**`, hence this script). A suite that cannot hang (issue 13): a file that outlives its time limit
// — e.g. a socket left open after its last test, as once held `npm test` for over five minutes — is
// killed with everything it started, named, and fails the run.
//
// Limits, in a file's first lines (seconds):
//   // test-file-timeout: 600   the whole file (default 120 s, LANTOP_TEST_FILE_TIMEOUT_S)
//   // test-timeout: 200        each test and hook without a timeout of its own or of its describe()
//                               (default 60 s, LANTOP_TEST_TIMEOUT_S; see test-default-timeout.mjs)
// Environment, for the runner's own test: LANTOP_TEST_ROOTS (comma-separated dirs, default src,test),
// LANTOP_TEST_KILL_GRACE_S (SIGTERM → SIGKILL, default 10).
// Files run one at a time: on the 2-core machine two at once were not faster (each file took about
// twice as long), and lab files queue on the machine-wide lab lock anyway, which their suite
// timeouts count.
// Arguments filter the files by substring: `node scripts/run-tests.mjs src/router transport-ssh`.
// A run that executes no test fails: a green run must mean something was checked.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));
const root = fileURLToPath(new URL('..', import.meta.url));
const preload = fileURLToPath(new URL('./test-default-timeout.mjs', import.meta.url));
const env = process.env;
const seconds = (value, fallback) => (Number(value) > 0 ? Number(value) : fallback);
const roots = (env['LANTOP_TEST_ROOTS'] ?? 'src,test').split(',').filter(Boolean).map((dir) => resolve(root, dir));
const defaultFileLimitS = seconds(env['LANTOP_TEST_FILE_TIMEOUT_S'], 120);
const defaultTestLimitS = seconds(env['LANTOP_TEST_TIMEOUT_S'], 60);
const killGraceMs = seconds(env['LANTOP_TEST_KILL_GRACE_S'], 10) * 1000;
const filter = process.argv.slice(2);

function collect(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...collect(path));
    else if (/\.test\.tsx?$/.test(name)) out.push(path);
  }
  return out;
}

/** How a file is named in the output: relative to the repo when inside it. */
function displayName(path) {
  const rel = relative(root, path);
  return rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

let files = roots.flatMap((dir) => collect(dir)).sort().map((path) => ({ path, name: displayName(path) }));
if (filter.length > 0) files = files.filter((file) => filter.some((pattern) => file.name.includes(pattern)));
if (files.length === 0) {
  console.error('run-tests: no test files found' + (filter.length ? ` matching ${filter.join(' ')}` : ''));
  process.exit(1);
}

/** `// test-file-timeout: N` and `// test-timeout: N` among the first 30 lines. */
function limitsOf(path) {
  const head = readFileSync(path, 'utf8').split('\n', 30).join('\n');
  const read = (key) => Number(new RegExp(`^//\\s*${key}:\\s*(\\d+)\\b`, 'm').exec(head)?.[1]) || undefined;
  const fileS = read('test-file-timeout') ?? defaultFileLimitS;
  return { fileS, testS: Math.min(read('test-timeout') ?? defaultTestLimitS, fileS) };
}

// ---------------------------------------------------------------------------------------------
// Process trees. A test may start processes in their own session or group (dropbear under unshare,
// tmux servers), which a group kill misses and which are reparented to init once their parent dies.
// So while a file runs, every descendant seen is remembered (pid + start time, against pid reuse),
// and at the end each one still alive is killed.

/** pid → { ppid, pgid, start } of live processes (zombies left out) from /proc; empty without /proc. */
function processTable() {
  const table = new Map();
  let entries = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return table;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // "pid (comm) state ppid pgrp session ... starttime(22nd)"; comm may hold spaces and parens.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z' || fields[0] === 'X') continue;
      table.set(Number(entry), { ppid: Number(fields[1]), pgid: Number(fields[2]), start: fields[19] });
    } catch {
      /* exited meanwhile */
    }
  }
  return table;
}

class ProcessTree {
  /** pid → start time of every process seen in the tree. */
  seen = new Map();
  constructor(rootPid) {
    this.rootPid = rootPid;
  }

  /** Remembers the current descendants of the root (and of anything seen before: orphans). */
  scan() {
    const table = processTable();
    const roots = new Set([this.rootPid, ...this.seen.keys()]);
    let grew = true;
    while (grew) {
      grew = false;
      for (const [pid, info] of table) {
        if (roots.has(pid) || !(roots.has(info.ppid) || info.pgid === this.rootPid)) continue;
        if (this.seen.has(pid) && this.seen.get(pid) !== info.start) continue;
        roots.add(pid);
        this.seen.set(pid, info.start);
        grew = true;
      }
    }
    if (table.has(this.rootPid) && !this.seen.has(this.rootPid)) this.seen.set(this.rootPid, table.get(this.rootPid).start);
    return table;
  }

  /** Remembered processes still running (same start time), with their process group. */
  alive() {
    const table = this.scan();
    return [...this.seen].filter(([pid, start]) => table.get(pid)?.start === start).map(([pid]) => ({ pid, pgid: table.get(pid).pgid }));
  }

  signal(signal) {
    const alive = this.alive();
    // The group is signalled too (it catches a process forked since the last scan), but only while
    // one of ours is in it: an empty group's id may belong to someone else by now.
    const targets = alive.some((p) => p.pgid === this.rootPid) ? [-this.rootPid] : [];
    for (const target of [...targets, ...alive.map((p) => p.pid)]) {
      try {
        process.kill(target, signal);
      } catch {
        /* gone */
      }
    }
  }

  /** SIGTERM (the lab removes its namespaces on it), up to `graceMs` to go, then SIGKILL. */
  async terminate(graceMs) {
    this.signal('SIGTERM');
    for (let waited = 0; waited < graceMs && this.alive().length > 0; waited += 100) await sleep(100);
    this.signal('SIGKILL');
  }
}

// ---------------------------------------------------------------------------------------------

const tapDir = mkdtempSync(join(tmpdir(), 'lantop-test-'));
const running = new Set();

/** TAP summary counts; a cancelled test (timed out) is a failed one. */
function countsOf(tap, path) {
  const count = (key) => Number(new RegExp(`^# ${key} (\\d+)$`, 'm').exec(tap)?.[1] ?? 0);
  // A file that declares no test is reported as one passing test named by its path: not a test.
  const isEmptyFile = tap.split('\n').includes(`ok 1 - ${path}`);
  const pseudo = isEmptyFile ? 1 : 0;
  return { tests: count('tests') - pseudo, passed: count('pass') - pseudo, failed: count('fail') + count('cancelled'), skipped: count('skipped') + count('todo') };
}

/**
 * The failed tests of a TAP report, innermost first, each with the first lines of its YAML block
 * (error, expected, actual, location): printed again at the end of the run, so a CI log's tail
 * says why, not only which file.
 */
export function failuresOf(tap) {
  const lines = tap.split('\n');
  const out = [];
  for (let i = 0; i < lines.length; i++) {
    const match = /^(\s*)not ok \d+ - (.*)$/.exec(lines[i]);
    if (!match) continue;
    const detail = [];
    for (let j = i + 1; j < lines.length && !/^\s*\.\.\.$/.test(lines[j]); j++) {
      const line = lines[j].trim();
      if (line === '---' || line.startsWith('duration_ms') || line.startsWith('type:')) continue;
      if (/^(failureType|code|name):/.test(line) || line.startsWith('stack:')) continue;
      detail.push(line);
    }
    if (detail.some((line) => line.startsWith("error: 'test failed'") || line.startsWith("error: '1 subtest failed'") || /subtests? failed/.test(line))) continue;
    out.push({ name: match[2], detail: detail.slice(0, 14) });
  }
  return out;
}

/** Runs one file; resolves with its result once it and everything it started are gone. */
function runFile(file, index) {
  const { fileS, testS } = limitsOf(file.path);
  const tapFile = join(tapDir, `${index}.tap`);
  const args = [
    '--import', 'tsx',
    '--import', preload,
    '--test',
    // Under --test Node 20 applies this to the whole file: a clean cancel with a summary at the
    // limit; the kill below is the backstop if that cancel cannot end the process.
    `--test-timeout=${fileS * 1000}`,
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=tap', `--test-reporter-destination=${tapFile}`,
    file.path,
  ];
  const startedMs = Date.now();
  // Own process group (detached), so the whole group can be signalled; stdin ignored because a
  // background group must not read the terminal.
  const child = spawn(process.execPath, args, {
    cwd: root,
    detached: true,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...env, LANTOP_TEST_TIMEOUT_MS: String(testS * 1000) },
  });
  const tree = new ProcessTree(child.pid);
  const entry = { file, tree };
  running.add(entry);
  const scanner = setInterval(() => tree.scan(), 1000);
  let isKilled = false;
  entry.kill = () => {
    isKilled = true;
    return tree.terminate(killGraceMs);
  };
  const backstop = setTimeout(() => void entry.kill(), fileS * 1000 + killGraceMs);

  return new Promise((done) => {
    child.once('exit', async (code, signal) => {
      const elapsedMs = Date.now() - startedMs;
      clearTimeout(backstop);
      clearInterval(scanner);
      // Whatever the file left running (a daemon, a detached child) dies with it.
      const leftovers = tree.alive().filter((p) => p.pid !== child.pid);
      if (leftovers.length > 0) await tree.terminate(killGraceMs);
      running.delete(entry);
      let tap = '';
      try {
        tap = readFileSync(tapFile, 'utf8');
      } catch {
        /* killed before the reporter wrote anything */
      }
      const counts = countsOf(tap, file.path);
      const failures = failuresOf(tap);
      const isTimedOut = isKilled || (code !== 0 && elapsedMs >= fileS * 1000);
      const isFailed = code !== 0 || signal !== null || isTimedOut || counts.failed > 0;
      const result = { ...file, fileS, elapsedMs, code, signal, counts, failures, isTimedOut, isFailed, leftovers: leftovers.length };
      if (isTimedOut) process.stdout.write(`\nTIMEOUT: ${file.name} exceeded ${fileS} s\n`);
      if (leftovers.length > 0 && !isTimedOut) process.stdout.write(`\nLEFTOVER: ${file.name} left ${leftovers.length} process(es) running after it ended; killed\n`);
      done(result);
    });
  });
}

// Ctrl-C reaches only the runner's group: take the children down with it.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    await Promise.all([...running].map((entry) => entry.kill()));
    rmSync(tapDir, { recursive: true, force: true });
    process.exit(signal === 'SIGINT' ? 130 : 143);
  });
}

const startedMs = Date.now();
const results = [];
for (const [index, file] of files.entries()) results.push(await runFile(file, index));
rmSync(tapDir, { recursive: true, force: true });

const total = { tests: 0, passed: 0, failed: 0, skipped: 0 };
for (const result of results) {
  total.tests += result.counts.tests;
  total.passed += result.counts.passed;
  // A file that failed without a failed test (crashed, killed before its summary) counts once.
  total.failed += Math.max(result.counts.failed, result.isFailed ? 1 : 0);
  total.skipped += result.counts.skipped;
}
const wallS = ((Date.now() - startedMs) / 1000).toFixed(1);
const slowest = [...results].sort((a, b) => b.elapsedMs - a.elapsedMs).slice(0, 5);
console.log(`\n${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped (${results.length} files, ${wallS} s)`);
console.log(`slowest: ${slowest.map((r) => `${r.name} ${(r.elapsedMs / 1000).toFixed(1)} s`).join(', ')}`);
const failedFiles = results.filter((r) => r.isFailed);
if (failedFiles.length > 0) {
  console.log(`\nfailed files (${failedFiles.length}):`);
  for (const r of failedFiles) {
    const why = r.isTimedOut ? `TIMEOUT: exceeded ${r.fileS} s` : r.signal ? `killed by ${r.signal}` : `${r.counts.failed || 1} failed, exit ${r.code}`;
    console.log(`  ${r.name} — ${why}`);
    for (const failure of r.failures.slice(0, 5)) {
      console.log(`    ✖ ${failure.name}`);
      for (const line of failure.detail) console.log(`        ${line.slice(0, 300)}`);
    }
  }
  process.exit(1);
}
if (total.tests === 0) {
  console.error('run-tests: the runner executed 0 tests; failing on purpose');
  process.exit(1);
}
