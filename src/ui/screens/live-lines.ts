// Pure: every line of the live usage screen, as styled lines that fit the terminal width — the
// title, the status, the body (waiting, empty, or the table: live-table.ts) and the key footer.
// One function feeds both ways of drawing it (live-screen.tsx): Ink, or the row writer that
// rewrites only the rows that changed (terminal-surface.ts).
import type { TextProps } from 'ink';
import { IPV4_COLUMN_WIDTH } from '../../output/table.js';
import { addressColumnWidth, layoutColumns, widenColumn, type ColumnSpec } from '../columns.js';
import { footerLine, type KeyHint } from '../footer-line.js';
import { clampScrollTop, describeScroll } from '../scroll.js';
import { truncateLine, type StyledLine } from '../styled-line.js';
import { NO_NAME, rowName } from '../text.js';
import type { Theme } from '../theme.js';
import { liveTableLines } from './live-table.js';
import { blockPromptText } from './live-block-state.js';
import { hasQuotaColumn, lineQuotaText, quotaCells } from './live-quota.js';
import { FAMILY_LABELS, familyView, sortHosts, topTalker, SORT_LABELS, type LiveState, type SortKey } from './use-live-state.js';

export type LiveColumn = 'mark' | 'name' | 'ip' | 'down' | 'up' | 'downTotal' | 'upTotal' | 'downPct' | 'upPct' | 'bar' | 'spark' | 'quota';

// Drop order when narrow: sparkline, share bar, totals, IP, percentages; name and rates stay.
export const LIVE_COLUMNS: readonly ColumnSpec<LiveColumn>[] = [
  { id: 'mark', header: '', width: 1, priority: 100 },
  { id: 'name', header: 'NAME', width: 12, maxWidth: 28, priority: 99 },
  { id: 'ip', header: 'IP', width: IPV4_COLUMN_WIDTH, priority: 45 },
  { id: 'down', header: '↓RATE', width: 10, align: 'right', priority: 98 },
  { id: 'up', header: '↑RATE', width: 10, align: 'right', priority: 97 },
  { id: 'downTotal', header: '↓TOTAL', width: 8, align: 'right', priority: 40 },
  { id: 'upTotal', header: '↑TOTAL', width: 8, align: 'right', priority: 39 },
  { id: 'downPct', header: '↓%', width: 6, align: 'right', priority: 70 },
  { id: 'upPct', header: '↑%', width: 6, align: 'right', priority: 69 },
  { id: 'bar', header: 'SHARE', width: 10, priority: 20 },
  { id: 'spark', header: 'LAST MINUTE', width: 20, maxWidth: 30, priority: 10 },
];

/** With quotas on devices or persons (issue 16): the quota column, dropped after the share bar, before the totals. */
export const LIVE_COLUMNS_WITH_QUOTA: readonly ColumnSpec<LiveColumn>[] = [...LIVE_COLUMNS, { id: 'quota', header: 'QUOTA', width: 28, priority: 30 }];

const SORTED_COLUMN: Record<SortKey, LiveColumn[]> = { down: ['down'], up: ['up'], total: ['downTotal', 'upTotal'], name: ['name'] };

// Title, status, notice, header, totals, footer, and one spare so the screen never reaches the last row.
const CHROME_ROWS = 7;

/** Table rows that fit a terminal `rows` high (the scroll keys page by this). */
export function liveViewportRows(rows: number): number {
  return Math.max(3, rows - CHROME_ROWS);
}

export const LIVE_HINTS: readonly KeyHint[] = [
  { keys: 'd/u/t/n', action: 'sort ↓ ↑ total name' },
  { keys: '↑↓ PgUp PgDn Home End', action: 'scroll' },
  { keys: 'q/Esc', action: 'back' },
  { keys: '?', action: 'help' },
  { keys: 'f', action: 'IPv4/IPv6' },
  { keys: 'b/U', action: 'block/unblock' },
];

export const WAITING_LABEL = 'Waiting for the first poll…';

export interface LiveLinesInput {
  state: LiveState;
  width: number;
  rows: number;
  theme: Theme;
  /** The waiting spinner's glyph. */
  spinner: string;
}

/** The screen without its two status lines (status-line.ts), which go after the title. */
export interface LiveLines {
  title: StyledLine;
  body: StyledLine[];
  footer: StyledLine;
}

const BOLD: TextProps = { bold: true };

export function liveLines({ state, width, rows, theme, spinner }: LiveLinesInput): LiveLines {
  const viewportRows = liveViewportRows(rows);
  const { sortKey, samples } = state;
  const family = state.family ?? 'all';
  // Sparklines keep the rate over both families (samples are taken from the snapshot as it came).
  const snapshot = state.snapshot ? familyView(state.snapshot, family) : null;
  const hosts = snapshot?.hosts ?? [];
  const sorted = snapshot ? sortHosts(hosts, sortKey) : [];
  const top = snapshot ? topTalker(hosts) : null;
  const first = clampScrollTop(state.scrollTop, sorted.length, viewportRows);

  const lineQuota = snapshot ? lineQuotaText(snapshot) : '';
  const topName = top ? (rowName(top, 32) === NO_NAME ? top.ip : rowName(top, 32)) : '';
  const about = `${snapshot ? ` · ${hosts.length} ${hosts.length === 1 ? 'host' : 'hosts'}` : ''} · sorted by ${SORT_LABELS[sortKey]}${family === 'all' ? '' : ` · ${FAMILY_LABELS[family]}`}${top ? ` · top talker ▶ ${topName}` : ''}${lineQuota ? ` · ${lineQuota}` : ''}`;
  const title = truncateLine([{ text: 'Live usage', style: BOLD }, { text: about, style: theme.dim }], width);

  let body: StyledLine[];
  if (snapshot === null) {
    body = [[], truncateLine([{ text: spinner, style: theme.accent }, { text: ` ${WAITING_LABEL}` }], width), []];
  } else if (hosts.length === 0) {
    body = [
      [],
      truncateLine([{ text: 'No hosts are being counted yet.' }], width),
      truncateLine([{ text: 'Set up accounting rules (menu 3) so the router counts each device\'s traffic.', style: theme.dim }], width),
      [],
    ];
  } else {
    // Sized from every host, not just the visible ones, so scrolling never re-flows the columns.
    const specs = widenColumn(hasQuotaColumn(snapshot) ? LIVE_COLUMNS_WITH_QUOTA : LIVE_COLUMNS, 'ip', addressColumnWidth(hosts));
    const columns = layoutColumns(specs, width).map((c) =>
      SORTED_COLUMN[sortKey].includes(c.id) ? { ...c, header: c.header + (sortKey === 'name' ? '▲' : '▼') } : c,
    );
    let sparkMax = 0;
    samples.forEach((list) => {
      for (let i = 0; i < list.length; i += 1) if (list[i]! > sparkMax) sparkMax = list[i]!;
    });
    const styles = { header: { bold: true, ...theme.accent }, top: theme.top, columns: { bar: theme.accent, spark: theme.accent } };
    body = liveTableLines({ columns, snapshot, visible: sorted.slice(first, first + viewportRows), top, samples, sparkMax, styles, quotaCells: quotaCells(snapshot) });
  }
  const block = state.block ?? null;
  const footer = block
    ? truncateLine([{ text: blockPromptText(block), style: block.kind === 'said' && !block.isDone ? theme.warn : { bold: true, ...theme.accent } }], width)
    : footerLine(LIVE_HINTS, describeScroll(first, sorted.length, viewportRows), theme, width);
  return { title, body, footer };
}
