// Menu keys: a number opens its entry, arrows move, Enter opens the highlighted one, q/Esc quit.
import type { Key } from 'ink';
import { MENU_ITEMS, type AppAction } from '../use-app-state.js';
import { isBackKey, useKeys } from '../use-keys.js';

export type MenuKeyResult = AppAction | { type: 'quit' } | null;

export function menuKeyAction(menuIndex: number, input: string, key: Key): MenuKeyResult {
  if (key.ctrl) return null;
  const numbered = MENU_ITEMS.find((item) => item.key === input);
  if (numbered) return { type: 'open', screen: numbered.screen };
  if (key.upArrow || input === 'k') return { type: 'menuMove', by: -1 };
  if (key.downArrow || input === 'j' || key.tab) return { type: 'menuMove', by: 1 };
  if (key.home) return { type: 'menuSelect', index: 0 };
  if (key.end) return { type: 'menuSelect', index: MENU_ITEMS.length - 1 };
  if (key.return) {
    const item = MENU_ITEMS[menuIndex];
    return item ? { type: 'open', screen: item.screen } : null;
  }
  if (isBackKey(input, key)) return { type: 'quit' };
  return null;
}

export function useMenuKeys(options: { menuIndex: number; dispatch: (action: AppAction) => void; onQuit: () => void; isEnabled: boolean }): void {
  const { menuIndex, dispatch, onQuit, isEnabled } = options;
  useKeys((input, key) => {
    const result = menuKeyAction(menuIndex, input, key);
    if (result === null) return;
    if (result.type === 'quit') onQuit();
    else dispatch(result);
  }, isEnabled);
}
