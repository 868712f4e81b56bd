// Connect screen state: password entry, connecting (spinner), failed (error + next step).
// `attempt` changes on every try so the screen's effect runs connect() once per attempt.
import type { ErrorView } from '../text.js';

export type ConnectState =
  | { phase: 'password'; password: string; error: ErrorView | null; attempt: number }
  /** `password` is the one just typed, handed to onPassword by the screen before connect(). */
  | { phase: 'connecting'; attempt: number; password?: string }
  | { phase: 'failed'; error: ErrorView; attempt: number }
  | { phase: 'connected'; attempt: number };

export type ConnectAction =
  | { type: 'typed'; text: string }
  | { type: 'erased' }
  | { type: 'submitted' }
  | { type: 'retry' }
  | { type: 'askPassword' }
  | { type: 'failed'; error: ErrorView; canAskPassword: boolean }
  | { type: 'connected' };

export function initialConnectState(needsPassword: boolean): ConnectState {
  return needsPassword ? { phase: 'password', password: '', error: null, attempt: 0 } : { phase: 'connecting', attempt: 1 };
}

// Control characters never belong in a password typed at a prompt (a pasted newline submits).
const printable = (text: string) => text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '');

export function connectReducer(state: ConnectState, action: ConnectAction): ConnectState {
  switch (action.type) {
    case 'typed':
      return state.phase === 'password' ? { ...state, password: state.password + printable(action.text) } : state;
    case 'erased':
      return state.phase === 'password' ? { ...state, password: [...state.password].slice(0, -1).join('') } : state;
    case 'submitted':
      // The password comes from the reducer's state, never from a key handler's closure: keys
      // typed faster than renders would otherwise submit a stale, shorter password.
      return state.phase === 'password' ? { phase: 'connecting', attempt: state.attempt + 1, password: state.password } : state;
    case 'retry':
      return state.phase === 'failed' ? { phase: 'connecting', attempt: state.attempt + 1 } : state;
    case 'askPassword':
      return state.phase === 'failed' ? { phase: 'password', password: '', error: state.error, attempt: state.attempt } : state;
    case 'failed':
      if (state.phase !== 'connecting') return state;
      // Wrong password and we may ask for one: straight back to the prompt, error above it.
      if (action.error.isAuth && action.canAskPassword) return { phase: 'password', password: '', error: action.error, attempt: state.attempt };
      return { phase: 'failed', error: action.error, attempt: state.attempt };
    case 'connected':
      return state.phase === 'connecting' ? { phase: 'connected', attempt: state.attempt } : state;
  }
}
