// Folding an iptables-restore script into few, short printf commands: a run of rule lines that
// differ in one word (one rule per host) becomes one printf format reused per host, the rest is
// printed plainly, and every printf is cut to fit a shell line (issue 13, item 6: the 36 kB script
// of 254 hosts goes in 8 lines of 450 bytes).
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
export function printfCommands(pieces: readonly Piece[], maxCost: number): string[] | null {
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
