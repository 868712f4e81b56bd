// History keys → intents: h t y w m c a the period, ←/→ one period back/forward, ↑/↓ (PgUp PgDn
// Home End) the row cursor, Enter or d the device under it into the chart (d or Esc again: the
// total alone), r read again, q/Esc back.
import type { Key } from 'ink';
import type { HistoryPeriod } from '../../app/types.js';
import type { HistoryAction } from './use-history-state.js';
import { scrollActionForKey } from '../scroll.js';
import { isBackKey, useKeys } from '../use-keys.js';

export const PERIOD_KEYS: Readonly<Record<string, HistoryPeriod>> = { h: 'hours', t: 'today', y: 'yesterday', w: 'week', m: 'month', c: 'cycle', a: 'all' };

/** Picks the device under the cursor for the chart, or (with one picked) goes back to the total. */
export const DEVICE_KEY = 'd';

export type HistoryKeyResult = HistoryAction | { type: 'back' } | null;

/** `hasDevice`: a device is in the chart now (Esc and d then clear it instead). */
export function historyKeyAction(input: string, key: Key, viewportRows: number, hasDevice = false): HistoryKeyResult {
  if (key.ctrl) return null;
  if (key.leftArrow || key.rightArrow) return { type: 'shift', delta: key.leftArrow ? -1 : 1 };
  const scroll = scrollActionForKey(key);
  if (scroll) return { type: 'scroll', action: scroll, viewportRows };
  if (key.return) return { type: 'pick' };
  if (input === DEVICE_KEY) return hasDevice ? { type: 'clearDevice' } : { type: 'pick' };
  if (key.escape && hasDevice) return { type: 'clearDevice' };
  const period = PERIOD_KEYS[input];
  if (period) return { type: 'period', period };
  if (input === 'r') return { type: 'reload' };
  if (isBackKey(input, key)) return { type: 'back' };
  return null;
}

export function useHistoryKeys(options: { dispatch: (action: HistoryAction) => void; onBack: () => void; viewportRows: number; hasDevice: boolean; isEnabled: boolean }): void {
  const { dispatch, onBack, viewportRows, hasDevice, isEnabled } = options;
  // useKeys calls the handler of the latest commit: `hasDevice` is the state the previous key made.
  useKeys((input, key) => {
    const result = historyKeyAction(input, key, viewportRows, hasDevice);
    if (result === null) return;
    if (result.type === 'back') onBack();
    else dispatch(result);
  }, isEnabled);
}
