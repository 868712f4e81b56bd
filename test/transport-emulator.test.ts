// The session layer against the emulated router (src/emulator): real login dialogue, vendor CLI,
// BusyBox shell, and the emulator's own fault knobs (split writes, IAC interleaving, LF-only).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AuthError } from '../src/errors.js';
import { startEmulatedRouter, type EmulatedRouterOptions } from '../src/emulator/index.js';
import { connectTelnet } from '../src/transport/telnet.js';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

async function emulator(options: EmulatedRouterOptions) {
  const router = await startEmulatedRouter({ seed: 7, traffic: false, ...options });
  cleanups.push(() => router.close());
  return router;
}

async function login(router: { port: number; user: string; password: string }) {
  const session = await connectTelnet({ host: '127.0.0.1', port: router.port, user: router.user, password: router.password, connectTimeoutMs: 4000, commandTimeoutMs: 3000 });
  cleanups.push(() => session.close());
  return session;
}

describe('emulated router', () => {
  const variants: Array<[string, EmulatedRouterOptions]> = [
    ['plain', {}],
    ['split writes + IAC interleaving', { splitWrites: true, chunkDelayMs: 1, iacInterleave: true }],
    ['LF-only, no echo', { lineEnding: '\n', echo: false }],
  ];
  for (const [name, options] of variants) {
    test(`broadcom CLI (${name}): arp show, then sh and the ARP table`, async () => {
      const router = await emulator({ flavour: 'broadcom', ...options });
      const session = await login(router);
      assert.equal(session.mode, 'cli');
      const arp = await session.exec('arp show');
      assert.match(arp, /HW address/i);
      assert.ok(arp.split('\n').length >= 2, arp);
      await session.enterShell();
      assert.equal(session.mode, 'shell');
      const procArp = await session.exec('cat /proc/net/arp');
      assert.match(procArp, /^IP address\s+HW type/);
      assert.equal(await session.exec('cat /proc/net/arp'), procArp, 'replies are complete and stable');
    });
  }

  test('busybox flavour lands in the shell', async () => {
    const router = await emulator({ flavour: 'busybox' });
    const session = await login(router);
    assert.equal(session.mode, 'shell');
    assert.match(await session.exec('cat /proc/net/arp'), /^IP address/);
  });

  test('wrong password with refusal and next prompt in one write → AuthError', async () => {
    const router = await emulator({ flavour: 'broadcom', loginFailureOneWrite: true });
    await assert.rejects(
      connectTelnet({ host: '127.0.0.1', port: router.port, user: router.user, password: 'wrong', connectTimeoutMs: 8000, commandTimeoutMs: 2000 }),
      AuthError,
    );
  });
});
