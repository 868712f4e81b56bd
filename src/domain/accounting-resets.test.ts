// Counters that restart: reboots, flushes, reinstalls, wrap-like and absurd jumps, unreadable values (issue 7).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { A, B, Driver, HOSTS_AB, MAC_A, MAC_B, eventOf, host, kinds } from '../../test/helpers/accounting-driver.js';

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
    // Someone zeroed the counters by hand: A restarts; B's counter grew past its old value before this poll —
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

  test('counters reinstalled from scratch: every counter is new, even one that climbed above its old value', () => {
    const d = new Driver();
    d.poll({ [A]: [1000, 100], [B]: [10, 1] }, HOSTS_AB);
    d.after(2000, { [A]: [2000, 200], [B]: [20, 2] }, HOSTS_AB);
    const r = d.after(2000, { [A]: [50, 5], [B]: [500, 50] }, HOSTS_AB, { isReinstalled: true });
    assert.equal(host(r, MAC_A).downBytes, 1000 + 50);
    assert.equal(host(r, MAC_B).downBytes, 10 + 500);
    assert.equal(eventOf(r, 'reset')?.reason, 'reinstalled');
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
    const r2 = d.after(10, { [A]: [900_000, 0] }, HOSTS_AB, { isReinstalled: true });
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
