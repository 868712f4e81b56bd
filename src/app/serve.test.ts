import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createNoticePrinter, parseListen, DEFAULT_LISTEN, NOTICE_REPEAT_MS } from './serve.js';
import { FakeClock } from '../domain/clock.js';
import { UsageError } from '../errors.js';

test('--listen reads host:port, [v6]:port and :port, and knows loopback', () => {
  assert.deepEqual(parseListen(DEFAULT_LISTEN), { host: '127.0.0.1', port: 9464, isLoopback: true });
  assert.deepEqual(parseListen('[::1]:9100'), { host: '::1', port: 9100, isLoopback: true });
  assert.deepEqual(parseListen('localhost:0'), { host: 'localhost', port: 0, isLoopback: true });
  assert.deepEqual(parseListen('0.0.0.0:9464'), { host: '0.0.0.0', port: 9464, isLoopback: false });
  assert.deepEqual(parseListen(':9464'), { host: '0.0.0.0', port: 9464, isLoopback: false });
  assert.deepEqual(parseListen('[::]:9464'), { host: '::', port: 9464, isLoopback: false });
  assert.equal(parseListen('198.51.100.1:80').isLoopback, false);
});

test('--listen rejects what it cannot read', () => {
  for (const bad of ['', '9464', '127.0.0.1', '127.0.0.1:99999', '127.0.0.1:-1', '::1:9464', '[nothex]:1', 'a b:1', 'host;rm:1']) {
    assert.throws(() => parseListen(bad), UsageError, bad);
  }
});

test('notices: one sanitised line each on stderr, the same line not again within ten minutes', () => {
  const lines: string[] = [];
  const clock = new FakeClock(1_700_000_000_000);
  const print = createNoticePrinter((line) => lines.push(line), clock);
  print('198.51.100.1:23', { level: 'warn', text: 'quota 1 (laptop\u001b[2J\nrm -rf) reached 80 % of 1.00 GB' });
  print('198.51.100.1:23', { level: 'warn', text: 'quota 1 (laptop\u001b[2J\nrm -rf) reached 80 % of 1.00 GB' });
  print('198.51.100.2:23', { level: 'warn', text: 'quota 1 (laptop\u001b[2J\nrm -rf) reached 80 % of 1.00 GB' });
  print('198.51.100.1:23', { level: 'error', text: "could not read or lift the router's blocks: timeout" });
  print(null, { level: 'info', text: 'alert channel 1 (webhook) works again' });
  clock.advance(NOTICE_REPEAT_MS - 1);
  print('198.51.100.1:23', { level: 'error', text: "could not read or lift the router's blocks: timeout" });
  clock.advance(1);
  print('198.51.100.1:23', { level: 'error', text: "could not read or lift the router's blocks: timeout" });
  print('198.51.100.1:23', { level: 'info', text: 'x'.repeat(500) });
  assert.deepEqual(lines.slice(0, -1), [
    'warning: 198.51.100.1:23: quota 1 (laptoprm -rf) reached 80 % of 1.00 GB\n',
    'warning: 198.51.100.2:23: quota 1 (laptoprm -rf) reached 80 % of 1.00 GB\n',
    "error: 198.51.100.1:23: could not read or lift the router's blocks: timeout\n",
    'note: alert channel 1 (webhook) works again\n',
    "error: 198.51.100.1:23: could not read or lift the router's blocks: timeout\n",
  ]);
  assert.match(lines.at(-1)!, /^note: 198\.51\.100\.1:23: x{299}…\n$/, 'capped');
  for (const line of lines) assert.doesNotMatch(line.slice(0, -1), /[\u0000-\u001f]/);
});
