// Aligned table rows for Ink. A row is ONE <Text> line (styled columns are nested <Text>, which
// Ink squashes into the same node): Ink's per-node output work dominates render time, so a box
// per cell made 254 hosts at 1 Hz expensive. Rows are memoised on their cell strings, so a poll
// that changes a few hosts re-renders only those rows.
import { memo, type ReactNode } from 'react';
import { Text, type TextProps } from 'ink';
import { COLUMN_GAP, fitText, type PlacedColumn } from '../columns.js';

export type Cells = Readonly<Record<string, string>>;

interface RowProps {
  columns: readonly PlacedColumn[];
  cells: Cells;
  /** Style for the whole row (e.g. the top talker). */
  style?: TextProps;
  /** Extra style for some columns (e.g. the share bar). */
  columnStyles?: Readonly<Record<string, TextProps>>;
}

const GAP = ' '.repeat(COLUMN_GAP);

function RowView({ columns, cells, style, columnStyles }: RowProps) {
  const parts: ReactNode[] = [];
  let plain = '';
  columns.forEach((column, i) => {
    const text = fitText(cells[column.id] ?? '', column.width, column.align);
    const gap = i < columns.length - 1 ? GAP : '';
    const columnStyle = columnStyles?.[column.id];
    if (columnStyle) {
      if (plain) parts.push(plain);
      plain = gap;
      parts.push(
        <Text key={column.id} {...columnStyle}>
          {text}
        </Text>,
      );
    } else {
      plain += text + gap;
    }
  });
  if (plain.trimEnd()) parts.push(plain.trimEnd());
  return (
    <Text wrap="truncate-end" {...style}>
      {parts}
    </Text>
  );
}

function sameRow(a: RowProps, b: RowProps): boolean {
  if (a.columns !== b.columns || a.style !== b.style || a.columnStyles !== b.columnStyles) return false;
  return a.columns.every((c) => a.cells[c.id] === b.cells[c.id]);
}

export const TableRow = memo(RowView, sameRow);

export function TableHeader({ columns, style }: { columns: readonly PlacedColumn[]; style?: TextProps }) {
  const cells: Record<string, string> = {};
  for (const c of columns) cells[c.id] = c.header;
  return <TableRow columns={columns} cells={cells} style={{ bold: true, ...style }} />;
}
