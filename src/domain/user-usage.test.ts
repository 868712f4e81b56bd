// Per-user accounting from session counters (issue 18): first readings count from 0, ended sessions
// keep their bytes, a counter that goes down is a rule written again, rates per poll, the Snapshot.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { UserAccountant, usersSnapshot, type SessionReading } from './user-usage.js';

const reading = (id: string, user: string, downBytes: number, upBytes: number): SessionReading => {
  const [pid, clientIp, port] = id.split('/');
  return { id, user, pid: Number(pid), clientIp: clientIp!, clientPort: Number(port), downBytes, upBytes };
};
const A1 = '100/203.0.113.10/40000';
const A2 = '200/203.0.113.11/40001';
const B1 = '300/203.0.113.10/40002';

describe('UserAccountant', () => {
  test('sums sessions per user; an ended session keeps its bytes; a reset counts from 0', () => {
    const acc = new UserAccountant();
    acc.update([reading(A1, 'alice', 1000, 100), reading(B1, 'bob', 50, 5)], new Set([A1, B1]), 0);
    acc.update([reading(A1, 'alice', 3000, 200), reading(A2, 'alice', 10, 1), reading(B1, 'bob', 50, 5)], new Set([A1, A2, B1]), 2000);
    let [alice, bob] = acc.users();
    assert.deepEqual([alice!.user, alice!.downBytes, alice!.upBytes, alice!.liveSessions, alice!.downBps], ['alice', 3010, 201, 2, 2010 / 2]);
    assert.deepEqual([bob!.downBytes, bob!.upBytes, bob!.downBps], [50, 5, 0]);
    // A1 ends: read one last time (not live any more), then gone from the listing.
    acc.update([reading(A1, 'alice', 3500, 250), reading(A2, 'alice', 10, 1), reading(B1, 'bob', 50, 5)], new Set([A2, B1]), 4000);
    acc.update([reading(A2, 'alice', 10, 1), reading(B1, 'bob', 20, 2)], new Set([A2, B1]), 6000);
    [alice, bob] = acc.users();
    assert.deepEqual([alice!.downBytes, alice!.upBytes, alice!.liveSessions, alice!.sessions.length], [3510, 251, 1, 2]);
    assert.equal(alice!.sessions.find((s) => s.id === A1)!.endedMs, 4000);
    assert.deepEqual([bob!.downBytes, bob!.upBytes], [70, 7], 'counter below the last reading: the rule was written again');
  });

  test('the snapshot: one row per user, identity user:NAME, shares', () => {
    const acc = new UserAccountant();
    acc.update([reading(A1, 'alice', 300, 0), reading(B1, '_-odd-name$', 100, 0)], new Set([A1, B1]), 0);
    const s = usersSnapshot('gw:22', acc.users(), 0, { pollLatencyMs: 5, notices: [], connected: true });
    assert.deepEqual(s.hosts.map((h) => [h.identity, h.hostname, h.ip, h.downShare]), [['user:_-odd-name$', '_-odd-name$', '203.0.113.10', 0.25], ['user:alice', 'alice', '203.0.113.10', 0.75]]);
    assert.deepEqual(s.totals, { downBytes: 400, upBytes: 0, downBps: 0, upBps: 0 });
  });
});
