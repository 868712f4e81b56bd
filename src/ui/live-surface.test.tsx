// tsconfig.json excludes tests, so tsx compiles them with the classic JSX runtime: React must be in scope.
// The whole app as runApp draws it on the alternate screen (an emulated screen: fake-screen.ts):
// the live screen's rows come from the row writer, a poll rewrites only the rows that changed and
// makes Ink write nothing, and the help, the menu and resizes leave no stale rows behind.
import '../../test/helpers/no-ci.js';
import React from 'react';
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeController, host, makeSnapshot } from '../../test/fakes/fake-controller.js';
import { until } from '../../test/fakes/fake-terminal.js';
import { cleanupScreens, renderOnScreen } from '../../test/fakes/fake-screen.js';
import { App } from './app.js';

afterEach(cleanupScreens);

const T0 = 1_700_000_000_000;
const hosts = (tvBps: number, tvBytes = 1_000_000) => [
  host('198.51.100.10', { hostname: 'laptop', downBps: 2_500_000, upBps: 40_000, downBytes: 5_000_000_000, upBytes: 100_000_000 }),
  host('198.51.100.11', { hostname: 'tv', downBps: tvBps, upBps: 900_000, downBytes: tvBytes, upBytes: 900_000_000 }),
  host('198.51.100.12', { hostname: null, downBytes: 42_000, upBytes: 1_000 }),
];

async function openLive(size: { columns: number; rows: number }) {
  const fake = new FakeController().expectConnect().expectWatch();
  const t = renderOnScreen(<App controller={fake} isColor={false} now={() => T0 + 3_000} />, size);
  await t.waitFor('❯ 1 Connected devices');
  await t.press('2');
  await t.waitFor('Waiting for the first poll');
  await until(() => fake.activeWatches === 1, 'the live screen to subscribe');
  // Past Ink's 30 fps throttle: its blank block is written (and the rows redrawn over it).
  await new Promise((resolve) => setTimeout(resolve, 100));
  return { fake, t };
}

/** Rows addressed by one of the row writer's writes ("\u001b[<row>;1H"). */
const rowsIn = (data: string) => [...data.matchAll(/\u001b\[(\d+);1H/g)].map((m) => Number(m[1]));
const rowOf = (frame: string, text: string) => frame.split('\n').findIndex((l) => l.includes(text)) + 1;

test('alternate screen: a poll rewrites only the rows that changed, in one write, and Ink writes nothing', async () => {
  // 80 columns: no sparkline column, so rows whose numbers stay the same stay the same.
  const { fake, t } = await openLive({ columns: 80, rows: 24 });
  fake.emit(makeSnapshot(hosts(500_000), { atMs: T0 }));
  let frame = await t.waitFor('TOTAL (3)');
  assert.match(frame, /^Live usage · 3 hosts · sorted by ↓ rate · top talker ▶ laptop$/m);
  assert.match(frame, /▶ laptop\s+198\.51\.100\.10\s+2\.50 MB\/s\s+40\.0 kB\/s/, frame);
  assert.match(frame, /^d\/u\/t\/n sort/m, frame);
  const before = t.stdout.raw.length;
  // Only the tv's ↓ total moves (rates, and so shares and the order, stay).
  fake.emit(makeSnapshot(hosts(500_000, 2_000_000), { atMs: T0 + 1_000 }));
  frame = await t.waitFor('2.00 MB');
  const written = t.stdout.raw.slice(before);
  assert.equal(written.length, 1, 'one write for the poll');
  assert.ok(written[0]!.startsWith('\u001b7'), "the row writer's, not Ink's");
  // The status (polled 2.0 s ago instead of 3.0 s) and the tv's row; nothing else.
  assert.deepEqual(rowsIn(written[0]!), [2, rowOf(frame, '  tv  ')]);
  assert.equal(rowOf(frame, '  tv  '), 6);
  assert.match(frame, /polled 2\.0 s ago/);
  // Keys change the rows the same way (d/u/t/n, f), with no Ink frame either.
  const beforeKeys = t.stdout.raw.length;
  await t.press('f', 'f');
  frame = await t.waitFor('IPv6 only');
  assert.match(frame, /3 hosts · sorted by ↓ rate · IPv6 only/);
  assert.ok(t.stdout.raw.slice(beforeKeys).every((w) => w.startsWith('\u001b7')));
  t.unmount();
  fake.verify();
});

test('alternate screen: the help covers the live rows (polls keep coming but are not drawn) and closing it brings them back', async () => {
  const { fake, t } = await openLive({ columns: 120, rows: 30 });
  fake.emit(makeSnapshot(hosts(500_000), { atMs: T0 }));
  await t.waitFor('TOTAL (3)');
  await t.press('?');
  let frame = await t.waitFor('Help · keys');
  assert.match(frame, /f\s+both address families, IPv4 only, IPv6 only/);
  assert.ok(!/laptop|TOTAL|Live usage/.test(frame), `no live row left under the help:\n${frame}`);
  fake.emit(makeSnapshot(hosts(700_000), { atMs: T0 + 1_000 }));
  await new Promise((resolve) => setTimeout(resolve, 50));
  frame = t.lastFrame();
  assert.ok(frame.includes('Help · keys') && !frame.includes('700 kB/s'), `a poll under the help draws nothing:\n${frame}`);
  await t.press('?');
  frame = await t.waitFor((f) => f.includes('700 kB/s') && !f.includes('Help · keys'));
  assert.match(frame, /▶ laptop\s+198\.51\.100\.10/);
  assert.match(frame, /TOTAL \(3\)/);
  await t.press('q');
  frame = await t.waitFor('❯ 2 Live usage');
  assert.ok(!/laptop|TOTAL|polled/.test(frame), `no live row left on the menu:\n${frame}`);
  await until(() => fake.activeWatches === 0, 'leaving the live screen to stop polling');
  t.unmount();
  fake.verify();
});

test('alternate screen: resizes re-flow the rows and leave nothing outside the new size', async () => {
  const { fake, t } = await openLive({ columns: 160, rows: 30 });
  const many = Array.from({ length: 60 }, (_, i) => host(`198.51.100.${i + 2}`, { hostname: `host-${String(i).padStart(2, '0')}`, downBps: (60 - i) * 1000 }));
  fake.emit(makeSnapshot(many, { atMs: T0 }));
  let frame = await t.waitFor('LAST MINUTE');
  assert.match(frame, /rows 1–23 of 60/);
  t.stdout.resize(60, 20);
  frame = await t.waitFor((f) => /NAME\s+↓RATE▼\s+↑RATE\s+↓%\s+↑%/.test(f) && f.includes('rows 1–13 of 60'));
  const lines = frame.split('\n');
  assert.ok(lines.length <= 19, `stays above the last row: ${lines.length} rows\n${frame}`);
  for (const line of lines) assert.ok([...line].length <= 60, `fits 60 columns: ${line}`);
  assert.match(lines.at(-1)!, /^rows 1–13 of 60 · d\/u\/t\/n/, 'the footer right after the totals');
  assert.ok(!frame.includes('LAST MINUTE') && !frame.includes('host-13'), 'nothing from the wider, taller frame');
  t.stdout.resize(160, 30);
  frame = await t.waitFor('LAST MINUTE');
  assert.match(frame, /rows 1–23 of 60/);
  assert.equal(frame.split('\n').length, 29, 'title, 2 status, header, 23 rows, totals, footer');
  t.unmount();
  fake.verify();
});
