// The live screen's block prompt (issue 16): `b` asks "Block NAME for 1h? y/n" for the selected
// row (←/→ pick another device, which moves the row cursor too; +/- the duration), `U` asks to unblock a blocked device; y
// sends it through the controller (the key hook), the answer is shown until the next key. Pure.
import type { HostUsage } from '../../domain/snapshot.js';
import { sanitizeText } from '../../sanitize.js';
import { rowName } from '../text.js';

export const BLOCK_DURATIONS_MS: readonly number[] = [15 * 60_000, 3_600_000, 2 * 3_600_000, 8 * 3_600_000, 24 * 3_600_000];
export const DEFAULT_DURATION_INDEX = 1;

export type BlockPrompt =
  | { kind: 'ask'; mode: 'block' | 'unblock'; identity: string; name: string; durationIndex: number }
  | { kind: 'sending'; text: string }
  | { kind: 'said'; text: string; isDone: boolean };

export type BlockAction =
  /** `hosts` in display order; `first` the index of the selected row (the cursor's). */
  | { type: 'blockAsk'; mode: 'block' | 'unblock'; hosts: readonly HostUsage[]; first: number }
  | { type: 'blockMove'; delta: number; hosts: readonly HostUsage[] }
  | { type: 'blockDuration'; delta: number }
  | { type: 'blockCancel' }
  | { type: 'blockSending' }
  | { type: 'blockSaid'; text: string; isDone: boolean };

const isBlocked = (h: HostUsage) => h.blockedUntilMs !== undefined && h.blockedUntilMs !== null;

function candidates(mode: 'block' | 'unblock', hosts: readonly HostUsage[]): HostUsage[] {
  return hosts.filter((h) => !h.identity.startsWith('unattributed:') && (mode === 'unblock' ? isBlocked(h) : !isBlocked(h)));
}

export function durationText(ms: number): string {
  return ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : `${Math.round(ms / 60_000)}m`;
}

export function blockReducer(prompt: BlockPrompt | null, action: BlockAction): BlockPrompt | null {
  switch (action.type) {
    case 'blockAsk': {
      const list = candidates(action.mode, action.hosts);
      if (list.length === 0) return { kind: 'said', text: action.mode === 'unblock' ? 'No device is blocked.' : 'No device to block.', isDone: false };
      const selected = action.hosts[Math.min(action.first, action.hosts.length - 1)];
      const target = list.find((h) => h === selected) ?? list[0]!;
      return { kind: 'ask', mode: action.mode, identity: target.identity, name: rowName(target, 32), durationIndex: DEFAULT_DURATION_INDEX };
    }
    case 'blockMove': {
      if (prompt?.kind !== 'ask') return prompt;
      const list = candidates(prompt.mode, action.hosts);
      if (list.length === 0) return prompt;
      const at = list.findIndex((h) => h.identity === prompt.identity);
      const next = list[(((at + action.delta) % list.length) + list.length) % list.length]!;
      return { ...prompt, identity: next.identity, name: rowName(next, 32) };
    }
    case 'blockDuration': {
      if (prompt?.kind !== 'ask' || prompt.mode !== 'block') return prompt;
      const durationIndex = Math.max(0, Math.min(BLOCK_DURATIONS_MS.length - 1, prompt.durationIndex + action.delta));
      return durationIndex === prompt.durationIndex ? prompt : { ...prompt, durationIndex };
    }
    case 'blockCancel':
      return null;
    case 'blockSending':
      return prompt?.kind === 'ask' ? { kind: 'sending', text: `${prompt.mode === 'block' ? 'Blocking' : 'Unblocking'} ${prompt.name}…` } : prompt;
    case 'blockSaid':
      return { kind: 'said', text: sanitizeText(action.text, 200), isDone: action.isDone };
  }
}

/** The prompt's line text (the footer's place while it is up). */
export function blockPromptText(prompt: BlockPrompt): string {
  if (prompt.kind !== 'ask') return prompt.text;
  if (prompt.mode === 'unblock') return `Unblock ${prompt.name}? y/n · ←→ device`;
  return `Block ${prompt.name} for ${durationText(BLOCK_DURATIONS_MS[prompt.durationIndex]!)}? y/n · ←→ device · +/- duration`;
}

