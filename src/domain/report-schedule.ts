// Scheduled reports (issue 17, docs/reports.md "Scheduled reports"): when a schedule fires and
// which period a firing covers. Pure: "now" and the zone are passed in. A named schedule fires
// 5 minutes after its period ends (so the period's last minute is written) and covers the period
// that just ENDED: daily at 00:05 covers yesterday, weekly on Monday 00:05 last week (ISO, Monday
// to Monday), monthly on the 1st last month, cycle:N on day N (clamped to the month's length, so
// cycle:31 fires on 28/29 February) the billing cycle that ended. A cron expression (croner, 5
// fields or @daily…, in the zone) covers the time since its previous firing, or with `covers` the
// named period that ended last before it fired.

import { Cron } from 'croner';
import { sanitizeText } from '../sanitize.js';
import { resolvePeriod, systemZone, type LocalZone, type PeriodSpec, type TimeRange } from './periods.js';

export type NamedEvery = { kind: 'daily' } | { kind: 'weekly' } | { kind: 'monthly' } | { kind: 'cycle'; startDay: number };
export type ScheduleEvery = NamedEvery | { kind: 'cron'; expression: string; covers: NamedEvery | null };

/** How the HTML report travels in a mail: an attachment, the mail's HTML body, or both. */
export type ReportLayout = 'attachment' | 'body' | 'both';
export const REPORT_LAYOUTS: readonly ReportLayout[] = ['attachment', 'body', 'both'];

export interface ReportSchedule {
  id: number;
  /** The schedule's key (in the database too): letters, digits, `.`, `_`, `-`. */
  name: string;
  every: ScheduleEvery;
  /** Alert channel ids (alerts.json) the report goes to. */
  channels: number[];
  as: ReportLayout;
  /** Only this router (a profile name or router key); null: every router serve watches. */
  router: string | null;
  /** Firings before this are not "missed": a new schedule does not send at once. */
  createdMs: number;
}

/** One firing: when it is due and the half-open period it reports. */
export interface Firing {
  atMs: number;
  period: TimeRange;
}

/** How long after a named period ends its report is due. */
export const NAMED_DELAY_MS = 5 * 60_000;
/** Cron schedules may fire at most this often. */
export const MIN_CRON_GAP_MS = 3_600_000;

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/;

/** Throws RangeError unless the name is a plain word of up to 40 characters. */
export function checkScheduleName(text: string): string {
  if (!NAME.test(text)) throw new RangeError(`'${sanitizeText(text, 60)}' is not a schedule name: use letters, digits, '.', '_' or '-' (up to 40, starting with a letter or digit).`);
  return text;
}

/** daily | weekly | monthly | cycle:N (N = 1..31) → a named schedule; null when it is none. */
export function parseNamedEvery(text: string): NamedEvery | null {
  const t = text.trim().toLowerCase();
  if (t === 'daily' || t === 'day') return { kind: 'daily' };
  if (t === 'weekly' || t === 'week') return { kind: 'weekly' };
  if (t === 'monthly' || t === 'month') return { kind: 'monthly' };
  const m = /^cycle:(\d{1,2})$/.exec(t);
  if (m) {
    const startDay = Number(m[1]);
    if (startDay < 1 || startDay > 31) throw new RangeError(`a billing cycle starts on day 1..31, not ${startDay} (cycle:N).`);
    return { kind: 'cycle', startDay };
  }
  if (t.startsWith('cycle')) throw new RangeError(`write a billing cycle as cycle:N with its start day, e.g. cycle:15 (got '${sanitizeText(text, 40)}').`);
  return null;
}

function cronOptions(zone: LocalZone): { paused: true; utcOffset?: number } {
  // A fixed zone's local midnight of 1970-01-01 is -offset; the system zone is croner's default (local).
  return zone === systemZone ? { paused: true } : { paused: true, utcOffset: -zone.toMs(1970, 0, 1) / 60_000 };
}

function cronOf(expression: string, zone: LocalZone): Cron {
  return new Cron(expression, cronOptions(zone));
}

/**
 * Parses `--every`: a named period or a cron expression (5 fields, or @hourly/@daily/@weekly/
 * @monthly/@yearly), firing at most hourly. `covers` (a named period) makes a cron firing report
 * that period. Throws RangeError with the reason.
 */
export function parseEvery(text: string, covers: string | null = null, zone: LocalZone = systemZone, nowMs = 0): ScheduleEvery {
  const named = parseNamedEvery(text);
  if (named !== null) {
    if (covers !== null) throw new RangeError('--covers goes with a cron expression; a named schedule covers its own period.');
    return named;
  }
  const expression = text.trim().replace(/\s+/g, ' ');
  const fields = expression.split(' ');
  if (!expression.startsWith('@') && fields.length !== 5) {
    throw new RangeError(`'${sanitizeText(text, 60)}' is neither daily, weekly, monthly, cycle:N nor a cron expression of 5 fields (minute hour day month weekday), e.g. '0 7 * * 1'.`);
  }
  let cron: Cron;
  try {
    cron = cronOf(expression, zone);
  } catch (error) {
    throw new RangeError(`'${sanitizeText(text, 60)}' is not a valid cron expression: ${sanitizeText(error instanceof Error ? error.message : String(error), 120)}.`);
  }
  const runs = cron.nextRuns(3, new Date(nowMs));
  if (runs.length === 0) throw new RangeError(`the cron expression '${sanitizeText(text, 60)}' never fires.`);
  for (let i = 1; i < runs.length; i++) {
    if (runs[i]!.getTime() - runs[i - 1]!.getTime() < MIN_CRON_GAP_MS) throw new RangeError(`'${sanitizeText(text, 60)}' fires more than once an hour; a report is sent at most hourly.`);
  }
  let coversEvery: NamedEvery | null = null;
  if (covers !== null) {
    coversEvery = parseNamedEvery(covers);
    if (coversEvery === null) throw new RangeError(`--covers is daily, weekly, monthly or cycle:N, not '${sanitizeText(covers, 40)}'.`);
  }
  return { kind: 'cron', expression, covers: coversEvery };
}

/** `--every` as the user would write it again. */
export function formatEvery(every: ScheduleEvery): string {
  switch (every.kind) {
    case 'cycle':
      return `cycle:${every.startDay}`;
    case 'cron':
      return every.covers === null ? every.expression : `${every.expression} (covers ${formatEvery(every.covers)})`;
    default:
      return every.kind;
  }
}

/** The schedule in words for a summary: "daily report", "billing cycle from day 15", "report since the previous one". */
export function everyWords(every: ScheduleEvery): string {
  switch (every.kind) {
    case 'daily':
    case 'weekly':
    case 'monthly':
      return `${every.kind} report`;
    case 'cycle':
      return `billing cycle from day ${every.startDay}`;
    case 'cron':
      return every.covers === null ? 'since the previous report' : everyWords(every.covers);
  }
}

/** The PeriodSpec of a named schedule's period (the one around an instant). */
export function namedSpec(every: NamedEvery): PeriodSpec {
  switch (every.kind) {
    case 'daily':
      return { kind: 'today' };
    case 'weekly':
      return { kind: 'week' };
    case 'monthly':
      return { kind: 'month' };
    case 'cycle':
      return { kind: 'cycle', startDay: every.startDay };
  }
}

/** The named period that ended last at or before `ms` (yesterday at 00:00 exactly: yesterday). */
export function endedPeriod(every: NamedEvery, ms: number, zone: LocalZone = systemZone): TimeRange {
  const current = resolvePeriod(namedSpec(every), ms, zone);
  return resolvePeriod(namedSpec(every), current.startMs - 1, zone);
}

function cronFiring(every: Extract<ScheduleEvery, { kind: 'cron' }>, atMs: number, zone: LocalZone): Firing | null {
  if (every.covers !== null) return { atMs, period: endedPeriod(every.covers, atMs, zone) };
  const [previous] = cronOf(every.expression, zone).previousRuns(1, new Date(atMs));
  if (previous === undefined) return null;
  return { atMs, period: { startMs: previous.getTime(), endMs: atMs } };
}

/** The latest firing at or before `nowMs`, with the period it covers; null if it never fired. */
export function latestFiring(every: ScheduleEvery, nowMs: number, zone: LocalZone = systemZone): Firing | null {
  if (every.kind === 'cron') {
    const cron = cronOf(every.expression, zone);
    // previousRuns is strictly before its reference (to the second): a firing exactly now counts.
    const [last] = cron.previousRuns(1, new Date(Math.floor(nowMs / 1000) * 1000 + 1000));
    if (last === undefined || last.getTime() > nowMs) return null;
    return cronFiring(every, last.getTime(), zone);
  }
  const spec = namedSpec(every);
  const boundary = resolvePeriod(spec, nowMs - NAMED_DELAY_MS, zone).startMs;
  return { atMs: boundary + NAMED_DELAY_MS, period: resolvePeriod(spec, boundary - 1, zone) };
}

/** The first firing after `nowMs` (for `schedule list` and serve's start line). */
export function nextFiring(every: ScheduleEvery, nowMs: number, zone: LocalZone = systemZone): Firing | null {
  if (every.kind === 'cron') {
    const next = cronOf(every.expression, zone).nextRun(new Date(nowMs));
    return next === null ? null : cronFiring(every, next.getTime(), zone);
  }
  const spec = namedSpec(every);
  const current = resolvePeriod(spec, nowMs - NAMED_DELAY_MS, zone);
  return { atMs: current.endMs + NAMED_DELAY_MS, period: current };
}

/**
 * The firing the scheduler should send now, if any: the latest one, unless it came before the
 * schedule existed. After downtime this is the one missed period (the latest), sent once; older
 * missed periods are not sent.
 */
export function dueFiring(schedule: Pick<ReportSchedule, 'every' | 'createdMs'>, nowMs: number, zone: LocalZone = systemZone): Firing | null {
  const firing = latestFiring(schedule.every, nowMs, zone);
  if (firing === null || firing.atMs < schedule.createdMs) return null;
  return firing;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

function localDate(ms: number, zone: LocalZone): string {
  const p = zone.parts(ms);
  return `${p.year}-${pad(p.month + 1)}-${pad(p.day)}`;
}

function localDateTime(ms: number, zone: LocalZone, sep: string): string {
  const p = zone.parts(ms);
  return `${localDate(ms, zone)}${sep}${pad(p.hour)}${sep === 'T' ? '' : ':'}${pad(p.minute)}`;
}

function isMidnight(ms: number, zone: LocalZone): boolean {
  const p = zone.parts(ms);
  return p.hour === 0 && p.minute === 0 && p.second === 0 && zone.toMs(p.year, p.month, p.day) === ms;
}

interface RangeShape {
  isDays: boolean;
  isOneDay: boolean;
  isMonth: boolean;
  lastDay: number;
}

function shapeOf(range: TimeRange, zone: LocalZone): RangeShape {
  const isDays = isMidnight(range.startMs, zone) && isMidnight(range.endMs, zone);
  const s = zone.parts(range.startMs);
  const lastDay = range.endMs - 1;
  return {
    isDays,
    isOneDay: isDays && zone.toMs(s.year, s.month, s.day + 1) === range.endMs,
    isMonth: isDays && s.day === 1 && zone.toMs(s.year, s.month + 1, 1) === range.endMs,
    lastDay,
  };
}

/**
 * The period in words for subjects and summaries, in the zone: "2026-03-09" (a day), "2026-03" (a
 * calendar month), "2026-03-02 → 2026-03-08" (whole days, the last one inclusive), else with times.
 */
export function periodTitle(range: TimeRange, zone: LocalZone = systemZone): string {
  const shape = shapeOf(range, zone);
  if (shape.isOneDay) return localDate(range.startMs, zone);
  if (shape.isMonth) return localDate(range.startMs, zone).slice(0, 7);
  if (shape.isDays) return `${localDate(range.startMs, zone)} → ${localDate(shape.lastDay, zone)}`;
  return `${localDateTime(range.startMs, zone, ' ')} → ${localDateTime(range.endMs, zone, ' ')}`;
}

/** The period for a file name: 2026-03-09, 2026-03, 2026-03-02_2026-03-08 or 2026-03-09T0800_2026-03-10T0800. */
export function periodSlug(range: TimeRange, zone: LocalZone = systemZone): string {
  const shape = shapeOf(range, zone);
  if (shape.isOneDay) return localDate(range.startMs, zone);
  if (shape.isMonth) return localDate(range.startMs, zone).slice(0, 7);
  if (shape.isDays) return `${localDate(range.startMs, zone)}_${localDate(shape.lastDay, zone)}`;
  return `${localDateTime(range.startMs, zone, 'T')}_${localDateTime(range.endMs, zone, 'T')}`;
}
