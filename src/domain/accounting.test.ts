import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  Accountant,
  emptyAccountingState,
  normalizeMac,
  type AccountingEvent,
  type AccountingOptions,
  type AccountingResult,
  type AccountingState,
  type PollInput,
} from './accounting.js';
import { FakeClock } from './clock.js';

const A = '198.51.100.10';
const B = '198.51.100.11';
const C = '198.51.100.12';
const MAC_A = 'aa:bb:cc:00:00:0a';
const MAC_B = 'aa:bb:cc:00:00:0b';
const MAC_N = 'aa:bb:cc:00:00:99';

type Counters = Record<string, [number, number]>;
type Hosts = Array<[string, string | null, string | null]>;

/** A tiny poll driver: one fake clock, one accountant, helpers that build inputs. */
class Driver {
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

const host = (r: AccountingResult, identity: string) => {
  const h = r.hosts.find((x) => x.identity === identity);
  assert.ok(h, `host ${identity} in result (have ${r.hosts.map((x) => x.identity).join(', ')})`);
  return h;
};
const kinds = (r: AccountingResult) => r.events.map((e) => e.kind);
const eventOf = <K extends AccountingEvent['kind']>(r: AccountingResult, kind: K) =>
  r.events.find((e): e is Extract<AccountingEvent, { kind: K }> => e.kind === kind);

const HOSTS_AB: Hosts = [
  [A, MAC_A, 'laptop'],
  [B, MAC_B, 'phone'],
];

describe('first sight and steady counting', () => {
  test('a fresh accountant takes existing counters as baseline and reports it', () => {
    const d = new Driver();
    const r = d.poll({ [A]: [5000, 700], [B]: [0, 0] }, HOSTS_AB);
    assert.equal(host(r, MAC_A).downBytes, 0);
    assert.equal(host(r, MAC_A).upBytes, 0);
    assert.deepEqual(eventOf(r, 'baseline')?.ips, [A]);
    assert.equal(r.deltas.length, 0);
    assert.equal(r.notices.some((n) => n.level === 'info' && n.text.includes('1 host')), true);
    const r2 = d.after(2000, { [A]: [6000, 900], [B]: [300, 30] }, HOSTS_AB);
    assert.equal(host(r2, MAC_A).downBytes, 1000);
    assert.equal(host(r2, MAC_A).upBytes, 200);
    assert.equal(host(r2, MAC_B).downBytes, 300);
    assert.deepEqual(r2.totals, { downBytes: 1300, upBytes: 230, downBps: 650, upBps: 115 });
  });

  test('rules lantop just installed count from zero, also on the very first poll', () => {
    const d = new Driver();
    const r = d.poll({ [A]: [5000, 700], [B]: [10, 1] }, HOSTS_AB, { newRuleIps: [A] });
    assert.equal(host(r, MAC_A).downBytes, 5000);
    assert.equal(host(r, MAC_B).downBytes, 0);
    assert.deepEqual(eventOf(r, 'baseline')?.ips, [B]);
  });

  test('a rule that appears after an earlier poll counts from zero (it was created since)', () => {
    const d = new Driver();
    d.poll({ [A]: [100, 10] }, HOSTS_AB);
    const r = d.after(2000, { [A]: [200, 20], [B]: [4000, 400] }, HOSTS_AB);
    assert.equal(host(r, MAC_B).downBytes, 4000);
    assert.equal(host(r, MAC_B).upBytes, 400);
    assert.equal(host(r, MAC_A).downBytes, 100);
  });

  test('totals, rates and shares by bytes; shares are 0 when a direction has no bytes', () => {
    const d = new Driver();
    d.poll({ [A]: [0, 0], [B]: [0, 0] }, HOSTS_AB);
    const r = d.after(1000, { [A]: [3000, 0], [B]: [1000, 0] }, HOSTS_AB);
    assert.equal(host(r, MAC_A).downShare, 0.75);
    assert.equal(host(r, MAC_B).downShare, 0.25);
    assert.equal(host(r, MAC_A).upShare, 0);
    assert.equal(host(r, MAC_B).upShare, 0);
    assert.equal(host(r, MAC_A).downBps, 3000);
    assert.equal(host(r, MAC_A).isCounted, true);
  });

  test('shares by rate when asked', () => {
    const d = new Driver({ shareBasis: 'rate', rateWindowMs: 1000 });
    d.poll({ [A]: [0, 0], [B]: [0, 0] }, HOSTS_AB);
    d.after(1000, { [A]: [9000, 0], [B]: [0, 0] }, HOSTS_AB);
    const r = d.after(1000, { [A]: [9000, 0], [B]: [1000, 0] }, HOSTS_AB);
    // Bytes say A 90 %, the last second says B 100 %.
    assert.equal(host(r, MAC_B).downShare, 1);
    assert.equal(host(r, MAC_A).downShare, 0);
  });

  test('hosts without rules are listed, not counted', () => {
    const d = new Driver();
    const r = d.poll({ [A]: [0, 0] }, [...HOSTS_AB, [C, null, 'printer']]);
    assert.equal(host(r, MAC_B).isCounted, false);
    assert.equal(host(r, `ip:${C}`).isCounted, false);
    assert.equal(host(r, `ip:${C}`).hostname, 'printer');
    assert.deepEqual(r.hosts.map((h) => h.ip), [A, B, C]);
  });
});

describe('rates over a sliding window', () => {
  test('constant traffic gives a constant rate; one late poll does not spike it', () => {
    // The router counts 1000 B/s. Polls every 1 s, but the reply of the poll at t=6 s arrives 0.9 s
    // late (its counters are from t=6, its timestamp says 6.9 s); the next one is on time.
    const windowed = new Driver({ rateWindowMs: 5000 });
    const naive = new Driver({ rateWindowMs: 1 });
    const rates: Array<[number, number]> = [];
    let last = 0;
    for (let s = 0; s <= 12; s++) {
      const stamp = s === 6 ? 6900 : s * 1000;
      const counters = { [A]: [s * 1000, 0] as [number, number] };
      const step = stamp - last;
      last = stamp;
      const w = s === 0 ? windowed.poll(counters, HOSTS_AB) : windowed.after(step, counters, HOSTS_AB);
      const n = s === 0 ? naive.poll(counters, HOSTS_AB) : naive.after(step, counters, HOSTS_AB);
      rates.push([host(w, MAC_A).downBps, host(n, MAC_A).downBps]);
    }
    const [w7, n7] = rates[7] ?? [0, 0];
    assert.equal(n7, 1000 / 0.1); // the naive rate spikes to 10 000 B/s
    assert.ok(w7 < 1200 && w7 > 800, `windowed rate stays near 1000, got ${w7}`);
    assert.equal(rates[12]?.[0], 1000); // and is exact once the late poll left the window
  });

  test('with polls slower than the window the rate spans one interval', () => {
    const d = new Driver({ rateWindowMs: 5000 });
    d.poll({ [A]: [0, 0] }, HOSTS_AB);
    d.after(10_000, { [A]: [10_000, 0] }, HOSTS_AB);
    const r = d.after(10_000, { [A]: [30_000, 5000] }, HOSTS_AB);
    assert.equal(host(r, MAC_A).downBps, 2000);
    assert.equal(host(r, MAC_A).upBps, 500);
  });

  test('zero elapsed time: bytes counted, rates carried over, nothing divided by zero', () => {
    const d = new Driver({ rateWindowMs: 1000 });
    d.poll({ [A]: [0, 0] }, HOSTS_AB);
    const r1 = d.after(1000, { [A]: [2000, 100] }, HOSTS_AB);
    assert.equal(host(r1, MAC_A).downBps, 2000);
    const r2 = d.after(0, { [A]: [2500, 100] }, HOSTS_AB);
    assert.equal(host(r2, MAC_A).downBytes, 2500);
    for (const h of r2.hosts) {
      assert.ok(Number.isFinite(h.downBps) && Number.isFinite(h.upBps) && Number.isFinite(h.downShare));
    }
    // Window [0 s .. 1 s] still spans 1 s: the 500 bytes of the same-instant poll are in it.
    assert.equal(host(r2, MAC_A).downBps, 2500);
  });

  test('two polls at the very same instant at start: rates carry over (0), no NaN', () => {
    const d = new Driver();
    d.poll({ [A]: [0, 0] }, HOSTS_AB, { newRuleIps: [A] });
    const r = d.after(0, { [A]: [100, 0] }, HOSTS_AB);
    assert.equal(host(r, MAC_A).downBps, 0);
    assert.equal(host(r, MAC_A).downBytes, 100);
  });

  test('the clock going backwards is reported; counting continues', () => {
    const d = new Driver({ rateWindowMs: 1000 });
    d.poll({ [A]: [0, 0] }, HOSTS_AB);
    const r1 = d.after(1000, { [A]: [1000, 0] }, HOSTS_AB);
    const r2 = d.after(-60_000, { [A]: [1500, 0] }, HOSTS_AB);
    assert.ok(kinds(r2).includes('clock-jump'));
    assert.equal(host(r2, MAC_A).downBytes, 1500);
    assert.equal(host(r2, MAC_A).downBps, host(r1, MAC_A).downBps);
    const r3 = d.after(1000, { [A]: [4500, 0] }, HOSTS_AB);
    assert.equal(host(r3, MAC_A).downBps, 3000);
  });
});

describe('resets', () => {
  test('reboot: the boot marker changes, the bytes since the boot are added, the gap is reported', () => {
    const d = new Driver();
    d.poll({ [A]: [1000, 100], [B]: [50, 5] }, HOSTS_AB, { bootMarker: 'boot-1' });
    const before = d.after(2000, { [A]: [3000, 300], [B]: [60, 6] }, HOSTS_AB, { bootMarker: 'boot-1' });
    assert.equal(host(before, MAC_A).downBytes, 2000);
    const t = d.clock.now();
    // Rebooted 40 s later; 20 s after the boot lantop reads again. B's counter is already above
    // its old value: the marker, not a decrease, tells us it restarted from 0.
    const r = d.after(60_000, { [A]: [700, 70], [B]: [80, 8] }, HOSTS_AB, { bootMarker: 'boot-2', bootAtMs: t + 40_000 });
    assert.equal(host(r, MAC_A).downBytes, 2700);
    assert.equal(host(r, MAC_A).upBytes, 200 + 70);
    assert.equal(host(r, MAC_B).downBytes, 10 + 80);
    assert.equal(r.epoch, 1);
    const reset = eventOf(r, 'reset');
    assert.equal(reset?.reason, 'reboot');
    assert.equal(reset?.missingFromMs, t);
    assert.equal(reset?.missingToMs, t + 40_000);
    assert.ok(r.notices.some((n) => n.level === 'warn' && n.text.includes('rebooted')));
    // Next poll: ordinary deltas in the new epoch.
    const r2 = d.after(2000, { [A]: [900, 70], [B]: [80, 8] }, HOSTS_AB, { bootMarker: 'boot-2' });
    assert.equal(host(r2, MAC_A).downBytes, 2900);
    assert.equal(r2.epoch, 1);
    assert.equal(eventOf(r2, 'reset'), undefined);
  });

  test('after a reboot a host missing from discovery keeps its identity; old-epoch baselines are dropped', () => {
    const d = new Driver();
    d.poll({ [A]: [1000, 0], [B]: [500, 0] }, HOSTS_AB, { bootMarker: 'm1' });
    d.after(2000, { [A]: [1500, 0], [B]: [600, 0] }, HOSTS_AB, { bootMarker: 'm1' });
    // Rebooted: discovery has not seen A yet, B's rule is not installed again yet.
    const r = d.after(60_000, { [A]: [40, 0] }, [], { bootMarker: 'm2' });
    assert.equal(host(r, MAC_A).downBytes, 540);
    assert.equal(r.hosts.some((h) => h.identity === `ip:${A}`), false);
    // B's rule returns with a counter above its old-epoch baseline: all of it is new.
    const r2 = d.after(2000, { [A]: [40, 0], [B]: [700, 0] }, HOSTS_AB, { bootMarker: 'm2' });
    assert.equal(host(r2, MAC_B).downBytes, 100 + 700);
  });

  test('an unknown (null) boot marker keeps the last one; the first marker seen is not a reboot', () => {
    const d = new Driver();
    d.poll({ [A]: [1000, 0] }, HOSTS_AB);
    const r1 = d.after(1000, { [A]: [1100, 0] }, HOSTS_AB, { bootMarker: 'x' });
    assert.equal(eventOf(r1, 'reset'), undefined);
    const r2 = d.after(1000, { [A]: [1200, 0] }, HOSTS_AB, { bootMarker: null });
    assert.equal(eventOf(r2, 'reset'), undefined);
    const r3 = d.after(1000, { [A]: [1300, 0] }, HOSTS_AB, { bootMarker: 'x' });
    assert.equal(eventOf(r3, 'reset'), undefined);
    assert.equal(host(r3, MAC_A).downBytes, 300);
  });

  test('flush / zeroed counters without a marker: each counter that went down restarts from its new value', () => {
    const d = new Driver();
    d.poll({ [A]: [10_000, 1000], [B]: [20, 2] }, HOSTS_AB);
    d.after(2000, { [A]: [12_000, 1500], [B]: [40, 4] }, HOSTS_AB);
    // `iptables -Z TRAFFIC`: A restarts; B's counter grew past its old value before this poll —
    // indistinguishable from growth, counted as growth (documented limit).
    const r = d.after(2000, { [A]: [300, 30], [B]: [90, 9] }, HOSTS_AB);
    assert.equal(host(r, MAC_A).downBytes, 2000 + 300);
    assert.equal(host(r, MAC_A).upBytes, 500 + 30);
    assert.equal(host(r, MAC_B).downBytes, 20 + 50);
    const reset = eventOf(r, 'reset');
    assert.equal(reset?.reason, 'counter-decrease');
    assert.deepEqual(reset?.ips, [A]);
    assert.equal(r.epoch, 1);
  });

  test('only one direction went down: that direction restarts, the other continues', () => {
    const d = new Driver();
    d.poll({ [A]: [10_000, 1000] }, HOSTS_AB);
    const r = d.after(2000, { [A]: [500, 1200] }, HOSTS_AB);
    assert.equal(host(r, MAC_A).downBytes, 500);
    assert.equal(host(r, MAC_A).upBytes, 200);
  });

  test('re-created chain: every counter is new, even one that climbed above its old value', () => {
    const d = new Driver();
    d.poll({ [A]: [1000, 100], [B]: [10, 1] }, HOSTS_AB);
    d.after(2000, { [A]: [2000, 200], [B]: [20, 2] }, HOSTS_AB);
    const r = d.after(2000, { [A]: [50, 5], [B]: [500, 50] }, HOSTS_AB, { chainRecreated: true });
    assert.equal(host(r, MAC_A).downBytes, 1000 + 50);
    assert.equal(host(r, MAC_B).downBytes, 10 + 500);
    assert.equal(eventOf(r, 'reset')?.reason, 'chain-recreated');
    assert.deepEqual(eventOf(r, 'reset')?.ips, [A, B]);
  });

  test('wrap-like jumps: a drop from near 2^32 is a reset, never a 32-bit wrap; a jump near 2^53 is absurd', () => {
    const d = new Driver();
    const nearWrap = 2 ** 32 - 100;
    d.poll({ [A]: [nearWrap - 1000, 0] }, HOSTS_AB);
    const r1 = d.after(2000, { [A]: [nearWrap, 0] }, HOSTS_AB);
    assert.equal(host(r1, MAC_A).downBytes, 1000);
    const r2 = d.after(2000, { [A]: [50, 0] }, HOSTS_AB);
    assert.equal(host(r2, MAC_A).downBytes, 1050); // not 1000 + 150
    assert.equal(eventOf(r2, 'reset')?.reason, 'counter-decrease');
    const r3 = d.after(2000, { [A]: [2 ** 53 - 1, 0] }, HOSTS_AB);
    assert.equal(host(r3, MAC_A).downBytes, 1050);
    assert.equal(eventOf(r3, 'absurd-delta')?.deltaBytes, 2 ** 53 - 1 - 50);
    // The baseline moved to the absurd value: the next ordinary delta is counted.
    const r4 = d.after(2000, { [A]: [2 ** 53 - 1, 0] }, HOSTS_AB);
    assert.equal(host(r4, MAC_A).downBytes, 1050);
    assert.equal(eventOf(r4, 'absurd-delta'), undefined);
  });

  test('absurd delta: the exact limit is link × elapsed × margin, per direction', () => {
    // 8 Mbit/s = 1000 bytes/ms; 2 s × 1.5 → 3 000 000 bytes allowed.
    const d = new Driver({ linkBitsPerSecond: 8_000_000, absurdMargin: 1.5 });
    d.poll({ [A]: [0, 0] }, HOSTS_AB);
    const ok = d.after(2000, { [A]: [3_000_000, 0] }, HOSTS_AB);
    assert.equal(host(ok, MAC_A).downBytes, 3_000_000);
    assert.equal(eventOf(ok, 'absurd-delta'), undefined);
    const bad = d.after(2000, { [A]: [6_000_001, 10] }, HOSTS_AB);
    assert.equal(host(bad, MAC_A).downBytes, 3_000_000);
    assert.equal(host(bad, MAC_A).upBytes, 10);
    const e = eventOf(bad, 'absurd-delta');
    assert.deepEqual(e, { kind: 'absurd-delta', ip: A, identity: MAC_A, direction: 'down', deltaBytes: 3_000_001, limitBytes: 3_000_000, elapsedMs: 2000 });
    assert.ok(bad.notices.some((n) => n.text.includes('3000001')));
  });

  test('absurd check after a reset and with a very short elapsed time (1 s floor)', () => {
    const d = new Driver({ linkBitsPerSecond: 8_000_000, absurdMargin: 1 });
    d.poll({ [A]: [5000, 0] }, HOSTS_AB, { bootMarker: 'a' });
    // 10 ms later, 900 000 bytes since a reboot: within the 1 s floor (1 000 000).
    const r = d.after(10, { [A]: [900_000, 0] }, HOSTS_AB, { bootMarker: 'b' });
    assert.equal(host(r, MAC_A).downBytes, 900_000);
    const r2 = d.after(10, { [A]: [900_000, 0] }, HOSTS_AB, { chainRecreated: true });
    assert.equal(eventOf(r2, 'absurd-delta'), undefined);
    const r3 = d.after(10, { [A]: [2_000_000, 0] }, HOSTS_AB);
    assert.equal(eventOf(r3, 'absurd-delta')?.limitBytes, 1_000_000);
  });

  test('invalid counters are skipped and reported', () => {
    const d = new Driver();
    d.poll({ [A]: [0, 0] }, HOSTS_AB);
    const r = d.after(1000, { [A]: [-5, 3], [B]: [1.5, 0] }, HOSTS_AB);
    assert.deepEqual(r.events.filter((e) => e.kind === 'invalid-counter').map((e) => (e as { ip: string }).ip), [A, B]);
    // Still unreadable: not reported again on every poll.
    const again = d.after(1000, { [A]: [-5, 3] }, HOSTS_AB);
    assert.equal(kinds(again).includes('invalid-counter'), false);
    const r2 = d.after(1000, { [A]: [100, 10] }, HOSTS_AB);
    assert.equal(host(r2, MAC_A).downBytes, 100);
    const r3 = d.after(1000, { [A]: [-1, 0] }, HOSTS_AB);
    assert.ok(kinds(r3).includes('invalid-counter'), 'reported again after it had recovered');
  });
});

/** How notices print times (accounting.ts fmtTime). */
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

describe('rules missing, then put back (issue 13: notices must be true)', () => {
  test('first installation (nothing counted before): every counter from zero, no reset, no notice', () => {
    const d = new Driver();
    // A router lantop has never counted on: the first read finds no rules at all.
    const r0 = d.poll({}, HOSTS_AB, { isInstallationComplete: false });
    assert.deepEqual(r0.notices, []);
    const installedAt = d.clock.now() + 30;
    const r = d.after(2000, { [A]: [700, 70], [B]: [10, 1] }, HOSTS_AB, { chainRecreated: true, rulesInstalledAtMs: installedAt });
    assert.equal(host(r, MAC_A).downBytes, 700);
    assert.equal(host(r, MAC_B).upBytes, 1);
    assert.equal(eventOf(r, 'reset'), undefined);
    assert.equal(eventOf(r, 'baseline'), undefined);
    assert.equal(r.epoch, 0);
    assert.deepEqual(r.notices, []);
  });

  test('first installation on the very first poll is not a reset either', () => {
    const d = new Driver();
    const r = d.poll({ [A]: [700, 70] }, HOSTS_AB, { chainRecreated: true });
    assert.equal(host(r, MAC_A).downBytes, 700);
    assert.equal(eventOf(r, 'reset'), undefined);
    assert.deepEqual(r.notices, []);
  });

  test('rules found missing, put back at once: the gap runs from the last counted read to the re-install, never past it', () => {
    const d = new Driver();
    d.poll({ [A]: [1000, 100], [B]: [50, 5] }, HOSTS_AB);
    d.after(2000, { [A]: [3000, 300], [B]: [60, 6] }, HOSTS_AB);
    const lastCountedAt = d.clock.now();
    // The router rebooted (or rebuilt its firewall): the next read finds no rules and no counters.
    const missing = d.after(30_000, {}, HOSTS_AB, { isInstallationComplete: false });
    assert.equal(eventOf(missing, 'reset'), undefined);
    assert.deepEqual(missing.notices, []);
    // lantop put the rules back 25 ms after that read; from then on they counted from zero.
    const reinstalledAt = d.clock.now() + 25;
    const r = d.after(2000, { [A]: [400, 40], [B]: [0, 0] }, HOSTS_AB, { chainRecreated: true, rulesInstalledAtMs: reinstalledAt });
    assert.equal(host(r, MAC_A).downBytes, 2000 + 400);
    assert.equal(host(r, MAC_A).upBytes, 200 + 40);
    assert.equal(host(r, MAC_B).downBytes, 10);
    assert.equal(r.epoch, 1);
    const reset = eventOf(r, 'reset');
    assert.equal(reset?.reason, 'chain-recreated');
    assert.deepEqual([reset?.missingFromMs, reset?.missingToMs], [lastCountedAt, reinstalledAt]);
    assert.equal(r.notices.length, 1);
    const text = r.notices[0]?.text ?? '';
    assert.equal(r.notices[0]?.level, 'warn');
    assert.match(text, /^lantop's counting rules were missing \(the router rebuilt its firewall\?\) and were put back: /);
    assert.ok(text.includes(`between ${iso(lastCountedAt)} and ${iso(reinstalledAt)}`), text);
    assert.ok(!text.includes(iso(d.clock.now())), `the window counted since the re-install is not missing: ${text}`);
    assert.doesNotMatch(text, /TRAFFIC|chain|iptables/);
    // Next poll: ordinary deltas, no second notice.
    const r2 = d.after(2000, { [A]: [900, 40], [B]: [0, 0] }, HOSTS_AB);
    assert.equal(host(r2, MAC_A).downBytes, 2900);
    assert.equal(eventOf(r2, 'reset'), undefined);
    assert.deepEqual(r2.notices, []);
  });

  test('several reads without rules: the gap still starts at the last read that had them', () => {
    const d = new Driver();
    d.poll({ [A]: [1000, 100] }, HOSTS_AB);
    const lastCountedAt = d.clock.now();
    d.after(2000, {}, HOSTS_AB, { isInstallationComplete: false });
    d.after(2000, {}, HOSTS_AB, { isInstallationComplete: false });
    const reinstalledAt = d.clock.now() + 10;
    const r = d.after(2000, { [A]: [5, 0] }, HOSTS_AB, { chainRecreated: true, rulesInstalledAtMs: reinstalledAt });
    assert.deepEqual([eventOf(r, 'reset')?.missingFromMs, eventOf(r, 'reset')?.missingToMs], [lastCountedAt, reinstalledAt]);
  });

  test('a gap once reported is not reported again by a later reset, even while reads still count nothing', () => {
    const d = new Driver();
    d.poll({ [A]: [1000, 100] }, HOSTS_AB);
    d.after(2000, {}, HOSTS_AB, { isInstallationComplete: false });
    // Put back, but discovery has no hosts yet (ARP lost in the reboot): no counters to read.
    const reinstalledAt = d.clock.now() + 10;
    const r = d.after(2000, {}, HOSTS_AB, { chainRecreated: true, rulesInstalledAtMs: reinstalledAt, isInstallationComplete: false });
    assert.equal(eventOf(r, 'reset')?.missingToMs, reinstalledAt);
    d.after(2000, {}, HOSTS_AB, { isInstallationComplete: false });
    const again = d.after(2000, { [A]: [5, 0] }, HOSTS_AB, { chainRecreated: true, rulesInstalledAtMs: d.clock.now() - 1990 });
    assert.equal(eventOf(again, 'reset')?.missingFromMs, reinstalledAt);
  });

  test('put back without a known re-install time: the gap ends at this read (an upper bound)', () => {
    const d = new Driver();
    d.poll({ [A]: [1000, 100] }, HOSTS_AB);
    const lastCountedAt = d.clock.now();
    const r = d.after(2000, { [A]: [50, 5] }, HOSTS_AB, { chainRecreated: true });
    assert.deepEqual([eventOf(r, 'reset')?.missingFromMs, eventOf(r, 'reset')?.missingToMs], [lastCountedAt, d.clock.now()]);
    // The rules went missing at some moment in that window, not for all of it: the notice says so.
    assert.ok(r.notices[0]?.text.includes(`between ${iso(lastCountedAt)} and the reset (by ${iso(d.clock.now())}) could not be counted`), r.notices[0]?.text);
  });

  test('set up again by someone else while the rules were missing: the decrease names the gap from the last counted read', () => {
    const d = new Driver();
    d.poll({ [A]: [1000, 100] }, HOSTS_AB);
    d.after(2000, { [A]: [3000, 300] }, HOSTS_AB);
    const lastCountedAt = d.clock.now();
    d.after(2000, {}, HOSTS_AB, { isInstallationComplete: false });
    d.after(2000, {}, HOSTS_AB, { isInstallationComplete: false });
    const r = d.after(2000, { [A]: [500, 50] }, HOSTS_AB);
    const reset = eventOf(r, 'reset');
    assert.equal(reset?.reason, 'counter-decrease');
    assert.deepEqual([reset?.missingFromMs, reset?.missingToMs], [lastCountedAt, d.clock.now()]);
    assert.equal(host(r, MAC_A).downBytes, 2000 + 500);
  });

  test('rules that exist but count nothing (incomplete) do not move the last counted read', () => {
    const d = new Driver();
    d.poll({ [A]: [1000, 100] }, HOSTS_AB);
    const lastCountedAt = d.clock.now();
    // Counters still listed (frozen: traffic no longer reaches them), then the router rebuilds everything.
    d.after(2000, { [A]: [1000, 100] }, HOSTS_AB, { isInstallationComplete: false });
    const r = d.after(2000, { [A]: [5, 0] }, HOSTS_AB, { chainRecreated: true, rulesInstalledAtMs: d.clock.now() - 1990 });
    assert.equal(eventOf(r, 'reset')?.missingFromMs, lastCountedAt);
  });

  test('a reboot right at the last read loses nothing, and the notice says so', () => {
    const d = new Driver();
    d.poll({ [A]: [1000, 100] }, HOSTS_AB, { bootMarker: 'boot-1' });
    const t = d.clock.now();
    const r = d.after(60_000, { [A]: [700, 70] }, HOSTS_AB, { bootMarker: 'boot-2', bootAtMs: t });
    assert.equal(host(r, MAC_A).downBytes, 700);
    const text = r.notices.map((n) => n.text).join('\n');
    assert.match(text, /The router rebooted: counting continues from the new counters \(epoch 1\); no traffic is missing\./);
    assert.doesNotMatch(text, /could not be/);
  });

  test('restart while the rules are missing: the last counted read survives in the state', () => {
    const d = new Driver();
    d.poll({ [A]: [1000, 100] }, HOSTS_AB);
    const lastCountedAt = d.clock.now();
    d.after(2000, {}, HOSTS_AB, { isInstallationComplete: false });
    const state = JSON.parse(JSON.stringify(d.acct.exportState())) as AccountingState;
    assert.equal(state.lastCountedAtMs, lastCountedAt);
    const restarted = new Driver({}, state, d.clock.now());
    const reinstalledAt = restarted.clock.now() + 20;
    const r = restarted.after(2000, { [A]: [5, 0] }, HOSTS_AB, { chainRecreated: true, rulesInstalledAtMs: reinstalledAt });
    assert.deepEqual([eventOf(r, 'reset')?.missingFromMs, eventOf(r, 'reset')?.missingToMs], [lastCountedAt, reinstalledAt]);
    // A state written before lastCountedAtMs existed: the last poll is taken as the last counted read.
    const { lastCountedAtMs: _dropped, ...older } = state;
    const fromOlder = new Driver({}, older as AccountingState, d.clock.now());
    const r2 = fromOlder.after(2000, { [A]: [5, 0] }, HOSTS_AB, { chainRecreated: true });
    assert.equal(eventOf(r2, 'reset')?.missingFromMs, state.lastAtMs);
  });
});

describe('hosts coming and going', () => {
  test('appearing and disappearing hosts are reported; a returning host keeps its total', () => {
    const d = new Driver();
    const r0 = d.poll({ [A]: [0, 0] }, [[A, MAC_A, 'laptop']]);
    assert.deepEqual(r0.events.filter((e) => e.kind === 'host-appeared').map((e) => (e as { identity: string }).identity), [MAC_A]);
    const r1 = d.after(1000, { [A]: [100, 0], [B]: [10, 0] }, HOSTS_AB);
    assert.ok(r1.events.some((e) => e.kind === 'host-appeared' && e.identity === MAC_B));
    // B leaves: its rule is removed and discovery no longer lists it.
    const r2 = d.after(1000, { [A]: [200, 0] }, [[A, MAC_A, 'laptop']]);
    assert.ok(r2.events.some((e) => e.kind === 'host-disappeared' && e.identity === MAC_B));
    assert.equal(r2.hosts.some((h) => h.identity === MAC_B), false);
    assert.equal(r2.totals.downBytes, 200); // totals are over the hosts shown
    // B returns with the same IP and a fresh rule (counter from 0): total continues.
    const r3 = d.after(1000, { [A]: [200, 0], [B]: [5, 0] }, HOSTS_AB, { newRuleIps: [B] });
    assert.equal(host(r3, MAC_B).downBytes, 15);
    assert.equal(r3.events.some((e) => e.kind === 'host-appeared'), false);
  });

  test('hosts unseen for longer than forgetAfterMs leave the state; a return starts a new total', () => {
    const d = new Driver({ forgetAfterMs: 10 * 60_000 });
    d.poll({ [A]: [0, 0], [B]: [0, 0] }, HOSTS_AB, { newRuleIps: [A, B] });
    d.after(1000, { [A]: [100, 0], [B]: [50, 0] }, HOSTS_AB);
    d.after(9 * 60_000, { [A]: [200, 0] }, [[A, MAC_A, 'laptop']]);
    assert.ok(d.acct.exportState().hosts[MAC_B], 'still remembered after 9 minutes');
    d.after(2 * 60_000, { [A]: [300, 0] }, [[A, MAC_A, 'laptop']]);
    assert.equal(d.acct.exportState().hosts[MAC_B], undefined, 'forgotten after 11 minutes');
    assert.ok(d.acct.exportState().hosts[MAC_A]);
    const r = d.after(1000, { [A]: [300, 0], [B]: [70, 0] }, HOSTS_AB);
    assert.equal(host(r, MAC_B).downBytes, 20);
    assert.ok(r.events.some((e) => e.kind === 'host-appeared' && e.identity === MAC_B));
  });

  test('a rule missing from one listing and back again continues from its baseline (no double count)', () => {
    const d = new Driver();
    d.poll({ [A]: [1000, 0], [B]: [0, 0] }, HOSTS_AB);
    d.after(1000, { [A]: [1500, 0], [B]: [0, 0] }, HOSTS_AB);
    d.after(1000, { [B]: [0, 0] }, HOSTS_AB); // truncated listing: A missing
    const r = d.after(1000, { [A]: [1800, 0], [B]: [0, 0] }, HOSTS_AB);
    assert.equal(host(r, MAC_A).downBytes, 800);
  });

  test('a host stays counted while discovery misses it, under its MAC', () => {
    const d = new Driver();
    d.poll({ [A]: [0, 0] }, HOSTS_AB);
    const r = d.after(1000, { [A]: [100, 0] }, []);
    assert.equal(host(r, MAC_A).downBytes, 100);
    assert.equal(host(r, MAC_A).hostname, 'laptop');
  });

  test('hostname change updates the name; a missing name keeps the old one', () => {
    const d = new Driver();
    d.poll({ [A]: [0, 0] }, [[A, MAC_A, 'old']]);
    const r = d.after(1000, { [A]: [0, 0] }, [[A, MAC_A, 'new']]);
    assert.equal(host(r, MAC_A).hostname, 'new');
    assert.ok(kinds(r).includes('host-renamed'));
    const r2 = d.after(1000, { [A]: [0, 0] }, [[A, MAC_A, null]]);
    assert.equal(host(r2, MAC_A).hostname, 'new');
  });

  test('MACs are normalised: case, dashes; all-zero and broadcast mean unknown', () => {
    assert.equal(normalizeMac('AA-BB-CC-00-00-0A'), MAC_A);
    assert.equal(normalizeMac('00:00:00:00:00:00'), null);
    assert.equal(normalizeMac('FF:FF:FF:FF:FF:FF'), null);
    assert.equal(normalizeMac(null), null);
    const d = new Driver();
    const r = d.poll({ [A]: [0, 0] }, [[A, 'AA:BB:CC:00:00:0A', null]]);
    assert.equal(r.hosts[0]?.identity, MAC_A);
  });
});

describe('identity follows the MAC', () => {
  test('IP change with the same MAC: history follows, the old rule is not double counted', () => {
    const d = new Driver();
    d.poll({ [A]: [0, 0] }, [[A, MAC_A, 'laptop']], { newRuleIps: [A] });
    d.after(2000, { [A]: [5000, 500] }, [[A, MAC_A, 'laptop']]);
    // DHCP moves the laptop to C; lantop installs rules for C (fresh counters) and the old rule for A
    // lingers with its old counters.
    const r = d.after(2000, { [A]: [5000, 500], [C]: [700, 70] }, [[C, MAC_A, 'laptop']], { newRuleIps: [C] });
    const h = host(r, MAC_A);
    assert.equal(h.ip, C);
    assert.equal(h.downBytes, 5700);
    assert.equal(h.upBytes, 570);
    assert.ok(r.events.some((e) => e.kind === 'ip-changed' && e.fromIp === A && e.toIp === C));
    assert.equal(r.hosts.length, 1);
    // Old rule removed, A given to a new device N with a fresh rule: N's bytes are N's.
    const r2 = d.after(2000, { [A]: [40, 4], [C]: [900, 90] }, [
      [C, MAC_A, 'laptop'],
      [A, MAC_N, 'tv'],
    ], { newRuleIps: [A] });
    assert.equal(host(r2, MAC_A).downBytes, 5900);
    assert.equal(host(r2, MAC_N).downBytes, 40);
    assert.ok(r2.events.some((e) => e.kind === 'ip-reassigned' && e.ip === A && e.toIdentity === MAC_N));
  });

  test('IP change without newRuleIps: the new rule, unseen at the previous poll, counts from zero once', () => {
    const d = new Driver();
    d.poll({ [A]: [100, 0] }, [[A, MAC_A, null]]);
    d.after(2000, { [A]: [300, 0] }, [[A, MAC_A, null]]);
    const r = d.after(2000, { [C]: [50, 0] }, [[C, MAC_A, null]]);
    assert.equal(host(r, MAC_A).downBytes, 250);
    const r2 = d.after(2000, { [C]: [80, 0] }, [[C, MAC_A, null]]);
    assert.equal(host(r2, MAC_A).downBytes, 280);
  });

  test('a MAC-less host whose MAC becomes known keeps its history under the MAC', () => {
    const d = new Driver();
    d.poll({ [A]: [0, 0] }, [[A, null, null]], { newRuleIps: [A] });
    const r1 = d.after(1000, { [A]: [400, 0] }, [[A, null, null]]);
    assert.equal(host(r1, `ip:${A}`).downBytes, 400);
    const r2 = d.after(1000, { [A]: [600, 0] }, [[A, MAC_A, 'laptop']]);
    assert.equal(host(r2, MAC_A).downBytes, 600);
    assert.equal(r2.hosts.length, 1);
    assert.ok(r2.events.some((e) => e.kind === 'identity-merged' && e.fromIdentity === `ip:${A}` && e.toIdentity === MAC_A));
    assert.equal(r2.events.some((e) => e.kind === 'host-disappeared'), false);
  });

  test('a MAC-less IP taken by an already-known MAC is not merged into it', () => {
    const d = new Driver();
    d.poll({ [A]: [0, 0], [C]: [0, 0] }, [[A, MAC_A, null], [C, null, null]], { newRuleIps: [A, C] });
    d.after(1000, { [A]: [100, 0], [C]: [900, 0] }, [[A, MAC_A, null], [C, null, null]]);
    const r = d.after(1000, { [A]: [100, 0], [C]: [950, 0] }, [[C, MAC_A, null]]);
    assert.equal(host(r, MAC_A).downBytes, 150);
    assert.equal(kinds(r).includes('identity-merged'), false);
  });
});

describe('restart: state survives serialisation', () => {
  test('serialise → JSON → new accountant → continue without double count or loss', () => {
    const d = new Driver({}, undefined);
    d.poll({ [A]: [0, 0], [B]: [0, 0] }, HOSTS_AB, { newRuleIps: [A, B], bootMarker: 'm1' });
    d.after(2000, { [A]: [1000, 100], [B]: [10, 1] }, HOSTS_AB, { bootMarker: 'm1' });
    const saved = JSON.stringify(d.acct.exportState());
    // lantop is down for an hour; the router keeps counting.
    const restarted = new Driver({}, JSON.parse(saved) as AccountingState, d.clock.now() + 3_600_000);
    const r = restarted.poll({ [A]: [91_000, 900], [B]: [10, 1] }, HOSTS_AB, { bootMarker: 'm1' });
    assert.equal(host(r, MAC_A).downBytes, 91_000);
    assert.equal(host(r, MAC_A).upBytes, 900);
    assert.equal(host(r, MAC_B).downBytes, 10);
    assert.equal(eventOf(r, 'baseline'), undefined);
    assert.equal(eventOf(r, 'reset'), undefined);
    // The first rate after a restart averages over the time lantop was away.
    assert.equal(host(r, MAC_A).downBps, 90_000 / 3600);
  });

  test('restart across a router reboot: the bytes since the boot are added, the gap is reported', () => {
    const d = new Driver();
    d.poll({ [A]: [0, 0] }, HOSTS_AB, { newRuleIps: [A], bootMarker: 'm1' });
    d.after(2000, { [A]: [1000, 0] }, HOSTS_AB, { bootMarker: 'm1' });
    const savedAt = d.clock.now();
    const state = d.acct.exportState();
    delete state.rateWindow;
    delete state.lastRates;
    const restarted = new Driver({}, state, savedAt + 600_000);
    const r = restarted.poll({ [A]: [250, 0] }, HOSTS_AB, { bootMarker: 'm2', bootAtMs: savedAt + 300_000 });
    assert.equal(host(r, MAC_A).downBytes, 1250);
    const reset = eventOf(r, 'reset');
    assert.deepEqual([reset?.missingFromMs, reset?.missingToMs], [savedAt, savedAt + 300_000]);
  });

  test('a state of an unknown version is refused', () => {
    const bad = { ...emptyAccountingState(), version: 2 } as unknown as AccountingState;
    assert.throws(() => new Accountant({}, bad), RangeError);
  });

  test('exportState is a copy: mutating it does not touch the accountant', () => {
    const d = new Driver();
    d.poll({ [A]: [0, 0] }, HOSTS_AB, { newRuleIps: [A] });
    const s = d.acct.exportState();
    const rec = s.hosts[MAC_A];
    assert.ok(rec);
    rec.downBytes = 999;
    const r = d.after(1000, { [A]: [1, 0] }, HOSTS_AB);
    assert.equal(host(r, MAC_A).downBytes, 1);
  });

  test('property: any split into restarts gives the same totals as one uninterrupted run', () => {
    const step = fc.record({
      dtMs: fc.integer({ min: 0, max: 5000 }),
      grow: fc.array(fc.tuple(fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 0, max: 100_000 })), { minLength: 3, maxLength: 3 }),
      event: fc.constantFrom('none', 'none', 'none', 'reboot', 'zero-one', 'restart'),
    });
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 40 }), (steps) => {
        const ips = [A, B, C];
        const hosts: Hosts = [[A, MAC_A, null], [B, MAC_B, null], [C, null, null]];
        const raw = ips.map(() => [0, 0] as [number, number]);
        const truth = ips.map(() => [0, 0] as [number, number]);
        let boot = 0;
        const once = new Driver({ linkBitsPerSecond: 1e12 });
        let split = new Driver({ linkBitsPerSecond: 1e12 });
        const first = { newRuleIps: ips, bootMarker: 'b0' };
        const counters = () => Object.fromEntries(ips.map((ip, i) => [ip, [...(raw[i] ?? [0, 0])] as [number, number]]));
        once.poll(counters(), hosts, first);
        split.poll(counters(), hosts, first);
        for (const s of steps) {
          if (s.event === 'reboot') {
            boot += 1;
            for (const r of raw) r.splice(0, 2, 0, 0);
          }
          if (s.event === 'zero-one') (raw[0] as [number, number]).splice(0, 2, 0, 0);
          if (s.event === 'restart') {
            split = new Driver({ linkBitsPerSecond: 1e12 }, JSON.parse(JSON.stringify(split.acct.exportState())) as AccountingState, split.clock.now());
          }
          s.grow.forEach(([d, u], i) => {
            const r = raw[i] as [number, number];
            const t = truth[i] as [number, number];
            // A counter that was just zeroed must show some bytes or the reset is invisible.
            const dd = s.event === 'zero-one' && i === 0 ? Math.max(d, 1) : d;
            r[0] += dd;
            r[1] += u;
            t[0] += dd;
            t[1] += u;
          });
          const extra = { bootMarker: `b${boot}` };
          const a = once.after(s.dtMs, counters(), hosts, extra);
          const b = split.after(s.dtMs, counters(), hosts, extra);
          assert.deepEqual(
            b.hosts.map((h) => [h.identity, h.downBytes, h.upBytes]),
            a.hosts.map((h) => [h.identity, h.downBytes, h.upBytes]),
          );
          // B and C are never zeroed on their own: their totals are exact.
          assert.deepEqual([host(b, MAC_B).downBytes, host(b, MAC_B).upBytes], truth[1]);
          assert.deepEqual([host(b, `ip:${C}`).downBytes, host(b, `ip:${C}`).upBytes], truth[2]);
        }
        return true;
      }),
      { numRuns: 200 },
    );
  });

  test('property: without resets, a host total equals its counter growth exactly', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 10_000 }), fc.nat(1_000_000), fc.nat(1_000_000)), { minLength: 1, maxLength: 60 }), (steps) => {
        const d = new Driver();
        let down = 123;
        let up = 45;
        d.poll({ [A]: [down, up] }, HOSTS_AB);
        let r: AccountingResult | null = null;
        for (const [dt, dd, du] of steps) {
          down += dd;
          up += du;
          r = d.after(dt, { [A]: [down, up] }, HOSTS_AB);
        }
        assert.ok(r);
        assert.equal(host(r, MAC_A).downBytes, down - 123);
        assert.equal(host(r, MAC_A).upBytes, up - 45);
        return true;
      }),
      { numRuns: 100 },
    );
  });
});
