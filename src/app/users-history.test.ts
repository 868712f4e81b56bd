// Users-mode polls into the history database (issue 18): per-minute rows per user under the users
// key, the state that lets a restarted lantop go on (ended sessions kept, live ones not counted
// twice), and the report's rows read back.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../domain/clock.js';
import { UserAccountant, type SessionReading } from '../domain/user-usage.js';
import { usersHistoryKey } from '../domain/user-history.js';
import { HistoryStore } from '../store/history-store.js';
import { UsersHistory } from './users-history.js';

const reading = (id: string, user: string, downBytes: number, upBytes: number): SessionReading => {
  const [pid, clientIp, port] = id.split('/');
  return { id, user, pid: Number(pid), clientIp: clientIp!, clientPort: Number(port), downBytes, upBytes };
};
const A1 = '100/203.0.113.10/40000';
const A2 = '200/2001:db8::11/40001';
const B1 = '300/203.0.113.10/40002';
const T0 = Date.UTC(2026, 11, 4, 10, 0, 0);

/** One poll the way runUsersUsage does it: lease and state, the accountant, the record. */
function poll(history: UsersHistory, acc: UserAccountant, clock: FakeClock, readings: SessionReading[], live: string[]): void {
  history.beforePoll(acc);
  const deltas = acc.update(readings, new Set(live), clock.now());
  assert.equal(history.afterPoll(clock.now(), deltas, acc), true, 'recorded (this process is the writer)');
}

const totalsOf = (store: HistoryStore, key: string) => {
  const id = store.findRouter(key);
  assert.notEqual(id, null);
  const r = store.hostTotals(id!, T0 - 3_600_000, T0 + 86_400_000);
  return Object.fromEntries(r.hosts.map((h) => [h.identity, [h.downBytes, h.upBytes]]));
};

describe('users history', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lantop-users-history-'));
  const path = join(dir, 'history.sqlite');

  test('two polls recorded per user (sessions summed), read back as the report rows', () => {
    const clock = new FakeClock(T0);
    const store = HistoryStore.open({ path });
    try {
      const acc = new UserAccountant();
      const history = new UsersHistory(store, 'gw:22', clock);
      poll(history, acc, clock, [reading(A1, 'alice', 1000, 100), reading(A2, 'alice', 10, 1), reading(B1, 'bob', 50, 5)], [A1, A2, B1]);
      clock.advance(70_000);
      // A2 ends: read a last time, its rules go.
      poll(history, acc, clock, [reading(A1, 'alice', 3000, 200), reading(A2, 'alice', 30, 3), reading(B1, 'bob', 80, 8)], [A1, B1]);
      history.close();
      assert.deepEqual(totalsOf(store, usersHistoryKey('gw:22')), { 'user:alice': [3030, 203], 'user:bob': [80, 8] });
      assert.equal(store.findRouter('gw:22'), null, 'the devices key of the same gateway has no rows');
      const id = store.findRouter(usersHistoryKey('gw:22'))!;
      const r = store.hostTotals(id, T0, T0 + 3_600_000);
      assert.equal(r.hosts.find((h) => h.identity === 'user:alice')!.hostname, 'alice');
    } finally {
      store.close();
    }
  });

  test('a restart goes on from the stored state: the ended session stays, the live ones are not counted twice', () => {
    const clock = new FakeClock(T0 + 140_000);
    const store = HistoryStore.open({ path });
    try {
      const acc = new UserAccountant();
      const history = new UsersHistory(store, 'gw:22', clock);
      // The rules still hold the same counters (+ what moved while lantop was away).
      poll(history, acc, clock, [reading(A1, 'alice', 3500, 260), reading(B1, 'bob', 80, 8)], [A1, B1]);
      const [alice, bob] = acc.users();
      assert.deepEqual([alice!.downBytes, alice!.upBytes, alice!.liveSessions], [3530, 263, 1], 'her ended session (30, 3) is still in her total');
      assert.deepEqual(alice!.sessions.find((s) => s.id === A1)!.downBytes, 3500, 'the live session keeps its own bytes');
      assert.deepEqual([bob!.downBytes, bob!.upBytes], [80, 8]);
      history.close();
      assert.deepEqual(totalsOf(store, usersHistoryKey('gw:22')), { 'user:alice': [3530, 263], 'user:bob': [80, 8] });
    } finally {
      store.close();
    }
  });

  test('a second process is a reader: it shows the stored totals and records nothing', () => {
    const clock = new FakeClock(T0 + 200_000);
    const store = HistoryStore.open({ path });
    try {
      const writer = new UsersHistory(store, 'gw:22', clock);
      const wAcc = new UserAccountant();
      poll(writer, wAcc, clock, [reading(A1, 'alice', 3600, 260), reading(B1, 'bob', 80, 8)], [A1, B1]);
      const reader = new UsersHistory(store, 'gw:22', clock);
      const rAcc = new UserAccountant();
      reader.beforePoll(rAcc);
      assert.equal(reader.recorder.role, 'reader');
      const deltas = rAcc.update([reading(A1, 'alice', 3700, 260), reading(B1, 'bob', 80, 8)], new Set([A1, B1]), clock.now());
      assert.deepEqual(deltas.map((d) => [d.user, d.downBytes]), [['alice', 100]], 'from the stored baselines');
      assert.equal(reader.afterPoll(clock.now(), deltas, rAcc), false);
      writer.close();
      assert.deepEqual(totalsOf(store, usersHistoryKey('gw:22')), { 'user:alice': [3630, 263], 'user:bob': [80, 8] });
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
