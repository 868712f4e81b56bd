// Users mode in the history writer's shapes (issue 18): per-user deltas with their IPv6 part, and
// the accountant's state through AccountingState and back.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { UserAccountant, type SessionReading } from './user-usage.js';
import { usersAccountingResult, usersHistoryKey, usersStateFromAccounting, usersStateToAccounting } from './user-history.js';

const reading = (id: string, user: string, downBytes: number, upBytes: number): SessionReading => {
  const [pid, clientIp, port] = id.split('/');
  return { id, user, pid: Number(pid), clientIp: clientIp!, clientPort: Number(port), downBytes, upBytes };
};
const A4 = '100/203.0.113.10/40000';
const A6 = '200/2001:db8::11/40001';

describe('user history shapes', () => {
  test('a poll: one delta row per user, sessions summed, the IPv6 part from IPv6 clients', () => {
    const acc = new UserAccountant();
    const deltas = acc.update([reading(A4, 'alice', 100, 10), reading(A6, 'alice', 40, 4), reading('300/203.0.113.12/40002', 'bob', 0, 0)], new Set([A4, A6]), 1000);
    const r = usersAccountingResult(1000, deltas);
    assert.deepEqual(r.deltas, [{ identity: 'user:alice', mac: null, ip: '203.0.113.10', hostname: 'alice', downBytes: 140, upBytes: 14 }]);
    assert.deepEqual(r.deltasByFamily.get('user:alice'), { down4Bytes: 100, up4Bytes: 10, down6Bytes: 40, up6Bytes: 4 });
    assert.equal(usersHistoryKey('gw:22'), 'users@gw:22');
  });

  test('the state round trip: totals with ended sessions, listed sessions with their counters', () => {
    const acc = new UserAccountant();
    acc.update([reading(A4, 'alice', 100, 10), reading(A6, 'alice', 40, 4)], new Set([A4, A6]), 1000);
    acc.update([reading(A4, 'alice', 150, 10)], new Set([A4]), 2000);
    const back = usersStateFromAccounting(JSON.parse(JSON.stringify(usersStateToAccounting(acc.exportState()))));
    assert.deepEqual(back.users['alice']!.downBytes, 190);
    assert.deepEqual(back.sessions.map((s) => [s.id, s.lastDown]), [[A4, 150]], 'the ended session is in the total only');
    const next = new UserAccountant();
    next.restore(back);
    const d = next.update([reading(A4, 'alice', 160, 12)], new Set([A4]), 3000);
    assert.deepEqual(d.map((x) => [x.downBytes, x.upBytes]), [[10, 2]]);
    assert.deepEqual([next.users()[0]!.downBytes, next.users()[0]!.upBytes], [200, 16]);
  });
});
