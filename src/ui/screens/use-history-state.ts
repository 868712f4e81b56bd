// History state: which period is shown, its rows, loading/failed, and the scroll offset.
import type { HistoryPeriod, HistoryView } from '../../app/types.js';
import type { ErrorView } from '../text.js';
import { scrollTopAfter, type ScrollAction } from '../scroll.js';

export const PERIOD_LABELS: Readonly<Record<HistoryPeriod, string>> = {
  today: 'today',
  yesterday: 'yesterday',
  week: 'this week',
  month: 'this month',
  cycle: 'this billing cycle',
  all: 'all time',
};

export interface HistoryState {
  period: HistoryPeriod;
  status: 'loading' | 'ready' | 'failed';
  view: HistoryView | null;
  error: ErrorView | null;
  scrollTop: number;
  request: number;
}

export type HistoryAction =
  | { type: 'period'; period: HistoryPeriod }
  | { type: 'loaded'; request: number; view: HistoryView }
  | { type: 'failed'; request: number; error: ErrorView }
  | { type: 'reload' }
  | { type: 'scroll'; action: ScrollAction; viewportRows: number };

export function initialHistoryState(period: HistoryPeriod = 'today'): HistoryState {
  return { period, status: 'loading', view: null, error: null, scrollTop: 0, request: 1 };
}

export function historyReducer(state: HistoryState, action: HistoryAction): HistoryState {
  switch (action.type) {
    case 'period':
      if (action.period === state.period && state.status !== 'failed') return state;
      return { ...state, period: action.period, status: 'loading', error: null, scrollTop: 0, request: state.request + 1 };
    case 'reload':
      return { ...state, status: 'loading', error: null, request: state.request + 1 };
    case 'loaded':
      // Switching periods quickly: only the reply to the latest request counts.
      return action.request === state.request ? { ...state, status: 'ready', view: action.view, error: null } : state;
    case 'failed':
      return action.request === state.request ? { ...state, status: 'failed', error: action.error } : state;
    case 'scroll':
      return { ...state, scrollTop: scrollTopAfter(state.scrollTop, action.action, state.view?.rows.length ?? 0, action.viewportRows) };
  }
}
