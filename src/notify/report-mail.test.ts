import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reportFileName, reportJson, reportMail, reportWebhookRequest, type ReportPayload } from './report-mail.js';

const payload = (extra: Partial<ReportPayload> = {}): ReportPayload => ({
  router: 'home',
  routerKey: '198.51.100.1:23',
  schedule: 'daily',
  subject: 'lantop report: home, 2026-03-09',
  period: { title: '2026-03-09', slug: '2026-03-09', name: 'daily report' },
  range: { startMs: Date.UTC(2026, 2, 9), endMs: Date.UTC(2026, 2, 10) },
  totals: { downBytes: 3_300_000, upBytes: 240_000 },
  devices: [{ identity: 'aa:bb:cc:00:00:0a', name: 'laptop', ip: '198.51.100.10', mac: 'aa:bb:cc:00:00:0a', person: null, downBytes: 1_000_000, upBytes: 200_000, share: 0.34 }],
  hostCount: 2,
  text: 'lantop report for home\n',
  html: '<!doctype html><p>report</p>',
  as: 'attachment',
  ...extra,
});

test('the mail carries the text always, and the HTML as attachment, body or both', () => {
  const attached = reportMail(payload());
  assert.equal(attached.subject, 'lantop report: home, 2026-03-09');
  assert.equal(attached.text, 'lantop report for home\n');
  assert.equal(attached.html, undefined);
  assert.deepEqual(attached.attachments, [{ filename: 'lantop-report-2026-03-09.html', content: '<!doctype html><p>report</p>', contentType: 'text/html; charset=utf-8' }]);
  const body = reportMail(payload({ as: 'body' }));
  assert.equal(body.html, '<!doctype html><p>report</p>');
  assert.equal(body.attachments, undefined);
  const both = reportMail(payload({ as: 'both' }));
  assert.ok(both.html !== undefined && both.attachments?.length === 1);
  // A subject never spans lines; a file name keeps only safe characters.
  assert.doesNotMatch(reportMail(payload({ subject: 'x\r\nBcc: y' })).subject, /[\r\n]/);
  assert.equal(reportFileName({ period: { title: '', name: '', slug: '../2026-03-09 x/' } }), 'lantop-report-2026-03-09x.html');
});

test('webhook bodies: json carries the documented fields; slack, gotify and ntfy the text', () => {
  const json = JSON.parse(reportWebhookRequest(payload(), 'json').body) as Record<string, unknown>;
  assert.deepEqual(Object.keys(json), ['version', 'kind', 'router', 'routerKey', 'schedule', 'title', 'period', 'range', 'totals', 'hostCount', 'devices', 'text']);
  assert.deepEqual(json, JSON.parse(JSON.stringify(reportJson(payload()))));
  assert.deepEqual(json.totals, { downBytes: 3_300_000, upBytes: 240_000, totalBytes: 3_540_000 });
  assert.deepEqual(JSON.parse(reportWebhookRequest(payload(), 'slack').body), { text: 'lantop report: home, 2026-03-09\nlantop report for home\n' });
  assert.equal((JSON.parse(reportWebhookRequest(payload(), 'gotify').body) as { title: string }).title, 'lantop report: home, 2026-03-09');
  const ntfy = reportWebhookRequest(payload({ subject: 'lantop report: Küche, 2026-03-09' }), 'ntfy');
  assert.equal(ntfy.body, 'lantop report for home\n');
  assert.match(ntfy.headers.title!, /^=\?UTF-8\?B\?/);
});
