// tsconfig.json excludes tests, so tsx compiles them with the classic JSX runtime: React must be in scope.
// The live sparkline's window (issue 17, key w): 1 min per poll, 10 min in 10-second buckets, 1 h
// in minutes, bounded per host.
import '../../../test/helpers/no-ci.js';
import React from 'react';
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeController, host, makeSnapshot } from '../../../test/fakes/fake-controller.js';
import { cleanupTerminals, renderInTerminal, until } from '../../../test/fakes/fake-terminal.js';
import { ThemeProvider } from '../theme.js';
import { LiveScreen } from './live-screen.js';
import { nextRollups, SPARK_POINTS, sparkValues, type HostRollups } from './live-spark.js';
import { initialLiveState, liveReducer } from './use-live-state.js';

afterEach(cleanupTerminals);

// Aligned to 10 s (and 20 s into a minute).
const T0 = 1_700_000_000_000;

test('rollups: 10-second and 1-minute means; gaps read zero; never more than SPARK_POINTS values', () => {
  let r: HostRollups | undefined;
  // 1 Hz for 30 s: rates 1..30.
  for (let s = 0; s < 30; s += 1) r = nextRollups(r, T0 + s * 1000, s + 1);
  assert.deepEqual(sparkValues('10m', undefined, r), [5.5, 15.5, 25.5]);
  // The minute boundary falls 40 s after T0: 30 polls are all in the first minute bucket.
  assert.deepEqual(sparkValues('1h', undefined, r), [15.5]);
  // A 25-second stall: two 10-second buckets no poll reached.
  r = nextRollups(r, T0 + 55_000, 100);
  assert.deepEqual(sparkValues('10m', undefined, r), [5.5, 15.5, 25.5, 0, 0, 100]);
  // Two hours at 1 Hz: both windows stay at SPARK_POINTS values.
  for (let s = 0; s < 7200; s += 1) r = nextRollups(r, T0 + 60_000 + s * 1000, 7);
  assert.equal(sparkValues('10m', undefined, r).length, SPARK_POINTS);
  assert.equal(sparkValues('1h', undefined, r).length, SPARK_POINTS);
  assert.ok(sparkValues('1h', undefined, r).every((v) => v === 7));
  // A long outage is capped, not one array slot per missed bucket.
  r = nextRollups(r, T0 + 400 * 86_400_000, 1);
  assert.equal(sparkValues('1h', undefined, r).length, SPARK_POINTS);
});

test('reducer: w cycles the window; hosts that leave lose their rollups', () => {
  let state = initialLiveState;
  for (let s = 1; s <= 12; s += 1) state = liveReducer(state, { type: 'snapshot', snapshot: makeSnapshot([host('198.51.100.10', { downBps: s }), host('198.51.100.11', { upBps: 1 })], { atMs: T0 + s * 1000 }) });
  assert.equal(state.rollups?.size, 2);
  state = liveReducer(state, { type: 'sparkWindow' });
  assert.equal(state.sparkWindow, '10m');
  state = liveReducer(state, { type: 'sparkWindow' });
  assert.equal(state.sparkWindow, '1h');
  state = liveReducer(state, { type: 'sparkWindow' });
  assert.equal(state.sparkWindow, '1m');
  state = liveReducer(state, { type: 'snapshot', snapshot: makeSnapshot([host('198.51.100.11', { upBps: 1 })], { atMs: T0 + 13_000 }) });
  assert.deepEqual([...(state.rollups?.keys() ?? [])], ['ip:198.51.100.11']);
});

test('live screen: w switches the sparkline between 1 min, 10 min and 1 h; header and title say which', async () => {
  const fake = new FakeController().expectWatch();
  const t = renderInTerminal(
    <ThemeProvider isColor={false}>
      <LiveScreen controller={fake} now={() => T0 + 26_000} isInputActive onBack={() => {}} />
    </ThemeProvider>,
    { columns: 160, rows: 30 },
  );
  await t.waitFor('Waiting');
  await until(() => fake.activeWatches === 1, 'the screen to subscribe');
  // 25 polls at 1 Hz: 25 per-poll samples, three 10-second buckets, one minute.
  for (let s = 1; s <= 25; s += 1) fake.emit(makeSnapshot([host('198.51.100.10', { hostname: 'pc', downBps: s * 1000 })], { atMs: T0 + s * 1000 }));
  const sparkOf = (frame: string) => frame.split('\n').find((l) => l.includes(' pc '))?.match(/[▁▂▃▄▅▆▇█]+$/)?.[0] ?? '';
  let frame = await t.waitFor((f) => f.includes('LAST MINUTE') && sparkOf(f).length === 25);
  assert.doesNotMatch(frame.split('\n')[0]!, /sparkline/);
  await t.press('w');
  frame = await t.waitFor('LAST 10 MIN');
  assert.match(frame.split('\n')[0]!, /· sparkline 10 min/);
  assert.equal(sparkOf(frame).length, 3, frame);
  // Means of 1–9, 10–19, 20–25 kB/s (5, 14.5, 22.5) on one scale.
  assert.equal(sparkOf(frame), '▂▆█');
  await t.press('w');
  frame = await t.waitFor('LAST HOUR');
  assert.match(frame.split('\n')[0]!, /· sparkline 1 h/);
  assert.equal(sparkOf(frame), '█');
  await t.press('w');
  frame = await t.waitFor('LAST MINUTE');
  assert.equal(sparkOf(frame).length, 25);
  t.unmount();
  fake.verify();
});
