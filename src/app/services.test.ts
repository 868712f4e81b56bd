import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { resolveSettings, type GlobalFlags } from '../config/resolve.js';
import type { OpenRouter } from './open-router.js';
import { servicesOf } from './services.js';

test('withPassword: open() logs in with the new source (the app\'s own prompt), not the first one', async () => {
  const used: string[] = [];
  const settings = resolveSettings({ host: '198.51.100.1', port: 23 } as GlobalFlags, {}, undefined, 'default');
  const services = servicesOf({
    settings,
    profiles: null,
    // The first source would prompt on the terminal: here it fails the test if it is ever asked.
    password: { isKnown: false, get: async () => assert.fail('the original password source was asked') },
    io: { stdout: new PassThrough(), stderr: new PassThrough(), stdin: new PassThrough() },
    env: {},
    open: async (password) => {
      used.push(password);
      return { client: { customCounters: null } } as unknown as OpenRouter;
    },
  });
  const typed = services.withPassword({ isKnown: true, get: async () => 'typed-in-the-app' });
  await typed.open();
  assert.deepEqual(used, ['typed-in-the-app']);
  assert.equal(typed.key, services.key);
  assert.equal(typed.password.isKnown, true);
});
