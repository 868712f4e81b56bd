// --wan auto against the emulated router: the default route's interface, and a clear error when
// the router shows none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulatedRouter } from '../src/emulator/index.js';
import { openRouter, detectWan } from '../src/app/open-router.js';
import { resolveSettings } from '../src/config/resolve.js';
import { RouterError } from '../src/errors.js';
import type { Session } from '../src/transport/session.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCliAsync } from './helpers/run-cli.js';

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

test('doctor --wan auto reads the default route\'s interface (pppoe-wan on OpenWrt), as setup does', { timeout: 60_000 }, async () => {
  const router = await startEmulatedRouter({ flavour: 'openwrt-fw4', traffic: false, hostCount: 2, churn: false, seed: 3 });
  const dir = mkdtempSync(join(tmpdir(), 'lantop-doctor-wan-'));
  try {
    const env = { LANTOP_PASSWORD: router.password, LANTOP_CONFIG_DIR: join(dir, 'config'), LANTOP_DB: join(dir, 'history.sqlite') };
    const run = await runCliAsync(['doctor', '--json', '--transcript', join(dir, 't.txt'), '--host', router.host, '--port', String(router.port), '--user', router.user, '--wan', 'auto'], env, { timeoutMs: 45_000 });
    assert.equal(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout) as { wan: { interface: string } | null; problems: string[] };
    assert.equal(report.wan?.interface, 'pppoe-wan');
    assert.deepEqual(report.problems.filter((p) => /WAN|--wan/.test(p)), []);
  } finally {
    await router.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
