// tsconfig.json excludes tests, so tsx compiles them with the classic JSX runtime: React must be in scope.
import React from 'react';
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeController, host, makeSnapshot } from '../../../test/fakes/fake-controller.js';
import { cleanupTerminals, KEY, renderInTerminal } from '../../../test/fakes/fake-terminal.js';
import type { QuotasView } from '../../app/types.js';
import type { QuotaUsageView } from '../../domain/snapshot.js';
import { ThemeProvider } from '../theme.js';
import { QuotasScreen } from './quotas-screen.js';
import { LiveScreen } from './live-screen.js';

afterEach(cleanupTerminals);

const NOW = 1_700_000_000_000;
const MAC = '02:00:00:00:00:0a';

const usage = (over: Partial<QuotaUsageView> = {}): QuotaUsageView => ({
  id: 3,
  subject: { kind: 'device', id: MAC },
  name: 'laptop\u001b[31m',
  identities: [MAC],
  direction: 'total',
  period: 'day',
  usedBytes: 850_000_000,
  limitBytes: 1_000_000_000,
  leftBytes: 150_000_000,
  percent: 85,
  startMs: NOW - 3_600_000,
  resetMs: NOW + 4 * 3_600_000,
  isBlocked: false,
  ...over,
});

const view = (): QuotasView => ({
  quotas: [{ usage: usage(), input: { subject: { kind: 'device', identity: MAC }, limitBytes: 1e9, direction: 'total', period: { kind: 'day' }, notifyPercents: [80, 100], block: true }, thresholds: [{ percent: 80, notify: true, block: false }, { percent: 100, notify: true, block: true }] }],
  subjects: [
    { subject: { kind: 'line' }, label: 'whole line (every device)' },
    { subject: { kind: 'device', identity: MAC }, label: 'laptop (198.51.100.10, 02:00:00:00:00:0a)' },
  ],
  blocks: [{ identity: '02:00:00:00:00:0b', name: 'tv', untilMs: NOW + 600_000 }],
  audit: [{ atMs: NOW - 60_000, action: 'block', name: 'tv', reason: 'quota 2 (tv) reached 100 %', by: 'quota', untilMs: NOW + 600_000 }],
});

function mount(fake: FakeController) {
  let backs = 0;
  const t = renderInTerminal(
    <ThemeProvider isColor={false}>
      <QuotasScreen controller={fake} isInputActive onBack={() => (backs += 1)} now={() => NOW} />
    </ThemeProvider>,
    { columns: 160, rows: 30 },
  );
  return { t, backs: () => backs };
}

test('quotas: the list with used, left and reset, the blocks and the log; router text sanitised', async () => {
  const fake = new FakeController().expectQuotas(view());
  const { t, backs } = mount(fake);
  const frame = await t.waitFor('Block log');
  assert.match(frame, /❯  3  laptop\s+█+.*85% of 1\.00 GB total\/day · 150 MB left · resets in 4h · at 80%, 100% notify\+block/);
  assert.doesNotMatch(frame, /\u001b\[31m/);
  assert.match(frame, /tv until .* \(in 10m\)/);
  assert.match(frame, /block\s+tv · by quota · quota 2 \(tv\) reached 100 %/);
  await t.press('q');
  assert.equal(backs(), 1);
  fake.verify();
});

test('quotas: a adds from the form (whom, limit, period, block), a bad limit is said; d removes after y', async () => {
  const input = { subject: { kind: 'device' as const, identity: MAC }, limitBytes: 5e9, direction: 'down' as const, period: { kind: 'rolling' as const, minutes: 120 }, notifyPercents: [80, 100], block: true };
  const fake = new FakeController().expectQuotas(view()).expectSaveQuota(input, undefined).expectQuotas(view()).expectRemoveQuota(3).expectQuotas(view());
  const { t } = mount(fake);
  await t.waitFor('Block log');
  await t.press('a');
  await t.waitFor('New quota');
  await t.press(KEY.right); // whom: the laptop
  await t.press('\t', 'x', 'y', KEY.enter);
  await t.waitFor('✗ cannot read size "xy"');
  await t.press(KEY.backspace, KEY.backspace, '5', 'G', 'B');
  await t.press('\t', KEY.left); // direction: total → up? left of total is up
  await t.press(KEY.left); // → down
  await t.press('\t', KEY.backspace, KEY.backspace, KEY.backspace, KEY.backspace, KEY.backspace, '2', 'h');
  await t.press('\t', '\t', KEY.right); // block: yes
  const form = await t.waitFor('yes: block at 100 %');
  assert.match(form, /direction\s+◀ down ▶/);
  assert.match(form, /period\s+2h_/);
  await t.press(KEY.enter);
  await t.waitFor('Quota added.');
  await t.press('d');
  await t.waitFor('Remove quota 3? y/n');
  await t.press('y');
  await t.waitFor('Quota 3 removed.');
  fake.verify();
});

test('quotas: e edits the quota under the cursor in place (the form starts from it; the same id is saved)', async () => {
  const input = { subject: { kind: 'device' as const, identity: MAC }, limitBytes: 2e9, direction: 'total' as const, period: { kind: 'day' as const }, notifyPercents: [90], block: false };
  const fake = new FakeController().expectQuotas(view()).expectSaveQuota(input, 3).expectQuotas(view());
  const { t } = mount(fake);
  await t.waitFor('Block log');
  await t.press('e');
  const form = await t.waitFor('Edit quota 3');
  assert.match(form, /limit\s+1GB_/);
  assert.match(form, /period\s+day/);
  await t.press(KEY.backspace, KEY.backspace, KEY.backspace, '2', 'G', 'B');
  await t.press('\t', '\t', '\t', ...Array.from({ length: 6 }, () => KEY.backspace), '9', '0'); // notify: 90
  await t.press('\t', KEY.right); // block: no
  const changed = await t.waitFor('block      ◀ no ▶');
  assert.match(changed, /limit\s+2GB_/);
  assert.match(changed, /notify\s+90_/);
  await t.press(KEY.enter);
  await t.waitFor('Quota 3 changed.');
  fake.verify();
});

test('live: the quota column shows used, left and reset; b asks to block the first row for 1h, + makes it 2h, y blocks', async () => {
  const fake = new FakeController().expectWatch().expectBlock(MAC, 2 * 3_600_000, { isDone: true, message: 'laptop blocked until 16:13.' });
  const t = renderInTerminal(
    <ThemeProvider isColor={false}>
      <LiveScreen controller={fake} now={() => NOW} isInputActive onBack={() => undefined} />
    </ThemeProvider>,
    { columns: 160, rows: 20 },
  );
  await t.waitFor('Waiting');
  const hosts = [host('198.51.100.10', { mac: MAC, hostname: 'laptop', downBps: 1000 }), host('198.51.100.11', { mac: '02:00:00:00:00:0b', hostname: 'tv', blockedUntilMs: NOW + 600_000 })];
  fake.emit(makeSnapshot(hosts, { atMs: NOW, quotas: [usage()] }));
  const frame = await t.waitFor('QUOTA');
  assert.match(frame, /laptop .*█+▎?░* +85% 150 MB left ↻4h/);
  assert.match(frame, /tv .*BLOCKED 10m left/);
  await t.press('b');
  await t.waitFor('Block laptop for 1h? y/n');
  await t.press('+');
  await t.waitFor('Block laptop for 2h? y/n');
  await t.press('y');
  await t.waitFor('laptop blocked until 16:13.');
  fake.verify();
});
