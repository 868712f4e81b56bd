// --wan auto against the emulated router: the default route's interface, and a clear error when
// the router shows none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulatedRouter } from '../src/emulator/index.js';
import { openRouter, detectWan } from '../src/app/open-router.js';
import { resolveSettings } from '../src/config/resolve.js';
import { RouterError } from '../src/errors.js';
import type { Session } from '../src/transport/session.js';

test('--wan auto finds ppp0 on the emulated router and counts on it', async () => {
  const router = await startEmulatedRouter({ traffic: false });
  try {
    const settings = resolveSettings({ host: router.host, port: router.port, wan: 'auto', timeout: 3000 }, {}, undefined, 't');
    const opened = await openRouter({ settings, password: router.password, isManaged: false });
    try {
      assert.equal(opened.client.wan, 'ppp0');
    } finally {
      await opened.session.close();
    }
  } finally {
    await router.close();
  }
});

test('no default route → RouterError naming --wan', async () => {
  const session: Session = { mode: 'shell', exec: async () => 'cat: can\'t open \'/proc/net/route\': No such file or directory\n', close: async () => {} };
  await assert.rejects(detectWan(session), (e: unknown) => e instanceof RouterError && e.nextStep !== undefined && e.nextStep.includes('--wan'));
});
