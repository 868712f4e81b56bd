// Hosts coming and going, and identity that follows the MAC (issue 7).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeMac } from './accounting.js';
import { A, B, C, Driver, HOSTS_AB, MAC_A, MAC_B, MAC_N, host, kinds } from '../../test/helpers/accounting-driver.js';

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
    const r3 = d.after(1000, { [A]: [200, 0], [B]: [5, 0] }, HOSTS_AB, { newAddresses: [B] });
    assert.equal(host(r3, MAC_B).downBytes, 15);
    assert.equal(r3.events.some((e) => e.kind === 'host-appeared'), false);
  });

  test('hosts unseen for longer than forgetAfterMs leave the state; a return starts a new total', () => {
    const d = new Driver({ forgetAfterMs: 10 * 60_000 });
    d.poll({ [A]: [0, 0], [B]: [0, 0] }, HOSTS_AB, { newAddresses: [A, B] });
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
    d.poll({ [A]: [0, 0] }, [[A, MAC_A, 'laptop']], { newAddresses: [A] });
    d.after(2000, { [A]: [5000, 500] }, [[A, MAC_A, 'laptop']]);
    // DHCP moves the laptop to C; lantop installs rules for C (fresh counters) and the old rule for A
    // lingers with its old counters.
    const r = d.after(2000, { [A]: [5000, 500], [C]: [700, 70] }, [[C, MAC_A, 'laptop']], { newAddresses: [C] });
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
    ], { newAddresses: [A] });
    assert.equal(host(r2, MAC_A).downBytes, 5900);
    assert.equal(host(r2, MAC_N).downBytes, 40);
    assert.ok(r2.events.some((e) => e.kind === 'ip-reassigned' && e.ip === A && e.toIdentity === MAC_N));
  });

  test('IP change without newAddresses: the new rule, unseen at the previous poll, counts from zero once', () => {
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
    d.poll({ [A]: [0, 0] }, [[A, null, null]], { newAddresses: [A] });
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
    d.poll({ [A]: [0, 0], [C]: [0, 0] }, [[A, MAC_A, null], [C, null, null]], { newAddresses: [A, C] });
    d.after(1000, { [A]: [100, 0], [C]: [900, 0] }, [[A, MAC_A, null], [C, null, null]]);
    const r = d.after(1000, { [A]: [100, 0], [C]: [950, 0] }, [[C, MAC_A, null]]);
    assert.equal(host(r, MAC_A).downBytes, 150);
    assert.equal(kinds(r).includes('identity-merged'), false);
  });
});
