// applyBatch against a scripted router (no I/O): the method it picks, what it sends, how it reads
// the answers and when it falls back. The lines run for real in shells in apply/restore-in-shells.test.ts,
// against real iptables-restore in apply-batch-netns.test.ts, and over the lab router in
// apply-batch-lab.test.ts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { applyBatch } from './apply-batch.js';
import type { RunCommand } from './method-result.js';
import { planRestoreDelivery } from './restore.js';
import { planShellBatch } from './shell-batch.js';
import { DEFAULT_MAX_LINE_BYTES } from '../../../firmware/line-budget.js';
import type { ApplyOutcome } from '../../../router-client.js';
import { planSetup } from '../plan.js';
import { BARE, NONCE, RESTORE_LINE, SHELL_TARGET, mark, planOptions, scriptedRun, setupCommands } from '../../../../../test/helpers/apply-plans.js';

describe('applyBatch (scripted router)', () => {
  // What a poll-time sync sends after a new host appeared: one line at the default budget.
  const commands = ['iptables -A TRAFFIC_DOWN -d 198.51.100.20 -m comment --comment lantop -j RETURN', 'iptables -A TRAFFIC_UP -s 198.51.100.20 -m comment --comment lantop -j RETURN', 'iptables -I FORWARD 1 -j TRAFFIC'];

  test('restore: one round trip, everything applied, method and trips reported; an ApplyOutcome', async () => {
    const run = scriptedRun([{ command: RESTORE_LINE, output: mark('r0') }]);
    const outcome = await applyBatch(run, SHELL_TARGET, commands, { nonce: NONCE });
    run.assertDone();
    const asApplyOutcome: ApplyOutcome = outcome; // the shape RouterClient.apply returns
    assert.deepEqual(asApplyOutcome.applied, commands);
    assert.equal(outcome.failed, null);
    assert.equal(outcome.isVerified, true);
    assert.equal(outcome.method, 'restore');
    assert.equal(outcome.roundTrips, 1);
    assert.deepEqual(outcome.notes, [`applied ${commands.length} commands in one iptables-restore transaction (1 round trip)`]);
  });

  test('restore refused at a line: that command is named, nothing applied, no fallback', async () => {
    const run = scriptedRun([{ command: /iptables-restore/, output: `iptables-nft-restore: line 4 failed: No chain/target/match by that name.\n${mark('r1')}` }]);
    const outcome = await applyBatch(run, SHELL_TARGET, commands, { nonce: NONCE });
    run.assertDone();
    assert.deepEqual(outcome.applied, []);
    assert.equal(outcome.failed?.command, commands[2]);
    assert.equal(outcome.failed?.problem?.kind, 'no-chain');
    assert.equal(outcome.failed?.output, 'iptables-nft-restore: line 4 failed: No chain/target/match by that name.');
    assert.deepEqual(outcome.notes, ['iptables-restore refused the plan as a whole: nothing was changed']);
  });

  test('the comment match missing (legacy wording) reaches the caller as no-extension on a tagged command', async () => {
    const run = scriptedRun([{ command: /iptables-restore/, output: `iptables-restore v1.4.21: Couldn't load match \`comment':No such file or directory\n\nError occurred at line: 3\nTry \`iptables-restore -h' or 'iptables-restore --help' for more information.\n${mark('r2')}` }]);
    const outcome = await applyBatch(run, SHELL_TARGET, commands, { nonce: NONCE });
    assert.equal(outcome.failed?.command, commands[1]);
    assert.ok(outcome.failed?.command.includes('--comment lantop'), 'a tagged command');
    assert.equal(outcome.failed?.problem?.kind, 'no-extension');
  });

  test('no iptables-restore after all: falls back to shell lines, says why', async () => {
    const run = scriptedRun([
      { command: /iptables-restore/, output: `sh: iptables-restore: not found\n${mark('r127')}` },
      ...planShellBatch(commands, { maxLineBytes: DEFAULT_MAX_LINE_BYTES, nonce: NONCE })!.map((l) => ({ command: l.line, output: mark(`a${l.commands.length}`) })),
    ]);
    const outcome = await applyBatch(run, SHELL_TARGET, commands, { nonce: NONCE });
    run.assertDone();
    assert.equal(outcome.method, 'shell-batch');
    assert.deepEqual(outcome.applied, commands);
    assert.match(outcome.notes[0]!, /^iptables-restore could not be started \(sh: iptables-restore: not found\): applying with the shell instead$/);
  });

  test('printf missing: iptables-restore got no input and exited 0 — not a success; shell lines', async () => {
    const run = scriptedRun([
      { command: RESTORE_LINE, output: `sh: printf: not found\n${mark('w')}\n${mark('r0')}` },
      ...planShellBatch(commands, { maxLineBytes: DEFAULT_MAX_LINE_BYTES, nonce: NONCE })!.map((l) => ({ command: l.line, output: mark(`a${l.commands.length}`) })),
    ]);
    const outcome = await applyBatch(run, SHELL_TARGET, commands, { nonce: NONCE });
    run.assertDone();
    assert.equal(outcome.method, 'shell-batch');
    assert.deepEqual(outcome.applied, commands);
    assert.equal(outcome.notes[0], 'the shell could not print the iptables-restore script (sh: printf: not found): applying with the shell instead');
  });

  test('a restore that stopped reading makes printf fail too: the refused line is still what counts', async () => {
    const run = scriptedRun([{ command: RESTORE_LINE, output: `iptables-restore: line 3 failed\n${mark('w')}\n${mark('r1')}` }]);
    const outcome = await applyBatch(run, SHELL_TARGET, commands, { nonce: NONCE });
    run.assertDone();
    assert.equal(outcome.method, 'restore');
    assert.equal(outcome.failed?.command, commands[1]);
  });

  test('a stored line the shell answers: _C is cleared, then shell lines', async () => {
    // 200 hosts scattered over three /24s: several stored lines at 450 bytes (60 hosts in a row fit
    // in one line since issue 21).
    const many = planSetup(BARE, Array.from({ length: 200 }, (_, i) => `198.51.${100 + (i % 3)}.${1 + 3 * (i % 80)}`), planOptions('split')).commands;
    const delivery = planRestoreDelivery(many, { restoreCommand: 'iptables-restore', maxLineBytes: DEFAULT_MAX_LINE_BYTES, nonce: NONCE })!;
    assert.ok(delivery.lines.length > 2, 'several lines');
    const batch = planShellBatch(many, { maxLineBytes: DEFAULT_MAX_LINE_BYTES, nonce: NONCE })!;
    const run = scriptedRun([
      { command: delivery.lines[0]!, output: '' },
      { command: delivery.lines[1]!, output: 'sh: syntax error: unterminated quoted string' },
      { command: '_C=', output: '' },
      ...batch.map((l) => ({ command: l.line, output: mark(`a${l.commands.length}`) })),
    ]);
    const outcome = await applyBatch(run, SHELL_TARGET, many, { nonce: NONCE });
    run.assertDone();
    assert.equal(outcome.method, 'shell-batch');
    assert.deepEqual(outcome.applied, many);
    assert.equal(outcome.notes[0], "the router's shell did not take the batch as sent (sh: syntax error: unterminated quoted string): applying with the shell instead");
  });

  test('shell lines: stops at the first failure, reports what was applied and which command failed', async () => {
    const many = setupCommands(20);
    const batch = planShellBatch(many, { maxLineBytes: DEFAULT_MAX_LINE_BYTES, nonce: NONCE })!;
    const run = scriptedRun([
      { command: batch[0]!.line, output: mark(`a${batch[0]!.commands.length}`) },
      { command: batch[1]!.line, output: `iptables: No chain/target/match by that name.\n${mark('a2')}` },
    ]);
    const outcome = await applyBatch(run, { ...SHELL_TARGET, restore: null }, many, { nonce: NONCE });
    run.assertDone();
    assert.deepEqual(outcome.applied, [...batch[0]!.commands, ...batch[1]!.commands.slice(0, 2)]);
    assert.equal(outcome.failed?.command, batch[1]!.commands[2]);
    assert.equal(outcome.failed?.problem?.kind, 'no-chain');
    assert.equal(outcome.isVerified, false);
    assert.match(outcome.notes.at(-1)!, /^applied \d+ commands before the failure \(2 round trips\)$/);
  });

  test('an unreadable answer claims nothing: neither applied nor "nothing changed"', async () => {
    const run = scriptedRun([{ command: RESTORE_LINE, output: 'Connection to the shell got confused' }]);
    const outcome = await applyBatch(run, SHELL_TARGET, commands, { nonce: NONCE });
    assert.deepEqual(outcome.applied, []);
    assert.equal(outcome.failed?.command, 'iptables-restore --noflush');
    assert.match(outcome.notes.at(-1)!, /could not read what iptables-restore answered/);
  });

  test('vendor CLI only: line by line where iptables runs, judged by text as before', async () => {
    const run = scriptedRun([
      { command: commands[0]!, output: '' },
      { command: commands[1]!, output: 'iptables: Chain already exists.' },
    ]);
    const outcome = await applyBatch(run, { iptables: { binary: 'iptables', where: 'cli' }, restore: null, isShell: false }, commands, { nonce: NONCE });
    run.assertDone();
    assert.equal(outcome.method, 'line-by-line');
    assert.deepEqual(outcome.applied, [commands[0]]);
    assert.equal(outcome.failed?.problem?.kind, 'chain-exists');
  });

  test('the shell commands go to the shell even when iptables lives in the CLI', async () => {
    const wheres: string[] = [];
    const run: RunCommand = async ({ command, where }) => {
      wheres.push(where);
      return RESTORE_LINE.test(command) ? mark('r0') : '';
    };
    await applyBatch(run, { iptables: { binary: 'iptables', where: 'cli' }, restore: { command: 'iptables-restore', where: 'shell' }, isShell: true }, commands, { nonce: NONCE });
    assert.deepEqual(wheres, ['shell']);
  });

  test('an empty plan sends nothing', async () => {
    const run = scriptedRun([]);
    const outcome = await applyBatch(run, SHELL_TARGET, []);
    run.assertDone();
    assert.deepEqual(outcome, { applied: [], failed: null, isVerified: true, notes: [], method: 'restore', roundTrips: 0 });
  });

  test('the nonce comes from node:crypto: 12 hex digits, different each time', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const run: RunCommand = async ({ command }) => {
        const nonce = /_r\$\?__"$/.test(command) ? /ST_([0-9a-f]{12})_r/.exec(command)![1]! : 'none';
        seen.add(nonce);
        return `__LTST_${nonce}_r0__`;
      };
      assert.equal((await applyBatch(run, SHELL_TARGET, commands)).failed, null);
    }
    assert.equal(seen.size, 3);
    assert.ok(![...seen].includes('none'), 'every line carried the nonce');
  });
});
