// `usage --mode users --csv --watch` (issue 18): one header, then a row per user per poll, the bytes
// the session's rules counted; on a scripted gateway (users-gateway-fake.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PassThrough } from 'node:stream';
import { FakeUsersGateway, gatewayServices } from './users-gateway-fake.test.js';
import { runUsersUsage } from './users-commands.js';

test('usage --mode users --csv --watch: the header once, a row per user per poll with its bytes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lantop-users-csv-'));
  try {
    const gateway = new FakeUsersGateway();
    gateway.login('alice', '203.0.113.10', 37680, 2001);
    const services = gatewayServices(gateway, join(dir, 'h.sqlite'));
    let out = '';
    (services.io.stdout as PassThrough).on('data', (d: Buffer) => (out += d.toString()));
    let err = '';
    (services.io.stderr as PassThrough).on('data', (d: Buffer) => (err += d.toString()));
    // Once the first poll has put the session's rules in, before the second poll (500 ms later).
    let isCounted = false;
    const timer = setInterval(() => {
      if (isCounted || !gateway.rules().includes('pid:2001')) return;
      isCounted = true;
      gateway.count(2001, 12_000, 900);
    }, 10);
    assert.equal(await runUsersUsage(services, { csv: true, watch: true, count: '3', interval: '500' }), 0);
    clearInterval(timer);
    await new Promise((r) => setImmediate(r));
    const lines = out.trim().split('\n');
    assert.equal(lines.filter((l) => l.startsWith('at,')).length, 1, out);
    // The first poll puts the rules in and knows no user yet: the header alone; then a row per poll.
    assert.equal(lines.length, 3, JSON.stringify(lines) + err);
    const last = lines.at(-1)!.split(',');
    assert.deepEqual([last[3], last[4], last[5], last.at(-1)], ['alice', '12000', '900', 'user:alice']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
