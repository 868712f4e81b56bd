// Shared by history-child.ts and src/store/history-process.test.ts: what the crash writer writes.

export const CRASH_T0 = Date.UTC(2024, 2, 4, 12);
export const CRASH_STEP_MS = 2000;

/** Counters of host i at poll k of the crash writer (all zero at k = 0). */
export function crashCounter(i: number, k: number): [number, number] {
  return [k * (1000 + i) + ((k * k) % 97), k * (i + 1)];
}

export const crashIp = (i: number): string => `198.51.100.${i + 10}`;
