// The plain-text summary of a ReportDocument (issue 17): what a scheduled report mail carries as
// its text part and a webhook as `text`. Pure. Every router text (host names, the router key,
// person names) goes through sanitizeText again, although the document is already sanitised: the
// text may end up on a terminal (`schedule send --dry-run`) or in a mail client.

import type { ReportDocument } from '../domain/report-document.js';
import { systemZone, type LocalZone } from '../domain/periods.js';
import { periodTitle } from '../domain/report-schedule.js';
import { sanitizeText } from '../sanitize.js';
import { formatBytes, formatShare } from './units.js';

export interface ReportTextOptions {
  /** The router as people know it (the profile name or host); default the document's router key. */
  routerLabel?: string;
  /** What the period is in words ("daily report", "billing cycle from day 15"); shown beside the dates. */
  periodName?: string;
  /** How many devices and persons to list. Default 10. */
  top?: number;
  zone?: LocalZone;
}

export const DEFAULT_TOP = 10;

/** `1.23 GB (1234567890 B)`: the rounded figure and the exact count, so numbers can be checked. */
export function bytesWithExact(bytes: number): string {
  return `${formatBytes(bytes)} (${Math.round(bytes)} B)`;
}

function line(name: string, down: number, up: number, share: number, width: number): string {
  return `${name.padEnd(width)}  ↓ ${formatBytes(down).padStart(9)}  ↑ ${formatBytes(up).padStart(9)}  ${formatBytes(down + up).padStart(9)}  ${formatShare(share).padStart(6)}`;
}

/** The subject line's period and router, as the mail and the webhook name them. */
export function reportTitle(doc: ReportDocument, options: Pick<ReportTextOptions, 'routerLabel' | 'zone'> = {}): string {
  const router = sanitizeText(options.routerLabel ?? doc.router, 80);
  return `lantop report: ${router}, ${periodTitle(doc.range, options.zone ?? systemZone)}`;
}

export function reportText(doc: ReportDocument, options: ReportTextOptions = {}): string {
  const zone = options.zone ?? systemZone;
  const top = Math.max(0, Math.floor(options.top ?? DEFAULT_TOP));
  const router = sanitizeText(options.routerLabel ?? doc.router, 80);
  const { downBytes, upBytes } = doc.totals;
  const out: string[] = [];
  out.push(`lantop report for ${router}`);
  const name = options.periodName === undefined ? '' : ` (${sanitizeText(options.periodName, 80)})`;
  out.push(`Period: ${periodTitle(doc.range, zone)}${name}`);
  if (doc.effective.startMs !== doc.range.startMs || doc.effective.endMs !== doc.range.endMs) {
    out.push(`Exact for: ${periodTitle(doc.effective, zone)} (older detail was pruned)`);
  }
  out.push('');
  out.push(`Download: ${bytesWithExact(downBytes)}`);
  out.push(`Upload:   ${bytesWithExact(upBytes)}`);
  out.push(`Total:    ${bytesWithExact(downBytes + upBytes)}`);
  out.push(`Devices:  ${doc.hostCount}`);
  const devices = doc.devices.slice(0, top).map((d) => ({ ...d, shown: sanitizeText(d.name, 40) }));
  out.push('');
  if (devices.length === 0) out.push('No device used the line in this period.');
  else {
    out.push(`Top ${devices.length === 1 ? 'device' : `${devices.length} devices`}:`);
    const width = Math.max(...devices.map((d) => d.shown.length + String(devices.length).length + 2));
    devices.forEach((d, i) => out.push(`  ${line(`${String(i + 1).padStart(String(devices.length).length)}. ${d.shown}`, d.downBytes, d.upBytes, d.share, width)}`));
    if (doc.devices.length > devices.length) out.push(`  … and ${doc.devices.length - devices.length} more`);
  }
  const persons = doc.persons.slice(0, top).map((p) => ({ ...p, shown: sanitizeText(p.name, 40) }));
  if (persons.length > 0) {
    out.push('');
    out.push('Persons:');
    const width = Math.max(...persons.map((p) => p.shown.length));
    for (const p of persons) out.push(`  ${line(p.shown, p.downBytes, p.upBytes, p.share, width)}`);
  }
  out.push('');
  out.push('-- ');
  out.push('Sent by lantop serve. The HTML report has the charts and every device.');
  return out.join('\n') + '\n';
}
