// A plan as ONE `nft -f -` transaction: nft commits the whole script or nothing (measured:
// fixtures/nftables/1.0.6/apply-errors.txt, a syntax error on line 2 leaves line 1 unapplied). The
// script is printed by printf commands folded as for iptables-restore (../iptables/apply/
// printf-folding.ts: one format per run of per-host lines) and piped into nft:
//
//   _S=$(printf … && printf …)&&{ printf '%s\n' "$_S"|nft -f - 2>&1;echo "__LTST_<nonce>_r$?__";}||echo "__LTST_<nonce>_w__";_S=
//
// The script is collected first: unlike iptables-restore (no COMMIT, no change), nft would commit
// whatever part of a script reached it, so it runs only once every printf succeeded. When that line
// is longer than the shell takes, the printf commands are first stored in `_C` in pieces (each
// quoted on its own) and the last line runs `_S=$(eval "$_C")…` and clears `_C` (as restore.ts).
// A shell without batching gets the commands one `nft '…'` at a time (not atomic; said so).
//
// Every line is re-checked here against the grammar the planner writes (verb, object, `inet
// lantop`, a small alphabet): nothing else can reach the router's shell. The nonce comes from
// node:crypto; router output is only searched for our markers and nft's `FILE:LINE:COL: Error:`.
import { randomBytes } from 'node:crypto';
import { sanitizeBlock } from '../../../sanitize.js';
import { MIN_LINE_BYTES } from '../../firmware/line-budget.js';
import { classifyRouterOutput } from '../../parsers/router-errors.js';
import type { ApplyOutcome, RunCommand } from '../backend.js';
import { marker, NONCE_PATTERN, readMarker, withoutMarker } from '../iptables/apply/markers.js';
import { foldScriptLines, printfScript } from '../iptables/apply/printf-folding.js';
import { TABLE } from './layouts.js';

const PROGRAM_PATH = /^[A-Za-z0-9_./-]{1,200}$/;
const scriptLine = (table: string) => new RegExp(`^(?:create|add|delete|flush) (?:table|set|chain|rule|element) ${table}(?: [A-Za-z0-9_.,:/+@{}";= -]*)?$`);
const SCRIPT_LINE = scriptLine(TABLE);
/** lantop's other table (blocking, ../nftables/block-backend.ts): the same grammar, its own name. */
const BLOCK_SCRIPT_LINE = scriptLine('inet lantop_block');

/** A line of a plan, as planNftInstall/Flush/Remove write them; anything else is refused. */
export function isNftScriptLine(line: string): boolean {
  return isScriptLineOf(line, 'lantop');
}

function isScriptLineOf(line: string, table: 'lantop' | 'lantop_block' = 'lantop'): boolean {
  return typeof line === 'string' && line.length <= 400 && (table === 'lantop' ? SCRIPT_LINE : BLOCK_SCRIPT_LINE).test(line) && !line.includes('  ') && !line.endsWith(' ');
}

const shellQuote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

export interface NftDelivery {
  /** Shell lines in order; all but the last store printf commands in `_C` and print nothing. */
  lines: string[];
  /** The script nft reads: line k is commands[k − 1]. */
  script: string;
}

/** The shell lines that feed the script to `nft -f -`; null when a line is not the planner's. */
export function planNftDelivery(commands: readonly string[], options: { nft: string; maxLineBytes: number; nonce: string; table?: 'lantop' | 'lantop_block' }): NftDelivery | null {
  if (commands.length === 0 || !commands.every((c) => isScriptLineOf(c, options.table)) || !PROGRAM_PATH.test(options.nft) || !NONCE_PATTERN.test(options.nonce)) return null;
  if (options.maxLineBytes < MIN_LINE_BYTES) return null;
  const script = commands.join('\n') + '\n';
  const tail = `&&{ printf '%s\\n' "$_S"|${options.nft} -f - 2>&1;${marker(options.nonce, 'r$?')};}||${marker(options.nonce, 'w')};_S=`;
  const body = printfScript(foldedPieces(commands));
  const single = `_S=$(${body})${tail}`;
  if (single.length <= options.maxLineBytes) return { lines: [single], script };
  const final = `_S=$(eval "$_C")${tail};_C=`;
  const out: string[] = [];
  let start = 0;
  while (start < body.length) {
    const prefix = out.length === 0 ? '_C=' : '_C=$_C';
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

/**
 * The script as printf pieces, folded run by run: a run is lines of one shape (the same words but
 * the address), e.g. the IPv4 download rules. Folding across a change of shape would make the
 * protocol word vary too, and the addresses of both families share no prefix (issue 15: 254 hosts
 * of each family took 10 lines of 972 bytes that way, 4 this way).
 */
function foldedPieces(commands: readonly string[]): ReturnType<typeof foldScriptLines> {
  const pieces: ReturnType<typeof foldScriptLines> = [];
  const fold = (run: string[]) => {
    for (const piece of foldScriptLines(run)) {
      const last = pieces[pieces.length - 1];
      // Plain lines of several runs go in one printf.
      if (piece.kind === 'plain' && last?.kind === 'plain') last.lines.push(...piece.lines);
      else pieces.push(piece);
    }
  };
  let run: string[] = [];
  let shape = '';
  for (const command of commands) {
    const next = command.replace(/ [0-9a-f:.]*[:.][0-9a-f:.]* /g, ' A ');
    if (next !== shape && run.length > 0) {
      fold(run);
      run = [];
    }
    shape = next;
    run.push(command);
  }
  if (run.length > 0) fold(run);
  return pieces;
}

/** Bytes of text[from, to) once single-quoted. */
function quotedLength(text: string, from: number, to: number): number {
  let n = 2;
  for (let i = from; i < to; i++) n += text.charCodeAt(i) === 39 ? 4 : 1;
  return n;
}

/** The end of the longest piece from `from` that takes at most `budget` bytes quoted. */
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

/** The 1-based script line of nft's first error (`/dev/stdin:3:22-28: Error: …`), or null. */
export function failedNftLine(output: string): number | null {
  const m = /^[^\s:]*:(\d{1,7}):\d{1,7}(?:-\d{1,7})?: Error:/m.exec(output);
  return m ? Number(m[1]) : null;
}

function refused(command: string, output: string): NonNullable<ApplyOutcome['failed']> {
  return { command, output: sanitizeBlock(output, 200, 6), problem: classifyRouterOutput(output) };
}

export interface NftApplyTarget {
  nft: string;
  maxLineBytes: number;
  /** A POSIX shell that batches (`$(…)`, `&&`, `{ …; }`, printf); false: one command per line. */
  isShell: boolean;
  nonce?: string;
  /** Which of lantop's tables the lines may name (default: the accounting table). */
  table?: 'lantop' | 'lantop_block';
}

/** Applies the plan; see the file comment. */
export async function applyNftScript(run: RunCommand, target: NftApplyTarget, commands: readonly string[]): Promise<ApplyOutcome> {
  if (commands.length === 0) return { applied: [], failed: null, isVerified: true, notes: [] };
  const bad = commands.find((c) => !isScriptLineOf(c, target.table));
  if (bad !== undefined || !PROGRAM_PATH.test(target.nft)) {
    return { applied: [], failed: { command: bad ?? target.nft, output: 'not a command lantop writes: nothing was sent', problem: null }, isVerified: false, notes: [] };
  }
  const nonce = target.nonce ?? randomBytes(6).toString('hex');
  const delivery = target.isShell ? planNftDelivery(commands, { nft: target.nft, maxLineBytes: target.maxLineBytes, nonce, ...(target.table ? { table: target.table } : {}) }) : null;
  if (delivery === null) return applyOneByOne(run, target.nft, commands, target.isShell ? 'the shell line budget is too small for a batch' : 'the shell does not batch');
  const trips = (n: number) => `${n} round trip${n === 1 ? '' : 's'}`;
  for (const [index, line] of delivery.lines.entries()) {
    const output = await run({ command: line, where: 'shell' });
    if (index < delivery.lines.length - 1) {
      if (output.trim() === '') continue;
      await run({ command: '_C=', where: 'shell' });
      return { applied: [], failed: refused('nft -f -', output), isVerified: false, notes: ['the router\'s shell did not take the batch as sent: nothing was changed'] };
    }
    const status = readMarker(output, nonce, 'r');
    const said = withoutMarker(output, nonce);
    if (status === '0') return { applied: [...commands], failed: null, isVerified: true, notes: [`applied ${commands.length} commands in one nft transaction (${trips(delivery.lines.length)})`] };
    if (status === null) {
      const isWriteFailed = readMarker(output, nonce, 'w') !== null;
      const note = isWriteFailed ? 'the shell could not print the nft script: nft was not run, nothing was changed' : 'could not read what nft answered: the listing shows what is in place';
      return { applied: [], failed: refused('nft -f -', said), isVerified: false, notes: [note] };
    }
    const scriptLine = failedNftLine(said);
    const command = scriptLine !== null && scriptLine >= 1 && scriptLine <= commands.length ? commands[scriptLine - 1]! : 'nft -f -';
    return { applied: [], failed: refused(command, said), isVerified: false, notes: ['nft refused the script as a whole: nothing was changed'] };
  }
  return { applied: [], failed: null, isVerified: true, notes: [] };
}

/** One `nft '<command>'` per round trip, stopping at the first answer that is not silence. */
async function applyOneByOne(run: RunCommand, nft: string, commands: readonly string[], why: string): Promise<ApplyOutcome> {
  const applied: string[] = [];
  for (const command of commands) {
    const output = await run({ command: `${nft} ${shellQuote(command)}`, where: 'shell' });
    if (output.trim() !== '') return { applied, failed: refused(command, output), isVerified: false, notes: [`${why}: applied ${applied.length} command(s) one by one before the refusal`] };
    applied.push(command);
  }
  return { applied, failed: null, isVerified: true, notes: [`${why}: applied ${commands.length} command(s) one by one (not as one transaction)`] };
}
