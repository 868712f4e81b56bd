// `lantop report --routers a,b` on a terminal (issue 20): one table of several routers' histories.
// Pure: combined report + width → text. Each router's devices (most bytes first) and its subtotal
// ("not added" for a router its upstream counts), one TOTAL counting each byte once, the rule under
// it, the devices seen on several routers, then the notes. Narrow widths drop the shares, then the
// MAC and the address (never router, name or totals).
import { MAX_ADDRESS_LENGTH } from '../domain/address.js';
import { isUnattributedIdentity, UNATTRIBUTED_IPV6_NAME } from '../domain/snapshot.js';
import type { HostTotal } from '../domain/report.js';
import type { CombinedReport, ReportRouter } from '../domain/multi-report.js';
import { IPV4_COLUMN_WIDTH, renderTable, type Column } from './table.js';
import { formatBytes, formatShare } from './units.js';
import { wrapWords } from './combined-table.js';
import { sanitizeText } from '../sanitize.js';

interface ReportTableRow {
  router: string;
  name: string;
  ip: string;
  mac: string;
  downBytes: number;
  upBytes: number;
  downShare: number | null;
  upShare: number | null;
}

const COLUMNS: readonly Column<ReportTableRow>[] = [
  { header: 'ROUTER', value: (r) => r.router, maxWidth: 12, priority: 11 },
  { header: 'NAME', value: (r) => r.name, maxWidth: 24, priority: 10 },
  { header: 'IP', value: (r) => r.ip, maxWidth: MAX_ADDRESS_LENGTH, minWidth: IPV4_COLUMN_WIDTH, priority: 4 },
  { header: 'MAC', value: (r) => r.mac, priority: 3 },
  { header: '↓ TOTAL', value: (r) => formatBytes(r.downBytes), align: 'right', priority: 9 },
  { header: '↑ TOTAL', value: (r) => formatBytes(r.upBytes), align: 'right', priority: 8 },
  { header: '↓ %', value: (r) => (r.downShare === null ? '' : formatShare(r.downShare)), align: 'right', priority: 2 },
  { header: '↑ %', value: (r) => (r.upShare === null ? '' : formatShare(r.upShare)), align: 'right', priority: 1 },
];

const routerName = (label: string) => sanitizeText(label, 12).trim() || '?';
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function deviceName(host: HostTotal, via: string | null): string {
  if (via !== null) return `via ${via}`;
  if (isUnattributedIdentity(host.identity)) return UNATTRIBUTED_IPV6_NAME;
  return (host.hostname === null ? '' : sanitizeText(host.hostname, 24).trim()) || '(no name)';
}

function subtotalName(r: ReportRouter): string {
  return r.countedByKey === null ? `subtotal (${plural(r.rows.length, 'host')})` : 'subtotal (not added)';
}

/** `heading`: the first line (period and range), made by the caller. */
export function renderCombinedReport(view: CombinedReport, width: number, heading: string): string {
  const w = Math.max(20, width);
  const labelOf = new Map(view.routers.map((r) => [r.routerKey, r.label]));
  const rows: ReportTableRow[] = [];
  const withHistory = view.routers.filter((r) => r.report !== null);
  for (const r of withHistory) {
    const router = routerName(r.label);
    for (const row of r.rows) {
      const h = row.host;
      const via = row.viaRouterKey === null ? null : routerName(labelOf.get(row.viaRouterKey) ?? '?');
      rows.push({ router, name: deviceName(h, via), ip: h.ip, mac: h.mac ?? '', downBytes: h.downBytes, upBytes: h.upBytes, downShare: row.downShare, upShare: row.upShare });
    }
    rows.push({ router, name: subtotalName(r), ip: '', mac: '', ...r.totals, downShare: null, upShare: null });
  }
  rows.push({ router: '', name: `TOTAL (${plural(withHistory.length, 'router')})`, ip: '', mac: '', ...view.total, downShare: null, upShare: null });
  const out = [wrapWords(heading, w, '  '), '', renderTable(rows, COLUMNS, w).trimEnd()];
  out.push(wrapWords(`Counted once: ${view.rule}.`, w, '  '));
  const roaming = view.devices.filter((d) => d.isRoaming);
  if (roaming.length > 0) {
    out.push('On several routers (one device):');
    for (const d of roaming) {
      const each = d.perRouter.map((row) => `${routerName(labelOf.get(row.routerKey) ?? '?')} ${formatBytes(row.host.downBytes + row.host.upBytes)}`).join(' + ');
      out.push(wrapWords(`  ${deviceName(d.perRouter[0]!.host, null)}: ${each} = ${formatBytes(d.total.downBytes + d.total.upBytes)}`, w, '    '));
    }
  }
  for (const notice of view.notices) out.push(wrapWords(`note: ${sanitizeText(notice, 400)}`, w, '  '));
  return out.join('\n') + '\n';
}
