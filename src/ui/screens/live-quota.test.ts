// The live screen's quota column and title (pure): per host the quota nearest its limit (its own or
// a person's), BLOCKED with the time left for a blocked host, line quotas in the title only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { host, makeSnapshot } from '../../../test/fakes/fake-controller.js';
import type { QuotaUsageView } from '../../domain/snapshot.js';
import { hasQuotaColumn, lineQuotaText, quotaCells, shortTimeLeft } from './live-quota.js';

const NOW = 1_700_000_000_000;
const MIN = 60_000;
const HOUR = 60 * MIN;
const LAPTOP = '02:00:00:00:00:0a';
const PHONE = '02:00:00:00:00:0b';

const quota = (over: Partial<QuotaUsageView>): QuotaUsageView => ({
  id: 1,
  subject: { kind: 'device', id: LAPTOP },
  name: 'laptop',
  identities: [LAPTOP],
  direction: 'total',
  period: 'day',
  usedBytes: 850_000_000,
  limitBytes: 1_000_000_000,
  leftBytes: 150_000_000,
  percent: 85,
  startMs: NOW - HOUR,
  resetMs: NOW + 4 * HOUR,
  isBlocked: false,
  ...over,
});

const hosts = [host('198.51.100.10', { mac: LAPTOP }), host('198.51.100.11', { mac: PHONE }), host('198.51.100.12')];

test('shortTimeLeft: minutes (rounded up) below an hour, hours below two days, then days; never negative', () => {
  assert.equal(shortTimeLeft(NOW + 1, NOW), '1m');
  assert.equal(shortTimeLeft(NOW + 59 * MIN, NOW), '59m');
  assert.equal(shortTimeLeft(NOW + 60 * MIN, NOW), '1h');
  assert.equal(shortTimeLeft(NOW + 90 * MIN, NOW), '2h');
  assert.equal(shortTimeLeft(NOW + 47 * HOUR, NOW), '47h');
  assert.equal(shortTimeLeft(NOW + 48 * HOUR, NOW), '2d');
  assert.equal(shortTimeLeft(NOW - HOUR, NOW), '0m');
});

test('quota cells: the quota nearest its limit per host, a person quota on each of its devices, nothing for hosts without one', () => {
  const own = quota({});
  const person = quota({ id: 2, subject: { kind: 'person', id: 'Ben' }, name: 'Ben', identities: [LAPTOP, PHONE], percent: 50, leftBytes: 500_000_000, resetMs: null });
  const cells = quotaCells(makeSnapshot(hosts, { atMs: NOW, quotas: [person, own] }));
  assert.deepEqual([...cells], [
    [LAPTOP, '████▎  85% 150 MB left ↻4h'],
    [PHONE, '██▌░░  50% 500 MB left'],
  ]);
  const over = quotaCells(makeSnapshot(hosts, { atMs: NOW, quotas: [quota({ percent: 123_456, leftBytes: 0 })] }));
  assert.equal(over.get(LAPTOP), '█████ 999% 0 B left ↻4h', 'a full bar, the percent capped at 999');
});

test('a blocked host shows BLOCKED and the time left instead of its quota; the line quota only in the title', () => {
  const blocked = [{ ...hosts[0]!, blockedUntilMs: NOW + 10 * MIN }, hosts[1]!, { ...hosts[2]!, blockedUntilMs: null }];
  const line = quota({ id: 3, subject: { kind: 'line', id: 'line' }, name: 'whole line', identities: [], percent: 45.9, resetMs: NOW + 3 * HOUR });
  const snapshot = makeSnapshot(blocked, { atMs: NOW, quotas: [quota({}), line] });
  assert.deepEqual([...quotaCells(snapshot)], [[LAPTOP, 'BLOCKED 10m left']]);
  assert.equal(lineQuotaText(snapshot), 'line quota 45% ↻3h');
  assert.equal(lineQuotaText(makeSnapshot(hosts, { atMs: NOW, quotas: [line, { ...line, id: 4, percent: 2, resetMs: null }] })), 'line quota 45% ↻3h · line quota 2%');
  assert.equal(lineQuotaText(makeSnapshot(hosts, { atMs: NOW })), '');
});

test('the column shows with a device or person quota, or a blocked host; not for line quotas alone', () => {
  const line = quota({ subject: { kind: 'line', id: 'line' }, identities: [] });
  assert.equal(hasQuotaColumn(null), false);
  assert.equal(hasQuotaColumn(makeSnapshot(hosts, { atMs: NOW })), false);
  assert.equal(hasQuotaColumn(makeSnapshot(hosts, { atMs: NOW, quotas: [line] })), false);
  assert.equal(quotaCells(makeSnapshot(hosts, { atMs: NOW, quotas: [line] })).size, 0, 'a line quota has no cells');
  assert.equal(hasQuotaColumn(makeSnapshot(hosts, { atMs: NOW, quotas: [line, quota({})] })), true);
  assert.equal(hasQuotaColumn(makeSnapshot([{ ...hosts[1]!, blockedUntilMs: NOW + MIN }], { atMs: NOW })), true);
});
