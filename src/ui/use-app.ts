// Keys that work on every screen: Ctrl-C exits (always, even while typing a password), ? toggles
// help, and while help is open q/Esc close it instead of leaving the screen.
import type { Key } from 'ink';
import type { AppAction, AppState } from './use-app-state.js';
import { useKeys } from './use-keys.js';

/** Exit code for Ctrl-C: 128 + SIGINT, as shells report an interrupted program. */
export const EXIT_INTERRUPTED = 130;

export type AppKeyResult = AppAction | { type: 'exit'; code: number } | null;

export function appKeyAction(state: AppState, input: string, key: Key): AppKeyResult {
  if (key.ctrl && input === 'c') return { type: 'exit', code: EXIT_INTERRUPTED };
  // The connect screen may be reading a password, where ? is just a character.
  if (state.screen === 'connect') return null;
  if (state.isHelpOpen) return input === '?' || input === 'q' || key.escape ? { type: 'closeHelp' } : null;
  if (input === '?') return { type: 'toggleHelp' };
  return null;
}

export function useAppKeys(options: { state: AppState; dispatch: (action: AppAction) => void; onExit: (code: number) => void }): void {
  const { state, dispatch, onExit } = options;
  useKeys((input, key) => {
    const result = appKeyAction(state, input, key);
    if (result === null) return;
    if (result.type === 'exit') onExit(result.code);
    else dispatch(result);
  });
}
