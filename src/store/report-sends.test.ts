import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { useStoreDir, T0, DAY } from '../../test/store/history-harness.js';
import { LATEST_SCHEMA_VERSION } from './migrations.js';
import type { ReportSendKey } from './report-sends.js';

const tmp = useStoreDir();
const key: ReportSendKey = { schedule: 'daily', routerKey: '198.51.100.1:23', startMs: T0, endMs: T0 + DAY };
const claim = (holder: string, nowMs: number) => ({ scheduleId: 1, holder, nowMs, staleMs: 3_600_000 });

test('two claims of one period (two handles on one file): exactly one wins, and the sent row survives a reopen', () => {
  assert.ok(LATEST_SCHEMA_VERSION >= 8);
  const a = tmp.open();
  const b = tmp.open();
  try {
    const won = a.reports.claim(key, claim('a', T0 + DAY + 300_000));
    assert.equal(won?.status, 'sending');
    assert.equal(won?.claimedBy, 'a');
    assert.equal(b.reports.claim(key, claim('b', T0 + DAY + 300_001)), null);
    // Another router or another period is a claim of its own.
    assert.ok(b.reports.claim({ ...key, routerKey: 'other:23' }, claim('b', T0 + DAY)));
    assert.ok(b.reports.claim({ ...key, startMs: key.endMs, endMs: key.endMs + DAY }, claim('b', T0 + DAY)));
    // Only the holder records the outcome.
    assert.equal(b.reports.finish(won!.id, 'b', { status: 'sent', outcomes: [], nowMs: T0 + DAY + 400_000 }), false);
    assert.equal(a.reports.finish(won!.id, 'a', { status: 'sent', outcomes: [{ channel: '1', isOk: true, atMs: T0 + DAY + 400_000 }], nowMs: T0 + DAY + 400_000 }), true);
  } finally {
    a.close();
    b.close();
  }
  const again = tmp.open();
  try {
    const row = again.reports.get(key)!;
    assert.equal(row.status, 'sent');
    assert.equal(row.sentMs, T0 + DAY + 400_000);
    assert.deepEqual(row.outcomes, [{ channel: '1', isOk: true, atMs: T0 + DAY + 400_000 }]);
    // Sent stays sent, whoever asks and however late.
    assert.equal(again.reports.claim(key, claim('c', T0 + 30 * DAY)), null);
    assert.equal(again.reports.list({ schedule: 'daily' }).length, 3);
  } finally {
    again.close();
  }
});

test('a failed row is claimed again once its retry time has come; a dead claimant\'s row after staleMs', () => {
  const store = tmp.open();
  try {
    const first = store.reports.claim(key, claim('a', 1000))!;
    store.reports.finish(first.id, 'a', { status: 'failed', outcomes: [{ channel: '1', isOk: false, reason: 'refused', atMs: 1000 }], nowMs: 1000, nextTryMs: 5000 });
    assert.deepEqual(store.reports.due(4999, 3_600_000), []);
    assert.equal(store.reports.claim(key, claim('b', 4999)), null);
    assert.deepEqual(store.reports.due(5000, 3_600_000).map((r) => r.id), [first.id]);
    const retry = store.reports.claim(key, claim('b', 5000))!;
    assert.equal(retry.rounds, 2);
    assert.equal(retry.claimedBy, 'b');
    // b "dies" while sending: nobody takes the row over before staleMs, then one does.
    assert.equal(store.reports.claim(key, claim('c', 5000 + 3_599_999)), null);
    const takeover = store.reports.claim(key, claim('c', 5000 + 3_600_000))!;
    assert.equal(takeover.claimedBy, 'c');
    assert.equal(takeover.rounds, 3);
    // b comes back: its claim is gone, it cannot record over c's.
    assert.equal(store.reports.finish(first.id, 'b', { status: 'sent', outcomes: [], nowMs: 9999 }), false);
    assert.ok(store.reports.finish(first.id, 'c', { status: 'gave-up', outcomes: [], nowMs: 9999 }));
    assert.equal(store.reports.claim(key, claim('d', 100 * DAY)), null);
  } finally {
    store.close();
  }
});

const CHILD = `
import { HistoryStore } from ${JSON.stringify(fileURLToPath(new URL('./history-store.ts', import.meta.url)))};
const [path, holder, startAt] = process.argv.slice(-3);
const store = HistoryStore.open({ path, hostname: 'testhost' });
while (Date.now() < Number(startAt)); // both children start claiming at the same moment
let won = [];
for (let i = 0; i < 2000; i++) {
  const row = store.reports.claim({ schedule: 'race', routerKey: 'r', startMs: i, endMs: i + 1 }, { scheduleId: 1, holder, nowMs: 1, staleMs: 1e9 });
  if (row) won.push(i);
}
store.close();
process.stdout.write(JSON.stringify(won));
`;

function runChild(path: string, holder: string, startAt: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD, path, holder, String(startAt)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as number[]) : reject(new Error(`child ${holder} exited ${code}: ${err}`))));
  });
}

test('two processes racing over 2000 periods: every period claimed exactly once', { timeout: 60_000 }, async () => {
  tmp.open().close(); // creates and migrates the file first
  const startAt = Date.now() + 4000;
  const [a, b] = await Promise.all([runChild(tmp.dbPath, 'a', startAt), runChild(tmp.dbPath, 'b', startAt)]);
  assert.equal(a.length + b.length, 2000, `a won ${a.length}, b ${b.length}`);
  assert.deepEqual([...a, ...b].sort((x, y) => x - y), Array.from({ length: 2000 }, (_, i) => i));
});
