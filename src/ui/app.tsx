// The lantop terminal app: connect → menu → screens. State lives in reducers, keys in hooks, and
// every router call goes through the RouterController it is given (STYLE.md principle 6). With
// several routers (issue 20, a RouterSet) the app starts at the menu, the live screen shows them
// combined or one at a time (r), and a menu action first asks which router (RouterPickScreen).
import { useCallback, useReducer, useRef, type ReactNode } from 'react';
import { Box, Text, useApp } from 'ink';
import type { RouterController } from '../app/types.js';
import { ThemeProvider } from './theme.js';
import { appReducer, initialAppState, initialMultiAppState } from './use-app-state.js';
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
import { CombinedScreen } from './screens/combined-screen.js';
import { RouterPickScreen } from './screens/router-pick-screen.js';
import { RouterLiveScreen } from './screens/router-live-screen.js';
import type { RouterSet } from './router-set.js';
import { sanitizeText } from '../sanitize.js';

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
  /** Several routers (issue 20): each its own controller; `controller` is then unused. */
  routers?: RouterSet;
}

export function App(props: AppProps) {
  return (
    <ThemeProvider isColor={props.isColor}>
      <AppBody {...props} />
    </ThemeProvider>
  );
}

function AppBody({ controller: soleController, needsPassword = false, onPassword, telnetWarning, now = Date.now, onExit, routers }: AppProps) {
  const { exit } = useApp();
  const [state, dispatch] = useReducer(appReducer, routers === undefined ? initialAppState : initialMultiAppState(routers.entries.length));
  // The router the open screen acts on: the only one, or the one picked (or shown in the live view).
  const selection = state.routers;
  const current = routers !== undefined && selection !== undefined ? routers.entries[selection.current] : undefined;
  const controller = current?.controller ?? soleController;
  // Screens of another router are other screens: their state starts again.
  const routerKey = current === undefined ? '' : `:${selection!.current}`;
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
  const routerView = useCallback(() => dispatch({ type: 'routerView' }), []);
  useAppKeys({ state, dispatch, onExit: quit });

  const isInputActive = !state.isHelpOpen;
  // The live screen stays mounted (hidden, still polling) under its device's connections, so Esc
  // comes back to the same rows, cursor, sort and sparklines.
  const isLiveMounted = state.screen === 'live' || state.screen === 'connections';
  const isLiveShown = state.screen === 'live';
  let liveScreen: ReactNode = null;
  if (isLiveMounted && routers !== undefined && selection?.live == null) {
    liveScreen = <CombinedScreen routers={routers} now={now} isInputActive={isInputActive && isLiveShown} onRouterView={routerView} onBack={back} />;
  } else if (isLiveMounted && routers !== undefined && selection?.live != null) {
    liveScreen = (
      <RouterLiveScreen
        key={`live:${selection.live}`}
        routers={routers}
        index={selection.live}
        now={now}
        isInputActive={isInputActive && isLiveShown}
        isVisible={!state.isHelpOpen && isLiveShown}
        onBack={back}
        onOpenConnections={openConnections}
        onRouterView={routerView}
      />
    );
  } else if (isLiveMounted) {
    liveScreen = (
      <LiveScreen
        controller={controller}
        now={now}
        isInputActive={isInputActive && isLiveShown}
        isVisible={!state.isHelpOpen && isLiveShown}
        onBack={back}
        onOpenConnections={openConnections}
      />
    );
  }
  const live = isLiveMounted ? (
    <Box display={isLiveShown ? 'flex' : 'none'} flexDirection="column">
      {liveScreen}
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
      screen = <MenuScreen label={controller.label} menuIndex={state.menuIndex} dispatch={dispatch} onQuit={() => quit(0)} isInputActive={isInputActive} {...(routers !== undefined ? { routers, now } : {})} noun={controller.subjectNoun} />;
      break;
    case 'pick':
      screen =
        routers !== undefined && selection?.picking ? (
          <RouterPickScreen routers={routers} screen={selection.picking.screen} cursor={selection.picking.cursor} now={now} dispatch={dispatch} isInputActive={isInputActive} />
        ) : null;
      break;
    case 'devices':
      screen = <DevicesScreen key={`devices${routerKey}`} controller={controller} isInputActive={isInputActive} onBack={back} />;
      break;
    case 'live':
      screen = null;
      break;
    case 'connections':
      screen = state.device ? (
        <ConnectionsScreen key={`${state.device.identity}${routerKey}`} controller={controller} identity={state.device.identity} name={state.device.name} isInputActive={isInputActive} onBack={back} />
      ) : null;
      break;
    case 'setup':
    case 'flush':
      screen = <RulesScreen key={`${state.screen}${routerKey}`} controller={controller} action={state.screen} isInputActive={isInputActive} onBack={back} />;
      break;
    case 'history':
      screen = <HistoryScreen key={`history${routerKey}`} controller={controller} isInputActive={isInputActive} onBack={back} />;
      break;
    case 'quotas':
      screen = <QuotasScreen key={`quotas${routerKey}`} controller={controller} isInputActive={isInputActive} onBack={back} now={now} />;
      break;
    case 'counters':
      screen = <CountersScreen key={`counters${routerKey}`} controller={controller} isInputActive={isInputActive} onBack={back} />;
      break;
  }

  // Several routers: a screen that acts on one says which, above it.
  const isRouterScreen = current !== undefined && state.screen !== 'menu' && state.screen !== 'pick' && state.screen !== 'live' && state.screen !== 'connect';
  const routerLine = isRouterScreen ? (
    <Text wrap="truncate-end">
      <Text bold>{sanitizeText(current.name, 24)}</Text>
      <Text dimColor>{` · ${sanitizeText(controller.label, 80)} · router ${selection!.current + 1} of ${routers!.entries.length}`}</Text>
    </Text>
  ) : null;
  return (
    <Box flexDirection="column">
      {/* Hidden, not unmounted, under the help: the live screen keeps polling and its samples. */}
      <Box display={state.isHelpOpen ? 'none' : 'flex'} flexDirection="column">
        {live}
        {routerLine}
        {screen}
      </Box>
      {state.isHelpOpen ? <HelpOverlay screen={state.screen} isMultiRouter={routers !== undefined} /> : null}
    </Box>
  );
}
