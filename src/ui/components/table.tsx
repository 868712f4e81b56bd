// Aligned table rows for Ink: fixed-width cells laid out by layoutColumns(). Rows are memoised
// on their cell strings, so a poll that changes a few hosts re-renders only those rows.
import { memo } from 'react';
import { Box, Text, type TextProps } from 'ink';
import { COLUMN_GAP, fitText, type PlacedColumn } from '../columns.js';

export type Cells = Readonly<Record<string, string>>;

interface RowProps {
  columns: readonly PlacedColumn[];
  cells: Cells;
  /** Style for the whole row (e.g. the top talker), merged under columnStyles. */
  style?: TextProps;
  columnStyles?: Readonly<Record<string, TextProps>>;
}

function RowView({ columns, cells, style, columnStyles }: RowProps) {
  return (
    <Box flexShrink={0} height={1} overflow="hidden">
      {columns.map((column, i) => (
        <Box key={column.id} width={column.width} flexShrink={0} marginRight={i < columns.length - 1 ? COLUMN_GAP : 0}>
          <Text wrap="truncate-end" {...style} {...columnStyles?.[column.id]}>
            {fitText(cells[column.id] ?? '', column.width, column.align)}
          </Text>
        </Box>
      ))}
    </Box>
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
