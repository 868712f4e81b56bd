// Counting rules missing, then put back: which traffic a notice says is lost (issue 13).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { AccountingState } from './accounting.js';
import { A, B, Driver, HOSTS_AB, MAC_A, MAC_B, eventOf, host, iso } from '../../test/helpers/accounting-driver.js';

describe('rules missing, then put back (issue 13: notices must be true)', () => {
  test('first installation (nothing counted before): every counter from zero, no reset, no notice', () => {
    const d = new Driver();
    // A router lantop has never counted on: the first read finds no rules at all.
    const r0 = d.poll({}, HOSTS_AB, { isInstallationComplete: false });
    assert.deepEqual(r0.notices, []);
    const installedAt = d.clock.now() + 30;
    const r = d.after(2000, { [A]: [700, 70], [B]: [10, 1] }, HOSTS_AB, { isReinstalled: true, rulesInstalledAtMs: installedAt });
    assert.equal(host(r, MAC_A).downBytes, 700);
    assert.equal(host(r, MAC_B).upBytes, 1);
    assert.equal(eventOf(r, 'reset'), undefined);
    assert.equal(eventOf(r, 'baseline'), undefined);
    assert.equal(r.epoch, 0);
    assert.deepEqual(r.notices, []);
  });

  test('first installation on the very first poll is not a reset either', () => {
    const d = new Driver();
    const r = d.poll({ [A]: [700, 70] }, HOSTS_AB, { isReinstalled: true });
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
    const r = d.after(2000, { [A]: [400, 40], [B]: [0, 0] }, HOSTS_AB, { isReinstalled: true, rulesInstalledAtMs: reinstalledAt });
    assert.equal(host(r, MAC_A).downBytes, 2000 + 400);
    assert.equal(host(r, MAC_A).upBytes, 200 + 40);
    assert.equal(host(r, MAC_B).downBytes, 10);
    assert.equal(r.epoch, 1);
    const reset = eventOf(r, 'reset');
    assert.equal(reset?.reason, 'reinstalled');
    assert.deepEqual([reset?.missingFromMs, reset?.missingToMs], [lastCountedAt, reinstalledAt]);
    assert.equal(r.notices.length, 1);
    const text = r.notices[0]?.text ?? '';
    assert.equal(r.notices[0]?.level, 'warn');
    assert.match(text, /^lantop's counting rules were missing \(the router rebuilt its firewall\?\) and were put back: /);
    assert.ok(text.includes(`between ${iso(lastCountedAt)} and ${iso(reinstalledAt)}`), text);
    assert.ok(!text.includes(iso(d.clock.now())), `the window counted since the re-install is not missing: ${text}`);
    // The whole text, in lantop's words: no backend's object names.
    assert.equal(
      text,
      `lantop's counting rules were missing (the router rebuilt its firewall?) and were put back: counting continues from the new counters (epoch 1); traffic between ${iso(lastCountedAt)} and ${iso(reinstalledAt)} could not be counted.`,
    );
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
    const r = d.after(2000, { [A]: [5, 0] }, HOSTS_AB, { isReinstalled: true, rulesInstalledAtMs: reinstalledAt });
    assert.deepEqual([eventOf(r, 'reset')?.missingFromMs, eventOf(r, 'reset')?.missingToMs], [lastCountedAt, reinstalledAt]);
  });

  test('a gap once reported is not reported again by a later reset, even while reads still count nothing', () => {
    const d = new Driver();
    d.poll({ [A]: [1000, 100] }, HOSTS_AB);
    d.after(2000, {}, HOSTS_AB, { isInstallationComplete: false });
    // Put back, but discovery has no hosts yet (ARP lost in the reboot): no counters to read.
    const reinstalledAt = d.clock.now() + 10;
    const r = d.after(2000, {}, HOSTS_AB, { isReinstalled: true, rulesInstalledAtMs: reinstalledAt, isInstallationComplete: false });
    assert.equal(eventOf(r, 'reset')?.missingToMs, reinstalledAt);
    d.after(2000, {}, HOSTS_AB, { isInstallationComplete: false });
    const again = d.after(2000, { [A]: [5, 0] }, HOSTS_AB, { isReinstalled: true, rulesInstalledAtMs: d.clock.now() - 1990 });
    assert.equal(eventOf(again, 'reset')?.missingFromMs, reinstalledAt);
  });

  test('put back without a known re-install time: the gap ends at this read (an upper bound)', () => {
    const d = new Driver();
    d.poll({ [A]: [1000, 100] }, HOSTS_AB);
    const lastCountedAt = d.clock.now();
    const r = d.after(2000, { [A]: [50, 5] }, HOSTS_AB, { isReinstalled: true });
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
    const r = d.after(2000, { [A]: [5, 0] }, HOSTS_AB, { isReinstalled: true, rulesInstalledAtMs: d.clock.now() - 1990 });
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
    const r = restarted.after(2000, { [A]: [5, 0] }, HOSTS_AB, { isReinstalled: true, rulesInstalledAtMs: reinstalledAt });
    assert.deepEqual([eventOf(r, 'reset')?.missingFromMs, eventOf(r, 'reset')?.missingToMs], [lastCountedAt, reinstalledAt]);
    // A state written before lastCountedAtMs existed: the last poll is taken as the last counted read.
    const { lastCountedAtMs: _dropped, ...older } = state;
    const fromOlder = new Driver({}, older as AccountingState, d.clock.now());
    const r2 = fromOlder.after(2000, { [A]: [5, 0] }, HOSTS_AB, { isReinstalled: true });
    assert.equal(eventOf(r2, 'reset')?.missingFromMs, state.lastAtMs);
  });
});
