import type { Key } from 'ink';
import type { HistoryPeriod } from '../../app/types.js';
import type { HistoryAction } from './use-history-state.js';
import { scrollActionForKey } from '../scroll.js';
import { isBackKey, useKeys } from '../use-keys.js';

export const PERIOD_KEYS: Readonly<Record<string, HistoryPeriod>> = { t: 'today', y: 'yesterday', w: 'week', m: 'month', c: 'cycle', a: 'all' };

export type HistoryKeyResult = HistoryAction | { type: 'back' } | null;

export function historyKeyAction(input: string, key: Key, viewportRows: number): HistoryKeyResult {
  if (key.ctrl) return null;
  const scroll = scrollActionForKey(key);
  if (scroll) return { type: 'scroll', action: scroll, viewportRows };
  const period = PERIOD_KEYS[input];
  if (period) return { type: 'period', period };
  if (input === 'r') return { type: 'reload' };
  if (isBackKey(input, key)) return { type: 'back' };
  return null;
}

export function useHistoryKeys(options: { dispatch: (action: HistoryAction) => void; onBack: () => void; viewportRows: number; isEnabled: boolean }): void {
  const { dispatch, onBack, viewportRows, isEnabled } = options;
  useKeys((input, key) => {
    const result = historyKeyAction(input, key, viewportRows);
    if (result === null) return;
    if (result.type === 'back') onBack();
    else dispatch(result);
  }, isEnabled);
}
