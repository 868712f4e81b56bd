// Issue 15: a one-shot lantop (`usage --count 1`) whose only poll found the counters gone (router
// reboot, `fw4 flush`) and put them back ends before the poll that must count them from 0. What the
// sync installed is recorded with the poll's state, so the next process counts the new counters
// whole — even when they happen to exceed the old, pre-reboot values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Poller, type HistoryPort, type PollPort, type SyncOutcome, type TrafficReading } from './poller.js';
import { FakeClock } from './clock.js';
import type { AccountingState, CounterPair, PollHost } from './accounting.js';

const A: PollHost = { ip: '198.51.100.10', mac: '02:00:00:00:00:0a', hostname: 'laptop' };
const B: PollHost = { ip: '198.51.100.11', mac: '02:00:00:00:00:0b', hostname: null };

/** One history database: the state the last writer recorded, handed to the next process. */
class MemoryHistory {
  state: AccountingState | null = null;
  port(): HistoryPort {
    let isFirst = true;
    return {
      ensureRole: () => {
        const becameWriter = isFirst;
        isFirst = false;
        return { role: 'writer', becameWriter, restore: becameWriter ? (this.state === null ? null : structuredClone(this.state)) : null };
      },
      record: (_result, state) => {
        this.state = structuredClone(state);
        return true;
      },
    };
  }
}

/** A router whose counters are `counters` (missing: no rules) and whose sync installs them. */
function router(reading: { counters: Record<string, [number, number]> | null }, sync: SyncOutcome | null): PollPort {
  return {
    discover: async () => [A, B],
    readTraffic: async (): Promise<TrafficReading> => ({
      counters: new Map<string, CounterPair>(Object.entries(reading.counters ?? {}).map(([ip, [d, u]]) => [ip, { downBytes: d, upBytes: u }])),
      installation: reading.counters === null ? 'missing' : 'complete',
    }),
    sync: async () => sync ?? { newAddresses: [], isReinstalled: false, notes: [] },
  };
}

async function oneShot(history: MemoryHistory, clock: FakeClock, port: PollPort) {
  clock.advance(60_000);
  return new Poller({ router: 'r', port, clock, history: history.port() }).pollOnce();
}

test('a re-install by the last poll of one process is counted from 0 by the next process', async () => {
  const history = new MemoryHistory();
  const clock = new FakeClock(1_700_000_000_000);
  const installed: SyncOutcome = { newAddresses: [A.ip, B.ip], isReinstalled: true, notes: [] };
  await oneShot(history, clock, router({ counters: null }, installed)); // setup-like first run
  await oneShot(history, clock, router({ counters: { [A.ip]: [0, 0], [B.ip]: [0, 0] } }, null));
  let s = await oneShot(history, clock, router({ counters: { [A.ip]: [150_000, 30_000], [B.ip]: [9_000, 1_000] } }, null));
  assert.deepEqual(s.hosts.map((h) => [h.ip, h.downBytes, h.upBytes]), [[A.ip, 150_000, 30_000], [B.ip, 9_000, 1_000]]);

  // Reboot: rules gone; this run's sync puts them back and the process ends.
  const heal = await oneShot(history, clock, router({ counters: null }, installed));
  assert.deepEqual(heal.hosts.map((h) => h.downBytes), [150_000, 9_000], 'nothing lost, nothing invented');
  assert.deepEqual(history.state?.pending, { isReinstalled: true, newAddresses: [A.ip, B.ip], rulesInstalledAtMs: clock.now() });

  // Next process: A's new counter exceeds its old value, B's is lower; both count whole.
  s = await oneShot(history, clock, router({ counters: { [A.ip]: [150_100, 30_200], [B.ip]: [500, 50] } }, null));
  assert.deepEqual(s.hosts.map((h) => [h.ip, h.downBytes, h.upBytes]), [[A.ip, 300_100, 60_200], [B.ip, 9_500, 1_050]]);
  assert.equal(history.state?.pending, undefined, 'consumed: the following run counts deltas again');
  s = await oneShot(history, clock, router({ counters: { [A.ip]: [150_200, 30_200], [B.ip]: [600, 50] } }, null));
  assert.deepEqual(s.hosts.map((h) => h.downBytes), [300_200, 9_600]);
});

test('a pending install that is not what lantop writes is ignored (the state file is input)', async () => {
  const history = new MemoryHistory();
  const clock = new FakeClock(1_700_000_000_000);
  await oneShot(history, clock, router({ counters: { [A.ip]: [1000, 10] } }, null));
  history.state = { ...history.state!, pending: { isReinstalled: 'yes', newAddresses: [1] } as never };
  const s = await oneShot(history, clock, router({ counters: { [A.ip]: [1500, 20] } }, null));
  assert.deepEqual(s.hosts.find((h) => h.ip === A.ip)?.downBytes, 500);
});
