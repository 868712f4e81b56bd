// Crash safety and the writer lease, with real processes: a child is SIGKILLed in the middle of
// its write loop, and two children poll one router into one database.

import { test, describe, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Accountant } from '../domain/accounting.js';
import { FakeClock } from '../domain/clock.js';
import { HistoryStore } from './history-store.js';
import { HistoryRecorder } from './recorder.js';
import { CRASH_STEP_MS, CRASH_T0, crashCounter, crashIp } from '../../test/store/crash-plan.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const CHILD = join(ROOT, 'test', 'store', 'history-child.ts');

const children: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'lantop-proc-'));
  dirs.push(d);
  return d;
}

interface Child {
  proc: ChildProcess;
  /** Resolves with the first stdout line matching, or rejects after timeoutMs / on exit. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  exited: Promise<void>;
  lines: string[];
}

function startChild(args: string[]): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(proc);
  const lines: string[] = [];
  const waiters: Array<{ pattern: RegExp; resolve: (m: RegExpMatchArray) => void }> = [];
  let stderr = '';
  proc.stderr?.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    lines.push(line);
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i];
      const m = w ? line.match(w.pattern) : null;
      if (w && m) {
        waiters.splice(i, 1);
        w.resolve(m);
      }
    }
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  return {
    proc,
    lines,
    exited,
    waitFor(pattern, timeoutMs) {
      const seen = lines.map((l) => l.match(pattern)).find((m) => m);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timeout waiting for ${pattern}; stderr: ${stderr.slice(-2000)}`)), timeoutMs);
        const w = {
          pattern,
          resolve: (m: RegExpMatchArray) => {
            clearTimeout(timer);
            resolve(m);
          },
        };
        waiters.push(w);
        void exited.then(() => {
          setTimeout(() => {
            if (waiters.includes(w)) {
              clearTimeout(timer);
              reject(new Error(`child exited (${proc.exitCode ?? proc.signalCode}) before ${pattern}; stderr: ${stderr.slice(-2000)}`));
            }
          }, 50);
        });
      });
    },
  };
}

async function kill9(child: Child): Promise<void> {
  child.proc.kill('SIGKILL');
  await child.exited;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('crash between writes', () => {
  test('SIGKILL mid-loop: totals equal the sum of committed polls, state agrees, a restart continues exactly', { timeout: 120_000 }, async () => {
    const dir = tempDir();
    const db = join(dir, 'history.sqlite');
    const HOSTS = 24;
    const verify = (label: string): number => {
      const store = HistoryStore.open({ path: db });
      try {
        assert.equal(store.integrityCheck(), 'ok', label);
        const routerId = store.findRouter('r1');
        assert.ok(routerId !== null, label);
        const stored = store.loadState(routerId);
        assert.ok(stored && stored.lastPollMs !== null, label);
        const k = (stored.lastPollMs - CRASH_T0) / CRASH_STEP_MS;
        assert.ok(Number.isInteger(k), label);
        const report = store.hostTotals(routerId, 0, CRASH_T0 + 365 * 86_400_000);
        for (let i = 0; i < HOSTS; i++) {
          const [d, u] = crashCounter(i, k);
          const ip = crashIp(i);
          assert.deepEqual(
            [stored.state.counters[ip]?.downBytes, stored.state.counters[ip]?.upBytes],
            [d, u],
            `${label}: last raw counters of ${ip} are those of poll ${k}`,
          );
          const mac = `aa:bb:cc:00:01:${i.toString(16).padStart(2, '0')}`;
          const h = report.hosts.find((x) => x.identity === mac);
          assert.deepEqual([h?.downBytes, h?.upBytes], [d, u], `${label}: history of ${mac} = sum of ${k} committed polls`);
          assert.deepEqual([stored.state.hosts[mac]?.downBytes, stored.state.hosts[mac]?.upBytes], [d, u], `${label}: state totals`);
        }
        return k;
      } finally {
        store.close();
      }
    };

    // Round 1: a fresh database. Round 2: the same database, restored from round 1's state.
    let lastK = -1;
    for (const round of [1, 2]) {
      const child = startChild(['crash-writer', db, 'r1', String(HOSTS)]);
      const target = lastK + 150;
      await child.waitFor(new RegExp(`^committed ${target}$`), 60_000);
      await sleep(Math.floor(Math.random() * 40));
      await kill9(child);
      assert.equal(child.proc.signalCode, 'SIGKILL');
      const printed = child.lines.filter((l) => l.startsWith('committed ')).map((l) => Number(l.slice(10)));
      const k = verify(`round ${round}`);
      // Every poll the child reported was committed; at most the one in flight beyond it.
      const lastPrinted = printed[printed.length - 1] ?? -1;
      assert.ok(k === lastPrinted || k === lastPrinted + 1, `round ${round}: committed ${k}, printed ${lastPrinted}`);
      assert.ok(k > lastK, `round ${round} made progress`);
      if (round === 2) assert.equal(printed[0], lastK + 1, 'round 2 continued right after the last committed poll');
      lastK = k;
    }

    // Finally in-process: take over from the dead child, skip 10 polls of router time, continue.
    const store = HistoryStore.open({ path: db });
    try {
      const clock = new FakeClock(CRASH_T0 + (lastK + 10) * CRASH_STEP_MS);
      const recorder = new HistoryRecorder(store, 'r1', { clock });
      const role = recorder.ensureRole();
      assert.equal(role.becameWriter, true);
      // Ten polls (20 s) after the last one the dead child's lease has also expired: either reason.
      assert.ok(role.tookOver && ['holder-dead', 'expired'].includes(role.tookOver.reason));
      assert.ok(role.restore);
      const acct = new Accountant({ linkBitsPerSecond: 1e12 }, role.restore);
      const k = lastK + 10;
      const result = acct.process({
        atMs: clock.now(),
        counters: new Map(Array.from({ length: HOSTS }, (_, i) => [crashIp(i), { downBytes: crashCounter(i, k)[0], upBytes: crashCounter(i, k)[1] }])),
        hosts: [],
      });
      assert.ok(recorder.record(result, acct.exportState()));
      recorder.close();
    } finally {
      store.close();
    }
    assert.equal(verify('after restart'), lastK + 10);
  });
});

describe('two processes, one router, one database', () => {
  test('only the lease holder writes; the other takes over when it dies; nothing is double counted', { timeout: 120_000 }, async () => {
    const dir = tempDir();
    const db = join(dir, 'history.sqlite');
    const file = join(dir, 'router.json');
    const ips = Array.from({ length: 8 }, (_, i) => `198.51.100.${i + 20}`);
    const counters: Record<string, [number, number]> = Object.fromEntries(ips.map((ip) => [ip, [0, 0]]));
    let seq = 0;
    const publish = () => {
      seq += 1;
      writeFileSync(`${file}.tmp`, JSON.stringify({ seq, counters }));
      renameSync(`${file}.tmp`, file); // atomic: a child never reads half a file
    };
    const grow = (rounds: number) => {
      for (let r = 0; r < rounds; r++) {
        ips.forEach((ip, i) => {
          const c = counters[ip];
          if (c) {
            c[0] += 1000 + i * 7 + (seq % 13);
            c[1] += 10 + i;
          }
        });
      }
      publish();
    };
    publish();

    // Baseline: all counters 0 recorded for this router, as a fresh setup would.
    const setup = HistoryStore.open({ path: db });
    try {
      const routerId = setup.routerId('r2', Date.now());
      const holder = { id: 'setup', pid: process.pid, hostname: 'setup-host' };
      assert.ok(setup.tryAcquireLease(routerId, holder, Date.now(), 10_000).acquired);
      const acct = new Accountant();
      const r = acct.process({ atMs: Date.now(), counters: new Map(ips.map((ip) => [ip, { downBytes: 0, upBytes: 0 }])), hosts: [], newAddresses: ips });
      assert.ok(setup.recordPoll(routerId, holder.id, r, acct.exportState(), 10_000));
      setup.releaseLease(routerId, holder.id);
    } finally {
      setup.close();
    }

    const a = startChild(['contender', db, 'r2', file]);
    await a.waitFor(/^role writer$/, 30_000);
    const b = startChild(['contender', db, 'r2', file]);
    await b.waitFor(/^role reader$/, 30_000);
    for (let k = 0; k < 25; k++) {
      grow(1);
      await sleep(30);
    }
    assert.equal(b.lines.includes('role writer'), false, 'B stayed a reader while A lived');

    await kill9(a);
    for (let k = 0; k < 25; k++) {
      grow(1);
      await sleep(30);
    }
    await b.waitFor(/^role writer$/, 30_000);
    for (let k = 0; k < 10; k++) {
      grow(1);
      await sleep(30);
    }

    // Wait (bounded) until B has recorded the final counters, then stop it cleanly.
    const store = HistoryStore.open({ path: db });
    try {
      const routerId = store.findRouter('r2');
      assert.ok(routerId !== null);
      const deadline = Date.now() + 20_000;
      const caughtUp = () => ips.every((ip) => store.loadState(routerId)?.state.counters[ip]?.downBytes === counters[ip]?.[0]);
      while (!caughtUp() && Date.now() < deadline) await sleep(50);
      assert.ok(caughtUp(), 'B recorded the final counters');
      b.proc.kill('SIGTERM');
      await b.waitFor(/^stopped$/, 20_000);
      await b.exited;
      assert.equal(store.getLease(routerId), null, 'B released the lease on exit');

      const report = store.hostTotals(routerId, 0, Date.now() + 86_400_000);
      for (const ip of ips) {
        const h = report.hosts.find((x) => x.identity === `ip:${ip}`);
        assert.deepEqual([h?.downBytes, h?.upBytes], counters[ip], `${ip}: history equals the router's counters exactly`);
      }
      const takeover = store.notices(routerId, 0, Date.now() + 1).filter((n) => n.kind === 'lease-takeover');
      assert.equal(takeover.length, 1);
      assert.match(takeover[0]?.text ?? '', /no longer running/);
    } finally {
      store.close();
    }
  });
});
