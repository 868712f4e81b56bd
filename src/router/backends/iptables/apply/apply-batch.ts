// Applies a rule plan in as few round trips as the router allows (issue 13, item 6: `setup` of 239
// hosts took 34.7 s line by line, and after a reboot nothing was counted until the last command).
// Each way lives in apply/:
//
//   restore      the whole plan as one `iptables-restore --noflush` transaction, printed by
//                `printf` in lines the shell accepts and piped into it; all or nothing (restore.ts,
//                printf-folding.ts).
//   shell-batch  no iptables-restore: the commands joined with `&&` into lines, stopping at the
//                first failure; the FORWARD jump goes in a line of its own after its chains.
//   line-by-line no shell (vendor CLI only): one command per round trip, as before.
//
// Everything there is pure except the deliver functions, which talk through one `run` function.
// Every word sent comes from the planner's command lines, re-validated against a small alphabet
// (iptables-words.ts); the nonce comes from node:crypto, never from the router. Router output is
// only searched for our own markers and for a line number, and is sanitised before it is returned.
import { randomBytes } from 'node:crypto';
import type { ShellMode } from '../../../../transport/session.js';
import type { AddressFamily } from '../../../../domain/address.js';
import { DEFAULT_MAX_LINE_BYTES } from '../../../firmware/line-budget.js';
import { deliverLineByLine } from './line-by-line.js';
import type { ApplyMethod, MethodResult, RefusedCommand, RunCommand } from './method-result.js';
import { deliverRestore, planRestoreDelivery } from './restore.js';
import { deliverShellBatch, planShellBatch } from './shell-batch.js';

/** Where the router runs iptables and iptables-restore, as the firmware table says. */
export interface BatchTarget {
  iptables: { binary: string; where: ShellMode };
  /** iptables-restore in the shell; null when the router has none. */
  restore: { command: string; where: 'shell' } | null;
  /** A POSIX shell is reachable (`;`, `&&`, `$?`, `printf`); false: vendor CLI only. */
  isShell: boolean;
  /** See DEFAULT_MAX_LINE_BYTES. */
  maxLineBytes?: number;
  /** 6: the plan is ip6tables commands (and `restore` is ip6tables-restore); default 4. */
  family?: AddressFamily;
}

/** The outcome RouterClient.apply returns (ApplyOutcome), plus how it was applied. */
export interface BatchOutcome {
  /** Commands now in effect, in plan order. With restore: all of them or none. */
  applied: string[];
  failed: RefusedCommand | null;
  isVerified: boolean;
  notes: string[];
  method: ApplyMethod;
  /** Commands sent to the router (each one round trip). */
  roundTrips: number;
}

export interface BatchOptions {
  /** 12 hex digits; default from node:crypto. Tests pass a fixed one. */
  nonce?: string;
}

/** Picks the method from the target's capabilities and applies the plan; see the file comment. */
export async function applyBatch(run: RunCommand, target: BatchTarget, commands: readonly string[], options: BatchOptions = {}): Promise<BatchOutcome> {
  const nonce = options.nonce ?? randomBytes(6).toString('hex');
  const maxLineBytes = target.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const counter = { roundTrips: 0 };
  const counted: RunCommand = (spec) => {
    counter.roundTrips++;
    return run(spec);
  };
  if (commands.length === 0) return { applied: [], failed: null, isVerified: true, notes: [], method: target.isShell ? (target.restore ? 'restore' : 'shell-batch') : 'line-by-line', roundTrips: 0 };
  const notes: string[] = [];
  const done = (result: MethodResult): BatchOutcome => {
    const { applied, failed, isVerified, method } = result;
    return { applied, failed, isVerified, method, notes: [...notes, ...describe(result, counter.roundTrips, target.family === 6 ? 'ip6tables-restore' : 'iptables-restore')], roundTrips: counter.roundTrips };
  };

  if (target.isShell && target.restore !== null) {
    const delivery = planRestoreDelivery(commands, { restoreCommand: target.restore.command, maxLineBytes, nonce, family: target.family ?? 4 });
    if (delivery === null) notes.push('the plan cannot be written as an iptables-restore script: applying it with the shell instead');
    else {
      const result = await deliverRestore(counted, delivery, commands, nonce);
      if (result.outcome !== null) return done(result.outcome);
      notes.push(result.whyFallback);
    }
  }
  if (target.isShell) {
    const lines = planShellBatch(commands, { maxLineBytes, nonce, family: target.family ?? 4 });
    if (lines !== null) return done(await deliverShellBatch(counted, lines, nonce));
    notes.push('a command of the plan cannot be joined in a shell line: applying it line by line');
  }
  return done(await deliverLineByLine(counted, target.iptables.where, commands));
}

function describe(outcome: MethodResult, roundTrips: number, restore: string): string[] {
  const trips = `${roundTrips} round trip${roundTrips === 1 ? '' : 's'}`;
  if (outcome.method === 'restore') {
    if (outcome.failed === null) return [`applied ${outcome.applied.length} commands in one ${restore} transaction (${trips})`];
    return [outcome.isUnread ? `could not read what ${restore} answered: the listing shows what is in place` : `${restore} refused the plan as a whole: nothing was changed`];
  }
  if (outcome.method === 'shell-batch') {
    return [outcome.failed === null ? `applied ${outcome.applied.length} commands in ${trips} (shell lines joined with &&)` : `applied ${outcome.applied.length} commands before the failure (${trips})`];
  }
  return [];
}
