// The stored accounting state with hosts' IPv6 parts (issue 15): compact, round-trips, and the
// numbers-only form (router_state.state_counts) carries the parts too.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AccountingState } from '../domain/accounting.js';
import { decodeState, encodeState, sameLayout, splitState } from './state-codec.js';

const MAC_A = 'aa:bb:cc:00:00:0a';
const MAC_B = 'aa:bb:cc:00:00:0b';
const STATE: AccountingState = {
  version: 1,
  epoch: 1,
  bootMarker: 'b1',
  lastAtMs: 1709510400000,
  counters: {
    '198.51.100.10': { identity: MAC_A, downBytes: 5, upBytes: 6 },
    '2001:db8::a1': { identity: MAC_A, downBytes: 70, upBytes: 8 },
    '2001:db8::7e3f:1': { identity: 'unattributed:ipv6', downBytes: 9, upBytes: 1 },
  },
  hosts: {
    [MAC_A]: { identity: MAC_A, mac: MAC_A, ip: '198.51.100.10', hostname: 'laptop', downBytes: 75, upBytes: 14, down6Bytes: 70, up6Bytes: 8, firstSeenMs: 1709510000000, lastSeenMs: 1709510400000, addresses: ['198.51.100.10', '2001:db8::a1'] },
    [MAC_B]: { identity: MAC_B, mac: MAC_B, ip: '198.51.100.11', hostname: null, downBytes: 3, upBytes: 4, firstSeenMs: 1709510000000, lastSeenMs: 1709510400000, addresses: ['198.51.100.11'] },
    'unattributed:ipv6': { identity: 'unattributed:ipv6', mac: null, ip: '', hostname: null, downBytes: 9, upBytes: 1, down6Bytes: 9, up6Bytes: 1, firstSeenMs: 1709510000000, lastSeenMs: 1709510400000, addresses: ['2001:db8::7e3f:1'] },
  },
  present: [MAC_A, MAC_B, 'unattributed:ipv6'],
};

test('hosts with an IPv6 part round-trip; a host without one is written as before', () => {
  const text = encodeState(STATE);
  assert.deepEqual(decodeState(text), STATE);
  const rows = (JSON.parse(text) as { h: unknown[][] }).h;
  assert.deepEqual(rows[0]?.slice(8), [['198.51.100.10', '2001:db8::a1'], {}, 70, 8]);
  assert.equal(rows[1]?.length, 8, 'an IPv4-only host: the old eight values');
  // An IPv6 part with unknown fields beside it keeps both.
  const withExtra = structuredClone(STATE);
  (withExtra.hosts[MAC_A] as unknown as Record<string, unknown>).futureNote = 'x';
  assert.deepEqual(decodeState(encodeState(withExtra)), withExtra);
});

test('the numbers written alone carry the IPv6 parts (format 2), and only numbers changed keeps the layout', () => {
  const next = structuredClone(STATE);
  const a = next.hosts[MAC_A]!;
  a.downBytes += 2 ** 40;
  a.down6Bytes = (a.down6Bytes ?? 0) + 2 ** 40;
  a.up6Bytes = (a.up6Bytes ?? 0) + 1;
  a.upBytes += 1;
  next.hosts[MAC_B]!.downBytes += 7;
  const before = splitState(STATE);
  const after = splitState(next);
  assert.ok(before && after);
  assert.ok(sameLayout(before.layout, after.layout));
  assert.equal(after.counts.readDoubleLE(0), 2);
  assert.deepEqual(decodeState(encodeState(STATE), after.counts), decodeState(encodeState(next)));
});

test('a host gaining an IPv6 part changes the layout (its JSON row changes shape)', () => {
  const v4only = structuredClone(STATE);
  delete v4only.hosts['unattributed:ipv6'];
  const a = v4only.hosts[MAC_A]!;
  delete a.down6Bytes;
  delete a.up6Bytes;
  const old = splitState(v4only);
  assert.ok(old);
  assert.equal(old.counts.readDoubleLE(0), 1, 'no IPv6 part anywhere: format 1, as before issue 15');
  const gained = structuredClone(v4only);
  gained.hosts[MAC_A]!.down6Bytes = 5;
  gained.hosts[MAC_A]!.up6Bytes = 0;
  const now = splitState(gained);
  assert.ok(now);
  assert.equal(sameLayout(old.layout, now.layout), false);
  // Counts of one format never read over JSON of the other.
  assert.throws(() => decodeState(encodeState(v4only), now.counts), /do not fit/);
});
