// Keys on the connect screen. While the password prompt is up every printable key is text
// (so q is a letter there); Esc leaves.
import type { Key } from 'ink';
import type { ConnectAction, ConnectState } from './use-connect-state.js';
import { useKeys } from '../use-keys.js';

export type ConnectKeyResult = { action: ConnectAction } | { quit: true } | null;

export function connectKeyAction(state: ConnectState, input: string, key: Key, needsPassword: boolean): ConnectKeyResult {
  if (key.ctrl || (key.meta && !key.escape)) return null;
  if (state.phase === 'password') {
    if (key.escape) return { quit: true };
    if (key.return) return { action: { type: 'submitted' } };
    if (key.backspace || key.delete) return { action: { type: 'erased' } };
    if (key.upArrow || key.downArrow || key.leftArrow || key.rightArrow || key.tab || key.pageUp || key.pageDown || key.home || key.end) return null;
    return input ? { action: { type: 'typed', text: input } } : null;
  }
  if (state.phase === 'failed') {
    if (input === 'r' || key.return) return { action: { type: 'retry' } };
    if (input === 'p' && needsPassword) return { action: { type: 'askPassword' } };
  }
  if (input === 'q' || key.escape) return { quit: true };
  return null;
}

export function useConnectKeys(options: {
  state: ConnectState;
  dispatch: (action: ConnectAction) => void;
  needsPassword: boolean;
  onQuit: () => void;
  isEnabled: boolean;
}): void {
  const { state, dispatch, needsPassword, onQuit, isEnabled } = options;
  useKeys((input, key) => {
    const result = connectKeyAction(state, input, key, needsPassword);
    if (result === null) return;
    if ('quit' in result) {
      onQuit();
      return;
    }
    dispatch(result.action);
  }, isEnabled);
}
