// Periods and reports from the history store, as `report` and the app's History screen ask for them.
import { UsageError } from '../errors.js';
import { resolvePeriod, parsePeriodBound, type PeriodSpec } from '../domain/periods.js';
import type { HistoryStore, PeriodReport } from '../store/history-store.js';

export function periodSpec(options: { period?: string; since?: string; until?: string; cycleDay?: string }): PeriodSpec {
  if (options.since !== undefined || options.until !== undefined) {
    const sinceMs = options.since === undefined ? null : parsePeriodBound(options.since, 'since');
    const untilMs = options.until === undefined ? null : parsePeriodBound(options.until, 'until');
    if (sinceMs === null && options.since !== undefined) throw new UsageError(`--since: cannot read '${options.since}' as a date.`, 'Use YYYY-MM-DD or an ISO time like 2026-11-01T08:00.');
    if (untilMs === null && options.until !== undefined) throw new UsageError(`--until: cannot read '${options.until}' as a date.`, 'Use YYYY-MM-DD or an ISO time.');
    return { kind: 'custom', sinceMs, untilMs };
  }
  const period = options.period ?? 'today';
  if (period === 'cycle') {
    const day = Number(options.cycleDay ?? 1);
    if (!Number.isInteger(day) || day < 1 || day > 31) throw new UsageError('--cycle-day must be 1–31.');
    return { kind: 'cycle', startDay: day };
  }
  if (period === 'today' || period === 'yesterday' || period === 'week' || period === 'month' || period === 'all') return { kind: period };
  throw new UsageError(`Unknown period '${period}'.`, 'Use today, yesterday, week, month, cycle or all.');
}

export function loadReport(store: HistoryStore, key: string, spec: PeriodSpec, nowMs: number): PeriodReport | null {
  const routerId = store.findRouter(key);
  const range = resolvePeriod(spec, nowMs);
  if (routerId === null) return null;
  return store.hostTotals(routerId, range.startMs, range.endMs);
}

