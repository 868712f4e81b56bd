// tsconfig.json excludes tests, so tsx compiles them with the classic JSX runtime: React must be in scope.
// The live screen's family view (issue 15): key f shows IPv4 only, then IPv6 only, in the same
// columns; the unattributed IPv6 row is named; 80 columns stay readable.
import React from 'react';
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeController, host, makeSnapshot } from '../../../test/fakes/fake-controller.js';
import { cleanupTerminals, keyOf, renderInTerminal, until } from '../../../test/fakes/fake-terminal.js';
import { ThemeProvider } from '../theme.js';
import { LiveScreen } from './live-screen.js';
import { familyView, initialLiveState, liveReducer } from './use-live-state.js';
import { liveKeyAction } from './use-live.js';

afterEach(cleanupTerminals);

const T0 = 1_700_000_000_000;
const MAC = '02:00:00:00:00:10';

// The laptop: 2 MB/s down over IPv4, 6 MB/s over IPv6; the tv is IPv4 only; one unattributed address.
const hosts = [
  host('198.51.100.10', {
    mac: MAC, hostname: 'laptop', addresses: ['198.51.100.10', '2001:db8::10'],
    downBps: 8_000_000, upBps: 80_000, downBytes: 8_000_000_000, upBytes: 80_000_000,
    down4Bps: 2_000_000, up4Bps: 60_000, down6Bps: 6_000_000, up6Bps: 20_000,
    down4Bytes: 2_000_000_000, up4Bytes: 60_000_000, down6Bytes: 6_000_000_000, up6Bytes: 20_000_000,
  }),
  host('198.51.100.11', {
    hostname: 'tv', downBps: 3_000_000, upBps: 10_000, downBytes: 3_000_000_000, upBytes: 10_000_000,
    down4Bps: 3_000_000, up4Bps: 10_000, down6Bps: 0, up6Bps: 0,
    down4Bytes: 3_000_000_000, up4Bytes: 10_000_000, down6Bytes: 0, up6Bytes: 0,
  }),
  {
    ...host('', { addresses: ['2001:db8::7e3f:1'], downBps: 1_000_000, upBps: 0, downBytes: 1_000_000_000, upBytes: 0 }),
    identity: 'unattributed:ipv6',
    down4Bps: 0, up4Bps: 0, down6Bps: 1_000_000, up6Bps: 0,
    down4Bytes: 0, up4Bytes: 0, down6Bytes: 1_000_000_000, up6Bytes: 0,
  },
];

test('the family view: f cycles both → IPv4 → IPv6 → both, each row showing that family\'s part', () => {
  const snapshot = makeSnapshot(hosts, { atMs: T0 });
  let state = liveReducer(initialLiveState, { type: 'snapshot', snapshot });
  assert.deepEqual(liveKeyAction('f', keyOf(), 10), { type: 'family' });
  const seen: string[] = [];
  for (let i = 0; i < 3; i++) {
    state = liveReducer(state, { type: 'family' });
    seen.push(state.family ?? 'all');
  }
  assert.deepEqual(seen, ['ipv4', 'ipv6', 'all']);
  assert.equal(familyView(snapshot, 'all'), snapshot);
  const v6 = familyView(snapshot, 'ipv6');
  assert.deepEqual(v6.hosts.map((h) => [h.identity, h.downBps, h.downBytes, h.upBytes]), [
    [MAC, 6_000_000, 6_000_000_000, 20_000_000],
    ['ip:198.51.100.11', 0, 0, 0],
    ['unattributed:ipv6', 1_000_000, 1_000_000_000, 0],
  ]);
  assert.deepEqual(v6.totals, { downBytes: 7_000_000_000, upBytes: 20_000_000, downBps: 7_000_000, upBps: 20_000 });
  assert.deepEqual(v6.hosts.map((h) => h.downShare), [6 / 7, 0, 1 / 7]);
  const v4 = familyView(snapshot, 'ipv4');
  assert.deepEqual(v4.hosts.map((h) => h.downBytes), [2_000_000_000, 3_000_000_000, 0]);
  // Rows built without a split are all IPv4.
  const bare = makeSnapshot([host('198.51.100.12', { downBytes: 5, downBps: 1 })]);
  assert.deepEqual([familyView(bare, 'ipv4').hosts[0]?.downBytes, familyView(bare, 'ipv6').hosts[0]?.downBytes], [5, 0]);
});

test('live screen: f shows IPv6 only in the same columns, readable at 80 columns; the unattributed row is named', async () => {
  const fake = new FakeController().expectWatch();
  const t = renderInTerminal(
    <ThemeProvider isColor={false}>
      <LiveScreen controller={fake} now={() => T0 + 1_000} isInputActive onBack={() => undefined} />
    </ThemeProvider>,
    { columns: 80, rows: 30 },
  );
  await t.waitFor('Waiting');
  await until(() => fake.activeWatches === 1, 'the screen to subscribe');
  fake.emit(makeSnapshot(hosts, { atMs: T0 }));
  let frame = await t.waitFor('laptop');
  assert.match(frame, /laptop\s+198\.51\.100\.10\s+8\.00 MB\/s/);
  // At exactly 80 columns the name column is 16 cells (the row cursor's mark took one): cut, not wrapped.
  assert.match(frame, /unattributed IPv6?\s+1\.00 MB\/s/);
  await t.press('f');
  await t.press('f');
  frame = await t.waitFor('IPv6 only');
  assert.match(frame, /3 hosts · sorted by ↓ rate · IPv6 only · top talker ▶ laptop/);
  assert.match(frame, /laptop\s+198\.51\.100\.10\s+6\.00 MB\/s\s+20\.0 kB\/s/);
  assert.match(frame, /tv\s+198\.51\.100\.11\s+0 B\/s/);
  assert.match(frame, /TOTAL \(3\)\s+7\.00 MB\/s\s+20\.0 kB\/s/);
  // Sorted by the IPv6 rate now: the unattributed row before the tv.
  const order = frame.split('\n').filter((l) => /laptop|unattributed IPv|\btv\b/.test(l) && !l.includes('top talker')).map((l) => l.trim().split(/\s{2,}/)[0]);
  assert.deepEqual(order, ['❯▶ laptop', 'unattributed IPv', 'tv']);
  for (const line of frame.split('\n')) assert.ok([...line].length <= 80, `fits 80 columns: ${line}`);
  await t.press('f');
  frame = await t.waitFor('8.00 MB/s');
  assert.ok(!frame.includes('IPv6 only'));
  t.unmount();
  fake.verify();
});
