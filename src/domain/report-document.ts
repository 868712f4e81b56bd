// What a picture of the history is (issue 17): one period of one router as the HTML report, the
// live page's charts and the scheduled mails draw it. A plain, JSON-safe value: the store's answers
// (PeriodReport, series, persons) turned into it by app/report-document.ts, rendered by
// output/html/report-page.ts, sent as JSON by serve's /api/report/document. Every text in it is
// already sanitised (host names are router text).

import type { Granularity } from './report.js';

/** Download and upload per bucket, aligned with ReportDocument.bucketStartsMs; null = pruned (unknown, not zero). */
export interface SeriesBytes {
  down: Array<number | null>;
  up: Array<number | null>;
}

export interface ReportDeviceDoc {
  identity: string;
  /** Sanitised host name, else the address, else the identity. */
  name: string;
  ip: string | null;
  mac: string | null;
  downBytes: number;
  upBytes: number;
  /** Of the period's total (down + up), 0–1. */
  share: number;
  /** The saved person this device belongs to, if any. */
  person: string | null;
  /** Per bucket; null for devices beyond the series limit (they are summed into `otherSeries`). */
  series: SeriesBytes | null;
}

export interface ReportPersonDoc {
  name: string;
  identities: string[];
  downBytes: number;
  upBytes: number;
  share: number;
}

/** A custom counter (issue 18, docs/counters.md) over the period. */
export interface ReportCounterDoc {
  /** lantop's own name (custom-counter.ts isCounterName), sanitised anyway. */
  name: string;
  bytes: number;
  packets: number;
  /** Bytes per bucket, aligned with ReportDocument.bucketStartsMs; null = pruned (unknown, not zero). */
  series: Array<number | null>;
}

export interface ReportDocument {
  version: 1;
  /** The router's key as the history names it (host:port or profile). */
  router: string;
  /** today, yesterday, week, month, cycle, all, custom. */
  period: string;
  /** Human words for the period: "today", "this billing cycle (from day 5)", "2026-11-01 → 2026-11-08". */
  periodLabel: string;
  /** The range asked for and the range the totals are exact for (store's `effective`). */
  range: { startMs: number; endMs: number };
  effective: { startMs: number; endMs: number };
  generatedAtMs: number;
  /** The series resolution chosen for the period: minutes for hours, hours for a day, days beyond. */
  granularity: Granularity;
  bucketMs: number;
  bucketStartsMs: number[];
  totals: { downBytes: number; upBytes: number };
  totalSeries: SeriesBytes;
  /** Busiest first. */
  devices: ReportDeviceDoc[];
  /** The devices without their own series, summed per bucket (null when every device has one). */
  otherSeries: SeriesBytes | null;
  persons: ReportPersonDoc[];
  hostCount: number;
  /** The router's custom counters, most bytes first; absent when it has none and none were recorded (so such a document is as before issue 18). */
  counters?: ReportCounterDoc[];
}
