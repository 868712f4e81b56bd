// One device's connections (issue 19), opened with Enter on the live screen: remote (its name when
// the router resolved one), port and service, protocol, bytes each way, rates, age and whether a
// fast path carries it; g groups by remote, port or protocol, s sorts by bytes or rate. When the
// router does not account connections it says so, and A offers to turn accounting on (y/n, naming
// the exact command). State in use-connections-state.ts (kept in a ref, so keys faster than renders
// see the newest state), keys and the poll in use-connections.ts, lines in connections-lines.ts.
import { useCallback, useReducer, useRef } from 'react';
import { Box } from 'ink';
import type { RouterController } from '../../app/types.js';
import { ErrorPanel } from '../components/error-panel.js';
import { FixedLines } from '../components/fixed-lines.js';
import { Spinner } from '../components/spinner.js';
import { useTerminalSize } from '../use-terminal-size.js';
import { useTheme } from '../theme.js';
import { connectionsLines, LOADING_TEXT } from './connections-lines.js';
import { connectionsReducer, initialConnectionsState, type ConnectionsAction, type ConnectionsState } from './use-connections-state.js';
import { CONNECTIONS_POLL_MS, useConnectionsKeys, useConnectionsPoll } from './use-connections.js';

export interface ConnectionsScreenProps {
  controller: Pick<RouterController, 'connections' | 'enableConnectionAccounting'>;
  /** The device (HostUsage.identity) and the name the live screen showed for it. */
  identity: string;
  name: string;
  isInputActive: boolean;
  onBack: () => void;
  /** How often to read (tests read faster). */
  pollMs?: number;
}

export function ConnectionsScreen({ controller, identity, name, isInputActive, onBack, pollMs = CONNECTIONS_POLL_MS }: ConnectionsScreenProps) {
  const theme = useTheme();
  const { columns: width, rows } = useTerminalSize();
  const stateRef = useRef<ConnectionsState | null>(null);
  stateRef.current ??= initialConnectionsState(identity, name);
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  const dispatch = useCallback((action: ConnectionsAction) => {
    const next = connectionsReducer(stateRef.current!, action);
    if (next === stateRef.current) return;
    stateRef.current = next;
    rerender();
  }, []);
  const layoutOf = (state: ConnectionsState) => connectionsLines({ state, width, rows, theme, pollMs });

  useConnectionsPoll({ controller, identity, dispatch, pollMs });
  useConnectionsKeys({
    getState: () => stateRef.current!,
    getLayout: () => layoutOf(stateRef.current!),
    dispatch,
    onBack,
    enableAccounting: () => controller.enableConnectionAccounting(),
    isEnabled: isInputActive,
  });

  const state = stateRef.current;
  const { head, table, tail } = layoutOf(state);
  return (
    <Box flexDirection="column">
      <FixedLines lines={head} width={width} />
      {state.status === 'loading' && state.view === null ? <Spinner label={LOADING_TEXT} /> : null}
      {state.status === 'failed' && state.error ? <ErrorPanel error={state.error} /> : null}
      <FixedLines lines={[...table, ...tail]} width={width} />
    </Box>
  );
}
