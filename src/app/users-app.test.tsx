// The app in users mode (issue 18): the devices app's frames on a UsersController over the scripted
// gateway (users-gateway-fake.test.ts). The menu and screens say "users"; the live screen lists the
// users with their sessions, the valid but odd `_-odd-name$` as it is; Connected users lists each
// user's session addresses; History has the users' totals. Not a terminal: one plain table and the pointer to the JSON command.
// tsconfig.json excludes tests, so tsx compiles them with the classic JSX runtime: React must be in scope.
import React from 'react';
import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { cleanupTerminals, KEY, renderInTerminal, settle } from '../../test/fakes/fake-terminal.js';
import { App } from '../ui/app.js';
import { FakeUsersGateway, gatewayServices } from './users-gateway-fake.test.js';
import { UsersController } from './users-controller.js';
import { plainUsersSnapshot } from './users-app.js';

let dir = '';
beforeEach(() => {
  delete process.env.CI;
  dir = mkdtempSync(join(tmpdir(), 'lantop-users-app-'));
});
afterEach(() => {
  cleanupTerminals();
  rmSync(dir, { recursive: true, force: true });
});

function gateway(): FakeUsersGateway {
  const g = new FakeUsersGateway();
  g.login('alice', '203.0.113.10', 37680, 2001);
  g.login('_-odd-name$', '203.0.113.11', 39360, 2002);
  return g;
}

test('users-mode app: the menu, the live screen and Connected users speak of users', async () => {
  const g = gateway();
  const services = gatewayServices(g, join(dir, 'h.sqlite'));
  const store = services.openHistory();
  const controller = new UsersController({ services, store, intervalMs: 50 });
  const exits: number[] = [];
  try {
    const t = renderInTerminal(<App controller={controller} isColor={false} now={() => Date.UTC(2026, 11, 4, 12)} onExit={(code) => exits.push(code)} />, { columns: 120, rows: 30 });
    await t.waitFor('❯ 1 Connected users', 5000);
    // The menu's keys are live once its effects ran (the connect screen hands over just before).
    await settle(100);
    await t.press('2');
    await t.waitFor((f) => f.includes('Live usage · 2 users') && f.includes('alice (1 session)'), 5000);
    g.count(2001, 100_780, 5_808);
    g.count(2002, 7_464, 30_616);
    const live = await t.waitFor((f) => f.includes('_-odd-name$ (1 session)') && /alice \(1 session\) .* 101 kB +5\.81 kB/.test(f), 5000);
    assert.match(live, /USER/);
    assert.ok(!live.includes('hosts'), live);
    await t.press(KEY.escape);
    await t.waitFor('❯ 2 Live usage');
    await t.press('1');
    const users = await t.waitFor('Router reports 3 active users', 5000);
    assert.match(users, /Connected users/);
    assert.match(users, /_-odd-name\$/);
    assert.match(users, /203\.0\.113\.10/);
    await t.press('q');
    await t.waitFor('❯ 1 Connected users');
    await t.press('5');
    const history = await t.waitFor((f) => f.includes('all users:') && f.includes('_-odd-name$'), 5000);
    assert.match(history, /· 2 users/);
    assert.match(history, /alice .*101 kB +5\.81 kB/);
    await t.press('q');
    await t.waitFor('❯ 5 History');
    await t.press('q');
    assert.deepEqual(exits, [0]);
  } finally {
    await controller.close();
    store.close();
  }
  assert.deepEqual(g.unexpected, []);
});

test('users-mode app without a terminal: the users table and the JSON pointer', async () => {
  const g = gateway();
  const services = gatewayServices(g, join(dir, 'h.sqlite'));
  const controller = new UsersController({ services, store: null, intervalMs: 30 });
  let out = '';
  let err = '';
  const stdout = new PassThrough().setEncoding('utf8');
  const stderr = new PassThrough().setEncoding('utf8');
  stdout.on('data', (d: string) => (out += d));
  stderr.on('data', (d: string) => (err += d));
  try {
    const code = await plainUsersSnapshot({ stdout: stdout as unknown as NodeJS.WriteStream, stderr: stderr as unknown as NodeJS.WriteStream }, controller);
    assert.equal(code, 0);
  } finally {
    await controller.close();
  }
  assert.match(out, /alice \(1 session\)/);
  assert.match(out, /_-odd-name\$ \(1 session\)/);
  assert.match(err, /lantop --mode users usage --json/);
});
