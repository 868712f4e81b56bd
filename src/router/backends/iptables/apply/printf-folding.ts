// Folding an iptables-restore script into few, short printf commands: a run of rule lines that
// differ in one word (one rule per host) becomes one printf format reused per host, the rest is
// printed plainly (issue 13, item 6: the 36 kB script of 254 hosts becomes 1.4 kB of shell text;
// restore.ts cuts that text into lines the shell takes).
import { BARE_WORD, shellQuote } from './iptables-words.js';

/** Line period tried when folding repeated rule lines into one printf format (flat layout: 2). */
const MAX_TEMPLATE_PERIOD = 2;

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

/**
 * Words that may vary in one line of a run: one host address, or (tree layout) an address and the
 * sub-chain it goes to. Each becomes a %s of the format.
 */
const MAX_VARYING_WORDS = 2;

/** How many blocks of period p repeat from start, and which words vary in each residue line. */
function measureRun(words: readonly string[][], start: number, period: number): { blocks: number; varying: number[][] } {
  let varying: number[][] = Array.from({ length: period }, () => []);
  let blocks = 1;
  for (;;) {
    const base = start + blocks * period;
    if (base + period > words.length) break;
    let isMatch = true;
    const next = varying.map((v) => v.slice());
    for (let r = 0; r < period && isMatch; r++) {
      const a = words[start + r]!;
      const c = words[base + r]!;
      if (a.length !== c.length) {
        isMatch = false;
        break;
      }
      const positions = next[r]!;
      for (let j = 0; j < a.length; j++) {
        if (a[j] === c[j] || positions.includes(j)) continue;
        if (positions.length === MAX_VARYING_WORDS) {
          isMatch = false;
          break;
        }
        positions.push(j);
      }
    }
    if (!isMatch) break;
    varying = next;
    blocks++;
  }
  for (const positions of varying) positions.sort((x, y) => x - y);
  return { blocks, varying };
}

function buildTemplate(words: readonly string[][], start: number, period: number, blocks: number, varying: ReadonlyArray<readonly number[]>): Template {
  const formats: string[] = [];
  const columns: string[][] = [];
  for (let r = 0; r < period; r++) {
    const line = words[start + r]!;
    const parts = line.map(printfLiteral);
    for (const j of varying[r]!) {
      const values: string[] = [];
      for (let b = 0; b < blocks; b++) values.push(words[start + b * period + r]![j]!);
      const { prefix, suffix } = commonEnds(values);
      const first = values[0]!;
      parts[j] = printfLiteral(first.slice(0, prefix)) + '%s' + printfLiteral(first.slice(first.length - suffix));
      columns.push(values.map((v) => v.slice(prefix, v.length - suffix)));
    }
    formats.push(parts.join(' '));
  }
  const args: string[] = [];
  for (let b = 0; b < blocks; b++) for (const column of columns) args.push(column[b]!);
  // A format that starts with '-' reads as an option to printf (dash, bash; old BusyBox shows its
  // usage even for `--`): the octal escape \055 prints the same '-'.
  let format = formats.map((f) => `${f}\\n`).join('');
  if (format.startsWith('-')) format = '\\055' + format.slice(1);
  return { kind: 'template', format, argsPerBlock: columns.length, args };
}

const plainBytes = (lines: readonly string[]) => lines.reduce((n, l) => n + l.length + 3, 0);

/** The script lines as pieces: folded runs where that is shorter, plain lines elsewhere. */
export function foldScriptLines(lines: readonly string[]): Piece[] {
  const words = lines.map((l) => l.split(' '));
  const pieces: Piece[] = [];
  let plain: string[] = [];
  let i = 0;
  while (i < lines.length) {
    let best: { period: number; blocks: number; varying: number[][] } | null = null;
    for (let p = 1; p <= MAX_TEMPLATE_PERIOD && i + 2 * p <= lines.length; p++) {
      const run = measureRun(words, i, p);
      if (run.blocks < 4 || !run.varying.some((v) => v.length > 0)) continue;
      if (best === null || run.blocks * p > best.blocks * best.period) best = { period: p, ...run };
    }
    if (best !== null) {
      const template = buildTemplate(words, i, best.period, best.blocks, best.varying);
      const covered = lines.slice(i, i + best.blocks * best.period);
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

/**
 * The shell commands that print the pieces, joined with `&&`: one printf per piece. A long argument
 * list, or one two templates share (the split layout's hosts, once per direction), is written once
 * into a variable `_A<n>` set just before its first use (wordListText: whole decades as a loop) and
 * expanded unquoted: its words are bare (digits, dots), so the shell splits them on blanks and
 * expands nothing else (issue 21: the 254-host plan shrinks from 2.3 kB to 0.6 kB of shell text).
 * The commands run in the pipeline's subshell, so the variables vanish with it.
 */
export function printfScript(pieces: readonly Piece[]): string {
  const uses = new Map<string, number>();
  for (const piece of pieces) {
    const key = listKey(piece);
    if (key !== null) uses.set(key, (uses.get(key) ?? 0) + 1);
  }
  const variables = new Map<string, string>();
  const out: string[] = [];
  for (const piece of pieces) {
    if (piece.kind === 'plain') {
      out.push(`printf '%s\\n' ${piece.lines.map(shellQuote).join(' ')}`);
      continue;
    }
    const key = listKey(piece);
    const text = key === null ? null : wordListText(piece.args);
    if (key !== null && text !== null && ((uses.get(key) ?? 0) > 1 || text.length + 16 < key.length)) {
      let name = variables.get(key);
      if (name === undefined) {
        name = `_A${variables.size + 1}`;
        variables.set(key, name);
        out.push(`${name}="${text}"`);
      }
      out.push(`printf ${shellQuote(piece.format)} $${name}`);
      continue;
    }
    out.push(`printf ${shellQuote(piece.format)} ${piece.args.map((a) => (BARE_WORD.test(a) ? a : shellQuote(a))).join(' ')}`);
  }
  return out.join('&&');
}

/** The argument list of a template as one variable's value, or null when it cannot be one. */
function listKey(piece: Piece): string | null {
  if (piece.kind !== 'template' || piece.args.length < 8) return null;
  for (const a of piece.args) if (!BARE_WORD.test(a)) return null;
  return piece.args.join(' ');
}

/** Consecutive whole decades worth a loop (fewer cost more as a loop than as words). */
const MIN_LOOP_DECADES = 3;

/**
 * Bare words as the inside of a double-quoted shell word that expands to exactly them, blank
 * separated. A run of whole decades — p0 … p9 for each of several consecutive prefixes p — is
 * printed by a loop that joins strings, no arithmetic: `$(for t in 1 2 3;do printf "$t%s " 0 1 2 3
 * 4 5 6 7 8 9;done)` writes 10 … 39. The prefixes are bare words too (no `%` or `\` for printf to
 * read), and the order of the words is kept.
 */
export function wordListText(words: readonly string[]): string {
  const parts: string[] = [];
  let loop: string[] = [];
  const flush = (): void => {
    if (loop.length >= MIN_LOOP_DECADES) parts.push(`$(for t in ${loop.join(' ')};do printf "$t%s " 0 1 2 3 4 5 6 7 8 9;done)`);
    else for (const p of loop) for (let d = 0; d < 10; d++) parts.push(`${p}${d} `);
    loop = [];
  };
  let i = 0;
  while (i < words.length) {
    const prefix = decadeAt(words, i);
    if (prefix !== null) {
      loop.push(prefix);
      i += 10;
      continue;
    }
    flush();
    parts.push(`${words[i]!} `);
    i++;
  }
  flush();
  return parts.join('').trimEnd();
}

/** p when words[i…i+9] are p0 … p9 (p not empty), else null. */
function decadeAt(words: readonly string[], i: number): string | null {
  if (i + 10 > words.length) return null;
  const first = words[i]!;
  if (first.length < 2 || !first.endsWith('0')) return null;
  const prefix = first.slice(0, -1);
  for (let d = 1; d < 10; d++) if (words[i + d] !== `${prefix}${d}`) return null;
  return prefix;
}
