// A tiny poll driver for the accountant's tests (src/domain/accounting*.test.ts): one fake clock,
// one accountant, and helpers that build a poll's input from short literals.
import assert from 'node:assert/strict';
import { Accountant, type AccountingEvent, type AccountingOptions, type AccountingResult, type AccountingState, type PollInput } from '../../src/domain/accounting.js';
import { FakeClock } from '../../src/domain/clock.js';

export const A = '198.51.100.10';
export const B = '198.51.100.11';
export const C = '198.51.100.12';
export const MAC_A = 'aa:bb:cc:00:00:0a';
export const MAC_B = 'aa:bb:cc:00:00:0b';
export const MAC_N = 'aa:bb:cc:00:00:99';

/** address → [downBytes, upBytes] */
export type Counters = Record<string, [number, number]>;
/** [address, mac, hostname], one per (MAC, address) pair as discovery gives them */
export type Hosts = Array<[string, string | null, string | null]>;

export class Driver {
  readonly clock: FakeClock;
  acct: Accountant;
  constructor(options: AccountingOptions = {}, state?: AccountingState, startMs = 1_700_000_000_000) {
    this.clock = new FakeClock(startMs);
    this.acct = new Accountant(options, state);
  }
  poll(counters: Counters, hosts: Hosts = [], extra: Partial<PollInput> = {}): AccountingResult {
    return this.acct.process({
      atMs: this.clock.now(),
      counters: new Map(Object.entries(counters).map(([ip, [d, u]]) => [ip, { downBytes: d, upBytes: u }])),
      hosts: hosts.map(([ip, mac, hostname]) => ({ ip, mac, hostname })),
      ...extra,
    });
  }
  after(ms: number, counters: Counters, hosts: Hosts = [], extra: Partial<PollInput> = {}): AccountingResult {
    this.clock.advance(ms);
    return this.poll(counters, hosts, extra);
  }
}

export const host = (r: AccountingResult, identity: string) => {
  const h = r.hosts.find((x) => x.identity === identity);
  assert.ok(h, `host ${identity} in result (have ${r.hosts.map((x) => x.identity).join(', ')})`);
  return h;
};
export const kinds = (r: AccountingResult) => r.events.map((e) => e.kind);
export const eventOf = <K extends AccountingEvent['kind']>(r: AccountingResult, kind: K) =>
  r.events.find((e): e is Extract<AccountingEvent, { kind: K }> => e.kind === kind);

export const HOSTS_AB: Hosts = [
  [A, MAC_A, 'laptop'],
  [B, MAC_B, 'phone'],
];

/** How notices print times (accounting-notices.ts fmtTime). */
export const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
