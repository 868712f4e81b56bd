// The family split in every machine format (issue 15): usage and report JSON/CSV with byFamily,
// Prometheus's family metric, and the unattributed IPv6 row's name. The snapshots come from the
// real poller, so the split is the accountant's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CounterPair, PollHost } from '../domain/accounting.js';
import { FakeClock } from '../domain/clock.js';
import { Poller, type PollPort } from '../domain/poller.js';
import type { PeriodReport } from '../domain/report.js';
import type { Snapshot } from '../domain/snapshot.js';
import { reportCsv, reportJson, snapshotCsv, snapshotJson } from './json.js';
import { createLantopMetrics } from './prometheus.js';
import { renderPlainSnapshot } from './usage-table.js';

const T0 = 1_700_000_000_000;
const MAC = '02:00:00:00:00:10';
const V4 = '198.51.100.10';
const V6 = '2001:db8::10';
const TEMP = '2001:db8::7e3f:1';
const HOSTS: PollHost[] = [
  { ip: V4, mac: MAC, hostname: 'laptop' },
  { ip: V6, mac: MAC, hostname: 'laptop' },
];

/** The second poll's snapshot: the laptop moved 1000/100 bytes over IPv4 and 3000/300 over IPv6, an unknown address 500/50. */
async function dualStackSnapshot(): Promise<Snapshot> {
  const clock = new FakeClock(T0);
  const readings: Array<Record<string, [number, number]>> = [
    { [V4]: [0, 0], [V6]: [0, 0], [TEMP]: [0, 0] },
    { [V4]: [1000, 100], [V6]: [3000, 300], [TEMP]: [500, 50] },
  ];
  let read = 0;
  const port: PollPort = {
    discover: async () => HOSTS,
    readTraffic: async () => ({
      counters: new Map<string, CounterPair>(Object.entries(readings[read++] ?? {}).map(([ip, [d, u]]) => [ip, { downBytes: d, upBytes: u }])),
      installation: 'complete',
    }),
  };
  const poller = new Poller({ router: '198.51.100.1:23', port, clock });
  await poller.pollOnce();
  clock.advance(2000);
  return poller.pollOnce();
}

test('usage JSON with byFamily: every row and the totals carry the split after their own fields', async () => {
  const s = await dualStackSnapshot();
  const json = snapshotJson(s, { byFamily: true });
  const laptop = json.hosts[0]!;
  assert.deepEqual(Object.keys(laptop), [
    'identity', 'ip', 'addresses', 'mac', 'hostname', 'downBytes', 'upBytes', 'downBps', 'upBps', 'downShare', 'upShare', 'counted',
    'down4Bytes', 'up4Bytes', 'down6Bytes', 'up6Bytes', 'down4Bps', 'up4Bps', 'down6Bps', 'up6Bps',
  ]);
  assert.deepEqual(laptop, {
    ...laptop,
    identity: MAC,
    downBytes: 4000,
    upBytes: 400,
    down4Bytes: 1000,
    up4Bytes: 100,
    down6Bytes: 3000,
    up6Bytes: 300,
    downBps: 2000,
    down4Bps: 500,
    up4Bps: 50,
    down6Bps: 1500,
    up6Bps: 150,
  });
  const unattributed = json.hosts[1] as Record<string, unknown>;
  assert.deepEqual([unattributed.identity, unattributed.ip, unattributed.addresses, unattributed.mac, unattributed.hostname], ['unattributed:ipv6', '', [TEMP], null, null]);
  assert.deepEqual([unattributed.down4Bytes, unattributed.down6Bytes, unattributed.up6Bytes], [0, 500, 50]);
  assert.deepEqual(json.totals, {
    downBytes: 4500, upBytes: 450, downBps: 2250, upBps: 225,
    down4Bytes: 1000, up4Bytes: 100, down6Bytes: 3500, up6Bytes: 350, down4Bps: 500, up4Bps: 50, down6Bps: 1750, up6Bps: 175,
  });
  // Without it, the format is exactly as before issue 15.
  const plain = snapshotJson(s);
  assert.equal('down6Bytes' in plain.hosts[0]!, false);
  assert.deepEqual(Object.keys(plain.totals), ['downBytes', 'upBytes', 'downBps', 'upBps']);
});

test('usage CSV with byFamily: the split as the last columns; without it the old columns', async () => {
  const s = await dualStackSnapshot();
  const [header, laptop, unattributed] = snapshotCsv(s, true, { byFamily: true }).trim().split('\n');
  assert.equal(header, 'at,ip,mac,hostname,down_bytes,up_bytes,down_bps,up_bps,down_share,up_share,counted,identity,down4_bytes,up4_bytes,down6_bytes,up6_bytes,down4_bps,up4_bps,down6_bps,up6_bps');
  assert.equal(laptop, `2023-11-14T22:13:22.000Z,${V4},${MAC},laptop,4000,400,2000,200,0.8889,0.8889,true,${MAC},1000,100,3000,300,500,50,1500,150`);
  assert.equal(unattributed, '2023-11-14T22:13:22.000Z,,,,500,50,250,25,0.1111,0.1111,true,unattributed:ipv6,0,0,500,50,0,0,250,25');
  assert.equal(snapshotCsv(s, false, { byFamily: true }).split('\n')[0], laptop);
  assert.equal(snapshotCsv(s).split('\n')[0], 'at,ip,mac,hostname,down_bytes,up_bytes,down_bps,up_bps,down_share,up_share,counted,identity');
});

const REPORT: PeriodReport = {
  router: '198.51.100.1:23',
  requested: { startMs: T0, endMs: T0 + 1000 },
  effective: { startMs: T0, endMs: T0 + 1000 },
  startPrecision: 'minute',
  endPrecision: 'minute',
  hosts: [
    { identity: MAC, mac: MAC, ip: V4, hostname: 'laptop', firstSeenMs: T0, lastSeenMs: T0, downBytes: 40, upBytes: 4, down4Bytes: 10, up4Bytes: 1, down6Bytes: 30, up6Bytes: 3 },
    { identity: 'unattributed:ipv6', mac: null, ip: '', hostname: null, firstSeenMs: T0, lastSeenMs: T0, downBytes: 5, upBytes: 0, down4Bytes: 0, up4Bytes: 0, down6Bytes: 5, up6Bytes: 0 },
    // A total without a split (history from before issue 15, read by an older store): IPv4.
    { identity: 'ip:198.51.100.12', mac: null, ip: '198.51.100.12', hostname: null, firstSeenMs: T0, lastSeenMs: T0, downBytes: 2, upBytes: 1 },
  ],
  totals: { downBytes: 47, upBytes: 5 },
  totalsByFamily: { down4Bytes: 12, up4Bytes: 2, down6Bytes: 35, up6Bytes: 3 },
  hostCount: 3,
};

test('report JSON and CSV with byFamily carry the split; the unattributed row has no address', () => {
  const json = reportJson('198.51.100.1:23', 'all', REPORT.requested, REPORT, { byFamily: true });
  assert.deepEqual(json.totals, { downBytes: 47, upBytes: 5, down4Bytes: 12, up4Bytes: 2, down6Bytes: 35, up6Bytes: 3 });
  assert.deepEqual(json.hosts[0], { identity: MAC, ip: V4, addresses: [V4], mac: MAC, hostname: 'laptop', downBytes: 40, upBytes: 4, down4Bytes: 10, up4Bytes: 1, down6Bytes: 30, up6Bytes: 3 });
  assert.deepEqual(json.hosts[1]?.addresses, []);
  const old = json.hosts[2] as Record<string, unknown>;
  assert.deepEqual([old.down4Bytes, old.down6Bytes], [2, 0]);
  assert.equal(
    reportCsv(REPORT, { byFamily: true }),
    'identity,ip,mac,hostname,down_bytes,up_bytes,down4_bytes,up4_bytes,down6_bytes,up6_bytes\n' +
      `${MAC},${V4},${MAC},laptop,40,4,10,1,30,3\nunattributed:ipv6,,,,5,0,0,0,5,0\nip:198.51.100.12,198.51.100.12,,,2,1,2,1,0,0\n`,
  );
  assert.deepEqual(Object.keys(reportJson('r', 'all', REPORT.requested, REPORT).hosts[0]!).sort(), ['addresses', 'downBytes', 'hostname', 'identity', 'ip', 'mac', 'upBytes']);
  // No history at all: zeros, and the same columns.
  assert.deepEqual(reportJson('r', 'all', REPORT.requested, null, { byFamily: true }).totals, { downBytes: 0, upBytes: 0, down4Bytes: 0, up4Bytes: 0, down6Bytes: 0, up6Bytes: 0 });
  assert.equal(reportCsv(null, { byFamily: true }), 'identity,ip,mac,hostname,down_bytes,up_bytes,down4_bytes,up4_bytes,down6_bytes,up6_bytes\n');
});

test('Prometheus: the totals metric as before, the split in its own metric with a family label', async () => {
  const metrics = createLantopMetrics({ withDefaults: false });
  metrics.update(await dualStackSnapshot());
  const text = await metrics.registry.metrics();
  const laptop = `router="198.51.100.1:23",ip="${V4}",mac="${MAC}",hostname="laptop"`;
  assert.ok(text.includes(`lantop_host_bytes_total{${laptop},direction="down"} 4000\n`), text);
  assert.match(text, /^# TYPE lantop_host_family_bytes_total counter$/m);
  for (const [direction, family, value] of [['down', 'ipv4', 1000], ['up', 'ipv4', 100], ['down', 'ipv6', 3000], ['up', 'ipv6', 300]] as const) {
    assert.ok(text.includes(`lantop_host_family_bytes_total{${laptop},direction="${direction}",family="${family}"} ${value}\n`), `${direction} ${family}`);
  }
  const unattributed = 'router="198.51.100.1:23",ip="",mac="",hostname="unattributed IPv6"';
  assert.ok(text.includes(`lantop_host_bytes_total{${unattributed},direction="down"} 500\n`));
  assert.ok(text.includes(`lantop_host_family_bytes_total{${unattributed},direction="down",family="ipv6"} 500\n`));
  // The family metric adds up to the totals metric: summing one family never counts a byte twice.
  const sum = (name: string) => [...text.matchAll(new RegExp(`^${name}\\{[^}]*direction="down"[^}]*\\} (\\d+)$`, 'gm'))].reduce((a, m) => a + Number(m[1]), 0);
  assert.equal(sum('lantop_host_family_bytes_total'), sum('lantop_host_bytes_total'));
  assert.equal(sum('lantop_host_bytes_total'), 4500);
});

test('the plain usage table names the unattributed row', async () => {
  const text = renderPlainSnapshot(await dualStackSnapshot(), 100);
  assert.match(text, /^unattributed IPv6\s+\d/m);
  assert.match(text, /^laptop\s+198\.51\.100\.10\s/m);
});
