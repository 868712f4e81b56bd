// The users-mode exposition (issue 18): a series per user labelled router and user, totals as
// counters, rates and live sessions as gauges; a valid but odd login name comes out as it is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createUsersMetrics } from './prometheus-users.js';
import type { UserUsage } from '../domain/user-usage.js';

const user = (name: string, down: number, up: number, downBps: number, upBps: number, live: number): UserUsage => ({ user: name, downBytes: down, upBytes: up, downBps, upBps, liveSessions: live, sessions: [] });

test('per-user counters and gauges, labelled router and user', async () => {
  const metrics = createUsersMetrics();
  metrics.update('users@gw:22', 1_700_000_000_000, [user('alice', 100780, 5808, 1234.6, 10.2, 1), user('_-odd-name$', 7, 3, 0, 0, 2)]);
  const text = await metrics.registry.metrics();
  const lines = text.split('\n');
  for (const line of [
    'lantop_user_download_bytes_total{router="users@gw:22",user="alice"} 100780',
    'lantop_user_upload_bytes_total{router="users@gw:22",user="alice"} 5808',
    'lantop_user_download_bytes_per_second{router="users@gw:22",user="alice"} 1235',
    'lantop_user_upload_bytes_per_second{router="users@gw:22",user="alice"} 10',
    'lantop_user_sessions{router="users@gw:22",user="alice"} 1',
    'lantop_user_download_bytes_total{router="users@gw:22",user="_-odd-name$"} 7',
    'lantop_user_sessions{router="users@gw:22",user="_-odd-name$"} 2',
    'lantop_users_last_poll_timestamp_seconds{router="users@gw:22"} 1700000000',
    '# TYPE lantop_user_download_bytes_total counter',
    '# TYPE lantop_user_sessions gauge',
  ]) assert.ok(lines.includes(line), `missing: ${line}\n${text}`);
});

test('a newer poll replaces the users; label text is sanitised and escaped', async () => {
  const metrics = createUsersMetrics();
  metrics.update('gw', 0, [user('alice', 1, 1, 0, 0, 1)]);
  metrics.update('gw', 1000, [user('bob\u001b[31m"x', 2, 2, 0, 0, 0)]);
  const text = await metrics.registry.metrics();
  assert.ok(!text.includes('alice'), text);
  assert.ok(!text.includes('\u001b'), text);
  assert.match(text, /lantop_user_download_bytes_total\{router="gw",user="bob[^"\n]*\\"x"\} 2/);
});
