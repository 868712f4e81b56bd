import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseListen, DEFAULT_LISTEN } from './serve.js';
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
