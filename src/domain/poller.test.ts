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
      return { counters, hasChain: true, hasJump: true };
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

test('sync results are passed on: new rules count from zero, repairs become notices', async () => {
  const clock = new FakeClock(0);
  const { port } = scriptedPort(clock, [{}, { [A.ip]: [700, 70] }]);
  let syncs = 0;
  port.sync = async () => {
    syncs += 1;
    return syncs === 1 ? { newRuleIps: [A.ip], isChainRecreated: true, notes: ['TRAFFIC chain was missing; repaired'] } : { newRuleIps: [], isChainRecreated: false, notes: [] };
  };
  const poller = new Poller({ router: 'r', port, clock });
  await poller.pollOnce();
  clock.advance(2000);
  const s = await poller.pollOnce();
  assert.equal(s.hosts.find((h) => h.ip === A.ip)?.downBytes, 700);
  assert.ok(s.notices.some((n) => n.text.includes('repaired')));
});

test('without sync, a missing chain is a warning that says what to run', async () => {
  const clock = new FakeClock(0);
  const port: PollPort = {
    discover: async () => [A],
    readTraffic: async () => ({ counters: new Map(), hasChain: false, hasJump: false }),
  };
  const s = await new Poller({ router: 'r', port, clock }).pollOnce();
  assert.ok(s.notices.some((n) => n.level === 'warn' && n.text.includes('lantop setup')));
  assert.equal(s.hosts.find((h) => h.ip === A.ip)?.isCounted, false);
});
