// The `report --json` document (docs/cli.md), assembled once for `lantop report --json` and serve's
// /api/report (issue 17): the period's totals per device, what crossed the WAN in the range with the
// share the per-device counters saw (issue 19), the traffic classes, and the custom counters (issue 18).
import { resolvePeriod, type PeriodSpec } from '../domain/periods.js';
import { reportJson, reportClassesJson, reportCountersJson, type FormatOptions } from '../output/json.js';
import type { HistoryStore } from '../store/history-store.js';
import type { WanReport } from '../store/wan-store.js';
import { loadReport } from './history-report.js';

/** The `wan` object of `report --json` (docs/cli.md). */
export function wanReportJson(wan: WanReport) {
  const round = (n: number | null) => (n === null ? null : Math.round(n * 10_000) / 10_000);
  return {
    downBytes: wan.downBytes, upBytes: wan.upBytes, routerDownBytes: wan.routerDownBytes, routerUpBytes: wan.routerUpBytes,
    hostDownBytes: wan.hostDownBytes, hostUpBytes: wan.hostUpBytes,
    accountedShare: { down: round(wan.accountedShare.down), up: round(wan.accountedShare.up) },
    minutes: wan.minutes,
  };
}

/** `report --json`'s document for one router and period. */
export function reportJsonDocument(store: HistoryStore, key: string, spec: PeriodSpec, nowMs: number, options: FormatOptions = {}) {
  const report = loadReport(store, key, spec, nowMs);
  const range = resolvePeriod(spec, nowMs);
  const wan = store.wan.query(key, range.startMs, range.endMs);
  const classes = reportClassesJson(store.classes.query(key, range.startMs, range.endMs));
  // Custom counters (issue 18): each counter's bytes and packets recorded in the range (resets do not touch the history).
  const counters = reportCountersJson(store.counters.query(key, range.startMs, range.endMs));
  return { ...reportJson(key, spec.kind, range, report, { byFamily: options.byFamily === true }), wan: wan.minutes === 0 ? null : wanReportJson(wan), classes, counters };
}
