import type { Key } from 'ink';
import type { LiveAction, SortKey } from './use-live-state.js';
import { scrollActionForKey } from '../scroll.js';
import { isBackKey, useKeys } from '../use-keys.js';

export const SORT_KEYS: Readonly<Record<string, SortKey>> = { d: 'down', u: 'up', t: 'total', n: 'name' };

/** Cycles the family view: both families, IPv4 only, IPv6 only. */
export const FAMILY_KEY = 'f';

export type LiveKeyResult = LiveAction | { type: 'back' } | null;

export function liveKeyAction(input: string, key: Key, viewportRows: number): LiveKeyResult {
  if (key.ctrl) return null;
  const scroll = scrollActionForKey(key);
  if (scroll) return { type: 'scroll', action: scroll, viewportRows };
  const sortKey = SORT_KEYS[input];
  if (sortKey) return { type: 'sort', sortKey };
  if (input === FAMILY_KEY) return { type: 'family' };
  if (isBackKey(input, key)) return { type: 'back' };
  return null;
}

export function useLiveKeys(options: { dispatch: (action: LiveAction) => void; onBack: () => void; viewportRows: number; isEnabled: boolean }): void {
  const { dispatch, onBack, viewportRows, isEnabled } = options;
  useKeys((input, key) => {
    const result = liveKeyAction(input, key, viewportRows);
    if (result === null) return;
    if (result.type === 'back') onBack();
    else dispatch(result);
  }, isEnabled);
}
