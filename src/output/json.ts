// Stable machine formats (docs/cli.md documents every field). `schema` is bumped on any
// incompatible change. Router-provided strings are passed through as JSON strings (JSON escapes
// control characters), never interpreted.
//
// `byFamily` (usage/report --by-family, issue 15) adds each row's split by address family after its
// totals: down4Bytes, up4Bytes, down6Bytes, up6Bytes (and the rates' down4Bps… in snapshots), in CSV
// as the last columns. Without it every format is exactly as before (scripts read CSV by position).
import { familyBytesOf, familyRatesOf, type FamilyBytes, type FamilySplit } from '../domain/family.js';
import type { HostUsage, Snapshot } from '../domain/snapshot.js';
import type { PeriodReport } from '../domain/report.js';
import { renderCsv, type CsvCell } from './table.js';
import { sanitizeText } from '../sanitize.js';
import { classLabel, type ClassUsage } from '../domain/class-usage.js';
import type { CounterUsage } from '../domain/counter-usage.js';
import { classKey, classOfKey } from '../domain/traffic-class.js';

export interface FormatOptions {
  /** Add the IPv4/IPv6 split of every row and total. */
  byFamily?: boolean;
}

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

/** A row's split, rates rounded as the totals are; a row without one reads as all IPv4. */
function usageSplit(h: Pick<HostUsage, 'downBytes' | 'upBytes' | 'downBps' | 'upBps'> & Partial<FamilySplit>) {
  const b = familyBytesOf(h);
  const r = familyRatesOf(h);
  return {
    down4Bytes: b.down4Bytes,
    up4Bytes: b.up4Bytes,
    down6Bytes: b.down6Bytes,
    up6Bytes: b.up6Bytes,
    down4Bps: Math.round(r.down4Bps),
    up4Bps: Math.round(r.up4Bps),
    down6Bps: Math.round(r.down6Bps),
    up6Bps: Math.round(r.up6Bps),
  };
}

export function snapshotJson(s: Snapshot, options: FormatOptions = {}) {
  const byFamily = options.byFamily === true;
  return {
    schema: JSON_SCHEMA_VERSION,
    router: s.router,
    at: new Date(s.atMs).toISOString(),
    connection: s.connection.kind,
    pollLatencyMs: s.pollLatencyMs,
    totals: byFamily ? { ...s.totals, ...usageSplit({ ...s.totals, ...s.totalsByFamily }) } : s.totals,
    hosts: s.hosts.map((h) => {
      const row = {
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
        ...(h.blockedUntilMs != null ? { blockedUntil: new Date(h.blockedUntilMs).toISOString() } : {}),
      };
      return byFamily ? { ...row, ...usageSplit(h) } : row;
    }),
    notices: s.notices.map((n) => ({ at: new Date(n.atMs).toISOString(), level: n.level, text: n.text })),
    // Only when the router has quotas (issue 16), so outputs without them stay as before.
    ...(s.quotas && s.quotas.length > 0 ? { quotas: s.quotas.map(quotaJson) } : {}),
    // Issue 19: what crossed the WAN and the share lantop's per-device counters saw (null: not
    // read yet), and the fast paths found at connect (null: not probed yet).
    ...(s.wan !== undefined ? { wan: s.wan === null ? null : wanJson(s.wan) } : {}),
    ...(s.offload !== undefined ? { offload: s.offload === null ? null : offloadJson(s.offload) } : {}),
    // Traffic classes (issue 19, setup --ports/--protocols): only when some are installed.
    ...(s.classes && s.classes.length > 0 ? { classes: s.classes.map(classJson) } : {}),
    // Custom counters (issue 18, lantop counter add): only when the router has some.
    ...(s.counters && s.counters.length > 0 ? { counters: s.counters.map(counterJson) } : {}),
  };
}

/** A custom counter in `usage --json` (docs/cli.md): totals since its last reset (`since`), rates over the last poll. */
function counterJson(c: CounterUsage) {
  return { name: c.name, match: c.match, hook: c.hook, family: c.family, bytes: c.bytes, packets: c.packets, bps: Math.round(c.bps), pps: Math.round(c.pps), since: c.sinceMs === null ? null : new Date(c.sinceMs).toISOString(), counted: c.isCounted };
}

/** `counters[]` of `report --json` (store/counter-store.ts query, most bytes first): each counter's bytes and packets over the range. */
export function reportCountersJson(rows: ReadonlyArray<{ name: string; bytes: number; packets: number }>) {
  return rows.map((r) => ({ name: r.name, bytes: r.bytes, packets: r.packets }));
}

function classJson(c: ClassUsage) {
  return { key: c.key, label: c.label, protocol: c.protocol, port: c.port, downBytes: c.downBytes, upBytes: c.upBytes, downBps: Math.round(c.downBps), upBps: Math.round(c.upBps) };
}

/**
 * `classes[]` of `report --json` (docs/cli.md): each class's bytes over the range (store/class-store.ts
 * query, most bytes first), with its label; a key that is no class is left out.
 */
export function reportClassesJson(rows: ReadonlyArray<{ key: string; downBytes: number; upBytes: number }>) {
  const out: Array<{ key: string; label: string; protocol: string; port: number | null; downBytes: number; upBytes: number }> = [];
  for (const r of rows) {
    const cls = classOfKey(r.key);
    if (cls === null || classKey(cls) !== r.key) continue;
    out.push({ key: r.key, label: classLabel(cls), protocol: cls.protocol, port: cls.port, downBytes: r.downBytes, upBytes: r.upBytes });
  }
  return out;
}

function wanJson(w: NonNullable<Snapshot['wan']>) {
  return {
    interface: w.interface,
    downBytes: w.downBytes,
    upBytes: w.upBytes,
    routerDownBytes: w.routerDownBytes,
    routerUpBytes: w.routerUpBytes,
    hostDownBytes: w.hostDownBytes,
    hostUpBytes: w.hostUpBytes,
    accountedShare: { down: round4OrNull(w.accountedShare.down), up: round4OrNull(w.accountedShare.up) },
    recentAccountedShare: { down: round4OrNull(w.recentAccountedShare.down), up: round4OrNull(w.recentAccountedShare.up) },
    since: new Date(w.sinceMs).toISOString(),
    sinceMs: w.sinceMs,
  };
}

/** The offload report as JSON (evidence is sanitised by the parsers; sanitised again: hostile text). */
export function offloadJson(o: NonNullable<Snapshot['offload']>) {
  return {
    isOn: o.isOn,
    warning: o.warning,
    checkedAt: new Date(o.checkedAtMs).toISOString(),
    findings: o.findings.map((f) => ({ kind: f.kind, name: f.name, state: f.state, isHardware: f.isHardware, evidence: sanitizeText(f.evidence, 300), howToDisable: f.howToDisable })),
  };
}

const round4OrNull = (n: number | null) => (n === null ? null : round4(n));

function quotaJson(q: NonNullable<Snapshot['quotas']>[number]) {
  return {
    id: q.id,
    subject: q.subject,
    name: q.name,
    direction: q.direction,
    period: q.period,
    usedBytes: q.usedBytes,
    limitBytes: q.limitBytes,
    leftBytes: q.leftBytes,
    percent: Math.round(q.percent * 10) / 10,
    periodStart: new Date(q.startMs).toISOString(),
    reset: q.resetMs === null ? null : new Date(q.resetMs).toISOString(),
    blocked: q.isBlocked,
  };
}

function round4(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}

const FAMILY_CSV_BYTES = ['down4_bytes', 'up4_bytes', 'down6_bytes', 'up6_bytes'];
const FAMILY_CSV_RATES = ['down4_bps', 'up4_bps', 'down6_bps', 'up6_bps'];

function familyCells(split: FamilyBytes): CsvCell[] {
  return [split.down4Bytes, split.up4Bytes, split.down6Bytes, split.up6Bytes];
}

// `identity` is the last column (added for issue 14) so scripts that read columns by position keep working.
const SNAPSHOT_CSV_HEADER = ['at', 'ip', 'mac', 'hostname', 'down_bytes', 'up_bytes', 'down_bps', 'up_bps', 'down_share', 'up_share', 'counted', 'identity'];

/** One row per host; with `withHeader` false (later polls of --watch) only the rows. */
export function snapshotCsv(s: Snapshot, withHeader = true, options: FormatOptions = {}): string {
  const at = new Date(s.atMs).toISOString();
  const byFamily = options.byFamily === true;
  const header = byFamily ? [...SNAPSHOT_CSV_HEADER, ...FAMILY_CSV_BYTES, ...FAMILY_CSV_RATES] : SNAPSHOT_CSV_HEADER;
  const rows = s.hosts.map((h) => {
    const row: CsvCell[] = [at, h.ip, h.mac, h.hostname, h.downBytes, h.upBytes, Math.round(h.downBps), Math.round(h.upBps), round4(h.downShare), round4(h.upShare), h.isCounted, h.identity];
    if (!byFamily) return row;
    const split = usageSplit(h);
    return [...row, ...familyCells(split), split.down4Bps, split.up4Bps, split.down6Bps, split.up6Bps];
  });
  const text = renderCsv(header, rows);
  return withHeader ? text : text.slice(text.indexOf('\n') + 1);
}

/** A report's totals split by family; one built by hand without it reads as all IPv4. */
function reportTotalsSplit(report: PeriodReport | null): FamilyBytes {
  if (report === null) return { down4Bytes: 0, up4Bytes: 0, down6Bytes: 0, up6Bytes: 0 };
  return report.totalsByFamily ?? familyBytesOf(report.totals);
}

export function reportJson(router: string, period: string, requested: { startMs: number; endMs: number }, report: PeriodReport | null, options: FormatOptions = {}) {
  const byFamily = options.byFamily === true;
  const totals = report?.totals ?? { downBytes: 0, upBytes: 0 };
  return {
    schema: JSON_SCHEMA_VERSION,
    router,
    period,
    since: new Date(requested.startMs).toISOString(),
    until: new Date(requested.endMs).toISOString(),
    effectiveSince: report ? new Date(report.effective.startMs).toISOString() : null,
    effectiveUntil: report ? new Date(report.effective.endMs).toISOString() : null,
    totals: byFamily ? { ...totals, ...reportTotalsSplit(report) } : totals,
    // History keeps one address per host (the last one seen), so that is all `addresses` can hold
    // (none for the unattributed IPv6 row, whose `ip` is '').
    hosts: (report?.hosts ?? []).map((h) => {
      const row = { identity: h.identity, ip: h.ip, addresses: h.ip === '' ? [] : [h.ip], mac: h.mac, hostname: h.hostname, downBytes: h.downBytes, upBytes: h.upBytes };
      return byFamily ? { ...row, ...familyBytesOf(h) } : row;
    }),
  };
}

export function reportCsv(report: PeriodReport | null, options: FormatOptions = {}): string {
  const byFamily = options.byFamily === true;
  const header = ['identity', 'ip', 'mac', 'hostname', 'down_bytes', 'up_bytes'];
  return renderCsv(
    byFamily ? [...header, ...FAMILY_CSV_BYTES] : header,
    (report?.hosts ?? []).map((h) => {
      const row: CsvCell[] = [h.identity, h.ip, h.mac, h.hostname, h.downBytes, h.upBytes];
      return byFamily ? [...row, ...familyCells(familyBytesOf(h))] : row;
    }),
  );
}
