// Pure column layout for the Ink tables: which columns fit in `width`, and how wide each is.
// Lowest priority goes first, so a narrow terminal drops columns instead of wrapping rows.

export interface ColumnSpec<Id extends string = string> {
  id: Id;
  header: string;
  width: number;
  /** Columns may grow up to this width with leftover space (e.g. the name). */
  maxWidth?: number;
  align?: 'left' | 'right';
  /** Higher = kept longer. */
  priority: number;
}

export interface PlacedColumn<Id extends string = string> extends ColumnSpec<Id> {
  width: number;
}

export const COLUMN_GAP = 1;

export function layoutColumns<Id extends string>(specs: readonly ColumnSpec<Id>[], width: number): PlacedColumn<Id>[] {
  let shown = [...specs];
  const used = (cols: readonly ColumnSpec<Id>[]) => cols.reduce((sum, c) => sum + c.width, 0) + COLUMN_GAP * Math.max(0, cols.length - 1);
  while (shown.length > 1 && used(shown) > width) {
    const lowest = shown.reduce((min, c) => (c.priority < min.priority ? c : min));
    shown = shown.filter((c) => c !== lowest);
  }
  let spare = Math.max(0, width - used(shown));
  return shown.map((c) => {
    const grow = Math.min(spare, Math.max(0, (c.maxWidth ?? c.width) - c.width));
    spare -= grow;
    // A single column wider than the terminal is squeezed rather than overflowing.
    return { ...c, width: Math.max(1, Math.min(c.width + grow, width)) };
  });
}

/** Pads or cuts plain (already sanitised, single-width) text to exactly `width` characters. */
export function fitText(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  const chars = [...text];
  if (chars.length > width) return width <= 1 ? chars.slice(0, width).join('') : chars.slice(0, width - 1).join('') + '…';
  const gap = ' '.repeat(width - chars.length);
  return align === 'right' ? gap + text : text + gap;
}
