// Pure: the live screen's table (header, the visible hosts, totals) as styled lines. Only the
// visible rows are built, each from strings (the share bar and the sparkline are one string per
// cell), in one flat loop.
import type { TextProps } from 'ink';
import { MAX_ADDRESS_LENGTH } from '../../domain/address.js';
import type { HostUsage, Snapshot } from '../../domain/snapshot.js';
import { formatBytes, formatRate, formatShare } from '../../output/units.js';
import { COLUMN_GAP, displayWidth, type PlacedColumn } from '../columns.js';
import { shareBar, sparkline } from '../sparkline.js';
import { nestStyle, tableRowLine, type StyledLine } from '../styled-line.js';
import { cellText, NO_NAME, rowName } from '../text.js';

export interface LiveTableInput {
  columns: readonly PlacedColumn[];
  snapshot: Snapshot;
  visible: readonly HostUsage[];
  top: HostUsage | null;
  /** The row under the cursor (marked ❯ and drawn in `styles.selected`); null: none. */
  selected?: HostUsage | null;
  samples: ReadonlyMap<string, readonly number[]>;
  sparkMax: number;
  styles: { header: TextProps; top: TextProps | undefined; selected?: TextProps; columns: Readonly<Record<string, TextProps>> };
  /** identity → its quota cell (live-quota.ts); absent: no quota column. */
  quotaCells?: ReadonlyMap<string, string>;
  /** "accounted ↓97% ↑99%" for the totals row (live-wan.ts); '' or absent: none. */
  accounted?: string;
}

const TOTAL_STYLE: TextProps = { bold: true };

export function liveTableLines({ columns, snapshot, visible, top, selected = null, samples, sparkMax, styles, quotaCells, accounted = '' }: LiveTableInput): StyledLine[] {
  let nameWidth = 0;
  let barWidth = 0;
  let sparkWidth = 0;
  let hasIp = false;
  const header: Record<string, string> = {};
  for (const c of columns) {
    header[c.id] = c.header;
    if (c.id === 'name') nameWidth = c.width;
    else if (c.id === 'bar') barWidth = c.width;
    else if (c.id === 'spark') sparkWidth = c.width;
    else if (c.id === 'ip') hasIp = c.width > 0;
  }
  const totalBps = snapshot.totals.downBps + snapshot.totals.upBps;
  const lines: StyledLine[] = [tableRowLine(columns, header, styles.header)];
  for (const h of visible) {
    const isTop = h === top;
    const isSelected = h === selected;
    const name = rowName(h, nameWidth);
    const cells = {
      mark: isSelected ? (isTop ? '❯▶' : '❯ ') : isTop ? ' ▶' : '  ',
      name: name === NO_NAME && !hasIp ? cellText(h.ip, nameWidth) : name,
      ip: hasIp ? cellText(h.ip, MAX_ADDRESS_LENGTH) : '',
      down: formatRate(h.downBps),
      up: formatRate(h.upBps),
      downTotal: formatBytes(h.downBytes),
      upTotal: formatBytes(h.upBytes),
      downPct: formatShare(h.downShare),
      upPct: formatShare(h.upShare),
      bar: barWidth > 0 ? shareBar(totalBps > 0 ? (h.downBps + h.upBps) / totalBps : 0, barWidth) : '',
      spark: sparkWidth > 0 ? sparkline(samples.get(h.identity) ?? [], sparkWidth, sparkMax) : '',
      quota: quotaCells?.get(h.identity) ?? '',
    };
    const rowStyle = isTop ? styles.top : undefined;
    lines.push(tableRowLine(columns, cells, isSelected ? nestStyle(rowStyle, styles.selected) : rowStyle, styles.columns));
  }
  const label = `TOTAL (${snapshot.hosts.length})`;
  const totals = {
    mark: '  ',
    name: label,
    down: formatRate(snapshot.totals.downBps),
    up: formatRate(snapshot.totals.upBps),
    downTotal: formatBytes(snapshot.totals.downBytes),
    upTotal: formatBytes(snapshot.totals.upBytes),
  };
  if (accounted === '') {
    lines.push(tableRowLine(columns, totals, TOTAL_STYLE));
    return lines;
  }
  // The share goes beside the label, over the name and IP cells (the totals row's IP cell is
  // empty): at 80 columns there is no room after the totals. Else after the row's last cell.
  const nameIndex = columns.findIndex((c) => c.id === 'name');
  const ip = columns[nameIndex + 1];
  const text = `${label}  ${accounted}`;
  if (nameIndex !== -1 && ip?.id === 'ip' && displayWidth(text) <= columns[nameIndex]!.width + COLUMN_GAP + ip.width) {
    const merged = { ...columns[nameIndex]!, width: columns[nameIndex]!.width + COLUMN_GAP + ip.width };
    lines.push(tableRowLine([...columns.slice(0, nameIndex), merged, ...columns.slice(nameIndex + 2)], { ...totals, name: text }, TOTAL_STYLE));
  } else {
    lines.push([...tableRowLine(columns, totals, TOTAL_STYLE), { text: `  ${accounted}`, style: TOTAL_STYLE }]);
  }
  return lines;
}
