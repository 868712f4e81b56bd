// Pure column layout for the Ink tables: which columns fit in `width`, and how wide each is.
// Lowest priority goes first, so a narrow terminal drops columns instead of wrapping rows.
import { MAX_ADDRESS_LENGTH } from '../domain/address.js';

export interface ColumnSpec<Id extends string = string> {
  id: Id;
  header: string;
  width: number;
  /** Columns may grow up to this width with leftover space (e.g. the name). */
  maxWidth?: number;
  /**
   * When the row is too wide and this is the lowest-priority column left, it shrinks toward this
   * width (cells cut with '…') before it is dropped: an IPv6 address column down to the IPv4 width.
   */
  minWidth?: number;
  align?: 'left' | 'right';
  /** Higher = kept longer. */
  priority: number;
}

export interface PlacedColumn<Id extends string = string> extends ColumnSpec<Id> {
  width: number;
}

export const COLUMN_GAP = 1;

export function layoutColumns<Id extends string>(specs: readonly ColumnSpec<Id>[], width: number): PlacedColumn<Id>[] {
  let shown = specs.map((c) => ({ ...c }));
  const used = (cols: readonly ColumnSpec<Id>[]) => cols.reduce((sum, c) => sum + c.width, 0) + COLUMN_GAP * Math.max(0, cols.length - 1);
  while (shown.length > 1 && used(shown) > width) {
    const lowest = shown.reduce((min, c) => (c.priority < min.priority ? c : min));
    const floor = lowest.minWidth ?? lowest.width;
    if (lowest.width > floor) lowest.width = Math.max(floor, lowest.width - (used(shown) - width));
    else shown = shown.filter((c) => c !== lowest);
  }
  let spare = Math.max(0, width - used(shown));
  return shown.map((c) => {
    const grow = Math.min(spare, Math.max(0, (c.maxWidth ?? c.width) - c.width));
    spare -= grow;
    // A single column wider than the terminal is squeezed rather than overflowing.
    return { ...c, width: Math.max(1, Math.min(c.width + grow, width)) };
  });
}

/** The width that shows every row's address whole: the longest one, up to MAX_ADDRESS_LENGTH. */
export function addressColumnWidth(rows: Iterable<{ readonly ip: string | null }>): number {
  let longest = 0;
  const measure = (row: { readonly ip: string | null }) => {
    if (row.ip !== null && row.ip.length > longest) longest = row.ip.length;
  };
  if (Array.isArray(rows)) (rows as ReadonlyArray<{ readonly ip: string | null }>).forEach(measure);
  else for (const row of rows) measure(row);
  return Math.min(longest, MAX_ADDRESS_LENGTH);
}

/**
 * `specs` with column `id` widened to `width` (an IPv6 address column), shrinking back to its own
 * width (the IPv4 width) before it is dropped. The same array when the column is wide enough.
 */
export function widenColumn<Id extends string>(specs: readonly ColumnSpec<Id>[], id: Id, width: number): readonly ColumnSpec<Id>[] {
  if (!specs.some((c) => c.id === id && width > c.width)) return specs;
  return specs.map((c) => (c.id === id ? { ...c, width, minWidth: c.width } : c));
}

// Terminal cells per code point: combining marks and zero-width characters take none, East Asian
// wide/fullwidth characters and emoji take two. Approximate (as every terminal is), but enough to
// keep a row of hostile or foreign hostnames aligned without a dependency.
const ZERO_WIDTH = /[\p{Mn}\p{Me}\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufe00-\ufe0f\ufeff]/u;
const WIDE = /[\u1100-\u115f\u231a\u231b\u2329\u232a\u23e9-\u23ec\u23f0\u23f3\u25fd\u25fe\u2614\u2615\u2648-\u2653\u267f\u2693\u26a1\u26aa\u26ab\u26bd\u26be\u26c4\u26c5\u26ce\u26d4\u26ea\u26f2\u26f3\u26f5\u26fa\u26fd\u2705\u270a\u270b\u2728\u274c\u274e\u2753-\u2755\u2757\u2795-\u2797\u27b0\u27bf\u2b1b\u2b1c\u2b50\u2b55\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\ua960-\ua97f\uac00-\ud7a3\uf900-\ufaff\ufe10-\ufe19\ufe30-\ufe6f\uff00-\uff60\uffe0-\uffe6\u{1f300}-\u{1f64f}\u{1f680}-\u{1f6ff}\u{1f900}-\u{1f9ff}\u{1fa70}-\u{1faff}\u{20000}-\u{3fffd}]/u;

export function charWidth(char: string): number {
  const code = char.codePointAt(0) ?? 0;
  const known = knownWidth(code);
  if (known >= 0) return known;
  if (ZERO_WIDTH.test(char)) return 0;
  return WIDE.test(char) ? 2 : 1;
}

// Controls and ASCII; Latin before the combining marks, arrows, box drawing and blocks (bars,
// sparklines, ▶): without the two tests above (the live table has ~40 such characters per row).
function knownWidth(code: number): number {
  if (code < 0x7f) return code >= 0x20 ? 1 : 0;
  if (code < 0x300 || (code >= 0x2190 && code <= 0x21ff) || (code >= 0x2500 && code <= 0x25fc)) return 1;
  return -1;
}

export function displayWidth(text: string): number {
  // By index: iterating a string with for…of makes an object per character until V8 optimises it.
  let width = 0;
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    const known = knownWidth(code);
    if (known >= 0) width += known;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      width += charWidth(text.slice(i, i + 2));
      i += 1;
    } else width += charWidth(text[i]!);
  }
  return width;
}

/** Pads or cuts (already sanitised) text to exactly `width` terminal cells. */
export function fitText(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  let used = displayWidth(text);
  if (used > width) {
    // Cut to width-1 cells and mark the cut; a wide char that would straddle the edge goes too.
    const room = width <= 1 ? width : width - 1;
    let out = '';
    used = 0;
    for (const char of text) {
      const w = charWidth(char);
      if (used + w > room) break;
      out += char;
      used += w;
    }
    if (width > 1) {
      out += '…';
      used += 1;
    }
    return out + ' '.repeat(Math.max(0, width - used));
  }
  const gap = ' '.repeat(width - used);
  return align === 'right' ? gap + text : text + gap;
}
