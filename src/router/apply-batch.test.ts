// applyBatch and its pure parts. Three layers of evidence:
//   1. pure: scripts, lines, markers, failure mapping (scripted `run`, no I/O);
//   2. the shell lines run for real in dash, BusyBox ash and bash (no root): they write exactly
//      the restore script, whatever the plan, and never exceed the line budget;
//   3. real iptables-restore, legacy and nf_tables, in a throwaway network namespace (root; skips
//      with one line otherwise, fails under LANTOP_REQUIRE_LAB=1 like the lab): the batch leaves
//      the same filter table, counters included, as the same commands run one by one — and the
//      --noflush semantics the module relies on (`:X` flushes, `-N X` fails, all or nothing);
//   4. the lab router over real telnet and SSH, with BusyBox ash's line editing (root).
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  applyBatch, failedScriptLine, foldScriptLines, parseIptablesCommand, planRestoreDelivery, planShellBatch, readMarker, toRestoreScript,
  maxLineBytesForShell, DEFAULT_MAX_LINE_BYTES, type BatchTarget, type RunCommand,
} from './apply-batch.js';
import type { ApplyOutcome } from './router-client.js';
import { planFlush, planSetup, planTeardown, type PlanOptions, type RuleLayout } from './rules.js';
import { parseIptablesListing } from './parsers/iptables-listing.js';
import type { IptablesListing } from './parsers/types.js';
import { labSkipReason, startLab } from '../../test/lab/lab.js';
import { connectTelnet, type TelnetSession } from '../transport/telnet.js';
import { connectSsh, type SshSession } from '../transport/ssh.js';
import { bootRuleset } from '../../test/lab/lab-model.js';

const NONCE = '0123456789ab';
const BARE: IptablesListing = { chains: [{ name: 'FORWARD', policy: 'ACCEPT', references: null, rules: [] }], warnings: [], errors: [] };
const hostIps = (n: number, first = 10) => Array.from({ length: n }, (_, i) => `198.51.100.${first + i}`);
const options = (layout: RuleLayout, iptables = 'iptables', isTagging = true): PlanOptions => ({ wan: 'ppp0', layout, isTagging, isAdopting: false, isPruning: false, iptables });
const setupCommands = (n: number, layout: RuleLayout = 'split', iptables = 'iptables') => planSetup(BARE, hostIps(n), options(layout, iptables)).commands;

const SHELL_TARGET: BatchTarget = { iptables: { binary: 'iptables', where: 'shell' }, restore: { command: 'iptables-restore', where: 'shell' }, isShell: true };

/** A scripted router: each step checks the command and answers; unexpected or missing steps fail. */
function scripted(steps: Array<{ expect: RegExp | ((command: string) => boolean); answer: (command: string) => string }>): RunCommand & { sent: string[]; assertDone(): void } {
  const sent: string[] = [];
  let next = 0;
  const run = (async ({ command }) => {
    sent.push(command);
    const step = steps[next++];
    if (!step) throw new Error(`unexpected command #${next}: ${command.slice(0, 200)}`);
    const ok = typeof step.expect === 'function' ? step.expect(command) : step.expect.test(command);
    if (!ok) throw new Error(`command #${next} did not match ${String(step.expect)}: ${command.slice(0, 200)}`);
    return step.answer(command);
  }) as RunCommand & { sent: string[]; assertDone(): void };
  run.sent = sent;
  run.assertDone = () => assert.equal(next, steps.length, `expected ${steps.length} commands, ${next} were sent`);
  return run;
}
const mark = (status: string) => `__LTST_${NONCE}_${status}__`;
const RESTORE_LINE = /\|iptables-restore --noflush 2>&1;echo "__LT""ST_0123456789ab_r\$\?__"(;_C=)?$/;

describe('parseIptablesCommand', () => {
  test('reads every command the planner writes, with a bare name or a path', () => {
    const listing: IptablesListing = parseIptablesListing(
      'Chain FORWARD (policy ACCEPT 0 packets, 0 bytes)\nnum   pkts      bytes target     prot opt in     out     source               destination\n1        0        0 ACCEPT     all  --  *      *       0.0.0.0/0            0.0.0.0/0            state RELATED,ESTABLISHED\n2        0        0 TRAFFIC    all  --  *      *       0.0.0.0/0            0.0.0.0/0\n\nChain TRAFFIC (1 references)\nnum   pkts      bytes target     prot opt in     out     source               destination\n1        0        0            all  --  ppp0   *       0.0.0.0/0            198.51.100.10        /* lantop */\n',
    );
    const all = [
      ...planSetup(listing, hostIps(3), options('split', '/usr/sbin/iptables')).commands,
      ...planSetup(BARE, hostIps(3), options('flat')).commands,
      ...planTeardown(listing, 'iptables'),
      ...planFlush(listing, 'iptables-legacy'),
    ];
    assert.ok(all.some((c) => c.includes('-F')) && all.some((c) => c.includes(' -D ')) && all.some((c) => c.includes(' -X ')), 'every kind of command is covered');
    for (const command of all) assert.notEqual(parseIptablesCommand(command), null, command);
    assert.deepEqual(parseIptablesCommand('/usr/sbin/iptables -A TRAFFIC_UP -s 198.51.100.10 -j RETURN'), {
      binary: '/usr/sbin/iptables', action: '-A', chain: 'TRAFFIC_UP', words: ['-A', 'TRAFFIC_UP', '-s', '198.51.100.10', '-j', 'RETURN'],
    });
  });

  test('refuses anything a shell or iptables-restore would read differently', () => {
    for (const bad of [
      'iptables -A TRAFFIC -s 1.2.3.4; reboot',
      'iptables -A TRAFFIC -m comment --comment "two words"',
      "iptables -A TRAFFIC -m comment --comment 'x'",
      'iptables -A TRAFFIC -s $(touch /tmp/x)',
      'iptables -A TRAFFIC -s `id`',
      'iptables -A TRAFFIC -m comment --comment a#b',
      'iptables -A TRAFFIC\n-X FORWARD',
      'iptables -A TRAFFIC\t-s 1.2.3.4',
      'iptables -t nat -A POSTROUTING -j MASQUERADE',
      'iptables -A TRAFFIC -s 1.2.3.4 -F',
      'iptables -L -v -x -n',
      'iptables -A',
      'ip6tables -A TRAFFIC -s ::1',
      'sh -c iptables',
      'iptables-restore --noflush',
      '',
    ]) assert.equal(parseIptablesCommand(bad), null, JSON.stringify(bad));
  });
});

describe('toRestoreScript', () => {
  test('the filter table, -N kept as a command (see the netns test), then COMMIT', () => {
    assert.equal(toRestoreScript(setupCommands(2)), [
      '*filter',
      '-N TRAFFIC',
      '-N TRAFFIC_DOWN',
      '-N TRAFFIC_UP',
      '-A TRAFFIC -i ppp0 -m comment --comment lantop -j TRAFFIC_DOWN',
      '-A TRAFFIC -o ppp0 -m comment --comment lantop -j TRAFFIC_UP',
      '-A TRAFFIC_DOWN -d 198.51.100.10 -m comment --comment lantop -j RETURN',
      '-A TRAFFIC_DOWN -d 198.51.100.11 -m comment --comment lantop -j RETURN',
      '-A TRAFFIC_UP -s 198.51.100.10 -m comment --comment lantop -j RETURN',
      '-A TRAFFIC_UP -s 198.51.100.11 -m comment --comment lantop -j RETURN',
      '-I FORWARD 1 -j TRAFFIC',
      'COMMIT',
      '',
    ].join('\n'));
  });

  test('null when one command cannot be expressed', () => {
    assert.equal(toRestoreScript(['iptables -N TRAFFIC', 'iptables -A TRAFFIC -s "x"']), null);
  });
});

describe('failedScriptLine', () => {
  // Texts seen from iptables 1.8.9 in the netns test below (and asserted there, live).
  test('legacy and nf_tables wordings', () => {
    assert.equal(failedScriptLine('iptables-restore: line 3 failed'), 3);
    assert.equal(failedScriptLine("iptables-restore v1.8.9 (legacy): Couldn't load match `nosuch':No such file or directory\n\nError occurred at line: 4\nTry `iptables-restore -h' or 'iptables-restore --help' for more information."), 4);
    assert.equal(failedScriptLine('iptables-nft-restore: line 2 failed: Chain already exists.'), 2);
    assert.equal(failedScriptLine('iptables-nft-restore v1.8.9 (nf_tables): \nline 2: CHAIN_DEL failed (Device or resource busy): chain T'), 2);
    assert.equal(failedScriptLine('Another app is currently holding the xtables lock.'), null);
  });
});

describe('planShellBatch', () => {
  test('lines within the budget, every command once and in order, the jump alone and last', () => {
    const commands = setupCommands(40);
    const lines = planShellBatch(commands, { maxLineBytes: DEFAULT_MAX_LINE_BYTES, nonce: NONCE })!;
    assert.deepEqual(lines.flatMap((l) => l.commands), commands);
    for (const l of lines) assert.ok(l.line.length <= DEFAULT_MAX_LINE_BYTES, `${l.line.length}`);
    assert.deepEqual(lines.at(-1)!.commands, ['iptables -I FORWARD 1 -j TRAFFIC']);
    assert.equal(lines.at(-1)!.line, `_L=0;iptables -I FORWARD 1 -j TRAFFIC&&_L=1;echo "__LT""ST_${NONCE}_a\${_L}__"`);
    assert.ok(lines.length < commands.length / 3, 'far fewer lines than commands');
  });

  test('a jump move (insert at 1, delete the old one) shares a line only with FORWARD commands', () => {
    const commands = ['iptables -A TRAFFIC_DOWN -d 198.51.100.12 -j RETURN', 'iptables -I FORWARD 1 -j TRAFFIC', 'iptables -D FORWARD 3', 'iptables -F TRAFFIC_UP', 'iptables -X TRAFFIC_UP'];
    const lines = planShellBatch(commands, { maxLineBytes: 450, nonce: NONCE })!;
    assert.deepEqual(lines.map((l) => l.commands), [[commands[0]], [commands[1], commands[2]], [commands[3], commands[4]]]);
  });
});

describe('planRestoreDelivery', () => {
  test('a small plan (a sync adding one host) is one line: print, pipe into iptables-restore, report', () => {
    const d = planRestoreDelivery(['iptables -A TRAFFIC_DOWN -d 198.51.100.20 -m comment --comment lantop -j RETURN', 'iptables -A TRAFFIC_UP -s 198.51.100.20 -m comment --comment lantop -j RETURN'], { restoreCommand: 'iptables-restore', maxLineBytes: 450, nonce: NONCE })!;
    assert.deepEqual(d.lines, [
      `{ printf '%s\\n' '*filter' '-A TRAFFIC_DOWN -d 198.51.100.20 -m comment --comment lantop -j RETURN' '-A TRAFFIC_UP -s 198.51.100.20 -m comment --comment lantop -j RETURN' 'COMMIT'||echo "__LT""ST_${NONCE}_w__" >&2;}|iptables-restore --noflush 2>&1;echo "__LT""ST_${NONCE}_r$?__"`,
    ]);
  });

  test('a large plan: printf commands kept in _C first (quoted), then evaluated into the pipe', () => {
    const d = planRestoreDelivery(setupCommands(60), { restoreCommand: 'iptables-restore', maxLineBytes: 450, nonce: NONCE })!;
    assert.ok(d.lines.length >= 3, 'several lines');
    assert.match(d.lines[0]!, /^_C='printf '\\''%s\\n'\\'' '\\''\*filter'\\''/);
    for (const line of d.lines.slice(1, -1)) assert.match(line, /^_C=\$_C'&&printf /);
    assert.match(d.lines.at(-1)!, /^\{ eval "\$_C"&&printf .*;_C=$/);
  });

  test('254 hosts: repeated rules fold into printf formats, 8 lines at the default budget, 1 at 3000', () => {
    const commands = planSetup(BARE, hostIps(254, 1), options('split')).commands;
    const d = planRestoreDelivery(commands, { restoreCommand: 'iptables-restore', maxLineBytes: DEFAULT_MAX_LINE_BYTES, nonce: NONCE })!;
    assert.ok(d.lines.length <= 8, `${d.lines.length} lines`);
    const down = foldScriptLines(d.script.trimEnd().split('\n')).find((p) => p.kind === 'template');
    assert.ok(down?.kind === 'template', 'a folded run');
    assert.equal(down.format, '\\055A TRAFFIC_DOWN -d 198.51.100.%s -m comment --comment lantop -j RETURN\\n');
    assert.deepEqual(down.args, hostIps(254, 1).map((ip) => ip.split('.')[3]));
    assert.equal(planRestoreDelivery(commands, { restoreCommand: 'iptables-restore', maxLineBytes: 3000, nonce: NONCE })!.lines.length, 1);
  });

  test('flat layout: the down/up pair folds as a period of two', () => {
    const pieces = foldScriptLines(toRestoreScript(setupCommands(20, 'flat'))!.trimEnd().split('\n'));
    const template = pieces.find((p) => p.kind === 'template');
    assert.ok(template && template.kind === 'template', 'a folded run');
    assert.equal(template.format, '\\055A TRAFFIC -i ppp0 -d 198.51.100.%s -m comment --comment lantop\\n-A TRAFFIC -s 198.51.100.%s -o ppp0 -m comment --comment lantop\\n');
    assert.deepEqual(template.args.slice(0, 4), ['10', '10', '11', '11']);
  });

  test('null for a budget too small, an odd restore path or nonce, or an inexpressible command', () => {
    const base = { restoreCommand: 'iptables-restore', maxLineBytes: 450, nonce: NONCE };
    assert.equal(planRestoreDelivery(setupCommands(3), { ...base, maxLineBytes: 100 }), null);
    assert.equal(planRestoreDelivery(setupCommands(3), { ...base, restoreCommand: 'iptables-restore;reboot' }), null);
    assert.equal(planRestoreDelivery(setupCommands(3), { ...base, nonce: '$(reboot)' }), null);
    assert.equal(planRestoreDelivery(['iptables -A X -s "y"'], base), null);
  });
});

describe('maxLineBytesForShell', () => {
  test('dash and bash get long lines; BusyBox, an unknown shell or no answer keep the safe default', () => {
    assert.equal(maxLineBytesForShell('/usr/bin/dash'), 3000);
    assert.equal(maxLineBytesForShell('/bin/bash\n'), 3000);
    assert.equal(maxLineBytesForShell('/bin/busybox'), DEFAULT_MAX_LINE_BYTES);
    assert.equal(maxLineBytesForShell('sh: readlink: not found'), DEFAULT_MAX_LINE_BYTES);
    assert.equal(maxLineBytesForShell(null), DEFAULT_MAX_LINE_BYTES);
    assert.equal(maxLineBytesForShell('/bin/busybox', 'exec'), 3000);
  });
});

describe('readMarker', () => {
  test('finds our status, not its echo, not another nonce', () => {
    assert.equal(readMarker(`iptables-restore: line 3 failed\n${mark('r1')}`, NONCE, 'r'), '1');
    assert.equal(readMarker(`${mark('w')}\n${mark('r0')}`, NONCE, 'w'), '');
    assert.equal(readMarker(`echo "__LT""ST_${NONCE}_r$?__"`, NONCE, 'r'), null);
    assert.equal(readMarker('__LTST_ffffffffffff_r0__', NONCE, 'r'), null);
  });
});

describe('applyBatch (scripted router)', () => {
  // What a poll-time sync sends after a new host appeared: one line at the default budget.
  const commands = ['iptables -A TRAFFIC_DOWN -d 198.51.100.20 -m comment --comment lantop -j RETURN', 'iptables -A TRAFFIC_UP -s 198.51.100.20 -m comment --comment lantop -j RETURN', 'iptables -I FORWARD 1 -j TRAFFIC'];

  test('restore: one round trip, everything applied, method and trips reported; an ApplyOutcome', async () => {
    const run = scripted([{ expect: RESTORE_LINE, answer: () => mark('r0') }]);
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
    const run = scripted([{ expect: /iptables-restore/, answer: () => `iptables-nft-restore: line 4 failed: No chain/target/match by that name.\n${mark('r1')}` }]);
    const outcome = await applyBatch(run, SHELL_TARGET, commands, { nonce: NONCE });
    run.assertDone();
    assert.deepEqual(outcome.applied, []);
    assert.equal(outcome.failed?.command, commands[2]);
    assert.equal(outcome.failed?.problem?.kind, 'no-chain');
    assert.equal(outcome.failed?.output, 'iptables-nft-restore: line 4 failed: No chain/target/match by that name.');
    assert.deepEqual(outcome.notes, ['iptables-restore refused the plan as a whole: nothing was changed']);
  });

  test('the comment match missing (legacy wording) reaches the caller as no-extension on a tagged command', async () => {
    const run = scripted([{ expect: /iptables-restore/, answer: () => `iptables-restore v1.4.21: Couldn't load match \`comment':No such file or directory\n\nError occurred at line: 3\nTry \`iptables-restore -h' or 'iptables-restore --help' for more information.\n${mark('r2')}` }]);
    const outcome = await applyBatch(run, SHELL_TARGET, commands, { nonce: NONCE });
    assert.equal(outcome.failed?.command, commands[1]);
    assert.ok(outcome.failed?.command.includes('--comment lantop'), 'a tagged command');
    assert.equal(outcome.failed?.problem?.kind, 'no-extension');
  });

  test('no iptables-restore after all: falls back to shell lines, says why', async () => {
    const run = scripted([
      { expect: /iptables-restore/, answer: () => `sh: iptables-restore: not found\n${mark('r127')}` },
      ...planShellBatch(commands, { maxLineBytes: DEFAULT_MAX_LINE_BYTES, nonce: NONCE })!.map((l) => ({ expect: (c: string) => c === l.line, answer: () => mark(`a${l.commands.length}`) })),
    ]);
    const outcome = await applyBatch(run, SHELL_TARGET, commands, { nonce: NONCE });
    run.assertDone();
    assert.equal(outcome.method, 'shell-batch');
    assert.deepEqual(outcome.applied, commands);
    assert.match(outcome.notes[0]!, /^iptables-restore could not be started \(sh: iptables-restore: not found\): applying with the shell instead$/);
  });

  test('printf missing: iptables-restore got no input and exited 0 — not a success; shell lines', async () => {
    const run = scripted([
      { expect: RESTORE_LINE, answer: () => `sh: printf: not found\n${mark('w')}\n${mark('r0')}` },
      ...planShellBatch(commands, { maxLineBytes: DEFAULT_MAX_LINE_BYTES, nonce: NONCE })!.map((l) => ({ expect: (c: string) => c === l.line, answer: () => mark(`a${l.commands.length}`) })),
    ]);
    const outcome = await applyBatch(run, SHELL_TARGET, commands, { nonce: NONCE });
    run.assertDone();
    assert.equal(outcome.method, 'shell-batch');
    assert.deepEqual(outcome.applied, commands);
    assert.equal(outcome.notes[0], 'the shell could not print the iptables-restore script (sh: printf: not found): applying with the shell instead');
  });

  test('a restore that stopped reading makes printf fail too: the refused line is still what counts', async () => {
    const run = scripted([{ expect: RESTORE_LINE, answer: () => `iptables-restore: line 3 failed\n${mark('w')}\n${mark('r1')}` }]);
    const outcome = await applyBatch(run, SHELL_TARGET, commands, { nonce: NONCE });
    run.assertDone();
    assert.equal(outcome.method, 'restore');
    assert.equal(outcome.failed?.command, commands[1]);
  });

  test('a stored line the shell answers: _C is cleared, then shell lines', async () => {
    const many = setupCommands(60);
    const delivery = planRestoreDelivery(many, { restoreCommand: 'iptables-restore', maxLineBytes: DEFAULT_MAX_LINE_BYTES, nonce: NONCE })!;
    assert.ok(delivery.lines.length > 2, 'several lines');
    const batch = planShellBatch(many, { maxLineBytes: DEFAULT_MAX_LINE_BYTES, nonce: NONCE })!;
    const run = scripted([
      { expect: (c) => c === delivery.lines[0], answer: () => '' },
      { expect: (c) => c === delivery.lines[1], answer: () => 'sh: syntax error: unterminated quoted string' },
      { expect: (c) => c === '_C=', answer: () => '' },
      ...batch.map((l) => ({ expect: (c: string) => c === l.line, answer: () => mark(`a${l.commands.length}`) })),
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
    const run = scripted([
      { expect: (c) => c === batch[0]!.line, answer: () => mark(`a${batch[0]!.commands.length}`) },
      { expect: (c) => c === batch[1]!.line, answer: () => `iptables: No chain/target/match by that name.\n${mark('a2')}` },
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
    const run = scripted([{ expect: RESTORE_LINE, answer: () => 'Connection to the shell got confused' }]);
    const outcome = await applyBatch(run, SHELL_TARGET, commands, { nonce: NONCE });
    assert.deepEqual(outcome.applied, []);
    assert.equal(outcome.failed?.command, 'iptables-restore --noflush');
    assert.match(outcome.notes.at(-1)!, /could not read what iptables-restore answered/);
  });

  test('vendor CLI only: line by line where iptables runs, judged by text as before', async () => {
    const run = scripted([
      { expect: (c) => c === commands[0], answer: () => '' },
      { expect: (c) => c === commands[1], answer: () => 'iptables: Chain already exists.' },
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
    const run = scripted([]);
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

// ---------------------------------------------------------------------------------------------
// The lines in real shells (no root needed)

const SHELLS: Array<{ name: string; argv: string[] }> = [
  { name: 'dash', argv: ['dash', '-c'] },
  { name: 'BusyBox ash', argv: ['busybox', 'ash', '-c'] },
  { name: 'bash', argv: ['bash', '-c'] },
].filter((s) => spawnSync(s.argv[0]!, [...s.argv.slice(1), 'true']).status === 0);

describe('the restore lines in real shells', { skip: SHELLS.length === 0 ? 'no dash, busybox or bash here' : false }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'lantop-apply-batch-'));
  // Stands in for iptables-restore: keeps what it was fed, answers like a successful restore.
  const fakeRestore = join(dir, 'fake-restore');
  writeFileSync(fakeRestore, `#!/bin/sh\ncat > ${dir}/restored\n`);
  chmodSync(fakeRestore, 0o755);
  after(() => rmSync(dir, { recursive: true, force: true }));

  // The lines of one delivery run in ONE shell process, as on the router's session (_C lives there).
  const deliver = (shell: (typeof SHELLS)[number], commands: string[], maxLineBytes: number) => {
    const delivery = planRestoreDelivery(commands, { restoreCommand: fakeRestore, maxLineBytes, nonce: NONCE });
    assert.ok(delivery, 'a delivery');
    rmSync(join(dir, 'restored'), { force: true });
    for (const line of delivery.lines) assert.ok(line.length <= maxLineBytes, `line of ${line.length} bytes > ${maxLineBytes}`);
    const program = delivery.lines.map((line) => `${line}\necho @@\n`).join('') + 'echo "[$_C]"\n';
    const r = spawnSync(shell.argv[0]!, shell.argv.slice(1, -1), { input: program, encoding: 'utf8', timeout: 20_000 });
    const answers = (r.stdout + r.stderr).split('@@\n');
    return { delivery, answers: answers.slice(0, -1), leftover: answers.at(-1), restored: readFileSync(join(dir, 'restored'), 'utf8') };
  };

  for (const shell of SHELLS) {
    test(`${shell.name}: 254 hosts, both layouts, three budgets — the exact script, silent stores, one status`, () => {
      for (const layout of ['split', 'flat'] as const) {
        const commands = planSetup(BARE, hostIps(254, 1), options(layout)).commands;
        for (const budget of [DEFAULT_MAX_LINE_BYTES, 1000, 3000]) {
          const { delivery, answers, leftover, restored } = deliver(shell, commands, budget);
          assert.equal(restored, delivery.script, `${layout} ${budget}`);
          assert.deepEqual(answers, [...delivery.lines.slice(1).map(() => ''), `${mark('r0')}\n`], `${layout} ${budget}`);
          assert.equal(leftover, '[]\n', '_C is cleared');
        }
      }
    });

    test(`${shell.name}: any host set and budget writes the exact script (property)`, () => {
      fc.assert(
        fc.property(
          fc.uniqueArray(fc.integer({ min: 1, max: 254 }), { minLength: 0, maxLength: 120 }),
          fc.constantFrom<RuleLayout>('split', 'flat'),
          fc.boolean(),
          fc.integer({ min: 300, max: 4000 }),
          (octets, layout, isTagging, budget) => {
            const commands = planSetup(BARE, octets.map((o) => `198.51.100.${o}`), options(layout, '/usr/sbin/iptables', isTagging)).commands;
            const { delivery, restored } = deliver(shell, commands, budget);
            assert.equal(restored, delivery.script);
          },
        ),
        { numRuns: 15 },
      );
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Real iptables-restore in a throwaway network namespace (root)

const labSkip = labSkipReason();

type Backend = 'legacy' | 'nft';
let nsSerial = 0;

const liveNamespaces = new Set<string>();
process.once('exit', () => {
  for (const name of liveNamespaces) spawnSync('ip', ['netns', 'del', name]);
});

class Netns {
  readonly name = `ltab${process.pid % 10000}${String.fromCharCode(97 + nsSerial++)}`;
  constructor(readonly backend: Backend) {
    spawnSync('ip', ['netns', 'del', this.name]);
    const r = spawnSync('ip', ['netns', 'add', this.name], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ip netns add: ${r.stderr}`);
    liveNamespaces.add(this.name);
  }
  get iptables() {
    return `iptables-${this.backend}`;
  }
  exec(argv: readonly string[], input?: string): { status: number | null; out: string } {
    const r = spawnSync('ip', ['netns', 'exec', this.name, ...argv], { encoding: 'utf8', input: input ?? '', timeout: 20_000 });
    return { status: r.status, out: (r.stdout ?? '') + (r.stderr ?? '') };
  }
  ok(argv: readonly string[], input?: string): string {
    const r = this.exec(argv, input);
    if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.out}`);
    return r.out;
  }
  /** The filter table as a dump, counters included (`#` lines dropped). */
  save(): string {
    return this.ok([`${this.iptables}-save`, '-c', '-t', 'filter']).split('\n').filter((l) => !l.startsWith('#')).join('\n');
  }
  load(dump: string): void {
    this.ok([`${this.iptables}-restore`, '-c'], dump);
  }
  listing(): IptablesListing {
    return parseIptablesListing(this.ok([this.iptables, '-L', '-v', '-x', '-n', '--line-numbers']));
  }
  /**
   * The router's shell as a `run` for applyBatch: ONE shell process for the whole apply (state such
   * as _C carries over, as on a session), stderr merged like telnet's pty, each reply framed by a
   * line of our own. close() ends it.
   */
  shell(shellArgv: readonly string[]): RunCommand & { close(): void } {
    const child = spawn('ip', ['netns', 'exec', this.name, ...shellArgv.slice(0, -1)], { stdio: ['pipe', 'pipe', 'pipe'] });
    let buffer = '';
    let waiting: ((text: string) => void) | null = null;
    const onData = (d: Buffer) => {
      buffer += d.toString('utf8');
      const end = buffer.indexOf('@@END@@\n');
      if (end >= 0 && waiting) {
        const reply = buffer.slice(0, end);
        buffer = buffer.slice(end + 8);
        const w = waiting;
        waiting = null;
        w(reply.replace(/\n$/, ''));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.stdin.write('exec 2>&1\n');
    const run = (({ command }) =>
      new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`shell: no reply to ${command.slice(0, 80)}`)), 20_000);
        waiting = (text) => {
          clearTimeout(timer);
          resolve(text);
        };
        child.stdin.write(`${command}\necho @@END@@\n`);
      })) as RunCommand & { close(): void };
    run.close = () => {
      child.stdin.end();
      child.kill('SIGKILL');
    };
    return run;
  }
  destroy(): void {
    spawnSync('ip', ['netns', 'del', this.name]);
    liveNamespaces.delete(this.name);
  }
}

/** The lab's boot firewall (filter table), with counters on the rules that count traffic. */
const BOOT_FILTER = bootRuleset().split('COMMIT')[0]! + 'COMMIT\n';

function withChains(extra: string[], forward: string[] = []): string {
  // A boot firewall plus lantop's chains as an earlier setup left them; counters on every rule.
  const lines = BOOT_FILTER.trimEnd().split('\n');
  const commit = lines.pop()!;
  const chains = [...new Set(extra.map((l) => /^\[\d+:\d+\] -A (\S+)/.exec(l)?.[1] ?? /^:(\S+)/.exec(l)?.[1]).filter((c): c is string => c !== undefined && c !== 'FORWARD'))];
  const head = lines.filter((l) => !l.startsWith('-A') && !l.startsWith('['));
  const rules = lines.filter((l) => l.startsWith('-A')).map((l, i) => `[${i + 1}:${(i + 1) * 100}] ${l}`);
  return [...head, ...chains.map((c) => `:${c} - [0:0]`), ...forward, ...rules, ...extra.filter((l) => !l.startsWith(':')), commit, ''].join('\n');
}

const counted = (chain: string, spec: string, pkts: number) => `[${pkts}:${pkts * 1500}] -A ${chain} ${spec} -m comment --comment lantop${chain === 'TRAFFIC' ? '' : ' -j RETURN'}`;

interface Scenario {
  name: string;
  state: string;
  plan: (listing: IptablesListing, iptables: string) => string[];
  /** Extra checks on the final dump. */
  check?: (dump: string) => void;
}

const SCENARIOS: Scenario[] = [
  { name: 'first setup on the boot firewall (split, 30 hosts)', state: withChains([]), plan: (l, ipt) => planSetup(l, hostIps(30), options('split', ipt)).commands },
  {
    name: 'more hosts on an existing split set-up: counters of the old rules survive',
    state: withChains(
      [
        '[7:700] -A TRAFFIC -i ppp0 -m comment --comment lantop -j TRAFFIC_DOWN',
        '[8:800] -A TRAFFIC -o ppp0 -m comment --comment lantop -j TRAFFIC_UP',
        ...hostIps(5).map((ip, i) => counted('TRAFFIC_DOWN', `-d ${ip}/32`, 10 + i)),
        ...hostIps(5).map((ip, i) => counted('TRAFFIC_UP', `-s ${ip}/32`, 20 + i)),
      ],
      ['[99:9900] -A FORWARD -j TRAFFIC'],
    ),
    plan: (l, ipt) => planSetup(l, hostIps(12), options('split', ipt)).commands,
    check: (dump) => {
      assert.match(dump, /^\[10:15000\] -A TRAFFIC_DOWN -d 198\.51\.100\.10\/32 -m comment --comment lantop -j RETURN$/m);
      assert.match(dump, /^\[99:9900\] -A FORWARD -j TRAFFIC$/m);
      assert.match(dump, /^\[0:0\] -A TRAFFIC_UP -s 198\.51\.100\.21\/32 -m comment --comment lantop -j RETURN$/m);
    },
  },
  {
    name: 'a jump below ESTABLISHED plus a duplicate: moved to 1, extras deleted by number',
    state: withChains(['[3:300] -A TRAFFIC -i ppp0 -d 198.51.100.10/32 -m comment --comment lantop', '[4:400] -A TRAFFIC -s 198.51.100.10/32 -o ppp0 -m comment --comment lantop']).replace(
      '-A FORWARD -i br0 -o ppp0 -j ACCEPT',
      '-A FORWARD -j TRAFFIC\n[1:1] -A FORWARD -i br0 -o ppp0 -j ACCEPT\n[2:2] -A FORWARD -j TRAFFIC',
    ),
    plan: (l, ipt) => planSetup(l, hostIps(3), options('flat', ipt)).commands,
  },
  {
    name: 'flat → split: every flat rule deleted by number, the other chains created',
    state: withChains(hostIps(6).flatMap((ip, i) => [`[${i}:${i * 10}] -A TRAFFIC -i ppp0 -d ${ip}/32 -m comment --comment lantop`, `[${i}:${i * 20}] -A TRAFFIC -s ${ip}/32 -o ppp0 -m comment --comment lantop`]), ['[5:500] -A FORWARD -j TRAFFIC']),
    plan: (l, ipt) => planSetup(l, hostIps(6), options('split', ipt)).commands,
  },
  {
    name: 'split → flat: the sub-chains flushed and removed (-F, -X) after the jumps into them',
    state: withChains(
      ['-A TRAFFIC -i ppp0 -m comment --comment lantop -j TRAFFIC_DOWN', '-A TRAFFIC -o ppp0 -m comment --comment lantop -j TRAFFIC_UP', ...hostIps(4).map((ip) => counted('TRAFFIC_DOWN', `-d ${ip}/32`, 1)), ...hostIps(4).map((ip) => counted('TRAFFIC_UP', `-s ${ip}/32`, 2))].map((l) => (l.startsWith('[') ? l : `[0:0] ${l}`)),
      ['[5:500] -A FORWARD -j TRAFFIC'],
    ),
    plan: (l, ipt) => planSetup(l, hostIps(4), options('flat', ipt)).commands,
  },
  {
    name: 'teardown',
    state: withChains(['[1:1] -A TRAFFIC -i ppp0 -m comment --comment lantop -j TRAFFIC_DOWN', ...hostIps(3).map((ip) => counted('TRAFFIC_DOWN', `-d ${ip}/32`, 1))], ['[5:500] -A FORWARD -j TRAFFIC']),
    plan: (l, ipt) => planTeardown(l, ipt),
  },
  {
    name: 'flush',
    state: withChains(['[1:1] -A TRAFFIC -i ppp0 -m comment --comment lantop -j TRAFFIC_DOWN', ...hostIps(3).map((ip) => counted('TRAFFIC_DOWN', `-d ${ip}/32`, 1))], ['[5:500] -A FORWARD -j TRAFFIC']),
    plan: (l, ipt) => planFlush(l, ipt),
  },
];

const NS_SHELLS = SHELLS.filter((s) => s.name !== 'bash');

for (const backend of ['legacy', 'nft'] as const) {
  describe(`real iptables-restore --noflush (${backend}, network namespace)`, { skip: labSkip }, () => {
    // One namespace for the suite; each test loads its own filter table (iptables-restore -c).
    let ns: Netns;
    const setUp = () => {
      ns ??= new Netns(backend);
    };
    after(() => ns?.destroy());

    test('semantics relied on: `:X` flushes an existing chain, `-N X` fails it, a failure leaves everything as it was', () => {
      setUp();
      const restore = (script: string) => ns.exec([`${ns.iptables}-restore`, '--noflush'], script);
      ns.load(withChains([counted('TRAFFIC_DOWN', '-d 198.51.100.10/32', 5)]));
      const before = ns.save();
      assert.match(before, /\[5:7500\] -A TRAFFIC_DOWN -d 198.51.100.10\/32/);

      const n = restore('*filter\n-N TRAFFIC_DOWN\n-A TRAFFIC_DOWN -d 198.51.100.11\nCOMMIT\n');
      assert.notEqual(n.status, 0);
      assert.equal(failedScriptLine(n.out), 2);
      assert.equal(ns.save(), before, '-N of an existing chain: nothing changed');

      const rollback = restore('*filter\n-A TRAFFIC_DOWN -d 198.51.100.12\n-A NO_SUCH_CHAIN -d 198.51.100.13\nCOMMIT\n');
      assert.notEqual(rollback.status, 0);
      assert.equal(failedScriptLine(rollback.out), 3);
      assert.equal(ns.save(), before, 'line 2 succeeded, line 3 failed: line 2 is not applied either');

      const colon = restore('*filter\n:TRAFFIC_DOWN - [0:0]\nCOMMIT\n');
      assert.equal(colon.status, 0);
      assert.doesNotMatch(ns.save(), /198\.51\.100\.10/, ':X with --noflush flushed the existing chain (why -N is kept as a command)');

      const unknown = restore('*filter\n-A TRAFFIC_DOWN -m nosuchmatch -j RETURN\nCOMMIT\n');
      assert.notEqual(unknown.status, 0);
      assert.equal(failedScriptLine(unknown.out), 2, unknown.out);
    });

    for (const scenario of SCENARIOS) {
      test(`${scenario.name}: every method leaves what the commands one by one leave`, async () => {
        setUp();
        ns.load(scenario.state);
        const commands = scenario.plan(ns.listing(), ns.iptables);
        assert.ok(commands.length > 0, 'a plan');
        const start = ns.save();
        for (const command of commands) ns.ok(command.split(' '));
        const expected = ns.save();
        assert.notEqual(expected, start, 'the plan changes something');
        scenario.check?.(expected);

        const restore = { command: `${ns.iptables}-restore`, where: 'shell' as const };
        const variants: Array<[string, BatchTarget, readonly string[]]> = [];
        for (const shell of NS_SHELLS) {
          variants.push([`restore via ${shell.name}`, { iptables: { binary: ns.iptables, where: 'shell' }, restore, isShell: true }, shell.argv]);
          variants.push([`restore via ${shell.name}, 3000-byte lines`, { iptables: { binary: ns.iptables, where: 'shell' }, restore, isShell: true, maxLineBytes: 3000 }, shell.argv]);
          variants.push([`shell lines via ${shell.name}`, { iptables: { binary: ns.iptables, where: 'shell' }, restore: null, isShell: true }, shell.argv]);
        }
        variants.push(['line by line', { iptables: { binary: ns.iptables, where: 'cli' }, restore: null, isShell: false }, ['sh', '-c']]);
        for (const [label, target, shellArgv] of variants) {
          ns.load(scenario.state);
          const run = ns.shell(shellArgv);
          const outcome = await applyBatch(run, target, commands).finally(() => run.close());
          assert.equal(outcome.failed, null, `${label}: ${JSON.stringify(outcome.failed)}`);
          assert.deepEqual(outcome.applied, commands, label);
          assert.equal(ns.save(), expected, label);
          assert.equal(outcome.method, label.startsWith('restore') ? 'restore' : label.startsWith('shell') ? 'shell-batch' : 'line-by-line');
        }
      });
    }

    test('a plan gone stale (the chain appeared since the listing): restore refuses it whole and names `-N`; shell lines stop there too', async () => {
      setUp();
      ns.load(withChains([]));
      const commands = planSetup(ns.listing(), hostIps(8), options('split', ns.iptables)).commands;
      ns.load(withChains([counted('TRAFFIC_DOWN', '-d 198.51.100.10/32', 9)]));
      const before = ns.save();
      const shell = NS_SHELLS[0]!;
      const run = ns.shell(shell.argv);
      after(() => run.close());
      const restored = await applyBatch(run, { iptables: { binary: ns.iptables, where: 'shell' }, restore: { command: `${ns.iptables}-restore`, where: 'shell' }, isShell: true }, commands);
      assert.equal(restored.method, 'restore');
      assert.deepEqual(restored.applied, []);
      assert.equal(restored.failed?.command, `${ns.iptables} -N TRAFFIC_DOWN`);
      assert.equal(ns.save(), before, 'nothing changed, the old counter is intact');
      if (backend === 'nft') assert.equal(restored.failed?.problem?.kind, 'chain-exists');

      const lines = await applyBatch(run, { iptables: { binary: ns.iptables, where: 'shell' }, restore: null, isShell: true }, commands);
      assert.deepEqual(lines.applied, [`${ns.iptables} -N TRAFFIC`]);
      assert.equal(lines.failed?.command, `${ns.iptables} -N TRAFFIC_DOWN`);
      assert.equal(lines.failed?.problem?.kind, 'chain-exists');
      assert.ok(!/-j TRAFFIC\b/.test(ns.save().split('\n').filter((l) => l.includes('-A FORWARD')).join('\n')), 'no jump without its chains');
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Over the lab router's real telnet and SSH (root): BusyBox ash with line editing behind both

describe('over the lab router (telnet and SSH to BusyBox ash with line editing)', { skip: labSkip }, () => {
  test('254 hosts at the default line budget: one transaction, verified; a 3000-byte line never arrives whole, and nothing is applied', async () => {
    const lab = await startLab({ hosts: 1, shell: 'busybox' });
    const sessions: Array<TelnetSession | SshSession> = [];
    try {
      const runOn = (session: TelnetSession | SshSession, timeoutMs?: number): RunCommand => async ({ command, where }) => {
        if (where === 'shell' && session.mode === 'cli') await session.enterShell();
        return session.exec(command, timeoutMs !== undefined ? { timeoutMs } : undefined);
      };
      const listingOf = async (run: RunCommand) => parseIptablesListing(await run({ command: 'iptables -L -v -x -n --line-numbers', where: 'shell' }));
      const target: BatchTarget = { iptables: { binary: 'iptables', where: 'cli' }, restore: { command: 'iptables-restore', where: 'shell' }, isShell: true };
      const boot = await lab.iptablesSave();
      for (const connect of [
        () => connectTelnet({ host: lab.routerIp, port: lab.telnetPort, user: lab.user, password: lab.password }),
        () => connectSsh({ host: lab.routerIp, port: lab.sshPort, user: lab.user, password: lab.password }),
      ]) {
        const session = await connect();
        sessions.push(session);
        const run = runOn(session);
        // The probe the firmware table can run: BusyBox ash here, so the safe line budget.
        assert.equal(maxLineBytesForShell(await run({ command: 'readlink /proc/$$/exe', where: 'shell' })), DEFAULT_MAX_LINE_BYTES);
        const commands = planSetup(await listingOf(run), hostIps(254, 1), options('split')).commands;
        const outcome = await applyBatch(run, target, commands);
        assert.equal(outcome.failed, null, JSON.stringify(outcome.failed));
        assert.equal(outcome.method, 'restore');
        assert.ok(outcome.roundTrips <= 8, `${outcome.roundTrips} round trips`);
        assert.deepEqual(planSetup(await listingOf(run), hostIps(254, 1), options('split')).commands, [], 'the router has the whole plan');
        const teardown = await applyBatch(run, target, planTeardown(await listingOf(run), 'iptables'));
        assert.equal(teardown.failed, null);
        assert.equal(await lab.iptablesSave(), boot);
      }
      // Debian's BusyBox keeps 1022 bytes of a typed line: the one-line batch loses its closing quote,
      // the shell waits for more, the command times out, and the router is left as it was.
      const session = await connectTelnet({ host: lab.routerIp, port: lab.telnetPort, user: lab.user, password: lab.password });
      sessions.push(session);
      const run = runOn(session, 3000);
      const commands = planSetup(await listingOf(run), hostIps(254, 1), options('split')).commands;
      await assert.rejects(applyBatch(run, { ...target, maxLineBytes: 3000 }, commands), (error: Error) => error.name === 'TimeoutError' && /^No complete reply .* to '\{ printf /.test(error.message));
      assert.equal(await lab.iptablesSave(), boot);
    } finally {
      for (const s of sessions) await s.close().catch(() => undefined);
      await lab.stop();
    }
  });
});
