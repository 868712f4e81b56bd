// Applies a rule plan in as few round trips as the router allows (issue 13, item 6: `setup` of 239
// hosts took 34.7 s line by line, and after a reboot nothing was counted until the last command).
//
//   restore      the whole plan as one `iptables-restore --noflush` transaction, printed by
//                `printf` in lines the shell accepts and piped into it; all or nothing.
//   shell-batch  no iptables-restore: the commands joined with `&&` into lines, stopping at the
//                first failure; the FORWARD jump goes in a line of its own after its chains.
//   line-by-line no shell (vendor CLI only): one command per round trip, as before.
//
// Everything here is pure except applyBatch(), which talks through one `run` function. Every word
// sent comes from the planner's command lines, re-validated here against a small alphabet; the
// nonce comes from node:crypto, never from the router. Router output is only searched for our own
// markers and for a line number, and is sanitised before it is returned.
import { randomBytes } from 'node:crypto';
import { sanitizeBlock } from '../sanitize.js';
import type { ShellMode } from '../transport/session.js';
import { classifyRouterOutput, type RouterOutputProblem } from './parsers/router-errors.js';

/**
 * Longest line sent to a shell, before the transport's own sentinel (`; echo "__LANTOP""_END_…"`,
 * 40 bytes) is added. Measured through a pty (issue 13): a pty in canonical mode keeps 4095 bytes
 * (dash, bash, a vendor CLI reading with `read`); BusyBox ash with line editing keeps
 * CONFIG_FEATURE_EDITING_MAX_LEN − 2: 1022 with BusyBox's default of 1024 (libbb/Config.src;
 * Debian's build, measured, and the lab test in apply-batch.test.ts) and 510 with OpenWrt's 512
 * (package/utils/busybox/Config-defaults.in). A longer line is cut silently: its closing quote is
 * lost and the shell waits for more (nothing runs; the command times out). 450 + 40 fits OpenWrt;
 * maxLineBytesForShell() gives more to shells known to take it.
 */
export const DEFAULT_MAX_LINE_BYTES = 450;
/** Below this not even one rule line and its redirections fit: batching is not attempted. */
const MIN_LINE_BYTES = 200;
/** Line period tried when folding repeated rule lines into one printf format (flat layout: 2). */
const MAX_TEMPLATE_PERIOD = 2;
/** A line for a shell that reads through the pty's canonical mode only (4095 bytes), with room to spare. */
export const PLAIN_SHELL_MAX_LINE_BYTES = 3000;

/**
 * The line budget for a shell, from what `readlink /proc/$$/exe` answered in it (the probe the
 * firmware table can run once): dash and bash read the line through the pty's canonical mode and
 * keep 4095 bytes; BusyBox ash (or no answer) may have a line editor with any limit from 128 up,
 * so the safe default stays. An exec channel without a pty has no line limit worth the name.
 */
export function maxLineBytesForShell(exePath: string | null, channel: 'pty' | 'exec' = 'pty'): number {
  if (channel === 'exec') return PLAIN_SHELL_MAX_LINE_BYTES;
  const name = (exePath ?? '').trim().split('/').pop() ?? '';
  return /^(?:dash|bash|ksh|mksh|zsh)$/.test(name) ? PLAIN_SHELL_MAX_LINE_BYTES : DEFAULT_MAX_LINE_BYTES;
}

export type ApplyMethod = 'restore' | 'shell-batch' | 'line-by-line';

/** Where the router runs iptables and iptables-restore, as the firmware table says. */
export interface BatchTarget {
  iptables: { binary: string; where: ShellMode };
  /** iptables-restore in the shell; null when the router has none. */
  restore: { command: string; where: 'shell' } | null;
  /** A POSIX shell is reachable (`;`, `&&`, `$?`, `printf`); false: vendor CLI only. */
  isShell: boolean;
  /** See DEFAULT_MAX_LINE_BYTES. */
  maxLineBytes?: number;
}

export type RunCommand = (spec: { command: string; where: ShellMode }) => Promise<string>;

/** The outcome RouterClient.apply returns (ApplyOutcome), plus how it was applied. */
export interface BatchOutcome {
  /** Commands now in effect, in plan order. With restore: all of them or none. */
  applied: string[];
  failed: { command: string; output: string; problem: RouterOutputProblem | null } | null;
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

// ---------------------------------------------------------------------------------------------
// Commands → words

/** Words a shell reads literally without quoting (`!` is history expansion in an interactive bash). */
const BARE_WORD = /^[A-Za-z0-9_.,:/+=@-]+$/;
const IPTABLES_BINARY = /^(?:\/[A-Za-z0-9_./-]*\/)?iptables(?:-legacy|-nft)?$/;
const PROGRAM_PATH = /^[A-Za-z0-9_./-]+$/;
const ACTIONS = new Set(['-N', '-A', '-I', '-D', '-F', '-X', '-R']);
/** Actions that must name a chain (-F and -X without one would act on every chain). */
const NEEDS_CHAIN = new Set(['-N', '-A', '-I', '-D', '-R']);

export interface ParsedCommand {
  binary: string;
  action: string;
  chain: string | null;
  /** Everything after the binary, as iptables-restore reads it. */
  words: string[];
}

/**
 * A character iptables-restore or a shell might read as more than itself (quotes, `$`, `#`, `;`,
 * globs, controls…); words are separated by single blanks. One scan per rule: this runs 500 times
 * per set-up.
 */
const UNSAFE_CHAR = /[^A-Za-z0-9_.,:/+=!@ -]/;

/** The binary of the previous command, already checked (plans repeat it on every line). */
let lastBinary = '';

/** An iptables command line of the planner, or null when it is anything else. */
export function parseIptablesCommand(command: string): ParsedCommand | null {
  if (typeof command !== 'string' || command.length > 2000 || UNSAFE_CHAR.test(command)) return null;
  if (command.startsWith(' ') || command.endsWith(' ') || command.includes('  ')) return null;
  const words = command.split(' ');
  const [binary, action, chain] = words;
  if (binary === undefined || (binary !== lastBinary && !IPTABLES_BINARY.test(binary))) return null;
  lastBinary = binary;
  if (action === undefined || !ACTIONS.has(action)) return null;
  if (NEEDS_CHAIN.has(action) && chain === undefined) return null;
  for (let i = 2; i < words.length; i++) {
    const word = words[i]!;
    // Another table, or a second command in one line: not what the planner writes.
    if (word === '-t' || word === '--table' || (ACTIONS.has(word) && words[i - 1] !== '-j')) return null;
  }
  return { binary, action, chain: chain ?? null, words: words.slice(1) };
}

/** The words of a command, each quoted only where a shell would read it otherwise. */
function shellWords(words: readonly string[]): string {
  return words.map((w) => (BARE_WORD.test(w) ? w : shellQuote(w))).join(' ');
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

// ---------------------------------------------------------------------------------------------
// The restore script

/**
 * The plan as `iptables-restore --noflush` input for the filter table, or null when a command
 * cannot be expressed (the caller then applies it another way).
 *
 * `-N X` stays a command line instead of becoming `:X - [0:0]`: with --noflush, `:X` of a chain
 * that exists FLUSHES it (both backends, iptables 1.8.9, apply-batch.test.ts), which would wipe
 * the counters of a chain created since the plan's listing; `-N X` fails on it instead, exactly as
 * the command line does, and the transaction is refused as a whole. Line k + 2 of the script is
 * commands[k] (line 1 is `*filter`).
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

// ---------------------------------------------------------------------------------------------
// Folding repeated lines into printf formats

/**
 * A run of script lines written by one printf format, reused once per block (POSIX printf reuses
 * its format while arguments remain; BusyBox printf too). Block b of a period-p run is lines
 * start + b·p … start + b·p + p − 1; each line differs from block 0's only in one word, whose
 * varying middle becomes the %s argument.
 */
interface Template {
  kind: 'template';
  /** printf format (already escaped for printf, not yet for the shell). */
  format: string;
  /** Arguments per block (the number of %s in the format). */
  argsPerBlock: number;
  /** All arguments, block after block. */
  args: string[];
  /** The script lines it writes (written plainly when the format itself is too long for a line). */
  lines: string[];
}
interface Plain {
  kind: 'plain';
  lines: string[];
}
type Piece = Template | Plain;

function printfLiteral(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/%/g, '%%');
}

/** Longest common prefix and suffix of the values, leaving every value at least one character. */
function commonEnds(values: readonly string[]): { prefix: number; suffix: number } {
  const first = values[0]!;
  let shortest = first.length;
  for (const v of values) if (v.length < shortest) shortest = v.length;
  let prefix = shortest - 1;
  let suffix = shortest - 1;
  for (const v of values) {
    let p = 0;
    while (p < prefix && v.charCodeAt(p) === first.charCodeAt(p)) p++;
    prefix = p;
  }
  suffix = shortest - 1 - prefix;
  for (const v of values) {
    let q = 0;
    while (q < suffix && v.charCodeAt(v.length - 1 - q) === first.charCodeAt(first.length - 1 - q)) q++;
    suffix = q;
  }
  return { prefix, suffix };
}

/** How many blocks of period p repeat from start, and which word varies in each residue line. */
function measureRun(words: readonly string[][], start: number, period: number): { blocks: number; varying: Array<number | null> } {
  const varying: Array<number | null> = new Array<number | null>(period).fill(null);
  let blocks = 1;
  for (;;) {
    const base = start + blocks * period;
    if (base + period > words.length) break;
    let isMatch = true;
    const next = varying.slice();
    for (let r = 0; r < period && isMatch; r++) {
      const a = words[start + r]!;
      const c = words[base + r]!;
      if (a.length !== c.length) {
        isMatch = false;
        break;
      }
      for (let j = 0; j < a.length; j++) {
        if (a[j] === c[j]) continue;
        if (next[r] === null) next[r] = j;
        else if (next[r] !== j) {
          isMatch = false;
          break;
        }
      }
    }
    if (!isMatch) break;
    for (let r = 0; r < period; r++) varying[r] = next[r]!;
    blocks++;
  }
  return { blocks, varying };
}

function buildTemplate(words: readonly string[][], start: number, period: number, blocks: number, varying: ReadonlyArray<number | null>): Template {
  const formats: string[] = [];
  const columns: string[][] = [];
  for (let r = 0; r < period; r++) {
    const line = words[start + r]!;
    const j = varying[r];
    if (j === null || j === undefined) {
      formats.push(printfLiteral(line.join(' ')));
      continue;
    }
    const values: string[] = [];
    for (let b = 0; b < blocks; b++) values.push(words[start + b * period + r]![j]!);
    const { prefix, suffix } = commonEnds(values);
    const first = values[0]!;
    const word = printfLiteral(first.slice(0, prefix)) + '%s' + printfLiteral(first.slice(first.length - suffix));
    formats.push([...line.slice(0, j).map(printfLiteral), word, ...line.slice(j + 1).map(printfLiteral)].join(' '));
    columns.push(values.map((v) => v.slice(prefix, v.length - suffix)));
  }
  const args: string[] = [];
  for (let b = 0; b < blocks; b++) for (const column of columns) args.push(column[b]!);
  // A format that starts with '-' reads as an option to printf (dash, bash; old BusyBox shows its
  // usage even for `--`): the octal escape \055 prints the same '-'.
  let format = formats.map((f) => `${f}\\n`).join('');
  if (format.startsWith('-')) format = '\\055' + format.slice(1);
  return { kind: 'template', format, argsPerBlock: columns.length, args, lines: [] };
}

const plainBytes = (lines: readonly string[]) => lines.reduce((n, l) => n + l.length + 3, 0);

/** The script lines as pieces: folded runs where that is shorter, plain lines elsewhere. */
export function foldScriptLines(lines: readonly string[]): Piece[] {
  const words = lines.map((l) => l.split(' '));
  const pieces: Piece[] = [];
  let plain: string[] = [];
  let i = 0;
  while (i < lines.length) {
    let best: { period: number; blocks: number; varying: Array<number | null> } | null = null;
    for (let p = 1; p <= MAX_TEMPLATE_PERIOD && i + 2 * p <= lines.length; p++) {
      const run = measureRun(words, i, p);
      if (run.blocks < 4 || !run.varying.some((v) => v !== null)) continue;
      if (best === null || run.blocks * p > best.blocks * best.period) best = { period: p, ...run };
    }
    if (best !== null) {
      const template = buildTemplate(words, i, best.period, best.blocks, best.varying);
      const covered = lines.slice(i, i + best.blocks * best.period);
      template.lines = covered;
      if (template.format.length + template.args.reduce((n, a) => n + a.length + 1, 0) + 10 < plainBytes(covered)) {
        if (plain.length > 0) pieces.push({ kind: 'plain', lines: plain });
        plain = [];
        pieces.push(template);
        i += best.blocks * best.period;
        continue;
      }
    }
    plain.push(lines[i]!);
    i++;
  }
  if (plain.length > 0) pieces.push({ kind: 'plain', lines: plain });
  return pieces;
}

/** Bytes a command takes once single-quoted for `_C=$_C'…'` (each ' becomes '\''). */
function quotedCost(text: string): number {
  let quotes = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 39) quotes++;
  return text.length + 3 * quotes + 2;
}

/** printf commands that write the pieces, each costing at most maxCost once quoted. */
function printfCommands(pieces: readonly Piece[], maxCost: number): string[] | null {
  const out: string[] = [];
  for (const piece of pieces) {
    const chunks = printfChunks(piece, maxCost) ?? (piece.kind === 'template' ? printfChunks({ kind: 'plain', lines: piece.lines }, maxCost) : null);
    if (chunks === null) return null; // one script line alone does not fit
    out.push(...chunks);
  }
  return out;
}

function printfChunks(piece: Piece, maxCost: number): string[] | null {
  const head = piece.kind === 'plain' ? `printf '%s\\n'` : `printf ${shellQuote(piece.format)}`;
  const items = piece.kind === 'plain' ? piece.lines.map(shellQuote) : piece.args.map((a) => (BARE_WORD.test(a) ? a : shellQuote(a)));
  const step = piece.kind === 'plain' ? 1 : piece.argsPerBlock;
  const out: string[] = [];
  let current = head;
  let cost = quotedCost(head);
  for (let k = 0; k < items.length; k += step) {
    const group = ' ' + items.slice(k, k + step).join(' ');
    const groupCost = quotedCost(group) - 2;
    if (current !== head && cost + groupCost > maxCost) {
      out.push(current);
      current = head;
      cost = quotedCost(head);
    }
    if (cost + groupCost > maxCost) return null;
    current += group;
    cost += groupCost;
  }
  if (current !== head) out.push(current);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Shell lines for each method

/** `echo` of a status marker; the split quotes keep the echoed command from matching itself. */
function marker(nonce: string, status: string): string {
  return `echo "__LT""ST_${nonce}_${status}__"`;
}

/** The value of our marker of this kind (`r` → the `0` of `__LTST_<nonce>_r0__`), or null. */
export function readMarker(output: string, nonce: string, kind: 'r' | 'w' | 'a'): string | null {
  const m = new RegExp(`__LTST_${nonce}_${kind}([0-9]*)__`).exec(output);
  return m ? m[1]! : null;
}

/** The output without our marker lines (what the router said). */
function withoutMarker(output: string, nonce: string): string {
  return output.split('\n').filter((line) => !line.includes(`__LTST_${nonce}_`)).join('\n').trim();
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
  if (lines === null || !PROGRAM_PATH.test(options.restoreCommand) || !/^[0-9a-f]{12}$/.test(options.nonce) || options.maxLineBytes < MIN_LINE_BYTES) return null;
  const tail = `||echo "__LT""ST_${options.nonce}_w__" >&2;}|${options.restoreCommand} --noflush 2>&1;echo "__LT""ST_${options.nonce}_r$?__"`;
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

export interface ShellBatchLine {
  line: string;
  /** The plan's commands this line runs, in order. */
  commands: string[];
}

/** True for commands that touch FORWARD: the jump into lantop's chains and its clean-up. */
function isJumpCommand(parsed: ParsedCommand): boolean {
  return parsed.chain === 'FORWARD';
}

/**
 * Commands joined with `&&` into shell lines; each line reports how many of its commands
 * succeeded (`a<count>`). A run of FORWARD commands (the jump) never shares a line with chain
 * commands, so the jump goes in only after every line before it succeeded. Null when a command
 * cannot be parsed.
 */
export function planShellBatch(commands: readonly string[], options: { maxLineBytes: number; nonce: string }): ShellBatchLine[] | null {
  if (!/^[0-9a-f]{12}$/.test(options.nonce)) return null;
  const head = '_L=0;';
  const tail = `;${marker(options.nonce, 'a${_L}')}`;
  const out: ShellBatchLine[] = [];
  let body = '';
  let batch: string[] = [];
  let isJumpBatch = false;
  for (const command of commands) {
    const parsed = parseIptablesCommand(command);
    if (parsed === null) return null;
    const text = `${shellWords([parsed.binary])} ${shellWords(parsed.words)}`;
    const isJump = isJumpCommand(parsed);
    const nextBody = `${body}${batch.length === 0 ? '' : '&&'}${text}&&_L=${batch.length + 1}`;
    if (batch.length > 0 && (isJump !== isJumpBatch || head.length + nextBody.length + tail.length > options.maxLineBytes)) {
      out.push({ line: head + body + tail, commands: batch });
      body = `${text}&&_L=1`;
      batch = [command];
    } else {
      body = nextBody;
      batch.push(command);
    }
    isJumpBatch = isJump;
  }
  if (batch.length > 0) out.push({ line: head + body + tail, commands: batch });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Applying

function refusal(command: string, output: string): BatchOutcome['failed'] {
  return { command, output: sanitizeBlock(output, 200, 6), problem: classifyRouterOutput(output) };
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
  const done = (result: Result): BatchOutcome => {
    const { applied, failed, isVerified, method } = result;
    return { applied, failed, isVerified, method, notes: [...notes, ...describe(result, counter.roundTrips)], roundTrips: counter.roundTrips };
  };

  if (target.isShell && target.restore !== null) {
    const delivery = planRestoreDelivery(commands, { restoreCommand: target.restore.command, maxLineBytes, nonce });
    if (delivery === null) notes.push('the plan cannot be written as an iptables-restore script: applying it with the shell instead');
    else {
      const result = await deliverRestore(counted, delivery, commands, nonce);
      if (result.outcome !== null) return done(result.outcome);
      notes.push(result.whyFallback);
    }
  }
  if (target.isShell) {
    const lines = planShellBatch(commands, { maxLineBytes, nonce });
    if (lines !== null) return done(await deliverShellBatch(counted, lines, nonce));
    notes.push('a command of the plan cannot be joined in a shell line: applying it line by line');
  }
  return done(await deliverLineByLine(counted, target.iptables.where, commands));
}

type Result = Omit<BatchOutcome, 'roundTrips' | 'notes'> & { isUnread?: boolean };

function describe(outcome: Result, roundTrips: number): string[] {
  const trips = `${roundTrips} round trip${roundTrips === 1 ? '' : 's'}`;
  if (outcome.method === 'restore') {
    if (outcome.failed === null) return [`applied ${outcome.applied.length} commands in one iptables-restore transaction (${trips})`];
    return [outcome.isUnread ? 'could not read what iptables-restore answered: the listing shows what is in place' : 'iptables-restore refused the plan as a whole: nothing was changed'];
  }
  if (outcome.method === 'shell-batch') {
    return [outcome.failed === null ? `applied ${outcome.applied.length} commands in ${trips} (shell lines joined with &&)` : `applied ${outcome.applied.length} commands before the failure (${trips})`];
  }
  return [];
}

/** outcome null: iptables-restore did not run (or got no input), fall back; nothing was changed. */
async function deliverRestore(run: RunCommand, delivery: RestoreDelivery, commands: readonly string[], nonce: string): Promise<{ outcome: Result | null; whyFallback: string }> {
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

async function deliverShellBatch(run: RunCommand, lines: readonly ShellBatchLine[], nonce: string): Promise<Result> {
  const applied: string[] = [];
  for (const { line, commands } of lines) {
    const output = await run({ command: line, where: 'shell' });
    const status = readMarker(output, nonce, 'a');
    const said = withoutMarker(output, nonce);
    const number = status !== null && /^\d+$/.test(status) ? Number(status) : null;
    const count = number !== null && number <= commands.length ? number : null;
    if (count === commands.length) {
      applied.push(...commands);
      continue;
    }
    // count null: the line's result is unreadable; report its first command, claim none of it.
    if (count !== null) applied.push(...commands.slice(0, count));
    return { applied, failed: refusal(commands[count ?? 0]!, said), isVerified: false, method: 'shell-batch' };
  }
  return { applied, failed: null, isVerified: true, method: 'shell-batch' };
}

/** The old way, for a vendor CLI: judged by text (iptables prints nothing on success). */
async function deliverLineByLine(run: RunCommand, where: ShellMode, commands: readonly string[]): Promise<Result> {
  const applied: string[] = [];
  for (const command of commands) {
    const output = await run({ command, where });
    const problem = classifyRouterOutput(output);
    if (problem !== null || output.trim() !== '') {
      return { applied, failed: { command, output: sanitizeBlock(output, 200, 6), problem }, isVerified: false, method: 'line-by-line' };
    }
    applied.push(command);
  }
  return { applied, failed: null, isVerified: true, method: 'line-by-line' };
}
