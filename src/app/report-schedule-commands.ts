// `lantop schedule …` (issue 17, docs/reports.md "Scheduled reports"): add, list and remove report
// schedules (config/report-schedules.ts, reports.json), and send one now for testing. A schedule
// names alert channels by id (`lantop alert list`); `lantop serve` sends the reports.
import type { Action, CommandContext } from './context.js';
import { EXIT, UsageError } from '../errors.js';
import { sanitizeText } from '../sanitize.js';
import { AlertChannelStore } from '../config/alert-channels.js';
import { ProfileStore } from '../config/profiles.js';
import { ReportScheduleStore } from '../config/report-schedules.js';
import { resolvePeriod, parsePeriodBound, type TimeRange } from '../domain/periods.js';
import {
  checkScheduleName,
  endedPeriod,
  formatEvery,
  latestFiring,
  namedSpec,
  nextFiring,
  parseEvery,
  parseNamedEvery,
  periodTitle,
  REPORT_LAYOUTS,
  type ReportLayout,
  type ReportSchedule,
} from '../domain/report-schedule.js';
import { formatLocalTime } from '../output/units.js';
import { ChannelError } from '../notify/channel.js';
import { describeStored, type ChannelTimeouts } from './alerts.js';
import { buildReportPayload, reportChannelOf } from './report-delivery.js';
import { createServices } from './services.js';

function checked<T>(what: string, check: () => T, nextStep?: string): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof RangeError) throw new UsageError(`${what}: ${error.message}`, nextStep);
    throw error;
  }
}

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** `--channel 1,2` (repeatable) → ids that exist in alerts.json and can take a report. */
export function parseChannelIds(values: readonly string[], env: NodeJS.ProcessEnv): number[] {
  const words = values.flatMap((v) => v.split(',')).map((w) => w.trim()).filter((w) => w !== '');
  if (words.length === 0) throw new UsageError('schedule add needs --channel ID: the alert channel(s) the report goes to.', 'See the ids with `lantop alert list`; add one with `lantop alert add email …`.');
  const store = new AlertChannelStore(env);
  const ids: number[] = [];
  for (const word of words) {
    if (!/^\d{1,9}$/.test(word) || Number(word) < 1) throw new UsageError(`--channel: '${sanitizeText(word, 20)}' is not a channel id.`, 'See the ids with: lantop alert list');
    const id = Number(word);
    const channel = store.get(id);
    if (channel === undefined) throw new UsageError(`--channel: there is no alert channel ${id}.`, 'See the ids with `lantop alert list`; add one with `lantop alert add email …` or `… webhook URL`.');
    if (channel.type === 'command') throw new UsageError(`--channel: channel ${id} runs a command; reports go to email or webhook channels.`);
    if (!ids.includes(id)) ids.push(id);
  }
  return ids;
}

function parseLayout(value: unknown): ReportLayout {
  const as = text(value) ?? 'attachment';
  if (!(REPORT_LAYOUTS as readonly string[]).includes(as)) throw new UsageError(`--as must be ${REPORT_LAYOUTS.join(', ')}, not '${sanitizeText(as, 20)}'.`);
  return as as ReportLayout;
}

function checkRouter(value: unknown, env: NodeJS.ProcessEnv): string | null {
  const router = text(value);
  if (router === undefined) return null;
  const saved = Object.keys(new ProfileStore(env).list());
  if (!saved.includes(router)) {
    throw new UsageError(`--router: no saved profile '${sanitizeText(router, 60)}'.`, saved.length === 0 ? 'Save one first: lantop --profile NAME config set host ADDRESS' : `Saved profiles: ${saved.map((s) => sanitizeText(s, 40)).join(', ')}.`);
  }
  return router;
}

function describeSchedule(s: ReportSchedule, nowMs: number): string {
  const next = nextFiring(s.every, nowMs);
  return `${sanitizeText(s.name, 40)}  every ${sanitizeText(formatEvery(s.every), 80)} → channel${s.channels.length === 1 ? '' : 's'} ${s.channels.join(', ')} (${s.as})${s.router === null ? '' : ` router ${sanitizeText(s.router, 40)}`}${next === null ? '' : `; next ${formatLocalTime(next.atMs)} for ${periodTitle(next.period)}`}`;
}

function findSchedule(env: NodeJS.ProcessEnv, name: string | undefined): ReportSchedule {
  const schedule = name === undefined ? undefined : new ReportScheduleStore(env).get(name);
  if (schedule === undefined) throw new UsageError(`No report schedule '${sanitizeText(String(name), 40)}'.`, 'See them with: lantop schedule list');
  return schedule;
}

/**
 * `schedule send --period`: last (default: the period its latest firing covered), current (the
 * period in progress, up to now), a named period's last one (daily, weekly, monthly, cycle:N) or
 * one day (YYYY-MM-DD).
 */
export function sendPeriod(schedule: ReportSchedule, value: string | undefined, nowMs: number): TimeRange {
  const what = (value ?? 'last').trim();
  if (what === 'last') {
    const firing = latestFiring(schedule.every, nowMs);
    if (firing === null) throw new UsageError(`Schedule '${schedule.name}' has not fired yet; give --period.`);
    return firing.period;
  }
  if (what === 'current') {
    if (schedule.every.kind === 'cron') {
      const last = latestFiring(schedule.every, nowMs);
      return { startMs: last?.atMs ?? nowMs - 86_400_000, endMs: nowMs + 1 };
    }
    return { startMs: resolvePeriod(namedSpec(schedule.every), nowMs).startMs, endMs: nowMs + 1 };
  }
  const named = checked('--period', () => parseNamedEvery(what));
  if (named !== null) return endedPeriod(named, nowMs);
  const since = parsePeriodBound(what, 'since');
  if (/^\d{4}-\d{2}-\d{2}$/.test(what) && since !== null) return { startMs: since, endMs: parsePeriodBound(what, 'until')! };
  throw new UsageError(`--period is last, current, daily, weekly, monthly, cycle:N or a day YYYY-MM-DD, not '${sanitizeText(what, 40)}'.`);
}

export interface ScheduleSendOptions {
  timeouts?: ChannelTimeouts;
  nowMs?: number;
  /** The history key reported on, from the router's (users mode: its users key). */
  keyOf?: (key: string) => string;
}

/** Sends a schedule's report now, through each of its channels, once; 0 only if all took it. Not recorded. */
export async function runScheduleSend(ctx: CommandContext, name: string | undefined, options: Record<string, unknown>, extra: ScheduleSendOptions = {}): Promise<number> {
  const schedule = findSchedule(ctx.env, name);
  const services = createServices(schedule.router === null ? ctx : { ...ctx, flags: { ...ctx.flags, profile: schedule.router } });
  const nowMs = extra.nowMs ?? services.clock.now();
  const period = sendPeriod(schedule, text(options.period), nowMs);
  const alerts = new AlertChannelStore(ctx.env);
  const store = services.openHistory();
  try {
    const key = extra.keyOf?.(services.key) ?? services.key;
    const router = { key, label: services.settings.profileName === 'default' ? key : extra.keyOf !== undefined ? `${services.settings.profileName} (users)` : services.settings.profileName, profile: services.settings.profileName };
    const payload = buildReportPayload({ store, router, schedule, period, nowMs });
    if (payload === null) throw new UsageError(`No history for ${sanitizeText(key)} yet; nothing to report.`, 'Run `lantop serve` or `lantop usage --watch` to record some.');
    ctx.stderr.write(`Sending '${sanitizeText(schedule.name, 40)}' for ${payload.router}, ${payload.period.title} (not recorded: serve still sends its own)…\n`);
    let isAllOk = true;
    for (const id of schedule.channels) {
      const stored = alerts.get(id);
      if (stored === undefined) {
        isAllOk = false;
        ctx.stdout.write(`failed  ${String(id).padStart(3)}  no such alert channel (see lantop alert list)\n`);
        continue;
      }
      const channel = reportChannelOf(stored, ctx.env, extra.timeouts);
      try {
        await channel.send(payload, new AbortController().signal);
        ctx.stdout.write(`ok      ${String(id).padStart(3)}  ${describeStored(stored)}\n`);
      } catch (error) {
        isAllOk = false;
        const reason = error instanceof ChannelError ? error.message : sanitizeText(String(error), 200);
        ctx.stdout.write(`failed  ${String(id).padStart(3)}  ${describeStored(stored)}: ${reason}\n`);
      }
    }
    return isAllOk ? EXIT.ok : EXIT.unreachable;
  } finally {
    store.close();
  }
}

export const scheduleActions = {
  async scheduleAdd(ctx, options, [rawName]) {
    const name = checked('schedule add', () => checkScheduleName(String(rawName ?? '')));
    const every = text(options.every);
    if (every === undefined) throw new UsageError('schedule add needs --every: daily, weekly, monthly, cycle:N or a cron expression in quotes.', "e.g. --every daily (at 00:05, for yesterday) or --every '0 7 * * 1' --covers weekly");
    const nowMs = Date.now();
    const parsed = checked('--every', () => parseEvery(every, text(options.covers) ?? null, undefined, nowMs));
    const channels = parseChannelIds(Array.isArray(options.channel) ? options.channel.map(String) : text(options.channel) !== undefined ? [String(options.channel)] : [], ctx.env);
    const store = new ReportScheduleStore(ctx.env);
    const stored = store.add({ name, every: parsed, channels, as: parseLayout(options.as), router: checkRouter(options.router, ctx.env), createdMs: nowMs });
    ctx.stdout.write(`added report schedule ${describeSchedule(stored, nowMs)}\n`);
    ctx.stderr.write(`Saved in ${store.path}. lantop serve sends it; try it now: lantop schedule send ${stored.name}\n`);
  },

  async scheduleList(ctx, options) {
    const schedules = new ReportScheduleStore(ctx.env).list();
    const nowMs = Date.now();
    if (options.json === true) {
      ctx.stdout.write(JSON.stringify(schedules.map((s) => ({ ...s, everyText: formatEvery(s.every), next: nextFiring(s.every, nowMs) })), null, 2) + '\n');
      return;
    }
    if (schedules.length === 0) {
      ctx.stderr.write("No report schedules. Add one: lantop schedule add NAME --every daily --channel ID\n");
      return;
    }
    for (const s of schedules) ctx.stdout.write(`${describeSchedule(s, nowMs)}\n`);
  },

  async scheduleRemove(ctx, _options, [name]) {
    if (!new ReportScheduleStore(ctx.env).remove(String(name))) throw new UsageError(`No report schedule '${sanitizeText(String(name), 40)}'.`, 'See them with: lantop schedule list');
    ctx.stdout.write(`removed report schedule ${sanitizeText(String(name), 40)}\n`);
  },

  async scheduleSend(ctx, options, [name]) {
    return runScheduleSend(ctx, name, options);
  },
} satisfies Record<string, Action>;
