// Pure: the connections screen's lines (issue 19) — the title, the device (name, addresses, where
// the table came from), what the numbers can and cannot say (accounting off, offloaded connections,
// the controller's notes), the table (columns drop by priority, as the live screen's do), the
// consent prompt and the key footer. Every router-provided string passes through cellText.
import type { TextProps } from 'ink';
import type { ConnectionGroup, DeviceConnection } from '../../domain/connection-model.js';
import { formatBytes, formatDuration, formatRate } from '../../output/units.js';
import { layoutColumns, type ColumnSpec, type PlacedColumn } from '../columns.js';
import { footerLine, type KeyHint } from '../footer-line.js';
import { clampScrollTop, describeScroll } from '../scroll.js';
import { tableRowLine, truncateLine, type Span, type StyledLine } from '../styled-line.js';
import { cellText } from '../text.js';
import type { Theme } from '../theme.js';
import { GROUPING_LABELS, SORT_LABELS } from './connections-rows.js';
import { groupConnections, sortConnections, sortGroups } from '../../domain/connections.js';
import type { ConnectionsState } from './use-connections-state.js';

export type ConnectionColumn = 'remote' | 'address' | 'port' | 'proto' | 'downBytes' | 'upBytes' | 'down' | 'up' | 'age' | 'offload' | 'state' | 'count';

const BYTES_COLUMNS: readonly ColumnSpec<ConnectionColumn>[] = [
  { id: 'downBytes', header: '↓BYTES', width: 8, align: 'right', priority: 90 },
  { id: 'upBytes', header: '↑BYTES', width: 8, align: 'right', priority: 89 },
  { id: 'down', header: '↓RATE', width: 10, align: 'right', priority: 95 },
  { id: 'up', header: '↑RATE', width: 10, align: 'right', priority: 94 },
];

// Drop order when narrow: state, address, age, protocol, port; the remote and the numbers stay.
// At 80 columns: remote, port, bytes, rates (and OFFLOAD when some connection is offloaded).
function connectionColumns(hasBytes: boolean, hasOffload: boolean, addressWidth: number): ColumnSpec<ConnectionColumn>[] {
  const columns: ColumnSpec<ConnectionColumn>[] = [
    { id: 'remote', header: 'REMOTE', width: 18, maxWidth: 40, priority: 99 },
    // The address beside a remote's name (none when no remote has a name).
    ...(addressWidth > 0 ? [{ id: 'address' as const, header: 'ADDRESS', width: Math.max(7, addressWidth), priority: 20 }] : []),
    { id: 'port', header: 'PORT', width: 12, maxWidth: 18, priority: 60 },
    { id: 'proto', header: 'PROTO', width: 5, priority: 40 },
    ...(hasBytes ? BYTES_COLUMNS : []),
    { id: 'age', header: 'AGE', width: 6, align: 'right', priority: 30 },
    // Without bytes the state says the most about a connection.
    { id: 'state', header: 'STATE', width: 11, priority: hasBytes ? 10 : 50 },
  ];
  if (hasOffload) columns.push({ id: 'offload', header: 'OFFLOAD', width: 7, priority: 65 });
  return columns;
}

const GROUP_HEADERS = { remote: 'REMOTE', port: 'PORT', protocol: 'PROTOCOL' } as const;

function groupColumns(grouping: keyof typeof GROUP_HEADERS, hasBytes: boolean): ColumnSpec<ConnectionColumn>[] {
  return [
    { id: 'remote', header: GROUP_HEADERS[grouping], width: 18, maxWidth: 40, priority: 99 },
    { id: 'count', header: 'CONNS', width: 5, align: 'right', priority: 80 },
    ...(hasBytes ? BYTES_COLUMNS : []),
  ];
}

/** "12s", "5m07s", "2h05m", "3d04h": a connection's age in at most six cells. */
export function shortAge(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, '0')}h`;
}

const bytesText = (bytes: number | null) => (bytes === null ? '–' : formatBytes(bytes));

function connectionCells(c: DeviceConnection, remoteWidth: number): Record<string, string> {
  const name = c.remoteName === null ? '' : cellText(c.remoteName, remoteWidth).trim();
  const remote = cellText(c.remote, 64);
  return {
    remote: name === '' ? remote : name,
    address: name === '' ? '' : remote,
    port: c.remotePort === null ? '' : `${c.remotePort}${c.service ? ` ${cellText(c.service, 24)}` : ''}`,
    proto: cellText(c.protocol, 12),
    downBytes: bytesText(c.downBytes),
    upBytes: bytesText(c.upBytes),
    down: formatRate(c.downBps),
    up: formatRate(c.upBps),
    age: shortAge(c.ageMs),
    state: cellText(c.state, 16),
    offload: c.isOffloaded ? 'yes' : '',
  };
}

function groupCells(g: ConnectionGroup, labelWidth: number): Record<string, string> {
  return {
    // A remote host's group shows its name when the router's resolver gave one (the label is its address).
    remote: cellText(g.remoteName ? `${g.remoteName} (${g.label})` : g.label, labelWidth).trim() || cellText(g.key, labelWidth),
    count: String(g.connections),
    downBytes: bytesText(g.downBytes),
    upBytes: bytesText(g.upBytes),
    down: formatRate(g.downBps),
    up: formatRate(g.upBps),
  };
}

/** The rows in display order: connections, or groups of them. */
export function connectionRows(state: ConnectionsState): { kind: 'connections'; rows: DeviceConnection[] } | { kind: 'groups'; rows: ConnectionGroup[] } {
  const connections = state.view?.connections ?? [];
  if (state.grouping === 'connections') return { kind: 'connections', rows: sortConnections(connections, state.sort) };
  return { kind: 'groups', rows: sortGroups(groupConnections(connections, state.grouping), state.sort) };
}

export const CONNECTIONS_HINTS: readonly KeyHint[] = [
  { keys: 'g', action: 'group' },
  { keys: 's', action: 'sort bytes/rate' },
  { keys: '↑↓', action: 'scroll' },
  { keys: 'q/Esc', action: 'back' },
  { keys: '?', action: 'help' },
];
const ENABLE_HINT: KeyHint = { keys: 'A', action: 'turn accounting on' };

export const ACCOUNTING_OFF_TEXT = 'The router does not account connections, so bytes are not shown.';
export const ENABLE_OFFER_TEXT = 'Press A to turn connection accounting on (only new connections get bytes).';
export const LOADING_TEXT = 'Reading the connection table…';

export interface ConnectionsLinesInput {
  state: ConnectionsState;
  width: number;
  rows: number;
  theme: Theme;
  /** How often the screen reads (for the retry line). */
  pollMs: number;
}

export interface ConnectionsLines {
  /** Title, device, notes: above the error panel (when the last read failed) or the table. */
  head: StyledLine[];
  /** Header and the visible rows; empty when the last read failed or none came yet. */
  table: StyledLine[];
  /** The retry line, the consent prompt or its answer, and the footer. */
  tail: StyledLine[];
  viewportRows: number;
  total: number;
}

const BOLD: TextProps = { bold: true };

export function connectionsLines({ state, width, rows, theme, pollMs }: ConnectionsLinesInput): ConnectionsLines {
  const { view } = state;
  const name = cellText(view?.name ?? state.name, 48).trim() || cellText(state.identity, 48);
  const hasBytes = view?.accounting !== 'off';
  const display = connectionRows(state);
  const total = display.rows.length;

  // Title and device.
  const about: string[] = [name];
  if (view) about.push(`${view.connections.length} ${view.connections.length === 1 ? 'connection' : 'connections'}`, GROUPING_LABELS[state.grouping]);
  if (view && hasBytes) about.push(`sorted by ${SORT_LABELS[state.sort]}`);
  const head: StyledLine[] = [truncateLine([{ text: 'Connections', style: BOLD }, { text: ` · ${about.join(' · ')}`, style: theme.dim }], width)];
  if (view) {
    const addresses = view.addresses.map((a) => cellText(a, 64)).join(', ');
    head.push(truncateLine([{ text: name, style: BOLD }, { text: addresses ? `  ${addresses}` : '' }, { text: ` · from ${cellText(view.source, 60)}`, style: theme.dim }], width));
    if (view.accounting === 'off') {
      head.push(truncateLine([{ text: `⚠ ${ACCOUNTING_OFF_TEXT}`, style: theme.warn }], width));
      head.push(truncateLine([{ text: `  ${ENABLE_OFFER_TEXT}`, style: theme.dim }], width));
    }
    let offloaded = 0;
    for (const c of view.connections) if (c.isOffloaded) offloaded += 1;
    if (offloaded > 0) {
      head.push(truncateLine([{ text: `⚠ ${offloaded} offloaded (OFFLOAD): a fast path carries ${offloaded === 1 ? 'it' : 'them'}; bytes undercounted.`, style: theme.warn }], width));
    }
    for (const note of view.notes.slice(0, 2)) head.push(truncateLine([{ text: `ℹ ${cellText(note, 300)}`, style: theme.dim }], width));
  }

  // Tail: retry line, consent, footer.
  const tail: StyledLine[] = [];
  if (state.status === 'failed') {
    tail.push(truncateLine([{ text: `Trying again every ${formatDuration(pollMs)} · ${state.failures} failed ${state.failures === 1 ? 'read' : 'reads'} in a row`, style: theme.dim }], width));
  }
  const consent = state.consent;
  if (consent?.kind === 'ask') {
    // The command whole, on lines of its own (wrapped, never cut): the user consents to exactly it.
    tail.push(truncateLine([{ text: 'Turn connection accounting on? lantop will run this on the router (y/n):', style: BOLD }], width));
    const room = Math.max(1, width - 2);
    for (let i = 0; i < consent.command.length; i += room) tail.push([{ text: `  ${consent.command.slice(i, i + room)}`, style: theme.accent }]);
  } else if (consent) {
    const spans: Span[] = consent.kind === 'sending' ? [{ text: `Running ${consent.command}…`, style: theme.accent }] : [{ text: consent.text, style: consent.isDone ? theme.ok : theme.warn }];
    tail.push(truncateLine(spans, width));
  }

  // The table gets what is left (the last row stays free, as on the live screen).
  const headerRows = 1;
  const viewportRows = Math.max(3, rows - 1 - head.length - tail.length - 1 - headerRows);
  const first = clampScrollTop(state.scrollTop, total, viewportRows);
  const hints = view?.accounting === 'off' ? [...CONNECTIONS_HINTS.slice(0, 2), ENABLE_HINT, ...CONNECTIONS_HINTS.slice(2)] : CONNECTIONS_HINTS;
  tail.push(footerLine(hints, describeScroll(first, total, viewportRows), theme, width));

  let table: StyledLine[] = [];
  if (state.status !== 'failed' && view) {
    const headerStyle: TextProps = { bold: true, ...theme.accent };
    if (total === 0) {
      table = [truncateLine([{ text: "No connections of this device in the router's table right now." }], width)];
    } else if (display.kind === 'connections') {
      let addressWidth = 0;
      let hasOffload = false;
      for (const c of display.rows) {
        if (c.remoteName !== null && c.remote.length > addressWidth) addressWidth = Math.min(39, c.remote.length);
        if (c.isOffloaded) hasOffload = true;
      }
      const columns = markSorted(layoutColumns(connectionColumns(hasBytes, hasOffload, addressWidth), width), state.sort, hasBytes);
      const remoteWidth = columns.find((c) => c.id === 'remote')?.width ?? 18;
      table = [tableRowLine(columns, headerCells(columns), headerStyle)];
      for (const c of display.rows.slice(first, first + viewportRows)) table.push(tableRowLine(columns, connectionCells(c, remoteWidth), c.isOffloaded ? theme.warn : undefined));
    } else {
      const grouping = state.grouping === 'connections' ? 'remote' : state.grouping;
      const columns = markSorted(layoutColumns(groupColumns(grouping, hasBytes), width), state.sort, hasBytes);
      const labelWidth = columns.find((c) => c.id === 'remote')?.width ?? 18;
      table = [tableRowLine(columns, headerCells(columns), headerStyle)];
      for (const g of display.rows.slice(first, first + viewportRows)) table.push(tableRowLine(columns, groupCells(g, labelWidth)));
    }
  }
  return { head, table, tail, viewportRows, total };
}

function headerCells(columns: readonly PlacedColumn[]): Record<string, string> {
  const cells: Record<string, string> = {};
  for (const c of columns) cells[c.id] = c.header;
  return cells;
}

function markSorted(columns: PlacedColumn<ConnectionColumn>[], sort: ConnectionsState['sort'], hasBytes: boolean): PlacedColumn<ConnectionColumn>[] {
  if (!hasBytes) return columns;
  const sorted: readonly ConnectionColumn[] = sort === 'bytes' ? ['downBytes', 'upBytes'] : ['down', 'up'];
  return columns.map((c) => (sorted.includes(c.id) ? { ...c, header: `${c.header}▼` } : c));
}
