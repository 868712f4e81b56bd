// Connections screen (issue 19): keys → intents, and the poll. Keys: g grouping, s sort, ↑↓ j k
// PgUp PgDn Home End scroll, A turn the router's connection accounting on (asks y/n first, naming
// the command), q/Esc back. The poll reads controller.connections(identity) about every `pollMs`,
// one request at a time (the next is scheduled when the last one settled), and stops on unmount.
import { useEffect } from 'react';
import type { Key } from 'ink';
import type { BlockActionResult, RouterController } from '../../app/types.js';
import { scrollActionForKey } from '../scroll.js';
import { describeError } from '../text.js';
import { isBackKey, useKeys } from '../use-keys.js';
import type { ConnectionsAction, ConnectionsState } from './use-connections-state.js';

export const CONNECTIONS_POLL_MS = 2000;
/** Never closer than this after the last read settled (a slow router gets a breath). */
const MIN_GAP_MS = 250;

export const GROUP_KEY = 'g';
export const SORT_KEY = 's';
export const ENABLE_ACCOUNTING_KEY = 'A';

export type ConnectionsKeyResult = ConnectionsAction | { type: 'back' } | { type: 'enableConfirm' } | null;

/** Keys → intents; `state` is the state at the moment of the key. `total` rows, `viewportRows` shown. */
export function connectionsKeyAction(input: string, key: Key, state: ConnectionsState, viewportRows: number, total: number): ConnectionsKeyResult {
  if (key.ctrl) return null;
  const consent = state.consent;
  if (consent?.kind === 'ask') {
    if (input === 'y' || input === 'Y') return { type: 'enableConfirm' };
    if (input === 'n' || input === 'N' || key.escape) return { type: 'cancelEnable' };
    return null;
  }
  const scroll = scrollActionForKey(key) ?? (input === 'j' ? 'down' : input === 'k' ? 'up' : null);
  if (scroll) return { type: 'scroll', action: scroll, viewportRows, total };
  if (input === GROUP_KEY) return { type: 'group' };
  if (input === SORT_KEY) return { type: 'sort' };
  if (input === ENABLE_ACCOUNTING_KEY) return { type: 'askEnable' };
  if (isBackKey(input, key)) return { type: 'back' };
  return null;
}

export function useConnectionsKeys(options: {
  getState: () => ConnectionsState;
  /** Rows shown and rows in all, for the state now. */
  getLayout: () => { viewportRows: number; total: number };
  dispatch: (action: ConnectionsAction) => void;
  onBack: () => void;
  enableAccounting: () => Promise<BlockActionResult>;
  isEnabled: boolean;
}): void {
  const { getState, getLayout, dispatch, onBack, enableAccounting, isEnabled } = options;
  useKeys((input, key) => {
    let state = getState();
    // An answer stays until the next key.
    if (state.consent?.kind === 'said') {
      dispatch({ type: 'cancelEnable' });
      state = getState();
    }
    const { viewportRows, total } = getLayout();
    const result = connectionsKeyAction(input, key, state, viewportRows, total);
    if (result === null) return;
    if (result.type === 'back') onBack();
    else if (result.type === 'enableConfirm') {
      dispatch({ type: 'enableSending' });
      enableAccounting().then(
        (r) => dispatch({ type: 'enableSaid', text: r.message, isDone: r.isDone }),
        (error: unknown) => dispatch({ type: 'enableSaid', text: describeError(error).message, isDone: false }),
      );
    } else dispatch(result);
  }, isEnabled);
}

/** Reads the device's connections while mounted: now, then `pollMs` after each read began (never two at once). */
export function useConnectionsPoll(options: {
  controller: Pick<RouterController, 'connections'>;
  identity: string;
  dispatch: (action: ConnectionsAction) => void;
  pollMs?: number;
  now?: () => number;
}): void {
  const { controller, identity, dispatch, pollMs = CONNECTIONS_POLL_MS, now = Date.now } = options;
  useEffect(() => {
    let isStopped = false;
    let timer: NodeJS.Timeout | null = null;
    const read = () => {
      timer = null;
      const startedMs = now();
      let request: Promise<unknown>;
      try {
        request = controller.connections(identity).then(
          (view) => !isStopped && dispatch({ type: 'loaded', view }),
          (error: unknown) => !isStopped && dispatch({ type: 'failed', error: describeError(error) }),
        );
      } catch (error) {
        // A controller that throws instead of rejecting is read as a failed read, and retried.
        dispatch({ type: 'failed', error: describeError(error) });
        request = Promise.resolve();
      }
      void request.finally(() => {
        if (isStopped) return;
        timer = setTimeout(read, Math.max(Math.min(MIN_GAP_MS, pollMs), pollMs - (now() - startedMs)));
      });
    };
    read();
    return () => {
      isStopped = true;
      if (timer !== null) clearTimeout(timer);
    };
  }, [controller, identity, dispatch, pollMs, now]);
}
