// `teardown --mode users` takes a last reading before the rules go (issue 18): the bytes a session
// moved since the last poll are recorded in the users history, not lost with the chain. On a
// scripted gateway (users-gateway-fake.test.ts, the emulator's iptables).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HistoryStore } from '../store/history-store.js';
import { usersHistoryKey } from '../domain/user-history.js';
import { FakeUsersGateway, gatewayServices } from './users-gateway-fake.test.js';
import { runUsersTeardown, runUsersUsage } from './users-commands.js';

test('teardown --mode users records the bytes since the last poll, then the chain is gone', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lantop-users-teardown-'));
  try {
    const gateway = new FakeUsersGateway();
    gateway.login('alice', '203.0.113.10', 37680, 2001);
    const services = gatewayServices(gateway, join(dir, 'h.sqlite'));
    assert.equal(await runUsersUsage(services, { count: '1', json: true }), 0);
    gateway.count(2001, 50_000, 4_000);
    assert.equal(await runUsersUsage(services, { count: '1', json: true }), 0);
    // Bytes after the last usage poll: only teardown's last reading can record them.
    gateway.count(2001, 7_000, 600);
    assert.equal(await runUsersTeardown(services, { yes: true }), 0);
    assert.doesNotMatch(gateway.rules(), /LANTOP_USERS/);
    const store = HistoryStore.open({ path: join(dir, 'h.sqlite') });
    try {
      const id = store.findRouter(usersHistoryKey(services.key));
      assert.notEqual(id, null);
      const totals = store.hostTotals(id!, 0, Number.MAX_SAFE_INTEGER);
      assert.deepEqual(totals.hosts.map((h) => [h.identity, h.downBytes, h.upBytes]), [['user:alice', 57_000, 4_600]]);
    } finally {
      store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
