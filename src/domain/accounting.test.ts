// The accountant's everyday arithmetic: baselines, deltas, totals, shares and rates (issue 7).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { A, B, C, Driver, HOSTS_AB, MAC_A, MAC_B, eventOf, host, kinds } from '../../test/helpers/accounting-driver.js';

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
    const r = d.poll({ [A]: [5000, 700], [B]: [10, 1] }, HOSTS_AB, { newAddresses: [A] });
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
    d.poll({ [A]: [0, 0] }, HOSTS_AB, { newAddresses: [A] });
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
