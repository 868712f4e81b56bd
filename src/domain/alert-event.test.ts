import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { ALERT_AT, HOSTILE_NAME, quotaEvent } from '../../test/helpers/alert-events.js';
import { alertJson, alertText, alertTitle, sizeInWords, testAlertEvent, type AlertEvent } from './alert-event.js';

const AT = ALERT_AT;

test('the JSON body has every documented field, times in ISO and ms, sizes in bytes and words', () => {
  const body = alertJson(quotaEvent());
  assert.deepEqual(body, {
    version: 1,
    kind: 'quota-threshold',
    at: { ms: AT, iso: '2026-05-01T14:00:00.000Z' },
    router: '198.51.100.1:23',
    subject: { kind: 'device', id: 'aa:bb:cc:dd:ee:01', name: 'bens-laptop', label: 'bens-laptop (aa:bb:cc:dd:ee:01)' },
    quotaId: 3,
    percent: 80,
    direction: 'down',
    used: { bytes: 8_000_000_000, text: '8.00 GB' },
    limit: { bytes: 10_000_000_000, text: '10.0 GB' },
    left: { bytes: 2_000_000_000, text: '2.00 GB' },
    periodStart: { ms: Date.UTC(2026, 4, 1), iso: '2026-05-01T00:00:00.000Z' },
    reset: { ms: Date.UTC(2026, 4, 2), iso: '2026-05-02T00:00:00.000Z' },
    until: null,
    title: 'lantop: bens-laptop (aa:bb:cc:dd:ee:01) at 80 % of the download quota',
    message: 'lantop: bens-laptop (aa:bb:cc:dd:ee:01) at 80 % of the download quota; 8.00 GB of 10.0 GB used; resets 2026-05-02 00:00 UTC; router 198.51.100.1:23',
    detail: '',
  });
});

test('the line of words for a block, an unblock, a person, the whole line and the test event', () => {
  const block = quotaEvent({ kind: 'block', percent: 100, untilMs: Date.UTC(2026, 4, 2), subject: { kind: 'person', id: 'Ben', name: 'Ben' }, message: 'over the daily quota' });
  assert.equal(alertText(block), 'lantop: Ben blocked; 8.00 GB of 10.0 GB used; until 2026-05-02 00:00 UTC; over the daily quota; router 198.51.100.1:23');
  assert.equal(alertTitle(quotaEvent({ kind: 'unblock', subject: { kind: 'device', id: 'ip:198.51.100.7', name: null } })), 'lantop: ip:198.51.100.7 unblocked');
  assert.equal(alertTitle(quotaEvent({ subject: { kind: 'line', id: 'line', name: null }, direction: 'total', percent: 100 })), 'lantop: the whole line at 100 % of the traffic quota');
  const test = alertJson(testAlertEvent(AT, 'r:23'));
  assert.equal(test.kind, 'test');
  assert.equal(test.title, 'lantop: test alert');
  assert.equal(test.used, null);
  assert.equal(test.left, null);
});

test('hostile names (escapes, newlines, bidi overrides) never reach the text or the JSON raw', () => {
  const name = HOSTILE_NAME;
  const event = quotaEvent({ subject: { kind: 'device', id: 'aa:bb:cc:dd:ee:02', name }, message: 'a\nb\u001b]0;title\u0007' });
  const line = alertText(event);
  const title = alertTitle(event);
  for (const s of [line, title]) {
    assert.doesNotMatch(s, /[\u0000-\u001f\u007f\u202e]/, s);
  }
  const body = alertJson(event);
  const json = JSON.stringify(body);
  assert.doesNotMatch(json, /\\u001b|\\r|\\n|\\u0007|\\u0000|\u202e/);
  assert.equal(JSON.parse(json).subject.id, 'aa:bb:cc:dd:ee:02');
  assert.equal(body.subject.name, 'evilSubject: pwned"}');
  // A name as long as a whole listing is cut.
  assert.ok(alertTitle(quotaEvent({ subject: { kind: 'device', id: 'x', name: 'n'.repeat(10_000) } })).length < 200);
});

test('sizes in words use ×1000 units', () => {
  assert.equal(sizeInWords(0), '0 B');
  assert.equal(sizeInWords(999), '999 B');
  assert.equal(sizeInWords(1000), '1.00 kB');
  assert.equal(sizeInWords(123_456_789), '123 MB');
  assert.equal(sizeInWords(1.5e12), '1.50 TB');
  assert.equal(sizeInWords(Number.NaN), '?');
});

test('docs/alerts.md shows the body alertJson really writes', () => {
  const doc = readFileSync(new URL('../../docs/alerts.md', import.meta.url), 'utf8');
  const block = /## The JSON body[\s\S]*?```json\n([\s\S]*?)```/.exec(doc);
  assert.ok(block, 'the JSON example is in docs/alerts.md');
  assert.deepEqual(JSON.parse(block![1]!), alertJson(quotaEvent()));
});
