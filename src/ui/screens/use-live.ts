// Live screen keys → intents: d/u/t/n sort, f the family view, w the sparkline's window, ↑/↓ (j/k) PgUp PgDn Home End move
// the row cursor, Enter opens the selected device's connections (issue 19), b/U block or unblock
// the selected device (asks first), q/Esc back.
import type { Key } from 'ink';
import type { BlockActionResult } from '../../app/types.js';
import { isUnattributedIdentity } from '../../domain/snapshot.js';
import { liveWindow, shownHosts, type LiveAction, type LiveState, type SortKey } from './use-live-state.js';
import { BLOCK_DURATIONS_MS } from './live-block-state.js';
import { scrollActionForKey } from '../scroll.js';
import { NO_NAME, rowName } from '../text.js';
import { isBackKey, useKeys } from '../use-keys.js';

export { shownHosts } from './use-live-state.js';

export const SORT_KEYS: Readonly<Record<string, SortKey>> = { d: 'down', u: 'up', t: 'total', n: 'name' };

/** Cycles the family view: both families, IPv4 only, IPv6 only. */
export const FAMILY_KEY = 'f';
/** Cycles the sparkline's window: the last minute, 10 minutes, an hour (issue 17). */
export const SPARK_WINDOW_KEY = 'w';
/** Block a device (a prompt asks first), unblock one (issue 16); `u` sorts by upload. */
export const BLOCK_KEY = 'b';
export const UNBLOCK_KEY = 'U';

/** The device Enter opens: its identity and a display-safe name. */
export interface SelectedDevice {
  identity: string;
  name: string;
}

export type LiveKeyResult = LiveAction | { type: 'back' } | { type: 'blockConfirm' } | { type: 'open'; device: SelectedDevice } | null;

/** The device under the cursor, or null when there are no rows. */
export function selectedHost(state: LiveState, viewportRows: number) {
  const hosts = shownHosts(state);
  const { index } = liveWindow(state, hosts, viewportRows);
  return index === -1 ? null : hosts[index]!;
}

/** Keys → intents; `state` is the state at the moment of the key (never one captured earlier). */
export function liveKeyAction(input: string, key: Key, viewportRows: number, state?: LiveState): LiveKeyResult {
  if (key.ctrl) return null;
  const prompt = state?.block ?? null;
  if (prompt?.kind === 'ask') {
    if (input === 'y' || input === 'Y') return { type: 'blockConfirm' };
    if (input === 'n' || input === 'N' || key.escape) return { type: 'blockCancel' };
    if (key.leftArrow || key.rightArrow) return { type: 'blockMove', delta: key.leftArrow ? -1 : 1, hosts: shownHosts(state!) };
    if (input === '+' || input === '-') return { type: 'blockDuration', delta: input === '+' ? 1 : -1 };
    return null;
  }
  if (state && (input === BLOCK_KEY || input === UNBLOCK_KEY)) {
    const hosts = shownHosts(state);
    return { type: 'blockAsk', mode: input === BLOCK_KEY ? 'block' : 'unblock', hosts, first: Math.max(0, liveWindow(state, hosts, viewportRows).index) };
  }
  if (state && key.return) {
    const host = selectedHost(state, viewportRows);
    if (host === null) return null;
    if (isUnattributedIdentity(host.identity)) return { type: 'blockSaid', text: 'That row is IPv6 traffic no device could be named for: it has no connections of its own.', isDone: false };
    const name = rowName(host, 48);
    return { type: 'open', device: { identity: host.identity, name: name === NO_NAME ? host.ip : name } };
  }
  const scroll = scrollActionForKey(key) ?? (input === 'j' ? 'down' : input === 'k' ? 'up' : null);
  if (scroll) return { type: 'scroll', action: scroll, viewportRows };
  const sortKey = SORT_KEYS[input];
  if (sortKey) return { type: 'sort', sortKey };
  if (input === FAMILY_KEY) return { type: 'family' };
  if (input === SPARK_WINDOW_KEY) return { type: 'sparkWindow' };
  if (isBackKey(input, key)) return { type: 'back' };
  return null;
}

export interface LiveKeyOptions {
  dispatch: (action: LiveAction) => void;
  onBack: () => void;
  /** Table rows on screen now (a number, or asked at each key: the offload warning takes a row). */
  viewportRows: number | (() => number);
  isEnabled: boolean;
  /** The live state now (LiveView.current). */
  getState?: () => LiveState;
  blockDevice?: (identity: string, durationMs: number) => Promise<BlockActionResult>;
  unblockDevice?: (identity: string) => Promise<BlockActionResult>;
  /** Enter on a row: the device's connections (issue 19); absent: Enter does nothing. */
  onOpen?: (device: SelectedDevice) => void;
}

export function useLiveKeys(options: LiveKeyOptions): void {
  const { dispatch, onBack, isEnabled, getState, blockDevice, unblockDevice, onOpen } = options;
  useKeys((input, key) => {
    const state = getState?.();
    // An answer stays until the next key.
    if (state?.block?.kind === 'said') dispatch({ type: 'blockCancel' });
    const viewportRows = typeof options.viewportRows === 'function' ? options.viewportRows() : options.viewportRows;
    const result = liveKeyAction(input, key, viewportRows, state);
    if (result === null) return;
    if (result.type === 'back') onBack();
    else if (result.type === 'open') onOpen?.(result.device);
    else if (result.type === 'blockAsk' && !blockDevice) return;
    else if (result.type === 'blockConfirm') {
      const prompt = state?.block;
      if (prompt?.kind !== 'ask' || !blockDevice || !unblockDevice) return;
      dispatch({ type: 'blockSending' });
      const sent = prompt.mode === 'block' ? blockDevice(prompt.identity, BLOCK_DURATIONS_MS[prompt.durationIndex]!) : unblockDevice(prompt.identity);
      void sent.then(
        (r) => dispatch({ type: 'blockSaid', text: r.message, isDone: r.isDone }),
        (error: unknown) => dispatch({ type: 'blockSaid', text: error instanceof Error ? error.message : String(error), isDone: false }),
      );
    } else dispatch(result);
  }, isEnabled);
}
