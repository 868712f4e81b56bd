// `lantop report --routers a,b --json` and `--csv` (issue 20; docs/cli.md "Several routers"): the
// combined history (domain/multi-report.ts) as a stable document. The router is in every row;
// totals per router and one overall total that counts each byte once, with the rule in words.
// Router text passes through as JSON strings (JSON escapes control characters), as in json.ts.
import type { CombinedReport, ReportRow } from '../domain/multi-report.js';
import { JSON_SCHEMA_VERSION } from './json.js';
import { renderCsv, type CsvCell } from './table.js';

const round4 = (x: number) => Math.round(x * 10_000) / 10_000;
const iso = (ms: number) => new Date(ms).toISOString();

function rowJson(row: ReportRow) {
  const h = row.host;
  return {
    router: row.routerKey,
    identity: h.identity,
    ip: h.ip,
    mac: h.mac,
    hostname: h.hostname,
    downBytes: h.downBytes,
    upBytes: h.upBytes,
    downShare: round4(row.downShare),
    upShare: round4(row.upShare),
    inTotal: row.isInTotal,
    ...(row.viaRouterKey !== null ? { via: row.viaRouterKey } : {}),
  };
}

export function combinedReportJson(view: CombinedReport, period: string, requested: { startMs: number; endMs: number }) {
  return {
    schema: JSON_SCHEMA_VERSION,
    period,
    since: iso(requested.startMs),
    until: iso(requested.endMs),
    effectiveSince: view.effective === null ? null : iso(view.effective.startMs),
    effectiveUntil: view.effective === null ? null : iso(view.effective.endMs),
    routers: view.routers.map((r) => ({
      key: r.routerKey,
      label: r.label,
      hasHistory: r.report !== null,
      effectiveSince: r.report === null ? null : iso(r.report.effective.startMs),
      effectiveUntil: r.report === null ? null : iso(r.report.effective.endMs),
      upstream: r.upstreamKey,
      countedBy: r.countedByKey,
      inTotal: r.isInTotal,
      totals: r.totals,
      hostCount: r.rows.length,
    })),
    hosts: view.routers.flatMap((r) => r.rows.map(rowJson)),
    devices: view.devices.map((d) => ({
      identity: d.identity,
      name: d.hostname,
      mac: d.mac,
      roaming: d.isRoaming,
      ...(d.viaRouterKey !== null ? { via: d.viaRouterKey } : {}),
      perRouter: d.perRouter.map((row) => ({ router: row.routerKey, ip: row.host.ip, downBytes: row.host.downBytes, upBytes: row.host.upBytes, inTotal: row.isInTotal, ...(row.viaRouterKey !== null ? { via: row.viaRouterKey } : {}) })),
      total: d.total,
    })),
    total: view.total,
    rule: view.rule,
    notices: [...view.notices],
  };
}

const CSV_HEADER = ['router', 'identity', 'ip', 'mac', 'hostname', 'down_bytes', 'up_bytes', 'via', 'in_total', 'router_key'];

/** One row per (router, device), routers in order; `router` is the label, `via` the label of the router the row is the uplink of. */
export function combinedReportCsv(view: CombinedReport): string {
  const labelOf = new Map(view.routers.map((r) => [r.routerKey, r.label]));
  const rows: CsvCell[][] = [];
  for (const r of view.routers) {
    for (const row of r.rows) {
      const h = row.host;
      rows.push([r.label, h.identity, h.ip, h.mac, h.hostname, h.downBytes, h.upBytes, row.viaRouterKey === null ? null : (labelOf.get(row.viaRouterKey) ?? row.viaRouterKey), row.isInTotal, r.routerKey]);
    }
  }
  return renderCsv(CSV_HEADER, rows);
}
