import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLantopMetrics, labelValue, MAX_LABEL_LENGTH } from './prometheus.js';
import type { HostUsage, Snapshot } from '../domain/snapshot.js';

function host(ip: string, over: Partial<HostUsage> = {}): HostUsage {
  const mac = over.mac === undefined ? '02:00:00:00:00:01' : over.mac;
  return { identity: mac ?? `ip:${ip}`, ip, addresses: [ip], mac: '02:00:00:00:00:01', hostname: 'pc', downBytes: 0, upBytes: 0, downBps: 0, upBps: 0, downShare: 0, upShare: 0, isCounted: true, ...over };
}

function snapshot(hosts: HostUsage[], over: Partial<Snapshot> = {}): Snapshot {
  return { schema: 1, router: 'r:23', atMs: 0, hosts, totals: { downBytes: 0, upBytes: 0, downBps: 0, upBps: 0 }, pollLatencyMs: 120, connection: { kind: 'connected' }, notices: [], ...over };
}

test('label values lose escapes and controls and are capped', () => {
  assert.equal(labelValue(null), '');
  assert.equal(labelValue('\u001b[31mred\u001b[0m\nx'), 'redx');
  const long = labelValue('a'.repeat(500));
  assert.equal(long.length, MAX_LABEL_LENGTH);
});

test('the exposition renders the latest snapshot with the declared types', async () => {
  const metrics = createLantopMetrics({ withDefaults: false });
  metrics.update(snapshot([host('198.51.100.2', { downBytes: 1000, upBytes: 20, downBps: 50, hostname: 'evil\u001b[2J"\\' })]));
  metrics.update(snapshot([host('198.51.100.2', { downBytes: 1500, upBytes: 30, downBps: 250, hostname: 'evil\u001b[2J"\\' })], { pollLatencyMs: 80, connection: { kind: 'reconnecting', inMs: 1000, reason: 'x' } }));
  const text = await metrics.registry.metrics();
  assert.match(text, /^# TYPE lantop_host_bytes_total counter$/m);
  assert.match(text, /^# TYPE lantop_host_rate_bytes_per_second gauge$/m);
  assert.match(text, /^# TYPE lantop_poll_duration_seconds histogram$/m);
  assert.ok(text.includes('lantop_host_bytes_total{router="r:23",ip="198.51.100.2",mac="02:00:00:00:00:01",hostname="evil\\"\\\\",direction="down"} 1500\n'));
  assert.ok(text.includes('direction="up"} 30\n'));
  assert.match(text, /lantop_host_rate_bytes_per_second\{[^}]*direction="down"\} 250\n/);
  assert.match(text, /^lantop_hosts\{router="r:23"\} 1$/m);
  assert.match(text, /^lantop_up\{router="r:23"\} 0$/m);
  assert.match(text, /^lantop_poll_duration_seconds_count\{router="r:23"\} 2$/m);
  assert.match(text, /^lantop_poll_duration_seconds_sum\{router="r:23"\} 0\.2$/m);
  assert.ok(!text.includes('\u001b'));
  assert.ok(!text.includes('process_cpu'), 'defaults only when asked');
});

test('hosts that left the snapshot leave the exposition; defaults are on by default', async () => {
  const metrics = createLantopMetrics();
  metrics.update(snapshot([host('198.51.100.2'), host('198.51.100.3')]));
  metrics.update(snapshot([host('198.51.100.3')], { pollLatencyMs: null }));
  const text = await metrics.registry.metrics();
  assert.ok(!text.includes('198.51.100.2'));
  assert.match(text, /^lantop_poll_duration_seconds_count\{router="r:23"\} 1$/m, 'failed polls (no latency) are not observed');
  assert.match(text, /^process_cpu_user_seconds_total /m);
});

test('issue 19: WAN bytes, the router\'s own, the accounted ratio per window, and each fast path found', async () => {
  const metrics = createLantopMetrics({ withDefaults: false });
  const wan = { interface: 'ppp0', downBytes: 1000, upBytes: 200, routerDownBytes: 100, routerUpBytes: null, hostDownBytes: 450, hostUpBytes: 200, accountedShare: { down: 0.5, up: 1 }, recentAccountedShare: { down: 0.25, up: null }, sinceMs: 0 };
  const offload = { findings: [{ kind: 'broadcom-fcache' as const, name: 'fc', state: 'on' as const, isHardware: null, evidence: '', howToDisable: null }, { kind: 'qualcomm-ecm' as const, name: 'ecm', state: 'unknown' as const, isHardware: null, evidence: '', howToDisable: null }], isOn: true, warning: 'w', checkedAtMs: 0 };
  metrics.update(snapshot([], { wan, offload }));
  const text = await metrics.registry.metrics();
  assert.ok(text.includes('lantop_wan_bytes_total{router="r:23",interface="ppp0",direction="down"} 1000\n'));
  assert.ok(text.includes('lantop_router_own_bytes_total{router="r:23",direction="down"} 100\n'));
  assert.doesNotMatch(text, /lantop_router_own_bytes_total\{[^}]*direction="up"/, 'not counted: absent, never 0');
  assert.ok(text.includes('lantop_accounted_ratio{router="r:23",direction="down",window="run"} 0.5\n'));
  assert.ok(text.includes('lantop_accounted_ratio{router="r:23",direction="down",window="recent"} 0.25\n'));
  assert.doesNotMatch(text, /lantop_accounted_ratio\{[^}]*direction="up",window="recent"/);
  assert.ok(text.includes('lantop_offload_active{router="r:23",kind="broadcom-fcache"} 1\n'));
  assert.doesNotMatch(text, /kind="qualcomm-ecm"/, 'unknown state: no sample');
});

test('issue 19: each traffic class\'s bytes as a counter and its rate as a gauge; no classes, no samples', async () => {
  const metrics = createLantopMetrics({ withDefaults: false });
  metrics.update(snapshot([]));
  assert.doesNotMatch(await metrics.registry.metrics(), /^lantop_class_/m);
  const classes = [
    { key: 'tcp/443', label: 'tcp/443 https', protocol: 'tcp' as const, port: 443, downBytes: 5000, upBytes: 300, downBps: 250, upBps: 12.5 },
    { key: 'udp', label: 'udp', protocol: 'udp' as const, port: null, downBytes: 0, upBytes: 7, downBps: 0, upBps: 0 },
  ];
  metrics.update(snapshot([], { classes }));
  const text = await metrics.registry.metrics();
  assert.match(text, /^# TYPE lantop_class_bytes_total counter$/m);
  assert.match(text, /^# TYPE lantop_class_rate_bytes_per_second gauge$/m);
  assert.ok(text.includes('lantop_class_bytes_total{router="r:23",class="tcp/443",direction="down"} 5000\n'));
  assert.ok(text.includes('lantop_class_bytes_total{router="r:23",class="tcp/443",direction="up"} 300\n'));
  assert.ok(text.includes('lantop_class_bytes_total{router="r:23",class="udp",direction="up"} 7\n'));
  assert.ok(text.includes('lantop_class_rate_bytes_per_second{router="r:23",class="tcp/443",direction="up"} 12.5\n'));
  // Classes removed on the router leave the exposition with the next snapshot.
  metrics.update(snapshot([]));
  assert.doesNotMatch(await metrics.registry.metrics(), /class="tcp\/443"/);
});
