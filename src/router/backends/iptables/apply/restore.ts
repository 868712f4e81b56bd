// The whole plan as one `iptables-restore --noflush` transaction, printed by `printf` in lines the
// shell accepts and piped into it: all or nothing, in as few round trips as the line budget allows.
import { sanitizeBlock } from '../../../../sanitize.js';
import { parseIptablesCommand, shellQuote } from './iptables-words.js';
import { MIN_LINE_BYTES } from '../../../firmware/line-budget.js';
import { marker, NONCE_PATTERN, readMarker, withoutMarker } from './markers.js';
import { refusal, type MethodResult, type RunCommand } from './method-result.js';
import { foldScriptLines, printfCommands } from './printf-folding.js';

const PROGRAM_PATH = /^[A-Za-z0-9_./-]+$/;

/**
 * The plan as `iptables-restore --noflush` input for the filter table, or null when a command
 * cannot be expressed (the caller then applies it another way).
 *
 * `-N X` stays a command line instead of becoming `:X - [0:0]`: with --noflush, `:X` of a chain
 * that exists FLUSHES it (both backends, iptables 1.8.9, apply-batch-netns.test.ts), which would
 * wipe the counters of a chain created since the plan's listing; `-N X` fails on it instead,
 * exactly as the command line does, and the transaction is refused as a whole. Line k + 2 of the
 * script is commands[k] (line 1 is `*filter`).
 */
export function toRestoreScript(commands: readonly string[]): string | null {
  const lines = restoreLines(commands);
  return lines === null ? null : lines.join('\n') + '\n';
}

function restoreLines(commands: readonly string[]): string[] | null {
  const lines = ['*filter'];
  for (const command of commands) {
    const parsed = parseIptablesCommand(command);
    if (parsed === null) return null;
    lines.push(command.slice(parsed.binary.length + 1));
  }
  lines.push('COMMIT');
  return lines;
}

/** The 1-based script line an iptables-restore error names, or null. */
export function failedScriptLine(output: string): number | null {
  // legacy: "iptables-restore: line 3 failed", "Error occurred at line: 4";
  // nft: "iptables-nft-restore: line 2 failed: Chain already exists.", "line 2: CHAIN_DEL failed (…)".
  const m = /\bline:?\s+(\d{1,7})\b/i.exec(output);
  return m ? Number(m[1]) : null;
}

export interface RestoreDelivery {
  /** Shell lines in order; all but the last store printf commands in `_C` and print nothing. */
  lines: string[];
  /** The script the lines feed to iptables-restore. */
  script: string;
}

/**
 * The shell lines that feed the restore script to iptables-restore: a large plan's printf commands
 * are first kept in the shell variable `_C` (`_C=$_C'…'`, one line per round trip), then the last
 * line runs `{ eval "$_C"&&printf …||echo w >&2;}|iptables-restore --noflush` and echoes its exit
 * status (`r<status>`); `w` says a printf failed (then the input lacks COMMIT, or is empty if
 * printf is missing — the one case where iptables-restore exits 0 having done nothing). A small
 * plan is that last line alone: one round trip. No temp file: nothing to clean up, nothing to
 * fork but the restore itself (measured: a file plus `rm` cost ~3 ms more per apply).
 */
export function planRestoreDelivery(commands: readonly string[], options: { restoreCommand: string; maxLineBytes: number; nonce: string }): RestoreDelivery | null {
  const lines = restoreLines(commands);
  if (lines === null || !PROGRAM_PATH.test(options.restoreCommand) || !NONCE_PATTERN.test(options.nonce) || options.maxLineBytes < MIN_LINE_BYTES) return null;
  const tail = `||${marker(options.nonce, 'w')} >&2;}|${options.restoreCommand} --noflush 2>&1;${marker(options.nonce, 'r$?')}`;
  const finalLine = (printfs: readonly string[], isStored: boolean) => `{ ${[...(isStored ? ['eval "$_C"'] : []), ...printfs].join('&&')}${tail}${isStored ? ';_C=' : ''}`;
  const storeLine = (printfs: readonly string[], isFirst: boolean) => `_C=${isFirst ? '' : '$_C'}${shellQuote((isFirst ? '' : '&&') + printfs.join('&&'))}`;
  const printfs = printfCommands(foldScriptLines(lines), options.maxLineBytes - 10);
  if (printfs === null || printfs.length === 0) return null;
  if (finalLine(printfs, false).length <= options.maxLineBytes) return { lines: [finalLine(printfs, false)], script: lines.join('\n') + '\n' };
  const out: string[] = [];
  let current: string[] = [];
  for (const p of printfs) {
    if (current.length > 0 && storeLine([...current, p], out.length === 0).length > options.maxLineBytes) {
      out.push(storeLine(current, out.length === 0));
      current = [];
    }
    current.push(p);
  }
  // The last printf commands go in the restore line itself when they fit.
  if (out.length > 0 && finalLine(current, true).length <= options.maxLineBytes) out.push(finalLine(current, true));
  else {
    out.push(storeLine(current, out.length === 0));
    out.push(finalLine([], true));
  }
  return { lines: out, script: lines.join('\n') + '\n' };
}

/** outcome null: iptables-restore did not run (or got no input), fall back; nothing was changed. */
export async function deliverRestore(run: RunCommand, delivery: RestoreDelivery, commands: readonly string[], nonce: string): Promise<{ outcome: MethodResult | null; whyFallback: string }> {
  for (const [index, line] of delivery.lines.entries()) {
    const output = await run({ command: line, where: 'shell' });
    if (index < delivery.lines.length - 1) {
      // Storing printf commands in a variable prints nothing; anything else means the shell read
      // the line differently: forget what was stored, apply another way.
      if (output.trim() === '') continue;
      await run({ command: '_C=', where: 'shell' });
      return { outcome: null, whyFallback: `the router's shell did not take the batch as sent (${describeOutput(output, null)}): applying with the shell instead` };
    }
    const status = readMarker(output, nonce, 'r');
    const isWriteFailed = readMarker(output, nonce, 'w') !== null;
    const said = withoutMarker(output, nonce);
    if (status === '0' && !isWriteFailed) return { outcome: { applied: [...commands], failed: null, isVerified: true, method: 'restore' }, whyFallback: '' };
    if (status === null) {
      // The line ran, but its result is unreadable: never claim that nothing changed.
      return { outcome: { applied: [], failed: refusal('iptables-restore --noflush', said), isVerified: false, method: 'restore', isUnread: true }, whyFallback: '' };
    }
    // A line number in range: iptables-restore refused that command (a printf that failed after
    // it stopped reading is only the echo of that). Otherwise, when printf failed or the restore
    // could not start, nothing was committed: apply another way.
    const scriptLine = status === '0' ? null : failedScriptLine(said);
    if (scriptLine !== null && scriptLine >= 2 && scriptLine < commands.length + 2) {
      return { outcome: { applied: [], failed: refusal(commands[scriptLine - 2]!, said), isVerified: false, method: 'restore' }, whyFallback: '' };
    }
    if (isWriteFailed || status === '126' || status === '127') {
      return { outcome: null, whyFallback: `${isWriteFailed ? 'the shell could not print the iptables-restore script' : 'iptables-restore could not be started'} (${describeOutput(said, status)}): applying with the shell instead` };
    }
    return { outcome: { applied: [], failed: refusal('iptables-restore --noflush', said), isVerified: false, method: 'restore' }, whyFallback: '' };
  }
  return { outcome: null, whyFallback: 'nothing to restore' };
}

function describeOutput(said: string, status: string | null): string {
  const first = sanitizeBlock(said.trim(), 120, 1).trim();
  return first !== '' ? first : status === null ? 'no answer lantop could read' : `exit status ${status}`;
}
