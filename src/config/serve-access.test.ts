import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateServeToken, resolveServeToken, ServeAccessStore, SERVE_TOKEN_PATTERN } from './serve-access.js';
import { UsageError } from '../errors.js';

test('a generated token is 192 random bits in base64url', () => {
  const tokens = new Set(Array.from({ length: 50 }, generateServeToken));
  assert.equal(tokens.size, 50);
  for (const t of tokens) {
    assert.match(t, /^[A-Za-z0-9_-]{32}$/);
    assert.equal(Buffer.from(t, 'base64url').length, 24);
    assert.match(t, SERVE_TOKEN_PATTERN);
  }
});

test('the token is made once, kept in serve.json (0600), and replaced by --rotate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lantop-serve-access-'));
  try {
    const env = { LANTOP_CONFIG_DIR: dir };
    const store = new ServeAccessStore(env);
    assert.equal(store.token, null);
    assert.equal(resolveServeToken(env), null);
    const made = store.ensure();
    assert.equal(made.isNew, true);
    assert.deepEqual(new ServeAccessStore(env).ensure(), { token: made.token, isNew: false });
    assert.equal(statSync(store.path).mode & 0o777, 0o600);
    assert.equal(JSON.parse(readFileSync(store.path, 'utf8')).token, made.token);
    assert.deepEqual(resolveServeToken(env), { token: made.token, source: 'config' });
    const rotated = store.ensure({ rotate: true });
    assert.notEqual(rotated.token, made.token);
    assert.equal(new ServeAccessStore(env).token, rotated.token);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('LANTOP_SERVE_TOKEN overrides the file, and must look like a token', () => {
  const env = { LANTOP_SERVE_TOKEN: 'a'.repeat(30) };
  assert.deepEqual(resolveServeToken(env, () => assert.fail('the file is not read')), { token: 'a'.repeat(30), source: 'env' });
  for (const bad of ['short', 'has space in it and is long enough', 'x'.repeat(300)]) assert.throws(() => resolveServeToken({ LANTOP_SERVE_TOKEN: bad }, () => ({ token: null })), UsageError, bad);
  assert.equal(resolveServeToken({ LANTOP_SERVE_TOKEN: '' }, () => ({ token: null })), null, 'empty: unset');
});
