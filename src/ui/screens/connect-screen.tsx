// Connect: optional hidden password prompt, a spinner while connect() runs, and on failure the
// error with its next step and a retry key. The telnet warning stays visible throughout.
import { useEffect, useReducer } from 'react';
import { Box, Text } from 'ink';
import type { RouterController } from '../../app/types.js';
import { EXIT } from '../../errors.js';
import { Spinner } from '../components/spinner.js';
import { ErrorPanel } from '../components/error-panel.js';
import { Footer, type KeyHint } from '../components/footer.js';
import { DEFAULT_TELNET_WARNING, describeError } from '../text.js';
import { useTheme } from '../theme.js';
import { connectReducer, initialConnectState } from './use-connect-state.js';
import { useConnectKeys } from './use-connect.js';
import { sanitizeText } from '../../sanitize.js';

export interface ConnectScreenProps {
  controller: RouterController;
  needsPassword: boolean;
  onPassword?: (password: string) => void;
  telnetWarning?: string;
  isInputActive: boolean;
  onConnected: () => void;
  onQuit: (exitCode: number) => void;
}

export function ConnectScreen({ controller, needsPassword, onPassword, telnetWarning, isInputActive, onConnected, onQuit }: ConnectScreenProps) {
  const theme = useTheme();
  const [state, dispatch] = useReducer(connectReducer, needsPassword, initialConnectState);
  const label = sanitizeText(controller.label, 120);

  useEffect(() => {
    if (state.phase !== 'connecting') return;
    let isCancelled = false;
    if (state.password !== undefined) onPassword?.(state.password);
    controller.connect().then(
      () => {
        if (isCancelled) return;
        dispatch({ type: 'connected' });
        onConnected();
      },
      (error: unknown) => {
        if (!isCancelled) dispatch({ type: 'failed', error: describeError(error), canAskPassword: needsPassword });
      },
    );
    return () => {
      isCancelled = true;
    };
    // One connect() per attempt; the phase check above keeps re-renders from reconnecting.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [state.attempt, state.phase === 'connecting']);

  const lastError = state.phase === 'failed' || state.phase === 'password' ? state.error : null;
  useConnectKeys({
    state,
    dispatch,
    needsPassword,
    onQuit: () => onQuit(lastError?.exitCode ?? EXIT.ok),
    isEnabled: isInputActive,
  });

  const warning = controller.protocol === 'telnet' ? sanitizeText(telnetWarning ?? DEFAULT_TELNET_WARNING, 300) : null;
  let hints: KeyHint[];
  if (state.phase === 'password') hints = [{ keys: 'Enter', action: 'connect' }, { keys: 'Esc', action: 'quit' }];
  else if (state.phase === 'failed')
    hints = [{ keys: 'r', action: 'retry' }, ...(needsPassword ? [{ keys: 'p', action: 'type the password again' }] : []), { keys: 'q', action: 'quit' }];
  else hints = [{ keys: 'q', action: 'quit' }, { keys: 'Ctrl-C', action: 'exit' }];

  return (
    <Box flexDirection="column">
      <Text bold>lantop</Text>
      {warning ? (
        <Text {...theme.warn} wrap="truncate-end">
          ⚠ {warning}
        </Text>
      ) : null}
      <Box flexDirection="column" marginY={1}>
        {state.phase === 'connecting' ? <Spinner label={`Connecting to ${label}…`} /> : null}
        {state.phase === 'connected' ? <Text {...theme.ok}>✓ Connected to {label}</Text> : null}
        {lastError ? <ErrorPanel error={lastError} /> : null}
        {state.phase === 'password' ? (
          <Box marginTop={lastError ? 1 : 0}>
            <Text>
              Password for {label}: <Text>{'•'.repeat(Math.min(state.password.length, 64))}</Text>
              <Text {...theme.accent}>▌</Text>
            </Text>
          </Box>
        ) : null}
      </Box>
      <Footer hints={hints} />
    </Box>
  );
}

