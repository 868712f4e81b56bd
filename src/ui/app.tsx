// The lantop terminal app: connect → menu → screens. State lives in reducers, keys in hooks, and
// every router call goes through the RouterController it is given (STYLE.md principle 6).
import { useCallback, useReducer, useRef, type ReactNode } from 'react';
import { Box, useApp } from 'ink';
import type { RouterController } from '../app/types.js';
import { ThemeProvider } from './theme.js';
import { appReducer, initialAppState } from './use-app-state.js';
import { useAppKeys } from './use-app.js';
import { ConnectScreen } from './screens/connect-screen.js';
import { MenuScreen } from './screens/menu-screen.js';
import { DevicesScreen } from './screens/devices-screen.js';
import { LiveScreen } from './screens/live-screen.js';
import { RulesScreen } from './screens/rules-screen.js';
import { HistoryScreen } from './screens/history-screen.js';
import { QuotasScreen } from './screens/quotas-screen.js';
import { ConnectionsScreen } from './screens/connections-screen.js';
import { CountersScreen } from './screens/counters-screen.js';
import type { ConnectionsTarget } from './use-app-state.js';
import { HelpOverlay } from './components/help-overlay.js';

export interface AppProps {
  controller: RouterController;
  isColor: boolean;
  /** Ask for the password before connecting (none in flags, env or file). */
  needsPassword?: boolean;
  /** Receives the typed password before each connect() so the controller can use it. */
  onPassword?: (password: string) => void;
  /** Shown on the connect screen when the protocol is telnet (a default is used otherwise). */
  telnetWarning?: string;
  /** Injected clock for poll ages (STYLE.md principle 5). */
  now?: () => number;
  /** Called once with the exit code just before the app unmounts. */
  onExit?: (code: number) => void;
}

export function App(props: AppProps) {
  return (
    <ThemeProvider isColor={props.isColor}>
      <AppBody {...props} />
    </ThemeProvider>
  );
}

function AppBody({ controller, needsPassword = false, onPassword, telnetWarning, now = Date.now, onExit }: AppProps) {
  const { exit } = useApp();
  const [state, dispatch] = useReducer(appReducer, initialAppState);
  const hasExited = useRef(false);

  const quit = useCallback(
    (code: number) => {
      if (hasExited.current) return;
      hasExited.current = true;
      onExit?.(code);
      exit(code);
    },
    [exit, onExit],
  );
  const back = useCallback(() => dispatch({ type: 'back' }), []);
  const connected = useCallback(() => dispatch({ type: 'connected' }), []);
  const openConnections = useCallback((device: ConnectionsTarget) => dispatch({ type: 'openConnections', device }), []);
  useAppKeys({ state, dispatch, onExit: quit });

  const isInputActive = !state.isHelpOpen;
  // The live screen stays mounted (hidden, still polling) under its device's connections, so Esc
  // comes back to the same rows, cursor, sort and sparklines.
  const isLiveMounted = state.screen === 'live' || state.screen === 'connections';
  const isLiveShown = state.screen === 'live';
  const live = isLiveMounted ? (
    <Box display={isLiveShown ? 'flex' : 'none'} flexDirection="column">
      <LiveScreen
        controller={controller}
        now={now}
        isInputActive={isInputActive && isLiveShown}
        isVisible={!state.isHelpOpen && isLiveShown}
        onBack={back}
        onOpenConnections={openConnections}
      />
    </Box>
  ) : null;
  let screen: ReactNode;
  switch (state.screen) {
    case 'connect':
      screen = (
        <ConnectScreen
          controller={controller}
          needsPassword={needsPassword}
          onPassword={onPassword}
          telnetWarning={telnetWarning}
          isInputActive={isInputActive}
          onConnected={connected}
          onQuit={quit}
        />
      );
      break;
    case 'menu':
      screen = <MenuScreen label={controller.label} menuIndex={state.menuIndex} dispatch={dispatch} onQuit={() => quit(0)} isInputActive={isInputActive} noun={controller.subjectNoun} />;
      break;
    case 'devices':
      screen = <DevicesScreen controller={controller} isInputActive={isInputActive} onBack={back} />;
      break;
    case 'live':
      screen = null;
      break;
    case 'connections':
      screen = state.device ? (
        <ConnectionsScreen key={state.device.identity} controller={controller} identity={state.device.identity} name={state.device.name} isInputActive={isInputActive} onBack={back} />
      ) : null;
      break;
    case 'setup':
    case 'flush':
      screen = <RulesScreen key={state.screen} controller={controller} action={state.screen} isInputActive={isInputActive} onBack={back} />;
      break;
    case 'history':
      screen = <HistoryScreen controller={controller} isInputActive={isInputActive} onBack={back} />;
      break;
    case 'quotas':
      screen = <QuotasScreen controller={controller} isInputActive={isInputActive} onBack={back} now={now} />;
      break;
    case 'counters':
      screen = <CountersScreen controller={controller} isInputActive={isInputActive} onBack={back} />;
      break;
  }

  return (
    <Box flexDirection="column">
      {/* Hidden, not unmounted, under the help: the live screen keeps polling and its samples. */}
      <Box display={state.isHelpOpen ? 'none' : 'flex'} flexDirection="column">
        {live}
        {screen}
      </Box>
      {state.isHelpOpen ? <HelpOverlay screen={state.screen} /> : null}
    </Box>
  );
}
