// Which screen is showing, whether help is open, and where the menu cursor was. The connections
// screen (issue 19) is no menu entry: Enter on a live row opens it for that device, and back
// returns to the live screen. With several routers (issue 20) the live screen shows them combined
// or one at a time, and a menu action first asks which router ('pick': use-router-select-state.ts).
import { cancelPick, choosePick, initialRouterSelection, movePick, nextLiveView, pickAt, startPick, withLiveRouter, type RouterSelection } from './use-router-select-state.js';

export type ScreenId = 'connect' | 'menu' | 'devices' | 'live' | 'setup' | 'flush' | 'history' | 'quotas' | 'connections' | 'counters' | 'pick';

export interface MenuItem {
  key: string;
  label: string;
  screen: Exclude<ScreenId, 'connect' | 'menu' | 'connections' | 'pick'>;
}

/** The device whose connections are shown: its identity and a display-safe name. */
export interface ConnectionsTarget {
  identity: string;
  name: string;
}

export const MENU_ITEMS: readonly MenuItem[] = [
  { key: '1', label: 'Connected devices', screen: 'devices' },
  { key: '2', label: 'Live usage', screen: 'live' },
  { key: '3', label: 'Set up accounting rules', screen: 'setup' },
  { key: '4', label: 'Flush accounting rules', screen: 'flush' },
  { key: '5', label: 'History', screen: 'history' },
  { key: '6', label: 'Quotas and blocks', screen: 'quotas' },
  { key: '7', label: 'Custom counters', screen: 'counters' },
];

export interface AppState {
  screen: ScreenId;
  isHelpOpen: boolean;
  menuIndex: number;
  /** The device of the connections screen (set while it shows); absent: none. */
  device?: ConnectionsTarget | null;
  /** Several routers (issue 20): which one each screen shows; absent with one router. */
  routers?: RouterSelection;
}

export type AppAction =
  | { type: 'connected' }
  | { type: 'open'; screen: MenuItem['screen'] }
  /** Enter: whatever the cursor is on now (decided here, not from a key handler's closure). */
  | { type: 'openSelected' }
  /** From the live screen: that device's connections. */
  | { type: 'openConnections'; device: ConnectionsTarget }
  | { type: 'back' }
  | { type: 'menuMove'; by: number }
  | { type: 'menuSelect'; index: number }
  | { type: 'toggleHelp' }
  | { type: 'closeHelp' }
  /** Several routers: r on the live screen (combined → router 1 → … → combined). */
  | { type: 'routerView' }
  /** The router picker: move, put the cursor on a router, open the screen on it. */
  | { type: 'pickMove'; by: number }
  | { type: 'pickSelect'; index: number }
  | { type: 'pickChoose' };

export const initialAppState: AppState = { screen: 'connect', isHelpOpen: false, menuIndex: 0 };

/** Several routers: each logs in on its own, so the app starts at the menu (no connect screen). */
export function initialMultiAppState(count: number): AppState {
  return { screen: 'menu', isHelpOpen: false, menuIndex: 0, routers: initialRouterSelection(count) };
}

export function appReducer(state: AppState, action: AppAction): AppState {
  switch (action.type) {
    case 'connected':
      return state.screen === 'connect' ? { ...state, screen: 'menu' } : state;
    case 'open': {
      if (state.screen === 'connect') return state;
      const index = MENU_ITEMS.findIndex((item) => item.screen === action.screen);
      const menuIndex = index === -1 ? state.menuIndex : index;
      if (state.routers !== undefined && action.screen !== 'live') {
        const { selection, opens } = startPick(state.routers, action.screen);
        return { ...state, screen: opens ?? 'pick', menuIndex, routers: selection, isHelpOpen: false };
      }
      return { ...state, screen: action.screen, menuIndex, isHelpOpen: false };
    }
    case 'openSelected': {
      const item = MENU_ITEMS[state.menuIndex];
      return item ? appReducer(state, { type: 'open', screen: item.screen }) : state;
    }
    case 'openConnections':
      if (state.screen !== 'live') return state;
      // Several routers: only a router's own live view has device rows to open.
      if (state.routers !== undefined) return state.routers.live === null ? state : { ...state, screen: 'connections', device: action.device, routers: withLiveRouter(state.routers), isHelpOpen: false };
      return { ...state, screen: 'connections', device: action.device, isHelpOpen: false };
    case 'back':
      if (state.screen === 'connections') return { ...state, screen: 'live', device: null, isHelpOpen: false };
      if (state.screen === 'pick' && state.routers !== undefined) return { ...state, screen: 'menu', routers: cancelPick(state.routers), isHelpOpen: false };
      return state.screen === 'connect' || state.screen === 'menu' ? state : { ...state, screen: 'menu', isHelpOpen: false };
    case 'menuMove': {
      const count = MENU_ITEMS.length;
      return { ...state, menuIndex: (((state.menuIndex + action.by) % count) + count) % count };
    }
    case 'menuSelect':
      return action.index >= 0 && action.index < MENU_ITEMS.length ? { ...state, menuIndex: action.index } : state;
    case 'toggleHelp':
      return { ...state, isHelpOpen: !state.isHelpOpen };
    case 'closeHelp':
      return state.isHelpOpen ? { ...state, isHelpOpen: false } : state;
    case 'routerView':
      return state.screen === 'live' && state.routers !== undefined ? { ...state, routers: nextLiveView(state.routers) } : state;
    case 'pickMove':
      return state.screen === 'pick' && state.routers !== undefined ? { ...state, routers: movePick(state.routers, action.by) } : state;
    case 'pickSelect':
      return state.screen === 'pick' && state.routers !== undefined ? { ...state, routers: pickAt(state.routers, action.index) } : state;
    case 'pickChoose': {
      if (state.screen !== 'pick' || state.routers === undefined) return state;
      const { selection, opens } = choosePick(state.routers);
      return opens === null ? state : { ...state, screen: opens, routers: selection, isHelpOpen: false };
    }
  }
}
