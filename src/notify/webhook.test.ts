import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HOSTILE_NAME, quotaEvent } from '../../test/helpers/alert-events.js';
import { startHttpRecorder } from '../../test/helpers/http-recorder.js';
import { createWebhookChannel, headerValue, parseHeader, webhookRequest } from './webhook.js';
import { AlertDispatcher, type DeliveryReport } from './dispatcher.js';
import { maskUrl } from './channel.js';

const signal = new AbortController().signal;

test('json format: the documented body and the configured headers arrive at the server', async () => {
  const server = await startHttpRecorder();
  try {
    const channel = createWebhookChannel({ id: '1', url: `${server.url}/hook?token=s3cret`, format: 'json', headers: { Authorization: 'Bearer abc' } });
    await channel.deliver(quotaEvent(), signal);
    const [req] = server.requests;
    assert.equal(req!.method, 'POST');
    assert.equal(req!.path, '/hook?token=s3cret');
    assert.equal(req!.headers['content-type'], 'application/json');
    assert.equal(req!.headers.authorization, 'Bearer abc');
    const body = JSON.parse(req!.body);
    assert.equal(body.version, 1);
    assert.equal(body.kind, 'quota-threshold');
    assert.equal(body.used.bytes, 8_000_000_000);
    assert.equal(body.reset.iso, '2026-05-02T00:00:00.000Z');
    assert.doesNotMatch(channel.label, /s3cret/);
  } finally {
    await server.close();
  }
});

test('slack, ntfy and gotify bodies and headers, with a hostile device name', async () => {
  const server = await startHttpRecorder();
  try {
    const event = quotaEvent({ subject: { kind: 'device', id: 'aa:bb:cc:dd:ee:02', name: HOSTILE_NAME + ' Bén' }, percent: 100 });
    for (const format of ['slack', 'ntfy', 'gotify'] as const) {
      await createWebhookChannel({ id: format, url: `${server.url}/${format}`, format }).deliver(event, signal);
    }
    const [slack, ntfy, gotify] = server.requests;
    const slackText = JSON.parse(slack!.body).text as string;
    assert.match(slackText, /^lantop: evilSubject: pwned"\} Bén \(aa:bb:cc:dd:ee:02\) at 100 %/);
    assert.doesNotMatch(slackText, /[\u0000-\u001f]/);
    // ntfy: plain text body, the title as an RFC 2047 word (not Latin-1 safe), priority and tags.
    assert.equal(ntfy!.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(ntfy!.body, slackText);
    assert.equal(ntfy!.headers.priority, '4');
    assert.equal(ntfy!.headers.tags, 'warning');
    const title = String(ntfy!.headers.title);
    const encoded = /^=\?UTF-8\?B\?([A-Za-z0-9+/=]+)\?=$/.exec(title);
    assert.ok(encoded, title);
    assert.equal(Buffer.from(encoded![1]!, 'base64').toString('utf8'), 'lantop: evilSubject: pwned"} Bén (aa:bb:cc:dd:ee:02) at 100 % of the download quota');
    assert.equal(ntfy!.headers.subject, undefined, 'no header injected by the name');
    const g = JSON.parse(gotify!.body);
    assert.deepEqual(Object.keys(g), ['title', 'message', 'priority']);
    assert.equal(g.priority, 8);
  } finally {
    await server.close();
  }
});

test('a 500 then a 200: the dispatcher retries with backoff and nothing is reported', async () => {
  const server = await startHttpRecorder();
  const reports: DeliveryReport[] = [];
  const dispatcher = new AlertDispatcher({ channels: [createWebhookChannel({ id: '1', url: server.url, format: 'json' })], baseDelayMs: 50, onReport: (r) => reports.push(r) });
  try {
    server.script.push(500);
    const before = Date.now();
    dispatcher.send(quotaEvent());
    assert.ok(Date.now() - before < 20, 'send() returns at once');
    await server.waitFor(2);
    assert.ok(server.requests[1]!.atMs - server.requests[0]!.atMs >= 45, 'waited before the retry');
    assert.equal(server.requests[0]!.body, server.requests[1]!.body);
    await waitUntil(() => dispatcher.pending()['1'] === 0);
    assert.deepEqual(reports, []);
  } finally {
    await dispatcher.close(1000);
    await server.close();
  }
});

test('a server that never answers: timeout, retry, then a reported failure with the reason; a 4xx is not retried', async () => {
  const server = await startHttpRecorder();
  const reports: DeliveryReport[] = [];
  const channel = createWebhookChannel({ id: '7', url: `${server.url}/slow`, format: 'slack', timeoutMs: 200 });
  const dispatcher = new AlertDispatcher({ channels: [channel], baseDelayMs: 20, maxAttempts: 2, onReport: (r) => reports.push(r) });
  try {
    server.script.push('hang', 'hang', 404);
    const before = Date.now();
    dispatcher.send(quotaEvent());
    dispatcher.send(quotaEvent({ percent: 100 }));
    assert.ok(Date.now() - before < 20, 'send() never waits for a hanging server');
    await waitUntil(() => reports.length >= 2, 5000);
    assert.equal(server.requests.length, 3);
    assert.equal(reports[0]!.kind, 'failed');
    assert.match((reports[0] as { reason: string }).reason, /no answer from http:\/\/127\.0\.0\.1:\d+\/slow within 200 ms/);
    assert.equal((reports[0] as { attempts: number }).attempts, 2);
    assert.equal(reports[1]!.kind, 'failed');
    assert.match((reports[1] as { reason: string }).reason, /^HTTP 404 .*status 404 from the test server$/);
    assert.equal((reports[1] as { attempts: number }).attempts, 1);
    // The next success is reported as a recovery.
    dispatcher.send(quotaEvent());
    await waitUntil(() => reports.length >= 3, 5000);
    assert.equal(reports[2]!.kind, 'recovered');
  } finally {
    await dispatcher.close(1000);
    await server.close();
  }
});

test('a refused connection is a failure with the reason, not an exception in send()', async () => {
  const server = await startHttpRecorder();
  const url = server.url;
  await server.close();
  const channel = createWebhookChannel({ id: '1', url, format: 'json', timeoutMs: 2000 });
  await assert.rejects(channel.deliver(quotaEvent(), signal), /cannot POST to http:\/\/127\.0\.0\.1:\d+\/: ECONNREFUSED/);
});

test('headers, masks and formats are checked', () => {
  assert.deepEqual(parseHeader('Authorization:  Bearer x '), ['Authorization', 'Bearer x']);
  assert.throws(() => parseHeader('no colon'), RangeError);
  assert.throws(() => parseHeader('Bad Name: x'), RangeError);
  assert.throws(() => parseHeader('X-A: line\r\nInjected: 1'), RangeError);
  assert.equal(headerValue('plain\r\nInjected: yes'), 'plainInjected: yes');
  assert.equal(maskUrl('https://u:pw@ntfy.example.net/topic?auth=abc&x=1'), 'https://u:***@ntfy.example.net/topic?auth=***&x=1');
  assert.equal(maskUrl('https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX'), 'https://hooks.slack.com/services/T000/B000/XXXX…');
  assert.equal(maskUrl('http://ha.local:8123/api/webhook/lantop-0123456789abcdef'), 'http://ha.local:8123/api/webhook/lant…');
  assert.equal(webhookRequest(quotaEvent({ kind: 'test' }), 'ntfy').headers.tags, 'test_tube');
});

async function waitUntil(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
