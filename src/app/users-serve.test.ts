// `lantop --mode users serve` (issue 18) on loopback port 0, fed by the users poller on a scripted
// gateway (the lab's captured poll answer, as users-mode.test.ts): /metrics carries the users'
// bytes labelled `user`, /api/usage is the `usage --mode users --json` document, /healthz is up.
// The same answer with the user renamed to the odd but valid `_-odd-name$` shows that name as it is.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFixture } from '../../test/fixtures.js';
import { HistoryStore } from '../store/history-store.js';
import { usersHistoryKey } from '../domain/user-history.js';
import { reportJsonDocument } from './report-json.js';
import { UsersHistory } from './users-history.js';
import { UsersPoller } from './users-mode.js';
import { parseListen } from './serve.js';
import { startUsersServe, type UsersPollOnce } from './users-serve.js';

const NONCE = '0123456789ab';

function gatewayAnswer(user: string): string {
  const answer = readFixture('iptables/1.8.9-legacy/users-chain-poll-answer.txt').replace(`__LTUP_${NONCE}_self__\n\n`, `__LTUP_${NONCE}_self__\n203.0.113.11 39360 203.0.113.1 22\n`);
  return answer.replaceAll('alice', user);
}

/** One scripted poll (the log probe, the poll, the rule changes); a further command fails the test. */
function scriptedPoll(user: string, history: UsersHistory | null = null): UsersPollOnce {
  const steps = [
    { match: (c: string) => c.includes('[ -r /var/log/auth.log ]'), reply: 'LOG=/var/log/auth.log\n' },
    { match: (c: string) => c.includes('ss -tnpH state established'), reply: gatewayAnswer(user) },
    { match: (c: string) => c.includes('-D LANTOP_USERS 4'), reply: `__LTST_${NONCE}_a4__\n` },
  ];
  const poller = new UsersPoller({
    run: async (command) => {
      const step = steps.shift();
      assert.ok(step !== undefined && step.match(command), `unexpected command: ${command}`);
      return step.reply;
    },
    iptables: { command: 'iptables', binary: 'iptables' },
    ip6tables: { command: 'ip6tables', binary: 'ip6tables' },
    sshPort: 22,
    isSsh: true,
    clock: { now: () => 1_000 },
    router: 'gw:22',
    nonce: NONCE,
  });
  return async () => {
    history?.beforePoll(poller.accountant);
    const result = await poller.poll();
    history?.afterPoll(result.snapshot.atMs, result.deltas, poller.accountant);
    return { result, users: poller.accountant.users() };
  };
}

async function serving(pollOnce: UsersPollOnce, fn: (base: string) => Promise<void>, logs: string[] = [], store: HistoryStore | null = null) {
  const server = await startUsersServe({
    pollOnce,
    routerKey: 'gw:22',
    name: 'default',
    address: parseListen('127.0.0.1:0'),
    policy: { token: null, isLoopback: true },
    intervalMs: 600_000,
    clock: { now: () => 1_500 },
    log: (_level, text) => void logs.push(text),
    page: { html: '<!doctype html><title>live</title>', csp: "default-src 'none'" },
    ...(store !== null ? { reports: { report: (key, spec) => reportJsonDocument(store, usersHistoryKey(key), spec, 1_500), reportDocument: () => null } } : {}),
  });
  try {
    await fn(`http://127.0.0.1:${server.port}`);
  } finally {
    await server.close();
  }
}

describe('users-mode serve', () => {
  test('/metrics, /api/usage and /healthz from one users poll', async () => {
    await serving(scriptedPoll('alice'), async (base) => {
      const metrics = await fetch(`${base}/metrics`);
      assert.equal(metrics.status, 200);
      assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain/);
      const lines = (await metrics.text()).split('\n');
      for (const line of [
        'lantop_user_download_bytes_total{router="gw:22",user="alice"} 100780',
        'lantop_user_upload_bytes_total{router="gw:22",user="alice"} 5808',
        'lantop_user_sessions{router="gw:22",user="alice"} 1',
        'lantop_user_download_bytes_total{router="gw:22",user="bob"} 0',
        'lantop_user_sessions{router="gw:22",user="bob"} 0',
      ]) assert.ok(lines.includes(line), `missing: ${line}\n${lines.join('\n')}`);

      const usage = await fetch(`${base}/api/usage`);
      assert.equal(usage.status, 200);
      const doc = (await usage.json()) as { mode: string; hosts: Array<{ identity: string; downBytes: number; upBytes: number }>; users: Array<{ user: string; downBytes: number; sessions: number }>; excluded: unknown };
      assert.equal(doc.mode, 'users');
      assert.deepEqual(doc.hosts.map((h) => [h.identity, h.downBytes, h.upBytes]), [['user:alice', 100780, 5808], ['user:bob', 0, 0]]);
      assert.deepEqual(doc.users.map((u) => [u.user, u.downBytes, u.sessions]), [['alice', 100780, 1], ['bob', 0, 0]]);
      assert.deepEqual(doc.excluded, { self: { ip: '203.0.113.11', port: 39360 } });

      const health = await fetch(`${base}/healthz`);
      assert.equal(health.status, 200);
      assert.equal(((await health.json()) as { status: string }).status, 'ok');
      assert.equal((await fetch(`${base}/`)).status, 200);
      assert.equal((await fetch(`${base}/metrics`, { method: 'POST' })).status, 405);
    });
  });

  test('a valid odd user name `_-odd-name$` is labelled as it is', async () => {
    await serving(scriptedPoll('_-odd-name$'), async (base) => {
      const text = await (await fetch(`${base}/metrics`)).text();
      assert.ok(text.split('\n').includes('lantop_user_download_bytes_total{router="gw:22",user="_-odd-name$"} 100780'), text);
      const doc = (await (await fetch(`${base}/api/usage`)).json()) as { users: Array<{ user: string }> };
      assert.deepEqual(doc.users.map((u) => u.user), ['_-odd-name$', 'bob']);
    });
  });

  test('the poll is recorded under the users key; /api/report reads it back', async () => {
    const store = HistoryStore.open({ path: ':memory:', hostname: 'users-serve-test', autoPrune: false });
    const history = new UsersHistory(store, 'gw:22', { now: () => 1_000 });
    try {
      await serving(scriptedPoll('alice', history), async (base) => {
        const report = await fetch(`${base}/api/report?period=all`);
        assert.equal(report.status, 200);
        const text = await report.text();
        assert.match(text, /user:alice/, text);
        assert.match(text, /100780/, text);
      }, [], store);
    } finally {
      history.close();
      store.close();
    }
  });

  test('a failing poll: logged, /api/usage 503 and /healthz unhealthy until a poll works', async () => {
    const logs: string[] = [];
    await serving(async () => {
      throw new Error('connection lost\u001b[2J');
    }, async (base) => {
      assert.equal((await fetch(`${base}/api/usage`)).status, 503);
      assert.equal((await fetch(`${base}/healthz`)).status, 503);
      const text = await (await fetch(`${base}/metrics`)).text();
      assert.ok(!/lantop_user_download_bytes_total\{/.test(text), text);
    }, logs);
    assert.equal(logs.length, 1);
    assert.match(logs[0]!, /^poll failed: connection lost/);
    assert.ok(!logs[0]!.includes('\u001b'));
  });
});
