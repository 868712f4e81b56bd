// Plain aligned text tables for TTY output. Cells are sanitised here, at display time: router
// text (hostnames) may carry escape sequences and must never reach the terminal raw.
import { sanitizeText } from '../sanitize.js';

export interface Column<Row> {
  header: string;
  value: (row: Row) => string;
  align?: 'left' | 'right';
  /** Longest a cell may be before it is cut with '…'. */
  maxWidth?: number;
  /**
   * When the table is too wide and this is the lowest-priority column left, it is first cut down
   * to this width (an IPv6 address to the IPv4 width), and dropped only if that is not enough.
   */
  minWidth?: number;
  /** Lower = dropped first when the terminal is too narrow. */
  priority?: number;
}

/** The longest IPv4 address: an address column is cut no narrower (IPv4 is never cut). */
export const IPV4_COLUMN_WIDTH = 15;

const widthOf = (text: string) => [...text].length;

/**
 * Renders rows as an aligned table no wider than `width` (when given): lowest-priority columns are
 * dropped first rather than wrapping (a column with a minWidth is cut down to it before it goes).
 */
export function renderTable<Row>(rows: readonly Row[], columns: readonly Column<Row>[], width?: number): string {
  let shown = [...columns];
  const cutTo = new Map<Column<Row>, number>();
  const limitOf = (c: Column<Row>) => cutTo.get(c) ?? c.maxWidth ?? 64;
  const cells = (cols: Column<Row>[]) => rows.map((row) => cols.map((c) => sanitizeText(c.value(row), limitOf(c))));
  for (;;) {
    const body = cells(shown);
    const widths = shown.map((c, i) => Math.max(widthOf(c.header), ...body.map((r) => widthOf(r[i] ?? ''))));
    const total = widths.reduce((a, b) => a + b, 0) + 2 * Math.max(0, widths.length - 1);
    if (width !== undefined && total > width && shown.length > 1) {
      const lowest = shown.reduce((min, c) => ((c.priority ?? 0) < (min.priority ?? 0) ? c : min), shown[shown.length - 1]!);
      const lowestWidth = widths[shown.indexOf(lowest)]!;
      const floor = Math.max(lowest.minWidth ?? lowestWidth, widthOf(lowest.header));
      if (lowestWidth > floor) {
        cutTo.set(lowest, Math.max(floor, lowestWidth - (total - width)));
        continue;
      }
      shown = shown.filter((c) => c !== lowest);
      continue;
    }
    const pad = (text: string, i: number) => {
      const w = widths[i] ?? 0;
      const gap = ' '.repeat(Math.max(0, w - widthOf(text)));
      return shown[i]?.align === 'right' ? gap + text : text + gap;
    };
    const lines = [shown.map((c, i) => pad(c.header, i)).join('  '), ...body.map((r) => r.map((t, i) => pad(t, i)).join('  '))];
    return lines.map((l) => l.trimEnd()).join('\n') + '\n';
  }
}

/** RFC 4180 CSV; cells that a spreadsheet would run as a formula are prefixed with a quote. */
export type CsvCell = string | number | boolean | null;
export function renderCsv(header: readonly string[], rows: ReadonlyArray<ReadonlyArray<CsvCell>>): string {
  const escape = (value: CsvCell): string => {
    if (value === null) return '';
    if (typeof value !== 'string') return String(value);
    let text = sanitizeText(value, 10_000);
    if (/^[=+\-@]/.test(text)) text = `'${text}`;
    return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  return [header, ...rows].map((r) => r.map(escape).join(',')).join('\n') + '\n';
}
