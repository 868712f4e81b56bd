// Stable machine formats (docs/cli.md documents every field). `schema` is bumped on any
// incompatible change. Router-provided strings are passed through as JSON strings (JSON escapes
// control characters), never interpreted.
import type { Snapshot } from '../domain/snapshot.js';
import type { PeriodReport } from '../domain/report.js';
import { renderCsv } from './table.js';

export const JSON_SCHEMA_VERSION = 1;

export interface HostRow {
  identity: string;
  ip: string;
  addresses: readonly string[];
  mac: string | null;
  hostname: string | null;
  iface: string | null;
  isCounted: boolean;
}

export function hostsJson(router: string, atMs: number, hosts: readonly HostRow[]) {
  return {
    schema: JSON_SCHEMA_VERSION,
    router,
    at: new Date(atMs).toISOString(),
    hosts: hosts.map((h) => ({ identity: h.identity, ip: h.ip, addresses: [...h.addresses], mac: h.mac, hostname: h.hostname, iface: h.iface, counted: h.isCounted })),
  };
}

export function snapshotJson(s: Snapshot) {
  return {
    schema: JSON_SCHEMA_VERSION,
    router: s.router,
    at: new Date(s.atMs).toISOString(),
    connection: s.connection.kind,
    pollLatencyMs: s.pollLatencyMs,
    totals: s.totals,
    hosts: s.hosts.map((h) => ({
      identity: h.identity,
      ip: h.ip,
      addresses: h.addresses,
      mac: h.mac,
      hostname: h.hostname,
      downBytes: h.downBytes,
      upBytes: h.upBytes,
      downBps: Math.round(h.downBps),
      upBps: Math.round(h.upBps),
      downShare: round4(h.downShare),
      upShare: round4(h.upShare),
      counted: h.isCounted,
    })),
    notices: s.notices.map((n) => ({ at: new Date(n.atMs).toISOString(), level: n.level, text: n.text })),
  };
}

function round4(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}

// `identity` is the last column (added for issue 14) so scripts that read columns by position keep working.
const SNAPSHOT_CSV_HEADER = ['at', 'ip', 'mac', 'hostname', 'down_bytes', 'up_bytes', 'down_bps', 'up_bps', 'down_share', 'up_share', 'counted', 'identity'];

/** One row per host; with `withHeader` false (later polls of --watch) only the rows. */
export function snapshotCsv(s: Snapshot, withHeader = true): string {
  const at = new Date(s.atMs).toISOString();
  const text = renderCsv(SNAPSHOT_CSV_HEADER, s.hosts.map((h) => [at, h.ip, h.mac, h.hostname, h.downBytes, h.upBytes, Math.round(h.downBps), Math.round(h.upBps), round4(h.downShare), round4(h.upShare), h.isCounted, h.identity]));
  return withHeader ? text : text.slice(text.indexOf('\n') + 1);
}

export function reportJson(router: string, period: string, requested: { startMs: number; endMs: number }, report: PeriodReport | null) {
  return {
    schema: JSON_SCHEMA_VERSION,
    router,
    period,
    since: new Date(requested.startMs).toISOString(),
    until: new Date(requested.endMs).toISOString(),
    effectiveSince: report ? new Date(report.effective.startMs).toISOString() : null,
    effectiveUntil: report ? new Date(report.effective.endMs).toISOString() : null,
    totals: report?.totals ?? { downBytes: 0, upBytes: 0 },
    // History keeps one address per host (the last one seen), so that is all `addresses` can hold.
    hosts: (report?.hosts ?? []).map((h) => ({ identity: h.identity, ip: h.ip, addresses: [h.ip], mac: h.mac, hostname: h.hostname, downBytes: h.downBytes, upBytes: h.upBytes })),
  };
}

export function reportCsv(report: PeriodReport | null): string {
  return renderCsv(['identity', 'ip', 'mac', 'hostname', 'down_bytes', 'up_bytes'], (report?.hosts ?? []).map((h) => [h.identity, h.ip, h.mac, h.hostname, h.downBytes, h.upBytes]));
}
