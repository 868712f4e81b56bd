// Keys on the set-up / flush screen: y applies the confirmed plan, n cancels, a adopts foreign
// rules (set up only), r plans again after a failure; scrolling for long command lists.
import type { Key } from 'ink';
import type { RulesAction, RulesState } from './use-rules-state.js';
import { scrollActionForKey } from '../scroll.js';
import { isBackKey, useKeys } from '../use-keys.js';

export type RulesKeyResult = RulesAction | { type: 'back' } | null;

export function rulesKeyAction(state: RulesState, input: string, key: Key, view: { viewportRows: number; total: number }): RulesKeyResult {
  if (key.ctrl) return null;
  const scroll = scrollActionForKey(key);
  if (scroll) return { type: 'scroll', action: scroll, ...view };
  switch (state.phase) {
    case 'confirm': {
      const hasCommands = (state.plan?.commands.length ?? 0) > 0;
      if (hasCommands && (input === 'y' || input === 'Y')) return { type: 'confirm' };
      if (input === 'n' || input === 'N') return { type: 'back' };
      if (input === 'a' && state.plan?.action === 'setup' && state.plan.foreignRules.length > 0 && !state.isAdopting) return { type: 'adopt' };
      if (!hasCommands && key.return) return { type: 'back' };
      break;
    }
    case 'failed':
      if (input === 'r') return { type: 'replan' };
      if (key.return) return { type: 'back' };
      break;
    case 'done':
      if (key.return) return { type: 'back' };
      break;
    case 'planning':
    case 'applying':
      // Leaving mid-apply would not stop the router; stay so the user sees the result.
      if (state.phase === 'applying') return null;
      break;
  }
  if (isBackKey(input, key)) return { type: 'back' };
  return null;
}

export function useRulesKeys(options: {
  state: RulesState;
  dispatch: (action: RulesAction) => void;
  onBack: () => void;
  viewportRows: number;
  total: number;
  isEnabled: boolean;
}): void {
  const { state, dispatch, onBack, viewportRows, total, isEnabled } = options;
  useKeys((input, key) => {
    const result = rulesKeyAction(state, input, key, { viewportRows, total });
    if (result === null) return;
    if (result.type === 'back') onBack();
    else dispatch(result);
  }, isEnabled);
}
