// `lantop usage --json --routers a,b` and `--csv` (issue 20; docs/cli.md "Several routers").
// The combined view of domain/multi-router.ts as a stable document: each router with its own
// `usage --json` document, the devices across routers (one per MAC) with their traffic per
// router, and one total that counts each byte once, with the rule in words. Router text passes
// through as JSON strings (JSON escapes control characters), as in json.ts.
import type { CombinedRow, CombinedView, Traffic } from '../domain/multi-router.js';
import { JSON_SCHEMA_VERSION, snapshotJson } from './json.js';
import { renderCsv, type CsvCell } from './table.js';

function traffic(t: Traffic) {
  return { downBytes: t.downBytes, upBytes: t.upBytes, downBps: Math.round(t.downBps), upBps: Math.round(t.upBps) };
}

const round4 = (x: number) => Math.round(x * 10_000) / 10_000;

function perRouterJson(row: CombinedRow) {
  const h = row.host;
  return {
    router: row.routerKey,
    ip: h.ip,
    ...traffic(h),
    downShare: round4(h.downShare),
    upShare: round4(h.upShare),
    inTotal: row.isInTotal,
    ...(row.viaRouterKey !== null ? { via: row.viaRouterKey } : {}),
  };
}

export function combinedJson(view: CombinedView) {
  return {
    schema: JSON_SCHEMA_VERSION,
    at: new Date(view.atMs).toISOString(),
    routers: view.routers.map((r) => ({
      key: r.routerKey,
      label: r.label,
      state: r.state,
      ...(r.reason !== null ? { reason: r.reason } : {}),
      upstream: r.upstreamKey,
      countedBy: r.countedByKey,
      inTotal: r.isInTotal,
      totals: traffic(r.totals),
      // A down router's last document (its totals are in none of the figures here); null: never opened.
      usage: r.snapshot === null ? null : snapshotJson(r.snapshot),
    })),
    devices: view.devices.map((d) => ({
      identity: d.identity,
      name: d.hostname,
      mac: d.mac,
      roaming: d.isRoaming,
      ...(d.viaRouterKey !== null ? { via: d.viaRouterKey } : {}),
      perRouter: d.perRouter.map(perRouterJson),
      total: traffic(d.total),
    })),
    total: traffic(view.total),
    rule: view.rule,
    notices: [...view.notices],
  };
}

const CSV_HEADER = ['at', 'router', 'ip', 'mac', 'hostname', 'down_bytes', 'up_bytes', 'down_bps', 'up_bps', 'down_share', 'up_share', 'counted', 'identity', 'via', 'in_total', 'router_key'];

/** One row per (router, device), routers in order; down routers have none. `withHeader` false: later polls of --watch. */
export function combinedCsv(view: CombinedView, withHeader = true): string {
  const at = new Date(view.atMs).toISOString();
  const labelOf = new Map(view.routers.map((r) => [r.routerKey, r.label]));
  const rows: CsvCell[][] = [];
  for (const r of view.routers) {
    for (const row of r.rows) {
      const h = row.host;
      const via = row.viaRouterKey === null ? null : (labelOf.get(row.viaRouterKey) ?? row.viaRouterKey);
      rows.push([at, r.label, h.ip, h.mac, h.hostname, h.downBytes, h.upBytes, Math.round(h.downBps), Math.round(h.upBps), round4(h.downShare), round4(h.upShare), h.isCounted, h.identity, via, row.isInTotal, r.routerKey]);
    }
  }
  const text = renderCsv(CSV_HEADER, rows);
  return withHeader ? text : text.slice(text.indexOf('\n') + 1);
}
