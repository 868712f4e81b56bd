import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ClassAccountant, classLabel, type ClassAccountantState } from './class-usage.js';
import type { TrafficClass } from './traffic-class.js';
import type { CounterPair } from './accounting-model.js';

const HTTPS: TrafficClass = { protocol: 'tcp', port: 443 };
const QUIC: TrafficClass = { protocol: 'udp', port: 443 };
const UDP: TrafficClass = { protocol: 'udp', port: null };
const ODD: TrafficClass = { protocol: 'tcp', port: 4711 };
const counters = (entries: Record<string, [number, number]>) => new Map(Object.entries(entries).map(([k, [d, u]]) => [k, { downBytes: d, upBytes: u }]));

test('labels: the key and the well-known name of its port', () => {
  assert.equal(classLabel(HTTPS), 'tcp/443 https');
  assert.equal(classLabel(QUIC), 'udp/443 quic');
  assert.equal(classLabel(UDP), 'udp');
  assert.equal(classLabel(ODD), 'tcp/4711');
});

test('the first read is a baseline; later reads add deltas and give rates from the last two', () => {
  const a = new ClassAccountant();
  const first = a.observe(1000, counters({ 'tcp/443': [5000, 700], udp: [100, 100] }), [HTTPS, UDP]);
  assert.deepEqual(first.map((c) => [c.key, c.downBytes, c.upBytes]), [['tcp/443', 0, 0], ['udp', 0, 0]], 'bytes of unknown age are not counted');
  assert.equal(a.lastDeltas.size, 0);
  const second = a.observe(3000, counters({ 'tcp/443': [9000, 900], udp: [100, 300] }), [HTTPS, UDP]);
  assert.deepEqual(second[0], { key: 'tcp/443', label: 'tcp/443 https', protocol: 'tcp', port: 443, downBytes: 4000, upBytes: 200, downBps: 2000, upBps: 100 });
  assert.deepEqual(second[1], { key: 'udp', label: 'udp', protocol: 'udp', port: null, downBytes: 0, upBytes: 200, downBps: 0, upBps: 100 });
  assert.deepEqual([...a.lastDeltas], [['tcp/443', { downBytes: 4000, upBytes: 200 }], ['udp', { downBytes: 0, upBytes: 200 }]]);
  a.observe(4000, counters({ 'tcp/443': [9000, 900], udp: [100, 300] }), [HTTPS, UDP]);
  assert.equal(a.lastDeltas.size, 0, 'a read without traffic has nothing to record');
  assert.equal(a.view()[0]?.downBps, 0);
});

test('a counter that went down (router reboot, rules re-created) restarts from its value; the total keeps what it had', () => {
  const a = new ClassAccountant();
  a.observe(0, counters({ 'tcp/443': [1000, 1000] }), [HTTPS]);
  a.observe(1000, counters({ 'tcp/443': [6000, 2000] }), [HTTPS]);
  const after = a.observe(2000, counters({ 'tcp/443': [300, 2500] }), [HTTPS]);
  assert.deepEqual([after[0]?.downBytes, after[0]?.upBytes], [5000 + 300, 1000 + 500]);
  assert.deepEqual(a.lastDeltas.get('tcp/443'), { downBytes: 300, upBytes: 500 });
});

test('a failed read changes nothing; the next good one spans both intervals', () => {
  const a = new ClassAccountant();
  a.observe(0, counters({ udp: [0, 0] }), [UDP]);
  a.observe(1000, counters({ udp: [100, 10] }), [UDP]);
  const failed = a.observe(2000, null, null);
  assert.equal(a.lastDeltas.size, 0);
  assert.deepEqual([failed[0]?.downBytes, failed[0]?.downBps], [100, 100]);
  const next = a.observe(3000, counters({ udp: [500, 10] }), [UDP]);
  assert.deepEqual([next[0]?.downBytes, next[0]?.downBps], [500, 200]);
});

test('installed classes: a removed one leaves the view and the state; one added later counts from 0; unknown keys are ignored', () => {
  const a = new ClassAccountant();
  a.observe(0, counters({ 'tcp/443': [10, 10], 'udp/443': [10, 10] }), [HTTPS, QUIC]);
  a.observe(1000, counters({ 'tcp/443': [20, 20], 'udp/443': [30, 30] }), [HTTPS, QUIC]);
  const removed = a.observe(2000, counters({ 'tcp/443': [25, 20], 'udp/443': [99, 99] }), [HTTPS]);
  assert.deepEqual(removed.map((c) => c.key), ['tcp/443'], 'counters of a class no longer installed are not shown');
  assert.deepEqual(Object.keys(a.exportState().classes), ['tcp/443']);
  // Put back: a new rule, counting from 0 since the last read.
  const back = a.observe(3000, counters({ 'tcp/443': [25, 20], 'udp/443': [7, 3] }), [HTTPS, QUIC]);
  assert.deepEqual(back.map((c) => [c.key, c.downBytes, c.upBytes]), [['tcp/443', 15, 10], ['udp/443', 7, 3]]);
  // installed unknown this read: the classes known and any valid key of the counters.
  const unknown = a.observe(4000, counters({ 'tcp/443': [25, 20], 'udp/443': [7, 3], 'sctp/9': [1, 1], 'tcp/0': [5, 5], 'bogus; rm -rf /': [5, 5], 'tcp/0443': [5, 5] }), null);
  assert.deepEqual(unknown.map((c) => c.key), ['tcp/443', 'udp/443', 'sctp/9']);
  assert.equal(unknown[2]?.downBytes, 1);
  const none = a.observe(5000, counters({}), []);
  assert.deepEqual(none, [], 'none installed: nothing to show');
});

test('an installed class missing from the read, or unreadable, waits with its baseline', () => {
  const a = new ClassAccountant();
  a.observe(0, counters({ 'tcp/443': [100, 100] }), [HTTPS]);
  const missing = a.observe(1000, counters({}), [HTTPS]);
  assert.deepEqual([missing[0]?.downBytes, missing[0]?.downBps], [0, 0]);
  a.observe(2000, new Map([['tcp/443', { downBytes: Number.NaN, upBytes: -1 }]]), [HTTPS]);
  const back = a.observe(3000, counters({ 'tcp/443': [400, 100] }), [HTTPS]);
  assert.equal(back[0]?.downBytes, 300);
  // Installed before its first read: no baseline yet, so the first value is of unknown age only
  // when there was no earlier read at all.
  const b = new ClassAccountant();
  b.observe(0, counters({}), [HTTPS]);
  assert.equal(b.observe(1000, counters({ 'tcp/443': [50, 0] }), [HTTPS])[0]?.downBytes, 50, 'installed after an earlier read: counted from 0');
});

test('state: a later run continues with the totals and baselines; garbage is refused or skipped', () => {
  const a = new ClassAccountant();
  a.observe(0, counters({ 'tcp/443': [0, 0], udp: [0, 0] }), [HTTPS, UDP]);
  a.observe(1000, counters({ 'tcp/443': [800, 80], udp: [5, 5] }), [HTTPS, UDP]);
  const state = JSON.parse(JSON.stringify(a.exportState())) as ClassAccountantState;
  const b = new ClassAccountant();
  assert.equal(b.importState(state), true);
  assert.deepEqual(b.view().map((c) => [c.key, c.downBytes, c.downBps]), [['tcp/443', 800, 0], ['udp', 5, 0]]);
  const later = b.observe(61_000, counters({ 'tcp/443': [1400, 80], udp: [5, 5] }), [HTTPS, UDP]);
  assert.deepEqual([later[0]?.downBytes, later[0]?.downBps], [1400, 10]);

  for (const bad of [null, 'x', 42, {}, { version: 2, atMs: 0, classes: {} }, { version: 1, atMs: 'now', classes: {} }, { version: 1, atMs: 0, classes: [] }, { version: 1, atMs: Infinity, classes: {} }]) {
    const c = new ClassAccountant();
    c.observe(0, counters({ udp: [1, 1] }), [UDP]);
    assert.equal(c.importState(bad), false, JSON.stringify(bad));
    assert.deepEqual(c.view().map((x) => x.key), ['udp'], 'a refused state changes nothing');
  }
  const mixed = new ClassAccountant();
  assert.equal(
    mixed.importState({
      version: 1,
      atMs: 5,
      classes: {
        'tcp/443': { baseDownBytes: 1, baseUpBytes: 1, downBytes: 9, upBytes: 9 },
        udp: { baseDownBytes: null, baseUpBytes: null, downBytes: 3, upBytes: 0 },
        'tcp/0': { baseDownBytes: 1, baseUpBytes: 1, downBytes: 1, upBytes: 1 },
        'gre/5': { baseDownBytes: 1, baseUpBytes: 1, downBytes: 1, upBytes: 1 },
        'udp/53': { baseDownBytes: 1, baseUpBytes: null, downBytes: 1, upBytes: 1 },
        'udp/67': { baseDownBytes: 1, baseUpBytes: 1, downBytes: -1, upBytes: 1 },
        'udp/68': 'garbage',
      },
    }),
    true,
  );
  assert.deepEqual(mixed.view().map((c) => [c.key, c.downBytes]), [['tcp/443', 9], ['udp', 3]]);
});

test('property: totals never go down and equal the sum of the recorded deltas, whatever the counters do', () => {
  const keys = ['tcp/443', 'udp/443', 'udp'];
  const all: TrafficClass[] = [HTTPS, QUIC, UDP];
  const counter = fc.oneof(fc.nat({ max: 2 ** 40 }), fc.constant(0), fc.constant(Number.NaN), fc.constant(-5), fc.constant(2 ** 53));
  const read = fc.record({
    stepMs: fc.integer({ min: -1000, max: 120_000 }),
    isFailed: fc.boolean(),
    counters: fc.array(fc.tuple(fc.constantFrom(...keys), counter, counter), { maxLength: 4 }),
    installedMask: fc.option(fc.integer({ min: 0, max: 7 }), { nil: null }),
    isRestart: fc.boolean(),
  });
  fc.assert(
    fc.property(fc.array(read, { minLength: 1, maxLength: 40 }), (reads) => {
      let a = new ClassAccountant();
      let atMs = 0;
      const recorded = new Map<string, [number, number]>();
      const before = new Map<string, [number, number]>();
      for (const r of reads) {
        atMs += r.stepMs;
        if (r.isRestart) {
          const next = new ClassAccountant();
          assert.equal(next.importState(JSON.parse(JSON.stringify(a.exportState()))), true);
          a = next;
        }
        const installed = r.installedMask === null ? null : all.filter((_, i) => (r.installedMask! & (1 << i)) !== 0);
        const map = new Map<string, CounterPair>(r.counters.map(([k, d, u]) => [k, { downBytes: d, upBytes: u }]));
        const view = a.observe(atMs, r.isFailed ? null : map, installed);
        for (const [k, d] of a.lastDeltas) {
          assert.ok(d.downBytes >= 0 && d.upBytes >= 0 && Number.isSafeInteger(d.downBytes) && Number.isSafeInteger(d.upBytes));
          const sum = recorded.get(k) ?? [0, 0];
          recorded.set(k, [sum[0] + d.downBytes, sum[1] + d.upBytes]);
        }
        const shown = new Set(view.map((c) => c.key));
        for (const k of [...before.keys()]) {
          if (shown.has(k)) continue;
          before.delete(k);
          recorded.delete(k);
        }
        for (const c of view) {
          const prev = before.get(c.key) ?? [0, 0];
          assert.ok(c.downBytes >= prev[0] && c.upBytes >= prev[1], `${c.key} went down`);
          assert.ok(c.downBps >= 0 && c.upBps >= 0 && Number.isFinite(c.downBps));
          assert.deepEqual([c.downBytes, c.upBytes], recorded.get(c.key) ?? [0, 0]);
          before.set(c.key, [c.downBytes, c.upBytes]);
        }
      }
    }),
    { numRuns: 300 },
  );
});
