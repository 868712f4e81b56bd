// How fine a chart of a period is (issue 17): minutes for the last hours, hours for a day or a
// week, days for a month, a billing cycle or longer. The History screen, the HTML report, the live
// page and the mails all choose by this rule, so the same period looks the same everywhere.

import type { Granularity } from './report.js';

export const GRANULARITY_MS: Readonly<Record<Granularity, number>> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/** Spans up to this long are drawn per minute (360 points at most). */
export const MINUTE_SPAN_MS = 6 * GRANULARITY_MS.hour;
/** Spans up to this long are drawn per hour (a week: 168 points; 8 days leaves room for DST). */
export const HOUR_SPAN_MS = 8 * GRANULARITY_MS.day;

/** The resolution for a span of [startMs, endMs). */
export function resolutionFor(startMs: number, endMs: number): Granularity {
  const span = endMs - startMs;
  if (!(span > 0) || span <= MINUTE_SPAN_MS) return 'minute';
  return span <= HOUR_SPAN_MS ? 'hour' : 'day';
}

/**
 * Bucket starts covering [startMs, min(endMs, nowMs)): aligned to the granularity in UTC as the
 * history stores them (store/range-plan.ts). The future part of a period is not drawn; at least one
 * bucket is returned when the period has begun.
 */
export function bucketStarts(startMs: number, endMs: number, nowMs: number, granularity: Granularity): number[] {
  const len = GRANULARITY_MS[granularity];
  const until = Math.min(endMs, Math.max(nowMs, startMs + 1));
  const out: number[] = [];
  for (let b = Math.floor(startMs / len) * len; b < until; b += len) out.push(b);
  return out;
}
