// The combined live view's keys → intents (issue 20): r the next view (the first router's own live
// screen), arrows/PgUp/PgDn/Home/End (j/k) scroll the table, q/Esc back to the menu.
import type { Key } from 'ink';
import { scrollActionForKey, type ScrollAction } from '../scroll.js';
import { isBackKey, useKeys } from '../use-keys.js';

/** Switches the live screen's view: combined → router 1 → … → combined. */
export const ROUTER_VIEW_KEY = 'r';

export type CombinedKeyResult = { type: 'scroll'; action: ScrollAction } | { type: 'routerView' } | { type: 'back' } | null;

export function combinedKeyAction(input: string, key: Key): CombinedKeyResult {
  if (key.ctrl) return null;
  if (input === ROUTER_VIEW_KEY) return { type: 'routerView' };
  const scroll = scrollActionForKey(key) ?? (input === 'j' ? 'down' : input === 'k' ? 'up' : null);
  if (scroll) return { type: 'scroll', action: scroll };
  if (isBackKey(input, key)) return { type: 'back' };
  return null;
}

export function useCombinedKeys(options: { onScroll: (action: ScrollAction) => void; onRouterView: () => void; onBack: () => void; isEnabled: boolean }): void {
  const { onScroll, onRouterView, onBack, isEnabled } = options;
  useKeys((input, key) => {
    const result = combinedKeyAction(input, key);
    if (result === null) return;
    if (result.type === 'scroll') onScroll(result.action);
    else if (result.type === 'routerView') onRouterView();
    else onBack();
  }, isEnabled);
}
