// The whole plan as one `iptables-restore --noflush` transaction, printed by `printf` in lines the
// shell accepts and piped into it: all or nothing, in as few round trips as the line budget allows.
import { sanitizeBlock } from '../../../../sanitize.js';
import type { AddressFamily } from '../../../../domain/address.js';
import { parseIptablesCommand, shellQuote } from './iptables-words.js';
import { MIN_LINE_BYTES } from '../../../firmware/line-budget.js';
import { marker, NONCE_PATTERN, readMarker, withoutMarker } from './markers.js';
import { refusal, type MethodResult, type RunCommand } from './method-result.js';
import { foldScriptLines, printfScript } from './printf-folding.js';

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
export function toRestoreScript(commands: readonly string[], family: AddressFamily = 4): string | null {
  const lines = restoreLines(commands, family);
  return lines === null ? null : lines.join('\n') + '\n';
}

function restoreLines(commands: readonly string[], family: AddressFamily): string[] | null {
  const lines = ['*filter'];
  for (const command of commands) {
    const parsed = parseIptablesCommand(command, family);
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
  /** Shell lines in order; all but the last append to the shell variable `_C` and print nothing. */
  lines: string[];
  /** The script the lines feed to iptables-restore. */
  script: string;
}

/**
 * The shell lines that feed the restore script to iptables-restore. The printf commands that
 * write the script (printf-folding.ts) run as `{ …||echo w >&2;}|iptables-restore --noflush` and
 * the line echoes the exit status (`r<status>`); `w` says a printf failed (then the input lacks
 * COMMIT, or is empty if printf is missing — the one case where iptables-restore exits 0 having done
 * nothing). When that is longer than the line budget, the commands' text is first appended to the
 * shell variable `_C` in as few lines as the budget allows (`_C='…'`, `_C=$_C'…'`, cut anywhere:
 * each piece is quoted on its own), and the last line runs `{ eval "$_C"||…` and clears `_C`. No
 * temp file: nothing to clean up, nothing to fork but the restore itself (measured: a file plus
 * `rm` cost ~3 ms more per apply). Round trips are what costs (BusyBox ash with line editing takes
 * ~20 ms per line, measured in the lab, issue 21), so every line is filled.
 */
export function planRestoreDelivery(commands: readonly string[], options: { restoreCommand: string; maxLineBytes: number; nonce: string; family?: AddressFamily }): RestoreDelivery | null {
  const lines = restoreLines(commands, options.family ?? 4);
  if (lines === null || !PROGRAM_PATH.test(options.restoreCommand) || !NONCE_PATTERN.test(options.nonce) || options.maxLineBytes < MIN_LINE_BYTES) return null;
  const script = lines.join('\n') + '\n';
  const tail = `||${marker(options.nonce, 'w')} >&2;}|${options.restoreCommand} --noflush 2>&1;${marker(options.nonce, 'r$?')}`;
  const body = printfScript(foldScriptLines(lines));
  const single = `{ ${body}${tail}`;
  if (single.length <= options.maxLineBytes) return { lines: [single], script };
  const final = `{ eval "$_C"${tail};_C=`;
  const out: string[] = [];
  let start = 0;
  while (start < body.length) {
    const prefix = out.length === 0 ? '_C=' : '_C=$_C';
    // The rest in front of the last line when it fits there, else as much as fits in a line of its own.
    const rest = quotedLength(body, start, body.length);
    if (out.length > 0 && prefix.length + rest + 1 + final.length <= options.maxLineBytes) {
      out.push(`${prefix}${shellQuote(body.slice(start))};${final}`);
      return { lines: out, script };
    }
    const end = cutAt(body, start, options.maxLineBytes - prefix.length);
    if (end === start) return null;
    out.push(prefix + shellQuote(body.slice(start, end)));
    start = end;
  }
  out.push(final);
  return { lines: out, script };
}

/** Bytes of text[from, to) once single-quoted (each ' becomes '\'', plus the two quotes). */
function quotedLength(text: string, from: number, to: number): number {
  let n = 2;
  for (let i = from; i < to; i++) n += text.charCodeAt(i) === 39 ? 4 : 1;
  return n;
}

/** The end of the longest piece of text from `from` that takes at most `budget` bytes quoted. */
function cutAt(text: string, from: number, budget: number): number {
  let n = 2;
  let i = from;
  while (i < text.length) {
    const cost = text.charCodeAt(i) === 39 ? 4 : 1;
    if (n + cost > budget) break;
    n += cost;
    i++;
  }
  return i;
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
