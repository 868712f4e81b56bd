// Sends one scheduled report (issue 17) through a configured alert channel: by email (the HTML
// report as an attachment `lantop-report-PERIOD.html`, as the mail's HTML body, or both, always
// with the plain-text summary as the text part; subject `lantop report: ROUTER, PERIOD`) over
// email.ts's transport, or as one webhook POST in the channel's format (json: the body below;
// slack, ntfy, gotify: the text summary, as webhook.ts words alerts). A channel tries once within
// its timeout and throws a ChannelError with the reason; the scheduler retries.
import { sanitizeText } from '../sanitize.js';
import type { ReportLayout } from '../domain/report-schedule.js';
import { maskUrl } from './channel.js';
import { emailEndpoint, sendEmail, type EmailOptions, type MailContent } from './email.js';
import { headerValue, postWebhook, type WebhookFormat, type WebhookOptions, type WebhookRequest } from './webhook.js';

export interface ReportDevice {
  identity: string;
  name: string;
  ip: string | null;
  mac: string | null;
  person: string | null;
  downBytes: number;
  upBytes: number;
  share: number;
}

/** One report as the channels send it; every text already sanitised by its maker. */
export interface ReportPayload {
  /** The router as people know it (profile name or host). */
  router: string;
  routerKey: string;
  schedule: string;
  /** `lantop report: home, 2026-03-09`. */
  subject: string;
  period: { title: string; slug: string; name: string };
  range: { startMs: number; endMs: number };
  totals: { downBytes: number; upBytes: number };
  /** The busiest devices, busiest first. */
  devices: ReportDevice[];
  hostCount: number;
  text: string;
  html: string;
  as: ReportLayout;
}

export interface ReportChannel {
  readonly id: string;
  readonly type: 'email' | 'webhook';
  readonly label: string;
  send(report: ReportPayload, signal: AbortSignal): Promise<void>;
}

export const REPORT_JSON_VERSION = 1;

/** The attachment's file name: `lantop-report-2026-03-09.html` (the slug is digits, `-`, `_`, `T`). */
export function reportFileName(report: Pick<ReportPayload, 'period'>): string {
  return `lantop-report-${report.period.slug.replace(/[^0-9A-Za-z_-]/g, '')}.html`;
}

/** The mail: subject on one line, the text summary, and the HTML as the schedule asks. */
export function reportMail(report: ReportPayload): MailContent {
  const attach = report.as === 'attachment' || report.as === 'both';
  const body = report.as === 'body' || report.as === 'both';
  return {
    subject: sanitizeText(report.subject, 200),
    text: report.text,
    ...(body ? { html: report.html } : {}),
    ...(attach ? { attachments: [{ filename: reportFileName(report), content: report.html, contentType: 'text/html; charset=utf-8' }] } : {}),
  };
}

const time = (ms: number) => ({ ms, iso: new Date(ms).toISOString() });

/** The `json` webhook body (docs/reports.md). */
export function reportJson(report: ReportPayload): Record<string, unknown> {
  return {
    version: REPORT_JSON_VERSION,
    kind: 'report',
    router: report.router,
    routerKey: report.routerKey,
    schedule: report.schedule,
    title: report.subject,
    period: report.period,
    range: { start: time(report.range.startMs), end: time(report.range.endMs) },
    totals: { downBytes: report.totals.downBytes, upBytes: report.totals.upBytes, totalBytes: report.totals.downBytes + report.totals.upBytes },
    hostCount: report.hostCount,
    devices: report.devices,
    text: report.text,
  };
}

/** One POST's headers and body in the channel's format; pure. */
export function reportWebhookRequest(report: ReportPayload, format: WebhookFormat): WebhookRequest {
  switch (format) {
    case 'json':
      return { headers: { 'content-type': 'application/json' }, body: JSON.stringify(reportJson(report)) };
    case 'slack':
      return { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: `${report.subject}\n${report.text}` }) };
    case 'gotify':
      return { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title: report.subject, message: report.text, priority: 2 }) };
    case 'ntfy':
      return { headers: { 'content-type': 'text/plain; charset=utf-8', title: headerValue(report.subject), priority: '2', tags: 'bar_chart' }, body: report.text };
  }
}

export function createEmailReportChannel(options: EmailOptions): ReportChannel {
  const { where } = emailEndpoint(options);
  return {
    id: options.id,
    type: 'email',
    label: `email ${where} → ${options.to.join(', ')}`,
    send: (report, signal) => sendEmail(options, reportMail(report), signal),
  };
}

export function createWebhookReportChannel(options: WebhookOptions): ReportChannel {
  return {
    id: options.id,
    type: 'webhook',
    label: `webhook ${options.format} ${maskUrl(options.url)}`,
    send: (report, signal) => postWebhook(options, reportWebhookRequest(report, options.format), signal),
  };
}
