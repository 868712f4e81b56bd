// History state: which period is shown and how far back (←/→, issue 17), the device whose series
// the chart shows (picked from the table with Enter/d), its rows, loading/failed, the row cursor
// and the scroll offset. Every change of period, offset or device is a new request; only the
// reply to the latest one is shown.
import type { HistoryPeriod, HistoryRow, HistoryView } from '../../app/types.js';
import type { ErrorView } from '../text.js';
import { clampScrollTop, type ScrollAction } from '../scroll.js';

export const PERIOD_LABELS: Readonly<Record<HistoryPeriod, string>> = {
  hours: 'the last 6 hours',
  today: 'today',
  yesterday: 'yesterday',
  week: 'this week',
  month: 'this month',
  cycle: 'this billing cycle',
  all: 'all time',
};

/** What one step of ←/→ moves, for "3 days back". */
const STEP_UNITS: Readonly<Record<HistoryPeriod, readonly [string, string]>> = {
  hours: ['6 hours', '× 6 hours'],
  today: ['day', 'days'],
  yesterday: ['day', 'days'],
  week: ['week', 'weeks'],
  month: ['month', 'months'],
  cycle: ['cycle', 'cycles'],
  all: ['', ''],
};

/** "today", or "today · 3 days back" / "the last 6 hours · 2 × 6 hours back" for an offset. */
export function periodTitle(period: HistoryPeriod, offset: number): string {
  if (offset === 0 || period === 'all') return PERIOD_LABELS[period];
  const n = Math.abs(offset);
  const [one, many] = STEP_UNITS[period];
  const step = n === 1 ? (period === 'hours' ? '6 hours' : `1 ${one}`) : `${n} ${many}`;
  return `${PERIOD_LABELS[period]} · ${step} ${offset < 0 ? 'back' : 'ahead'}`;
}

export interface HistoryState {
  period: HistoryPeriod;
  /** 0 = the current period, -1 the one before; never ahead of now. */
  offset: number;
  /** The device whose series the chart shows beside the total; null: the total alone. */
  identity: string | null;
  /** The picked device's name as its row showed it (raw: sanitise to show), for periods it is not in. */
  deviceName: string | null;
  status: 'loading' | 'ready' | 'failed';
  view: HistoryView | null;
  error: ErrorView | null;
  /** The row cursor, an index into sortHistoryRows(view.rows). */
  cursor: number;
  scrollTop: number;
  request: number;
}

export type HistoryAction =
  | { type: 'period'; period: HistoryPeriod }
  /** -1: one period back (←), +1: one forward (→), never past the current one. */
  | { type: 'shift'; delta: number }
  /** The device under the cursor into the chart (the same one again: out of it). */
  | { type: 'pick' }
  | { type: 'clearDevice' }
  | { type: 'loaded'; request: number; view: HistoryView }
  | { type: 'failed'; request: number; error: ErrorView }
  | { type: 'reload' }
  /** Moves the row cursor; the viewport follows it. */
  | { type: 'scroll'; action: ScrollAction; viewportRows: number };

export function initialHistoryState(period: HistoryPeriod = 'today'): HistoryState {
  return { period, offset: 0, identity: null, deviceName: null, status: 'loading', view: null, error: null, cursor: 0, scrollTop: 0, request: 1 };
}

/** Busiest first; ties by identity so rows never swap between equal reads. */
export function sortHistoryRows(rows: readonly HistoryRow[]): HistoryRow[] {
  return [...rows].sort((a, b) => b.downBytes + b.upBytes - (a.downBytes + a.upBytes) || a.identity.localeCompare(b.identity));
}

function again(state: HistoryState, change: Partial<HistoryState>): HistoryState {
  return { ...state, ...change, status: 'loading', error: null, request: state.request + 1 };
}

export function historyReducer(state: HistoryState, action: HistoryAction): HistoryState {
  switch (action.type) {
    case 'period':
      if (action.period === state.period && state.offset === 0 && state.status !== 'failed') return state;
      return again(state, { period: action.period, offset: 0, cursor: 0, scrollTop: 0 });
    case 'shift': {
      if (state.period === 'all') return state;
      const offset = Math.min(0, state.offset + Math.sign(action.delta));
      return offset === state.offset ? state : again(state, { offset });
    }
    case 'pick': {
      const row = state.view ? sortHistoryRows(state.view.rows)[state.cursor] : undefined;
      if (row === undefined) return state;
      if (row.identity === state.identity) return again(state, { identity: null, deviceName: null });
      return again(state, { identity: row.identity, deviceName: row.hostname ?? row.ip ?? row.mac ?? row.identity });
    }
    case 'clearDevice':
      return state.identity === null ? state : again(state, { identity: null, deviceName: null });
    case 'reload':
      return again(state, {});
    case 'loaded': {
      // Switching periods quickly: only the reply to the latest request counts.
      if (action.request !== state.request) return state;
      const cursor = Math.max(0, Math.min(state.cursor, action.view.rows.length - 1));
      return { ...state, status: 'ready', view: action.view, error: null, cursor };
    }
    case 'failed':
      return action.request === state.request ? { ...state, status: 'failed', error: action.error } : state;
    case 'scroll':
      return moveCursor(state, action.action, action.viewportRows);
  }
}

function moveCursor(state: HistoryState, action: ScrollAction, viewportRows: number): HistoryState {
  const total = state.view?.rows.length ?? 0;
  if (total === 0) return state;
  const rows = Math.max(1, viewportRows);
  const page = Math.max(1, rows - 1);
  const target = { up: state.cursor - 1, down: state.cursor + 1, pageUp: state.cursor - page, pageDown: state.cursor + page, home: 0, end: total - 1 }[action];
  const cursor = Math.max(0, Math.min(total - 1, target));
  let scrollTop = clampScrollTop(state.scrollTop, total, rows);
  if (cursor < scrollTop) scrollTop = cursor;
  else if (cursor >= scrollTop + rows) scrollTop = cursor - rows + 1;
  return cursor === state.cursor && scrollTop === state.scrollTop ? state : { ...state, cursor, scrollTop };
}
