// --max-bandwidth: counter jumps the line could not carry are discarded and reported, not counted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulatedRouter } from '../src/emulator/index.js';
import { runCliAsync } from './helpers/run-cli.js';

test('a 1 Mbit/s limit discards the emulator’s multi-MB/s deltas and says so; the default keeps them', async () => {
  const router = await startEmulatedRouter({ clock: 'real', churn: false, seed: 5 });
  const dir = mkdtempSync(join(tmpdir(), 'lantop-maxbw-'));
  try {
    const base = ['--host', router.host, '--port', String(router.port)];
    const env = { LANTOP_PASSWORD: router.password, LANTOP_CONFIG_DIR: join(dir, 'c') };
    assert.equal((await runCliAsync([...base, 'setup', '--yes'], { ...env, LANTOP_DB: join(dir, 'a.sqlite') })).code, 0);
    const limited = await runCliAsync([...base, '--max-bandwidth', '1', 'usage', '--json', '--count', '3', '--interval', '1000'], { ...env, LANTOP_DB: join(dir, 'b.sqlite') });
    assert.equal(limited.code, 0, limited.stderr);
    const l = JSON.parse(limited.stdout) as { totals: { downBytes: number }; notices: Array<{ text: string }> };
    assert.ok(l.notices.some((n) => /discard/i.test(n.text)), JSON.stringify(l.notices));
    const open = await runCliAsync([...base, 'usage', '--json', '--count', '3', '--interval', '1000'], { ...env, LANTOP_DB: join(dir, 'c.sqlite') });
    const o = JSON.parse(open.stdout) as { totals: { downBytes: number }; notices: Array<{ text: string }> };
    assert.ok(!o.notices.some((n) => /discard/i.test(n.text)));
    assert.ok(o.totals.downBytes > l.totals.downBytes, `${o.totals.downBytes} > ${l.totals.downBytes}`);
  } finally {
    await router.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
