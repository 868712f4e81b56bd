// How long each granularity is kept, and pruning to it. The cut-offs live in `meta` so that range
// plans (range-plan.ts) know which tables still hold a bucket (docs/history.md, "Retention").

import type Database from 'better-sqlite3';
import { UsageError } from '../errors.js';
import { BUCKET_MS, floorTo, type Availability } from './range-plan.js';

const HOUR = BUCKET_MS.hour;
const DAY = BUCKET_MS.day;

export interface RetentionOptions {
  /** How long per-minute samples are kept. Default 7 days. */
  minuteMs?: number;
  /** Hourly rollups. Default 90 days. */
  hourMs?: number;
  /** Daily rollups; null keeps them forever (default). */
  dayMs?: number | null;
}

const DEFAULT_RETENTION: Required<RetentionOptions> = {
  minuteMs: 7 * DAY,
  hourMs: 90 * DAY,
  dayMs: null,
};

export interface PruneResult {
  minutesDeleted: number;
  hoursDeleted: number;
  daysDeleted: number;
  availability: Availability;
}

/** The defaults filled in; a usage error unless retention grows from minutes to hours to days. */
export function resolveRetention(options: RetentionOptions = {}): Required<RetentionOptions> {
  const r = { ...DEFAULT_RETENTION, ...options };
  if (!(r.minuteMs > 0) || !(r.hourMs >= r.minuteMs) || (r.dayMs !== null && !(r.dayMs >= r.hourMs))) {
    throw new UsageError('Retention must be positive and grow from minutes to hours to days.', 'Check the retention settings.');
  }
  return r;
}

export class HistoryRetention {
  private readonly s;

  constructor(
    private readonly db: Database.Database,
    private readonly retention: Required<RetentionOptions>,
  ) {
    this.s = {
      pruneMinutes: db.prepare<[number]>('DELETE FROM samples_minute WHERE minute < ?'),
      pruneHours: db.prepare<[number]>('DELETE FROM samples_hour WHERE hour < ?'),
      pruneDays: db.prepare<[number]>('DELETE FROM samples_day WHERE day < ?'),
      pruneNotices: db.prepare<[number]>('DELETE FROM notices WHERE at_ms < ?'),
      // The WAN's per-minute figures (issue 19) have no rollups; one small row a minute, kept as long as the hourly samples.
      pruneWan: db.prepare<[number]>('DELETE FROM wan_minutes WHERE minute_ms < ?'),
      // Traffic classes' per-minute bytes (issue 19): no rollups either, the same horizon.
      pruneClasses: db.prepare<[number]>('DELETE FROM class_minutes WHERE minute_ms < ?'),
      // Custom counters' per-minute figures (issue 18): the same horizon.
      pruneCounters: db.prepare<[number]>('DELETE FROM counter_minutes WHERE minute_ms < ?'),
      minRolledMinute: db.prepare<[], { m: number | null }>('SELECT MIN(rolled_minute) AS m FROM router_state'),
      getMeta: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?'),
      setMeta: db.prepare<[string, string]>('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
    };
  }

  /** From when each table still holds every bucket (0: nothing pruned yet). */
  availability(): Availability {
    const get = (key: string) => Number(this.s.getMeta.get(key)?.value ?? 0);
    return { minutesFromMs: get('minutes_from_ms'), hoursFromMs: get('hours_from_ms'), daysFromMs: get('days_from_ms') };
  }

  /**
   * Deletes rows older than the retention, in whole hours of minutes and whole (UTC) days of hours
   * and days, so range plans never need a bucket that is half gone. Idempotent.
   */
  prune(nowMs: number): PruneResult {
    return this.db
      .transaction((): PruneResult => {
        const before = this.availability();
        const r = this.retention;
        // Minutes not yet rolled up (a router whose writer stopped mid-minute) are kept until they are.
        const unrolled = this.s.minRolledMinute.get()?.m ?? null;
        const keepFrom = unrolled === null ? Infinity : floorTo(unrolled * BUCKET_MS.minute, HOUR);
        const minutesFromMs = Math.max(before.minutesFromMs, Math.min(floorTo(nowMs - r.minuteMs, HOUR), keepFrom));
        const hoursFromMs = Math.max(before.hoursFromMs, floorTo(nowMs - r.hourMs, DAY));
        const daysFromMs = r.dayMs === null ? before.daysFromMs : Math.max(before.daysFromMs, floorTo(nowMs - r.dayMs, DAY));
        const minutesDeleted = this.s.pruneMinutes.run(minutesFromMs / BUCKET_MS.minute).changes;
        const hoursDeleted = this.s.pruneHours.run(hoursFromMs / HOUR).changes;
        const daysDeleted = daysFromMs > 0 ? this.s.pruneDays.run(daysFromMs / DAY).changes : 0;
        this.s.pruneNotices.run(hoursFromMs);
        this.s.pruneWan.run(hoursFromMs);
        this.s.pruneClasses.run(hoursFromMs);
        this.s.pruneCounters.run(hoursFromMs);
        this.s.setMeta.run('minutes_from_ms', String(minutesFromMs));
        this.s.setMeta.run('hours_from_ms', String(hoursFromMs));
        this.s.setMeta.run('days_from_ms', String(daysFromMs));
        return { minutesDeleted, hoursDeleted, daysDeleted, availability: { minutesFromMs, hoursFromMs, daysFromMs } };
      })
      .immediate();
  }
}
