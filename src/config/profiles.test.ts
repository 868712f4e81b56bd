import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { ProfileStore, obfuscatePassword, revealPassword } from './profiles.js';
import { UsageError } from '../errors.js';

test('profiles persist with mode 0600 and are validated', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lantop-conf-'));
  try {
    const store = new ProfileStore({ LANTOP_CONFIG_DIR: dir });
    store.update('home', { host: '198.51.100.1', port: 2323, protocol: 'ssh' });
    store.update('office', { host: '203.0.113.9' });
    const again = new ProfileStore({ LANTOP_CONFIG_DIR: dir });
    assert.deepEqual(again.get('home'), { host: '198.51.100.1', port: 2323, protocol: 'ssh' });
    assert.deepEqual(Object.keys(again.list()).sort(), ['home', 'office']);
    assert.equal(statSync(again.path).mode & 0o777, 0o600);
    assert.throws(() => again.update('home', { port: 70000 }), UsageError);
    assert.throws(() => again.update('home', { wan: 'ppp0;reboot' }), UsageError);
    assert.throws(() => again.update('../etc', { host: 'x' }), UsageError);
    assert.equal(again.get('home')?.port, 2323, 'a refused change leaves the profile as it was');
    assert.equal(again.remove('office'), true);
    assert.equal(again.remove('office'), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('saved passwords are obfuscated (and only that)', () => {
  const saved = obfuscatePassword('s3cret ü');
  assert.ok(!saved.includes('s3cret'));
  assert.equal(revealPassword(saved), 's3cret ü');
  assert.equal(revealPassword('plain'), null);
});
