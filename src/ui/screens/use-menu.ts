// Menu keys: a number opens its entry, arrows move, Enter opens the highlighted one, q/Esc quit.
import type { Key } from 'ink';
import { MENU_ITEMS, type AppAction } from '../use-app-state.js';
import { isBackKey, useKeys } from '../use-keys.js';

export type MenuKeyResult = AppAction | { type: 'quit' } | null;

export function menuKeyAction(input: string, key: Key): MenuKeyResult {
  if (key.ctrl) return null;
  const numbered = MENU_ITEMS.find((item) => item.key === input);
  if (numbered) return { type: 'open', screen: numbered.screen };
  if (key.upArrow || input === 'k') return { type: 'menuMove', by: -1 };
  if (key.downArrow || input === 'j' || key.tab) return { type: 'menuMove', by: 1 };
  if (key.home) return { type: 'menuSelect', index: 0 };
  if (key.end) return { type: 'menuSelect', index: MENU_ITEMS.length - 1 };
  if (key.return) return { type: 'openSelected' };
  if (isBackKey(input, key)) return { type: 'quit' };
  return null;
}

export function useMenuKeys(options: { dispatch: (action: AppAction) => void; onQuit: () => void; isEnabled: boolean }): void {
  const { dispatch, onQuit, isEnabled } = options;
  useKeys((input, key) => {
    const result = menuKeyAction(input, key);
    if (result === null) return;
    if (result.type === 'quit') onQuit();
    else dispatch(result);
  }, isEnabled);
}
