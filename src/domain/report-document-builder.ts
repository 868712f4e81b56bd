// The ReportDocument (issue 17) from what the store answered: totals, per-bucket series and the saved
// persons. Pure, so shares, person totals, the "other devices" sums and the period's words are tested
// without a database; app/report-document.ts does the asking. Router text is sanitised here once, so
// every renderer of the document (HTML, the live page, mails) gets clean names.

import { sanitizeText } from '../sanitize.js';
import type { Person } from './quota.js';
import { systemZone, type LocalZone, type PeriodSpec, type TimeRange } from './periods.js';
import type { Granularity, PeriodReport, SeriesPoint } from './report.js';
import type { ReportCounterDoc, ReportDeviceDoc, ReportDocument, ReportPersonDoc, SeriesBytes } from './report-document.js';
import { GRANULARITY_MS, bucketStarts, resolutionFor } from './chart-resolution.js';
import { isUnattributedIdentity, UNATTRIBUTED_IPV6_NAME } from './snapshot.js';

/** How many devices get their own series unless asked otherwise. */
export const DEFAULT_SERIES_DEVICES = 8;

export interface ChartWindow {
  startMs: number;
  endMs: number;
  granularity: Granularity;
  bucketStartsMs: number[];
}

/**
 * Where the charts of a period start and how fine they are. An open start ("all", a custom range
 * without --since) begins at the first recorded host, not in 1970: otherwise "all" would be 20 000
 * empty days.
 */
export function chartWindow(spec: PeriodSpec, range: TimeRange, report: PeriodReport | null, nowMs: number): ChartWindow {
  const isOpenStart = spec.kind === 'all' || (spec.kind === 'custom' && (spec.sinceMs ?? null) === null);
  let startMs = range.startMs;
  if (isOpenStart) {
    let earliest = Math.min(nowMs, range.endMs - 1);
    for (const h of report?.hosts ?? []) earliest = Math.min(earliest, h.firstSeenMs);
    startMs = Math.max(range.startMs, earliest);
  }
  const granularity = resolutionFor(startMs, range.endMs);
  return { startMs, endMs: range.endMs, granularity, bucketStartsMs: bucketStarts(startMs, range.endMs, nowMs, granularity) };
}

/** The store's points laid on the document's buckets; a bucket the store did not answer for is null. */
export function alignSeries(points: readonly SeriesPoint[], bucketStartsMs: readonly number[]): SeriesBytes {
  const byStart = new Map<number, SeriesPoint>();
  for (const p of points) byStart.set(p.startMs, p);
  const down: Array<number | null> = [];
  const up: Array<number | null> = [];
  for (const b of bucketStartsMs) {
    const p = byStart.get(b);
    down.push(p === undefined ? null : p.downBytes);
    up.push(p === undefined ? null : p.upBytes);
  }
  return { down, up };
}

/** What the devices without their own series used per bucket: the total minus the parts (never below 0; null stays null). */
export function otherSeriesOf(total: SeriesBytes, parts: readonly SeriesBytes[]): SeriesBytes {
  const rest = (key: 'down' | 'up') =>
    total[key].map((all, k) => {
      if (all === null) return null;
      let sum = 0;
      for (const p of parts) {
        const v = p[key][k];
        if (v === null || v === undefined) return null;
        sum += v;
      }
      return Math.max(0, all - sum);
    });
  return { down: rest('down'), up: rest('up') };
}

function shareOf(part: number, total: number): number {
  return total > 0 ? part / total : 0;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

function localText(zone: LocalZone, ms: number, withTime: boolean): string {
  const p = zone.parts(ms);
  const date = `${p.year}-${pad2(p.month + 1)}-${pad2(p.day)}`;
  return withTime ? `${date} ${pad2(p.hour)}:${pad2(p.minute)}` : date;
}

function isLocalMidnight(zone: LocalZone, ms: number): boolean {
  const p = zone.parts(ms);
  return p.hour === 0 && p.minute === 0 && p.second === 0 && ms % 1000 === 0;
}

/** Human words for a period: "today", "this billing cycle (from day 5)", "2026-11-01 → 2026-11-08" (the end day included). */
export function periodLabel(spec: PeriodSpec, range: TimeRange, zone: LocalZone = systemZone): string {
  switch (spec.kind) {
    case 'today':
    case 'yesterday':
      return spec.kind;
    case 'week':
      return 'this week';
    case 'month':
      return 'this month';
    case 'cycle':
      return `this billing cycle (from day ${spec.startDay})`;
    case 'all':
      return 'all recorded history';
    case 'custom': {
      const hasStart = (spec.sinceMs ?? null) !== null;
      const hasEnd = (spec.untilMs ?? null) !== null;
      const wholeDays = (!hasStart || isLocalMidnight(zone, range.startMs)) && (!hasEnd || isLocalMidnight(zone, range.endMs));
      const from = hasStart ? localText(zone, range.startMs, !wholeDays) : 'the beginning';
      // A whole-day end is exclusive midnight: name the last day it includes.
      const to = hasEnd ? localText(zone, wholeDays ? range.endMs - 1 : range.endMs, !wholeDays) : 'now';
      return `${from} → ${to}`;
    }
  }
}

/** A counter's bytes in one bucket as the store answered (null: pruned). */
export interface CounterBucket {
  startMs: number;
  bytes: number | null;
}

/** A custom counter's totals in the period and its per-bucket bytes (any order, may miss buckets). */
export interface CounterInput {
  name: string;
  bytes: number;
  packets: number;
  points: readonly CounterBucket[];
}

/** The counters laid on the document's buckets (a bucket the store did not answer for is null), most bytes first, then by name. */
export function counterDocs(counters: readonly CounterInput[], bucketStartsMs: readonly number[]): ReportCounterDoc[] {
  const docs = counters.map((c): ReportCounterDoc => {
    const byStart = new Map<number, number | null>();
    for (const p of c.points) byStart.set(p.startMs, p.bytes);
    return { name: sanitizeText(c.name, 64), bytes: c.bytes, packets: c.packets, series: bucketStartsMs.map((b) => byStart.get(b) ?? null) };
  });
  return docs.sort((a, b) => b.bytes - a.bytes || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export interface ReportDocumentInput {
  router: string;
  spec: PeriodSpec;
  /** The range asked for (resolvePeriod). */
  range: TimeRange;
  report: PeriodReport;
  window: ChartWindow;
  generatedAtMs: number;
  /** The series of all devices together, as the store answered (any order, may miss buckets). */
  totalSeries: readonly SeriesPoint[];
  /** Series of the devices that get their own, by identity; the others are summed into `otherSeries`. */
  deviceSeries: ReadonlyMap<string, readonly SeriesPoint[]>;
  persons: readonly Person[];
  /** Custom counters (issue 18); none (or empty): the document has no `counters` field. */
  counters?: readonly CounterInput[];
  zone?: LocalZone;
}

/** A device's display name: its sanitised host name, else its address, else its identity. */
export function deviceName(host: { identity: string; hostname: string | null; ip: string | null }): string {
  if (isUnattributedIdentity(host.identity)) return UNATTRIBUTED_IPV6_NAME;
  const name = host.hostname === null ? '' : sanitizeText(host.hostname, 64).trim();
  if (name !== '') return name;
  const ip = host.ip === null ? '' : sanitizeText(host.ip, 64);
  return ip !== '' ? ip : sanitizeText(host.identity, 64);
}

export function buildReportDocument(input: ReportDocumentInput): ReportDocument {
  const { report, window } = input;
  const totalBytes = report.totals.downBytes + report.totals.upBytes;
  const personOf = new Map<string, string>();
  const persons = [...input.persons].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const p of persons) for (const id of p.identities) if (!personOf.has(id)) personOf.set(id, sanitizeText(p.name, 64));

  const parts: SeriesBytes[] = [];
  const devices: ReportDeviceDoc[] = report.hosts.map((h) => {
    const points = input.deviceSeries.get(h.identity);
    const series = points === undefined ? null : alignSeries(points, window.bucketStartsMs);
    if (series !== null) parts.push(series);
    const ip = h.ip === '' ? null : sanitizeText(h.ip, 64);
    return {
      identity: sanitizeText(h.identity, 128),
      name: deviceName(h),
      ip,
      mac: h.mac === null ? null : sanitizeText(h.mac, 64),
      downBytes: h.downBytes,
      upBytes: h.upBytes,
      share: shareOf(h.downBytes + h.upBytes, totalBytes),
      person: personOf.get(h.identity) ?? null,
      series,
    };
  });

  const byIdentity = new Map(report.hosts.map((h) => [h.identity, h]));
  const personDocs: ReportPersonDoc[] = persons.map((p) => {
    let down = 0;
    let up = 0;
    for (const id of p.identities) {
      const h = byIdentity.get(id);
      if (h !== undefined) {
        down += h.downBytes;
        up += h.upBytes;
      }
    }
    return { name: sanitizeText(p.name, 64), identities: p.identities.map((id) => sanitizeText(id, 128)), downBytes: down, upBytes: up, share: shareOf(down + up, totalBytes) };
  });
  personDocs.sort((a, b) => b.downBytes + b.upBytes - (a.downBytes + a.upBytes));

  const totalSeries = alignSeries(input.totalSeries, window.bucketStartsMs);
  const hasOthers = devices.some((d) => d.series === null);
  const counters = input.counters === undefined || input.counters.length === 0 ? null : counterDocs(input.counters, window.bucketStartsMs);
  return {
    version: 1,
    router: sanitizeText(input.router, 128),
    period: input.spec.kind,
    periodLabel: periodLabel(input.spec, input.range, input.zone),
    range: { startMs: input.range.startMs, endMs: input.range.endMs },
    effective: { startMs: report.effective.startMs, endMs: report.effective.endMs },
    generatedAtMs: input.generatedAtMs,
    granularity: window.granularity,
    bucketMs: GRANULARITY_MS[window.granularity],
    bucketStartsMs: [...window.bucketStartsMs],
    totals: { downBytes: report.totals.downBytes, upBytes: report.totals.upBytes },
    totalSeries,
    devices,
    otherSeries: hasOthers ? otherSeriesOf(totalSeries, parts) : null,
    persons: personDocs,
    hostCount: report.hostCount,
    ...(counters === null ? {} : { counters }),
  };
}
