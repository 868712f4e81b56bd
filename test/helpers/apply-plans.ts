// Plans, markers and a scripted `run` shared by the applyBatch tests (src/router/apply-batch*.test.ts
// and src/router/apply/*.test.ts).
import { spawnSync } from 'node:child_process';
import type { RunCommand } from '../../src/router/backends/iptables/apply/method-result.js';
import type { BatchTarget } from '../../src/router/backends/iptables/apply/apply-batch.js';
import type { IptablesListing } from '../../src/router/parsers/types.js';
import { planSetup, type PlanOptions } from '../../src/router/backends/iptables/plan.js';
import type { RuleLayout } from '../../src/router/backends/iptables/layouts.js';
import { ScriptedSession, type ScriptedStep } from '../fakes/scripted-session.js';

/** The fixed nonce the tests pass to applyBatch (its own comes from node:crypto). */
export const NONCE = '0123456789ab';
/** A router with an empty FORWARD chain. */
export const BARE: IptablesListing = { chains: [{ name: 'FORWARD', policy: 'ACCEPT', references: null, rules: [] }], warnings: [], errors: [] };
export const hostIps = (n: number, first = 10) => Array.from({ length: n }, (_, i) => `198.51.100.${first + i}`);
export const planOptions = (layout: RuleLayout, iptables = 'iptables', isTagging = true): PlanOptions => ({ wan: 'ppp0', layout, isTagging, isAdopting: false, isPruning: false, iptables });
export const setupCommands = (n: number, layout: RuleLayout = 'split', iptables = 'iptables') => planSetup(BARE, hostIps(n), planOptions(layout, iptables)).commands;

export const SHELL_TARGET: BatchTarget = { iptables: { binary: 'iptables', where: 'shell' }, restore: { command: 'iptables-restore', where: 'shell' }, isShell: true };

/** A status marker as the router's shell prints it. */
export const mark = (status: string) => `__LTST_${NONCE}_${status}__`;
/** The last line of a restore delivery (with NONCE). */
export const RESTORE_LINE = /\|iptables-restore --noflush 2>&1;echo "__LT""ST_0123456789ab_r\$\?__"(;_C=)?$/;

/** A `run` over a ScriptedSession: each command must be the next step; assertDone() as the session's. */
export function scriptedRun(steps: ScriptedStep[]): RunCommand & { sent: string[]; assertDone(): void } {
  const session = new ScriptedSession(steps, { mode: 'shell' });
  const run = (({ command, where }) => session.exec(command, { where })) as RunCommand & { sent: string[]; assertDone(): void };
  run.sent = session.sent;
  run.assertDone = () => session.assertDone();
  return run;
}

/** The shells of this machine the lines are run in (no root needed). */
export const LOCAL_SHELLS: Array<{ name: string; argv: string[] }> = [
  { name: 'dash', argv: ['dash', '-c'] },
  { name: 'BusyBox ash', argv: ['busybox', 'ash', '-c'] },
  { name: 'bash', argv: ['bash', '-c'] },
].filter((s) => spawnSync(s.argv[0]!, [...s.argv.slice(1), 'true']).status === 0);
