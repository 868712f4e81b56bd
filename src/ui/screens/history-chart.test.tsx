// tsconfig.json excludes tests, so tsx compiles them with the classic JSX runtime: React must be in scope.
// The History screen's chart (issue 17): resolution per period, ←/→ through periods, the device
// picker, ASCII terminals, hostile names, and both fitting at 80×24.
import React from 'react';
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeController, historyChart, historyView } from '../../../test/fakes/fake-controller.js';
import { cleanupTerminals, KEY, renderInTerminal } from '../../../test/fakes/fake-terminal.js';
import type { HistoryPeriod, HistoryView } from '../../app/types.js';
import { displayWidth } from '../columns.js';
import { GlyphModeContext, isPrintableAscii, type GlyphMode } from '../glyph-mode.js';
import { ThemeProvider } from '../theme.js';
import { HistoryScreen } from './history-screen.js';

afterEach(cleanupTerminals);

const T0 = Date.UTC(2026, 10, 21);
const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

function mount(fake: FakeController, size: { columns: number; rows: number }, mode: GlyphMode = 'braille') {
  let backs = 0;
  const t = renderInTerminal(
    <ThemeProvider isColor={false}>
      <GlyphModeContext.Provider value={mode}>
        <HistoryScreen controller={fake} isInputActive onBack={() => (backs += 1)} />
      </GlyphModeContext.Provider>
    </ThemeProvider>,
    size,
  );
  return { t, backs: () => backs };
}

const row = (identity: string, down: number, up: number, hostname: string | null = null) => ({ identity, ip: '198.51.100.' + identity.length, mac: null, hostname, downBytes: down, upBytes: up });
const ROWS = [row('mac:02:00:00:00:00:01', 4e9, 1e9, 'laptop'), row('mac:02:00:00:00:00:02', 2e9, 1e8, 'phone'), row('ip:198.51.100.9', 1e6, 0, null)];

/** A view of `period` with a chart of `n` buckets; with `device`, that device's series too. */
function viewWith(period: HistoryPeriod, granularity: 'minute' | 'hour' | 'day', n: number, fields: Partial<HistoryView> = {}, device?: { identity: string; name: string }): HistoryView {
  const len = { minute: MIN, hour: HOUR, day: DAY }[granularity];
  const chart = historyChart(granularity, T0, n, (k) => (k < 2 ? [null, null] : [(k % 7) * 1e8, (k % 3) * 1e7]), device && { ...device, bytes: (k) => [k * 1e6, 1e5] });
  return historyView(period, ROWS, { startMs: T0, endMs: T0 + n * len, chart, ...fields });
}

const chartLinesOf = (frame: string) => {
  const lines = frame.split('\n');
  const from = lines.findIndex((l) => /\d+ hosts?$/.test(l));
  const to = lines.findIndex((l) => /^NAME\s/.test(l));
  return lines.slice(from + 1, to);
};

for (const size of [{ columns: 80, rows: 24 }, { columns: 140, rows: 45 }]) {
  test(`history chart: ${size.columns}×${size.rows} fits the chart and the table; buckets follow the period`, async () => {
    const fake = new FakeController()
      .expectHistory('today', viewWith('today', 'hour', 24))
      .expectHistory('hours', viewWith('hours', 'minute', 360))
      .expectHistory('month', viewWith('month', 'day', 30));
    const { t } = mount(fake, size);
    for (const [key, label, count] of [
      ['', '24 × 1 hour', 24],
      ['h', '360 × 1 min', 360],
      ['m', '30 × 1 day', 30],
    ] as const) {
      if (key) await t.press(key);
      const frame = await t.waitFor((f) => f.includes(label) && f.includes('TOTAL'));
      const lines = frame.split('\n');
      assert.ok(lines.length <= size.rows, `${lines.length} lines fit ${size.rows} rows`);
      for (const line of lines) assert.ok(displayWidth(line) <= size.columns, `fits: ${line}`);
      assert.match(frame, /^laptop\s/m);
      const chart = chartLinesOf(frame);
      // Legend, at least 2 bar rows, the axis.
      assert.ok(chart.length >= 4, chart.join('\n'));
      assert.match(chart[0]!, new RegExp(`^all devices: ↓ .* above, ↑ .* below · ${count} ×`));
      assert.match(chart[1]!, /^↓ \d/);
      const axis = chart[chart.length - 1]!;
      assert.match(axis, key === 'm' ? /└.*03.*05/ : /└.*\d\d:\d\d/);
      // The two unknown buckets at the start are shaded, not blank.
      assert.ok(chart.some((l) => l.includes('░')), 'pruned buckets are shaded');
      if (size.rows >= 45) assert.ok(chart.length >= 12, `a tall terminal gets a taller chart (${chart.length})`);
    }
    fake.verify();
  });
}

test('history chart: ←/→ ask for the previous and next period, never past the current one', async () => {
  const fake = new FakeController()
    .expectHistory('today', viewWith('today', 'hour', 24))
    .expectHistory('today', viewWith('today', 'hour', 24, { startMs: T0 - DAY, endMs: T0, offset: -1 }), { offset: -1 })
    .expectHistory('today', viewWith('today', 'hour', 24, { startMs: T0 - 2 * DAY, endMs: T0 - DAY, offset: -2 }), { offset: -2 })
    .expectHistory('today', viewWith('today', 'hour', 24, { offset: -1 }), { offset: -1 })
    .expectHistory('today', viewWith('today', 'hour', 24), { offset: 0 })
    .expectHistory('week', viewWith('week', 'hour', 168));
  const { t } = mount(fake, { columns: 80, rows: 24 });
  await t.waitFor('24 × 1 hour');
  await t.press(KEY.left);
  await t.waitFor('History · today · 1 day back');
  await t.press(KEY.left);
  await t.waitFor('History · today · 2 days back');
  await t.press(KEY.right);
  await t.waitFor('History · today · 1 day back');
  await t.press(KEY.right);
  await t.waitFor((f) => /History · today\s*$/m.test(f) && f.includes('24 × 1 hour'));
  // Already the current day: → asks nothing; a period key goes back to offset 0 of that period.
  await t.press(KEY.right);
  await t.press('w');
  await t.waitFor('168 × 1 hour');
  fake.verify();
});

test('history chart: Enter/d put the device under the cursor into the chart; d/Esc go back to the total', async () => {
  const phone = { identity: 'mac:02:00:00:00:00:02', name: 'phone' };
  const fake = new FakeController()
    .expectHistory('today', viewWith('today', 'hour', 24))
    .expectHistory('today', viewWith('today', 'hour', 24, {}, phone), { identity: phone.identity })
    .expectHistory('today', viewWith('today', 'hour', 24))
    .expectHistory('today', viewWith('today', 'hour', 24, {}, { identity: 'mac:02:00:00:00:00:01', name: 'laptop' }), { identity: 'mac:02:00:00:00:00:01' })
    .expectHistory('today', viewWith('today', 'hour', 24, { offset: -1 }, { identity: 'mac:02:00:00:00:00:01', name: 'laptop' }), { identity: 'mac:02:00:00:00:00:01', offset: -1 })
    .expectHistory('today', viewWith('today', 'hour', 24, { offset: -1 }), { offset: -1 });
  const { t, backs } = mount(fake, { columns: 140, rows: 45 });
  await t.waitFor('all devices:');
  await t.press(KEY.down, KEY.enter);
  let frame = await t.waitFor('History · today · phone');
  // The device's chart first, with its share; the total under it on a tall terminal.
  assert.match(frame, /^phone \(\d+% of all\): ↓/m);
  assert.match(frame, /^all devices: ↓/m);
  await t.press('d');
  frame = await t.waitFor((f) => /History · today\s*$/m.test(f) && f.includes('all devices:'));
  assert.doesNotMatch(frame, /^phone \(/m);
  await t.press(KEY.up, 'd');
  await t.waitFor('History · today · laptop');
  // The device stays picked while the period moves.
  await t.press(KEY.left);
  await t.waitFor('History · today · 1 day back · laptop');
  await t.press(KEY.escape);
  await t.waitFor((f) => /History · today · 1 day back\s*$/m.test(f));
  assert.equal(backs(), 0);
  await t.press(KEY.escape);
  assert.equal(backs(), 1);
  fake.verify();
});

test('history chart: ASCII terminals get an ASCII chart and legend', async () => {
  const fake = new FakeController().expectHistory('today', viewWith('today', 'hour', 24));
  const { t } = mount(fake, { columns: 80, rows: 24 }, 'ascii');
  const frame = await t.waitFor('24 x 1 hour');
  const chart = chartLinesOf(frame);
  assert.ok(chart.length >= 4);
  for (const line of chart) assert.ok(isPrintableAscii(line), `ASCII only: ${JSON.stringify(line)}`);
  assert.match(chart[1]!, /^dn \d/);
  assert.ok(chart.some((l) => l.includes('#')) && chart.some((l) => l.includes('?')), chart.join('\n'));
  fake.verify();
});

test('history chart: a hostile device name is never written raw', async () => {
  const evil = '\u001b]0;pwned\u0007ev\u001b[2Jil\u009b31m';
  const rows = [row('mac:02:00:00:00:00:07', 5e9, 0, evil)];
  const fake = new FakeController()
    .expectHistory('today', historyView('today', rows, { chart: historyChart('hour', T0, 24, () => [1, 1]) }))
    .expectHistory('today', historyView('today', rows, { chart: historyChart('hour', T0, 24, () => [1, 1], { identity: 'mac:02:00:00:00:00:07', name: evil, bytes: () => [1, 1] }) }), {
      identity: 'mac:02:00:00:00:00:07',
    });
  const { t } = mount(fake, { columns: 100, rows: 30 });
  await t.waitFor('all devices:');
  await t.press(KEY.enter);
  const frame = await t.waitFor((f) => /% of all\)/.test(f));
  assert.ok(!frame.includes('\u001b') && !frame.includes('\u0007') && !frame.includes('\u009b'), JSON.stringify(frame));
  assert.match(frame, /History · today · .*ev.*il/);
  fake.verify();
});
