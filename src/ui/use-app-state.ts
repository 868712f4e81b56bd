// Which screen is showing, whether help is open, and where the menu cursor was. The connections
// screen (issue 19) is no menu entry: Enter on a live row opens it for that device, and back
// returns to the live screen.
export type ScreenId = 'connect' | 'menu' | 'devices' | 'live' | 'setup' | 'flush' | 'history' | 'quotas' | 'connections' | 'counters';

export interface MenuItem {
  key: string;
  label: string;
  screen: Exclude<ScreenId, 'connect' | 'menu' | 'connections'>;
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
  | { type: 'closeHelp' };

export const initialAppState: AppState = { screen: 'connect', isHelpOpen: false, menuIndex: 0 };

export function appReducer(state: AppState, action: AppAction): AppState {
  switch (action.type) {
    case 'connected':
      return state.screen === 'connect' ? { ...state, screen: 'menu' } : state;
    case 'open': {
      if (state.screen === 'connect') return state;
      const index = MENU_ITEMS.findIndex((item) => item.screen === action.screen);
      return { ...state, screen: action.screen, menuIndex: index === -1 ? state.menuIndex : index, isHelpOpen: false };
    }
    case 'openSelected': {
      const item = MENU_ITEMS[state.menuIndex];
      return item ? appReducer(state, { type: 'open', screen: item.screen }) : state;
    }
    case 'openConnections':
      return state.screen === 'live' ? { ...state, screen: 'connections', device: action.device, isHelpOpen: false } : state;
    case 'back':
      if (state.screen === 'connections') return { ...state, screen: 'live', device: null, isHelpOpen: false };
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
  }
}
