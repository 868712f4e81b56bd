// Shared by the history store's tests (src/store/*.test.ts): a fresh database per test, and a
// deterministic fake router driven through a real Accountant into the store.

import { beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Accountant, type AccountingResult, type PollInput } from '../../src/domain/accounting.js';
import { FakeClock } from '../../src/domain/clock.js';
import { HistoryStore, type HistoryStoreOptions } from '../../src/store/history-store.js';
import type { LeaseHolder } from '../../src/store/writer-lease.js';

export const MIN = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;
export const T0 = Date.UTC(2024, 2, 4); // Monday 4 March 2024, 00:00 UTC
export const IPS = ['198.51.100.10', '198.51.100.11', '198.51.100.12'];
export const MACS = ['aa:bb:cc:00:00:0a', 'aa:bb:cc:00:00:0b', null];
export const identityOf = (i: number) => MACS[i] ?? `ip:${IPS[i]}`;
export const ME: LeaseHolder = { id: 'me', pid: process.pid, hostname: 'testhost' };
export const OTHER: LeaseHolder = { id: 'other', pid: 999_999, hostname: 'testhost' };

export interface StoreDir {
  /** This test's directory (removed after it). */
  readonly path: string;
  /** Where open() puts the database: in a subdirectory, which the store must create. */
  readonly dbPath: string;
  open(extra?: Partial<HistoryStoreOptions>): HistoryStore;
}

/** Call at the top of a test file: every test gets a fresh directory for its databases. */
export function useStoreDir(): StoreDir {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lantop-store-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    get path() {
      return dir;
    },
    get dbPath() {
      return join(dir, 'sub', 'history.sqlite');
    },
    open(extra = {}) {
      return HistoryStore.open({ path: join(dir, 'sub', 'history.sqlite'), hostname: 'testhost', ...extra });
    },
  };
}

/**
 * Drives an Accountant over a deterministic fake router and records every poll.
 * Host i gains rate(i, t) bytes per poll; the truth is kept per identity and per minute.
 */
export class Harness {
  readonly clock: FakeClock;
  readonly acct = new Accountant({ linkBitsPerSecond: 1e12 });
  readonly raw = IPS.map(() => [0, 0] as [number, number]);
  readonly truthByMinute = new Map<string, Map<number, [number, number]>>();
  readonly routerId: number;
  first = true;
  constructor(
    readonly store: HistoryStore,
    startMs = T0,
    key = 'router-1',
  ) {
    this.clock = new FakeClock(startMs);
    this.routerId = store.routerId(key, startMs);
    assert.equal(store.tryAcquireLease(this.routerId, ME, startMs, 60_000).acquired, true);
  }
  poll(extra: Partial<PollInput> = {}, grow = (i: number, t: number) => [Math.floor(t / MIN) % 7 * 100 + i * 10 + 1, i + 1] as [number, number]): AccountingResult {
    const t = this.clock.now();
    if (!this.first) {
      this.raw.forEach((r, i) => {
        const [d, u] = grow(i, t);
        r[0] += d;
        r[1] += u;
      });
    }
    const result = this.acct.process({
      atMs: t,
      counters: new Map(IPS.map((ip, i) => [ip, { downBytes: this.raw[i]?.[0] ?? 0, upBytes: this.raw[i]?.[1] ?? 0 }])),
      hosts: IPS.map((ip, i) => ({ ip, mac: MACS[i] ?? null, hostname: `host-${i}` })),
      ...(this.first ? { newAddresses: IPS } : {}),
      ...extra,
    });
    this.first = false;
    assert.equal(result.events.some((e) => e.kind === 'invalid-counter' || e.kind === 'absurd-delta'), false);
    for (const d of result.deltas) {
      let m = this.truthByMinute.get(d.identity);
      if (!m) this.truthByMinute.set(d.identity, (m = new Map()));
      const key = Math.floor(t / MIN);
      const cur = m.get(key) ?? [0, 0];
      m.set(key, [cur[0] + d.downBytes, cur[1] + d.upBytes]);
    }
    assert.equal(this.store.recordPoll(this.routerId, ME.id, result, this.acct.exportState(), 60_000), true);
    return result;
  }
  run(count: number, stepMs: number, extra: Partial<PollInput> = {}): AccountingResult | null {
    let last: AccountingResult | null = null;
    for (let k = 0; k < count; k++) {
      if (k > 0 || !this.first) this.clock.advance(stepMs);
      last = this.poll(extra);
    }
    return last;
  }
  truth(identity: string, startMs: number, endMs: number): [number, number] {
    let d = 0;
    let u = 0;
    for (const [minute, [dd, uu]] of this.truthByMinute.get(identity) ?? []) {
      if (minute * MIN >= startMs && minute * MIN < endMs) {
        d += dd;
        u += uu;
      }
    }
    return [d, u];
  }
}
