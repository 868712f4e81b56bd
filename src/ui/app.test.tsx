// tsconfig.json excludes tests, so tsx compiles them with the classic JSX runtime: React must be in scope.
import React from 'react';
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { discovered, FakeController, historyView, host, makeSnapshot, plan } from '../../test/fakes/fake-controller.js';
import { cleanupTerminals, KEY, renderInTerminal, until } from '../../test/fakes/fake-terminal.js';
import { App } from './app.js';
import { makeTheme } from './theme.js';

afterEach(cleanupTerminals);

function start(fake: FakeController, options: { needsPassword?: boolean; isStdinTTY?: boolean; columns?: number } = {}) {
  const exits: number[] = [];
  const t = renderInTerminal(
    <App controller={fake} isColor={false} needsPassword={options.needsPassword} now={() => 1_700_000_001_000} onExit={(code) => exits.push(code)} />,
    { columns: options.columns ?? 120, rows: 30, isStdinTTY: options.isStdinTTY },
  );
  return { t, exits };
}

test('app: walks every menu entry by number and quits with 0 from the menu', async () => {
  const flush = plan('flush', ['acct clear lantop']);
  const setup = plan('setup', ['acct create lantop']);
  const fake = new FakeController()
    .expectConnect()
    .expectListHosts([discovered('198.51.100.10', { hostname: 'laptop' })])
    .expectWatch()
    .expectPlan('setup', setup)
    .expectApply(setup, { applied: setup.commands, failed: null, isVerified: true, notes: [] })
    .expectPlan('flush', flush)
    .expectHistory('today', historyView('today', []))
    .expectHistory('week', historyView('week', []));
  const { t, exits } = start(fake);
  await t.waitFor('❯ 1 Connected devices');

  await t.press('1');
  await t.waitFor('Router reports 1 active device');
  await t.press('q');
  await t.waitFor('❯ 1 Connected devices');

  await t.press('2');
  await t.waitFor('Live usage');
  await until(() => fake.activeWatches === 1, 'the live screen to subscribe');
  fake.emit(makeSnapshot([host('198.51.100.10', { hostname: 'laptop', downBps: 1000 })], { atMs: 1_700_000_000_000 }));
  await t.waitFor('▶ laptop');
  await t.press(KEY.escape);
  await t.waitFor('❯ 2 Live usage');
  await until(() => fake.activeWatches === 0, 'leaving the live screen to stop polling');

  await t.press('3');
  await t.waitFor('Apply this command? [y/n]');
  await t.press('y');
  await t.waitFor('✓ Applied 1 of 1 command.');
  await t.press('q');
  await t.waitFor('❯ 3 Set up accounting rules');

  await t.press('4');
  await t.waitFor('Flush accounting rules');
  await t.press('n');
  await t.waitFor('❯ 4 Flush accounting rules');

  await t.press('5');
  await t.waitFor('No traffic recorded for today.');
  await t.press('w');
  await t.waitFor('No traffic recorded for this week.');
  await t.press('q');
  await t.waitFor('❯ 5 History');

  await t.press('q');
  assert.deepEqual(exits, [0]);
  fake.verify();
});

test('app: arrows move the menu cursor (wrapping) and Enter opens the entry', async () => {
  const fake = new FakeController().expectConnect().expectHistory('today', historyView('today', []));
  const { t } = start(fake);
  await t.waitFor('❯ 1 Connected devices');
  await t.press(KEY.up);
  await t.waitFor('❯ 7 Custom counters');
  await t.press(KEY.down, KEY.down, KEY.up);
  await t.waitFor('❯ 1 Connected devices');
  await t.press(KEY.up, KEY.up, KEY.up, KEY.enter);
  await t.waitFor('History · today');
  fake.verify();
});

test('app: arrows and Enter typed faster than renders still open the entry the cursor reached', async () => {
  const setup = plan('setup', []);
  const fake = new FakeController().expectConnect().expectPlan('setup', setup);
  const { t } = start(fake);
  await t.waitFor('❯ 1 Connected devices');
  await t.press('');
  for (const key of [KEY.down, KEY.down, KEY.enter]) t.stdin.write(key);
  await t.waitFor('Nothing to do');
  fake.verify();
});

test('app: ? opens help for the current screen without stopping polling; q closes help, not the screen', async () => {
  const fake = new FakeController().expectConnect().expectWatch();
  const { t } = start(fake);
  await t.waitFor('❯ 1');
  await t.press('2');
  await t.waitFor('Live usage');
  await until(() => fake.activeWatches === 1, 'the live screen to subscribe');
  await t.press('?');
  const help = await t.waitFor('Help · keys');
  assert.match(help, /d\s+sort by download rate/);
  assert.match(help, /by port: the busiest traffic classes \(setup --ports\/--protocols\), fastest first/);
  assert.ok(!help.includes('Live usage'), 'the screen is hidden under the help');
  assert.equal(fake.activeWatches, 1);
  // Keys for the hidden screen are off while help is open.
  await t.press('u');
  await t.press('q');
  const back = await t.waitFor('Live usage');
  assert.match(back, /sorted by ↓ rate/);
  assert.equal(fake.activeWatches, 1);
  fake.verify();
});

test('app: Ctrl-C exits with 130 from any screen, also while typing a password', async () => {
  const live = new FakeController().expectConnect().expectWatch();
  const a = start(live);
  await a.t.waitFor('❯ 1');
  await a.t.press('2');
  await a.t.waitFor('Live usage');
  await until(() => live.activeWatches === 1, 'the live screen to subscribe');
  await a.t.press(KEY.ctrlC);
  assert.deepEqual(a.exits, [130]);
  await until(() => live.activeWatches === 0, 'unmounting to stop polling');
  live.verify();

  const prompt = new FakeController();
  const b = start(prompt, { needsPassword: true });
  await b.t.waitFor('Password for');
  await b.t.press('a', KEY.ctrlC);
  assert.deepEqual(b.exits, [130]);
  prompt.verify();
});

test('app: a non-TTY stdin never turns on raw mode or reads keys', async () => {
  const fake = new FakeController().expectConnect();
  const { t, exits } = start(fake, { isStdinTTY: false });
  await t.waitFor('❯ 1 Connected devices');
  await t.press('q', KEY.ctrlC);
  assert.deepEqual(exits, []);
  assert.deepEqual(t.stdin.rawModeCalls, []);
  fake.verify();
});

test('app: with colour off the theme hands out no colour props', () => {
  const plain = makeTheme(false);
  for (const style of Object.values(plain)) {
    if (typeof style !== 'object') continue;
    assert.ok(!('color' in style) && !('backgroundColor' in style) && !('dimColor' in style), JSON.stringify(style));
  }
  assert.ok('color' in makeTheme(true).accent);
});

test('app: Enter on a live row opens that device\'s connections (live keeps polling underneath); Esc comes back to the same cursor', async () => {
  const { connection, connectionsView } = await import('../../test/fakes/fake-controller.js');
  const tvMac = '02:00:00:00:00:11';
  const fake = new FakeController().expectConnect().expectWatch();
  for (let i = 0; i < 200; i += 1) fake.expectConnections(tvMac, connectionsView(tvMac, [connection('203.0.113.7', 443, { service: 'https', downBytes: 1_000 })], { name: 'tv' }));
  const { t } = start(fake);
  await t.waitFor('❯ 1 Connected devices');
  await t.press('2');
  await until(() => fake.activeWatches === 1, 'the live screen to subscribe');
  const hosts = [host('198.51.100.10', { hostname: 'laptop', downBps: 1000 }), host('198.51.100.11', { hostname: 'tv', mac: tvMac, downBps: 10 })];
  fake.emit(makeSnapshot(hosts, { atMs: 1_700_000_000_000 }));
  await t.waitFor('❯▶ laptop');
  await t.press(KEY.down);
  await t.waitFor('❯  tv');
  await t.press(KEY.enter);
  let frame = await t.waitFor('Connections · tv');
  assert.match(frame, /203\.0\.113\.7\s+443 https/);
  assert.ok(!frame.includes('Live usage'), 'the live screen is hidden');
  assert.equal(fake.activeWatches, 1, 'and still polling');
  await t.press('?');
  frame = await t.waitFor('Help · keys');
  assert.match(frame, /g\s+group: every connection, by remote host, by remote port, by protocol/);
  await t.press('?');
  await t.waitFor('Connections · tv');
  await t.press(KEY.escape);
  frame = await t.waitFor('Live usage');
  assert.match(frame, /❯ {2}tv/, 'the cursor is where it was');
  const reads = fake.calls.filter((c) => c.method === 'connections').length;
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(fake.calls.filter((c) => c.method === 'connections').length, reads, 'no reads after leaving the connections');
  await t.press(KEY.escape);
  await t.waitFor('❯ 2 Live usage');
  await until(() => fake.activeWatches === 0, 'leaving the live screen to stop polling');
  t.unmount();
});
