// tsconfig.json excludes tests, so tsx compiles them with the classic JSX runtime: React must be in scope.
import '../../../test/helpers/no-ci.js';
import React from 'react';
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { connection, connectionsView, Deferred, FakeController } from '../../../test/fakes/fake-controller.js';
import { cleanupTerminals, KEY, renderInTerminal, settle, until } from '../../../test/fakes/fake-terminal.js';
import { RouterError } from '../../errors.js';
import type { ConnectionsView } from '../../domain/connection-model.js';
import { ThemeProvider } from '../theme.js';
import { ConnectionsScreen } from './connections-screen.js';

afterEach(cleanupTerminals);

const ID = '02:00:00:00:00:10';
const COMMAND = 'sysctl -w net.netfilter.nf_conntrack_acct=1';
const POLL_MS = 40;

function mount(fake: FakeController, columns = 80, rows = 24) {
  let backs = 0;
  const t = renderInTerminal(
    <ThemeProvider isColor={false}>
      <ConnectionsScreen controller={fake} identity={ID} name="laptop" isInputActive onBack={() => (backs += 1)} pollMs={POLL_MS} />
    </ThemeProvider>,
    { columns, rows },
  );
  return { t, backs: () => backs };
}

const lines = (frame: string) => frame.split('\n');
const fits = (frame: string, width: number) => {
  for (const line of lines(frame)) assert.ok([...line].length <= width, `fits ${width} columns: ${JSON.stringify(line)}`);
};

const busy = (): ConnectionsView =>
  connectionsView(
    ID,
    [
      connection('203.0.113.7', 443, { remoteName: 'cdn.example.net', service: 'https', downBytes: 52_000_000, upBytes: 1_200_000, downBps: 2_500_000, upBps: 40_000, ageMs: 125_000 }),
      connection('203.0.113.7', 443, { localPort: 50_001, remoteName: 'cdn.example.net', service: 'https', downBytes: 3_000_000, upBytes: 90_000, downBps: 10_000, upBps: 1_000, ageMs: 4_000 }),
      connection('203.0.113.9', 53, { protocol: 'udp', service: 'dns', downBytes: 900, upBytes: 300, ageMs: 1_000 }),
      connection('2001:db8::1:443', 443, { service: 'https', downBytes: 8_000_000, upBytes: 100_000, downBps: 900_000, upBps: 2_000, isOffloaded: true, ageMs: 3_700_000 }),
    ],
    { name: 'laptop', addresses: ['198.51.100.10', '2001:db8::10'] },
  );

test('connections at 80 columns: device and addresses, then remote (its name), port + service, bytes and rates, an OFFLOAD mark; lower columns dropped', async () => {
  const fake = new FakeController().expectConnections(ID, busy()).expectConnections(ID, busy());
  const { t } = mount(fake);
  const frame = await t.waitFor('cdn.example.net');
  assert.match(frame, /^Connections · laptop · 4 connections · every connection · sorted by bytes/m);
  assert.match(frame, /^laptop {2}198\.51\.100\.10, 2001:db8::10 · from \/proc\/net\/nf_conntrack/m);
  assert.match(frame, /^⚠ 1 offloaded \(OFFLOAD\): a fast path carries it; bytes undercounted\.$/m);
  const header = lines(frame).find((l) => l.startsWith('REMOTE')) ?? '';
  assert.match(header, /^REMOTE\s+PORT\s+↓BYTES▼\s+↑BYTES▼\s+↓RATE\s+↑RATE\s+OFFLOAD$/);
  for (const gone of ['AGE', 'PROTO', 'STATE', 'ADDRESS']) assert.ok(!header.includes(gone), `${gone} dropped at 80 columns`);
  const rows = lines(frame).slice(lines(frame).indexOf(header) + 1, -1).filter((l) => /\S/.test(l));
  // Busiest (by bytes) first; the offloaded one carries its mark.
  assert.match(rows[0]!, /^cdn\.example\.net\s+443 https\s+52\.0 MB\s+1\.20 MB\s+2\.50 MB\/s\s+40\.0 kB\/s$/);
  assert.match(rows[1]!, /^2001:db8::1:443\s+443 https\s+8\.00 MB\s+100 kB\s+900 kB\/s\s+2\.00 kB\/s\s+yes$/);
  assert.match(rows[3]!, /^203\.0\.113\.9\s+53 dns\s+900 B\s+300 B\s+0 B\/s\s+0 B\/s$/);
  assert.match(frame, /g group · s sort bytes\/rate · ↑↓ scroll · q\/Esc back/);
  fits(frame, 80);
  // Wide, the address, protocol, age and state come back.
  t.stdout.resize(160, 24);
  const wide = await t.waitFor((f) => f.includes('AGE'));
  assert.match(wide, /cdn\.example\.net\s+203\.0\.113\.7\s+443 https\s+tcp\s+52\.0 MB.*2m05s\s+ESTABLISHED/);
  assert.match(wide, /2001:db8::1:443\s+443 https\s+tcp.*1h01m\s+ESTABLISHED\s+yes/);
  t.unmount();
});

test('connections: g groups by remote, port, protocol; s sorts by rate; q and Esc go back', async () => {
  const fake = new FakeController();
  for (let i = 0; i < 200; i += 1) fake.expectConnections(ID, busy());
  const { t, backs } = mount(fake, 100);
  await t.waitFor('cdn.example.net');
  await t.press('g');
  let frame = await t.waitFor('by remote host');
  assert.match(frame, /^REMOTE\s+CONNS\s+↓BYTES▼/m);
  // A remote host group names the host and its address (the resolver's name, when it gave one).
  assert.match(frame, /^cdn\.example\.net \(203\.0\.113\.7\)\s+2\s+55\.0 MB\s+1\.29 MB\s+2\.51 MB\/s/m);
  await t.press('g');
  frame = await t.waitFor('by remote port');
  assert.match(frame, /^PORT\s+CONNS/m);
  assert.match(frame, /^tcp\/443 https\s+3\s+63\.0 MB/m);
  assert.match(frame, /^udp\/53 dns\s+1\s+900 B/m);
  await t.press('g');
  frame = await t.waitFor('by protocol');
  assert.match(frame, /^tcp\s+3\s/m);
  await t.press('s');
  frame = await t.waitFor('sorted by rate');
  assert.match(frame, /↓RATE▼\s+↑RATE▼/);
  await t.press('g');
  frame = await t.waitFor('every connection');
  // By rate the offloaded IPv6 connection (900 kB/s) comes before the second cdn one (10 kB/s).
  const order = lines(frame).filter((l) => /^(cdn|2001|203)/.test(l)).map((l) => l.split(/\s{2,}/)[0]);
  assert.deepEqual(order, ['cdn.example.net', '2001:db8::1:443', 'cdn.example.net', '203.0.113.9']);
  await t.press('q');
  await t.press(KEY.escape);
  assert.equal(backs(), 2);
  t.unmount();
});

test('connections poll about every pollMs, one request at a time, and stop when the screen goes', async () => {
  const first = new Deferred<ConnectionsView>();
  const fake = new FakeController().expectConnections(ID, first).expectConnections(ID, busy()).expectConnections(ID, busy());
  const { t } = mount(fake);
  await t.waitFor('Reading the connection table');
  await settle(POLL_MS * 3);
  assert.equal(fake.calls.filter((c) => c.method === 'connections').length, 1, 'no second read while the first is out');
  first.resolve(busy());
  await until(() => fake.pending.length === 0, 'two more reads');
  t.unmount();
  await settle(POLL_MS * 3);
  assert.equal(fake.calls.filter((c) => c.method === 'connections').length, 3, 'no read after leaving');
  fake.verify();
});

test('a failed read shows the error panel and keeps retrying; the next good read brings the table back', async () => {
  const fake = new FakeController()
    .expectConnections(ID, new RouterError('No connection table on this router.', 'Check that the firewall module is loaded.', { seen: 'cat: /proc/net/nf_conntrack: No such file' }))
    .expectConnections(ID, new RouterError('No connection table on this router.'))
    .expectConnections(ID, busy());
  for (let i = 0; i < 100; i += 1) fake.expectConnections(ID, busy());
  const { t } = mount(fake);
  let frame = await t.waitFor('No connection table on this router.');
  assert.match(frame, /✗ Router: No connection table on this router\./);
  assert.match(frame, /→ Check that the firewall module is loaded\./);
  assert.match(frame, /Trying again every 40 ms · [12] failed reads? in a row/);
  frame = await t.waitFor('cdn.example.net');
  assert.ok(!frame.includes('✗'), 'the error is gone');
  t.unmount();
});

test('accounting off: a clear line, no byte columns, A asks naming the command, y turns it on and says only new connections get bytes', async () => {
  const off = connectionsView(ID, [connection('203.0.113.7', 443, { service: 'https', downBytes: null, upBytes: null, ageMs: 61_000 })], { accounting: 'off', enableAccountingCommand: COMMAND });
  const fake = new FakeController().expectEnableConnectionAccounting({ isDone: true, message: 'Connection accounting is on.' });
  for (let i = 0; i < 200; i += 1) fake.expectConnections(ID, off);
  const { t } = mount(fake);
  let frame = await t.waitFor('does not account');
  assert.match(frame, /^⚠ The router does not account connections, so bytes are not shown\.$/m);
  assert.match(frame, /^ {2}Press A to turn connection accounting on \(only new connections get bytes\)\.$/m);
  const header = lines(frame).find((l) => l.startsWith('REMOTE')) ?? '';
  assert.match(header, /^REMOTE\s+PORT\s+PROTO\s+AGE\s+STATE$/);
  assert.match(frame, /^203\.0\.113\.7\s+443 https\s+tcp\s+1m01s\s+ESTABLISHED$/m);
  assert.match(frame, /A turn accounting on/);
  assert.ok(!frame.includes('sorted by'), 'no sort is claimed without bytes');
  await t.press('A');
  frame = await t.waitFor('y/n');
  assert.match(frame, /^Turn connection accounting on\? lantop will run this on the router \(y\/n\):$/m);
  assert.ok(lines(frame).includes(`  ${COMMAND}`), `names the exact command on a line of its own: ${frame}`);
  fits(frame, 80);
  await t.press('n');
  frame = await t.waitFor((f) => !f.includes('y/n'));
  assert.equal(fake.calls.filter((c) => c.method === 'enableConnectionAccounting').length, 0, 'n sends nothing');
  await t.press('A');
  await t.waitFor('y/n');
  await t.press('y');
  frame = await t.waitFor('Connection accounting is on.');
  assert.match(frame, /Only connections opened from now on get bytes/);
  fits(frame, 80);
  t.unmount();
  assert.equal(fake.calls.filter((c) => c.method === 'enableConnectionAccounting').length, 1);
});

test('hostile remote names, services and notes are stripped of escape sequences and never outgrow their column', async () => {
  const hostile = connectionsView(
    ID,
    [
      connection('203.0.113.66', 443, { remoteName: '\u001b[2J\u001b[31mevil\u001b[0m.example', service: 'ht\u001b]0;pwned\u0007tps', downBytes: 10 }),
      connection('203.0.113.67', 80, { remoteName: 'bell\u0007\r\nnewline\u202e' + 'x'.repeat(500), downBytes: 5 }),
    ],
    { name: 'lap\u001b[5mtop', notes: ['note \u001b[2Jwith\u0007 escapes'], addresses: ['198.51.100.10\u001b[31m'] },
  );
  const fake = new FakeController();
  for (let i = 0; i < 200; i += 1) fake.expectConnections(ID, hostile);
  const { t } = mount(fake);
  let frame = await t.waitFor('evil');
  const check = (f: string) => {
    const withoutSgr = f.replace(/\u001b\[[0-9;]*m/g, '');
    assert.ok(!/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/.test(withoutSgr), 'no control or escape characters');
    assert.ok(!f.includes('\u001b[31m') && !f.includes('\u001b[5m'), 'no SGR from the router');
    fits(f, 80);
  };
  check(frame);
  assert.match(frame, /^evil\.example\s+443 https/m);
  assert.match(frame, /^bellnewlinex+…\s+80\s/m);
  assert.match(frame, /ℹ note with escapes/);
  assert.match(frame, /Connections · laptop · 2 connections/);
  await t.press('g');
  frame = await t.waitFor('by remote host');
  check(frame);
  assert.match(frame, /^evil\.example \(203\.0\.113\.66\)\s+1\s/m);
  t.unmount();
});
