#!/usr/bin/env node
// Collects every *.test.ts(x) under src/ and test/ and runs them with Node's test runner through tsx.
// Node 20's `--test DIR` finds no .ts files and sh has no recursive `**`, hence this script.
// A run that executes no test fails: a green run must mean something was checked.
import { readdirSync, statSync, readFileSync, mkdtempSync } from 'node:fs';
import { join, relative } from 'node:path';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const roots = ['src', 'test'];
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

let files = roots.flatMap((r) => collect(join(root, r))).map((f) => relative(root, f)).sort();
if (filter.length > 0) files = files.filter((f) => filter.some((pattern) => f.includes(pattern)));
if (files.length === 0) {
  console.error('run-tests: no test files found' + (filter.length ? ` matching ${filter.join(' ')}` : ''));
  process.exit(1);
}

const tapFile = join(mkdtempSync(join(tmpdir(), 'lantop-test-')), 'results.tap');
const args = [
  '--import', 'tsx',
  '--test',
  '--test-reporter=spec', '--test-reporter-destination=stdout',
  '--test-reporter=tap', `--test-reporter-destination=${tapFile}`,
  ...files,
];
const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit', env: process.env });
let tap = '';
try { tap = readFileSync(tapFile, 'utf8'); } catch { /* runner died before writing */ }
const count = (key) => Number((tap.match(new RegExp(`^# ${key} (\\d+)$`, "m")) ?? [])[1] ?? 0);
const tests = count('tests');
const passed = count('pass');
const failed = count('fail');
const skipped = count('skipped');
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
if (result.status !== 0) process.exit(result.status ?? 1);
if (tests === 0) {
  console.error('run-tests: the runner executed 0 tests; failing on purpose');
  process.exit(1);
}
