// tsconfig.json excludes tests, so tsx compiles them with the classic JSX runtime: React must be in scope.
import React from 'react';
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { Deferred, FakeController } from '../../../test/fakes/fake-controller.js';
import { cleanupTerminals, KEY, renderInTerminal } from '../../../test/fakes/fake-terminal.js';
import { AuthError, EXIT, RouterError, UnreachableError } from '../../errors.js';
import { ThemeProvider } from '../theme.js';
import { ConnectScreen } from './connect-screen.js';

afterEach(cleanupTerminals);

function mount(fake: FakeController, options: { needsPassword?: boolean; telnetWarning?: string } = {}) {
  const events = { connected: 0, quit: [] as number[], passwords: [] as string[] };
  const t = renderInTerminal(
    <ThemeProvider isColor={false}>
      <ConnectScreen
        controller={fake}
        needsPassword={options.needsPassword ?? false}
        onPassword={(pw) => events.passwords.push(pw)}
        telnetWarning={options.telnetWarning}
        isInputActive
        onConnected={() => (events.connected += 1)}
        onQuit={(code) => events.quit.push(code)}
      />
    </ThemeProvider>,
    { columns: 150 },
  );
  return { t, events };
}

test('connect: spinner with the router label and the telnet warning, then connected', async () => {
  const reply = new Deferred<void>();
  const fake = new FakeController().expectConnect(reply);
  const { t, events } = mount(fake);
  const frame = await t.waitFor('Connecting to 198.51.100.1 over telnet…');
  assert.match(frame, /⚠ Telnet is unencrypted/);
  assert.equal(events.connected, 0);
  reply.resolve();
  await t.waitFor('✓ Connected to 198.51.100.1 over telnet');
  assert.equal(events.connected, 1);
  fake.verify();
});

test('connect: ssh shows no telnet warning; a given warning text replaces the default', async () => {
  const ssh = mount(new FakeController({ protocol: 'ssh' }).expectConnect(new Deferred()));
  const frame = await ssh.t.waitFor('Connecting to 198.51.100.1 over ssh…');
  assert.ok(!frame.includes('unencrypted'));
  ssh.t.unmount();
  const telnet = mount(new FakeController().expectConnect(new Deferred()), { telnetWarning: 'telnet: clear text \u001b[31mwarning' });
  const warned = await telnet.t.waitFor('Connecting');
  assert.match(warned, /⚠ telnet: clear text warning/);
});

test('connect: unreachable shows the error and next step; r retries and succeeds', async () => {
  const fake = new FakeController()
    .expectConnect(new UnreachableError('Could not reach 198.51.100.1:23 (connection refused).', 'Check the address with --host.'))
    .expectConnect();
  const { t, events } = mount(fake);
  let frame = await t.waitFor('connection refused');
  assert.match(frame, /✗ Unreachable: Could not reach 198\.51\.100\.1:23 \(connection refused\)\./);
  assert.match(frame, /→ Check the address with --host\./);
  assert.match(frame, /r retry · q quit/);
  await t.press('r');
  frame = await t.waitFor('✓ Connected');
  assert.equal(events.connected, 1);
  fake.verify();
});

test('connect: quitting after a failure exits with that failure’s code', async () => {
  const fake = new FakeController().expectConnect(new UnreachableError('timed out'));
  const { t, events } = mount(fake);
  await t.waitFor('timed out');
  await t.press('q');
  assert.deepEqual(events.quit, [EXIT.unreachable]);
  fake.verify();
});

test('connect: the password prompt masks input, treats q and ? as text, and hands the password over', async () => {
  const fake = new FakeController().expectConnect(new AuthError('The router refused the password for admin.', 'Type it again.')).expectConnect();
  const { t, events } = mount(fake, { needsPassword: true });
  await t.waitFor('Password for 198.51.100.1 over telnet:');
  await t.press('s', '3', 'q', '?', 'x', KEY.backspace);
  let frame = await t.waitFor('••••');
  assert.match(frame, /Password for 198\.51\.100\.1 over telnet: ••••▌/);
  assert.ok(!frame.includes('s3q?'));
  assert.deepEqual(events.quit, []);
  await t.press(KEY.enter);
  // Wrong password: straight back to the prompt with the error above it.
  frame = await t.waitFor('refused the password');
  assert.match(frame, /✗ Login failed: The router refused the password for admin\./);
  assert.match(frame, /Password for .*: ▌/);
  await t.press('o', 'k', KEY.enter);
  await t.waitFor('✓ Connected');
  assert.deepEqual(events.passwords, ['s3q?', 'ok']);
  assert.equal(events.connected, 1);
  fake.verify();
});

test('connect: keys typed faster than the screen re-renders still submit the whole password', async () => {
  const fake = new FakeController().expectConnect();
  const { t, events } = mount(fake, { needsPassword: true });
  await t.waitFor('Password for');
  await t.press('');
  // Back to back, no waiting: each key must see the state the previous one produced.
  for (const key of ['h', 'u', 'n', 't', 'e', 'r', '2', KEY.enter]) t.stdin.write(key);
  await t.waitFor('✓ Connected');
  assert.deepEqual(events.passwords, ['hunter2']);
  fake.verify();
});

test('connect: Esc at the password prompt quits without connecting', async () => {
  const fake = new FakeController();
  const { t, events } = mount(fake, { needsPassword: true });
  await t.waitFor('Password for');
  await t.press(KEY.escape);
  assert.deepEqual(events.quit, [EXIT.ok]);
  fake.verify();
});

test('connect: an auth failure without a way to ask offers retry; router text in errors is sanitised', async () => {
  const fake = new FakeController().expectConnect(
    new RouterError('Unsupported firmware \u001b[2J\u001b]0;x\u0007', 'Try --firmware.', { seen: 'BusyBox v1.\u001b[31m2\u0007\nlogin: \u0008' }),
  );
  const { t } = mount(fake);
  const frame = await t.waitFor('Unsupported firmware');
  assert.ok(!/[\u0000-\u0009\u000b-\u001f]/.test(frame.replace(/\u001b\[[0-9;]*m/g, '')), 'no control characters');
  assert.match(frame, /The router said:\n {2}BusyBox v1\.2\n {2}login:/);
  assert.match(frame, /→ Try --firmware\./);
  fake.verify();
});
