// Pure: the live screen's sparkline windows (issue 17, key w). The last minute is the per-poll
// samples the reducer keeps (use-live-state.ts); 10 minutes and an hour are the mean rate of
// 10-second and 1-minute buckets, rolled up as polls arrive. Each window holds at most
// SPARK_POINTS values a host (issue 21: bounded memory at 254 hosts), and a poll costs two small
// objects a host: the bucket arrays are copied only when a bucket closes.

export type SparkWindow = '1m' | '10m' | '1h';

export const SPARK_WINDOWS: readonly SparkWindow[] = ['1m', '10m', '1h'];

export const SPARK_WINDOW_LABELS: Readonly<Record<SparkWindow, string>> = { '1m': '1 min', '10m': '10 min', '1h': '1 h' };

/** The sparkline column's header per window. */
export const SPARK_HEADERS: Readonly<Record<SparkWindow, string>> = { '1m': 'LAST MINUTE', '10m': 'LAST 10 MIN', '1h': 'LAST HOUR' };

/** Values per window: the closed buckets and the one filling now. */
export const SPARK_POINTS = 60;

const BUCKET_MS = { '10m': 10_000, '1h': 60_000 } as const;

/** One window's buckets: closed means (oldest first, at most SPARK_POINTS - 1) and the open bucket. */
export interface Rollup {
  readonly closed: readonly number[];
  /** floor(atMs / bucket length) of the open bucket. */
  readonly bucket: number;
  readonly sum: number;
  readonly count: number;
}

export interface HostRollups {
  readonly tenSeconds: Rollup;
  readonly minutes: Rollup;
}

const NONE: readonly number[] = [];

function roll(previous: Rollup | undefined, atMs: number, rate: number, lengthMs: number): Rollup {
  const bucket = Math.floor(atMs / lengthMs);
  if (previous === undefined) return { closed: NONE, bucket, sum: rate, count: 1 };
  if (bucket <= previous.bucket) return { closed: previous.closed, bucket: previous.bucket, sum: previous.sum + rate, count: previous.count + 1 };
  // The open bucket closes; buckets no poll reached (a stalled connection) read zero.
  const keep = SPARK_POINTS - 1;
  const gaps = Math.min(keep, bucket - previous.bucket - 1);
  const added = 1 + gaps;
  const from = Math.max(0, previous.closed.length + added - keep);
  const closed = new Array<number>(previous.closed.length - from + added);
  let k = 0;
  for (let i = from; i < previous.closed.length; i += 1) closed[k++] = previous.closed[i]!;
  closed[k++] = previous.count > 0 ? previous.sum / previous.count : 0;
  for (let g = 0; g < gaps; g += 1) closed[k++] = 0;
  // More gaps than fit: the oldest go (the mean of the closed bucket is older than the gaps).
  return { closed: closed.length > keep ? closed.slice(closed.length - keep) : closed, bucket, sum: rate, count: 1 };
}

/** A host's rollups after a poll at `atMs` that saw `rate` bytes/s (both directions). */
export function nextRollups(previous: HostRollups | undefined, atMs: number, rate: number): HostRollups {
  return { tenSeconds: roll(previous?.tenSeconds, atMs, rate, BUCKET_MS['10m']), minutes: roll(previous?.minutes, atMs, rate, BUCKET_MS['1h']) };
}

/** The values a sparkline of `window` draws for a host, oldest first (at most SPARK_POINTS). */
export function sparkValues(window: SparkWindow, samples: readonly number[] | undefined, rollups: HostRollups | undefined): readonly number[] {
  if (window === '1m') return samples ?? NONE;
  const r = window === '10m' ? rollups?.tenSeconds : rollups?.minutes;
  if (r === undefined) return NONE;
  const out = new Array<number>(r.closed.length + 1);
  for (let i = 0; i < r.closed.length; i += 1) out[i] = r.closed[i]!;
  out[r.closed.length] = r.count > 0 ? r.sum / r.count : 0;
  return out;
}

/** The largest value any host's sparkline shows in `window` (one scale for every row). */
export function sparkMaxOf(window: SparkWindow, samples: ReadonlyMap<string, readonly number[]>, rollups: ReadonlyMap<string, HostRollups> | undefined): number {
  let max = 0;
  if (window === '1m') {
    samples.forEach((list) => {
      for (let i = 0; i < list.length; i += 1) if (list[i]! > max) max = list[i]!;
    });
    return max;
  }
  rollups?.forEach((h) => {
    const r = window === '10m' ? h.tenSeconds : h.minutes;
    for (let i = 0; i < r.closed.length; i += 1) if (r.closed[i]! > max) max = r.closed[i]!;
    if (r.count > 0 && r.sum / r.count > max) max = r.sum / r.count;
  });
  return max;
}
