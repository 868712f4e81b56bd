import { Box, Text } from 'ink';
import type { ErrorView } from '../text.js';
import { useTheme } from '../theme.js';

/** A failed controller call: what happened, what to do next, and what the router printed. */
export function ErrorPanel({ error }: { error: ErrorView }) {
  const theme = useTheme();
  return (
    <Box flexDirection="column">
      <Text {...theme.error} bold>
        ✗ {error.title}: <Text bold={false}>{error.message}</Text>
      </Text>
      {error.nextStep ? <Text>→ {error.nextStep}</Text> : null}
      {error.seen ? (
        <Box flexDirection="column" marginTop={1}>
          <Text {...theme.dim}>The router said:</Text>
          {error.seen.split('\n').map((line, i) => (
            <Text key={i} wrap="truncate-end">
              {'  '}
              {line}
            </Text>
          ))}
        </Box>
      ) : null}
    </Box>
  );
}
