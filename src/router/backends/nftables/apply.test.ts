// The `nft -f -` delivery: the lines run for real in dash, BusyBox ash and bash (no root; a stand-in
// program records what "nft" was fed) and feed exactly the plan's script within the line budget;
// nft's answers (real, fixtures/nftables/1.0.6/apply-errors.txt) become ApplyOutcomes naming the
// refused line; nothing but the planner's lines is ever sent.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFixture } from '../../../../test/fixtures.js';
import { LOCAL_SHELLS, NONCE, mark, scriptedRun } from '../../../../test/helpers/apply-plans.js';
import { applyNftScript, failedNftLine, isNftScriptLine, planNftDelivery } from './apply.js';
import { planNftInstall } from './plan.js';
import type { NftLayout } from './layouts.js';

const hosts = (n: number) => [...Array.from({ length: n }, (_, i) => `198.51.100.${1 + i}`), ...Array.from({ length: n }, (_, i) => `2001:db8:1::${(i + 1).toString(16)}`)];
const planFor = (layout: NftLayout, n: number) => planNftInstall(null, hosts(n), { wan: 'ppp0', layout, isPruning: false }).commands;

/** Each refusal of apply-errors.txt: the script, what nft said, its exit status. */
function refusals(): Array<{ title: string; script: string[]; said: string; status: string }> {
  const out = [];
  for (const block of readFixture('nftables/1.0.6/apply-errors.txt').split(/\n(?=\$ nft -f -)/)) {
    const m = /^\$ nft -f - <<'EOF' {2}# (.*)\n([\s\S]*?)\nEOF\n([\s\S]*?)\[exit (\d+)\]/.exec(block);
    if (m) out.push({ title: m[1]!, script: m[2]!.split('\n'), said: m[3]!.trimEnd(), status: m[4]! });
  }
  return out;
}

test('nft names the refused script line; lantop reads it (every refusal captured from nft 1.0.6)', () => {
  const all = refusals();
  assert.equal(all.length, 8);
  const lines = all.map((r) => failedNftLine(r.said));
  assert.deepEqual(lines, [1, 1, 2, 1, 2, 1, 1, 1]);
  for (const r of all) assert.equal(r.status, '1', r.title);
});

test('only the planner\'s lines pass: verb, object, `inet lantop`, a small alphabet', () => {
  for (const layout of ['dynamic-sets', 'static-sets', 'rules'] as const) assert.ok(planFor(layout, 20).every(isNftScriptLine));
  for (const line of ['flush ruleset', 'delete table inet fw4', 'add rule inet fw4 forward drop', "add element inet lantop dl4 { 1.2.3.4 }'; reboot; '", 'add element inet lantop dl4 { $(reboot) }', 'add rule inet lantop forward `reboot`', 'add set inet lantop x { type ipv4_addr; }\nflush ruleset', 'add table inet lantopx', 'list table inet lantop', 'add  table inet lantop', 'add rule inet lantop forward counter # comment', 'add element inet lantop dl4 { 1.2.3.4 } \\', 'add rule inet lantop forward meta mark set 0x1 %s']) {
    assert.equal(isNftScriptLine(line), false, line);
  }
});

test('a plan with anything else is not sent at all', async () => {
  const run = scriptedRun([]);
  const outcome = await applyNftScript(run, { nft: 'nft', maxLineBytes: 450, isShell: true, nonce: NONCE }, ['create table inet lantop', 'flush ruleset']);
  assert.equal(outcome.failed?.command, 'flush ruleset');
  assert.deepEqual(run.sent, []);
});

test('success: one transaction, every command applied and verified', async () => {
  const commands = planFor('dynamic-sets', 0);
  const delivery = planNftDelivery(commands, { nft: 'nft', maxLineBytes: 450, nonce: NONCE })!;
  const run = scriptedRun(delivery.lines.map((line, i) => ({ command: line, output: i === delivery.lines.length - 1 ? mark('r0') : '' })));
  const outcome = await applyNftScript(run, { nft: 'nft', maxLineBytes: 450, isShell: true, nonce: NONCE }, commands);
  run.assertDone();
  assert.deepEqual(outcome.applied, commands);
  assert.equal(outcome.failed, null);
  assert.equal(outcome.isVerified, true);
  assert.match(outcome.notes[0]!, /^applied 14 commands in one nft transaction \(\d round trips?\)$/);
});

test('refusal: nothing applied, the line nft named is the failed command, the words sanitised', async () => {
  const busy = refusals().find((r) => r.title.startsWith('delete of a set a rule still uses'))!;
  const commands = ['delete rule inet lantop forward handle 6', 'delete set inet lantop dl4'];
  const wrong = refusals().find((r) => r.title.startsWith('create of a table'))!;
  for (const [said, expected] of [[busy.said.replace('/dev/stdin:1:', '/dev/stdin:2:'), commands[1]], [wrong.said, commands[0]], ['\u001b[31mError: something else\u001b[0m', 'nft -f -']] as const) {
    const run = scriptedRun([{ command: /nft -f -/, output: `${said}\n${mark('r1')}` }]);
    const outcome = await applyNftScript(run, { nft: 'nft', maxLineBytes: 3000, isShell: true, nonce: NONCE }, commands);
    assert.deepEqual(outcome.applied, []);
    assert.equal(outcome.failed?.command, expected);
    assert.ok(!outcome.failed!.output.includes('\u001b'));
    assert.match(outcome.notes[0]!, /refused the script as a whole: nothing was changed/);
  }
});

test('printf failed (w) or no readable status: nothing claimed', async () => {
  const commands = planFor('rules', 3);
  for (const [output, note] of [[mark('w'), /could not print the nft script/], ['garbage', /could not read what nft answered/]] as const) {
    const run = scriptedRun([{ command: /nft -f -/, output }]);
    const outcome = await applyNftScript(run, { nft: 'nft', maxLineBytes: 3000, isShell: true, nonce: NONCE }, commands);
    assert.deepEqual(outcome.applied, []);
    assert.equal(outcome.isVerified, false);
    assert.match(outcome.notes[0]!, note);
  }
});

test('a shell that stores a piece and answers something: the pieces are forgotten, nothing applied', async () => {
  const commands = planFor('static-sets', 40);
  const delivery = planNftDelivery(commands, { nft: 'nft', maxLineBytes: 450, nonce: NONCE })!;
  assert.ok(delivery.lines.length > 1);
  const run = scriptedRun([{ command: delivery.lines[0]!, output: 'sh: syntax error' }, { command: '_C=', output: '' }]);
  const outcome = await applyNftScript(run, { nft: 'nft', maxLineBytes: 450, isShell: true, nonce: NONCE }, commands);
  run.assertDone();
  assert.deepEqual(outcome.applied, []);
});

test('no batching shell: one `nft \'…\'` per command, stopping at the first answer', async () => {
  const commands = planFor('dynamic-sets', 0);
  const run = scriptedRun([
    { command: "nft 'create table inet lantop'", output: '' },
    { command: /^nft 'add set inet lantop dl4 /, output: 'Error: Could not process rule: Operation not supported' },
  ]);
  const outcome = await applyNftScript(run, { nft: 'nft', maxLineBytes: 450, isShell: false, nonce: NONCE }, commands);
  run.assertDone();
  assert.deepEqual(outcome.applied, ['create table inet lantop']);
  assert.equal(outcome.failed?.command, commands[1]);
  assert.match(outcome.notes[0]!, /one by one/);
});

describe('the delivery lines in real shells', { skip: LOCAL_SHELLS.length === 0 ? 'no dash, busybox or bash here' : false }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'lantop-nft-apply-'));
  // Stands in for nft: keeps what it was fed; exits as told.
  const fake = join(dir, 'nft');
  writeFileSync(fake, `#!/bin/sh\n[ "$1 $2" = "-f -" ] || exit 9\ncat > ${dir}/fed\nexit "$(cat ${dir}/status 2>/dev/null || echo 0)"\n`);
  chmodSync(fake, 0o755);
  after(() => rmSync(dir, { recursive: true, force: true }));

  const runIn = (argv: readonly string[], lines: readonly string[]) => {
    const r = spawnSync(argv[0]!, [...argv.slice(1), lines.join('\n')], { encoding: 'utf8', timeout: 20_000 });
    return (r.stdout ?? '') + (r.stderr ?? '');
  };

  for (const shell of LOCAL_SHELLS) {
    for (const [layout, n, budget] of [['dynamic-sets', 0, 450], ['static-sets', 254, 450], ['rules', 254, 450], ['rules', 254, 972], ['static-sets', 30, 3000], ['rules', 3, 200]] as const) {
      test(`${shell.name}: ${layout}, ${n} hosts per family, ${budget}-byte lines: nft is fed exactly the script`, () => {
        const commands = planFor(layout, n);
        const delivery = planNftDelivery(commands, { nft: fake, maxLineBytes: budget, nonce: NONCE })!;
        assert.ok(delivery !== null);
        for (const line of delivery.lines) assert.ok(line.length <= budget, `${line.length} > ${budget}`);
        rmSync(join(dir, 'fed'), { force: true });
        writeFileSync(join(dir, 'status'), '0');
        const said = runIn(shell.argv, delivery.lines);
        assert.match(said, new RegExp(mark('r0')));
        assert.equal(readFileSync(join(dir, 'fed'), 'utf8'), delivery.script);
        assert.equal(delivery.script, commands.join('\n') + '\n');
        writeFileSync(join(dir, 'status'), '1');
        assert.match(runIn(shell.argv, delivery.lines), new RegExp(mark('r1')));
      });
    }

    test(`${shell.name}: a printf that fails means nft never runs (nft would commit a partial script)`, () => {
      const delivery = planNftDelivery(planFor('rules', 3), { nft: fake, maxLineBytes: 3000, nonce: NONCE })!;
      rmSync(join(dir, 'fed'), { force: true });
      // The same line with its first printf made to fail.
      const broken = delivery.lines[0]!.replace('_S=$(printf ', '_S=$(false&&printf ');
      const said = runIn(shell.argv, [broken]);
      assert.match(said, new RegExp(mark('w')));
      assert.equal(existsSync(join(dir, 'fed')), false);
    });
  }

  test('254 hosts of the rules layout fit a few lines: per-host lines fold into one printf format each', () => {
    const delivery = planNftDelivery(planFor('rules', 254), { nft: 'nft', maxLineBytes: 972, nonce: NONCE })!;
    assert.ok(delivery.lines.length <= 3, `${delivery.lines.length} lines`);
    assert.ok(delivery.script.length > 20_000);
  });
});
