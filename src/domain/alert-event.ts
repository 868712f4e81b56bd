// What an alert says (issue 16): one event per threshold crossing, block, unblock or `alert test`,
// and the two ways it is written — the documented JSON body of a webhook (docs/alerts.md) and one
// line of plain words (notice line, email subject, ntfy title). Pure. Names come from the router
// (DHCP host names) and are hostile: every string that leaves here has passed sanitizeText.
import { sanitizeText } from '../sanitize.js';

export type AlertKind = 'quota-threshold' | 'block' | 'unblock' | 'test';

export interface AlertEvent {
  kind: AlertKind;
  atMs: number;
  /** The router's key (`host:port`). */
  router: string;
  subject: { kind: 'device' | 'person' | 'line'; id: string; name: string | null };
  quotaId: number | null;
  percent: number | null;
  usedBytes: number | null;
  limitBytes: number | null;
  direction: 'down' | 'up' | 'total' | null;
  periodStartMs: number | null;
  resetMs: number | null;
  untilMs: number | null;
  /** Plain, sanitised words. */
  message: string;
}

/** Where events go. send() never throws and never waits (the poll loop calls it). */
export interface AlertSink {
  send(event: AlertEvent): void;
}

/** Version of the JSON body; bumped only when a field changes meaning or goes away. */
export const ALERT_JSON_VERSION = 1;

export interface AlertSize {
  bytes: number;
  /** In words, SI units as lantop prints them: "1.50 GB". */
  text: string;
}

export interface AlertTime {
  ms: number;
  /** ISO 8601, UTC. */
  iso: string;
}

/** The webhook body (`--format json`); field names are stable (docs/alerts.md). */
export interface AlertJson {
  version: number;
  kind: AlertKind;
  at: AlertTime;
  router: string;
  subject: { kind: 'device' | 'person' | 'line'; id: string; name: string | null; label: string };
  quotaId: number | null;
  percent: number | null;
  direction: 'down' | 'up' | 'total' | null;
  used: AlertSize | null;
  limit: AlertSize | null;
  left: AlertSize | null;
  periodStart: AlertTime | null;
  reset: AlertTime | null;
  until: AlertTime | null;
  title: string;
  /** One line of plain words: alertText(event). */
  message: string;
  /** The event's own message, sanitised (may be empty). */
  detail: string;
}

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'] as const;

/** Bytes in words, ×1000 units like the rest of lantop ("812 kB", "1.50 GB"). */
export function sizeInWords(bytes: number): string {
  if (!Number.isFinite(bytes)) return '?';
  const sign = bytes < 0 ? '-' : '';
  let value = Math.abs(bytes);
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  if (unit === 0) return `${sign}${Math.round(value)} B`;
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${sign}${value.toFixed(digits)} ${UNITS[unit]}`;
}

function time(ms: number | null): AlertTime | null {
  if (ms === null || !Number.isFinite(ms)) return null;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? null : { ms, iso: date.toISOString() };
}

function size(bytes: number | null): AlertSize | null {
  return bytes === null || !Number.isFinite(bytes) ? null : { bytes, text: sizeInWords(bytes) };
}

/** Time in words for a line of text: UTC, minutes ("2026-05-01 14:00 UTC"). */
function timeInWords(ms: number): string {
  const date = new Date(ms);
  if (Number.isNaN(date.getTime())) return '?';
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** "Ben", "laptop (aa:bb:…)", "the whole line": who the event is about, sanitised. */
export function subjectLabel(event: AlertEvent): string {
  const { kind, id, name } = event.subject;
  if (kind === 'line') return 'the whole line';
  const cleanId = sanitizeText(id, 64);
  const cleanName = name === null ? '' : sanitizeText(name, 64).trim();
  if (kind === 'person') return cleanName || cleanId;
  return cleanName && cleanName !== cleanId ? `${cleanName} (${cleanId})` : cleanId;
}

const DIRECTION_WORDS = { down: 'download', up: 'upload', total: 'traffic' } as const;

/** A short title: "lantop: Ben at 80 % of the quota", for a subject line or a push title. */
export function alertTitle(event: AlertEvent): string {
  const who = subjectLabel(event);
  switch (event.kind) {
    case 'quota-threshold':
      return sanitizeText(`lantop: ${who} at ${event.percent ?? '?'} % of the ${event.direction ? DIRECTION_WORDS[event.direction] + ' ' : ''}quota`, 200);
    case 'block':
      return sanitizeText(`lantop: ${who} blocked`, 200);
    case 'unblock':
      return sanitizeText(`lantop: ${who} unblocked`, 200);
    case 'test':
      return 'lantop: test alert';
  }
}

/** One line of plain words (the app's notice line, an email body's first line, a chat message). */
export function alertText(event: AlertEvent): string {
  const parts = [alertTitle(event).replace(/^lantop: /, '')];
  if (event.usedBytes !== null && event.limitBytes !== null) parts.push(`${sizeInWords(event.usedBytes)} of ${sizeInWords(event.limitBytes)} used`);
  if (event.kind === 'quota-threshold' && event.resetMs !== null) parts.push(`resets ${timeInWords(event.resetMs)}`);
  if (event.kind === 'block' && event.untilMs !== null) parts.push(`until ${timeInWords(event.untilMs)}`);
  const message = sanitizeText(event.message, 300).trim();
  if (message !== '') parts.push(message);
  parts.push(`router ${sanitizeText(event.router, 80)}`);
  return `lantop: ${parts.join('; ')}`;
}

/** The documented webhook body (docs/alerts.md): every string sanitised, every time in ISO and ms. */
export function alertJson(event: AlertEvent): AlertJson {
  const used = size(event.usedBytes);
  const limit = size(event.limitBytes);
  const left = event.usedBytes !== null && event.limitBytes !== null ? size(Math.max(0, event.limitBytes - event.usedBytes)) : null;
  return {
    version: ALERT_JSON_VERSION,
    kind: event.kind,
    at: time(event.atMs) ?? { ms: event.atMs, iso: '' },
    router: sanitizeText(event.router, 80),
    subject: {
      kind: event.subject.kind,
      id: sanitizeText(event.subject.id, 64),
      name: event.subject.name === null ? null : sanitizeText(event.subject.name, 64),
      label: subjectLabel(event),
    },
    quotaId: event.quotaId,
    percent: event.percent,
    direction: event.direction,
    used,
    limit,
    left,
    periodStart: time(event.periodStartMs),
    reset: time(event.resetMs),
    until: time(event.untilMs),
    title: alertTitle(event),
    message: alertText(event),
    detail: sanitizeText(event.message, 300),
  };
}

/** The event `lantop alert test` sends. */
export function testAlertEvent(atMs: number, router = 'lantop'): AlertEvent {
  return {
    kind: 'test',
    atMs,
    router,
    subject: { kind: 'line', id: 'line', name: null },
    quotaId: null,
    percent: null,
    usedBytes: null,
    limitBytes: null,
    direction: null,
    periodStartMs: null,
    resetMs: null,
    untilMs: null,
    message: 'This is a test alert from lantop: this channel works.',
  };
}
