import type { Key } from 'ink';
import type { BlockActionResult } from '../../app/types.js';
import type { HostUsage } from '../../domain/snapshot.js';
import { familyView, sortHosts, type LiveAction, type LiveState, type SortKey } from './use-live-state.js';
import { BLOCK_DURATIONS_MS } from './live-block-state.js';
import { scrollActionForKey } from '../scroll.js';
import { isBackKey, useKeys } from '../use-keys.js';

export const SORT_KEYS: Readonly<Record<string, SortKey>> = { d: 'down', u: 'up', t: 'total', n: 'name' };

/** Cycles the family view: both families, IPv4 only, IPv6 only. */
export const FAMILY_KEY = 'f';
/** Block a device (a prompt asks first), unblock one (issue 16); `u` sorts by upload. */
export const BLOCK_KEY = 'b';
export const UNBLOCK_KEY = 'U';

export type LiveKeyResult = LiveAction | { type: 'back' } | { type: 'blockConfirm' } | null;

/** The hosts in the order the screen shows them (the prompt walks them with ←/→). */
export function shownHosts(state: LiveState): readonly HostUsage[] {
  return state.snapshot ? sortHosts(familyView(state.snapshot, state.family ?? 'all').hosts, state.sortKey) : [];
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
    return { type: 'blockAsk', mode: input === BLOCK_KEY ? 'block' : 'unblock', hosts: shownHosts(state), first: state.scrollTop };
  }
  const scroll = scrollActionForKey(key);
  if (scroll) return { type: 'scroll', action: scroll, viewportRows };
  const sortKey = SORT_KEYS[input];
  if (sortKey) return { type: 'sort', sortKey };
  if (input === FAMILY_KEY) return { type: 'family' };
  if (isBackKey(input, key)) return { type: 'back' };
  return null;
}

export interface LiveKeyOptions {
  dispatch: (action: LiveAction) => void;
  onBack: () => void;
  viewportRows: number;
  isEnabled: boolean;
  /** The live state now (LiveView.current). */
  getState?: () => LiveState;
  blockDevice?: (identity: string, durationMs: number) => Promise<BlockActionResult>;
  unblockDevice?: (identity: string) => Promise<BlockActionResult>;
}

export function useLiveKeys(options: LiveKeyOptions): void {
  const { dispatch, onBack, viewportRows, isEnabled, getState, blockDevice, unblockDevice } = options;
  useKeys((input, key) => {
    const state = getState?.();
    // An answer stays until the next key.
    if (state?.block?.kind === 'said') dispatch({ type: 'blockCancel' });
    const result = liveKeyAction(input, key, viewportRows, blockDevice ? state : undefined);
    if (result === null) return;
    if (result.type === 'back') onBack();
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
