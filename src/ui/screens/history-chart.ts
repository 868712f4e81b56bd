// Pure: the History screen's chart block (issue 17) — how the terminal's rows split between the
// chart and the table, and the chart's lines with a legend above each chart: the total alone, or
// the picked device (with its share of the total) and, where there is room, the total under it.
import type { HistoryChart, HistorySeries } from '../../app/types.js';
import { formatBytes } from '../../output/units.js';
import type { GlyphMode } from '../glyph-mode.js';
import { renderTimeChart } from '../time-chart.js';
import { cellText } from '../text.js';

/** Title, period tabs, the blank, range line, table header, totals, the blank, footer, a spare row. */
export const HISTORY_CHROME_ROWS = 9;
const MIN_CHART = 5;
const MAX_CHART = 20;

export interface HistoryLayout {
  /** Height of each chart (each has a legend line above it); empty: no chart. */
  charts: number[];
  viewportRows: number;
}

/** At 80×24 a 6-line chart and 8 table rows; a tall terminal gives the chart half its rows, two charts with a device. */
export function historyLayout(rows: number, hasChart: boolean, hasDevice: boolean): HistoryLayout {
  const available = Math.max(0, rows - HISTORY_CHROME_ROWS);
  if (!hasChart || available < MIN_CHART + 1 + 3) return { charts: [], viewportRows: Math.max(3, available) };
  const budget = Math.max(MIN_CHART + 1, Math.min(MAX_CHART + 1, Math.floor(available / 2)));
  if (hasDevice && budget >= 2 * (MIN_CHART + 2)) {
    const each = Math.floor(budget / 2) - 1;
    return { charts: [each, each], viewportRows: Math.max(3, available - 2 * (each + 1)) };
  }
  return { charts: [budget - 1], viewportRows: Math.max(3, available - budget) };
}

export type ChartLineKind = 'legend' | 'down' | 'up' | 'axis';

export interface ChartLine {
  kind: ChartLineKind;
  text: string;
}

const UNIT_WORDS: Readonly<Record<HistoryChart['granularity'], string>> = { minute: '1 min', hour: '1 hour', day: '1 day' };

function sumOf(values: ReadonlyArray<number | null>): number {
  let sum = 0;
  for (const v of values) if (v !== null && Number.isFinite(v) && v > 0) sum += v;
  return sum;
}

function hasUnknown(series: HistorySeries): boolean {
  return series.down.some((v) => v === null) || series.up.some((v) => v === null);
}

function legend(who: string, series: HistorySeries, chart: HistoryChart, mode: GlyphMode, share: string): string {
  const isAscii = mode === 'ascii';
  const down = isAscii ? 'dn' : '↓';
  const up = isAscii ? 'up' : '↑';
  const times = isAscii ? 'x' : '×';
  const dot = isAscii ? ' - ' : ' · ';
  const unknown = hasUnknown(series) ? `${dot}${isAscii ? '?' : '░'} not kept` : '';
  return `${who}${share}: ${down} ${formatBytes(sumOf(series.down))} above, ${up} ${formatBytes(sumOf(series.up))} below${dot}${chart.bucketStartsMs.length} ${times} ${UNIT_WORDS[chart.granularity]}${unknown}`;
}

function chartOf(series: HistorySeries, chart: HistoryChart, width: number, height: number, mode: GlyphMode): ChartLine[] {
  const lines = renderTimeChart({ down: series.down, up: series.up, bucketStartsMs: chart.bucketStartsMs, granularity: chart.granularity, width, height, mode });
  const downRows = Math.ceil((lines.length - 1) / 2);
  return lines.map((text, i) => ({ kind: i === lines.length - 1 ? 'axis' : i < downRows ? 'down' : 'up', text }));
}

/** The chart block for `layout.charts`, every line at most `width` cells. */
/** `deviceName`: the name to show for the chart's device (raw or clean; default: the one the controller gave). */
/** `allLabel`: the total's legend (users mode, issue 18: "all users"). */
export function historyChartLines(chart: HistoryChart, layout: HistoryLayout, width: number, mode: GlyphMode, deviceName?: string | null, allLabel = 'all devices'): ChartLine[] {
  const out: ChartLine[] = [];
  const [first, second] = layout.charts;
  if (first === undefined) return out;
  const all = allLabel;
  if (chart.device === null) {
    out.push({ kind: 'legend', text: legend(all, chart.total, chart, mode, '') });
    out.push(...chartOf(chart.total, chart, width, first, mode));
    return out;
  }
  const device = chart.device;
  const total = sumOf(chart.total.down) + sumOf(chart.total.up);
  const mine = sumOf(device.down) + sumOf(device.up);
  const share = total > 0 ? ` (${Math.round((mine / total) * 100)}% of all)` : '';
  // Router text: sanitised by the controller, and again here (a fake or another controller may not).
  out.push({ kind: 'legend', text: legend(cellText(deviceName ?? device.name, 28), device, chart, mode, share) });
  out.push(...chartOf(device, chart, width, first, mode));
  if (second !== undefined) {
    out.push({ kind: 'legend', text: legend(all, chart.total, chart, mode, '') });
    out.push(...chartOf(chart.total, chart, width, second, mode));
  }
  return out;
}
