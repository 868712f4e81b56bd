// Pure: the combined live view of several routers (issue 20) — every router's snapshot combined
// by domain/multi-router.ts (one row per device and router, a subtotal per router, one overall
// total that counts each byte once, "via" rows of a downstream router not added) and laid out as
// `lantop usage --routers` prints it (output/combined-table.ts), plus a line with each router's
// state and the window of rows that fits the terminal.
import { combineSnapshots, type CombinedView, type RouterTopology } from '../../domain/multi-router.js';
import { renderCombinedTable } from '../../output/combined-table.js';
import { formatDuration } from '../../output/units.js';
import { sanitizeText } from '../../sanitize.js';
import { clampScrollTop, describeScroll } from '../scroll.js';
import { linkText, type RouterEntry, type RouterLink, type RouterStatus } from '../router-set.js';

export interface CombinedLinesInput {
  entries: readonly RouterEntry[];
  statuses: readonly RouterStatus[];
  topology: RouterTopology;
  width: number;
  rows: number;
  scrollTop: number;
  nowMs: number;
}

export interface CombinedLines {
  view: CombinedView;
  title: string;
  /** One entry per router: its name and state (display-safe). */
  routers: Array<{ text: string; link: RouterLink }>;
  /** The table rows on screen now. */
  body: string[];
  /** All table rows (what scrolling moves through). */
  total: number;
  /** "rows 11–30 of 64", or empty when everything fits. */
  position: string;
  viewportRows: number;
}

// Title, the routers' line, a blank line, the footer, and one spare so the screen never scrolls.
const CHROME_ROWS = 5;

export function combinedViewportRows(rows: number): number {
  return Math.max(3, rows - CHROME_ROWS);
}

/** The combined view of the routers as they are now (domain/multi-router.ts combineSnapshots). */
export function combinedViewOf(statuses: readonly RouterStatus[], topology: RouterTopology): CombinedView {
  return combineSnapshots(statuses, topology);
}

export function combinedLines(input: CombinedLinesInput): CombinedLines {
  const { entries, statuses, topology, width, rows, nowMs } = input;
  const view = combinedViewOf(statuses, topology);
  const table = renderCombinedTable(view, width).trimEnd().split('\n');
  const viewportRows = combinedViewportRows(rows);
  const first = clampScrollTop(input.scrollTop, table.length, viewportRows);
  const up = statuses.filter((s) => s.link === 'up').length;
  const routers = statuses.map((status, i) => {
    const name = sanitizeText(entries[i]?.name ?? status.label, 24);
    const age = status.link === 'up' && status.snapshot !== null ? ` ${formatDuration(Math.max(0, nowMs - status.snapshot.atMs))} ago` : '';
    return { text: `${name} ${linkText(status, 80)}${age}`, link: status.link };
  });
  return {
    view,
    title: `Live usage · all routers · ${up} of ${statuses.length} up`,
    routers,
    body: table.slice(first, first + viewportRows),
    total: table.length,
    position: describeScroll(first, table.length, viewportRows),
    viewportRows,
  };
}
