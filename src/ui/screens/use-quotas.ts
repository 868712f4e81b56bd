// Quotas screen keys → intents (issue 16). List: ↑↓ move, a add, e edit, d remove (then y/n),
// r read again, q/Esc back. Form: Tab/↑↓ field, ←→ choose (whom, direction, block), type text
// (limit, period, notify), Backspace, Enter save, Esc cancel.
import type { Key } from 'ink';
import type { QuotasAction, QuotasState } from './use-quotas-state.js';
import { isBackKey, useKeys } from '../use-keys.js';

export type QuotasKeyResult = QuotasAction | { type: 'back' } | { type: 'save' } | { type: 'remove'; id: number } | null;

export function quotasKeyAction(input: string, key: Key, state: QuotasState): QuotasKeyResult {
  if (key.ctrl) return null;
  if (state.form) {
    if (key.escape) return { type: 'cancel' };
    if (key.return) return { type: 'save' };
    if (key.tab || key.downArrow) return { type: 'formField', by: key.shift ? -1 : 1 };
    if (key.upArrow) return { type: 'formField', by: -1 };
    if (key.leftArrow || key.rightArrow) return { type: 'formChoice', by: key.leftArrow ? -1 : 1 };
    if (key.backspace || key.delete) return { type: 'formErase' };
    if (input === ' ') return { type: 'formChoice', by: 1 };
    return input.length > 0 ? { type: 'formType', text: input } : null;
  }
  if (state.confirmRemoveId !== null) {
    if (input === 'y' || input === 'Y') return { type: 'remove', id: state.confirmRemoveId };
    return input === 'n' || input === 'N' || key.escape ? { type: 'cancel' } : null;
  }
  if (key.upArrow || key.downArrow) return { type: 'move', by: key.upArrow ? -1 : 1 };
  if (input === 'a') return { type: 'add' };
  if (input === 'e') return { type: 'edit' };
  if (input === 'd') return { type: 'askRemove' };
  if (input === 'r') return { type: 'reload' };
  if (isBackKey(input, key)) return { type: 'back' };
  return null;
}

export function useQuotasKeys(options: {
  getState: () => QuotasState;
  dispatch: (action: QuotasAction) => void;
  onBack: () => void;
  onSave: () => void;
  onRemove: (id: number) => void;
  isEnabled: boolean;
}): void {
  const { getState, dispatch, onBack, onSave, onRemove, isEnabled } = options;
  useKeys((input, key) => {
    const result = quotasKeyAction(input, key, getState());
    if (result === null) return;
    if (result.type === 'back') onBack();
    else if (result.type === 'save') onSave();
    else if (result.type === 'remove') onRemove(result.id);
    else dispatch(result);
  }, isEnabled);
}
