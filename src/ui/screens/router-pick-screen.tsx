// Which router? (issue 20): before a menu action that acts on one router, the routers with their
// state; ↑↓ (j/k) or a number moves, Enter opens the screen on that router, q/Esc back to the menu.
// The cursor starts on the router the live screen shows (else the one used last).
import { Box, Text, type Key } from 'ink';
import { Footer } from '../components/footer.js';
import { useTheme } from '../theme.js';
import { useRouterRedraw } from '../use-router-redraw.js';
import { MENU_ITEMS, type AppAction } from '../use-app-state.js';
import { linkText, type RouterSet } from '../router-set.js';
import type { RouterScreen } from '../use-router-select-state.js';
import { isBackKey, useKeys } from '../use-keys.js';
import { sanitizeText } from '../../sanitize.js';

export interface RouterPickScreenProps {
  routers: RouterSet;
  /** The screen the chosen router opens, and the picker's cursor. */
  screen: RouterScreen;
  cursor: number;
  now: () => number;
  dispatch: (action: AppAction) => void;
  isInputActive: boolean;
}

export function pickKeyAction(input: string, key: Key, count: number): AppAction | null {
  if (key.ctrl) return null;
  if (key.upArrow || input === 'k') return { type: 'pickMove', by: -1 };
  if (key.downArrow || input === 'j' || key.tab) return { type: 'pickMove', by: 1 };
  if (key.return) return { type: 'pickChoose' };
  if (isBackKey(input, key)) return { type: 'back' };
  const n = /^[1-9]$/.test(input) ? Number(input) : 0;
  if (n >= 1 && n <= count) return { type: 'pickSelect', index: n - 1 };
  return null;
}

export function RouterPickScreen({ routers, screen, cursor, now, dispatch, isInputActive }: RouterPickScreenProps) {
  const theme = useTheme();
  useRouterRedraw(routers);
  useKeys((input, key) => {
    const action = pickKeyAction(input, key, routers.entries.length);
    if (action !== null) dispatch(action);
  }, isInputActive);
  const statuses = routers.statuses(now());
  const label = MENU_ITEMS.find((item) => item.screen === screen)?.label ?? screen;
  const nameWidth = Math.min(24, Math.max(...routers.entries.map((e) => sanitizeText(e.name, 24).length)));
  return (
    <Box flexDirection="column">
      <Text wrap="truncate-end">
        <Text bold>Which router?</Text> <Text {...theme.dim}>· for {label}</Text>
      </Text>
      <Box flexDirection="column" marginY={1}>
        {routers.entries.map((entry, i) => {
          const status = statuses[i];
          const isSelected = i === cursor;
          const state = status === undefined ? '… connecting' : linkText(status, 100);
          const style = status?.link === 'up' ? theme.ok : status?.link === 'down' ? theme.error : theme.warn;
          return (
            <Text key={entry.key} wrap="truncate-end">
              <Text {...(isSelected ? theme.selected : {})}>
                {isSelected ? '❯ ' : '  '}
                {i < 9 ? `${i + 1} ` : '  '}
                {sanitizeText(entry.name, 24).padEnd(nameWidth)}
              </Text>
              {'  '}
              <Text {...style}>{state}</Text>
              <Text {...theme.dim}>{`  ${sanitizeText(entry.controller.label, 60)}`}</Text>
            </Text>
          );
        })}
      </Box>
      <Footer
        hints={[
          { keys: '↑↓ 1-9', action: 'choose' },
          { keys: 'Enter', action: 'open' },
          { keys: 'q/Esc', action: 'back' },
          { keys: '?', action: 'help' },
        ]}
      />
    </Box>
  );
}
