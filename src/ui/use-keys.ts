// Every key hook goes through here so that input is only ever read in raw mode on a real TTY:
// `isRawModeSupported` is undefined before Ink knows, and undefined is not false (issue 8).
//
// The listener Ink holds is stable and calls the latest handler through a ref refreshed at commit.
// Ink renders synchronously after each key, so the next key (even within one pasted chunk, or
// typed faster than passive effects run on a busy machine) sees the state that key produced —
// with a fresh closure per render, "p", "w", Enter could submit the password "p".
import { useCallback, useLayoutEffect, useRef } from 'react';
import { useInput, useStdin, type Key } from 'ink';

export type KeyHandler = (input: string, key: Key) => void;

export function useKeys(handler: KeyHandler, isEnabled = true): void {
  const { isRawModeSupported } = useStdin();
  const latest = useRef(handler);
  useLayoutEffect(() => {
    latest.current = handler;
  });
  const stable = useCallback<KeyHandler>((input, key) => latest.current(input, key), []);
  useInput(stable, { isActive: isRawModeSupported === true && isEnabled });
}

/** q or Esc: leave this screen. */
export function isBackKey(input: string, key: Key): boolean {
  return key.escape || (input === 'q' && !key.ctrl && !key.meta);
}
