// The live screen's combined view of several routers (issue 20): one table with a ROUTER column,
// a subtotal per router and an overall total that counts each byte once (combined-lines.ts), each
// router's state on one line (a router that is down says why and the others go on). Redrawn on
// every router's poll and once a second (poll ages; a router whose polls stop goes down).
import { useRef, useState } from 'react';
import { Box, Text } from 'ink';
import { Footer } from '../components/footer.js';
import { useTerminalSize } from '../use-terminal-size.js';
import { useTheme } from '../theme.js';
import { useRouterRedraw } from '../use-router-redraw.js';
import type { RouterSet } from '../router-set.js';
import { scrollTopAfter } from '../scroll.js';
import { combinedLines } from './combined-lines.js';
import { useCombinedKeys } from './use-combined.js';

export interface CombinedScreenProps {
  routers: RouterSet;
  now: () => number;
  isInputActive: boolean;
  onRouterView: () => void;
  onBack: () => void;
}

export function CombinedScreen({ routers, now, isInputActive, onRouterView, onBack }: CombinedScreenProps) {
  const theme = useTheme();
  const { columns: width, rows } = useTerminalSize();
  const [scrollTop, setScrollTop] = useState(0);
  useRouterRedraw(routers);
  const lines = combinedLines({ entries: routers.entries, statuses: routers.statuses(now()), topology: routers.topology, width, rows, scrollTop, nowMs: now() });
  // Keys read the table's size at the key, not from an earlier render's closure.
  const size = useRef({ total: lines.total, viewportRows: lines.viewportRows });
  size.current = { total: lines.total, viewportRows: lines.viewportRows };
  useCombinedKeys({
    onScroll: (action) => setScrollTop((top) => scrollTopAfter(top, action, size.current.total, size.current.viewportRows)),
    onRouterView,
    onBack,
    isEnabled: isInputActive,
  });
  const styleOf = (link: 'up' | 'down' | 'connecting') => (link === 'up' ? theme.ok : link === 'down' ? theme.error : theme.warn);
  return (
    <Box flexDirection="column">
      <Text bold wrap="truncate-end">
        {lines.title}
      </Text>
      <Text wrap="truncate-end">
        {lines.routers.map((r, i) => (
          <Text key={i}>
            {i > 0 ? <Text {...theme.dim}> · </Text> : null}
            <Text {...styleOf(r.link)}>{r.text}</Text>
          </Text>
        ))}
      </Text>
      <Text> </Text>
      {lines.body.map((line, i) => (
        <Text key={i} wrap="truncate-end">
          {line === '' ? ' ' : line}
        </Text>
      ))}
      <Footer
        extra={lines.position || undefined}
        hints={[
          { keys: 'r', action: 'next view: each router, then combined' },
          { keys: '↑↓', action: 'scroll' },
          { keys: 'q/Esc', action: 'back' },
          { keys: '?', action: 'help' },
        ]}
      />
    </Box>
  );
}
