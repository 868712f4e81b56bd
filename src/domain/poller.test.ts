import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Poller, type PollPort, type TrafficReading, type HistoryPort } from './poller.js';
import { FakeClock } from './clock.js';
import type { CounterPair, PollHost } from './accounting.js';

const A = { ip: '198.51.100.10', mac: '02:00:00:00:00:0a', hostname: 'laptop' };
const B = { ip: '198.51.100.11', mac: '02:00:00:00:00:0b', hostname: null };

function scriptedPort(clock: FakeClock, readings: Array<Record<string, [number, number]> | Error>, hosts: PollHost[] = [A, B]) {
  const calls = { discover: 0, read: 0 };
  const port: PollPort = {
    async discover() {
      calls.discover += 1;
      return hosts;
    },
    async readTraffic(): Promise<TrafficReading> {
      const next = readings[calls.read];
      calls.read += 1;
      clock.advance(40); // the poll's own round trip
      if (next === undefined) throw new Error('test read more polls than scripted');
      if (next instanceof Error) throw next;
      const counters = new Map<string, CounterPair>(Object.entries(next).map(([ip, [d, u]]) => [ip, { downBytes: d, upBytes: u }]));
      return { counters, installation: 'complete' };
    },
  };
  return { port, calls };
}

test('deltas, rates, shares and latency from successive polls', async () => {
  const clock = new FakeClock(1_700_000_000_000);
  const { port } = scriptedPort(clock, [
    { [A.ip]: [0, 0], [B.ip]: [0, 0] },
    { [A.ip]: [6000, 1000], [B.ip]: [2000, 3000] },
  ]);
  const poller = new Poller({ router: 'r', port, clock, intervalMs: 2000 });
  await poller.pollOnce();
  clock.advance(1960);
  const s = await poller.pollOnce();
  assert.equal(s.pollLatencyMs, 40);
  const a = s.hosts.find((h) => h.ip === A.ip)!;
  assert.equal(a.downBytes, 6000);
  assert.equal(a.upBytes, 1000);
  assert.equal(a.downShare, 0.75);
  assert.equal(a.upShare, 0.25);
  assert.equal(a.downBps, 3000);
  assert.equal(a.isCounted, true);
  assert.deepEqual(s.totals, { downBytes: 8000, upBytes: 4000, downBps: 4000, upBps: 2000 });
});

test('a router reboot never yields negative values and keeps the bytes counted before it', async () => {
  const clock = new FakeClock(1_700_000_000_000);
  const { port } = scriptedPort(clock, [{ [A.ip]: [0, 0] }, { [A.ip]: [10_000, 500] }, { [A.ip]: [300, 20] }]);
  const poller = new Poller({ router: 'r', port, clock });
  await poller.pollOnce();
  clock.advance(2000);
  await poller.pollOnce();
  clock.advance(2000);
  const s = await poller.pollOnce();
  const a = s.hosts.find((h) => h.ip === A.ip)!;
  assert.equal(a.downBytes, 10_300);
  assert.equal(a.upBytes, 520);
  assert.ok(a.downBps >= 0 && a.upBps >= 0);
  assert.ok(s.notices.some((n) => /reset/i.test(n.text)), JSON.stringify(s.notices));
});

test('discovery runs on the first poll and then every discovery interval, not every poll', async () => {
  const clock = new FakeClock(0);
  const readings = Array.from({ length: 20 }, () => ({ [A.ip]: [0, 0] as [number, number] }));
  const { port, calls } = scriptedPort(clock, readings);
  const poller = new Poller({ router: 'r', port, clock, discoveryIntervalMs: 30_000 });
  for (let i = 0; i < 20; i++) {
    await poller.pollOnce();
    clock.advance(1960);
  }
  assert.equal(calls.read, 20);
  assert.equal(calls.discover, 2); // t=0 and t≈30 s
});

test('concurrent pollOnce calls share one poll (never overlapping)', async () => {
  const clock = new FakeClock(0);
  const { port, calls } = scriptedPort(clock, [{ [A.ip]: [1, 1] }]);
  const poller = new Poller({ router: 'r', port, clock });
  const [x, y] = await Promise.all([poller.pollOnce(), poller.pollOnce()]);
  assert.equal(x, y);
  assert.equal(calls.read, 1);
});

test('a failed poll keeps totals, zeroes rates and reports the connection state', async () => {
  const clock = new FakeClock(0);
  const { port } = scriptedPort(clock, [{ [A.ip]: [0, 0] }, { [A.ip]: [4000, 0] }, new Error('connection lost')]);
  port.connectionState = () => ({ kind: 'reconnecting', inMs: 2000, reason: 'connection lost' });
  const poller = new Poller({ router: 'r', port, clock });
  await poller.pollOnce();
  clock.advance(2000);
  await poller.pollOnce();
  clock.advance(2000);
  const s = await poller.pollOnce();
  assert.deepEqual(s.connection, { kind: 'reconnecting', inMs: 2000, reason: 'connection lost' });
  assert.equal(s.hosts[0]?.downBytes, 4000);
  assert.equal(s.hosts[0]?.downBps, 0);
  assert.equal(s.pollLatencyMs, null);
});

test('only the writer records history; a reader never does', async () => {
  for (const role of ['writer', 'reader'] as const) {
    const clock = new FakeClock(0);
    const { port } = scriptedPort(clock, [{ [A.ip]: [0, 0] }, { [A.ip]: [100, 0] }]);
    let recorded = 0;
    const history: HistoryPort = { ensureRole: () => ({ role, becameWriter: false, restore: null }), record: () => ((recorded += 1), true) };
    const poller = new Poller({ router: 'r', port, clock, history });
    await poller.pollOnce();
    clock.advance(2000);
    await poller.pollOnce();
    assert.equal(recorded, role === 'writer' ? 2 : 0);
  }
});

test('sync results are passed on: new counters count from zero, repairs become notices', async () => {
  const clock = new FakeClock(0);
  const { port } = scriptedPort(clock, [{}, { [A.ip]: [700, 70] }]);
  let syncs = 0;
  port.sync = async () => {
    syncs += 1;
    return syncs === 1 ? { newAddresses: [A.ip], isReinstalled: true, notes: ['counting rules were missing; repaired'] } : { newAddresses: [], isReinstalled: false, notes: [] };
  };
  const poller = new Poller({ router: 'r', port, clock });
  await poller.pollOnce();
  clock.advance(2000);
  const s = await poller.pollOnce();
  assert.equal(s.hosts.find((h) => h.ip === A.ip)?.downBytes, 700);
  assert.ok(s.notices.some((n) => n.text.includes('repaired')));
});

test('without sync, missing rules are a warning that says what to run', async () => {
  const clock = new FakeClock(0);
  const port: PollPort = {
    discover: async () => [A],
    readTraffic: async () => ({ counters: new Map(), installation: 'missing' }),
  };
  const s = await new Poller({ router: 'r', port, clock }).pollOnce();
  assert.ok(s.notices.some((n) => n.level === 'warn' && n.text.includes('lantop setup')));
  assert.equal(s.hosts.find((h) => h.ip === A.ip)?.isCounted, false);
});

/** How notices print times (accounting.ts fmtTime). */
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

/**
 * A managed router as sync sees it: readings in order (null = the rules are gone: nothing
 * installed, no counters), and a sync that puts the rules back whenever a reading lacks them, taking `syncMs`.
 */
function managedPort(clock: FakeClock, readings: Array<Record<string, [number, number]> | null>, syncMs = 25) {
  const log = { reads: [] as number[], installs: [] as number[] };
  let i = 0;
  const port: PollPort = {
    discover: async () => [A, B],
    async readTraffic(): Promise<TrafficReading> {
      const next = readings[i];
      i += 1;
      clock.advance(40);
      log.reads.push(clock.now());
      if (next === undefined) throw new Error('test read more polls than scripted');
      if (next === null) return { counters: new Map(), installation: 'missing' };
      const counters = new Map<string, CounterPair>(Object.entries(next).map(([ip, [d, u]]) => [ip, { downBytes: d, upBytes: u }]));
      return { counters, installation: 'complete' };
    },
    async sync(_hosts, reading) {
      if (reading.installation === 'complete') return { newAddresses: [], isReinstalled: false, notes: [] };
      clock.advance(syncMs);
      log.installs.push(clock.now());
      return { newAddresses: [A.ip, B.ip], isReinstalled: true, notes: [] };
    },
  };
  return { port, log };
}

test('a router lantop sets up on its first poll: no reset and no warning, every byte since the install counted', async () => {
  const clock = new FakeClock(1_700_000_000_000);
  const { port, log } = managedPort(clock, [null, { [A.ip]: [700, 70], [B.ip]: [10, 1] }]);
  const poller = new Poller({ router: 'r', port, clock });
  await poller.pollOnce();
  clock.advance(1935);
  const s = await poller.pollOnce();
  assert.equal(log.installs.length, 1);
  assert.equal(s.hosts.find((h) => h.ip === A.ip)?.downBytes, 700);
  assert.equal(s.hosts.find((h) => h.ip === B.ip)?.upBytes, 1);
  assert.deepEqual(s.notices.filter((n) => n.level !== 'info'), [], JSON.stringify(s.notices));
  assert.ok(!s.notices.some((n) => /recreated|rebuilt|reset|could not/i.test(n.text)), JSON.stringify(s.notices));
});

test('a reboot while polling: the notice names only the gap before the re-install, never the window counted since', async () => {
  const clock = new FakeClock(1_700_000_000_000);
  const { port, log } = managedPort(clock, [
    { [A.ip]: [0, 0], [B.ip]: [0, 0] },
    { [A.ip]: [5000, 500], [B.ip]: [100, 10] },
    null, // rebooted: rules and counters gone; sync puts them back right after this read
    { [A.ip]: [300, 30], [B.ip]: [0, 0] },
    { [A.ip]: [800, 30], [B.ip]: [0, 0] },
  ]);
  const poller = new Poller({ router: 'r', port, clock });
  await poller.pollOnce();
  clock.advance(1960);
  await poller.pollOnce();
  const lastCountedAt = log.reads[1]!;
  clock.advance(20_000);
  await poller.pollOnce();
  const reinstalledAt = log.installs[0]!;
  clock.advance(1935);
  const s = await poller.pollOnce();
  const readAfter = log.reads[3]!;
  const a = s.hosts.find((h) => h.ip === A.ip)!;
  assert.equal(a.downBytes, 5000 + 300, 'the window after the re-install is counted, from zero');
  assert.equal(a.upBytes, 500 + 30);
  const warnings = s.notices.filter((n) => n.level === 'warn');
  assert.equal(warnings.length, 1, JSON.stringify(s.notices));
  const text = warnings[0]!.text;
  assert.match(text, /^lantop's counting rules were missing \(the router rebuilt its firewall\?\) and were put back/);
  assert.ok(text.includes(`between ${iso(lastCountedAt)} and ${iso(reinstalledAt)}`), text);
  assert.ok(!text.includes(iso(readAfter)) && !text.includes(`between ${iso(log.reads[2]!)}`), `nothing after the re-install is missing: ${text}`);
  // The whole text, in lantop's words: no backend's object names.
  assert.equal(
    text,
    `lantop's counting rules were missing (the router rebuilt its firewall?) and were put back: counting continues from the new counters (epoch 1); traffic between ${iso(lastCountedAt)} and ${iso(reinstalledAt)} could not be counted.`,
  );
  // The next poll is ordinary: no new warning.
  clock.advance(1960);
  const s2 = await poller.pollOnce();
  assert.equal(s2.hosts.find((h) => h.ip === A.ip)?.downBytes, 5800);
  assert.equal(s2.notices.filter((n) => n.level === 'warn').length, 1);
});

test('a re-install the next read cannot see is no reset; the one that takes names the whole gap', async () => {
  const clock = new FakeClock(1_700_000_000_000);
  const { port, log } = managedPort(clock, [{ [A.ip]: [1000, 100] }, null, null, { [A.ip]: [5, 0] }]);
  const poller = new Poller({ router: 'r', port, clock });
  await poller.pollOnce();
  const lastCountedAt = log.reads[0]!;
  for (let i = 0; i < 2; i++) {
    clock.advance(1935);
    const s = await poller.pollOnce();
    assert.deepEqual(s.notices.filter((n) => n.level === 'warn'), [], 'nothing was put back yet');
  }
  clock.advance(1935);
  const s = await poller.pollOnce();
  assert.equal(log.installs.length, 2);
  const warnings = s.notices.filter((n) => n.level === 'warn');
  assert.equal(warnings.length, 1, JSON.stringify(s.notices));
  assert.ok(warnings[0]!.text.includes(`between ${iso(lastCountedAt)} and ${iso(log.installs[1]!)}`), warnings[0]!.text);
  assert.equal(s.hosts.find((h) => h.ip === A.ip)?.downBytes, 5);
});

test('without sync, missing rules are a warning in lantop’s words (no firewall jargon) that says what to run', async () => {
  const clock = new FakeClock(0);
  const expected = {
    missing: "lantop's counting rules are missing: nothing is being counted (run `lantop setup`)",
    incomplete: "lantop's counting rules are incomplete (forwarded traffic no longer reaches them): nothing is being counted (run `lantop setup`)",
  };
  for (const installation of ['missing', 'incomplete'] as const) {
    const port: PollPort = { discover: async () => [A], readTraffic: async () => ({ counters: new Map(), installation }) };
    const s = await new Poller({ router: 'r', port, clock }).pollOnce();
    const warning = s.notices.find((n) => n.level === 'warn');
    assert.ok(warning !== undefined && warning.text.includes('lantop setup'), JSON.stringify(s.notices));
    assert.match(warning.text, /^lantop's counting rules (are missing|are incomplete)/);
    // The whole text, in lantop's words: no backend's object names.
    assert.equal(warning.text, expected[installation]);
  }
});

test('a dual-stack host is one row, counted when any of its addresses has a counter or sync just added one', async () => {
  const clock = new FakeClock(0);
  const A6 = { ip: '2001:db8::a', mac: A.mac, hostname: 'laptop' };
  const { port } = scriptedPort(clock, [{ [A6.ip]: [0, 0] }, { [A6.ip]: [500, 50], [A.ip]: [100, 10], [B.ip]: [7, 0] }], [A6, A, B]);
  port.sync = async () => ({ newAddresses: [B.ip], isReinstalled: false, notes: [] });
  const poller = new Poller({ router: 'r', port, clock });
  const s1 = await poller.pollOnce();
  assert.deepEqual(s1.hosts.map((h) => [h.identity, h.ip, h.addresses, h.isCounted]), [
    [A.mac, A.ip, [A.ip, A6.ip], true],
    [B.mac, B.ip, [B.ip], true],
  ]);
  clock.advance(1960);
  const s2 = await poller.pollOnce();
  const a = s2.hosts.find((h) => h.identity === A.mac)!;
  assert.deepEqual([a.downBytes, a.upBytes], [600, 60]);
  assert.equal(s2.hosts.length, 2);
  assert.deepEqual(s2.totals, { downBytes: 607, upBytes: 60, downBps: 303.5, upBps: 30 });
});
