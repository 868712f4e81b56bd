// The scheduler end to end, without serve: a real history file with known bytes, a fake clock, a
// real SMTP server and webhook receiver on loopback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { FakeClock } from '../domain/clock.js';
import { parseEvery, type ReportSchedule } from '../domain/report-schedule.js';
import { HistoryStore } from '../store/history-store.js';
import type { StoredChannel } from '../config/alert-channels.js';
import type { ReportChannel } from '../notify/report-mail.js';
import { startSmtpRecorder, type ReceivedMail } from '../../test/helpers/smtp-recorder.js';
import { startHttpRecorder } from '../../test/helpers/http-recorder.js';
import { mimeParts } from '../../test/helpers/mime.js';
import { at, HOSTILE, recordHistory, ROUTER } from '../../test/helpers/report-history.js';
import { reportChannelOf } from './report-delivery.js';
import { startReportScheduler, type ReportSchedulerDeps } from './report-scheduler.js';

process.env.TZ = 'UTC';

const MIN = 60_000;

function emailChannel(id: number, port: number): StoredChannel {
  return { id, type: 'email', smtp: `smtp://127.0.0.1:${port}`, from: 'lantop@example.net', to: ['me@example.net'] };
}

function schedule(channels: number[], extra: Partial<ReportSchedule> = {}): ReportSchedule {
  return { id: 1, name: 'daily', every: parseEvery('daily'), channels, as: 'attachment', router: null, createdMs: at(0, 0, 10), ...extra };
}

interface Bed {
  dir: string;
  path: string;
  notices: Array<[string, string]>;
  deps(clock: FakeClock, store: HistoryStore, channels: ReportChannel[], schedules: ReportSchedule[], extra?: Partial<ReportSchedulerDeps>): ReportSchedulerDeps;
  dispose(): void;
}

function bed(): Bed {
  const dir = mkdtempSync(join(tmpdir(), 'lantop-reports-'));
  const path = join(dir, 'history.sqlite');
  recordHistory(path);
  const notices: Array<[string, string]> = [];
  return {
    dir,
    path,
    notices,
    deps: (clock, store, channels, schedules, extra = {}) => ({
      store,
      clock,
      routers: [ROUTER],
      schedules,
      channels,
      onNotice: (text, level = 'warn') => notices.push([level, text]),
      checkEveryMs: 3_600_000, // the test drives the checks
      retry: { attempts: 2, delaysMs: [10], roundDelaysMs: [10 * MIN], maxRounds: 3 },
      ...extra,
    }),
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}

function readReportMail(mail: ReceivedMail) {
  const parts = mimeParts(mail.raw);
  const subject = /^subject: (.*)$/im.exec(mail.raw.split('\r\n\r\n')[0]!.replace(/\r\n[ \t]+/g, ' '))?.[1] ?? '';
  const text = parts.find((p) => p.contentType === 'text/plain' && p.filename === null)?.body ?? '';
  const attachment = parts.find((p) => p.filename !== null);
  const html = attachment?.body ?? '';
  const data = /<script type="application\/json" id="lantop-report-data">([^<]*)<\/script>/.exec(html)?.[1];
  return { subject, text, attachment, html, doc: data === undefined ? null : (JSON.parse(data) as { totals: { downBytes: number; upBytes: number }; range: { startMs: number; endMs: number } }) };
}

test('past midnight the mail arrives once with yesterday\'s numbers; a new scheduler on the same database sends nothing again', { timeout: 60_000 }, async () => {
  const b = bed();
  const smtp = await startSmtpRecorder({ disabledCommands: ['STARTTLS', 'AUTH'] });
  let store = HistoryStore.open({ path: b.path, hostname: 'testhost' });
  const clock = new FakeClock(at(0, 12));
  const channels = [reportChannelOf(emailChannel(1, smtp.port), {})];
  let scheduler = startReportScheduler(b.deps(clock, store, channels, [schedule([1])]));
  try {
    await scheduler.check();
    assert.equal(smtp.mails.length, 0, 'nothing is due at noon: the 00:05 firing came before the schedule');
    clock.set(at(1, 0, 4));
    await scheduler.check();
    assert.equal(smtp.mails.length, 0, 'not before 00:05');
    clock.set(at(1, 0, 6));
    await scheduler.check();
    assert.equal(smtp.mails.length, 1);
    const mail = readReportMail(smtp.mails[0]!);
    assert.equal(mail.subject, 'lantop report: home, 2026-03-09');
    assert.equal(mail.attachment?.filename, 'lantop-report-2026-03-09.html');
    assert.deepEqual(mail.doc?.totals, { downBytes: 3_300_000, upBytes: 240_000 });
    assert.deepEqual(mail.doc?.range, { startMs: at(0, 0), endMs: at(1, 0) });
    assert.match(mail.text, /Download: 3\.30 MB \(3300000 B\)/);
    assert.match(mail.text, /Upload: {3}240 kB \(240000 B\)/);
    assert.match(mail.text, /Period: 2026-03-09 \(daily report\)/);
    // The hostile host name: escaped in the HTML, sanitised in the text.
    assert.doesNotMatch(mail.html, /<script>alert\(1\)/);
    assert.doesNotMatch(mail.text, /\u001b/);
    assert.match(mail.text, /tv<script>/);
    assert.equal(store.reports.get({ schedule: 'daily', routerKey: ROUTER.key, startMs: at(0, 0), endMs: at(1, 0) })?.status, 'sent');
    assert.ok(b.notices.some(([level, text]) => level === 'info' && /report 'daily' for home, 2026-03-09 sent/.test(text)));

    clock.set(at(1, 0, 30));
    await scheduler.check();
    await scheduler.close();
    store.close();
    // A restart: new store handle, new scheduler, its check at start.
    store = HistoryStore.open({ path: b.path, hostname: 'testhost' });
    scheduler = startReportScheduler(b.deps(clock, store, channels, [schedule([1])]));
    await scheduler.check();
    clock.set(at(1, 23, 59));
    await scheduler.check();
    assert.equal(smtp.mails.length, 1, 'sent once, across the restart');
  } finally {
    await scheduler.close();
    store.close();
    await smtp.close();
    b.dispose();
  }
});

test('two schedulers on one database (two processes) send the period once; after downtime the start check catches up', { timeout: 60_000 }, async () => {
  const b = bed();
  const smtp = await startSmtpRecorder({ disabledCommands: ['STARTTLS', 'AUTH'] });
  const one = HistoryStore.open({ path: b.path, hostname: 'testhost' });
  const two = HistoryStore.open({ path: b.path, hostname: 'testhost' });
  // Both start at 09:00 after midnight: lantop was down at 00:05.
  const clock = new FakeClock(at(1, 9));
  const channels = [reportChannelOf(emailChannel(1, smtp.port), {})];
  const s1 = startReportScheduler(b.deps(clock, one, channels, [schedule([1])]));
  const s2 = startReportScheduler(b.deps(clock, two, channels, [schedule([1])]));
  try {
    await Promise.all([s1.check(), s2.check()]);
    assert.equal(smtp.mails.length, 1);
    assert.deepEqual(readReportMail(smtp.mails[0]!).doc?.totals, { downBytes: 3_300_000, upBytes: 240_000 });
  } finally {
    await s1.close();
    await s2.close();
    one.close();
    two.close();
    await smtp.close();
    b.dispose();
  }
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test('SMTP down: tried twice, reported, and sent by a later check once the server is up', { timeout: 60_000 }, async () => {
  const b = bed();
  const port = await freePort();
  const store = HistoryStore.open({ path: b.path, hostname: 'testhost' });
  const clock = new FakeClock(at(1, 0, 6));
  const real = reportChannelOf(emailChannel(1, port), {}, { emailMs: 2000 });
  let tries = 0;
  const counted: ReportChannel = { ...real, send: (report, signal) => (tries++, real.send(report, signal)) };
  const scheduler = startReportScheduler(b.deps(clock, store, [counted], [schedule([1])]));
  const received: string[] = [];
  let server: SMTPServer | null = null;
  try {
    await scheduler.check();
    assert.equal(tries, 2);
    const key = { schedule: 'daily', routerKey: ROUTER.key, startMs: at(0, 0), endMs: at(1, 0) };
    assert.equal(store.reports.get(key)?.status, 'failed');
    const warning = b.notices.find(([level]) => level === 'warn')?.[1] ?? '';
    assert.match(warning, /report 'daily' for home, 2026-03-09 not sent: channel 1: cannot send through smtp:\/\/127\.0\.0\.1:\d+ \(ESOCKET\): connect ECONNREFUSED.*trying again after 2026-03-10 00:16 UTC/);

    server = new SMTPServer({ authOptional: true, disabledCommands: ['STARTTLS', 'AUTH'], logger: false, onData(stream, _session, done) {
      let raw = '';
      stream.on('data', (c: Buffer) => (raw += c.toString('utf8')));
      stream.on('end', () => (received.push(raw), done()));
    } });
    await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', () => resolve()));
    clock.set(at(1, 0, 15));
    await scheduler.check();
    assert.equal(received.length, 0, 'not before the retry time');
    clock.set(at(1, 0, 17));
    await scheduler.check();
    assert.equal(received.length, 1);
    assert.equal(tries, 3);
    assert.match(readReportMail({ raw: received[0]!, from: '', to: [], isSecure: false, user: null }).text, /3300000 B/);
    const row = store.reports.get(key)!;
    assert.equal(row.status, 'sent');
    assert.equal(row.rounds, 2);
  } finally {
    await scheduler.close();
    store.close();
    if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
    b.dispose();
  }
});

test('webhook: the JSON body has router, period, range, totals, top devices and the text; a failed channel is retried alone', { timeout: 60_000 }, async () => {
  const b = bed();
  const smtp = await startSmtpRecorder({ disabledCommands: ['STARTTLS', 'AUTH'] });
  const http = await startHttpRecorder();
  http.script.push(503, 503);
  const store = HistoryStore.open({ path: b.path, hostname: 'testhost' });
  const clock = new FakeClock(at(1, 0, 6));
  const channels = [
    reportChannelOf(emailChannel(1, smtp.port), {}),
    reportChannelOf({ id: 2, type: 'webhook', url: `${http.url}/hook`, format: 'json', headers: {} }, {}),
  ];
  const scheduler = startReportScheduler(b.deps(clock, store, channels, [schedule([1, 2], { as: 'both' })]));
  try {
    await scheduler.check();
    assert.equal(smtp.mails.length, 1);
    assert.equal(http.requests.length, 2, 'two tries of the webhook');
    assert.match(b.notices.at(-1)?.[1] ?? '', /channel 2: HTTP 503/);
    // as: both → the HTML is the body and the attachment.
    const parts = mimeParts(smtp.mails[0]!.raw);
    assert.ok(parts.some((p) => p.contentType === 'text/html' && p.filename === null));
    assert.ok(parts.some((p) => p.filename === 'lantop-report-2026-03-09.html'));

    clock.set(at(1, 0, 20));
    await scheduler.check();
    assert.equal(http.requests.length, 3);
    assert.equal(smtp.mails.length, 1, 'the mail that went is not sent again');
    const body = JSON.parse(http.requests[2]!.body) as Record<string, any>;
    assert.equal(body.kind, 'report');
    assert.equal(body.router, 'home');
    assert.equal(body.title, 'lantop report: home, 2026-03-09');
    assert.deepEqual(body.range, { start: { ms: at(0, 0), iso: '2026-03-09T00:00:00.000Z' }, end: { ms: at(1, 0), iso: '2026-03-10T00:00:00.000Z' } });
    assert.deepEqual(body.totals, { downBytes: 3_300_000, upBytes: 240_000, totalBytes: 3_540_000 });
    assert.deepEqual(body.devices.map((d: { name: string; downBytes: number }) => [d.name, d.downBytes]), [[sanitized(HOSTILE), 2_300_000], ['laptop', 1_000_000]]);
    assert.match(body.text, /Download: 3\.30 MB/);
    assert.equal(store.reports.get({ schedule: 'daily', routerKey: ROUTER.key, startMs: at(0, 0), endMs: at(1, 0) })?.status, 'sent');
  } finally {
    await scheduler.close();
    store.close();
    await http.close();
    await smtp.close();
    b.dispose();
  }
});

function sanitized(text: string): string {
  return text.replace(/\u001b\[[0-9;]*[A-Za-z]/g, '');
}
