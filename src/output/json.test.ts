import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { host, makeSnapshot } from '../../test/fakes/fake-controller.js';
import { hostsJson, reportClassesJson, reportCsv, reportJson, snapshotCsv, snapshotJson } from './json.js';
import type { PeriodReport } from '../domain/report.js';

const T0 = 1_700_000_000_000;
const laptop = host('198.51.100.10', { mac: '02:00:00:00:00:10', hostname: 'laptop', addresses: ['198.51.100.10', '2001:db8::10'], downBytes: 5, upBytes: 1 });
const bare = host('2001:db8:85a3:1234:5678:9abc:def0:1234');

test('hosts JSON: each row carries its identity and all the addresses of that identity', () => {
  const json = hostsJson('198.51.100.1', T0, [
    { identity: '02:00:00:00:00:10', ip: '198.51.100.10', addresses: ['198.51.100.10', '2001:db8::1'], mac: '02:00:00:00:00:10', hostname: 'pc', iface: 'br0', isCounted: true },
    { identity: '02:00:00:00:00:10', ip: '2001:db8::1', addresses: ['198.51.100.10', '2001:db8::1'], mac: '02:00:00:00:00:10', hostname: 'pc', iface: 'br0', isCounted: false },
  ]);
  assert.deepEqual(json.hosts[1], { identity: '02:00:00:00:00:10', ip: '2001:db8::1', addresses: ['198.51.100.10', '2001:db8::1'], mac: '02:00:00:00:00:10', hostname: 'pc', iface: 'br0', counted: false });
  assert.equal(json.schema, 1);
});

test('snapshot JSON: identity and addresses added to every host, the other fields as before', () => {
  const json = snapshotJson(makeSnapshot([laptop, bare], { atMs: T0 }));
  assert.deepEqual(Object.keys(json.hosts[0]!), ['identity', 'ip', 'addresses', 'mac', 'hostname', 'downBytes', 'upBytes', 'downBps', 'upBps', 'downShare', 'upShare', 'counted']);
  assert.deepEqual([json.hosts[0]!.identity, json.hosts[0]!.addresses], ['02:00:00:00:00:10', ['198.51.100.10', '2001:db8::10']]);
  assert.deepEqual([json.hosts[1]!.identity, json.hosts[1]!.ip], ['ip:2001:db8:85a3:1234:5678:9abc:def0:1234', '2001:db8:85a3:1234:5678:9abc:def0:1234']);
});

test('snapshot CSV: identity is the last column; the ones before keep their places', () => {
  const [header, first, second] = snapshotCsv(makeSnapshot([laptop, bare], { atMs: T0 })).trim().split('\n');
  assert.equal(header, 'at,ip,mac,hostname,down_bytes,up_bytes,down_bps,up_bps,down_share,up_share,counted,identity');
  assert.equal(first, '2023-11-14T22:13:20.000Z,198.51.100.10,02:00:00:00:00:10,laptop,5,1,0,0,0,0,true,02:00:00:00:00:10');
  assert.equal(second, '2023-11-14T22:13:20.000Z,2001:db8:85a3:1234:5678:9abc:def0:1234,,,0,0,0,0,0,0,true,ip:2001:db8:85a3:1234:5678:9abc:def0:1234');
  assert.equal(snapshotCsv(makeSnapshot([bare], { atMs: T0 }), false).split('\n')[0], second);
});

test('report JSON: identity and the one address history keeps per host', () => {
  const report: PeriodReport = {
    router: '198.51.100.1',
    requested: { startMs: T0, endMs: T0 + 1000 },
    effective: { startMs: T0, endMs: T0 + 1000 },
    startPrecision: 'minute',
    endPrecision: 'minute',
    hosts: [{ identity: 'ip:2001:db8::1', mac: null, ip: '2001:db8::1', hostname: null, firstSeenMs: T0, lastSeenMs: T0, downBytes: 7, upBytes: 3 }],
    totals: { downBytes: 7, upBytes: 3 },
    hostCount: 1,
  };
  const json = reportJson('198.51.100.1', 'all', report.requested, report);
  assert.deepEqual(json.hosts, [{ identity: 'ip:2001:db8::1', ip: '2001:db8::1', addresses: ['2001:db8::1'], mac: null, hostname: null, downBytes: 7, upBytes: 3 }]);
  assert.equal(reportCsv(report), 'identity,ip,mac,hostname,down_bytes,up_bytes\nip:2001:db8::1,2001:db8::1,,,7,3\n');
});

test('snapshot JSON with quotas (issue 16): quotas[] exactly as docs/cli.md lists its fields, blockedUntil only while blocked', () => {
  const quota = {
    id: 2,
    subject: { kind: 'person' as const, id: 'Ben' },
    name: 'Ben (person)',
    identities: ['02:00:00:00:00:10'],
    direction: 'down' as const,
    period: 'cycle:15',
    usedBytes: 1_234_567,
    limitBytes: 1_000_000,
    leftBytes: 0,
    percent: 123.4567,
    startMs: T0 - 3_600_000,
    resetMs: null,
    isBlocked: true,
  };
  const blocked = { ...laptop, blockedUntilMs: T0 + 90_000 };
  const json = snapshotJson(makeSnapshot([blocked, bare], { atMs: T0, quotas: [quota, { ...quota, id: 3, subject: { kind: 'line', id: 'line' }, resetMs: T0 + 60_000, percent: 0.04, isBlocked: false }] }));
  assert.equal(json.hosts[0]!.blockedUntil, '2023-11-14T22:14:50.000Z');
  assert.equal('blockedUntil' in json.hosts[1]!, false, 'a host that is not blocked has no blockedUntil');
  assert.deepEqual(json.quotas, [
    { id: 2, subject: { kind: 'person', id: 'Ben' }, name: 'Ben (person)', direction: 'down', period: 'cycle:15', usedBytes: 1_234_567, limitBytes: 1_000_000, leftBytes: 0, percent: 123.5, periodStart: '2023-11-14T21:13:20.000Z', reset: null, blocked: true },
    { id: 3, subject: { kind: 'line', id: 'line' }, name: 'Ben (person)', direction: 'down', period: 'cycle:15', usedBytes: 1_234_567, limitBytes: 1_000_000, leftBytes: 0, percent: 0, periodStart: '2023-11-14T21:13:20.000Z', reset: '2023-11-14T22:14:20.000Z', blocked: false },
  ]);

  // The documented fields (docs/cli.md, the snapshot table's `quotas[].…` and `hosts[].blockedUntil` rows).
  const doc = readFileSync(fileURLToPath(new URL('../../docs/cli.md', import.meta.url)), 'utf8');
  const documented = [...doc.matchAll(/`quotas\[\]\.(\w+)`/g)].map((m) => m[1]);
  assert.deepEqual([...new Set(documented)].sort(), Object.keys(json.quotas![0]!).sort());
  assert.match(doc, /`hosts\[\]\.blockedUntil`/);

  const without = snapshotJson(makeSnapshot([laptop], { atMs: T0 }));
  assert.equal('quotas' in without, false, 'no quotas: the output is as before issue 16');
  assert.equal('quotas' in snapshotJson(makeSnapshot([laptop], { atMs: T0, quotas: [] })), false);
});

test('usage --json (issue 19): wan and offload appear once the snapshot has them, shares rounded, evidence sanitised', () => {
  const before = snapshotJson(makeSnapshot([laptop]));
  assert.equal('wan' in before, false, 'a snapshot built without them prints as before');
  const wan = { interface: 'ppp0', downBytes: 1000, upBytes: 10, routerDownBytes: null, routerUpBytes: null, hostDownBytes: 333, hostUpBytes: 10, accountedShare: { down: 1 / 3, up: null }, recentAccountedShare: { down: null, up: null }, sinceMs: T0 };
  const offload = { findings: [{ kind: 'openwrt-fw4-flowtable' as const, name: 'OpenWrt software flow offloading', state: 'on' as const, isHardware: false, evidence: 'uci\u001b[2J flow_offloading=1', howToDisable: 'uci set …' }], isOn: true, warning: 'w', checkedAtMs: T0 };
  const json = snapshotJson({ ...makeSnapshot([laptop]), wan, offload }) as Record<string, any>;
  assert.deepEqual(json.wan.accountedShare, { down: 0.3333, up: null });
  assert.equal(json.wan.routerDownBytes, null);
  assert.equal(json.wan.since, new Date(T0).toISOString());
  assert.equal(json.offload.isOn, true);
  assert.doesNotMatch(json.offload.findings[0].evidence, /\u001b/);
  assert.equal(snapshotJson({ ...makeSnapshot([laptop]), wan: null, offload: null }).wan, null);
});

test('usage --json (issue 19): classes[] only when the snapshot has some, rates rounded, fields as docs/cli.md lists them', () => {
  assert.equal('classes' in snapshotJson(makeSnapshot([laptop])), false, 'no classes: the output is as before');
  assert.equal('classes' in snapshotJson({ ...makeSnapshot([laptop]), classes: [] }), false);
  const classes = [
    { key: 'tcp/443', label: 'tcp/443 https', protocol: 'tcp' as const, port: 443, downBytes: 5_000_000, upBytes: 20_000, downBps: 1234.56, upBps: 0.4 },
    { key: 'udp', label: 'udp', protocol: 'udp' as const, port: null, downBytes: 7, upBytes: 0, downBps: 0, upBps: 0 },
  ];
  const json = snapshotJson({ ...makeSnapshot([laptop]), classes });
  assert.deepEqual(json.classes, [
    { key: 'tcp/443', label: 'tcp/443 https', protocol: 'tcp', port: 443, downBytes: 5_000_000, upBytes: 20_000, downBps: 1235, upBps: 0 },
    { key: 'udp', label: 'udp', protocol: 'udp', port: null, downBytes: 7, upBytes: 0, downBps: 0, upBps: 0 },
  ]);
  const doc = readFileSync(fileURLToPath(new URL('../../docs/cli.md', import.meta.url)), 'utf8');
  const documented = [...doc.matchAll(/`classes\[\]\.(\w+)`/g)].map((m) => m[1]);
  assert.deepEqual([...new Set(documented)].sort(), Object.keys(json.classes![0]!).sort());
});

test('report --json (issue 19): classes[] from the stored rows, labelled, in their order; keys that are no class left out', () => {
  const rows = [
    { key: 'udp/53', downBytes: 900, upBytes: 100 },
    { key: 'tcp/0', downBytes: 5, upBytes: 5 },
    { key: 'tcp/8443', downBytes: 50, upBytes: 5 },
    { key: 'esp', downBytes: 1, upBytes: 1 },
    { key: 'x\u001b[2J', downBytes: 1, upBytes: 1 },
  ];
  assert.deepEqual(reportClassesJson(rows), [
    { key: 'udp/53', label: 'udp/53 dns', protocol: 'udp', port: 53, downBytes: 900, upBytes: 100 },
    { key: 'tcp/8443', label: 'tcp/8443 https-alt', protocol: 'tcp', port: 8443, downBytes: 50, upBytes: 5 },
    { key: 'esp', label: 'esp', protocol: 'esp', port: null, downBytes: 1, upBytes: 1 },
  ]);
  assert.deepEqual(reportClassesJson([]), []);
});
