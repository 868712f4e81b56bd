// Hosts with several addresses (issue 14): discovery gives one entry per (MAC, address) pair, and a
// MAC with an IPv4 and IPv6 addresses is one row whose bytes are the sum over its addresses.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { A, B, C, Driver, MAC_A, MAC_B, MAC_N, host, kinds, type Hosts } from '../../test/helpers/accounting-driver.js';

// Documentation prefix (RFC 3849).
const P1 = '2001:db8::a1';
const P2 = '2001:db8::a2';
const TEMP = '2001:db8::7e3f:1';
const TEMP_2 = '2001:db8::7e3f:2';

const HOST_EVENTS = ['ip-changed', 'ip-reassigned', 'host-appeared', 'host-disappeared', 'identity-merged'];
const hostEvents = (r: ReturnType<Driver['poll']>) => kinds(r).filter((k) => HOST_EVENTS.includes(k));

describe('one row per identity, summed over its addresses', () => {
  test('an IPv4 and two IPv6 counters of one MAC: one row, the sum, all addresses, the IPv4 shown', () => {
    const d = new Driver();
    const hosts: Hosts = [
      [P2, MAC_A, null],
      [A, MAC_A, 'laptop'],
      [P1, MAC_A, 'laptop'],
      [B, MAC_B, 'phone'],
    ];
    const r0 = d.poll({ [A]: [0, 0], [P1]: [0, 0], [P2]: [0, 0], [B]: [0, 0] }, hosts, { newAddresses: [A, P1, P2, B] });
    assert.deepEqual(r0.events.filter((e) => e.kind === 'host-appeared'), [
      { kind: 'host-appeared', identity: MAC_A, ip: A },
      { kind: 'host-appeared', identity: MAC_B, ip: B },
    ]);
    const r = d.after(1000, { [A]: [1000, 100], [P1]: [2000, 200], [P2]: [300, 30], [B]: [10, 1] }, hosts);
    assert.deepEqual(r.hosts.map((h) => h.identity), [MAC_A, MAC_B]);
    const h = host(r, MAC_A);
    assert.equal(h.ip, A);
    assert.deepEqual(h.addresses, [A, P1, P2]);
    assert.equal(h.hostname, 'laptop');
    assert.deepEqual([h.downBytes, h.upBytes, h.deltaDownBytes, h.deltaUpBytes], [3300, 330, 3300, 330]);
    assert.deepEqual([h.downBps, h.upBps], [3300, 330]);
    assert.equal(h.downShare, 3300 / 3310);
    assert.deepEqual(r.deltas.find((x) => x.identity === MAC_A), { identity: MAC_A, mac: MAC_A, ip: A, hostname: 'laptop', downBytes: 3300, upBytes: 330 });
    assert.deepEqual(r.totals, { downBytes: 3310, upBytes: 331, downBps: 3310, upBps: 331 });
    assert.deepEqual(hostEvents(r), []);
  });

  test('rows are ordered by address: IPv4 numerically, then IPv6', () => {
    const d = new Driver();
    const r = d.poll({}, [
      ['2001:db8::5', MAC_N, null],
      [A, MAC_A, null],
      ['2001:db8::1', null, null],
      ['198.51.100.9', MAC_B, null],
      ['2001:db8::3', MAC_A, null],
    ]);
    assert.deepEqual(r.hosts.map((h) => h.ip), ['198.51.100.9', A, '2001:db8::1', '2001:db8::5']);
    assert.deepEqual(host(r, MAC_A).addresses, [A, '2001:db8::3']);
    assert.deepEqual(host(r, 'ip:2001:db8::1').addresses, ['2001:db8::1']);
  });

  test('a host whose IPv4 has no counter is counted through its IPv6 counter', () => {
    const d = new Driver();
    const r = d.poll({ [P1]: [0, 0] }, [[A, MAC_A, null], [P1, MAC_A, null], [B, MAC_B, null]]);
    assert.equal(host(r, MAC_A).isCounted, true);
    assert.equal(host(r, MAC_B).isCounted, false);
  });
});

describe('addresses coming, going and moving', () => {
  test('an IPv6 address given to another device: its counter follows, the old owner keeps its bytes', () => {
    const d = new Driver();
    d.poll({ [A]: [0, 0], [P1]: [0, 0] }, [[A, MAC_A, null], [P1, MAC_A, null]], { newAddresses: [A, P1] });
    const r1 = d.after(1000, { [A]: [100, 0], [P1]: [500, 50] }, [[A, MAC_A, null], [P1, MAC_A, null]]);
    assert.equal(host(r1, MAC_A).downBytes, 600);
    const moved: Hosts = [[A, MAC_A, null], [B, MAC_B, null], [P1, MAC_B, null]];
    const r = d.after(1000, { [A]: [100, 0], [B]: [0, 0], [P1]: [800, 80] }, moved, { newAddresses: [B] });
    assert.deepEqual([host(r, MAC_A).downBytes, host(r, MAC_A).upBytes], [600, 50]);
    assert.deepEqual(host(r, MAC_A).addresses, [A]);
    assert.deepEqual([host(r, MAC_B).downBytes, host(r, MAC_B).upBytes], [300, 30]);
    assert.deepEqual(host(r, MAC_B).addresses, [B, P1]);
    assert.deepEqual(r.events.filter((e) => e.kind === 'ip-reassigned'), [{ kind: 'ip-reassigned', ip: P1, fromIdentity: MAC_A, toIdentity: MAC_B }]);
    assert.equal(kinds(r).includes('ip-changed'), false);
  });

  test('an IPv6 temporary address appearing and expiring: no events, its bytes stay with the MAC', () => {
    const d = new Driver();
    const stable: Hosts = [[A, MAC_A, 'laptop'], [P1, MAC_A, 'laptop']];
    const withTemp: Hosts = [...stable, [TEMP, MAC_A, 'laptop']];
    d.poll({ [A]: [0, 0], [P1]: [0, 0] }, stable, { newAddresses: [A, P1] });
    d.after(1000, { [A]: [100, 0], [P1]: [100, 0] }, stable);
    // The laptop starts using a temporary address; lantop installs a counter for it.
    const r1 = d.after(1000, { [A]: [100, 0], [P1]: [100, 0] }, withTemp);
    assert.deepEqual(host(r1, MAC_A).addresses, [A, P1, TEMP]);
    const r2 = d.after(1000, { [A]: [100, 0], [P1]: [100, 0], [TEMP]: [40, 4] }, withTemp, { newAddresses: [TEMP] });
    assert.equal(host(r2, MAC_A).downBytes, 240);
    // It expires: discovery no longer lists it, its counter lingers and still counts for the MAC.
    const r3 = d.after(1000, { [A]: [100, 0], [P1]: [100, 0], [TEMP]: [70, 7] }, stable);
    assert.deepEqual(host(r3, MAC_A).addresses, [A, P1]);
    assert.deepEqual([host(r3, MAC_A).downBytes, host(r3, MAC_A).upBytes], [270, 7]);
    assert.equal(host(r3, MAC_A).ip, A);
    // Its counter goes too: nothing is lost, nothing counted twice.
    const r4 = d.after(1000, { [A]: [150, 0], [P1]: [100, 0] }, stable);
    assert.equal(host(r4, MAC_A).downBytes, 320);
    for (const r of [r1, r2, r3, r4]) assert.deepEqual(hostEvents(r), []);
    assert.equal(r4.hosts.length, 1);
  });

  test('an IPv6-only host rotating its address: the row follows it without ip-changed notices', () => {
    const d = new Driver();
    d.poll({ [TEMP]: [0, 0] }, [[TEMP, MAC_N, null]], { newAddresses: [TEMP] });
    const r = d.after(1000, { [TEMP]: [10, 0], [TEMP_2]: [5, 0] }, [[TEMP_2, MAC_N, null]], { newAddresses: [TEMP_2] });
    assert.equal(host(r, MAC_N).ip, TEMP_2);
    assert.deepEqual(host(r, MAC_N).addresses, [TEMP_2]);
    assert.equal(host(r, MAC_N).downBytes, 15);
    assert.deepEqual(hostEvents(r), []);
    assert.deepEqual(r.notices, []);
  });

  test('a dual-stack host: a missed IPv4 is no move, a new IPv4 is (ip-changed, as for IPv4 hosts)', () => {
    const d = new Driver();
    d.poll({ [A]: [0, 0], [P1]: [0, 0] }, [[A, MAC_A, null], [P1, MAC_A, null]], { newAddresses: [A, P1] });
    // Discovery lists only its IPv6 address this once.
    const r1 = d.after(1000, { [A]: [10, 0], [P1]: [10, 0] }, [[P1, MAC_A, null]]);
    assert.equal(host(r1, MAC_A).ip, P1);
    const r2 = d.after(1000, { [A]: [20, 0], [P1]: [20, 0] }, [[A, MAC_A, null], [P1, MAC_A, null]]);
    assert.equal(host(r2, MAC_A).ip, A);
    assert.deepEqual([...hostEvents(r1), ...hostEvents(r2)], []);
    // DHCP gives it another IPv4 address.
    const r3 = d.after(1000, { [A]: [20, 0], [P1]: [20, 0], [C]: [5, 0] }, [[C, MAC_A, null], [P1, MAC_A, null]], { newAddresses: [C] });
    assert.deepEqual(r3.events.filter((e) => e.kind === 'ip-changed'), [{ kind: 'ip-changed', identity: MAC_A, fromIp: A, toIp: C }]);
    assert.deepEqual(host(r3, MAC_A).addresses, [C, P1]);
    assert.equal(host(r3, MAC_A).downBytes, 45);
  });

  test('a stale IPv4 beside a new one keeps the known one shown (no flapping), in either order', () => {
    for (const [known, other] of [[A, C], [C, A]] as const) {
      const d = new Driver();
      d.poll({}, [[known, MAC_A, null]]);
      const r1 = d.after(1000, {}, [[other, MAC_A, null], [known, MAC_A, null]]);
      assert.equal(host(r1, MAC_A).ip, known);
      assert.deepEqual(host(r1, MAC_A).addresses, [A, C]);
      const r2 = d.after(1000, {}, [[other, MAC_A, null]]);
      assert.equal(host(r2, MAC_A).ip, other);
      assert.deepEqual(r2.events.filter((e) => e.kind === 'ip-changed'), [{ kind: 'ip-changed', identity: MAC_A, fromIp: known, toIp: other }]);
      assert.deepEqual(hostEvents(r1), []);
    }
  });

  test('a MAC-less dual-stack host whose MAC becomes known: both its identities merge into one row', () => {
    const d = new Driver();
    d.poll({ [A]: [0, 0], [P1]: [0, 0] }, [[A, null, null], [P1, null, null]], { newAddresses: [A, P1] });
    const r1 = d.after(1000, { [A]: [100, 10], [P1]: [200, 20] }, [[A, null, null], [P1, null, null]]);
    assert.deepEqual(r1.hosts.map((h) => h.identity), [`ip:${A}`, `ip:${P1}`]);
    const r2 = d.after(1000, { [A]: [100, 10], [P1]: [250, 20] }, [[A, MAC_A, 'laptop'], [P1, MAC_A, 'laptop']]);
    assert.deepEqual(r2.hosts.map((h) => h.identity), [MAC_A]);
    assert.deepEqual([host(r2, MAC_A).downBytes, host(r2, MAC_A).upBytes], [350, 30]);
    assert.deepEqual(host(r2, MAC_A).addresses, [A, P1]);
    assert.deepEqual(
      r2.events.filter((e) => e.kind === 'identity-merged').map((e) => (e as { fromIdentity: string }).fromIdentity),
      [`ip:${A}`, `ip:${P1}`],
    );
    assert.equal(kinds(r2).includes('host-disappeared'), false);
    // The rate covers both: 250 bytes in the last second, plus the second before (window 5 s).
    assert.equal(host(r2, MAC_A).downBps, (300 + 50) / 2);
  });
});
