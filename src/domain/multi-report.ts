// `report --routers a,b` (issue 20): several routers' histories over one period, combined with the
// rules of the live view (multi-router.ts): a device is one device across routers by its MAC (rows
// per router, each byte on one row only); where B is behind A, A counts the line with B's traffic
// under A's row for B's address ("via B"), so B's devices are shown with their shares of B's
// counts and not added. A router with no history in the period adds nothing, and then its
// downstream routers count themselves (as a router that is down does live). Pure.
import type { HostTotal, PeriodReport } from './report.js';
import { countedBy, describeRule, effectiveUpstreams, relationNotices, uplinkAddresses, type RouterTopology } from './multi-router.js';

export interface ReportPart {
  routerKey: string;
  label: string;
  /** Its history over the period; null: none recorded for this router. */
  report: PeriodReport | null;
}

export interface Bytes {
  downBytes: number;
  upBytes: number;
}

export interface ReportRow {
  routerKey: string;
  deviceKey: string;
  host: HostTotal;
  /** Of that router's totals (0–1). */
  downShare: number;
  upShare: number;
  /** This row is that router's uplink; null: a device. */
  viaRouterKey: string | null;
  isInTotal: boolean;
}

export interface ReportRouter {
  routerKey: string;
  label: string;
  report: PeriodReport | null;
  upstreamKey: string | null;
  countedByKey: string | null;
  isInTotal: boolean;
  totals: Bytes;
  rows: ReportRow[];
}

export interface ReportDevice {
  deviceKey: string;
  identity: string;
  mac: string | null;
  hostname: string | null;
  perRouter: ReportRow[];
  total: Bytes;
  isRoaming: boolean;
  viaRouterKey: string | null;
}

export interface CombinedReport {
  routers: ReportRouter[];
  /** Most bytes first. */
  devices: ReportDevice[];
  /** Each byte once: the routers in the total. */
  total: Bytes;
  /** The range covered by some router's history (null: none has any). */
  effective: { startMs: number; endMs: number } | null;
  rule: string;
  notices: string[];
}

const bytesOf = (t: Bytes): Bytes => ({ downBytes: t.downBytes, upBytes: t.upBytes });
const share = (part: number, total: number) => (total > 0 ? part / total : 0);
const compareBytes = (a: Bytes, b: Bytes, keyA: string, keyB: string) => b.downBytes + b.upBytes - (a.downBytes + a.upBytes) || (keyA < keyB ? -1 : keyA > keyB ? 1 : 0);

function deviceKeyOf(routerKey: string, host: HostTotal): string {
  return host.mac !== null && host.mac !== '' ? `mac:${host.mac.toLowerCase()}` : `${routerKey} ${host.identity}`;
}

export function combineReports(parts: readonly ReportPart[], topology: RouterTopology = {}): CombinedReport {
  const notices: string[] = [];
  const upstreams = effectiveUpstreams(parts, topology, notices);
  const hasHistory = new Map(parts.map((p) => [p.routerKey, p.report !== null]));
  const isUp = (key: string) => hasHistory.get(key) === true;
  const labelOf = new Map(parts.map((p) => [p.routerKey, p.label]));
  const uplinkOn = new Map<string, Map<string, string>>();
  for (const [below, above] of upstreams) {
    const map = uplinkOn.get(above) ?? new Map<string, string>();
    for (const address of uplinkAddresses(topology, below)) map.set(address, below);
    uplinkOn.set(above, map);
  }

  const routers: ReportRouter[] = [];
  const devices = new Map<string, ReportDevice>();
  let total: Bytes = { downBytes: 0, upBytes: 0 };
  let effective: CombinedReport['effective'] = null;
  for (const part of parts) {
    const report = part.report;
    const countedByKey = countedBy(part.routerKey, upstreams, isUp);
    const isInTotal = report !== null && countedByKey === null;
    const rows: ReportRow[] = [];
    if (report !== null) {
      effective = effective === null ? { ...report.effective } : { startMs: Math.min(effective.startMs, report.effective.startMs), endMs: Math.max(effective.endMs, report.effective.endMs) };
      const uplinks = uplinkOn.get(part.routerKey);
      const hosts = [...report.hosts].sort((a, b) => compareBytes(a, b, a.identity, b.identity));
      for (const host of hosts) {
        const viaRouterKey = uplinks?.get(host.ip) ?? null;
        const deviceKey = deviceKeyOf(part.routerKey, host);
        const row: ReportRow = { routerKey: part.routerKey, deviceKey, host, downShare: share(host.downBytes, report.totals.downBytes), upShare: share(host.upBytes, report.totals.upBytes), viaRouterKey, isInTotal };
        rows.push(row);
        const device = devices.get(deviceKey);
        if (device === undefined) {
          devices.set(deviceKey, { deviceKey, identity: host.identity, mac: host.mac, hostname: host.hostname, perRouter: [row], total: bytesOf(host), isRoaming: false, viaRouterKey });
        } else {
          device.perRouter.push(row);
          device.total = { downBytes: device.total.downBytes + host.downBytes, upBytes: device.total.upBytes + host.upBytes };
          device.isRoaming = new Set(device.perRouter.map((r) => r.routerKey)).size > 1;
          device.hostname ??= host.hostname;
          device.viaRouterKey ??= viaRouterKey;
        }
      }
      if (isInTotal) total = { downBytes: total.downBytes + report.totals.downBytes, upBytes: total.upBytes + report.totals.upBytes };
    }
    routers.push({ routerKey: part.routerKey, label: part.label, report, upstreamKey: upstreams.get(part.routerKey) ?? null, countedByKey, isInTotal, totals: report === null ? { downBytes: 0, upBytes: 0 } : bytesOf(report.totals), rows });
  }

  for (const [below, above] of upstreams) {
    if (!isUp(above) || routers.some((r) => r.routerKey === above && r.rows.some((row) => row.viaRouterKey === below))) continue;
    const addresses = uplinkAddresses(topology, below);
    notices.push(`no device in ${labelOf.get(above)}'s history has ${labelOf.get(below)}'s address${addresses.length === 0 ? '' : ` (${addresses.join(', ')})`}: its traffic is in ${labelOf.get(above)}'s total under a row not marked "via ${labelOf.get(below)}"`);
  }
  notices.push(...relationNotices(upstreams, topology, labelOf), ...(topology.notices ?? []));
  for (const r of routers) if (r.report === null) notices.push(`${r.label}: no history in this period (nothing added)`);
  const rule = routers.some((r) => r.isInTotal) ? describeRule(routers, labelOf) : 'no router has history in this period: nothing is counted';
  return { routers, devices: [...devices.values()].sort((a, b) => compareBytes(a.total, b.total, a.deviceKey, b.deviceKey)), total, effective, rule, notices };
}
