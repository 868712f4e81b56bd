// The parts of a scheduled report (issue 17): the stored alert channels made into report channels
// (notify/report-mail.ts), and one report built from the history — the ReportDocument of the
// period (app/report-document.ts), its HTML page and its text summary.
import { AlertChannelStore, type StoredChannel } from '../config/alert-channels.js';
import { sanitizeText } from '../sanitize.js';
import type { ReportDocument } from '../domain/report-document.js';
import { systemZone, type LocalZone, type TimeRange } from '../domain/periods.js';
import { everyWords, periodSlug, periodTitle, type ReportSchedule } from '../domain/report-schedule.js';
import { ChannelError } from '../notify/channel.js';
import { createEmailReportChannel, createWebhookReportChannel, type ReportChannel, type ReportPayload } from '../notify/report-mail.js';
import { reportText, reportTitle, DEFAULT_TOP } from '../output/report-text.js';
import { renderReportHtml } from '../output/html/report-page.js';
import type { HistoryStore } from '../store/history-store.js';
import { describeStored, emailSettingsOf, type ChannelTimeouts } from './alerts.js';
import { loadReportAssets } from './report-assets.js';
import { loadReportDocument } from './report-document.js';

/** A channel that cannot take reports: every send fails with the reason, not retryable. */
function refusingChannel(stored: StoredChannel, reason: string): ReportChannel {
  return {
    id: String(stored.id),
    type: stored.type === 'webhook' ? 'webhook' : 'email',
    label: describeStored(stored),
    send: () => Promise.reject(new ChannelError(reason, false)),
  };
}

/** One stored alert channel as a report channel. Never throws: a bad configuration becomes a channel that says so. */
export function reportChannelOf(stored: StoredChannel, env: NodeJS.ProcessEnv, timeouts: ChannelTimeouts = {}): ReportChannel {
  const id = String(stored.id);
  try {
    switch (stored.type) {
      case 'webhook':
        return createWebhookReportChannel({ id, url: stored.url, format: stored.format, headers: stored.headers, ...(timeouts.webhookMs ? { timeoutMs: timeouts.webhookMs } : {}) });
      case 'email': {
        const settings = emailSettingsOf(stored, env);
        if (typeof settings === 'string') return refusingChannel(stored, settings);
        return createEmailReportChannel({ id, ...settings, ...(timeouts.emailMs ? { timeoutMs: timeouts.emailMs } : {}) });
      }
      case 'command':
        return refusingChannel(stored, 'a command channel does not take reports (use an email or webhook channel)');
    }
  } catch (error) {
    return refusingChannel(stored, sanitizeText(error instanceof Error ? error.message : String(error), 200));
  }
}

/** Every configured alert channel as a report channel (read from alerts.json now). */
export function configuredReportChannels(env: NodeJS.ProcessEnv, timeouts: ChannelTimeouts = {}): ReportChannel[] {
  return new AlertChannelStore(env).list().map((stored) => reportChannelOf(stored, env, timeouts));
}

export interface ReportRouter {
  /** The router's key in the history (host:port). */
  key: string;
  /** As people know it: the profile name or the host. */
  label: string;
  /** The profile it was opened from, matched against a schedule's `router`. */
  profile?: string;
}

/** Does the schedule report on this router? (`router` null: every router.) */
export function isScheduleFor(schedule: Pick<ReportSchedule, 'router'>, router: ReportRouter): boolean {
  return schedule.router === null || schedule.router === router.profile || schedule.router === router.key || schedule.router === router.label;
}

export interface BuildReportInput {
  store: HistoryStore;
  router: ReportRouter;
  schedule: Pick<ReportSchedule, 'name' | 'every' | 'as'>;
  period: TimeRange;
  nowMs: number;
  zone?: LocalZone;
  top?: number;
  /** Default: the real document from the history (tests may replace it). */
  loadDocument?: (store: HistoryStore, key: string, period: TimeRange, nowMs: number) => ReportDocument | null;
  /** Default: the HTML report page with uPlot inlined. */
  renderHtml?: (doc: ReportDocument) => string;
}

const realDocument = (store: HistoryStore, key: string, period: TimeRange, nowMs: number) =>
  loadReportDocument(store, key, { kind: 'custom', sinceMs: period.startMs, untilMs: period.endMs }, nowMs);

/** The report of one period: null when the history has nothing for the router. */
export function buildReportPayload(input: BuildReportInput): ReportPayload | null {
  const zone = input.zone ?? systemZone;
  const top = input.top ?? DEFAULT_TOP;
  const doc = (input.loadDocument ?? realDocument)(input.store, input.router.key, input.period, input.nowMs);
  if (doc === null) return null;
  const routerLabel = sanitizeText(input.router.label, 80);
  const name = everyWords(input.schedule.every);
  return {
    router: routerLabel,
    routerKey: sanitizeText(input.router.key, 120),
    schedule: input.schedule.name,
    subject: reportTitle(doc, { routerLabel, zone }),
    period: { title: periodTitle(input.period, zone), slug: periodSlug(input.period, zone), name },
    range: { startMs: input.period.startMs, endMs: input.period.endMs },
    totals: { ...doc.totals },
    devices: doc.devices.slice(0, top).map((d) => ({
      identity: sanitizeText(d.identity, 80),
      name: sanitizeText(d.name, 80),
      ip: d.ip,
      mac: d.mac,
      person: d.person === null ? null : sanitizeText(d.person, 64),
      downBytes: d.downBytes,
      upBytes: d.upBytes,
      share: d.share,
    })),
    hostCount: doc.hostCount,
    text: reportText(doc, { routerLabel, periodName: name, top, zone }),
    html: (input.renderHtml ?? ((d: ReportDocument) => renderReportHtml(d, loadReportAssets())))(doc),
    as: input.schedule.as,
  };
}
