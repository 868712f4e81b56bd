// `lantop usage --routers a,b` on a terminal (issue 20): one table for several routers. Pure:
// combined view + width → text. Each router's devices (busiest first) and its subtotal, then the
// overall TOTAL and, under it, who counts what (domain/multi-router.ts: each byte once). A router
// that is down is a line "office: down (reason)"; a device seen on several routers is listed once
// more under "Roaming" with its traffic per router. Narrow widths drop the percentages, then the
// address, then the totals (never router, name or rates), as the one-router table does.
import { MAX_ADDRESS_LENGTH } from '../domain/address.js';
import { isUnattributedIdentity, UNATTRIBUTED_IPV6_NAME, type HostUsage } from '../domain/snapshot.js';
import type { CombinedRouter, CombinedView } from '../domain/multi-router.js';
import { IPV4_COLUMN_WIDTH, renderTable, type Column } from './table.js';
import { formatBytes, formatRate, formatShare } from './units.js';
import { sanitizeText } from '../sanitize.js';

interface CombinedTableRow {
  router: string;
  name: string;
  ip: string;
  downBps: number;
  upBps: number;
  downBytes: number;
  upBytes: number;
  downShare: number | null;
  upShare: number | null;
}

export const COMBINED_COLUMNS: readonly Column<CombinedTableRow>[] = [
  { header: 'ROUTER', value: (r) => r.router, maxWidth: 12, priority: 11 },
  { header: 'NAME', value: (r) => r.name, maxWidth: 24, priority: 10 },
  { header: 'IP', value: (r) => r.ip, maxWidth: MAX_ADDRESS_LENGTH, minWidth: IPV4_COLUMN_WIDTH, priority: 3 },
  { header: '↓RATE', value: (r) => formatRate(r.downBps), align: 'right', priority: 9 },
  { header: '↑RATE', value: (r) => formatRate(r.upBps), align: 'right', priority: 8 },
  { header: '↓TOTAL', value: (r) => formatBytes(r.downBytes), align: 'right', priority: 5 },
  { header: '↑TOTAL', value: (r) => formatBytes(r.upBytes), align: 'right', priority: 4 },
  { header: '↓%', value: (r) => (r.downShare === null ? '' : formatShare(r.downShare)), align: 'right', priority: 2 },
  { header: '↑%', value: (r) => (r.upShare === null ? '' : formatShare(r.upShare)), align: 'right', priority: 1 },
];

/** A router's name in the table: profile names are safe, a key may not be; cut to the column. */
function routerName(label: string): string {
  return sanitizeText(label, 12).trim() || '?';
}

function deviceName(host: HostUsage, via: string | null): string {
  if (via !== null) return `via ${via}`;
  if (isUnattributedIdentity(host.identity)) return UNATTRIBUTED_IPV6_NAME;
  return (host.hostname === null ? '' : sanitizeText(host.hostname, 24).trim()) || '(no name)';
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** A router below another (its devices are in the upstream's count) says its subtotal is not added. */
function subtotalName(r: CombinedRouter): string {
  return r.countedByKey === null ? `subtotal (${plural(r.rows.length, 'host')})` : 'subtotal (not added)';
}

/** Words wrapped to the width, later lines indented (a word longer than a line is left whole). */
export function wrapWords(text: string, width: number, indent = ''): string {
  const lines: string[] = [];
  let line = /^\s*/.exec(text)![0];
  let hasWord = false;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const next = hasWord ? `${line} ${word}` : line + word;
    if (hasWord && [...next].length > width) {
      lines.push(line);
      line = indent + word;
    } else {
      line = next;
    }
    hasWord = true;
  }
  if (hasWord) lines.push(line);
  return lines.join('\n');
}

export function renderCombinedTable(view: CombinedView, width: number): string {
  const w = Math.max(20, width);
  const labelOf = new Map(view.routers.map((r) => [r.routerKey, r.label]));
  const rows: CombinedTableRow[] = [];
  const up = view.routers.filter((r) => r.state === 'up');
  for (const r of up) {
    const router = routerName(r.label);
    for (const row of r.rows) {
      const h = row.host;
      const via = row.viaRouterKey === null ? null : routerName(labelOf.get(row.viaRouterKey) ?? '?');
      rows.push({ router, name: deviceName(h, via), ip: h.ip, downBps: h.downBps, upBps: h.upBps, downBytes: h.downBytes, upBytes: h.upBytes, downShare: h.downShare, upShare: h.upShare });
    }
    rows.push({ router, name: subtotalName(r), ip: '', ...r.totals, downShare: null, upShare: null });
  }
  rows.push({ router: '', name: `TOTAL (${plural(up.length, 'router')} up)`, ip: '', ...view.total, downShare: null, upShare: null });
  const out = [renderTable(rows, COMBINED_COLUMNS, w).trimEnd()];
  out.push(wrapWords(`Counted once: ${view.rule}.`, w, '  '));
  for (const r of view.routers) {
    if (r.state === 'down') out.push(wrapWords(`${routerName(r.label)}: down (${sanitizeText(r.reason ?? 'no answer', 160).replace(/\.$/, '')})`, w, '  '));
  }
  const roaming = view.devices.filter((d) => d.isRoaming);
  if (roaming.length > 0) {
    out.push('Roaming (one device, seen on several routers):');
    for (const d of roaming) {
      const name = deviceName(d.perRouter[0]!.host, null);
      const each = d.perRouter.map((row) => `${routerName(labelOf.get(row.routerKey) ?? '?')} ${formatBytes(row.host.downBytes + row.host.upBytes)}`).join(' + ');
      out.push(wrapWords(`  ${name}: ${each} = ${formatBytes(d.total.downBytes + d.total.upBytes)}`, w, '    '));
    }
  }
  for (const notice of view.notices) out.push(wrapWords(`note: ${sanitizeText(notice, 400)}`, w, '  '));
  return out.join('\n') + '\n';
}
