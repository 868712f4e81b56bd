// Quotas (issue 16): a limit on the bytes a device, a person (a named group of devices) or the whole
// line may move in a period, with thresholds that notify and/or block. Pure: sizes and periods are
// parsed here, windows are resolved with domain/periods.ts (calendar periods in the local zone, like
// reports), and a quota is evaluated against a used-byte count the caller took from the history.
// Errors are RangeErrors with a message a user can act on; the CLI turns them into UsageErrors
// (domain/ imports nothing but itself and sanitize.ts).

import { resolvePeriod, systemZone, type LocalZone } from './periods.js';

export type QuotaDirection = 'down' | 'up' | 'total';

export type QuotaPeriod =
  | { kind: 'day' }
  | { kind: 'week' }
  | { kind: 'month' }
  /** Billing cycle starting on day `startDay` (1..31) of each month, clamped to the month's length. */
  | { kind: 'cycle'; startDay: number }
  /** The last `minutes` minutes up to now ("24h", "90m"). */
  | { kind: 'rolling'; minutes: number };

export type QuotaSubject =
  /** Identity as in the history: the MAC when known, else `ip:<address>`. */
  | { kind: 'device'; identity: string }
  | { kind: 'person'; name: string }
  /** The whole line: every device. */
  | { kind: 'line' };

export interface QuotaThreshold {
  percent: number;
  notify: boolean;
  block: boolean;
}

export interface Quota {
  id: number;
  routerKey: string;
  subject: QuotaSubject;
  limitBytes: number;
  direction: QuotaDirection;
  period: QuotaPeriod;
  thresholds: QuotaThreshold[];
  createdMs: number;
}

export interface Person {
  name: string;
  identities: string[];
}

/** The window a quota counts in. `resetMs` is when the count starts again (null: rolling, unknown). */
export interface QuotaWindow {
  startMs: number;
  /** Exclusive. Calendar: the period's end; rolling: now. */
  endMs: number;
  resetMs: number | null;
}

export interface QuotaUsage {
  quota: Quota;
  usedBytes: number;
  limitBytes: number;
  /** limitBytes − usedBytes, never below 0. */
  leftBytes: number;
  /** usedBytes / limitBytes × 100 (may pass 100). */
  percent: number;
  startMs: number;
  /** When the count starts again (a rolling quota: when its oldest counted bytes leave; null with nothing counted). */
  resetMs: number | null;
  /** The thresholds reached (percent ≤ used percent), lowest first. */
  crossed: QuotaThreshold[];
  isOver: boolean;
}

export const QUOTA_DIRECTIONS: readonly QuotaDirection[] = ['down', 'up', 'total'];
export const DEFAULT_NOTIFY_PERCENTS: readonly number[] = [80, 100];
/** 1 PB: far above any home line's month, and well inside a double's exact integers. */
export const MAX_QUOTA_BYTES = 1e15;
/** A rolling window longer than a year is a typo. */
export const MAX_ROLLING_MINUTES = 8760 * 60;

const MINUTE_MS = 60_000;

const SIZE_FACTORS: Readonly<Record<string, number>> = {
  '': 1,
  k: 1e3,
  m: 1e6,
  g: 1e9,
  t: 1e12,
  p: 1e15,
  ki: 1024,
  mi: 1024 ** 2,
  gi: 1024 ** 3,
  ti: 1024 ** 4,
  pi: 1024 ** 5,
};

const SIZE_PATTERN = /^(\d+(?:\.\d+)?|\.\d+)\s*(?:([kKmMgGtTpP])(i?)([bB])|([bB]))?$/;

/**
 * Reads a size in bytes: `500000`, `123B`, `500MB`, `1.5 GB` (×1000), `2KiB`, `10 GiB` (×1024).
 * Units in any case (`10gb` is 10 GB), except `Mb`/`Gb`…, which read as bits and are refused.
 * Throws RangeError.
 */
export function parseSize(text: string): number {
  const trimmed = text.trim();
  if (/^-/.test(trimmed)) throw new RangeError(`size must be positive, got "${trimmed}"`);
  const m = SIZE_PATTERN.exec(trimmed);
  if (!m) {
    throw new RangeError(`cannot read size "${trimmed}"; write bytes or a number with kB, MB, GB, TB (×1000) or KiB, MiB, GiB, TiB (×1024), e.g. 50GB`);
  }
  const [, digits, prefix, binary, byteLetter] = m;
  // "Mb"/"Gb" is how line speeds are written (bits); all lower case ("10gb") is taken as bytes.
  if (prefix !== undefined && byteLetter === 'b' && prefix !== prefix.toLowerCase()) {
    throw new RangeError(`"${trimmed}" reads as bits; sizes are in bytes: write ${prefix.toUpperCase()}${binary}B`);
  }
  const factor = SIZE_FACTORS[(prefix ?? '').toLowerCase() + (binary ?? '')] ?? 1;
  const bytes = Math.round(Number(digits) * factor);
  if (!Number.isFinite(bytes) || bytes < 1) throw new RangeError(`size must be at least 1 byte, got "${trimmed}"`);
  if (bytes > MAX_QUOTA_BYTES) throw new RangeError(`size "${trimmed}" is over the 1 PB limit`);
  return bytes;
}

/**
 * Reads a quota period: `day`, `week`, `month`, `cycle:N` (or `cycle` with `cycleDay`), `Nh` or `Nm`
 * (rolling, 1 minute to 8760 hours). Throws RangeError.
 */
export function parseQuotaPeriod(text: string, cycleDay?: number): QuotaPeriod {
  const t = text.trim().toLowerCase();
  if (cycleDay !== undefined && !t.startsWith('cycle')) {
    throw new RangeError(`--cycle-day goes with --period cycle, not "${text.trim()}"`);
  }
  if (t === 'day' || t === 'week' || t === 'month') return { kind: t };
  const cycle = /^cycle(?::(\d+))?$/.exec(t);
  if (cycle) {
    const fromText = cycle[1] === undefined ? undefined : Number(cycle[1]);
    if (fromText !== undefined && cycleDay !== undefined && fromText !== cycleDay) {
      throw new RangeError(`period "${text.trim()}" and --cycle-day ${cycleDay} disagree; give the start day once`);
    }
    const startDay = fromText ?? cycleDay;
    if (startDay === undefined) throw new RangeError('a billing cycle needs its start day: --period cycle --cycle-day N, or --period cycle:N');
    if (!Number.isInteger(startDay) || startDay < 1 || startDay > 31) {
      throw new RangeError(`billing cycle start day must be 1..31, got ${String(startDay)}`);
    }
    return { kind: 'cycle', startDay };
  }
  const rolling = /^(\d+)([hm])$/.exec(t);
  if (rolling) {
    const n = Number(rolling[1]);
    const minutes = rolling[2] === 'h' ? n * 60 : n;
    if (minutes < 1) throw new RangeError(`a rolling period must be at least 1 minute, got "${text.trim()}"`);
    if (minutes > MAX_ROLLING_MINUTES) throw new RangeError(`a rolling period can be at most 8760h (a year), got "${text.trim()}"`);
    return { kind: 'rolling', minutes };
  }
  throw new RangeError(`cannot read period "${text.trim()}"; use day, week, month, cycle:N (billing day N), Nh or Nm (rolling), e.g. 24h`);
}

/** The period as `parseQuotaPeriod` reads it back: `day`, `cycle:15`, `24h`, `90m`. */
export function formatQuotaPeriod(period: QuotaPeriod): string {
  switch (period.kind) {
    case 'cycle':
      return `cycle:${period.startDay}`;
    case 'rolling':
      return period.minutes % 60 === 0 ? `${period.minutes / 60}h` : `${period.minutes}m`;
    default:
      return period.kind;
  }
}

/** Checks a period read back from storage (JSON); throws RangeError on anything else. */
export function checkQuotaPeriod(value: unknown): QuotaPeriod {
  const v = value as { kind?: unknown; startDay?: unknown; minutes?: unknown } | null;
  if (v && (v.kind === 'day' || v.kind === 'week' || v.kind === 'month')) return { kind: v.kind };
  if (v && v.kind === 'cycle' && Number.isInteger(v.startDay) && (v.startDay as number) >= 1 && (v.startDay as number) <= 31) {
    return { kind: 'cycle', startDay: v.startDay as number };
  }
  if (v && v.kind === 'rolling' && Number.isInteger(v.minutes) && (v.minutes as number) >= 1 && (v.minutes as number) <= MAX_ROLLING_MINUTES) {
    return { kind: 'rolling', minutes: v.minutes as number };
  }
  throw new RangeError(`not a quota period: ${JSON.stringify(value)}`);
}

/** Checks thresholds read back from storage (JSON); throws RangeError on anything else. */
export function checkQuotaThresholds(value: unknown): QuotaThreshold[] {
  if (!Array.isArray(value)) throw new RangeError(`not a threshold list: ${JSON.stringify(value)}`);
  return value.map((t: unknown) => {
    const v = t as { percent?: unknown; notify?: unknown; block?: unknown } | null;
    if (!v || !isPercent(v.percent) || typeof v.notify !== 'boolean' || typeof v.block !== 'boolean') {
      throw new RangeError(`not a threshold: ${JSON.stringify(t)}`);
    }
    return { percent: v.percent as number, notify: v.notify, block: v.block };
  });
}

function isPercent(value: unknown): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 1000;
}

/** Reads a `--notify` value: an integer percent 1..1000 (a trailing % is allowed). Throws RangeError. */
export function parsePercent(text: string): number {
  const t = text.trim().replace(/%$/, '');
  const n = /^\d+$/.test(t) ? Number(t) : NaN;
  if (!isPercent(n)) throw new RangeError(`threshold must be a whole percent from 1 to 1000, got "${text.trim()}"`);
  return n;
}

/**
 * The thresholds of a new quota: notify at each of `notifyPercents` (80 and 100 when none are given),
 * and with `block` also block at 100 % (merged into a 100 % notify). Sorted, one per percent.
 */
export function buildThresholds(notifyPercents: readonly number[], block: boolean): QuotaThreshold[] {
  const byPercent = new Map<number, QuotaThreshold>();
  for (const p of notifyPercents.length > 0 ? notifyPercents : DEFAULT_NOTIFY_PERCENTS) {
    if (!isPercent(p)) throw new RangeError(`threshold must be a whole percent from 1 to 1000, got ${String(p)}`);
    byPercent.set(p, { percent: p, notify: true, block: false });
  }
  if (block) {
    const at100 = byPercent.get(100);
    byPercent.set(100, { percent: 100, notify: at100?.notify ?? false, block: true });
  }
  return [...byPercent.values()].sort((a, b) => a.percent - b.percent);
}

/** Calendar periods map onto domain/periods.ts's report periods (same zone rules, same edges). */
function calendarRange(period: Exclude<QuotaPeriod, { kind: 'rolling' }>, nowMs: number, zone: LocalZone) {
  switch (period.kind) {
    case 'day':
      return resolvePeriod({ kind: 'today' }, nowMs, zone);
    case 'week':
      return resolvePeriod({ kind: 'week' }, nowMs, zone);
    case 'month':
      return resolvePeriod({ kind: 'month' }, nowMs, zone);
    case 'cycle':
      return resolvePeriod({ kind: 'cycle', startDay: period.startDay }, nowMs, zone);
  }
}

/**
 * The window a quota counts in at `nowMs`: a calendar period [start, end) in the local zone (reset at
 * its end), or for a rolling period [now − N, now] with no fixed reset (see `rollingResetMs`).
 */
export function quotaWindow(period: QuotaPeriod, nowMs: number, zone: LocalZone = systemZone): QuotaWindow {
  if (period.kind === 'rolling') {
    return { startMs: nowMs - period.minutes * MINUTE_MS, endMs: nowMs, resetMs: null };
  }
  const range = calendarRange(period, nowMs, zone);
  return { startMs: range.startMs, endMs: range.endMs, resetMs: range.endMs };
}

/**
 * How long a block set by a quota lasts: a calendar quota's block ends with its period (the count
 * starts again then); a rolling quota's block lasts one window length from now, by which time every
 * byte that counted towards it has aged out of the window.
 */
export function quotaBlockUntilMs(period: QuotaPeriod, nowMs: number, zone: LocalZone = systemZone): number {
  if (period.kind === 'rolling') return nowMs + period.minutes * MINUTE_MS;
  return calendarRange(period, nowMs, zone).endMs;
}

/**
 * The window start a crossing is recorded under (QuotaStore.recordCrossing: once per quota, this
 * start and percent). A calendar window's own start: each period alerts once per threshold. A
 * rolling window moves with every poll, so its crossings share one key, ROLLING_CROSSING_KEY, and a
 * threshold is re-armed (QuotaStore.forgetCrossing) once the usage falls back below it
 * (`isRearmedBelow`): a rolling quota alerts — and blocks — once each time the usage climbs over a
 * threshold, however long it stays there.
 */
export function crossingWindowStartMs(period: QuotaPeriod, window: QuotaWindow, nowMs: number): number {
  void nowMs;
  return period.kind === 'rolling' ? ROLLING_CROSSING_KEY : window.startMs;
}

/** The one crossing key of a rolling quota (no calendar window starts at the epoch). */
export const ROLLING_CROSSING_KEY = 0;

/** Whether a crossing of this period is re-armed when the usage is below its threshold (rolling only). */
export function isRearmedBelow(period: QuotaPeriod): boolean {
  return period.kind === 'rolling';
}

/** A slice of a usage series: bytes counted in [atMs, atMs + bucket). */
export interface UsagePoint {
  atMs: number;
  bytes: number;
}

/**
 * For a rolling window, when the oldest bytes still inside it age out (the count starts to fall):
 * the first point with bytes after the window's start, plus the window length. Null with no bytes.
 */
export function rollingResetMs(period: QuotaPeriod, window: QuotaWindow, series: readonly UsagePoint[]): number | null {
  if (period.kind !== 'rolling') return window.resetMs;
  let oldest: number | null = null;
  for (const point of series) {
    if (point.bytes > 0 && point.atMs >= window.startMs && (oldest === null || point.atMs < oldest)) oldest = point.atMs;
  }
  return oldest === null ? null : oldest + period.minutes * MINUTE_MS;
}

/** Evaluates a quota against the bytes counted in its window. Pure. */
export function evaluateQuota(quota: Quota, usedBytes: number, window: QuotaWindow): QuotaUsage {
  const used = Math.max(0, usedBytes);
  const percent = quota.limitBytes > 0 ? (used * 100) / quota.limitBytes : 0;
  const crossed = quota.thresholds.filter((t) => percent >= t.percent).sort((a, b) => a.percent - b.percent);
  return {
    quota,
    usedBytes: used,
    limitBytes: quota.limitBytes,
    leftBytes: Math.max(0, quota.limitBytes - used),
    percent,
    startMs: window.startMs,
    resetMs: window.resetMs,
    crossed,
    isOver: used >= quota.limitBytes,
  };
}

/** The bytes of a direction out of a down/up pair. */
export function bytesInDirection(direction: QuotaDirection, usage: { downBytes: number; upBytes: number }): number {
  return direction === 'down' ? usage.downBytes : direction === 'up' ? usage.upBytes : usage.downBytes + usage.upBytes;
}

/** A subject in a few words: `device aa:bb:…`, `person Ben`, `line`. */
export function describeSubject(subject: QuotaSubject): string {
  return subject.kind === 'device' ? `device ${subject.identity}` : subject.kind === 'person' ? `person ${subject.name}` : 'line';
}

export type BlockAuditAction = 'block' | 'unblock' | 'expired';

/** One line of the block audit log: who was blocked or unblocked, when, why, by which quota or by hand. */
export interface BlockAuditEntry {
  atMs: number;
  routerKey: string;
  action: BlockAuditAction;
  identity: string;
  addresses: string[];
  reason: string;
  quotaId: number | null;
  by: 'quota' | 'hand';
  /** When the block ends (block entries); null otherwise or for a block without end. */
  untilMs: number | null;
}
