// Known bytes in a history file for the scheduled-report tests (src/app/report-scheduler.test.ts,
// test/report-schedule-cli.test.ts): router 198.51.100.1:23, two devices; on D = 2026-03-09 (UTC)
// they used 3 300 000 B down and 240 000 B up; the day before and the day after have bytes too.
import assert from 'node:assert/strict';
import { Accountant } from '../../src/domain/accounting.js';
import { HistoryStore } from '../../src/store/history-store.js';

export const MIN = 60_000;
export const D = Date.UTC(2026, 2, 9); // Monday 9 March 2026: "yesterday" once the clock passes midnight
export const at = (dayOffset: number, h: number, m = 0) => D + dayOffset * 86_400_000 + h * 3_600_000 + m * MIN;
export const ROUTER = { key: '198.51.100.1:23', label: 'home', profile: 'home' };
export const HOSTILE = 'tv\u001b[2J<script>alert(1)</script>';
const A = '198.51.100.10';
const B = '198.51.100.11';

/** Polls with known counters into the store: D's bytes are 3 300 000 down and 240 000 up. */
export function recordHistory(path: string): void {
  const store = HistoryStore.open({ path, hostname: 'testhost' });
  try {
    const acct = new Accountant({ linkBitsPerSecond: 1e12 });
    const routerId = store.routerId(ROUTER.key, at(-1, 20));
    assert.ok(store.tryAcquireLease(routerId, { id: 'rec', pid: process.pid, hostname: 'testhost' }, at(-1, 20), 86_400_000 * 5).acquired);
    const raw: Record<string, [number, number]> = { [A]: [0, 0], [B]: [0, 0] };
    const poll = (atMs: number, add: Record<string, [number, number]> = {}, isFirst = false) => {
      for (const [ip, [d, u]] of Object.entries(add)) raw[ip] = [raw[ip]![0] + d, raw[ip]![1] + u];
      const result = acct.process({
        atMs,
        counters: new Map(Object.entries(raw).map(([ip, [d, u]]) => [ip, { downBytes: d, upBytes: u }])),
        hosts: [
          { ip: A, mac: 'aa:bb:cc:00:00:0a', hostname: 'laptop' },
          { ip: B, mac: 'aa:bb:cc:00:00:0b', hostname: HOSTILE },
        ],
        ...(isFirst ? { newAddresses: [A, B] } : {}),
      });
      assert.ok(store.recordPoll(routerId, 'rec', result, acct.exportState(), 86_400_000 * 5));
    };
    poll(at(-1, 20), {}, true);
    poll(at(-1, 21, 59));
    poll(at(-1, 22), { [A]: [5_000, 500] }); // the day before: not in the report
    poll(at(0, 9, 59));
    poll(at(0, 10), { [A]: [1_000_000, 200_000], [B]: [300_000, 40_000] });
    poll(at(0, 23, 58));
    poll(at(0, 23, 59), { [B]: [2_000_000, 0] });
    poll(at(1, 0, 0));
    poll(at(1, 0, 1), { [A]: [7_000_000, 1_000] }); // today: not in the report either
    const totals = store.hostTotals(routerId, at(0, 0), at(1, 0));
    assert.equal(totals.hosts.reduce((s, h) => s + h.downBytes, 0), 3_300_000, 'the fixture records what the test expects');
  } finally {
    store.close();
  }
}

