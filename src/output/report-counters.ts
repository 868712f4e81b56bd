// The custom counters (issue 18, docs/counters.md) in `lantop report`: the "Counters" section of the
// plain table and `report --csv --counters`. Pure. The rows join what the history recorded in the
// period (store/counter-store.ts query) with the counters the router has now (list), so a counter
// that counted nothing still shows (0 B) and one removed since shows its recorded bytes, `(removed)`.
import { sanitizeText } from '../sanitize.js';
import { renderCsv, renderTable, type Column } from './table.js';
import { formatBytes } from './units.js';

export interface ReportCounterRow {
  name: string;
  /** Canonical matches (custom-counter.ts counterKey); null for a counter no longer on the router's list. */
  match: string | null;
  bytes: number;
  packets: number;
}

/** Recorded totals (most bytes first) then the router's counters that recorded nothing, by name. */
export function reportCounterRows(
  totals: ReadonlyArray<{ name: string; bytes: number; packets: number }>,
  counters: ReadonlyArray<{ name: string; match: string }>,
): ReportCounterRow[] {
  const matchOf = new Map(counters.map((c) => [c.name, c.match]));
  const rows: ReportCounterRow[] = totals.map((t) => ({ name: t.name, match: matchOf.get(t.name) ?? null, bytes: t.bytes, packets: t.packets }));
  const seen = new Set(totals.map((t) => t.name));
  const idle = counters.filter((c) => !seen.has(c.name)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const c of idle) rows.push({ name: c.name, match: c.match, bytes: 0, packets: 0 });
  return rows;
}

const COLUMNS: readonly Column<ReportCounterRow>[] = [
  { header: 'COUNTER', value: (c) => sanitizeText(c.name, 32), maxWidth: 32, priority: 10 },
  { header: 'MATCH', value: (c) => (c.match === null ? '(removed)' : sanitizeText(c.match, 300)), maxWidth: 60, priority: 4 },
  { header: 'TOTAL', value: (c) => formatBytes(c.bytes), align: 'right', priority: 9 },
  { header: 'PACKETS', value: (c) => String(c.packets), align: 'right', priority: 3 },
];

/** The text report's section; '' when there is nothing to show (the router has no counters and none recorded). */
export function renderReportCounters(rows: readonly ReportCounterRow[], width?: number): string {
  if (rows.length === 0) return '';
  return `\nCounters (bytes and packets in the period; lantop counter add):\n${renderTable(rows, COLUMNS, width === undefined ? undefined : Math.max(1, width))}`;
}

/** `report --csv --counters`: `name,match,bytes,packets`, exact counts; match empty for a removed counter. */
export function reportCountersCsv(rows: readonly ReportCounterRow[]): string {
  return renderCsv(['name', 'match', 'bytes', 'packets'], rows.map((r) => [r.name, r.match, r.bytes, r.packets]));
}
