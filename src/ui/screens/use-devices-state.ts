// Connected-devices state: the controller's host list, loading/failed, and the scroll offset.
import type { DiscoveredHost } from '../../app/types.js';
import type { ErrorView } from '../text.js';
import { scrollTopAfter, type ScrollAction } from '../scroll.js';

export interface DevicesState {
  status: 'loading' | 'ready' | 'failed';
  hosts: readonly DiscoveredHost[];
  error: ErrorView | null;
  scrollTop: number;
  /** Bumped by refresh so the screen's effect fetches again. */
  request: number;
}

export type DevicesAction =
  | { type: 'loaded'; request: number; hosts: readonly DiscoveredHost[] }
  | { type: 'failed'; request: number; error: ErrorView }
  | { type: 'refresh' }
  | { type: 'scroll'; action: ScrollAction; viewportRows: number };

export const initialDevicesState: DevicesState = { status: 'loading', hosts: [], error: null, scrollTop: 0, request: 1 };

export function devicesReducer(state: DevicesState, action: DevicesAction): DevicesState {
  switch (action.type) {
    case 'loaded':
      // A reply to an older request (refresh pressed twice) is stale.
      return action.request === state.request ? { ...state, status: 'ready', hosts: action.hosts, error: null } : state;
    case 'failed':
      return action.request === state.request ? { ...state, status: 'failed', error: action.error } : state;
    case 'refresh':
      return state.status === 'loading' ? state : { ...state, status: 'loading', error: null, request: state.request + 1 };
    case 'scroll':
      return { ...state, scrollTop: scrollTopAfter(state.scrollTop, action.action, state.hosts.length, action.viewportRows) };
  }
}
