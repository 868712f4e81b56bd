// What reports read from the history: per-host totals over a range, dense series, stored notices.
// Each answer comes from one read transaction (a snapshot, so a concurrent writer cannot split it)
// and adds the newest minutes that are not rolled up into hours and days yet. docs/history.md,
// "Queries and precision", gives the rules; range-plan.ts decides which tables answer a range.

import type Database from 'better-sqlite3';
import { UsageError } from '../errors.js';
import { perGranularity, SAMPLE_TABLE } from './history-database.js';
import type { HistoryRetention } from './history-retention.js';
import type { StoredState } from './history-writer.js';
import { BUCKET_MS, forEachPlannedRange, planRange, type Availability, type Granularity } from './range-plan.js';
import type { HostTotal, PeriodReport, SeriesPoint } from '../domain/report.js';

export type { HostTotal, PeriodReport, SeriesPoint } from '../domain/report.js';
import type { RouterRegistry } from './router-registry.js';

/** What the app reads from the history (`lantop report`, the monitor's starting state). */
export interface HistoryQueries {
  findRouter(key: string): number | null;
  hostTotals(routerId: number, startMs: number, endMs: number, options?: { top?: number }): PeriodReport;
  series(routerId: number, identity: string | null, startMs: number, endMs: number, granularity: Granularity): SeriesPoint[];
  notices(routerId: number, startMs: number, endMs: number): StoredNotice[];
  availability(): Availability;
  loadState(routerId: number): StoredState | null;
}

export interface StoredNotice {
  atMs: number;
  level: 'info' | 'warn' | 'error';
  kind: string;
  text: string;
  missingFromMs: number | null;
  missingToMs: number | null;
}

const MAX_SERIES_POINTS = 100_000;

function prepareStatements(db: Database.Database) {
  const sumByHost = (g: Granularity) =>
    db.prepare<[number, number, number], { host_id: number; d: number; u: number; d6: number; u6: number }>(
      `SELECT host_id, SUM(down_bytes) AS d, SUM(up_bytes) AS u, SUM(down6_bytes) AS d6, SUM(up6_bytes) AS u6 FROM ${SAMPLE_TABLE[g].table}
       WHERE host_id IN (SELECT id FROM hosts WHERE router_id = ?) AND ${SAMPLE_TABLE[g].column} >= ? AND ${SAMPLE_TABLE[g].column} < ?
       GROUP BY host_id`,
    );
  const seriesAll = (g: Granularity) =>
    db.prepare<[number, number, number], { b: number; d: number; u: number }>(
      `SELECT ${SAMPLE_TABLE[g].column} AS b, SUM(down_bytes) AS d, SUM(up_bytes) AS u FROM ${SAMPLE_TABLE[g].table}
       WHERE host_id IN (SELECT id FROM hosts WHERE router_id = ?) AND ${SAMPLE_TABLE[g].column} >= ? AND ${SAMPLE_TABLE[g].column} < ?
       GROUP BY b`,
    );
  const seriesOne = (g: Granularity) =>
    db.prepare<[number, string, number, number], { b: number; d: number; u: number }>(
      `SELECT ${SAMPLE_TABLE[g].column} AS b, down_bytes AS d, up_bytes AS u FROM ${SAMPLE_TABLE[g].table}
       WHERE host_id = (SELECT id FROM hosts WHERE router_id = ? AND identity = ?) AND ${SAMPLE_TABLE[g].column} >= ? AND ${SAMPLE_TABLE[g].column} < ?`,
    );
  return {
    sumByHost: perGranularity(sumByHost),
    seriesAll: perGranularity(seriesAll),
    seriesOne: perGranularity(seriesOne),
    minutesGroupedAll: db.prepare<[number, number, number, number], { b: number; d: number; u: number }>(
      `SELECT minute / CAST(? AS INTEGER) AS b, SUM(down_bytes) AS d, SUM(up_bytes) AS u FROM samples_minute
       WHERE host_id IN (SELECT id FROM hosts WHERE router_id = ?) AND minute >= ? AND minute < ? GROUP BY b`,
    ),
    minutesGroupedOne: db.prepare<[number, number, string, number, number], { b: number; d: number; u: number }>(
      `SELECT minute / CAST(? AS INTEGER) AS b, SUM(down_bytes) AS d, SUM(up_bytes) AS u FROM samples_minute
       WHERE host_id = (SELECT id FROM hosts WHERE router_id = ? AND identity = ?) AND minute >= ? AND minute < ? GROUP BY b`,
    ),
    hostsOfRouter: db.prepare<[number], { id: number; identity: string; mac: string | null; ip: string; hostname: string | null; first_seen_ms: number; last_seen_ms: number }>(
      'SELECT id, identity, mac, ip, hostname, first_seen_ms, last_seen_ms FROM hosts WHERE router_id = ?',
    ),
    noticesIn: db.prepare<[number, number, number], { at_ms: number; level: StoredNotice['level']; kind: string; text: string; missing_from_ms: number | null; missing_to_ms: number | null }>(
      'SELECT at_ms, level, kind, text, missing_from_ms, missing_to_ms FROM notices WHERE router_id = ? AND at_ms >= ? AND at_ms < ? ORDER BY at_ms, id',
    ),
    rolledMinute: db.prepare<[number], { rolled_minute: number }>('SELECT rolled_minute FROM router_state WHERE router_id = ?'),
  };
}

export class HistoryReader {
  private readonly s;

  constructor(
    private readonly db: Database.Database,
    private readonly routers: Pick<RouterRegistry, 'routerKey'>,
    private readonly retention: Pick<HistoryRetention, 'availability'>,
  ) {
    this.s = prepareStatements(db);
  }

  /** Per-host totals for [startMs, endMs), largest first; `top` cuts the list (totals stay complete). */
  hostTotals(routerId: number, startMs: number, endMs: number, options: { top?: number } = {}): PeriodReport {
    const plan = planRange(startMs, endMs, this.retention.availability());
    const read = this.db.transaction(() => {
      // host id → [down, up, down6, up6]: both families, then their IPv6 part.
      const sums = new Map<number, [number, number, number, number]>();
      const add = (g: Granularity, from: number, to: number) => {
        for (const row of this.s.sumByHost[g].iterate(routerId, from, to)) {
          const s = sums.get(row.host_id);
          if (s) {
            s[0] += row.d;
            s[1] += row.u;
            s[2] += row.d6;
            s[3] += row.u6;
          } else sums.set(row.host_id, [row.d, row.u, row.d6, row.u6]);
        }
      };
      const unrolledMs = this.unrolledFromMs(routerId);
      // The newest minutes are not in the rollups yet: forEachPlannedRange takes them from the minute table.
      forEachPlannedRange(plan, unrolledMs, add);
      return { sums, hosts: this.s.hostsOfRouter.all(routerId) };
    });
    const { sums, hosts } = read.deferred();
    const list: HostTotal[] = [];
    const totals = { downBytes: 0, upBytes: 0 };
    const totalsByFamily = { down4Bytes: 0, up4Bytes: 0, down6Bytes: 0, up6Bytes: 0 };
    for (const h of hosts) {
      const s = sums.get(h.id);
      if (!s || (s[0] === 0 && s[1] === 0)) continue;
      const [d, u, d6, u6] = s;
      list.push({
        identity: h.identity,
        mac: h.mac,
        ip: h.ip,
        hostname: h.hostname,
        firstSeenMs: h.first_seen_ms,
        lastSeenMs: h.last_seen_ms,
        downBytes: d,
        upBytes: u,
        down4Bytes: d - d6,
        up4Bytes: u - u6,
        down6Bytes: d6,
        up6Bytes: u6,
      });
      totals.downBytes += d;
      totals.upBytes += u;
      totalsByFamily.down4Bytes += d - d6;
      totalsByFamily.up4Bytes += u - u6;
      totalsByFamily.down6Bytes += d6;
      totalsByFamily.up6Bytes += u6;
    }
    list.sort((a, b) => b.downBytes + b.upBytes - (a.downBytes + a.upBytes) || (a.identity < b.identity ? -1 : 1));
    const top = options.top;
    return {
      router: this.routers.routerKey(routerId),
      requested: plan.requested,
      effective: plan.effective,
      startPrecision: plan.startPrecision,
      endPrecision: plan.endPrecision,
      hosts: top !== undefined && top >= 0 ? list.slice(0, top) : list,
      totals,
      totalsByFamily,
      hostCount: list.length,
    };
  }

  /**
   * A dense series of UTC-aligned buckets covering [startMs, endMs) for one host (identity) or all
   * hosts (identity null). Buckets older than the granularity's retention are null, not zero.
   * For local-time days, ask hostTotals for each day range from domain/periods.
   */
  series(routerId: number, identity: string | null, startMs: number, endMs: number, granularity: Granularity): SeriesPoint[] {
    const len = BUCKET_MS[granularity];
    const from = Math.floor(startMs / len);
    const to = Math.ceil(endMs / len);
    if (to - from > MAX_SERIES_POINTS) throw new UsageError(`That series would have ${to - from} points.`, 'Choose a coarser granularity or a shorter range.');
    const a = this.retention.availability();
    const availableFrom = { minute: a.minutesFromMs, hour: a.hoursFromMs, day: a.daysFromMs }[granularity];
    const read = this.db.transaction(() => {
      const rows =
        identity === null
          ? this.s.seriesAll[granularity].all(routerId, from, to)
          : this.s.seriesOne[granularity].all(routerId, identity, from, to);
      if (granularity !== 'minute') {
        const unrolledMinute = Math.max(from * len, this.unrolledFromMs(routerId)) / BUCKET_MS.minute;
        const toMinute = (to * len) / BUCKET_MS.minute;
        if (unrolledMinute < toMinute) {
          const per = len / BUCKET_MS.minute;
          rows.push(
            ...(identity === null
              ? this.s.minutesGroupedAll.all(per, routerId, unrolledMinute, toMinute)
              : this.s.minutesGroupedOne.all(per, routerId, identity, unrolledMinute, toMinute)),
          );
        }
      }
      return rows;
    });
    const byBucket = new Map<number, { d: number; u: number }>();
    for (const r of read.deferred()) {
      const cur = byBucket.get(r.b);
      if (cur) {
        cur.d += r.d;
        cur.u += r.u;
      } else byBucket.set(r.b, { d: r.d, u: r.u });
    }
    const points: SeriesPoint[] = [];
    for (let b = from; b < to; b++) {
      const startOfBucket = b * len;
      if (startOfBucket < availableFrom) {
        points.push({ startMs: startOfBucket, downBytes: null, upBytes: null });
        continue;
      }
      const r = byBucket.get(b);
      points.push({ startMs: startOfBucket, downBytes: r?.d ?? 0, upBytes: r?.u ?? 0 });
    }
    return points;
  }

  notices(routerId: number, startMs: number, endMs: number): StoredNotice[] {
    return this.s.noticesIn.all(routerId, startMs, endMs).map((r) => ({
      atMs: r.at_ms,
      level: r.level,
      kind: r.kind,
      text: r.text,
      missingFromMs: r.missing_from_ms,
      missingToMs: r.missing_to_ms,
    }));
  }

  /** Minutes from here on are not in the hour/day tables yet (Infinity: nothing recorded). */
  private unrolledFromMs(routerId: number): number {
    const row = this.s.rolledMinute.get(routerId);
    return row ? row.rolled_minute * BUCKET_MS.minute : Infinity;
  }
}
