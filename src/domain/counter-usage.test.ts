// The custom-counter accountant (issue 18): totals since reset across router reboots, the first
// read, rates, the history's deltas, a reset epoch, matches changed under one name, state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CounterAccountant, type WantedCounter } from './counter-usage.js';
import { makeCustomCounter, type CounterInput, type CustomCounter } from './custom-counter.js';

function counter(input: CounterInput): CustomCounter {
  const made = makeCustomCounter(input);
  assert.ok(made.counter);
  return made.counter;
}
const SSH = counter({ name: 'ssh', hook: 'input', proto: 'tcp', dport: '22' });
const DNS = counter({ name: 'dns', hook: 'output', proto: 'udp', dport: '53' });
const count = (entries: Record<string, [number, number]>) => new Map(Object.entries(entries).map(([k, [b, p]]) => [k, { bytes: b, packets: p }]));
const want = (...cs: Array<[CustomCounter, number | null]>): WantedCounter[] => cs.map(([c, resetMs]) => ({ counter: c, resetMs }));
const totals = (a: CounterAccountant) => a.view().map((v) => [v.name, v.bytes, v.packets]);

test('the first read takes a never-reset rule whole (not into the history); later reads add deltas and rates', () => {
  const a = new CounterAccountant();
  const v = a.observe(1000, want([SSH, null]), count({ ssh: [5000, 50] }));
  assert.deepEqual(v.map((u) => [u.name, u.match, u.bytes, u.packets, u.bps, u.sinceMs, u.isCounted]), [['ssh', 'input proto=tcp dport=22', 5000, 50, 0, 1000, true]]);
  assert.equal(a.lastDeltas.size, 0, 'a value of unknown age is no minute of history');
  a.observe(11_000, want([SSH, null]), count({ ssh: [6000, 60] }));
  assert.deepEqual(totals(a), [['ssh', 6000, 60]]);
  assert.equal(a.view()[0]?.bps, 100);
  assert.equal(a.view()[0]?.pps, 1);
  assert.deepEqual([...a.lastDeltas], [['ssh', { bytes: 1000, packets: 10 }]]);
});

test('a counter below its baseline (router reboot, rule re-created) counts from the new value; a counter added later counts whole', () => {
  const a = new CounterAccountant();
  a.observe(0, want([SSH, null]), count({ ssh: [100, 1] }));
  a.observe(1000, want([SSH, null], [DNS, null]), count({ ssh: [150, 2], dns: [40, 1] }));
  a.observe(2000, want([SSH, null], [DNS, null]), count({ ssh: [30, 1], dns: [50, 2] }));
  assert.deepEqual(totals(a), [['dns', 50, 2], ['ssh', 180, 3]]);
});

test('a rule not on the router: not counted, totals kept; a failed read (null) changes no total', () => {
  const a = new CounterAccountant();
  a.observe(0, want([SSH, null]), count({ ssh: [100, 1] }));
  a.observe(1000, want([SSH, null]), count({}));
  assert.deepEqual(a.view().map((u) => [u.bytes, u.isCounted]), [[100, false]]);
  a.observe(2000, want([SSH, null]), null);
  a.observe(3000, want([SSH, null]), count({ ssh: [400, 4] }));
  assert.deepEqual(totals(a), [['ssh', 400, 4]]);
});

test('a reset (epoch on the PC) zeroes the totals after its read went to the history; totals count on from there', () => {
  const a = new CounterAccountant();
  a.observe(0, want([SSH, null]), count({ ssh: [100, 1] }));
  a.observe(1000, want([SSH, 500]), count({ ssh: [300, 3] }));
  assert.deepEqual([...a.lastDeltas], [['ssh', { bytes: 200, packets: 2 }]], 'the history loses nothing');
  assert.deepEqual(a.view().map((u) => [u.bytes, u.sinceMs]), [[0, 500]]);
  a.observe(2000, want([SSH, 500]), count({ ssh: [350, 4] }));
  assert.deepEqual(totals(a), [['ssh', 50, 1]], 'the same reset applies once');
  const b = new CounterAccountant();
  b.observe(0, want([SSH, 500]), count({ ssh: [350, 4] }));
  assert.deepEqual(totals(b), [['ssh', 0, 0]], 'reset and not seen since: only the baseline');
});

test('removed counters leave; a name whose matches changed starts again; state round-trips only for the same matches', () => {
  const a = new CounterAccountant();
  a.observe(0, want([SSH, null], [DNS, null]), count({ ssh: [100, 1], dns: [10, 1] }));
  a.observe(1000, want([SSH, null]), count({ ssh: [200, 2] }));
  assert.deepEqual(totals(a), [['ssh', 200, 2]]);
  const other = counter({ name: 'ssh', hook: 'input', proto: 'tcp', dport: '2222' });
  const state = a.exportState();
  const b = new CounterAccountant();
  assert.equal(b.importState(JSON.parse(JSON.stringify(state)), want([SSH, null])), true);
  assert.deepEqual(totals(b), [['ssh', 200, 2]]);
  b.observe(2000, want([SSH, null]), count({ ssh: [250, 3] }));
  assert.deepEqual(totals(b), [['ssh', 250, 3]]);
  const c = new CounterAccountant();
  c.importState(state, want([other, null]));
  assert.deepEqual(totals(c), []);
  assert.equal(c.importState({ version: 2 }, []), false);
  assert.equal(c.importState(null, []), false);
  a.observe(3000, want([other, null]), count({ ssh: [7, 1] }));
  assert.deepEqual(a.view().map((u) => [u.match, u.bytes]), [['input proto=tcp dport=2222', 7]]);
});
