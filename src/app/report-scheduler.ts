// Scheduled reports in `lantop serve` (issue 17, docs/reports.md "Scheduled reports"): every minute
// (and once at start, which catches up the one period missed while lantop was down) each schedule's
// latest firing is checked; a period not yet sent is CLAIMED in the history database before it is
// sent (store/report-sends.ts), so it goes once per schedule and router across restarts and with
// two processes. Each channel is tried a few times with backoff; a report that still failed is
// recorded as failed, reported through onNotice, and claimed again by a later check (bounded
// rounds, longer waits), sending only to the channels that have not taken it yet. Never throws
// into serve: every error becomes a notice.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Clock } from '../domain/clock.js';
import { systemZone, type LocalZone, type TimeRange } from '../domain/periods.js';
import { dueFiring, periodTitle, type ReportSchedule } from '../domain/report-schedule.js';
import type { ReportDocument } from '../domain/report-document.js';
import { sanitizeText } from '../sanitize.js';
import { ChannelError } from '../notify/channel.js';
import type { ReportChannel, ReportPayload } from '../notify/report-mail.js';
import type { HistoryStore } from '../store/history-store.js';
import type { ChannelOutcome, ReportSend, ReportSendKey } from '../store/report-sends.js';
import { buildReportPayload, isScheduleFor, type ReportRouter } from './report-delivery.js';

/** A list given once, or read again at every check (serve: the config files, so edits apply without a restart). */
export type Source<T> = readonly T[] | (() => readonly T[]);

export interface RetryPolicy {
  /** Tries per channel in one round. Default 3. */
  attempts: number;
  /** Waits between those tries. Default 5 s, 30 s. */
  delaysMs: readonly number[];
  /** Waits before the next round (a later check claims the failed row again). Default 5 min, 15 min, 1 h, 3 h. */
  roundDelaysMs: readonly number[];
  /** Rounds before giving up. Default 6. */
  maxRounds: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, delaysMs: [5_000, 30_000], roundDelaysMs: [300_000, 900_000, 3_600_000, 10_800_000], maxRounds: 6 };
export const CHECK_EVERY_MS = 60_000;
/** A claim older than this was left by a process that died while sending. */
export const STALE_CLAIM_MS = 30 * 60_000;

export interface ReportSchedulerDeps {
  store: HistoryStore;
  clock: Clock;
  routers: ReadonlyArray<ReportRouter>;
  schedules: Source<ReportSchedule>;
  /** The report channels by alert channel id (app/report-delivery.ts configuredReportChannels). */
  channels: Source<ReportChannel>;
  /** One line per sent, failed or given-up report. */
  onNotice(text: string, level?: 'info' | 'warn'): void;
  zone?: LocalZone;
  /** Real time between checks. Default one minute. */
  checkEveryMs?: number;
  retry?: Partial<RetryPolicy>;
  staleMs?: number;
  /** Devices listed in the text and the webhook. Default 10. */
  top?: number;
  loadDocument?: (store: HistoryStore, key: string, period: TimeRange, nowMs: number) => ReportDocument | null;
  renderHtml?: (doc: ReportDocument) => string;
}

export interface ReportSchedulerHandle {
  /** Runs a check now (or waits for the one running); resolves when it is done. Never rejects. */
  check(): Promise<void>;
  /** Stops checking, cancels sends in flight (their periods are retried by the next process) and waits. */
  close(): Promise<void>;
}

const listOf = <T>(source: Source<T>): readonly T[] => (typeof source === 'function' ? (source as () => readonly T[])() : source);
const words = (error: unknown) => sanitizeText(error instanceof Error ? error.message : String(error), 200);

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    // Not unref'd: a retry in progress keeps the process alive; close() aborts it.
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

export function startReportScheduler(deps: ReportSchedulerDeps): ReportSchedulerHandle {
  const zone = deps.zone ?? systemZone;
  const retry: RetryPolicy = { ...DEFAULT_RETRY, ...deps.retry };
  const staleMs = deps.staleMs ?? STALE_CLAIM_MS;
  const holder = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const aborter = new AbortController();
  let running: Promise<void> | null = null;
  let isClosed = false;
  const complained = new Set<string>();

  const notice = (text: string, level: 'info' | 'warn' = 'warn') => {
    try {
      deps.onNotice(text, level);
    } catch {
      // a notice printer that fails must not stop the reports
    }
  };
  /** A problem with a schedule's configuration: said once per process, not every minute. */
  const complainOnce = (key: string, text: string) => {
    if (complained.has(key)) return;
    complained.add(key);
    notice(text);
  };

  const describe = (schedule: string, router: ReportRouter, period: TimeRange) =>
    `report '${sanitizeText(schedule, 40)}' for ${sanitizeText(router.label, 80)}, ${periodTitle(period, zone)}`;

  async function sendTo(channel: ReportChannel, payload: ReportPayload): Promise<ChannelOutcome> {
    let last = '';
    for (let attempt = 1; attempt <= retry.attempts; attempt++) {
      if (aborter.signal.aborted) return { channel: channel.id, isOk: false, reason: 'cancelled (lantop is closing)', atMs: deps.clock.now() };
      try {
        await channel.send(payload, aborter.signal);
        return { channel: channel.id, isOk: true, atMs: deps.clock.now() };
      } catch (error) {
        last = words(error);
        if (error instanceof ChannelError && !error.isRetryable) break;
      }
      if (attempt < retry.attempts) await sleep(retry.delaysMs[Math.min(attempt - 1, retry.delaysMs.length - 1)] ?? 0, aborter.signal);
    }
    return { channel: channel.id, isOk: false, reason: last, atMs: deps.clock.now() };
  }

  async function deliver(row: ReportSend, schedule: ReportSchedule, router: ReportRouter): Promise<void> {
    const period = { startMs: row.startMs, endMs: row.endMs };
    const what = describe(schedule.name, router, period);
    const finish = (status: 'sent' | 'failed' | 'gave-up' | 'empty', outcomes: ChannelOutcome[], nextTryMs: number | null = null) =>
      deps.store.reports.finish(row.id, holder, { status, outcomes, nowMs: deps.clock.now(), nextTryMs });
    let payload: ReportPayload | null;
    try {
      payload = buildReportPayload({
        store: deps.store,
        router,
        schedule,
        period,
        nowMs: deps.clock.now(),
        zone,
        ...(deps.top !== undefined ? { top: deps.top } : {}),
        ...(deps.loadDocument ? { loadDocument: deps.loadDocument } : {}),
        ...(deps.renderHtml ? { renderHtml: deps.renderHtml } : {}),
      });
    } catch (error) {
      finish('failed', row.outcomes, deps.clock.now() + (retry.roundDelaysMs[0] ?? 0));
      notice(`${what}: cannot build it: ${words(error)}`);
      return;
    }
    if (payload === null) {
      finish('empty', []);
      notice(`${what}: not sent, the history has nothing for this router`);
      return;
    }
    const done = new Map(row.outcomes.filter((o) => o.isOk).map((o) => [o.channel, o]));
    const channels = new Map(listOf(deps.channels).map((c) => [c.id, c]));
    const outcomes: ChannelOutcome[] = [];
    for (const id of schedule.channels.map(String)) {
      const earlier = done.get(id);
      if (earlier) {
        outcomes.push(earlier);
        continue;
      }
      const channel = channels.get(id);
      outcomes.push(channel === undefined ? { channel: id, isOk: false, reason: `no alert channel ${id} (see lantop alert list)`, atMs: deps.clock.now() } : await sendTo(channel, payload));
    }
    const failed = outcomes.filter((o) => !o.isOk);
    if (failed.length === 0) {
      finish('sent', outcomes);
      notice(`${what} sent (channel${outcomes.length === 1 ? '' : 's'} ${outcomes.map((o) => o.channel).join(', ')})`, 'info');
      return;
    }
    const reasons = failed.map((o) => `channel ${o.channel}: ${o.reason ?? 'failed'}`).join('; ');
    if (aborter.signal.aborted) {
      // Closing: leave it for the next check of whichever process comes next, at once.
      finish('failed', outcomes, deps.clock.now());
      return;
    }
    if (row.rounds >= retry.maxRounds) {
      finish('gave-up', outcomes);
      notice(`${what} NOT sent after ${row.rounds} rounds of tries, giving up: ${reasons}`);
      return;
    }
    const wait = retry.roundDelaysMs[Math.min(row.rounds - 1, retry.roundDelaysMs.length - 1)] ?? 0;
    const nextTryMs = deps.clock.now() + wait;
    finish('failed', outcomes, nextTryMs);
    notice(`${what} not sent: ${reasons}; trying again after ${new Date(nextTryMs).toISOString().slice(0, 16).replace('T', ' ')} UTC`);
  }

  async function claimAndDeliver(key: ReportSendKey, schedule: ReportSchedule, router: ReportRouter, nowMs: number): Promise<void> {
    const row = deps.store.reports.claim(key, { scheduleId: schedule.id, holder, nowMs, staleMs });
    if (row !== null) await deliver(row, schedule, router);
  }

  async function runCheck(): Promise<void> {
    const nowMs = deps.clock.now();
    let schedules: readonly ReportSchedule[];
    try {
      schedules = listOf(deps.schedules);
    } catch (error) {
      complainOnce(`schedules:${words(error)}`, `report schedules: cannot read them: ${words(error)}`);
      return;
    }
    const byName = new Map(schedules.map((s) => [s.name, s]));
    for (const schedule of schedules) {
      if (aborter.signal.aborted) return;
      try {
        const firing = dueFiring(schedule, nowMs, zone);
        if (firing === null) continue;
        const routers = deps.routers.filter((r) => isScheduleFor(schedule, r));
        if (routers.length === 0) complainOnce(`router:${schedule.name}`, `report '${sanitizeText(schedule.name, 40)}' is for router '${sanitizeText(schedule.router ?? '', 60)}', which this lantop does not watch`);
        for (const router of routers) {
          if (aborter.signal.aborted) return;
          await claimAndDeliver({ schedule: schedule.name, routerKey: router.key, ...firing.period }, schedule, router, nowMs);
        }
      } catch (error) {
        complainOnce(`error:${schedule.name}:${words(error)}`, `report '${sanitizeText(schedule.name, 40)}': ${words(error)}`);
      }
    }
    // Older periods whose retry time has come (the latest firing's were retried above).
    let due: ReportSend[] = [];
    try {
      due = deps.store.reports.due(deps.clock.now(), staleMs);
    } catch (error) {
      complainOnce(`due:${words(error)}`, `report schedules: cannot read the sent reports: ${words(error)}`);
    }
    for (const row of due) {
      if (aborter.signal.aborted) return;
      const schedule = byName.get(row.schedule);
      const router = deps.routers.find((r) => r.key === row.routerKey);
      if (schedule === undefined || router === undefined) continue; // removed, or another process's router
      try {
        await claimAndDeliver(row, schedule, router, deps.clock.now());
      } catch (error) {
        complainOnce(`retry:${row.id}:${words(error)}`, `${describe(row.schedule, router, row)}: ${words(error)}`);
      }
    }
  }

  const check = (): Promise<void> => {
    if (isClosed) return Promise.resolve();
    running ??= runCheck()
      .catch((error: unknown) => notice(`report schedules: ${words(error)}`))
      .finally(() => {
        running = null;
      });
    return running;
  };

  const timer = setInterval(() => void check(), deps.checkEveryMs ?? CHECK_EVERY_MS);
  timer.unref?.();
  void check();

  return {
    check,
    async close() {
      if (isClosed) return;
      isClosed = true;
      clearInterval(timer);
      aborter.abort(new Error('lantop is closing'));
      await running;
    },
  };
}
