// History: per-host bytes for the last 6 hours / today / yesterday / this week / month / billing
// cycle / all time, busiest first, each with a bar relative to the busiest host, under a time chart
// of the period (issue 17: history-chart.ts, time-chart.ts). Single keys switch the period, ←/→
// step a period back or forward, Enter/d put the device under the row cursor into the chart.
// Rows are keyed by identity; the IP column widens for IPv6 addresses when there is room.
import { useEffect, useMemo, useReducer } from 'react';
import { Box, Text } from 'ink';
import type { HistoryPeriod, HistoryRow, RouterController } from '../../app/types.js';
import { MAX_ADDRESS_LENGTH } from '../../domain/address.js';
import { IPV4_COLUMN_WIDTH } from '../../output/table.js';
import { formatBytes } from '../../output/units.js';
import { addressColumnWidth, layoutColumns, widenColumn, type ColumnSpec } from '../columns.js';
import { TableHeader, TableRow } from '../components/table.js';
import { Footer } from '../components/footer.js';
import { Spinner } from '../components/spinner.js';
import { ErrorPanel } from '../components/error-panel.js';
import { cellText, describeError, NO_NAME, rowName } from '../text.js';
import { clampScrollTop, describeScroll } from '../scroll.js';
import { shareBar } from '../sparkline.js';
import { useTerminalSize } from '../use-terminal-size.js';
import { useTheme } from '../theme.js';
import { useGlyphMode } from '../glyph-mode.js';
import { historyChartLines, historyLayout, type ChartLineKind } from './history-chart.js';
import { historyReducer, initialHistoryState, periodTitle, sortHistoryRows } from './use-history-state.js';
import { PERIOD_KEYS, useHistoryKeys } from './use-history.js';

type HistoryColumn = 'name' | 'ip' | 'down' | 'up' | 'total' | 'bar';

export const HISTORY_COLUMNS: readonly ColumnSpec<HistoryColumn>[] = [
  { id: 'name', header: 'NAME', width: 12, maxWidth: 28, priority: 100 },
  { id: 'ip', header: 'IP', width: IPV4_COLUMN_WIDTH, priority: 50 },
  { id: 'down', header: '↓', width: 8, align: 'right', priority: 90 },
  { id: 'up', header: '↑', width: 8, align: 'right', priority: 89 },
  { id: 'total', header: 'TOTAL', width: 8, align: 'right', priority: 80 },
  { id: 'bar', header: '', width: 12, maxWidth: 30, priority: 40 },
];

/** Short names for the period tabs (all seven fit 80 columns). */
const TAB_LABELS: Readonly<Record<HistoryPeriod, string>> = { hours: '6 h', today: 'today', yesterday: 'yesterday', week: 'week', month: 'month', cycle: 'cycle', all: 'all' };

const CURSOR = { inverse: true } as const;

export interface HistoryScreenProps {
  controller: RouterController;
  isInputActive: boolean;
  onBack: () => void;
}

export function HistoryScreen({ controller, isInputActive, onBack }: HistoryScreenProps) {
  const theme = useTheme();
  const { columns: width, rows } = useTerminalSize();
  const mode = useGlyphMode();
  const [state, dispatch] = useReducer(historyReducer, 'today' as HistoryPeriod, initialHistoryState);
  const view = state.status === 'ready' ? state.view : null;
  const chart = view?.chart ?? null;
  const layout = historyLayout(rows, chart !== null, chart?.device != null);
  const { viewportRows } = layout;
  // Users mode (issue 18): the rows are users.
  const noun = controller.subjectNoun;

  useEffect(() => {
    let isCancelled = false;
    const request = state.request;
    controller.history(state.period, { offset: state.offset, identity: state.identity }).then(
      (reply) => !isCancelled && dispatch({ type: 'loaded', request, view: reply }),
      (error: unknown) => !isCancelled && dispatch({ type: 'failed', request, error: describeError(error) }),
    );
    return () => {
      isCancelled = true;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [controller, state.request]);

  useHistoryKeys({ dispatch, onBack, viewportRows, hasDevice: state.identity !== null, isEnabled: isInputActive });

  const columnStyles = useMemo(() => ({ bar: theme.accent }), [theme]);
  const ipWidth = useMemo(() => addressColumnWidth(view?.rows ?? []), [view]);
  const columns = useMemo(() => layoutColumns(widenColumn(HISTORY_COLUMNS, 'ip', ipWidth), width), [ipWidth, width]);
  const sorted = useMemo(() => (view ? sortHistoryRows(view.rows) : []), [view]);
  const chartLines = useMemo(() => (chart ? historyChartLines(chart, layout, width, mode, state.deviceName, noun ? `all ${noun.many}` : undefined) : []), [chart, layout.charts.join(), width, mode, state.deviceName, noun]);
  const lineStyles: Record<ChartLineKind, object> = { legend: theme.dim, down: theme.down, up: theme.up, axis: theme.dim };
  const busiest = sorted[0] ? sorted[0].downBytes + sorted[0].upBytes : 0;
  const first = clampScrollTop(state.scrollTop, sorted.length, viewportRows);
  const widthOf = (id: HistoryColumn) => columns.find((c) => c.id === id)?.width ?? 0;
  const hasIp = widthOf('ip') > 0;
  const pickedName = state.deviceName ?? chart?.device?.name ?? null;
  const deviceName = state.identity !== null && pickedName !== null ? ` · ${cellText(pickedName, 32)}` : '';
  const title = periodTitle(state.period, state.offset);

  const nameOf = (row: HistoryRow) => {
    const name = rowName(row, widthOf('name'));
    if (name !== NO_NAME) return name;
    // Nameless: the address (or the MAC/identity it was counted under) is the best label we have.
    return hasIp ? name : cellText(row.ip ?? row.mac ?? row.identity, widthOf('name'));
  };

  return (
    <Box flexDirection="column">
      <Text bold wrap="truncate-end">
        History · {title}
        {deviceName}
      </Text>
      <Text wrap="truncate-end">
        {Object.entries(PERIOD_KEYS).map(([key, period], i) => (
          <Text key={key}>
            {i > 0 ? '  ' : ''}
            <Text {...(period === state.period ? theme.selected : theme.dim)} inverse={period === state.period}>
              {`${key} ${TAB_LABELS[period]}`}
            </Text>
          </Text>
        ))}
      </Text>
      <Box flexDirection="column" marginY={1}>
        {state.status === 'loading' ? <Spinner label={`Reading ${title}'s history…`} /> : null}
        {state.status === 'failed' && state.error ? <ErrorPanel error={state.error} /> : null}
        {view ? (
          <>
            <Text {...theme.dim} wrap="truncate-end">
              {formatRange(view.startMs, view.endMs)} · {sorted.length} {sorted.length === 1 ? (noun?.one ?? 'host') : (noun?.many ?? 'hosts')}
            </Text>
            {chartLines.map((line, i) => (
              <Text key={i} wrap="truncate-end" {...lineStyles[line.kind]}>
                {line.text}
              </Text>
            ))}
            {view.counters !== undefined && view.counters.length > 0 ? (
              <Text {...theme.dim} wrap="truncate-end">
                Counters: {view.counters.map((c) => `${c.name} ${formatBytes(c.bytes)}`).join(' · ')}
              </Text>
            ) : null}
            {sorted.length === 0 ? (
              <Text wrap="truncate-end">No traffic recorded for {title}.</Text>
            ) : (
              <Box flexDirection="column">
                <TableHeader columns={columns} style={theme.accent} />
                {sorted.slice(first, first + viewportRows).map((row, i) => (
                  <TableRow
                    key={row.identity}
                    columns={columns}
                    columnStyles={columnStyles}
                    style={first + i === state.cursor && isInputActive ? CURSOR : row.identity === state.identity ? theme.selected : undefined}
                    cells={{
                      name: nameOf(row),
                      ip: cellText(row.ip, MAX_ADDRESS_LENGTH),
                      down: formatBytes(row.downBytes),
                      up: formatBytes(row.upBytes),
                      total: formatBytes(row.downBytes + row.upBytes),
                      bar: shareBar(busiest > 0 ? (row.downBytes + row.upBytes) / busiest : 0, widthOf('bar')),
                    }}
                  />
                ))}
                <TableRow
                  columns={columns}
                  style={{ bold: true }}
                  cells={{
                    name: 'TOTAL',
                    down: formatBytes(view.totals.downBytes),
                    up: formatBytes(view.totals.upBytes),
                    total: formatBytes(view.totals.downBytes + view.totals.upBytes),
                  }}
                />
              </Box>
            )}
          </>
        ) : null}
      </Box>
      <Footer
        hints={[
          { keys: 'h/t/y/w/m/c/a', action: 'period' },
          { keys: '←→', action: 'back/forward' },
          { keys: '↑↓', action: 'select' },
          { keys: 'Enter/d', action: state.identity === null ? `chart ${noun?.one ?? 'device'}` : 'chart all' },
          { keys: 'q/Esc', action: 'back' },
          { keys: '?', action: 'help' },
        ]}
        extra={describeScroll(first, sorted.length, viewportRows)}
      />
    </Box>
  );
}

/** Local time, minutes: "2026-11-21 00:00 → 2026-11-22 00:00". */
export function formatRange(startMs: number, endMs: number): string {
  const at = (ms: number) => {
    if (!Number.isFinite(ms)) return '…';
    const d = new Date(ms);
    const two = (n: number) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}`;
  };
  return `${at(startMs)} → ${at(endMs)}`;
}
