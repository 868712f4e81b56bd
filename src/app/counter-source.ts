// Where a router's custom counters come from (issue 18): the history database, read-only, at most
// every few seconds — the router client asks at every read and plan, so a running monitor follows
// `lantop counter add|remove` from another process within one poll or two. No file, or one from
// before schema 9: no counters (their chains go at the next setup or sync); a file that cannot be
// read: not known (the counters on the router are left as they are).
import type { CustomCounter } from '../domain/custom-counter.js';
import { loadCountersReadOnly } from '../store/counter-store.js';

const REFRESH_MS = 3000;

export function counterSourceFor(dbPath: string, routerKey: string, now: () => number = Date.now): () => readonly CustomCounter[] | null {
  let cached: { atMs: number; counters: readonly CustomCounter[] | null } | null = null;
  return () => {
    const t = now();
    if (cached === null || t - cached.atMs >= REFRESH_MS || t < cached.atMs) {
      const stored = loadCountersReadOnly(dbPath, routerKey);
      cached = { atMs: t, counters: stored === null ? null : stored.map((s) => s.counter) };
    }
    return cached.counters;
  };
}
