// Custom counters (issue 18) in every output of the one snapshot: usage --json counters[], the
// usage table's "Counters" section, Prometheus lantop_counter_*; absent when there are none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { host, makeSnapshot } from '../../test/fakes/fake-controller.js';
import { reportCountersJson, snapshotJson } from './json.js';
import { renderPlainSnapshot } from './usage-table.js';
import { createLantopMetrics } from './prometheus.js';
import type { CounterUsage } from '../domain/counter-usage.js';

const SINCE = Date.UTC(2026, 11, 1);
const ssh: CounterUsage = { name: 'ssh-in', match: 'input in=ppp0 proto=tcp dport=22', hook: 'input', family: 'both', bytes: 123_456, packets: 789, bps: 1234.6, pps: 3.4, sinceMs: SINCE, isCounted: true };
const gone: CounterUsage = { ...ssh, name: 'gone', match: 'forward src=!192.168.1.0/24', hook: 'forward', bytes: 0, packets: 0, bps: 0, pps: 0, sinceMs: null, isCounted: false };
const laptop = host('192.168.1.10', { hostname: 'laptop', downBytes: 1000, upBytes: 100 });

test('usage --json: counters[] only when the snapshot has some, with match, totals since reset and rates', () => {
  assert.equal('counters' in snapshotJson(makeSnapshot([laptop])), false);
  assert.equal('counters' in snapshotJson(makeSnapshot([laptop], { counters: [] })), false);
  const json = snapshotJson(makeSnapshot([laptop], { counters: [ssh, gone] })) as { counters: unknown[] };
  assert.deepEqual(json.counters, [
    { name: 'ssh-in', match: 'input in=ppp0 proto=tcp dport=22', hook: 'input', family: 'both', bytes: 123_456, packets: 789, bps: 1235, pps: 3, since: new Date(SINCE).toISOString(), counted: true },
    { name: 'gone', match: 'forward src=!192.168.1.0/24', hook: 'forward', family: 'both', bytes: 0, packets: 0, bps: 0, pps: 0, since: null, counted: false },
  ]);
  assert.deepEqual(reportCountersJson([{ name: 'ssh-in', bytes: 5, packets: 1 }]), [{ name: 'ssh-in', bytes: 5, packets: 1 }]);
});

test('the usage table: a Counters section under the hosts when there are counters, none otherwise', () => {
  assert.doesNotMatch(renderPlainSnapshot(makeSnapshot([laptop]), 120), /Counters/);
  const text = renderPlainSnapshot(makeSnapshot([laptop], { counters: [ssh, gone] }), 120);
  const [hosts, counters] = text.split('\nCounters\n');
  assert.match(hosts ?? '', /laptop/);
  assert.match(counters ?? '', /^COUNTER\s+MATCH\s+RATE\s+TOTAL\s+PACKETS\s+SINCE/);
  assert.match(counters ?? '', /ssh-in\s+input in=ppp0 proto=tcp dport=22\s+.*\s789\s/);
  assert.match(counters ?? '', /gone \(not on the router\)/);
  assert.match(renderPlainSnapshot(makeSnapshot([laptop], { counters: [ssh] }), 40), /ssh-in/, 'narrow: the name stays');
});

test('Prometheus: lantop_counter_bytes_total / packets_total {router,counter} and the rate gauge', async () => {
  const metrics = createLantopMetrics({ withDefaults: false });
  metrics.update(makeSnapshot([laptop], { counters: [ssh] }));
  const text = await metrics.registry.metrics();
  assert.match(text, /^lantop_counter_bytes_total\{router="198\.51\.100\.1",counter="ssh-in"\} 123456$/m);
  assert.match(text, /^lantop_counter_packets_total\{router="198\.51\.100\.1",counter="ssh-in"\} 789$/m);
  assert.match(text, /^lantop_counter_rate_bytes_per_second\{router="198\.51\.100\.1",counter="ssh-in"\} 1234\.6$/m);
  assert.match(text, /# TYPE lantop_counter_bytes_total counter/);
  const none = createLantopMetrics({ withDefaults: false });
  none.update(makeSnapshot([laptop]));
  assert.doesNotMatch(await none.registry.metrics(), /lantop_counter_bytes_total\{/);
});
