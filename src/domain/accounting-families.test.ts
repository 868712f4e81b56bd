// The split by address family (issue 15): every row, total and delta carries its IPv4 and IPv6
// parts, which add up to the totals; the split survives restarts, merges and per-address resets.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { A, B, Driver, MAC_A, MAC_B, host, type Hosts } from '../../test/helpers/accounting-driver.js';
import { Accountant, type AccountedHost, type AccountingState } from './accounting.js';
import { familyBytesOf, familyRatesOf } from './family.js';

// Documentation prefix (RFC 3849).
const P1 = '2001:db8::a1';
const P2 = '2001:db8::a2';
const DUAL: Hosts = [
  [A, MAC_A, 'laptop'],
  [P1, MAC_A, 'laptop'],
  [P2, MAC_A, 'laptop'],
  [B, MAC_B, 'phone'],
];

const split = (h: AccountedHost) => [h.down4Bytes, h.up4Bytes, h.down6Bytes, h.up6Bytes];
const rates = (h: AccountedHost) => [h.down4Bps, h.up4Bps, h.down6Bps, h.up6Bps];

describe('the family split', () => {
  test('a dual-stack host: the IPv4 and IPv6 parts of its bytes, rates and deltas add up to its totals', () => {
    const d = new Driver();
    d.poll({ [A]: [0, 0], [P1]: [0, 0], [P2]: [0, 0], [B]: [0, 0] }, DUAL, { newAddresses: [A, P1, P2, B] });
    const r = d.after(1000, { [A]: [1000, 100], [P1]: [2000, 200], [P2]: [300, 30], [B]: [10, 1] }, DUAL);
    const h = host(r, MAC_A);
    assert.deepEqual([h.downBytes, h.upBytes], [3300, 330]);
    assert.deepEqual(split(h), [1000, 100, 2300, 230]);
    assert.deepEqual(rates(h), [1000, 100, 2300, 230]);
    assert.deepEqual([h.deltaDown6Bytes, h.deltaUp6Bytes], [2300, 230]);
    assert.deepEqual(split(host(r, MAC_B)), [10, 1, 0, 0]);
    assert.deepEqual(r.totalsByFamily, { down4Bytes: 1010, up4Bytes: 101, down6Bytes: 2300, up6Bytes: 230, down4Bps: 1010, up4Bps: 101, down6Bps: 2300, up6Bps: 230 });
    assert.deepEqual(r.deltasByFamily.get(MAC_A), { down4Bytes: 1000, up4Bytes: 100, down6Bytes: 2300, up6Bytes: 230 });
    assert.deepEqual(r.deltasByFamily.get(MAC_B), { down4Bytes: 10, up4Bytes: 1, down6Bytes: 0, up6Bytes: 0 });
    assert.deepEqual([...r.deltasByFamily.keys()].sort(), r.deltas.map((x) => x.identity).sort());
  });

  test('the parts are cumulative like the totals, and the rates follow the window', () => {
    const d = new Driver();
    d.poll({ [A]: [0, 0], [P1]: [0, 0] }, DUAL, { newAddresses: [A, P1] });
    d.after(1000, { [A]: [100, 0], [P1]: [50, 0] }, DUAL);
    const r = d.after(1000, { [A]: [100, 0], [P1]: [450, 0] }, DUAL);
    const h = host(r, MAC_A);
    assert.deepEqual(split(h), [100, 0, 450, 0]);
    // 5 s window: 550 bytes over 2 s, of which 450 IPv6.
    assert.deepEqual([h.downBps, h.down4Bps, h.down6Bps], [275, 50, 225]);
    assert.deepEqual([h.deltaDownBytes, h.deltaDown6Bytes], [400, 400]);
  });

  test('one address whose counter goes down restarts alone: no negative delta in either family', () => {
    const d = new Driver();
    d.poll({ [A]: [0, 0], [P1]: [0, 0], [P2]: [0, 0] }, DUAL, { newAddresses: [A, P1, P2] });
    d.after(1000, { [A]: [500, 50], [P1]: [800, 80], [P2]: [100, 10] }, DUAL);
    // P1's counter came back from 0 (a counter that expired on the router, one put back) and is at 30.
    const r = d.after(1000, { [A]: [600, 60], [P1]: [30, 3], [P2]: [150, 15] }, DUAL);
    const h = host(r, MAC_A);
    assert.deepEqual([h.deltaDownBytes, h.deltaUpBytes, h.deltaDown6Bytes, h.deltaUp6Bytes], [100 + 30 + 50, 10 + 3 + 5, 80, 8]);
    assert.deepEqual(split(h), [600, 60, 980, 98]);
    const reset = r.events.find((e) => e.kind === 'reset');
    assert.deepEqual(reset && reset.kind === 'reset' ? [reset.reason, reset.ips] : null, ['counter-decrease', [P1]]);
    // The next poll continues from the new baseline.
    const r2 = d.after(1000, { [A]: [600, 60], [P1]: [40, 3], [P2]: [150, 15] }, DUAL);
    assert.deepEqual([host(r2, MAC_A).deltaDownBytes, host(r2, MAC_A).down6Bytes], [10, 990]);
  });

  test('a counter that vanishes and comes back lower is a new baseline; one that comes back higher continues', () => {
    const d = new Driver();
    d.poll({ [A]: [0, 0], [P1]: [0, 0] }, DUAL, { newAddresses: [A, P1] });
    d.after(1000, { [A]: [100, 0], [P1]: [700, 70] }, DUAL);
    // P1's counter is gone from the listing for two reads (the element expired) …
    d.after(1000, { [A]: [100, 0] }, DUAL);
    d.after(1000, { [A]: [100, 0] }, DUAL);
    // … and comes back, counting from 0 again.
    const back = d.after(1000, { [A]: [100, 0], [P1]: [20, 2] }, DUAL);
    assert.deepEqual([host(back, MAC_A).deltaDown6Bytes, host(back, MAC_A).deltaUp6Bytes], [20, 2]);
    assert.deepEqual(split(host(back, MAC_A)), [100, 0, 720, 72]);
    // A counter missing from one read that comes back higher is the same counter: only the increase.
    d.after(1000, { [A]: [100, 0] }, DUAL);
    const again = d.after(1000, { [A]: [100, 0], [P1]: [50, 5] }, DUAL);
    assert.deepEqual([host(again, MAC_A).deltaDown6Bytes, host(again, MAC_A).down6Bytes], [30, 750]);
    for (const r of [back, again]) for (const h of r.hosts) assert.ok(h.deltaDownBytes >= 0 && h.deltaUpBytes >= 0 && h.deltaDown6Bytes >= 0);
  });

  test('a reboot restarts every counter: the parts go on from where they were, never down', () => {
    const d = new Driver();
    d.poll({ [A]: [0, 0], [P1]: [0, 0] }, DUAL, { newAddresses: [A, P1], bootMarker: 'boot-1' });
    d.after(1000, { [A]: [100, 10], [P1]: [200, 20] }, DUAL, { bootMarker: 'boot-1' });
    const r = d.after(1000, { [A]: [5, 0], [P1]: [7, 1] }, DUAL, { bootMarker: 'boot-2' });
    assert.deepEqual(split(host(r, MAC_A)), [105, 10, 207, 21]);
  });

  test('a MAC-less dual-stack host merging into its MAC brings its IPv6 part along', () => {
    const d = new Driver();
    d.poll({ [A]: [0, 0], [P1]: [0, 0] }, [[A, null, null], [P1, null, null]], { newAddresses: [A, P1] });
    d.after(1000, { [A]: [100, 10], [P1]: [200, 20] }, [[A, null, null], [P1, null, null]]);
    const r = d.after(1000, { [A]: [100, 10], [P1]: [250, 20] }, [[A, MAC_A, null], [P1, MAC_A, null]]);
    assert.deepEqual(split(host(r, MAC_A)), [100, 10, 250, 20]);
    assert.equal(host(r, MAC_A).down6Bps, 125);
  });
});

describe('the split across restarts', () => {
  test('the state keeps the IPv6 part; a restarted accountant goes on from it', () => {
    const d = new Driver();
    d.poll({ [A]: [0, 0], [P1]: [0, 0], [B]: [0, 0] }, DUAL, { newAddresses: [A, P1, B] });
    d.after(1000, { [A]: [100, 10], [P1]: [200, 20], [B]: [5, 5] }, DUAL);
    const state = d.acct.exportState({ includeRates: false });
    assert.deepEqual([state.hosts[MAC_A]?.down6Bytes, state.hosts[MAC_A]?.up6Bytes], [200, 20]);
    // An IPv4-only host's record is written as before issue 15.
    assert.equal('down6Bytes' in (state.hosts[MAC_B] ?? {}), false);
    const restarted = new Driver({}, JSON.parse(JSON.stringify(state)) as AccountingState, d.clock.now());
    const r = restarted.after(1000, { [A]: [150, 10], [P1]: [260, 20], [B]: [5, 5] }, DUAL);
    assert.deepEqual(split(host(r, MAC_A)), [150, 10, 260, 20]);
    assert.deepEqual(split(host(r, MAC_B)), [5, 5, 0, 0]);
  });

  test('a state from before issue 15 reads as IPv4 (lantop counted no IPv6 then); its rate window too', () => {
    const old: AccountingState = {
      version: 1,
      epoch: 0,
      bootMarker: null,
      lastAtMs: 1_700_000_000_000,
      counters: { [A]: { identity: MAC_A, downBytes: 1000, upBytes: 100 } },
      hosts: { [MAC_A]: { identity: MAC_A, mac: MAC_A, ip: A, hostname: null, downBytes: 1000, upBytes: 100, firstSeenMs: 1_699_999_000_000, lastSeenMs: 1_700_000_000_000 } },
      present: [MAC_A],
      rateWindow: [{ atMs: 1_699_999_999_000, deltas: {} }, { atMs: 1_700_000_000_000, deltas: { [MAC_A]: [1000, 100] } }],
      lastRates: { [MAC_A]: [1000, 100] },
    };
    const acct = new Accountant({}, old);
    const r = acct.process({ atMs: 1_700_000_001_000, counters: new Map([[A, { downBytes: 1500, upBytes: 100 }], [P1, { downBytes: 40, upBytes: 4 }]]), hosts: [{ ip: A, mac: MAC_A, hostname: null }, { ip: P1, mac: MAC_A, hostname: null }] });
    const h = host(r, MAC_A);
    assert.deepEqual(split(h), [1500, 100, 40, 4]);
    // The window spans 2 s: the old point's bytes (IPv4) and this poll's.
    assert.deepEqual(rates(h), [750, 50, 20, 2]);
  });

  test('rows built without a split read as all IPv4', () => {
    assert.deepEqual(familyBytesOf({ downBytes: 7, upBytes: 3 }), { down4Bytes: 7, up4Bytes: 3, down6Bytes: 0, up6Bytes: 0 });
    assert.deepEqual(familyRatesOf({ downBps: 7, upBps: 3, down6Bps: 2, up6Bps: 3 }), { down4Bps: 5, up4Bps: 0, down6Bps: 2, up6Bps: 3 });
  });
});
