// `lantop report --html FILE` through the built binary (issue 17) against a history database this test
// records: the file is written whole (no temporary file left), says what was recorded, and the flags
// that cannot work together are refused. `--open` runs the desktop opener found on PATH, and a
// missing opener is a note, not a failure. Run `npx tsc -p tsconfig.json` first (dist/).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCliAsync } from './helpers/run-cli.js';
import { Harness, HOUR, identityOf, IPS, T0 } from './store/history-harness.js';
import { HistoryStore } from '../src/store/history-store.js';

const KEY = '198.51.100.1:23';

describe('report --html', () => {
  let dir = '';
  let db = '';
  let truth: Array<[number, number]> = [];
  const base = () => ['report', '--db', db, '--host', '198.51.100.1', '--port', '23', '--since', '2024-03-04T09:00Z', '--until', '2024-03-04T12:00Z'];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'lantop-report-cli-'));
    db = join(dir, 'history.sqlite');
    const store = HistoryStore.open({ path: db, hostname: 'testhost', autoPrune: false });
    try {
      const h = new Harness(store, T0 + 9 * HOUR, KEY);
      h.run(200, 20_000);
      store.quotas.addPerson(KEY, { name: 'Ana', identities: [identityOf(0)] }, h.clock.now());
      truth = IPS.map((_, i) => h.truth(identityOf(i), T0 + 9 * HOUR, T0 + 12 * HOUR));
    } finally {
      store.close();
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('writes one self-contained file with what was recorded', async () => {
    const out = join(dir, 'out', 'report.html');
    mkdirSync(join(dir, 'out'));
    writeFileSync(out, 'an older report'); // replaced whole
    const r = await runCliAsync([...base(), '--html', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^Report written to .*report\.html \(3 devices, period 2024-03-0[34] \d\d:\d\d → 2024-03-04 \d\d:\d\d\)\n$/);
    assert.deepEqual(readdirSync(join(dir, 'out')), ['report.html'], 'no temporary file left');
    const html = readFileSync(out, 'utf8');
    assert.match(html, /^<!DOCTYPE html>/);
    assert.doesNotMatch(html, /https?:\/\//);
    const json = /<script type="application\/json" id="lantop-report-data">([\s\S]*?)<\/script>/.exec(html)?.[1];
    assert.ok(json !== undefined);
    const doc = JSON.parse(json) as { router: string; totals: { downBytes: number; upBytes: number }; devices: Array<{ identity: string; downBytes: number; upBytes: number; person: string | null }> };
    assert.equal(doc.router, KEY);
    assert.deepEqual(doc.totals, { downBytes: truth.reduce((a, t) => a + t[0], 0), upBytes: truth.reduce((a, t) => a + t[1], 0) });
    for (let i = 0; i < IPS.length; i++) {
      const d = doc.devices.find((x) => x.identity === identityOf(i));
      assert.deepEqual([d?.downBytes, d?.upBytes], truth[i]);
      assert.ok(html.includes(`<td>${IPS[i]}</td>`), `${IPS[i]} in the table`);
    }
    assert.equal(doc.devices.find((x) => x.identity === identityOf(0))?.person, 'Ana');
  });

  test('- writes the page to stdout', async () => {
    const r = await runCliAsync([...base(), '--html', '-']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^<!DOCTYPE html>[\s\S]*<\/html>\n$/);
    assert.match(r.stderr, /^Report written to standard output \(3 devices/);
  });

  test('refused: a directory, --json or --csv with --html, --open without a file', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--html', dir], /is a directory/],
      [['--html', join(dir, 'x.html'), '--json'], /--html cannot be combined with --json/],
      [['--html', join(dir, 'x.html'), '--csv'], /--html cannot be combined with --csv/],
      [['--open'], /needs --html FILE/],
      [['--html', '-', '--open'], /--open needs a file/],
      [['--html', join(dir, 'missing', 'x.html')], /its directory does not exist/],
    ];
    for (const [args, message] of cases) {
      const r = await runCliAsync([...base(), ...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(existsSync(join(dir, 'x.html')), false);
    }
  });

  test('no history for the router: nothing written, exit 2', async () => {
    const out = join(dir, 'none.html');
    const r = await runCliAsync(['report', '--db', db, '--host', '198.51.100.2', '--port', '23', '--html', out]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /No history for 198\.51\.100\.2:23 yet; no report written/);
    assert.equal(existsSync(out), false);
  });

  test('--open runs the opener on PATH with the file; without one it says so and still succeeds', async () => {
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    const seen = join(dir, 'opened.txt');
    writeFileSync(join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s\\n' "$@" > '${seen}'\n`);
    chmodSync(join(bin, 'xdg-open'), 0o755);
    const out = join(dir, 'open me & see.html');
    const r = await runCliAsync([...base(), '--html', out, '--open'], { PATH: `${bin}:/usr/bin:/bin` });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Opening it with xdg-open\./);
    for (let i = 0; i < 100 && !existsSync(seen); i++) await sleep(50);
    assert.equal(readFileSync(seen, 'utf8'), `${out}\n`, 'one argument, no shell');

    const empty = join(dir, 'empty-bin');
    mkdirSync(empty);
    const none = await runCliAsync([...base(), '--html', join(dir, 'second.html'), '--open'], { PATH: empty });
    assert.equal(none.code, 0, none.stderr);
    assert.match(none.stderr, /Could not open it \(xdg-open was not found\); open .*second\.html in a browser yourself\./);
    assert.ok(existsSync(join(dir, 'second.html')));
  });
});
