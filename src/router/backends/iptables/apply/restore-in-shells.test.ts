// The restore lines run for real in dash, BusyBox ash and bash (no root): they write exactly the
// restore script, whatever the plan, and never exceed the line budget.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { planRestoreDelivery } from './restore.js';
import { DEFAULT_MAX_LINE_BYTES } from '../../../firmware/line-budget.js';
import { planSetup } from '../plan.js';
import type { RuleLayout } from '../layouts.js';
import { BARE, LOCAL_SHELLS as SHELLS, NONCE, hostIps, mark, planOptions } from '../../../../../test/helpers/apply-plans.js';

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
    // `[$_C$_A1]`: neither the stored text nor a host-list variable (set in the pipeline's subshell) is left.
    const program = delivery.lines.map((line) => `${line}\necho @@\n`).join('') + 'echo "[$_C$_A1]"\n';
    const r = spawnSync(shell.argv[0]!, shell.argv.slice(1, -1), { input: program, encoding: 'utf8', timeout: 20_000 });
    const answers = (r.stdout + r.stderr).split('@@\n');
    return { delivery, answers: answers.slice(0, -1), leftover: answers.at(-1), restored: readFileSync(join(dir, 'restored'), 'utf8') };
  };

  for (const shell of SHELLS) {
    test(`${shell.name}: 254 hosts, every layout, three budgets — the exact script, silent stores, one status`, () => {
      for (const layout of ['split', 'flat', 'tree'] as const) {
        const commands = planSetup(BARE, hostIps(254, 1), planOptions(layout)).commands;
        for (const budget of [DEFAULT_MAX_LINE_BYTES, 1000, 3000]) {
          const { delivery, answers, leftover, restored } = deliver(shell, commands, budget);
          assert.equal(restored, delivery.script, `${layout} ${budget}`);
          assert.deepEqual(answers, [...delivery.lines.slice(1).map(() => ''), `${mark('r0')}\n`], `${layout} ${budget}`);
          assert.equal(leftover, '[]\n', '_C is cleared, _A1 never set here');
        }
      }
    });

    test(`${shell.name}: ranges of hosts (whole decades printed by a loop) write the exact script (property)`, () => {
      fc.assert(
        fc.property(
          fc.array(fc.tuple(fc.integer({ min: 1, max: 254 }), fc.integer({ min: 0, max: 90 })), { minLength: 1, maxLength: 4 }),
          fc.integer({ min: 200, max: 3000 }),
          (ranges, budget) => {
            const octets = new Set<number>();
            for (const [start, length] of ranges) for (let o = start; o <= Math.min(254, start + length); o++) octets.add(o);
            const commands = planSetup(BARE, [...octets].map((o) => `198.51.100.${o}`), planOptions('split')).commands;
            const { delivery, restored, leftover } = deliver(shell, commands, budget);
            assert.equal(restored, delivery.script);
            assert.equal(leftover, '[]\n');
          },
        ),
        { numRuns: 15 },
      );
    });

    test(`${shell.name}: any host set and budget writes the exact script (property)`, () => {
      fc.assert(
        fc.property(
          fc.uniqueArray(fc.integer({ min: 1, max: 254 }), { minLength: 0, maxLength: 120 }),
          fc.constantFrom<RuleLayout>('split', 'flat', 'tree'),
          fc.boolean(),
          fc.integer({ min: 300, max: 4000 }),
          (octets, layout, isTagging, budget) => {
            const commands = planSetup(BARE, octets.map((o) => `198.51.100.${o}`), planOptions(layout, '/usr/sbin/iptables', isTagging)).commands;
            const { delivery, restored } = deliver(shell, commands, budget);
            assert.equal(restored, delivery.script);
          },
        ),
        { numRuns: 15 },
      );
    });
  }
});
