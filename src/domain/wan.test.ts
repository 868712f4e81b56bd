import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { accountedShareOf, MAX_SHARE, WanReconciler, wanDirectionDelta, type DirectionTotals, type WanDelta, type WanObservation } from './wan.js';
import type { WanSample } from './wan-model.js';

const MB = 1_000_000;
const TWO_32 = 2 ** 32;

function sample(atMs: number, c: Partial<WanSample> = {}): WanSample {
  return { atMs, interface: 'ppp0', rxBytes: 0, rxPackets: 0, txBytes: 0, txPackets: 0, linkHeaderBytes: 0, counterBits: 64, ...c };
}
const totals = (downBytes: number, upBytes: number): DirectionTotals => ({ downBytes, upBytes });
const obs = (atMs: number, s: Partial<WanSample> | null, host: DirectionTotals, router: DirectionTotals | null = totals(0, 0)): WanObservation => ({
  sample: s === null ? null : sample(atMs, s),
  hostTotals: host,
  routerCounters: router,
  atMs,
});

describe('deltas', () => {
  test('Ethernet: the 14-byte header per packet comes off; the router\'s own traffic comes off the denominator', () => {
    const r = new WanReconciler();
    const eth = { linkHeaderBytes: 14, interface: 'eth1' };
    assert.equal(r.observe(obs(0, { ...eth, rxBytes: 1000, rxPackets: 10, txBytes: 500, txPackets: 5 }, totals(0, 0)))?.downBytes, 0);
    const view = r.observe(obs(2000, { ...eth, rxBytes: 1000 + 10 * MB + 14 * 1000, rxPackets: 1010, txBytes: 500 + 2 * MB + 14 * 500, txPackets: 505 }, totals(8 * MB, 1.5 * MB), totals(2 * MB, 0.5 * MB)));
    assert.deepEqual(view, {
      interface: 'eth1', downBytes: 10 * MB, upBytes: 2 * MB, routerDownBytes: 2 * MB, routerUpBytes: 0.5 * MB, hostDownBytes: 8 * MB, hostUpBytes: 1.5 * MB,
      accountedShare: { down: 1, up: 1 }, recentAccountedShare: { down: 1, up: 1 }, sinceMs: 0, discardedReads: 0, isLinkHeaderKnown: true,
    });
    assert.deepEqual(r.lastDelta, { fromMs: 0, atMs: 2000, downBytes: 10 * MB, upBytes: 2 * MB, routerDownBytes: 2 * MB, routerUpBytes: 0.5 * MB, hostDownBytes: 8 * MB, hostUpBytes: 1.5 * MB });
  });

  test('a 32-bit byte counter that went down while its packets went up wrapped: +2^32', () => {
    assert.deepEqual(wanDirectionDelta({ bytes: TWO_32 - 1000, packets: 100 }, { bytes: 500, packets: 110 }, 32), { bytes: 1500, packets: 10 });
    assert.deepEqual(wanDirectionDelta({ bytes: 5000, packets: TWO_32 - 2 }, { bytes: 9000, packets: 3 }, 32), { bytes: 4000, packets: 5 });
  });

  test('resets, never wraps: a 64-bit counter down; both counters down; a wrap the packets cannot hold; a value ≥ 2^32', () => {
    assert.equal(wanDirectionDelta({ bytes: 5000, packets: 10 }, { bytes: 100, packets: 11 }, 64), null);
    assert.equal(wanDirectionDelta({ bytes: 5000, packets: 10 }, { bytes: 100, packets: 1 }, 32), null, 'a reboot: both restart');
    assert.equal(wanDirectionDelta({ bytes: 3 * 1024 ** 3, packets: 10 }, { bytes: 100, packets: 11 }, 32), null, '1 GiB in one packet');
    assert.equal(wanDirectionDelta({ bytes: TWO_32 + 5, packets: 10 }, { bytes: 100, packets: 11 }, 32), null);
    assert.equal(wanDirectionDelta({ bytes: 5000, packets: TWO_32 - 2 }, { bytes: 5010, packets: 3 }, 32), null, '10 bytes for 5 packets');
  });

  test('a reset on any side discards the read on every side and makes it the new baseline', () => {
    const r = new WanReconciler({ minShareBytes: 1 });
    r.observe(obs(0, { rxBytes: 1000, rxPackets: 10, txBytes: 100, txPackets: 1 }, totals(0, 0)));
    r.observe(obs(1000, { rxBytes: 2000, rxPackets: 20, txBytes: 200, txPackets: 2 }, totals(900, 90)));
    // The router rebooted: WAN counters restarted (64-bit).
    let v = r.observe(obs(2000, { rxBytes: 300, rxPackets: 3, txBytes: 30, txPackets: 1 }, totals(1200, 120)));
    assert.equal(r.lastDelta, null);
    assert.equal(v?.downBytes, 1000);
    assert.equal(v?.hostDownBytes, 900);
    assert.equal(v?.discardedReads, 1);
    v = r.observe(obs(3000, { rxBytes: 1300, rxPackets: 13, txBytes: 130, txPackets: 2 }, totals(2100, 210)));
    assert.equal(v?.downBytes, 2000);
    assert.equal(v?.hostDownBytes, 1800);
    // Host totals went down (lantop restarted its accounting): discarded too.
    v = r.observe(obs(4000, { rxBytes: 2300, rxPackets: 23, txBytes: 230, txPackets: 3 }, totals(10, 1)));
    assert.equal(v?.downBytes, 2000);
    assert.equal(v?.discardedReads, 2);
    // Router counters went down.
    r.observe(obs(5000, { rxBytes: 3300, rxPackets: 33, txBytes: 330, txPackets: 4 }, totals(910, 91), totals(50, 5)));
    v = r.observe(obs(6000, { rxBytes: 4300, rxPackets: 43, txBytes: 430, txPackets: 5 }, totals(1810, 181), totals(0, 0)));
    assert.equal(v?.discardedReads, 3);
    assert.equal(v?.routerDownBytes, 50, 'the interval before the router counters went down is kept');
  });

  test('a failed WAN read changes nothing; the next read spans both intervals on every side', () => {
    const r = new WanReconciler({ minShareBytes: 1 });
    r.observe(obs(0, { rxBytes: 0, rxPackets: 0 }, totals(0, 0)));
    assert.equal(r.observe(obs(1000, null, totals(400, 0)))?.hostDownBytes, 0);
    assert.equal(r.lastDelta, null);
    const v = r.observe(obs(2000, { rxBytes: 1000, rxPackets: 4 }, totals(900, 0)));
    assert.equal((r.lastDelta as WanDelta | null)?.fromMs, 0);
    assert.equal(v?.downBytes, 1000);
    assert.equal(v?.accountedShare.down, 0.9);
    assert.equal(v?.accountedShare.up, null, 'nothing crossed upwards');
    assert.equal(new WanReconciler().observe(obs(0, null, totals(0, 0))), null, 'no sample yet: no view');
  });

  test('router counters unavailable: null figures, the WAN whole is the denominator', () => {
    const r = new WanReconciler({ minShareBytes: 1 });
    r.observe(obs(0, {}, totals(0, 0), null));
    const v = r.observe(obs(1000, { rxBytes: 1000, rxPackets: 1, txBytes: 100, txPackets: 1 }, totals(800, 100), null));
    assert.equal(v?.routerDownBytes, null);
    assert.equal(v?.accountedShare.down, 0.8);
    assert.equal(r.recentWindow()?.isRouterCounted, false);
  });

  test('the interface changed, the clock stepped back, or too long a gap: a new baseline', () => {
    const r = new WanReconciler({ maxGapMs: 10_000 });
    r.observe(obs(0, { rxBytes: 100, rxPackets: 1 }, totals(0, 0)));
    r.observe(obs(-5, { rxBytes: 200, rxPackets: 2 }, totals(50, 0)));
    assert.equal(r.lastDelta, null);
    r.observe(obs(20_000, { rxBytes: 300, rxPackets: 3 }, totals(60, 0)));
    assert.equal(r.lastDelta, null);
    const v = r.observe({ ...obs(21_000, { rxBytes: 5, rxPackets: 1 }, totals(70, 0)), sample: sample(21_000, { interface: 'eth0.2', rxBytes: 5, rxPackets: 1 }) });
    assert.equal(v?.interface, 'eth0.2');
    assert.equal(v?.sinceMs, 21_000);
    assert.equal(v?.downBytes, 0);
  });

  test('shares: null below 256 KiB crossed, clamped to 1', () => {
    assert.equal(accountedShareOf(256 * 1024 - 1, null, 100), null);
    assert.equal(accountedShareOf(256 * 1024, null, 256 * 1024), 1);
    assert.equal(accountedShareOf(MB, null, 10 * MB), MAX_SHARE);
    assert.equal(accountedShareOf(MB, 2 * MB, MB), null, 'the router counted more than the WAN (skew): no figure');
    assert.equal(accountedShareOf(MB, 0, 0), 0);
  });

  test('the recent share covers the last minute, the span share everything', () => {
    const r = new WanReconciler();
    let rx = 0;
    let host = 0;
    r.observe(obs(0, { rxBytes: 0, rxPackets: 0 }, totals(0, 0)));
    // 2 minutes fully counted, then a minute half counted; polls every 2 s, 1 MB each.
    for (let t = 2000; t <= 180_000; t += 2000) {
      rx += MB;
      host += t <= 120_000 ? MB : MB / 2;
      r.observe(obs(t, { rxBytes: rx, rxPackets: rx / 1000 }, totals(host, 0)));
    }
    const v = r.observe(obs(182_000, { rxBytes: rx, rxPackets: rx / 1000 }, totals(host, 0)));
    assert.equal(v?.recentAccountedShare.down, 0.5);
    assert.ok(Math.abs((v?.accountedShare.down ?? 0) - (60 + 15) / 90) < 1e-12);
    assert.equal(r.recentWindow()?.durationMs, 60_000);
  });
});

describe('persistence across a one-shot run', () => {
  test('the exported state is JSON; imported, the next read gives the delta since the last poll', () => {
    const a = new WanReconciler({ minShareBytes: 1 });
    a.observe(obs(0, { rxBytes: 100, rxPackets: 1, linkHeaderBytes: 14 }, totals(0, 0), totals(5, 5)));
    a.observe(obs(2000, { rxBytes: 1114, rxPackets: 2, linkHeaderBytes: 14 }, totals(500, 0), totals(5, 5)));
    const stored = JSON.parse(JSON.stringify(a.exportState()));
    assert.ok(JSON.stringify(stored).length < 600);
    const b = new WanReconciler({ minShareBytes: 1 });
    assert.equal(b.importState(stored), true);
    const v = b.observe(obs(62_000, { rxBytes: 3128, rxPackets: 3, linkHeaderBytes: 14 }, totals(1500, 0), totals(5, 5)));
    assert.equal(b.lastDelta?.fromMs, 2000);
    assert.equal(v?.downBytes, 2000);
    assert.equal(v?.accountedShare.down, 0.5);
    assert.equal(v?.sinceMs, 2000);
  });

  test('a damaged state is refused and changes nothing', () => {
    const r = new WanReconciler();
    for (const bad of [null, 1, {}, { version: 2, last: null }, { version: 1, last: { atMs: 1, sample: { interface: 'x' }, hostTotals: totals(0, 0), routerCounters: null } }, { version: 1, last: { atMs: 'x', sample: sample(1), hostTotals: totals(0, 0), routerCounters: null } }]) {
      assert.equal(r.importState(bad), false, JSON.stringify(bad));
    }
    assert.deepEqual(r.exportState(), { version: 1, last: null });
    assert.equal(r.importState({ version: 1, last: null }), true);
  });
});

describe('properties', () => {
  // A counter sequence with steps up, 32-bit wraps, resets to small values, failed reads, and
  // host/router totals that sometimes go down.
  const step = fc.record({
    dtMs: fc.integer({ min: -1000, max: 5000 }),
    rx: fc.oneof(fc.nat(5 * MB), fc.constant(-1), fc.constant(-2)),
    rxp: fc.nat(5000),
    tx: fc.oneof(fc.nat(MB), fc.constant(-1), fc.constant(-2)),
    txp: fc.nat(1000),
    host: fc.oneof(fc.nat(6 * MB), fc.constant(-1)),
    router: fc.oneof(fc.nat(MB), fc.constant(-1), fc.constant(-3)),
    isFailed: fc.boolean(),
  });
  const bits = fc.constantFrom<32 | 64>(32, 64);
  const apply = (v: number, d: number, modulo: number, reset: number) => (d === -1 ? reset : d === -2 ? (v + modulo - 7) % modulo : (v + d) % modulo);

  test('no negative delta and shares within [0, 1] whatever the counters do; span totals never go down', () => {
    fc.assert(
      fc.property(bits, fc.integer({ min: 0, max: 40 }), fc.array(step, { maxLength: 60 }), (counterBits, header, steps) => {
        const modulo = counterBits === 32 ? TWO_32 : Number.MAX_SAFE_INTEGER;
        const r = new WanReconciler({ minShareBytes: 1 });
        let t = 0;
        const c = { rx: TWO_32 - 3 * MB, rxp: 10, tx: 0, txp: 0, hd: 0, hu: 0, rd: 0, ru: 0 };
        if (counterBits === 64) c.rx = 0;
        let previous = { down: 0, up: 0, host: 0 };
        for (const s of steps) {
          t += s.dtMs;
          c.rx = apply(c.rx, s.rx, modulo, 17);
          c.rxp = (c.rxp + s.rxp) % modulo;
          c.tx = apply(c.tx, s.tx, modulo, 3);
          c.txp = (c.txp + s.txp) % modulo;
          if (s.host === -1) c.hd = 0;
          else c.hd += s.host;
          c.hu += Math.floor(s.rxp / 2);
          if (s.router === -1) c.rd = 0;
          else if (s.router >= 0) c.rd += s.router;
          const router = s.router === -3 ? null : totals(c.rd, c.ru);
          const view = r.observe({
            sample: s.isFailed ? null : sample(t, { rxBytes: c.rx, rxPackets: c.rxp, txBytes: c.tx, txPackets: c.txp, linkHeaderBytes: header, counterBits }),
            hostTotals: totals(c.hd, c.hu),
            routerCounters: router,
            atMs: t,
          });
          const d = r.lastDelta;
          if (d !== null) for (const v of [d.downBytes, d.upBytes, d.hostDownBytes, d.hostUpBytes, d.routerDownBytes ?? 0, d.routerUpBytes ?? 0]) assert.ok(Number.isSafeInteger(v) && v >= 0, String(v));
          if (view === null) continue;
          for (const share of [view.accountedShare.down, view.accountedShare.up, view.recentAccountedShare.down, view.recentAccountedShare.up]) {
            assert.ok(share === null || (share >= 0 && share <= MAX_SHARE), String(share));
          }
          assert.ok(view.downBytes >= previous.down && view.upBytes >= previous.up && view.hostDownBytes >= previous.host);
          previous = { down: view.downBytes, up: view.upBytes, host: view.hostDownBytes };
        }
      }),
      { numRuns: 300 },
    );
  });

  test('steady traffic with 32-bit wraps: the span equals what truly crossed', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 400 * MB }), { minLength: 1, maxLength: 40 }), (chunks) => {
        const r = new WanReconciler();
        let rx = TWO_32 - 100 * MB;
        let packets = 0;
        let truth = 0;
        r.observe(obs(0, { rxBytes: rx, rxPackets: 0, counterBits: 32 }, totals(0, 0)));
        chunks.forEach((bytes, i) => {
          truth += bytes;
          rx = (rx + bytes) % TWO_32;
          packets += Math.ceil(bytes / 1500);
          r.observe(obs((i + 1) * 2000, { rxBytes: rx, rxPackets: packets, counterBits: 32 }, totals(truth, 0)));
        });
        const v = r.observe(obs((chunks.length + 1) * 2000, null, totals(truth, 0)));
        assert.equal(v?.downBytes, truth);
        assert.equal(v?.discardedReads, 0);
      }),
    );
  });
});
