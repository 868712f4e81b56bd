// Every key hook goes through here so that input is only ever read in raw mode on a real TTY:
// `isRawModeSupported` is undefined before Ink knows, and undefined is not false (issue 8).
import { useInput, useStdin, type Key } from 'ink';

export type KeyHandler = (input: string, key: Key) => void;

export function useKeys(handler: KeyHandler, isEnabled = true): void {
  const { isRawModeSupported } = useStdin();
  useInput(handler, { isActive: isRawModeSupported === true && isEnabled });
}

/** q or Esc: leave this screen. */
export function isBackKey(input: string, key: Key): boolean {
  return key.escape || (input === 'q' && !key.ctrl && !key.meta);
}
