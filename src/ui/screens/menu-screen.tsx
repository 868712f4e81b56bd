import { Box, Text } from 'ink';
import { MENU_ITEMS, type AppAction } from '../use-app-state.js';
import { Footer } from '../components/footer.js';
import { useTheme } from '../theme.js';
import { useMenuKeys } from './use-menu.js';
import { sanitizeText } from '../../sanitize.js';
import type { SubjectNoun } from '../../app/types.js';
import { routersSummary, type RouterSet } from '../router-set.js';
import { useRouterRedraw } from '../use-router-redraw.js';

export interface MenuScreenProps {
  label: string;
  menuIndex: number;
  dispatch: (action: AppAction) => void;
  onQuit: () => void;
  isInputActive: boolean;
  /** Several routers (issue 20): each one's state instead of "connected to"; actions then ask which. */
  routers?: RouterSet;
  now?: () => number;
  /** What the rows are (users mode, issue 18: "Connected users"); absent: devices. */
  noun?: SubjectNoun | undefined;
}

export function MenuScreen({ label, menuIndex, dispatch, onQuit, isInputActive, routers, now = Date.now, noun }: MenuScreenProps) {
  const theme = useTheme();
  useMenuKeys({ dispatch, onQuit, isEnabled: isInputActive });
  useRouterRedraw(routers);
  const where = routers === undefined ? `connected to ${sanitizeText(label, 120)}` : routersSummary(routers.entries, routers.statuses(now()));
  return (
    <Box flexDirection="column">
      <Text wrap="truncate-end">
        <Text bold>lantop</Text> <Text {...theme.dim}>· {where}</Text>
      </Text>
      <Box flexDirection="column" marginY={1}>
        {MENU_ITEMS.map((item, i) => {
          const isSelected = i === menuIndex;
          return (
            <Text key={item.key} {...(isSelected ? theme.selected : {})} wrap="truncate-end">
              {isSelected ? '❯ ' : '  '}
              {item.key} {noun !== undefined && item.screen === 'devices' ? `Connected ${noun.many}` : item.label}
            </Text>
          );
        })}
        <Text wrap="truncate-end">{'  '}q Quit</Text>
      </Box>
      <Footer
        hints={[
          { keys: `1-${MENU_ITEMS.length}`, action: 'open' },
          { keys: '↑↓ Enter', action: 'choose' },
          { keys: '?', action: 'help' },
          { keys: 'q', action: 'quit' },
        ]}
      />
    </Box>
  );
}
