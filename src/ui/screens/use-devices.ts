import type { Key } from 'ink';
import type { DevicesAction } from './use-devices-state.js';
import { scrollActionForKey } from '../scroll.js';
import { isBackKey, useKeys } from '../use-keys.js';

export type DevicesKeyResult = DevicesAction | { type: 'back' } | null;

export function devicesKeyAction(input: string, key: Key, viewportRows: number): DevicesKeyResult {
  if (key.ctrl) return null;
  const scroll = scrollActionForKey(key);
  if (scroll) return { type: 'scroll', action: scroll, viewportRows };
  if (input === 'r') return { type: 'refresh' };
  if (isBackKey(input, key)) return { type: 'back' };
  return null;
}

export function useDevicesKeys(options: { dispatch: (action: DevicesAction) => void; onBack: () => void; viewportRows: number; isEnabled: boolean }): void {
  const { dispatch, onBack, viewportRows, isEnabled } = options;
  useKeys((input, key) => {
    const result = devicesKeyAction(input, key, viewportRows);
    if (result === null) return;
    if (result.type === 'back') onBack();
    else dispatch(result);
  }, isEnabled);
}
