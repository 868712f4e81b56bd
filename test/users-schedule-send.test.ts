// `lantop --mode users schedule send` (issue 18): a scheduled report on the users history, through
// the built binary to an SMTP server on loopback. The history holds alice's and bob's bytes under
// the gateway's users key (as users-mode polls record them); `schedule list` works as in devices mode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCliAsync } from './helpers/run-cli.js';
import { startSmtpRecorder } from './helpers/smtp-recorder.js';
import { mimeParts } from './helpers/mime.js';
import { HistoryStore } from '../src/store/history-store.js';
import { usersAccountingResult, usersHistoryKey, usersStateToAccounting } from '../src/domain/user-history.js';

const D = Date.UTC(2026, 2, 9);
const H = 3_600_000;

function recordUsersHistory(path: string): void {
  const store = HistoryStore.open({ path, hostname: 'testhost' });
  try {
    const routerId = store.routerId(usersHistoryKey('198.51.100.1:22'), D);
    assert.ok(store.tryAcquireLease(routerId, { id: 'rec', pid: process.pid, hostname: 'testhost' }, D, 5 * 86_400_000).acquired);
    const users: Record<string, { downBytes: number; upBytes: number; down6Bytes: number; up6Bytes: number; ip: string; firstSeenMs: number; lastSeenMs: number }> = {};
    const poll = (atMs: number, deltas: Array<{ user: string; ip: string; downBytes: number; upBytes: number }>) => {
      for (const d of deltas) {
        const u = (users[d.user] ??= { downBytes: 0, upBytes: 0, down6Bytes: 0, up6Bytes: 0, ip: d.ip, firstSeenMs: atMs, lastSeenMs: atMs });
        u.downBytes += d.downBytes;
        u.upBytes += d.upBytes;
        u.lastSeenMs = atMs;
      }
      const result = usersAccountingResult(atMs, deltas.map((d) => ({ ...d, down6Bytes: 0, up6Bytes: 0 })));
      assert.ok(store.recordPoll(routerId, 'rec', result, usersStateToAccounting({ lastMs: atMs, users, sessions: [] }), 5 * 86_400_000));
    };
    poll(D + 9 * H, [{ user: 'alice', ip: '203.0.113.10', downBytes: 700_000, upBytes: 30_000 }]);
    poll(D + 10 * H, [{ user: 'alice', ip: '203.0.113.10', downBytes: 300_000, upBytes: 20_000 }, { user: 'bob', ip: '203.0.113.11', downBytes: 250_000, upBytes: 5_000 }]);
  } finally {
    store.close();
  }
}

test('schedule send in users mode reports the users\' day: per-user bytes in the mail, the HTML attached', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lantop-users-schedule-'));
  const smtp = await startSmtpRecorder({ disabledCommands: ['STARTTLS', 'AUTH'] });
  const db = join(dir, 'history.sqlite');
  const env = { LANTOP_CONFIG_DIR: dir, TZ: 'UTC' };
  const gw = ['--host', '198.51.100.1', '--port', '22', '--protocol', 'ssh', '--mode', 'users', '--db', db];
  try {
    recordUsersHistory(db);
    await runCliAsync(['alert', 'add', 'email', '--smtp', `smtp://127.0.0.1:${smtp.port}`, '--from', 'a@example.net', '--to', 'b@example.net'], env);
    const added = await runCliAsync([...gw, 'schedule', 'add', 'daily', '--every', 'daily', '--channel', '1'], env);
    assert.equal(added.code, 0, added.stderr);
    assert.match((await runCliAsync([...gw, 'schedule', 'list'], env)).stdout, /^daily {2}every daily/);
    const sent = await runCliAsync([...gw, 'schedule', 'send', 'daily', '--period', '2026-03-09'], env);
    assert.equal(sent.code, 0, sent.stderr);
    assert.match(sent.stderr, /users@198\.51\.100\.1:22/);
    assert.equal(smtp.mails.length, 1);
    const parts = mimeParts(smtp.mails[0]!.raw);
    const text = parts.find((p) => p.contentType === 'text/plain')!.body;
    assert.match(text, /Download: 1\.25 MB \(1250000 B\)/);
    assert.match(text, /alice/);
    assert.match(text, /bob/);
    assert.ok(parts.some((p) => p.filename === 'lantop-report-2026-03-09.html'));
  } finally {
    await smtp.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
