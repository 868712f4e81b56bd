// Local mode's settings (issue 18): `--host local` or `--protocol local`, never a port, never
// another host; the password source asks nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { UsageError } from '../errors.js';
import { passwordSource, routerKey } from '../app/services.js';
import { routerLabel } from '../app/open-router.js';
import { LOCAL_HOST, resolveSettings } from './resolve.js';

test('--host local alone, --protocol local alone, and both, mean local mode on this machine', () => {
  for (const flags of [{ host: 'local' }, { protocol: 'local' }, { host: 'local', protocol: 'local' }]) {
    const s = resolveSettings(flags, {}, undefined, 'default');
    assert.equal(s.protocol, 'local');
    assert.equal(s.host, LOCAL_HOST);
    assert.equal(s.port, 0);
    assert.equal(routerKey(s), 'local');
    assert.equal(routerLabel(s), 'this machine (local)');
  }
  assert.equal(resolveSettings({}, { LANTOP_HOST: 'local' }, undefined, 'default').protocol, 'local');
  assert.equal(resolveSettings({}, {}, { protocol: 'local' }, 'gw').host, 'local');
});

test('a port, another host, or another protocol with host local is a usage error', () => {
  assert.throws(() => resolveSettings({ host: 'local', port: '22' }, {}, undefined, 'default'), (e: unknown) => e instanceof UsageError && /no port/.test(e.message));
  assert.throws(() => resolveSettings({ protocol: 'local' }, { LANTOP_PORT: '23' }, undefined, 'default'), /no port/);
  assert.throws(() => resolveSettings({ protocol: 'local', host: '198.51.100.1' }, {}, undefined, 'default'), /cannot be reached/);
  assert.throws(() => resolveSettings({ host: 'local', protocol: 'ssh' }, {}, undefined, 'default'), /not over ssh/);
  assert.throws(() => resolveSettings({ protocol: 'serial' }, {}, undefined, 'default'), /'telnet', 'ssh' or 'local'/);
});

test('local mode never asks for a password', async () => {
  const settings = resolveSettings({ host: 'local' }, {}, undefined, 'default');
  const stdin = new PassThrough();
  const stderr = new PassThrough();
  let said = '';
  stderr.on('data', (d: Buffer) => (said += d.toString()));
  const source = passwordSource({ env: {}, stdin: stdin as unknown as NodeJS.ReadStream, stderr: stderr as unknown as NodeJS.WriteStream }, settings, null);
  assert.equal(source.isKnown, true);
  assert.equal(await source.get(), '');
  assert.equal(said, '');
});
