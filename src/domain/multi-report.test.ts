import { test } from 'node:test';
import assert from 'node:assert/strict';
import { combineReports, type ReportPart } from './multi-report.js';
import { mergeTopology } from './upstream-detection.js';
import type { HostTotal, PeriodReport } from './report.js';
import { renderCombinedReport } from '../output/multi-report-table.js';
import { combinedReportCsv, combinedReportJson } from '../output/multi-report-json.js';

const HOME = '192.168.1.1:23';
const OFFICE = '192.168.1.50:23';
const LAPTOP = '02:00:00:00:00:0a';

function host(ip: string, mac: string | null, downBytes: number, upBytes: number, hostname: string | null = null): HostTotal {
  return { identity: mac ?? `ip:${ip}`, mac, ip, hostname, firstSeenMs: 0, lastSeenMs: 0, downBytes, upBytes };
}

function report(router: string, hosts: HostTotal[]): PeriodReport {
  const totals = { downBytes: hosts.reduce((s, h) => s + h.downBytes, 0), upBytes: hosts.reduce((s, h) => s + h.upBytes, 0) };
  return { router, requested: { startMs: 0, endMs: 10 }, effective: { startMs: 1, endMs: 9 }, startPrecision: 'minute', endPrecision: 'minute', hosts, totals, hostCount: hosts.length };
}

const parts = (): ReportPart[] => [
  { routerKey: HOME, label: 'home', report: report(HOME, [host('192.168.1.10', LAPTOP, 1000, 100, 'laptop'), host('192.168.1.50', '02:00:00:00:00:50', 5000, 500, 'office-ap'), host('192.168.1.20', null, 10, 1)]) },
  { routerKey: OFFICE, label: 'office', report: report(OFFICE, [host('192.168.2.10', LAPTOP, 3000, 300, 'laptop'), host('192.168.2.20', null, 1900, 190, 'phone')]) },
];
const chained = mergeTopology({ upstreamOf: { [OFFICE]: HOME }, uplinkAddressesOf: { [OFFICE]: ['192.168.1.50'] } }, null);

test('combineReports: office behind home: the total is home\'s, office\'s devices shown not added, its row on home "via"', () => {
  const view = combineReports(parts(), chained);
  assert.deepEqual(view.total, { downBytes: 6010, upBytes: 601 });
  assert.deepEqual(view.routers.map((r) => [r.label, r.isInTotal, r.countedByKey, r.totals.downBytes]), [['home', true, null, 6010], ['office', false, HOME, 4900]]);
  assert.equal(view.routers[0]!.rows[0]!.viaRouterKey, OFFICE);
  assert.equal(view.routers[0]!.rows[0]!.host.ip, '192.168.1.50');
  const laptop = view.devices.find((d) => d.mac === LAPTOP)!;
  assert.equal(laptop.isRoaming, true);
  assert.deepEqual(laptop.total, { downBytes: 4000, upBytes: 400 });
  assert.deepEqual(laptop.perRouter.map((r) => [r.routerKey, r.host.downBytes, r.isInTotal]), [[HOME, 1000, true], [OFFICE, 3000, false]]);
  // Rows without a MAC stay one device per router.
  assert.equal(view.devices.filter((d) => d.mac === null).length, 2);
  assert.match(view.rule, /^home counts the line, office's traffic included \(under "via office"\); office's devices are shown, not added$/);
  assert.deepEqual(view.notices, ["office is behind home (setting upstream); counted on home's WAN only"]);
  assert.equal(view.routers[1]!.rows[0]!.downShare, 3000 / 4900);
});

test('combineReports: independent routers add up; a router without history adds nothing and its downstream counts itself', () => {
  const independent = combineReports(parts(), {});
  assert.deepEqual(independent.total, { downBytes: 10910, upBytes: 1091 });
  const [home, office] = parts();
  const noHome = combineReports([{ ...home!, report: null }, office!], chained);
  assert.deepEqual(noHome.total, { downBytes: 4900, upBytes: 490 });
  assert.equal(noHome.routers[1]!.isInTotal, true);
  assert.ok(noHome.notices.includes('home: no history in this period (nothing added)'));
  assert.equal(combineReports([{ ...home!, report: null }], {}).rule, 'no router has history in this period: nothing is counted');
});

test('the combined report as table, JSON and CSV: the router in every row, totals per router and overall, the rule', () => {
  const view = combineReports(parts(), chained);
  const table = renderCombinedReport(view, 120, 'Usage on home, office, today: …');
  assert.match(table, /^ROUTER\s+NAME\s+IP\s+MAC\s+↓ TOTAL/m);
  assert.match(table, /^home\s+via office\s+192\.168\.1\.50/m);
  assert.match(table, /^home\s+subtotal \(3 hosts\)/m);
  assert.match(table, /^office\s+subtotal \(not added\)/m);
  assert.match(table, /^\s+TOTAL \(2 routers\)\s+6\.01 kB\s+601 B$/m);
  assert.match(table, /^Counted once: home counts the line/m);
  assert.match(table, /^ {2}laptop: home 1\.10 kB \+ office 3\.30 kB = 4\.40 kB$/m);
  assert.match(table, /^note: office is behind home \(setting upstream\); counted on home's WAN only$/m);
  const doc = combinedReportJson(view, 'today', { startMs: 0, endMs: 10 });
  assert.deepEqual(doc.total, { downBytes: 6010, upBytes: 601 });
  assert.deepEqual(doc.routers.map((r) => [r.key, r.inTotal, r.countedBy, r.totals]), [[HOME, true, null, { downBytes: 6010, upBytes: 601 }], [OFFICE, false, HOME, { downBytes: 4900, upBytes: 490 }]]);
  assert.ok(doc.hosts.every((h) => h.router === HOME || h.router === OFFICE));
  assert.equal(doc.hosts.find((h) => h.ip === '192.168.1.50')!.via, OFFICE);
  assert.equal(doc.rule, view.rule);
  const csv = combinedReportCsv(view).trim().split('\n');
  assert.equal(csv[0], 'router,identity,ip,mac,hostname,down_bytes,up_bytes,via,in_total,router_key');
  assert.equal(csv[1], `home,02:00:00:00:00:50,192.168.1.50,02:00:00:00:00:50,office-ap,5000,500,office,true,${HOME}`);
  assert.equal(csv.length, 6);
});
