// History: per-host bytes for today / yesterday / this week / month / billing cycle / all time,
// busiest first, each with a bar relative to the busiest host. Single keys switch the period.
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
import { historyReducer, initialHistoryState, PERIOD_LABELS } from './use-history-state.js';
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

// Title, period tabs, range line, header, totals, footer, margins and a spare row.
const CHROME_ROWS = 9;

export interface HistoryScreenProps {
  controller: RouterController;
  isInputActive: boolean;
  onBack: () => void;
}

export function HistoryScreen({ controller, isInputActive, onBack }: HistoryScreenProps) {
  const theme = useTheme();
  const { columns: width, rows } = useTerminalSize();
  const [state, dispatch] = useReducer(historyReducer, 'today' as HistoryPeriod, initialHistoryState);
  const viewportRows = Math.max(3, rows - CHROME_ROWS);

  useEffect(() => {
    let isCancelled = false;
    const request = state.request;
    controller.history(state.period).then(
      (view) => !isCancelled && dispatch({ type: 'loaded', request, view }),
      (error: unknown) => !isCancelled && dispatch({ type: 'failed', request, error: describeError(error) }),
    );
    return () => {
      isCancelled = true;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [controller, state.request]);

  useHistoryKeys({ dispatch, onBack, viewportRows, isEnabled: isInputActive });

  const columnStyles = useMemo(() => ({ bar: theme.accent }), [theme]);
  const view = state.status === 'ready' ? state.view : null;
  const ipWidth = useMemo(() => addressColumnWidth(view?.rows ?? []), [view]);
  const columns = useMemo(() => layoutColumns(widenColumn(HISTORY_COLUMNS, 'ip', ipWidth), width), [ipWidth, width]);
  const sorted = useMemo(
    () => (view ? [...view.rows].sort((a, b) => b.downBytes + b.upBytes - (a.downBytes + a.upBytes) || a.identity.localeCompare(b.identity)) : []),
    [view],
  );
  const busiest = sorted[0] ? sorted[0].downBytes + sorted[0].upBytes : 0;
  const first = clampScrollTop(state.scrollTop, sorted.length, viewportRows);
  const widthOf = (id: HistoryColumn) => columns.find((c) => c.id === id)?.width ?? 0;
  const hasIp = widthOf('ip') > 0;

  const nameOf = (row: HistoryRow) => {
    const name = rowName(row, widthOf('name'));
    if (name !== NO_NAME) return name;
    // Nameless: the address (or the MAC/identity it was counted under) is the best label we have.
    return hasIp ? name : cellText(row.ip ?? row.mac ?? row.identity, widthOf('name'));
  };

  return (
    <Box flexDirection="column">
      <Text bold wrap="truncate-end">
        History · {PERIOD_LABELS[state.period]}
      </Text>
      <Text wrap="truncate-end">
        {Object.entries(PERIOD_KEYS).map(([key, period], i) => (
          <Text key={key}>
            {i > 0 ? '  ' : ''}
            <Text {...(period === state.period ? theme.selected : theme.dim)} inverse={period === state.period}>
              {`${key} ${PERIOD_LABELS[period]}`}
            </Text>
          </Text>
        ))}
      </Text>
      <Box flexDirection="column" marginY={1}>
        {state.status === 'loading' ? <Spinner label={`Reading ${PERIOD_LABELS[state.period]}'s history…`} /> : null}
        {state.status === 'failed' && state.error ? <ErrorPanel error={state.error} /> : null}
        {view ? (
          <>
            <Text {...theme.dim} wrap="truncate-end">
              {formatRange(view.startMs, view.endMs)} · {sorted.length} {sorted.length === 1 ? 'host' : 'hosts'}
            </Text>
            {sorted.length === 0 ? (
              <Text wrap="truncate-end">No traffic recorded for {PERIOD_LABELS[state.period]}.</Text>
            ) : (
              <Box flexDirection="column">
                <TableHeader columns={columns} style={theme.accent} />
                {sorted.slice(first, first + viewportRows).map((row) => (
                  <TableRow
                    key={row.identity}
                    columns={columns}
                    columnStyles={columnStyles}
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
          { keys: 't/y/w/m/c/a', action: 'period' },
          { keys: '↑↓ PgUp PgDn', action: 'scroll' },
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
