// Report periods as half-open ranges [startMs, endMs) in local time (issue 7: today, yesterday, this
// week, this month, a billing cycle starting on day N, all, custom). Pure: "now" and the time zone
// are passed in. The zone is either the process's own (Date's local methods, which follow TZ and
// DST) or a fixed UTC offset (DST-free, for tests and for users who want one).

export interface TimeRange {
  startMs: number;
  /** Exclusive. */
  endMs: number;
}

export interface LocalParts {
  year: number;
  /** 0..11, as Date. */
  month: number;
  /** 1..31. */
  day: number;
  /** 0 = Sunday .. 6 = Saturday, as Date. */
  weekday: number;
  hour: number;
  minute: number;
  second: number;
}

/** How wall-clock dates map to instants. Out-of-range fields overflow as in Date (day 0, day 32…). */
export interface LocalZone {
  readonly name: string;
  parts(ms: number): LocalParts;
  toMs(year: number, month: number, day: number, hour?: number, minute?: number, second?: number): number;
}

/** The process's zone (TZ env), DST included. A local midnight that does not exist moves forward, as in Date. */
export const systemZone: LocalZone = {
  name: 'system',
  parts(ms) {
    const d = new Date(ms);
    return {
      year: d.getFullYear(),
      month: d.getMonth(),
      day: d.getDate(),
      weekday: d.getDay(),
      hour: d.getHours(),
      minute: d.getMinutes(),
      second: d.getSeconds(),
    };
  },
  toMs(year, month, day, hour = 0, minute = 0, second = 0) {
    const d = new Date(2000, 0, 1, 0, 0, 0, 0);
    d.setFullYear(year, month, day); // setFullYear keeps years 0..99 literal, unlike the constructor
    d.setHours(hour, minute, second, 0);
    return d.getTime();
  },
};

/** A fixed offset from UTC in minutes (east positive: UTC+02:00 → 120). No DST. */
export function fixedZone(offsetMinutes: number): LocalZone {
  const offsetMs = offsetMinutes * 60_000;
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  const name = `UTC${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return {
    name,
    parts(ms) {
      const d = new Date(ms + offsetMs);
      return {
        year: d.getUTCFullYear(),
        month: d.getUTCMonth(),
        day: d.getUTCDate(),
        weekday: d.getUTCDay(),
        hour: d.getUTCHours(),
        minute: d.getUTCMinutes(),
        second: d.getUTCSeconds(),
      };
    },
    toMs(year, month, day, hour = 0, minute = 0, second = 0) {
      const d = new Date(0);
      d.setUTCFullYear(year, month, day);
      d.setUTCHours(hour, minute, second, 0);
      return d.getTime() - offsetMs;
    },
  };
}

export const utcZone = fixedZone(0);

export type PeriodSpec =
  | { kind: 'today' }
  | { kind: 'yesterday' }
  /** ISO week: Monday 00:00 to the next Monday. */
  | { kind: 'week' }
  | { kind: 'month' }
  /** Billing cycle starting on day `startDay` (1..31) of each month, clamped to the month's length. */
  | { kind: 'cycle'; startDay: number }
  /** Everything up to now: [0, now + 1). */
  | { kind: 'all' }
  /** Missing bounds mean "from the beginning" / "up to now" (inclusive of now). */
  | { kind: 'custom'; sinceMs?: number | null; untilMs?: number | null };


export function daysInMonth(year: number, month: number): number {
  // Day 0 of the next month is the last day of this one; UTC so DST cannot interfere.
  return new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
}

function startOfDay(zone: LocalZone, ms: number, addDays = 0): number {
  const p = zone.parts(ms);
  return zone.toMs(p.year, p.month, p.day + addDays);
}

/** The start of the cycle (day clamped to month length) in the given month (may overflow ±). */
function cycleStartIn(zone: LocalZone, year: number, month: number, startDay: number): number {
  const norm = new Date(Date.UTC(year, month, 1));
  const y = norm.getUTCFullYear();
  const m = norm.getUTCMonth();
  return zone.toMs(y, m, Math.min(startDay, daysInMonth(y, m)));
}

/** Resolves a period to [startMs, endMs) around `nowMs`. Throws RangeError on an invalid spec. */
export function resolvePeriod(spec: PeriodSpec, nowMs: number, zone: LocalZone = systemZone): TimeRange {
  switch (spec.kind) {
    case 'today':
      return { startMs: startOfDay(zone, nowMs), endMs: startOfDay(zone, nowMs, 1) };
    case 'yesterday':
      return { startMs: startOfDay(zone, nowMs, -1), endMs: startOfDay(zone, nowMs) };
    case 'week': {
      const p = zone.parts(nowMs);
      const sinceMonday = (p.weekday + 6) % 7;
      return {
        startMs: zone.toMs(p.year, p.month, p.day - sinceMonday),
        endMs: zone.toMs(p.year, p.month, p.day - sinceMonday + 7),
      };
    }
    case 'month': {
      const p = zone.parts(nowMs);
      return { startMs: zone.toMs(p.year, p.month, 1), endMs: zone.toMs(p.year, p.month + 1, 1) };
    }
    case 'cycle': {
      const n = spec.startDay;
      if (!Number.isInteger(n) || n < 1 || n > 31) {
        throw new RangeError(`billing cycle start day must be 1..31, got ${String(n)}`);
      }
      const p = zone.parts(nowMs);
      const thisMonth = cycleStartIn(zone, p.year, p.month, n);
      if (nowMs >= thisMonth) {
        return { startMs: thisMonth, endMs: cycleStartIn(zone, p.year, p.month + 1, n) };
      }
      return { startMs: cycleStartIn(zone, p.year, p.month - 1, n), endMs: thisMonth };
    }
    case 'all':
      return { startMs: 0, endMs: nowMs + 1 };
    case 'custom': {
      const startMs = spec.sinceMs ?? 0;
      const endMs = spec.untilMs ?? nowMs + 1;
      if (!Number.isFinite(startMs) || !Number.isFinite(endMs)) throw new RangeError('custom period bounds must be finite');
      if (endMs < startMs) throw new RangeError('custom period ends before it starts');
      return { startMs, endMs };
    }
  }
}

const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?$/;

/**
 * Parses a `--since`/`--until` value: `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS]` (local, in `zone`), or an
 * ISO 8601 instant with `Z` or an offset. As an `until` bound a bare date means the END of that day,
 * so `--since 2024-03-01 --until 2024-03-31` covers all of March. Returns null when unreadable.
 */
export function parsePeriodBound(text: string, bound: 'since' | 'until', zone: LocalZone = systemZone): number | null {
  const trimmed = text.trim();
  const m = LOCAL_DATE_TIME.exec(trimmed);
  if (m) {
    const [year, month, day, hour, minute, second] = m.slice(1).map((v) => (v === undefined ? undefined : Number(v)));
    if (year === undefined || month === undefined || day === undefined) return null;
    if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month - 1)) return null;
    if ((hour ?? 0) > 23 || (minute ?? 0) > 59 || (second ?? 0) > 59) return null;
    if (hour === undefined) return zone.toMs(year, month - 1, bound === 'until' ? day + 1 : day);
    return zone.toMs(year, month - 1, day, hour, minute ?? 0, second ?? 0);
  }
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(trimmed)) {
    const ms = Date.parse(trimmed);
    return Number.isFinite(ms) ? ms : null;
  }
  return null;
}

/**
 * The period `offset` periods away from the one around `nowMs` (issue 17: the History screen's
 * ←/→): 0 is resolvePeriod's answer, -1 the period before (yesterday for today, last week, last
 * month, the previous billing cycle), +1 the one after. Steps are in local calendar units (days,
 * months), so a DST day stays 23 or 25 hours long and month ends clamp as resolvePeriod does.
 * "all" has no neighbours (any offset gives the same range); a custom range moves by its length.
 * Throws RangeError on a non-integer offset or an invalid spec.
 */
export function shiftedPeriod(spec: PeriodSpec, nowMs: number, offset: number, zone: LocalZone = systemZone): TimeRange {
  if (!Number.isInteger(offset)) throw new RangeError(`period offset must be an integer, got ${String(offset)}`);
  if (offset === 0 || spec.kind === 'all') return resolvePeriod(spec, nowMs, zone);
  switch (spec.kind) {
    case 'today':
      return { startMs: startOfDay(zone, nowMs, offset), endMs: startOfDay(zone, nowMs, offset + 1) };
    case 'yesterday':
      return { startMs: startOfDay(zone, nowMs, offset - 1), endMs: startOfDay(zone, nowMs, offset) };
    case 'week': {
      const p = zone.parts(nowMs);
      const monday = p.day - ((p.weekday + 6) % 7) + 7 * offset;
      return { startMs: zone.toMs(p.year, p.month, monday), endMs: zone.toMs(p.year, p.month, monday + 7) };
    }
    case 'month': {
      const p = zone.parts(nowMs);
      return { startMs: zone.toMs(p.year, p.month + offset, 1), endMs: zone.toMs(p.year, p.month + offset + 1, 1) };
    }
    case 'cycle': {
      const current = resolvePeriod(spec, nowMs, zone);
      // The month the current cycle starts in, then whole months from there.
      const p = zone.parts(current.startMs);
      return { startMs: cycleStartIn(zone, p.year, p.month + offset, spec.startDay), endMs: cycleStartIn(zone, p.year, p.month + offset + 1, spec.startDay) };
    }
    case 'custom': {
      const r = resolvePeriod(spec, nowMs, zone);
      const span = r.endMs - r.startMs;
      return { startMs: r.startMs + offset * span, endMs: r.endMs + offset * span };
    }
  }
}

/**
 * The last `hours` hours up to and including the current minute, as whole minutes: a custom
 * spec, so reports and shiftedPeriod treat it like any fixed range (issue 17: minute resolution).
 */
export function lastHoursSpec(nowMs: number, hours: number): PeriodSpec {
  const endMs = (Math.floor(nowMs / 60_000) + 1) * 60_000;
  return { kind: 'custom', sinceMs: endMs - hours * 3_600_000, untilMs: endMs };
}
