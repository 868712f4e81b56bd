// The poller's snapshots carry the family split (issue 15): on every row and in totalsByFamily;
// a failed poll keeps the bytes and zeroes every rate, as it does for the totals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CounterPair } from './accounting.js';
import { FakeClock } from './clock.js';
import { Poller, type PollPort } from './poller.js';

const MAC = '02:00:00:00:00:0a';
const V4 = '198.51.100.10';
const V6 = '2001:db8::a';

test('snapshots carry the split; a failed poll keeps the bytes of each family and zeroes their rates', async () => {
  const clock = new FakeClock(1_700_000_000_000);
  const readings: Array<Record<string, [number, number]> | Error> = [{ [V4]: [0, 0], [V6]: [0, 0] }, { [V4]: [200, 20], [V6]: [600, 60] }, new Error('connection lost')];
  let read = 0;
  const port: PollPort = {
    discover: async () => [{ ip: V4, mac: MAC, hostname: null }, { ip: V6, mac: MAC, hostname: null }],
    readTraffic: async () => {
      const next = readings[read++];
      if (next === undefined || next instanceof Error) throw next ?? new Error('unscripted read');
      return { counters: new Map<string, CounterPair>(Object.entries(next).map(([ip, [d, u]]) => [ip, { downBytes: d, upBytes: u }])), installation: 'complete' };
    },
  };
  const poller = new Poller({ router: 'r', port, clock });
  await poller.pollOnce();
  clock.advance(2000);
  const s = await poller.pollOnce();
  const h = s.hosts[0]!;
  assert.deepEqual([h.down4Bytes, h.up4Bytes, h.down6Bytes, h.up6Bytes, h.down4Bps, h.down6Bps], [200, 20, 600, 60, 100, 300]);
  assert.equal('deltaDown6Bytes' in h, false, 'a snapshot row has no deltas');
  assert.deepEqual(s.totalsByFamily, { down4Bytes: 200, up4Bytes: 20, down6Bytes: 600, up6Bytes: 60, down4Bps: 100, up4Bps: 10, down6Bps: 300, up6Bps: 30 });
  clock.advance(2000);
  const failed = await poller.pollOnce();
  const f = failed.hosts[0]!;
  assert.deepEqual([f.down6Bytes, f.down6Bps, f.down4Bps, f.up6Bps], [600, 0, 0, 0]);
  assert.deepEqual(failed.totalsByFamily, { down4Bytes: 200, up4Bytes: 20, down6Bytes: 600, up6Bytes: 60, down4Bps: 0, up4Bps: 0, down6Bps: 0, up6Bps: 0 });
});
