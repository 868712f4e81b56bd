// The Counters screen's text (issue 18, `lantop counter add`), pure: the latest snapshot's custom
// counters as the table `lantop usage` prints (output/usage-table.ts renderCounters), or what to do
// when there are none. Names are lantop's own (validated when added); match texts are canonical.
import type { Snapshot } from '../../domain/snapshot.js';
import { renderCounters } from '../../output/usage-table.js';

export type CountersView = { kind: 'waiting' } | { kind: 'none' } | { kind: 'table'; lines: string[] };

export function countersView(snapshot: Snapshot | null, width: number): CountersView {
  if (snapshot === null) return { kind: 'waiting' };
  const counters = snapshot.counters ?? [];
  if (counters.length === 0) return { kind: 'none' };
  // The section title is the screen's own.
  return { kind: 'table', lines: renderCounters(counters, width).split('\n').slice(1) };
}

export const NO_COUNTERS_HINT = 'No custom counters on this router. Add one with `lantop counter add NAME …` (see `lantop counter add --help`) — then run `lantop setup`.';
