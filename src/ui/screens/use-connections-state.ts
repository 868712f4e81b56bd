// Connections screen state (issue 19): the latest read of one device's connections (kept through a
// failed read, which shows the error and is retried), the grouping (g: connections → by remote →
// by port → by protocol), the sort (s: bytes ⇄ rate), the scroll offset, and the consent flow that
// turns the router's connection accounting on (A, then y/n naming the exact command). Pure.
import type { ConnectionGrouping, ConnectionSort, ConnectionsView } from '../../domain/connection-model.js';
import { sanitizeText } from '../../sanitize.js';
import { scrollTopAfter, type ScrollAction } from '../scroll.js';
import type { ErrorView } from '../text.js';
import { GROUPINGS } from './connections-rows.js';

export type ConsentPrompt =
  /** "Run `COMMAND` on the router? y/n" (the command as the controller will send it). */
  | { kind: 'ask'; command: string }
  | { kind: 'sending'; command: string }
  /** The controller's answer (or why nothing was asked), shown until the next key. */
  | { kind: 'said'; text: string; isDone: boolean };

export interface ConnectionsState {
  identity: string;
  /** The name the live screen showed (until a read names the device). */
  name: string;
  status: 'loading' | 'ready' | 'failed';
  view: ConnectionsView | null;
  error: ErrorView | null;
  /** Failed reads in a row (0 after a good one). */
  failures: number;
  grouping: ConnectionGrouping;
  sort: ConnectionSort;
  scrollTop: number;
  consent: ConsentPrompt | null;
}

export type ConnectionsAction =
  | { type: 'loaded'; view: ConnectionsView }
  | { type: 'failed'; error: ErrorView }
  /** The next grouping. */
  | { type: 'group' }
  /** bytes ⇄ rate. */
  | { type: 'sort' }
  | { type: 'scroll'; action: ScrollAction; viewportRows: number; total: number }
  | { type: 'askEnable' }
  | { type: 'cancelEnable' }
  | { type: 'enableSending' }
  | { type: 'enableSaid'; text: string; isDone: boolean };

export function initialConnectionsState(identity: string, name: string): ConnectionsState {
  return { identity, name, status: 'loading', view: null, error: null, failures: 0, grouping: 'connections', sort: 'bytes', scrollTop: 0, consent: null };
}

/** Said after the router took the command: the kernel counts from a connection's start only. */
export const ONLY_NEW_CONNECTIONS = 'Only connections opened from now on get bytes; those open now stay without.';

export function connectionsReducer(state: ConnectionsState, action: ConnectionsAction): ConnectionsState {
  switch (action.type) {
    case 'loaded':
      return { ...state, status: 'ready', view: action.view, error: null, failures: 0 };
    case 'failed':
      return { ...state, status: 'failed', error: action.error, failures: state.failures + 1 };
    case 'group': {
      const next = GROUPINGS[(GROUPINGS.indexOf(state.grouping) + 1) % GROUPINGS.length]!;
      return { ...state, grouping: next, scrollTop: 0 };
    }
    case 'sort':
      return { ...state, sort: state.sort === 'bytes' ? 'rate' : 'bytes', scrollTop: 0 };
    case 'scroll': {
      const scrollTop = scrollTopAfter(state.scrollTop, action.action, action.total, action.viewportRows);
      return scrollTop === state.scrollTop ? state : { ...state, scrollTop };
    }
    case 'askEnable': {
      const view = state.view;
      if (view === null || view.accounting !== 'off' || state.consent?.kind === 'sending') return state;
      const command = view.enableAccountingCommand === null ? '' : sanitizeText(view.enableAccountingCommand, 200).trim();
      if (command === '') return { ...state, consent: { kind: 'said', text: 'lantop knows no command that turns connection accounting on for this router.', isDone: false } };
      return { ...state, consent: { kind: 'ask', command } };
    }
    case 'cancelEnable':
      return state.consent === null || state.consent.kind === 'sending' ? state : { ...state, consent: null };
    case 'enableSending':
      return state.consent?.kind === 'ask' ? { ...state, consent: { kind: 'sending', command: state.consent.command } } : state;
    case 'enableSaid': {
      const text = sanitizeText(action.text, 200).trim();
      return { ...state, consent: { kind: 'said', text: action.isDone ? `${text} ${ONLY_NEW_CONNECTIONS}`.trim() : text, isDone: action.isDone } };
    }
  }
}
