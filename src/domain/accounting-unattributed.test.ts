// IPv6 bytes no device can be named for yet (issue 15): one "unattributed IPv6" row, never one row
// per address and never dropped; an address moves to its device as soon as discovery ties it to a
// MAC, its earlier bytes staying in the unattributed row, nothing counted twice.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { A, C, Driver, MAC_A, MAC_B, host, kinds, type Hosts } from '../../test/helpers/accounting-driver.js';
import { UNATTRIBUTED_IPV6_IDENTITY as U } from './snapshot.js';

const P1 = '2001:db8::a1';
const TEMP_1 = '2001:db8::7e3f:1';
const TEMP_2 = '2001:db8::7e3f:2';
const LINK_LOCAL = 'fe80::a8bb:ccff:fe00:a';

const V4: Hosts = [[A, MAC_A, 'laptop']];

describe('the unattributed IPv6 row', () => {
  test('IPv6 counters discovery does not know go to one row; an unknown IPv4 keeps its own row as before', () => {
    const d = new Driver();
    d.poll({ [A]: [0, 0], [TEMP_1]: [0, 0], [TEMP_2]: [0, 0], [C]: [0, 0] }, V4, { newAddresses: [A, TEMP_1, TEMP_2, C] });
    const r = d.after(1000, { [A]: [100, 10], [TEMP_1]: [300, 30], [TEMP_2]: [50, 5], [C]: [7, 0] }, V4);
    assert.deepEqual(r.hosts.map((h) => h.identity), [MAC_A, `ip:${C}`, U]);
    const u = host(r, U);
    assert.deepEqual([u.ip, u.mac, u.hostname], ['', null, null]);
    assert.deepEqual(u.addresses, [TEMP_1, TEMP_2]);
    assert.deepEqual([u.downBytes, u.upBytes, u.down6Bytes, u.up6Bytes, u.down4Bytes], [350, 35, 350, 35, 0]);
    assert.equal(u.isCounted, true);
    assert.deepEqual(r.deltas.find((x) => x.identity === U), { identity: U, mac: null, ip: '', hostname: null, downBytes: 350, upBytes: 35 });
    assert.equal(host(r, MAC_A).downBytes, 100);
    assert.deepEqual(r.totals, { downBytes: 457, upBytes: 45, downBps: 457, upBps: 45 });
  });

  test('an address moves to its device when the neighbour table shows it: later bytes there, earlier ones stay', () => {
    const d = new Driver();
    d.poll({ [A]: [0, 0], [TEMP_1]: [0, 0] }, V4, { newAddresses: [A, TEMP_1] });
    const r1 = d.after(1000, { [A]: [100, 0], [TEMP_1]: [400, 40] }, V4);
    assert.equal(host(r1, U).downBytes, 400);
    // The next discovery lists the address under the laptop's MAC; the counter went on to 1000.
    const known: Hosts = [...V4, [TEMP_1, MAC_A, 'laptop']];
    const r2 = d.after(1000, { [A]: [100, 0], [TEMP_1]: [1000, 100] }, known);
    const laptop = host(r2, MAC_A);
    assert.deepEqual([laptop.downBytes, laptop.down6Bytes, laptop.deltaDown6Bytes, laptop.up6Bytes], [700, 600, 600, 60]);
    assert.deepEqual(laptop.addresses, [A, TEMP_1]);
    // Nothing is counted for the unattributed row any more: it leaves the live rows, keeping its bytes.
    assert.equal(r2.hosts.some((h) => h.identity === U), false);
    assert.equal(r2.deltas.some((x) => x.identity === U), false);
    const state = d.acct.exportState();
    assert.deepEqual([state.hosts[U]?.downBytes, state.hosts[U]?.down6Bytes], [400, 400]);
    // Every byte the router counted is counted once: 100 + 1000 down.
    assert.equal((state.hosts[U]?.downBytes ?? 0) + (state.hosts[MAC_A]?.downBytes ?? 0), 1100);
    assert.deepEqual(r2.events.filter((e) => e.kind === 'address-attributed'), [{ kind: 'address-attributed', ip: TEMP_1, identity: MAC_A }]);
    assert.equal(kinds(r2).includes('ip-reassigned'), false);
    assert.deepEqual(r2.notices, [], 'no notice: every new privacy address goes this way');
    // The address stays the device's when its neighbour entry expires while its counter lives on.
    const r3 = d.after(1000, { [A]: [100, 0], [TEMP_1]: [1100, 100] }, V4);
    assert.deepEqual([host(r3, MAC_A).down6Bytes, r3.hosts.length], [700, 1]);
  });

  test('the row stays one row while addresses come and go, and comes back with its bytes', () => {
    const d = new Driver();
    d.poll({ [TEMP_1]: [0, 0] }, V4, { newAddresses: [TEMP_1] });
    d.after(1000, { [TEMP_1]: [10, 1] }, V4);
    const r1 = d.after(1000, { [TEMP_1]: [20, 2], [TEMP_2]: [5, 0] }, V4);
    assert.deepEqual([host(r1, U).addresses, host(r1, U).downBytes], [[TEMP_1, TEMP_2], 25]);
    // Both attributed: the row has nothing counted now.
    const both: Hosts = [...V4, [TEMP_1, MAC_A, null], [TEMP_2, MAC_B, null]];
    const r2 = d.after(1000, { [TEMP_1]: [30, 2], [TEMP_2]: [9, 0] }, both);
    assert.deepEqual([host(r2, MAC_A).downBytes, host(r2, MAC_B).downBytes], [10, 4]);
    assert.equal(r2.hosts.some((h) => h.identity === U), false);
    // A new unknown address: the row is back with everything it counted before.
    const r3 = d.after(1000, { [TEMP_1]: [30, 2], [TEMP_2]: [9, 0], [P1]: [3, 0] }, both);
    assert.deepEqual([host(r3, U).addresses, host(r3, U).downBytes], [[P1], 28]);
  });

  test('a MAC-less neighbour entry does not take an address out of the unattributed row, nor name it', () => {
    const d = new Driver();
    d.poll({ [TEMP_1]: [0, 0] }, [], { newAddresses: [TEMP_1] });
    d.after(1000, { [TEMP_1]: [10, 0] }, []);
    const r = d.after(1000, { [TEMP_1]: [15, 0] }, [[TEMP_1, null, 'lease-name']]);
    assert.deepEqual(r.hosts.map((h) => h.identity), [U]);
    assert.deepEqual([host(r, U).downBytes, host(r, U).hostname], [15, null]);
  });

  test('an unattributed counter that restarts is a new baseline, never a negative delta', () => {
    const d = new Driver();
    d.poll({ [TEMP_1]: [0, 0] }, [], { newAddresses: [TEMP_1] });
    d.after(1000, { [TEMP_1]: [500, 50] }, []);
    const r = d.after(1000, { [TEMP_1]: [20, 2] }, []);
    assert.deepEqual([host(r, U).deltaDownBytes, host(r, U).downBytes, host(r, U).up6Bytes], [20, 520, 52]);
  });

  test('on the very first poll an unknown address is a baseline only, as every counter is', () => {
    const d = new Driver();
    const r0 = d.poll({ [TEMP_1]: [900, 90] }, []);
    assert.deepEqual([host(r0, U).downBytes, kinds(r0).includes('baseline')], [0, true]);
    const r1 = d.after(1000, { [TEMP_1]: [950, 90] }, []);
    assert.equal(host(r1, U).downBytes, 50);
  });

  test('a state restored after restart keeps the unattributed row and its addresses owner', () => {
    const d = new Driver();
    d.poll({ [TEMP_1]: [0, 0] }, [], { newAddresses: [TEMP_1] });
    d.after(1000, { [TEMP_1]: [100, 0] }, []);
    const restarted = new Driver({}, d.acct.exportState({ includeRates: false }), d.clock.now());
    const r = restarted.after(1000, { [TEMP_1]: [160, 0] }, [[TEMP_1, MAC_A, null]]);
    assert.deepEqual([host(r, MAC_A).downBytes, restarted.acct.exportState().hosts[U]?.downBytes], [60, 100]);
  });
});

describe('link-local IPv6', () => {
  test('never appears: not among a device\'s addresses, and a counter for one is not counted', () => {
    const d = new Driver();
    const hosts: Hosts = [[A, MAC_A, null], [LINK_LOCAL, MAC_A, null], ['fe80::1', MAC_B, null]];
    d.poll({ [A]: [0, 0], [LINK_LOCAL]: [0, 0] }, hosts, { newAddresses: [A, LINK_LOCAL] });
    const r = d.after(1000, { [A]: [10, 0], [LINK_LOCAL]: [99, 9] }, hosts);
    assert.deepEqual(r.hosts.map((h) => [h.identity, h.addresses]), [[MAC_A, [A]]]);
    assert.deepEqual([host(r, MAC_A).downBytes, host(r, MAC_A).down6Bytes], [10, 0]);
    assert.equal(JSON.stringify(d.acct.exportState()).includes('fe80'), false);
  });
});
