import { Box, Text } from 'ink';
import { useTheme } from '../theme.js';
import type { KeyHint } from '../footer-line.js';

export type { KeyHint } from '../footer-line.js';

/** The always-visible key line: "q back · ? help · …", cut at the terminal edge. */
export function Footer({ hints, extra }: { hints: readonly KeyHint[]; extra?: string }) {
  const theme = useTheme();
  return (
    <Box>
      <Text wrap="truncate-end">
        {/* Position first: at narrow widths it matters more than the key list's tail. */}
        {extra ? <Text {...theme.accent}>{`${extra} · `}</Text> : null}
        {hints.map((h, i) => (
          <Text key={h.keys}>
            {i > 0 ? <Text {...theme.dim}> · </Text> : null}
            <Text bold>{h.keys}</Text>
            <Text {...theme.dim}> {h.action}</Text>
          </Text>
        ))}
      </Text>
    </Box>
  );
}
