// A restarted lantop continues from the saved state without loss or double counting (issue 7).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Accountant, emptyAccountingState, type AccountingResult, type AccountingState } from './accounting.js';
import { A, B, C, Driver, HOSTS_AB, MAC_A, MAC_B, eventOf, host, kinds, type Hosts } from '../../test/helpers/accounting-driver.js';

const P1 = '2001:db8::a1';

describe('restart: state survives serialisation', () => {
  test('serialise → JSON → new accountant → continue without double count or loss', () => {
    const d = new Driver({}, undefined);
    d.poll({ [A]: [0, 0], [B]: [0, 0] }, HOSTS_AB, { newAddresses: [A, B], bootMarker: 'm1' });
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
    d.poll({ [A]: [0, 0] }, HOSTS_AB, { newAddresses: [A], bootMarker: 'm1' });
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

  test('a dual-stack host continues after a restart: its addresses are saved, its total summed', () => {
    const hosts: Hosts = [[A, MAC_A, null], [P1, MAC_A, null]];
    const d = new Driver();
    d.poll({ [A]: [0, 0], [P1]: [0, 0] }, hosts, { newAddresses: [A, P1] });
    d.after(1000, { [A]: [100, 0], [P1]: [50, 0] }, hosts);
    const state = JSON.parse(JSON.stringify(d.acct.exportState())) as AccountingState;
    assert.deepEqual(state.hosts[MAC_A]?.addresses, [A, P1]);
    const restarted = new Driver({}, state, d.clock.now());
    const r = restarted.after(1000, { [A]: [100, 0], [P1]: [80, 0] }, hosts);
    assert.equal(host(r, MAC_A).downBytes, 180);
    assert.deepEqual(host(r, MAC_A).addresses, [A, P1]);
  });

  test('a state saved before hosts had several addresses still loads: each host has its one address', () => {
    const d = new Driver();
    d.poll({ [A]: [0, 0], [B]: [0, 0] }, HOSTS_AB, { newAddresses: [A, B] });
    d.after(1000, { [A]: [100, 0], [B]: [10, 0] }, HOSTS_AB);
    const state = JSON.parse(JSON.stringify(d.acct.exportState())) as AccountingState;
    for (const h of Object.values(state.hosts)) delete h.addresses;
    const restarted = new Driver({}, state, d.clock.now());
    assert.deepEqual(restarted.acct.exportState().hosts[MAC_A]?.addresses, [A]);
    // Discovery misses B: its row still shows its one address, from its counter.
    const r = restarted.after(1000, { [A]: [150, 0], [B]: [20, 0] }, [[A, MAC_A, 'laptop'], [P1, MAC_A, 'laptop']]);
    assert.deepEqual([host(r, MAC_A).downBytes, host(r, MAC_B).downBytes], [150, 20]);
    assert.deepEqual(host(r, MAC_A).addresses, [A, P1]);
    assert.deepEqual(host(r, MAC_B).addresses, [B]);
    assert.equal(eventOf(r, 'baseline'), undefined);
    assert.equal(kinds(r).includes('host-appeared'), false);
  });

  test('a state of an unknown version is refused', () => {
    const bad = { ...emptyAccountingState(), version: 2 } as unknown as AccountingState;
    assert.throws(() => new Accountant({}, bad), RangeError);
  });

  test('exportState is a copy: mutating it does not touch the accountant', () => {
    const d = new Driver();
    d.poll({ [A]: [0, 0] }, HOSTS_AB, { newAddresses: [A] });
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
        const first = { newAddresses: ips, bootMarker: 'b0' };
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
