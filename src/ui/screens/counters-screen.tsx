// Custom counters (issue 18): the counters `lantop counter add` stored, as the last poll counted
// them — totals since each counter's reset, rates over the last poll. Renders the snapshot the
// controller's polls hand it (watch), nothing else; q / Esc back.
import { useEffect, useState } from 'react';
import { Box, Text } from 'ink';
import type { RouterController } from '../../app/types.js';
import type { Snapshot } from '../../domain/snapshot.js';
import { Footer } from '../components/footer.js';
import { Spinner } from '../components/spinner.js';
import { useTerminalSize } from '../use-terminal-size.js';
import { useTheme } from '../theme.js';
import { isBackKey, useKeys } from '../use-keys.js';
import { countersView, NO_COUNTERS_HINT } from './counters-lines.js';

export interface CountersScreenProps {
  controller: RouterController;
  isInputActive: boolean;
  onBack: () => void;
}

export function CountersScreen({ controller, isInputActive, onBack }: CountersScreenProps) {
  const theme = useTheme();
  const { columns: width } = useTerminalSize();
  const [snapshot, setSnapshot] = useState<Snapshot | null>(null);
  useEffect(() => controller.watch(setSnapshot), [controller]);
  useKeys((input, key) => {
    if (isBackKey(input, key)) onBack();
  }, isInputActive);
  const view = countersView(snapshot, width);
  return (
    <Box flexDirection="column">
      <Text bold wrap="truncate-end">
        Custom counters
      </Text>
      <Box flexDirection="column" marginY={1}>
        {view.kind === 'waiting' ? <Spinner label="Waiting for the first poll…" /> : null}
        {view.kind === 'none' ? <Text wrap="wrap">{NO_COUNTERS_HINT}</Text> : null}
        {view.kind === 'table'
          ? view.lines.map((line, i) => (
              <Text key={i} wrap="truncate-end" {...(i === 0 ? theme.dim : {})}>
                {line}
              </Text>
            ))
          : null}
      </Box>
      <Footer hints={[{ keys: 'q / Esc', action: 'back' }, { keys: '?', action: 'help' }]} />
    </Box>
  );
}
