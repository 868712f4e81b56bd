// A child process for src/store/history-process.test.ts: a lantop stand-in that records history
// the way the poller will (HistoryRecorder + Accountant), so the test can SIGKILL it mid-write or
// run two of them against one database. Bounded: it exits by itself after LIFETIME_MS.
//
//   crash-writer DB ROUTER HOSTS   deterministic polls as fast as possible; prints "committed K"
//   contender    DB ROUTER FILE    polls the counters in FILE every 20 ms with the real clock;
//                                  prints "role writer|reader"; SIGTERM: release the lease and exit

import { readFileSync } from 'node:fs';
import { Accountant, type AccountingState } from '../../src/domain/accounting.js';
import { systemClock, type Clock } from '../../src/domain/clock.js';
import { HistoryStore } from '../../src/store/history-store.js';
import { HistoryRecorder } from '../../src/store/recorder.js';
import { CRASH_STEP_MS, CRASH_T0, crashCounter, crashIp } from './crash-plan.js';

const LIFETIME_MS = 60_000;
const started = Date.now();
setTimeout(() => process.exit(3), LIFETIME_MS).unref();

const [mode, dbPath, routerKey, arg] = process.argv.slice(2);
if (!mode || !dbPath || !routerKey || !arg) {
  console.error('usage: history-child MODE DB ROUTER ARG');
  process.exit(2);
}

const options = { linkBitsPerSecond: 1e12 };

if (mode === 'crash-writer') {
  const hosts = Number(arg);
  let atMs = CRASH_T0;
  const clock: Clock = { now: () => atMs };
  const store = HistoryStore.open({ path: dbPath });
  const recorder = new HistoryRecorder(store, routerKey, { clock, leaseTtlMs: 5000 });
  const role = recorder.ensureRole();
  if (role.role !== 'writer') throw new Error('crash-writer could not get the lease');
  const restored: AccountingState | null = role.restore;
  const acct = new Accountant(options, restored ?? undefined);
  let k = restored?.lastAtMs != null ? (restored.lastAtMs - CRASH_T0) / CRASH_STEP_MS + 1 : 0;
  const ips = Array.from({ length: hosts }, (_, i) => crashIp(i));
  const discovery = ips.map((ip, i) => ({ ip, mac: `aa:bb:cc:00:01:${i.toString(16).padStart(2, '0')}`, hostname: `h${i}` }));
  for (; Date.now() - started < LIFETIME_MS; k++) {
    atMs = CRASH_T0 + k * CRASH_STEP_MS;
    const counters = new Map(ips.map((ip, i) => {
      const [d, u] = crashCounter(i, k);
      return [ip, { downBytes: d, upBytes: u }];
    }));
    recorder.ensureRole();
    const result = acct.process({ atMs, counters, hosts: discovery, ...(k === 0 ? { newAddresses: ips } : {}) });
    if (!recorder.record(result, acct.exportState({ includeRates: false }))) throw new Error('lease lost');
    process.stdout.write(`committed ${k}\n`);
  }
} else if (mode === 'contender') {
  const file = arg;
  const store = HistoryStore.open({ path: dbPath });
  const recorder = new HistoryRecorder(store, routerKey, { clock: systemClock, leaseTtlMs: 3000 });
  let acct = new Accountant(options);
  let lastRole = '';
  let stopping = false;
  const tick = () => {
    if (stopping) return;
    const role = recorder.ensureRole();
    if (role.becameWriter && role.restore) acct = new Accountant(options, role.restore);
    const seen = JSON.parse(readFileSync(file, 'utf8')) as { seq: number; counters: Record<string, [number, number]> };
    const counters = new Map(Object.entries(seen.counters).map(([ip, [d, u]]) => [ip, { downBytes: d, upBytes: u }]));
    const result = acct.process({ atMs: systemClock.now(), counters, hosts: [] });
    if (recorder.role === 'writer') recorder.record(result, acct.exportState({ includeRates: false }));
    if (recorder.role !== lastRole) {
      lastRole = recorder.role;
      process.stdout.write(`role ${lastRole}\n`);
    }
    setTimeout(tick, 20);
  };
  process.on('SIGTERM', () => {
    stopping = true;
    recorder.close();
    store.close();
    process.stdout.write('stopped\n');
    process.exit(0);
  });
  tick();
} else {
  console.error(`unknown mode ${mode}`);
  process.exit(2);
}
