// tsconfig.json excludes tests, so tsx compiles them with the classic JSX runtime: React must be in scope.
import React from 'react';
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { Deferred, FakeController, historyView } from '../../../test/fakes/fake-controller.js';
import { cleanupTerminals, renderInTerminal } from '../../../test/fakes/fake-terminal.js';
import { BugError } from '../../errors.js';
import type { HistoryView } from '../../app/types.js';
import { ThemeProvider } from '../theme.js';
import { HistoryScreen, formatRange } from './history-screen.js';

afterEach(cleanupTerminals);

function mount(fake: FakeController, size: { columns?: number; rows?: number } = {}) {
  let backs = 0;
  const t = renderInTerminal(
    <ThemeProvider isColor={false}>
      <HistoryScreen controller={fake} isInputActive onBack={() => (backs += 1)} />
    </ThemeProvider>,
    { columns: 120, ...size },
  );
  return { t, backs: () => backs };
}

const row = (identity: string, down: number, up: number, fields: Partial<HistoryView['rows'][number]> = {}) => ({
  identity,
  ip: null,
  mac: null,
  hostname: null,
  downBytes: down,
  upBytes: up,
  ...fields,
});

test('history: today per host, busiest first, with bars relative to the busiest and a totals row', async () => {
  const today = historyView('today', [
    row('mac:02:00:00:00:00:02', 1_000_000, 0, { ip: '198.51.100.2', hostname: 'phone' }),
    row('mac:02:00:00:00:00:01', 4_000_000_000, 1_000_000_000, { ip: '198.51.100.1', hostname: 'laptop' }),
    row('ip:198.51.100.9', 2_500_000_000, 0, { ip: '198.51.100.9' }),
  ]);
  const fake = new FakeController().expectHistory('today', today);
  const { t, backs } = mount(fake);
  const frame = await t.waitFor('laptop');
  assert.match(frame, /History · today/);
  assert.ok(frame.includes(formatRange(today.startMs, today.endMs)));
  const rows = frame.split('\n').filter((l) => /^(laptop|phone|\(no name\)|TOTAL)/.test(l));
  assert.match(rows[0] ?? '', /^laptop\s+198\.51\.100\.1\s+4\.00 GB\s+1\.00 GB\s+5\.00 GB\s+█+$/);
  assert.match(rows[1] ?? '', /^\(no name\)\s+198\.51\.100\.9\s+2\.50 GB\s+0 B\s+2\.50 GB\s+█+$/);
  const bar = (line: string | undefined) => (line?.match(/█+$/)?.[0] ?? '').length;
  assert.ok(bar(rows[0]) >= 12);
  // Half the busiest host's bytes: half its bar.
  assert.equal(bar(rows[1]), bar(rows[0]) / 2);
  assert.match(rows[2] ?? '', /^phone\s+198\.51\.100\.2\s+1\.00 MB/);
  assert.match(rows[3] ?? '', /^TOTAL\s+6\.50 GB\s+1\.00 GB\s+7\.50 GB/);
  await t.press('q');
  assert.equal(backs(), 1);
  fake.verify();
});

test('history: t/y/w/m/c/a switch the period; only the latest reply is shown', async () => {
  const slowWeek = new Deferred<HistoryView>();
  const fake = new FakeController()
    .expectHistory('today', historyView('today', []))
    .expectHistory('week', slowWeek)
    .expectHistory('month', historyView('month', [row('ip:198.51.100.5', 123_000_000, 0, { hostname: 'monthly' })]))
    .expectHistory('yesterday', historyView('yesterday', []))
    .expectHistory('cycle', historyView('cycle', []))
    .expectHistory('all', historyView('all', [row('ip:198.51.100.6', 1, 0, { hostname: 'forever' })]));
  const { t } = mount(fake);
  let frame = await t.waitFor('No traffic recorded for today.');
  await t.press('w');
  frame = await t.waitFor("Reading this week's history…");
  await t.press('m');
  frame = await t.waitFor('monthly');
  assert.match(frame, /History · this month/);
  // The week's reply arrives late and must not replace the month.
  slowWeek.resolve(historyView('week', [row('ip:198.51.100.7', 5, 5, { hostname: 'weekly' })]));
  await t.press('y');
  frame = await t.waitFor('No traffic recorded for yesterday.');
  assert.ok(!frame.includes('weekly'));
  await t.press('c');
  await t.waitFor('No traffic recorded for this billing cycle.');
  await t.press('a');
  frame = await t.waitFor('forever');
  assert.match(frame, /History · all time/);
  fake.verify();
});

test('history: a failing store shows the error; r reads again; narrow terminals keep name and bytes', async () => {
  const fake = new FakeController()
    .expectHistory('today', new BugError('history query failed'))
    .expectHistory('today', historyView('today', [row('ip:198.51.100.4', 2_000, 1_000, { ip: '198.51.100.4' })]));
  const { t } = mount(fake, { columns: 40 });
  let frame = await t.waitFor('history query failed');
  assert.match(frame, /This is a bug in lantop/);
  await t.press('r');
  frame = await t.waitFor('TOTAL');
  // No IP column at 40 columns: the nameless host is shown by its address.
  assert.match(frame, /^198\.51\.100\.4\s+2\.00 kB\s+1\.00 kB\s+3\.00 kB$/m);
  for (const line of frame.split('\n')) assert.ok([...line].length <= 40, `fits: ${line}`);
  fake.verify();
});

test('history: IPv6 addresses show whole when there is room, then the bar goes, then the address is cut', async () => {
  const long = '2001:db8:85a3:1234:5678:9abc:def0:1234';
  const fake = new FakeController().expectHistory(
    'today',
    historyView('today', [
      row('02:00:00:00:00:01', 4_000, 0, { ip: '198.51.100.1', mac: '02:00:00:00:00:01', hostname: 'laptop' }),
      row('02:00:00:00:00:02', 3_000, 0, { ip: '2001:db8::1', mac: '02:00:00:00:00:02', hostname: 'phone' }),
      row(`ip:${long}`, 2_000, 0, { ip: long }),
    ]),
  );
  const { t } = mount(fake);
  let frame = await t.waitFor(long);
  assert.match(frame, /^laptop\s+198\.51\.100\.1\s+4\.00 kB\s+0 B\s+4\.00 kB\s+█+$/m);
  assert.match(frame, /^phone\s+2001:db8::1\s+3\.00 kB\s+0 B\s+3\.00 kB\s+[█-▏]+$/m);
  assert.match(frame, /^\(no name\)\s+2001:db8:85a3:1234:5678:9abc:def0:1234\s+2\.00 kB\s+0 B\s+2\.00 kB\s+[█-▏]+$/m);
  t.stdout.resize(80, 40);
  frame = await t.waitFor((f) => /^\(no name\)\s+2001:db8:85a3:1234:5678:9abc:def0:1234\s+2\.00 kB\s+0 B\s+2\.00 kB$/m.test(f));
  t.stdout.resize(60, 40);
  frame = await t.waitFor((f) => /^\(no name\)\s+2001:db8:85a3:1234:…\s+2\.00 kB\s+0 B\s+2\.00 kB$/m.test(f));
  assert.match(frame, /^laptop\s+198\.51\.100\.1\s+4\.00 kB/m);
  for (const line of frame.split('\n')) assert.ok([...line].length <= 60, `fits: ${line}`);
  fake.verify();
});

test('history: custom counters\' totals for the period on one line (issue 18); none, no line', async () => {
  const today = { ...historyView('today', [row('mac:02:00:00:00:00:01', 5_000, 100, { ip: '198.51.100.1', hostname: 'laptop' })]), counters: [{ name: 'lan-fwd', bytes: 1_990_000, packets: 10_766 }, { name: 'wan-in', bytes: 19_100, packets: 137 }] };
  const fake = new FakeController().expectHistory('today', today);
  const { t } = mount(fake);
  const frame = await t.waitFor('laptop');
  assert.match(frame, /Counters: lan-fwd 1\.99 MB · wan-in 19\.1 kB/);
  const plain = new FakeController().expectHistory('today', historyView('today', [row('mac:02:00:00:00:00:01', 5_000, 100, { ip: '198.51.100.1', hostname: 'laptop' })]));
  const other = mount(plain);
  assert.doesNotMatch(await other.t.waitFor('laptop'), /Counters:/);
});
