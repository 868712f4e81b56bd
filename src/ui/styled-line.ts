// Pure: terminal lines as styled spans, turned into one string each. Lines whose text changes on
// every poll (the live table, the status line) are drawn from these strings instead of nested
// <Text> nodes: Ink 6.8 measures every distinct <Text> string with string-width and keeps it in a
// cache that is never emptied (vadimdemedes/ink#986): the live table drawn as <Text> rows cost
// ~25 ms per frame at 160×50 and kept ~30 kB more heap after every poll (issue 21).
import type { TextProps } from 'ink';
import { COLUMN_GAP, charWidth, displayWidth, fitText, type PlacedColumn } from './columns.js';

export interface Span {
  readonly text: string;
  readonly style?: TextProps | undefined;
}

/** One terminal line; the text is already sanitised. */
export type StyledLine = readonly Span[];

export type Cells = Readonly<Record<string, string>>;

interface Sgr {
  open: string;
  close: string;
}

// The codes chalk writes for the TextProps the theme uses (Ink's <Text> styles through chalk).
const FOREGROUND: Readonly<Record<string, number>> = {
  black: 30, red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, white: 37,
  gray: 90, grey: 90, blackBright: 90, redBright: 91, greenBright: 92, yellowBright: 93,
  blueBright: 94, magentaBright: 95, cyanBright: 96, whiteBright: 97,
};
const NO_SGR: Sgr = { open: '', close: '' };
const sgrCache = new Map<string, Sgr>();

/** SGR open/close codes for a style (bold, dim, italic, underline, inverse, strikethrough, named colours). */
export function sgrOf(style: TextProps | undefined): Sgr {
  if (style === undefined) return NO_SGR;
  const key = `${style.bold ? 'b' : ''}${style.dimColor ? 'd' : ''}${style.italic ? 'i' : ''}${style.underline ? 'u' : ''}${style.inverse ? 'v' : ''}${style.strikethrough ? 's' : ''}:${style.color ?? ''}`;
  let sgr = sgrCache.get(key);
  if (sgr === undefined) {
    const opens: string[] = [];
    const closes: string[] = [];
    const add = (on: number, off: number) => {
      opens.push(`\u001b[${on}m`);
      closes.unshift(`\u001b[${off}m`);
    };
    if (style.bold) add(1, 22);
    if (style.dimColor) add(2, 22);
    if (style.italic) add(3, 23);
    if (style.underline) add(4, 24);
    if (style.inverse) add(7, 27);
    if (style.strikethrough) add(9, 29);
    const color = typeof style.color === 'string' ? FOREGROUND[style.color] : undefined;
    if (color !== undefined) add(color, 39);
    sgr = { open: opens.join(''), close: closes.join('') };
    sgrCache.set(key, sgr);
  }
  return sgr;
}

/** The line as one string, with SGR codes when `isStyled` (what Ink's chalk would colour). */
export function lineText(line: StyledLine, isStyled: boolean): string {
  let out = '';
  for (const span of line) {
    if (span.text === '') continue;
    if (!isStyled || span.style === undefined) {
      out += span.text;
      continue;
    }
    const sgr = sgrOf(span.style);
    out += sgr.open + span.text + sgr.close;
  }
  return out;
}

/** An inner style on an outer one, as nested <Text> renders: the inner colour wins, attributes add up. */
export function nestStyle(outer: TextProps | undefined, inner: TextProps | undefined): TextProps | undefined {
  if (outer === undefined) return inner;
  if (inner === undefined) return outer;
  return {
    ...outer,
    ...inner,
    bold: outer.bold === true || inner.bold === true,
    dimColor: outer.dimColor === true || inner.dimColor === true,
    color: inner.color ?? outer.color,
  };
}

/** Cut to `width` terminal cells, the last visible one an ellipsis, like Ink's wrap="truncate-end". */
export function truncateLine(line: StyledLine, width: number): StyledLine {
  let used = 0;
  for (const span of line) used += displayWidth(span.text);
  if (used <= width) return line;
  if (width <= 0) return [];
  const room = width - 1;
  const out: Span[] = [];
  used = 0;
  for (const span of line) {
    let text = '';
    for (const char of span.text) {
      const w = charWidth(char);
      if (used + w > room) {
        out.push({ text: text + '…', style: span.style });
        return out;
      }
      text += char;
      used += w;
    }
    if (text !== '') out.push({ text, style: span.style });
  }
  return out;
}

const GAP = ' '.repeat(COLUMN_GAP);

/**
 * One table row: each cell padded or cut to its column, one space between columns, trailing
 * blanks dropped. Columns with their own style (the share bar) nest it in the row's style.
 */
export function tableRowLine(
  columns: readonly PlacedColumn[],
  cells: Cells,
  rowStyle?: TextProps,
  columnStyles?: Readonly<Record<string, TextProps>>,
): StyledLine {
  const spans: Span[] = [];
  let plain = '';
  for (let i = 0; i < columns.length; i++) {
    const column = columns[i]!;
    const text = fitCell(cells[column.id] ?? '', column);
    const gap = i < columns.length - 1 ? GAP : '';
    const columnStyle = columnStyles?.[column.id];
    if (columnStyle) {
      if (plain) spans.push({ text: plain, style: rowStyle });
      spans.push({ text, style: nestStyle(rowStyle, columnStyle) });
      plain = gap;
    } else {
      plain += text + gap;
    }
  }
  const tail = plain.trimEnd();
  if (tail) spans.push({ text: tail, style: rowStyle });
  return spans;
}

// Printable ASCII is one cell per character (most cells: rates, totals, addresses): pad without measuring.
export function fitCell(text: string, column: Pick<PlacedColumn, 'width' | 'align'>): string {
  if (text.length <= column.width && isPlainAscii(text)) return column.align === 'right' ? text.padStart(column.width) : text.padEnd(column.width);
  return fitText(text, column.width, column.align);
}

function isPlainAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code > 0x7e) return false;
  }
  return true;
}
