// Live usage: one row per host (rates, totals, shares, a share bar and the last minute as a
// sparkline), a totals row, single-key sorting, the top talker marked ▶, and scrolling for
// hundreds of hosts. Subscribes to the controller's polls while mounted and stops on unmount.
// The IP column widens for IPv6 addresses when there is room. The table (header, visible rows,
// totals: live-table.ts) is drawn as fixed lines, since its text changes on every poll. Key f
// shows one address family's part of every number (use-live-state.ts familyView), in no more columns.
import { useEffect, useMemo, useReducer } from 'react';
import { Box, Text } from 'ink';
import type { RouterController } from '../../app/types.js';
import { IPV4_COLUMN_WIDTH } from '../../output/table.js';
import { addressColumnWidth, layoutColumns, widenColumn, type ColumnSpec } from '../columns.js';
import { FixedLines } from '../components/fixed-lines.js';
import { Footer } from '../components/footer.js';
import { Spinner } from '../components/spinner.js';
import { StatusLine } from '../components/status-line.js';
import { NO_NAME, rowName } from '../text.js';
import { clampScrollTop, describeScroll } from '../scroll.js';
import { useTerminalSize } from '../use-terminal-size.js';
import { useTheme } from '../theme.js';
import { FAMILY_LABELS, familyView, initialLiveState, liveReducer, sortHosts, topTalker, SORT_LABELS, type SortKey } from './use-live-state.js';
import { useLiveKeys } from './use-live.js';
import { liveTableLines } from './live-table.js';

export type LiveColumn = 'mark' | 'name' | 'ip' | 'down' | 'up' | 'downTotal' | 'upTotal' | 'downPct' | 'upPct' | 'bar' | 'spark';

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

const SORTED_COLUMN: Record<SortKey, LiveColumn[]> = { down: ['down'], up: ['up'], total: ['downTotal', 'upTotal'], name: ['name'] };

// Title, status, notice, header, totals, footer, and one spare so Ink never reaches the last row.
const CHROME_ROWS = 7;

export interface LiveScreenProps {
  controller: RouterController;
  now: () => number;
  isInputActive: boolean;
  onBack: () => void;
}

export function LiveScreen({ controller, now, isInputActive, onBack }: LiveScreenProps) {
  const theme = useTheme();
  const { columns: width, rows } = useTerminalSize();
  const [state, dispatch] = useReducer(liveReducer, initialLiveState);
  const viewportRows = Math.max(3, rows - CHROME_ROWS);

  useEffect(() => controller.watch((snapshot) => dispatch({ type: 'snapshot', snapshot })), [controller]);
  useLiveKeys({ dispatch, onBack, viewportRows, isEnabled: isInputActive });

  const { sortKey, samples } = state;
  const family = state.family ?? 'all';
  // Sparklines keep the rate over both families (samples are taken from the snapshot as it came).
  const snapshot = useMemo(() => (state.snapshot ? familyView(state.snapshot, family) : null), [state.snapshot, family]);
  // Sized from every host, not just the visible ones, so scrolling never re-flows the columns.
  const ipWidth = useMemo(() => addressColumnWidth(snapshot?.hosts ?? []), [snapshot]);
  const specs = useMemo(() => widenColumn(LIVE_COLUMNS, 'ip', ipWidth), [ipWidth]);
  const columns = useMemo(() => {
    const placed = layoutColumns(specs, width);
    return placed.map((c) =>
      SORTED_COLUMN[sortKey].includes(c.id) ? { ...c, header: c.header + (sortKey === 'name' ? '▲' : '▼') } : c,
    );
  }, [specs, width, sortKey]);
  const sorted = useMemo(() => (snapshot ? sortHosts(snapshot.hosts, sortKey) : []), [snapshot, sortKey]);
  const top = useMemo(() => (snapshot ? topTalker(snapshot.hosts) : null), [snapshot]);
  const sparkMax = useMemo(() => {
    let max = 0;
    for (const list of samples.values()) for (const v of list) if (v > max) max = v;
    return max;
  }, [samples]);

  const first = clampScrollTop(state.scrollTop, sorted.length, viewportRows);
  const tableStyles = useMemo(() => ({ header: { bold: true, ...theme.accent }, top: theme.top, columns: { bar: theme.accent, spark: theme.accent } }), [theme]);
  const table = useMemo(
    () => (snapshot ? liveTableLines({ columns, snapshot, visible: sorted.slice(first, first + viewportRows), top, samples, sparkMax, styles: tableStyles }) : []),
    [columns, snapshot, sorted, first, viewportRows, top, samples, sparkMax, tableStyles],
  );

  return (
    <Box flexDirection="column">
      <Text wrap="truncate-end">
        <Text bold>Live usage</Text>
        <Text {...theme.dim}>
          {snapshot ? ` · ${snapshot.hosts.length} ${snapshot.hosts.length === 1 ? 'host' : 'hosts'}` : ''} · sorted by {SORT_LABELS[sortKey]}
          {family === 'all' ? '' : ` · ${FAMILY_LABELS[family]}`}
          {top ? ` · top talker ▶ ${rowName(top, 32) === NO_NAME ? top.ip : rowName(top, 32)}` : ''}
        </Text>
      </Text>
      <StatusLine label={controller.label} protocol={controller.protocol} snapshot={snapshot} now={now} />
      {snapshot === null ? (
        <Box marginY={1}>
          <Spinner label="Waiting for the first poll…" />
        </Box>
      ) : snapshot.hosts.length === 0 ? (
        <Box flexDirection="column" marginY={1}>
          <Text wrap="truncate-end">No hosts are being counted yet.</Text>
          <Text {...theme.dim} wrap="truncate-end">
            Set up accounting rules (menu 3) so the router counts each device's traffic.
          </Text>
        </Box>
      ) : (
        <FixedLines lines={table} width={width} />
      )}
      <Footer
        hints={[
          { keys: 'd/u/t/n', action: 'sort ↓ ↑ total name' },
          { keys: '↑↓ PgUp PgDn Home End', action: 'scroll' },
          { keys: 'q/Esc', action: 'back' },
          { keys: '?', action: 'help' },
          { keys: 'f', action: 'IPv4/IPv6' },
        ]}
        extra={describeScroll(first, sorted.length, viewportRows)}
      />
    </Box>
  );
}

