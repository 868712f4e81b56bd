// Pure: every line of the live usage screen, as styled lines that fit the terminal width — the
// title, the status, the body (the offload warning while a fast path is on, then waiting, empty,
// or the table: live-table.ts, with the WAN's accounted share on its totals row; then the busiest
// traffic classes while some are installed: live-classes.ts) and the key footer.
// One function feeds both ways of drawing it (live-screen.tsx): Ink, or the row writer that
// rewrites only the rows that changed (terminal-surface.ts).
import type { TextProps } from 'ink';
import { IPV4_COLUMN_WIDTH } from '../../output/table.js';
import { addressColumnWidth, layoutColumns, widenColumn, type ColumnSpec } from '../columns.js';
import { footerLine, type KeyHint } from '../footer-line.js';
import { describeScroll } from '../scroll.js';
import { truncateLine, type StyledLine } from '../styled-line.js';
import { NO_NAME, rowName } from '../text.js';
import type { Theme } from '../theme.js';
import { liveTableLines } from './live-table.js';
import { blockPromptText } from './live-block-state.js';
import { hasQuotaColumn, lineQuotaText, quotaCells } from './live-quota.js';
import { classesLine, hasClassesLine } from './live-classes.js';
import { accountedText, offloadWarningText } from './live-wan.js';
import { SPARK_HEADERS, SPARK_WINDOW_LABELS, sparkMaxOf, sparkValues } from './live-spark.js';
import type { SubjectNoun } from '../../app/types.js';
import { FAMILY_LABELS, familyView, liveWindow, sortHosts, topTalker, SORT_LABELS, type LiveState, type SortKey } from './use-live-state.js';

export type LiveColumn = 'mark' | 'name' | 'ip' | 'down' | 'up' | 'downTotal' | 'upTotal' | 'downPct' | 'upPct' | 'bar' | 'spark' | 'quota';

// Drop order when narrow: sparkline, share bar, totals, IP, percentages; name and rates stay.
export const LIVE_COLUMNS: readonly ColumnSpec<LiveColumn>[] = [
  // The row cursor (❯) and the top talker (▶).
  { id: 'mark', header: '', width: 2, priority: 100 },
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

/**
 * Table rows that fit a terminal `rows` high (the cursor keys page by this); the offload warning
 * takes one, and so does the traffic-class line while the snapshot has classes.
 */
export function liveViewportRows(rows: number, state?: LiveState): number {
  const warning = state && offloadWarningText(state.snapshot) !== null ? 1 : 0;
  const classes = state && hasClassesLine(state.snapshot) ? 1 : 0;
  return Math.max(3, rows - CHROME_ROWS - warning - classes);
}

export const LIVE_HINTS: readonly KeyHint[] = [
  { keys: 'd/u/t/n', action: 'sort ↓ ↑ total name' },
  { keys: '↑↓', action: 'select' },
  { keys: 'Enter', action: 'connections' },
  { keys: 'q/Esc', action: 'back' },
  { keys: '?', action: 'help' },
  { keys: 'f', action: 'IPv4/IPv6' },
  { keys: 'b/U', action: 'block/unblock' },
  { keys: 'w', action: 'sparkline 1 min/10 min/1 h' },
];

export const WAITING_LABEL = 'Waiting for the first poll…';

export interface LiveLinesInput {
  state: LiveState;
  width: number;
  rows: number;
  theme: Theme;
  /** The waiting spinner's glyph. */
  spinner: string;
  /** What the rows are (users mode, issue 18: users, and a USER column); absent: hosts. */
  noun?: SubjectNoun | undefined;
}

/** The screen without its two status lines (status-line.ts), which go after the title. */
export interface LiveLines {
  title: StyledLine;
  body: StyledLine[];
  footer: StyledLine;
}

const BOLD: TextProps = { bold: true };
// Inverse is no colour: the cursor bar shows under NO_COLOR too (and ❯ marks it for any reader).
const CURSOR: TextProps = { inverse: true };

export function liveLines({ state, width, rows, theme, spinner, noun }: LiveLinesInput): LiveLines {
  const viewportRows = liveViewportRows(rows, state);
  const { sortKey, samples } = state;
  const family = state.family ?? 'all';
  const sparkWindow = state.sparkWindow ?? '1m';
  // Sparklines keep the rate over both families (samples are taken from the snapshot as it came).
  const snapshot = state.snapshot ? familyView(state.snapshot, family) : null;
  const hosts = snapshot?.hosts ?? [];
  const sorted = snapshot ? sortHosts(hosts, sortKey) : [];
  const top = snapshot ? topTalker(hosts) : null;
  const { first, index } = liveWindow(state, sorted, viewportRows);
  const selected = index === -1 ? null : sorted[index]!;

  const lineQuota = snapshot ? lineQuotaText(snapshot) : '';
  const topName = top ? (rowName(top, 32) === NO_NAME ? top.ip : rowName(top, 32)) : '';
  const about = `${snapshot ? ` · ${hosts.length} ${hosts.length === 1 ? (noun?.one ?? 'host') : (noun?.many ?? 'hosts')}` : ''} · sorted by ${SORT_LABELS[sortKey]}${family === 'all' ? '' : ` · ${FAMILY_LABELS[family]}`}${sparkWindow === '1m' ? '' : ` · sparkline ${SPARK_WINDOW_LABELS[sparkWindow]}`}${top ? ` · top talker ▶ ${topName}` : ''}${lineQuota ? ` · ${lineQuota}` : ''}`;
  const title = truncateLine([{ text: 'Live usage', style: BOLD }, { text: about, style: theme.dim }], width);

  let body: StyledLine[];
  if (snapshot === null) {
    body = [[], truncateLine([{ text: spinner, style: theme.accent }, { text: ` ${WAITING_LABEL}` }], width), []];
  } else if (hosts.length === 0) {
    body = [
      [],
      truncateLine([{ text: `No ${noun?.many ?? 'hosts'} are being counted yet.` }], width),
      truncateLine([{ text: noun ? `Set up accounting rules (menu 3) so the router counts each ${noun.one}'s traffic.` : 'Set up accounting rules (menu 3) so the router counts each device\'s traffic.', style: theme.dim }], width),
      [],
    ];
  } else {
    // Sized from every host, not just the visible ones, so scrolling never re-flows the columns.
    const widened = widenColumn(hasQuotaColumn(snapshot) ? LIVE_COLUMNS_WITH_QUOTA : LIVE_COLUMNS, 'ip', addressColumnWidth(hosts));
    // Users mode: a user's name carries its session count ("alice (2 sessions)"): shown whole when it fits.
    const specs = noun ? widenColumn(widened, 'name', Math.min(28, hosts.reduce((n, h) => Math.max(n, h.hostname?.length ?? 0), 0))) : widened;
    const columns = layoutColumns(specs, width).map((c) =>
      SORTED_COLUMN[sortKey].includes(c.id) ? { ...c, header: c.header + (sortKey === 'name' ? '▲' : '▼') } : c.id === 'spark' ? { ...c, header: SPARK_HEADERS[sparkWindow] } : c,
    ).map((c) => (noun && c.id === 'name' ? { ...c, header: c.header.replace('NAME', noun.one.toUpperCase()) } : c));
    const hasSpark = columns.some((c) => c.id === 'spark' && c.width > 0);
    const sparkMax = hasSpark ? sparkMaxOf(sparkWindow, samples, state.rollups) : 0;
    const visible = sorted.slice(first, first + viewportRows);
    // The minute's samples as they are; a longer window's values only for the rows on screen.
    let shown: ReadonlyMap<string, readonly number[]> = samples;
    if (hasSpark && sparkWindow !== '1m') {
      const values = new Map<string, readonly number[]>();
      for (const h of visible) values.set(h.identity, sparkValues(sparkWindow, undefined, state.rollups?.get(h.identity)));
      shown = values;
    }
    const styles = { header: { bold: true, ...theme.accent }, top: theme.top, selected: CURSOR, columns: { bar: theme.accent, spark: theme.accent } };
    const accounted = accountedText(state.snapshot);
    body = liveTableLines({ columns, snapshot, visible, top, selected, samples: shown, sparkMax, styles, quotaCells: quotaCells(snapshot), accounted });
    // The share may follow the totals (no IP column): cut at the terminal edge like every line.
    if (accounted) body[body.length - 1] = truncateLine(body[body.length - 1]!, width);
  }
  // Under the totals row (or the empty message), so the table keeps its place above it.
  const classes = snapshot ? classesLine(state.snapshot, width, theme, family !== 'all') : null;
  if (classes !== null) body.push(classes);
  const warning = offloadWarningText(state.snapshot);
  if (warning !== null) body.unshift(truncateLine([{ text: warning, style: theme.warn }], width));
  const block = state.block ?? null;
  const footer = block
    ? truncateLine([{ text: blockPromptText(block), style: block.kind === 'said' && !block.isDone ? theme.warn : { bold: true, ...theme.accent } }], width)
    : footerLine(LIVE_HINTS, describeScroll(first, sorted.length, viewportRows), theme, width);
  return { title, body, footer };
}
