// The app on several routers (issue 20), frame tests with fake controllers behind a fake RouterSet:
// the combined table (ROUTER column, subtotals, one total), the view switch key r, the router
// picker before a menu action, and a router that is down (its reason sanitised) beside one whose
// rows keep coming.
// tsconfig.json excludes tests, so tsx compiles them with the classic JSX runtime: React must be in scope.
import React from 'react';
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { discovered, FakeController, host, makeSnapshot } from '../../test/fakes/fake-controller.js';
import { cleanupTerminals, KEY, renderInTerminal, until } from '../../test/fakes/fake-terminal.js';
import { App } from './app.js';
import type { RouterEntry, RouterSet, RouterStatus } from './router-set.js';
import type { Snapshot } from '../domain/snapshot.js';

afterEach(cleanupTerminals);

const NOW = 1_700_000_001_000;

class FakeRouterSet implements RouterSet {
  readonly entries: RouterEntry[];
  readonly topology = {};
  private readonly now: RouterStatus[];
  private readonly listeners = new Set<() => void>();
  constructor(routers: Array<{ name: string; key: string; controller: FakeController }>) {
    this.entries = routers.map((r) => ({ key: r.key, name: r.name, controller: r.controller }));
    this.now = routers.map((r) => ({ routerKey: r.key, label: r.name, snapshot: null, state: 'down', link: 'connecting', reason: 'connecting' }));
  }
  up(index: number, snapshot: Snapshot): void {
    this.set(index, { snapshot, state: 'up', link: 'up' });
  }
  down(index: number, reason: string): void {
    this.set(index, { snapshot: null, state: 'down', link: 'down', reason });
  }
  private set(index: number, status: Partial<RouterStatus>): void {
    const { reason: _old, ...rest } = this.now[index]!;
    this.now[index] = { ...rest, ...status } as RouterStatus;
    for (const l of [...this.listeners]) l();
  }
  statuses(): RouterStatus[] {
    return this.now.map((s) => ({ ...s }));
  }
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }
}

function twoRouters() {
  const home = new FakeController({ label: '198.51.100.1:23 over telnet' });
  const office = new FakeController({ label: '198.51.100.2:23 over telnet' });
  const set = new FakeRouterSet([
    { name: 'home', key: '198.51.100.1:23', controller: home },
    { name: 'office', key: '198.51.100.2:23', controller: office },
  ]);
  return { home, office, set };
}

function start(set: FakeRouterSet, first: FakeController) {
  const exits: number[] = [];
  const t = renderInTerminal(<App controller={first} routers={set} isColor={false} now={() => NOW} onExit={(code) => exits.push(code)} />, { columns: 120, rows: 30 });
  return { t, exits };
}

const homeSnapshot = () =>
  makeSnapshot([host('192.168.1.10', { hostname: 'laptop', downBytes: 1_000_000, upBytes: 200_000, downBps: 5000, upBps: 1000 }), host('192.168.1.11', { hostname: 'tv', downBytes: 3_000_000, upBytes: 10_000, downBps: 9000, upBps: 100 })], { atMs: NOW - 500 });
const officeSnapshot = () => makeSnapshot([host('10.0.0.5', { hostname: 'printer', downBytes: 2_000_000, upBytes: 400_000, downBps: 2000, upBps: 300 })], { atMs: NOW - 800 });

test('multi: the app starts at the menu with each router\'s state, and live usage is one combined table', async () => {
  const { home, office, set } = twoRouters();
  const { t, exits } = start(set, home);
  await t.waitFor('2 routers: home … connecting · office … connecting');
  set.up(0, homeSnapshot());
  set.up(1, officeSnapshot());
  await t.waitFor('2 routers: home ● up · office ● up');
  await t.press('2');
  const frame = await t.waitFor('TOTAL (2 routers up)');
  assert.match(frame, /Live usage · all routers · 2 of 2 up/);
  assert.match(frame, /ROUTER\s+NAME\s+IP/);
  assert.match(frame, /^home\s+tv\s+192\.168\.1\.11\s.*3\.00 MB/m);
  assert.match(frame, /^home\s+laptop\s+192\.168\.1\.10\s.*1\.00 MB\s+200 kB/m);
  assert.match(frame, /^home\s+subtotal \(2 hosts\)\s.*4\.00 MB\s+210 kB/m);
  assert.match(frame, /^office\s+printer\s+10\.0\.0\.5\s.*2\.00 MB\s+400 kB/m);
  assert.match(frame, /^office\s+subtotal \(1 host\)\s.*2\.00 MB\s+400 kB/m);
  // Each byte once: 4 MB + 2 MB down, 210 kB + 400 kB up.
  assert.match(frame, /TOTAL \(2 routers up\)\s.*6\.00 MB\s+610 kB/);
  assert.match(frame, /r next view/);
  await t.press('q');
  await t.waitFor('❯ 2 Live usage');
  await t.press('q');
  assert.deepEqual(exits, [0]);
  home.verify();
  office.verify();
});

test('multi: r cycles combined → router 1 → router 2 → combined; each router\'s view is its own live screen', async () => {
  const { home, office, set } = twoRouters();
  home.expectWatch();
  office.expectWatch();
  set.up(0, homeSnapshot());
  set.up(1, officeSnapshot());
  const { t } = start(set, home);
  await t.press('2');
  await t.waitFor('TOTAL (2 routers up)');
  await t.press('r');
  await t.waitFor('home 1/2 · 198.51.100.1:23 over telnet · r next view');
  await until(() => home.activeWatches === 1, 'home\'s live screen to subscribe');
  home.emit(homeSnapshot());
  await t.waitFor('▶ tv');
  await t.press('r');
  await t.waitFor('office 2/2 · 198.51.100.2:23 over telnet');
  await until(() => home.activeWatches === 0 && office.activeWatches === 1, 'the view to move to office');
  office.emit(officeSnapshot());
  await t.waitFor('▶ printer');
  await t.press('?');
  await t.waitFor("r                   next view: all routers combined → each router's own live usage → combined");
  await t.press('?');
  await t.press('r');
  await t.waitFor('Live usage · all routers');
  await until(() => office.activeWatches === 0, 'the combined view to stop office\'s live screen');
  home.verify();
  office.verify();
});

test('multi: a menu action asks which router first (Esc back), and opens on the one picked', async () => {
  const { home, office, set } = twoRouters();
  office.expectListHosts([discovered('10.0.0.5', { hostname: 'printer' })]);
  set.up(0, homeSnapshot());
  set.down(1, 'timed out');
  const { t } = start(set, home);
  await t.waitFor('❯ 1 Connected devices');
  await t.press('1');
  let frame = await t.waitFor('Which router? · for Connected devices');
  assert.match(frame, /❯ 1 home\s+● up\s+198\.51\.100\.1:23 over telnet/);
  assert.match(frame, /  2 office\s+✗ down \(timed out\)/);
  await t.press(KEY.escape);
  await t.waitFor('❯ 1 Connected devices');
  await t.press('1');
  await t.waitFor('Which router?');
  await t.press(KEY.down);
  await t.waitFor('❯ 2 office');
  await t.press(KEY.enter);
  frame = await t.waitFor('Router reports 1 active device');
  assert.match(frame, /^office · 198\.51\.100\.2:23 over telnet · router 2 of 2$/m);
  await t.press('q');
  await t.waitFor('❯ 1 Connected devices');
  home.verify();
  office.verify();
});

test('multi: a router that is down is a line saying why (sanitised) while the other\'s rows keep coming, and its own view says so', async () => {
  const { home, office, set } = twoRouters();
  set.up(0, homeSnapshot());
  set.down(1, 'login failed: \u001b[31mEVIL\u001b[0m\u0007 banner');
  const { t } = start(set, home);
  await t.press('2');
  let frame = await t.waitFor('TOTAL (1 router up)');
  assert.match(frame, /Live usage · all routers · 1 of 2 up/);
  assert.match(frame, /office ✗ down \(login failed: .*EVIL.* banner\)/);
  assert.match(frame, /^office: down \(login failed: .*EVIL.* banner\)$/m);
  assert.ok(!frame.includes('\u001b[31m') && !frame.includes('\u0007'), 'no escape sequence from the router reaches the terminal');
  assert.match(frame, /TOTAL \(1 router up\)\s.*4\.00 MB/);
  // The other router polls on: its new numbers replace the old.
  set.up(0, makeSnapshot([host('192.168.1.10', { hostname: 'laptop', downBytes: 7_000_000, upBytes: 200_000, downBps: 5000, upBps: 1000 })], { atMs: NOW - 100 }));
  frame = await t.waitFor((f) => /TOTAL \(1 router up\)\s.*7\.00 MB/.test(f));
  assert.match(frame, /^home\s+laptop\s.*7\.00 MB/m);
  // office's own view says it is down, and why.
  home.expectWatch();
  office.expectWatch();
  await t.press('r', 'r');
  frame = await t.waitFor('office 2/2 · 198.51.100.2:23 over telnet · r next view · ✗ down (login failed:');
  assert.ok(!frame.includes('\u001b[31m'));
  await t.press('r');
  await t.waitFor('Live usage · all routers');
  home.verify();
  office.verify();
});
