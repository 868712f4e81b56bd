// The app's users-mode controller (issue 18) on a scripted gateway (users-gateway-fake.test.ts: the
// auth log, ss, ps and the emulator's iptables): users are the rows with the bytes their sessions'
// rules counted, lantop's own login is left out, an ended session keeps its bytes, the history
// holds the users' totals under the users key, teardown and setup plan and apply the users chain,
// and a failed poll shows the lost line and recovers. Every controller is closed in `finally`.
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Snapshot } from '../domain/snapshot.js';
import { HistoryStore } from '../store/history-store.js';
import { FakeUsersGateway, GATEWAY_IP, gatewayServices, snapshotWhere } from './users-gateway-fake.test.js';
import { UsersController } from './users-controller.js';
import type { QuotaEnforcer } from './quota-enforcer.js';

process.env.TZ = 'UTC';
let dir = '';

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lantop-users-controller-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const rows = (s: Snapshot) => s.hosts.map((h) => [h.identity, h.hostname, h.downBytes, h.upBytes]);
const row = (s: Snapshot, user: string) => s.hosts.find((h) => h.identity === `user:${user}`);

describe('UsersController', () => {
  test('users as rows with exact bytes; an ended session keeps its bytes; history, teardown and setup', async () => {
    const gateway = new FakeUsersGateway();
    gateway.login('alice', '203.0.113.10', 37680, 2001);
    gateway.login('_-odd-name$', '203.0.113.11', 39360, 2002);
    const services = gatewayServices(gateway, join(dir, 'h.sqlite'));
    const store = services.openHistory();
    const controller = new UsersController({ services, store, intervalMs: 30 });
    try {
      assert.deepEqual(controller.subjectNoun, { one: 'user', many: 'users' });
      await controller.connect();
      await snapshotWhere(controller, (s) => s.hosts.length === 2);
      gateway.count(2001, 100_780, 5_808);
      gateway.count(2002, 7_464, 30_616);
      const counted = await snapshotWhere(controller, (s) => row(s, 'alice')?.downBytes === 100_780 && row(s, '_-odd-name$')?.upBytes === 30_616);
      assert.deepEqual(rows(counted), [
        ['user:_-odd-name$', '_-odd-name$ (1 session)', 7_464, 30_616],
        ['user:alice', 'alice (1 session)', 100_780, 5_808],
      ]);
      assert.equal(counted.connection.kind, 'connected');
      assert.ok(counted.notices.some((n) => n.text === "lantop's own login (198.51.100.7 port 50022) is not counted"), JSON.stringify(counted.notices));

      const hosts = await controller.listHosts();
      assert.deepEqual(hosts.map((h) => [h.identity, h.ip, h.hostname, h.isCounted]), [
        ['user:_-odd-name$', '203.0.113.11', '_-odd-name$', true],
        ['user:alice', '203.0.113.10', 'alice', true],
        ['user:root', '198.51.100.7', 'root', false],
      ]);

      // alice's last bytes, then she logs out: her rules go, her bytes stay.
      gateway.count(2001, 1_000, 0);
      gateway.logout(2001);
      const ended = await snapshotWhere(controller, (s) => row(s, 'alice')?.hostname === 'alice (0 sessions)');
      assert.deepEqual(rows(ended).find((r) => r[0] === 'user:alice'), ['user:alice', 'alice (0 sessions)', 101_780, 5_808]);
      assert.ok(!gateway.rules().includes('pid:2001 '), gateway.rules());

      const history = await controller.history('today');
      assert.deepEqual(history.rows.map((r) => [r.identity, r.hostname, r.downBytes, r.upBytes]).sort(), [
        ['user:_-odd-name$', '_-odd-name$', 7_464, 30_616],
        ['user:alice', 'alice', 101_780, 5_808],
      ]);
      assert.deepEqual(history.totals, { downBytes: 109_244, upBytes: 36_424 });
      assert.ok(history.chart && history.chart.total.down.some((v) => (v ?? 0) > 0));
      const own = await controller.history('today', { identity: 'user:alice' });
      assert.equal(own.chart?.device?.name, 'alice');

      const teardown = await controller.plan('teardown');
      assert.ok(teardown.commands.includes('iptables -X LANTOP_USERS'), teardown.commands.join('\n'));
      const removed = await controller.apply(teardown);
      assert.deepEqual([removed.failed, removed.isVerified], [null, true]);
      assert.ok(!gateway.rules().includes('LANTOP_USERS'), gateway.rules());
      // Paused: the polls after it put nothing back.
      await snapshotWhere(controller, (s) => s.notices.some((n) => n.text.startsWith('counting is paused')));
      assert.ok(!gateway.rules().includes('LANTOP_USERS'), gateway.rules());

      const setup = await controller.plan('setup');
      assert.ok(setup.commands.includes('iptables -N LANTOP_USERS'), setup.commands.join('\n'));
      assert.ok(setup.commands.some((c) => c.includes("'pid:2002 user:_-odd-name$'")), setup.commands.join('\n'));
      const applied = await controller.apply(setup);
      assert.deepEqual([applied.failed, applied.isVerified], [null, true]);
      assert.match(gateway.rules(), /-A LANTOP_USERS -s 203\.0\.113\.11\/32 .*pid:2002 user:_-odd-name\$/);
      // The totals go on across the pause.
      const after = await snapshotWhere(controller, (s) => !s.notices.some((n) => n.text.startsWith('counting is paused')));
      assert.equal(row(after, 'alice')?.downBytes, 101_780);
    } finally {
      await controller.close();
      store.close();
    }
    assert.equal(gateway.isClosed, true);
    assert.deepEqual(gateway.unexpected, []);
  });

  test('a failed poll shows the lost line with the last totals, and the next poll recovers', async () => {
    const gateway = new FakeUsersGateway();
    gateway.login('alice', '203.0.113.10', 37680, 2001);
    const services = gatewayServices(gateway, join(dir, 'h.sqlite'));
    const controller = new UsersController({ services, store: null, intervalMs: 30 });
    try {
      await controller.connect();
      await snapshotWhere(controller, (s) => s.hosts.length === 1);
      gateway.count(2001, 5_000, 700);
      await snapshotWhere(controller, (s) => row(s, 'alice')?.downBytes === 5_000);
      gateway.failingPolls = 2;
      const down = await snapshotWhere(controller, (s) => s.connection.kind !== 'connected');
      assert.equal(down.connection.kind, 'reconnecting');
      assert.match(down.notices.at(-1)?.text ?? '', /^poll failed: connection reset by peer \(trying again\)$/);
      assert.deepEqual(rows(down), [['user:alice', 'alice (1 session)', 5_000, 700]]);
      assert.equal(row(down, 'alice')?.downBps, 0);
      gateway.count(2001, 1_000, 0);
      const back = await snapshotWhere(controller, (s) => s.connection.kind === 'connected' && row(s, 'alice')?.downBytes === 6_000);
      assert.equal(row(back, 'alice')?.upBytes, 700);
      await assert.rejects(controller.history('today'), /no database/);
    } finally {
      await controller.close();
    }
    assert.deepEqual(gateway.unexpected, []);
  });

  test('without deny over quota: no quotas, and block says it is not set up; with an enforcer: it is asked', async () => {
    const gateway = new FakeUsersGateway();
    gateway.login('alice', '203.0.113.10', 37680, 2001);
    const services = gatewayServices(gateway, join(dir, 'h.sqlite'));
    const store = HistoryStore.open({ path: join(dir, 'h.sqlite'), hostname: 'test', autoPrune: false });
    const plain = new UsersController({ services, store, intervalMs: 60_000 });
    try {
      assert.deepEqual(await plain.quotas(), { quotas: [], subjects: [], blocks: [], audit: [] });
      const said = await plain.blockDevice('user:alice', 60_000);
      assert.equal(said.isDone, false);
      assert.match(said.message, /not set up/);
      assert.equal((await plain.unblockDevice('user:alice')).isDone, false);
      await assert.rejects(plain.connections(), /not shown in users mode/);
    } finally {
      await plain.close();
    }
    const calls: string[] = [];
    const enforcer = {
      afterPoll: (s: Snapshot, isWriter: boolean) => void calls.push(`afterPoll ${s.hosts.map((h) => h.hostname).join(',')} ${isWriter}`),
      decorate: (s: Snapshot) => ({ ...s, hosts: s.hosts.map((h) => ({ ...h, blockedUntilMs: 123 })) }),
      blockByHand: async (identity: string, ms: number) => ({ isDone: true, message: `blocked ${identity} for ${ms}` }),
      unblockByHand: async (identity: string) => ({ isDone: true, message: `unblocked ${identity}` }),
      close: () => void calls.push('close'),
      idle: async () => undefined,
    } as unknown as QuotaEnforcer;
    const gateway2 = new FakeUsersGateway();
    gateway2.login('alice', '203.0.113.10', 37680, 2001);
    const withEnforcer = new UsersController({ services: gatewayServices(gateway2, join(dir, 'h.sqlite')), store, intervalMs: 30, makeEnforcer: (parts) => (calls.push(`make ${parts.routerKey}`), enforcer) });
    try {
      const decorated = await snapshotWhere(withEnforcer, (s) => s.hosts.length === 1);
      assert.equal(decorated.hosts[0]!.blockedUntilMs, 123);
      assert.deepEqual(await withEnforcer.blockDevice('user:alice', 60_000), { isDone: true, message: 'blocked user:alice for 60000' });
      assert.deepEqual(await withEnforcer.unblockDevice('user:alice'), { isDone: true, message: 'unblocked user:alice' });
    } finally {
      await withEnforcer.close();
      store.close();
    }
    // The raw users (not the table's "(1 session)" names) go to the enforcer; this process records.
    assert.equal(calls[0], `make users@${GATEWAY_IP}:22`);
    assert.ok(calls.includes('afterPoll alice true'), calls.join('\n'));
    assert.equal(calls.at(-1), 'close');
  });
});
