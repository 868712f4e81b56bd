// Pure: a terminal time-series chart of download and upload per bucket (issue 17, the History
// screen). Download grows up from the middle, upload hangs down from it, each on its own scale
// with its peak written at its far end, so the two read apart without colour; the last line is
// the time axis. Braille (2×4 dots a cell) is finest, Unicode blocks next, ASCII last (glyph-mode.ts).
// Zero is blank; an unknown (pruned) bucket is shaded next to the middle (░, or ? in ASCII), so a
// gap in the history never reads as silence. Every line is exactly `width` cells for any input.
import { utcZone, systemZone, type LocalZone } from '../domain/periods.js';
import type { Granularity } from '../domain/report.js';
import { formatBytes } from '../output/units.js';
import type { GlyphMode } from './glyph-mode.js';

export interface TimeChartInput {
  /** Bytes per bucket, aligned with bucketStartsMs; null = unknown. Missing entries are unknown. */
  down: readonly (number | null)[];
  up: readonly (number | null)[];
  bucketStartsMs: readonly number[];
  granularity: Granularity;
  width: number;
  height: number;
  mode: GlyphMode;
  /** Zone of the HH:MM labels (default: the process's). Day buckets are UTC days and say so. */
  zone?: LocalZone;
}

/** The y-axis label column: "↓ 1.23 GB" and the separator. */
export const LABEL_WIDTH = 11;
const MIN_WIDTH_FOR_LABELS = 30;

interface Glyphs {
  /** Dot columns per cell. */
  dots: number;
  /** Sub-levels per row for download (bottom-up) and upload (top-down). */
  downLevels: number;
  upLevels: number;
  down(levelsLeft: number, levelsRight: number): string;
  up(levelsLeft: number, levelsRight: number): string;
  unknown: string;
  axis: string;
  corner: string;
  tick: string;
  downMark: string;
  upMark: string;
}

const EIGHTHS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'] as const;
// Braille dot bits per column, from the bottom up (left: dots 7,3,2,1; right: 8,6,5,4).
const BRAILLE_LEFT_UP = [0x40, 0x04, 0x02, 0x01] as const;
const BRAILLE_RIGHT_UP = [0x80, 0x20, 0x10, 0x08] as const;

function brailleOf(left: number, right: number, isFromTop: boolean): string {
  let bits = 0;
  for (let i = 0; i < left; i += 1) bits |= BRAILLE_LEFT_UP[isFromTop ? 3 - i : i]!;
  for (let i = 0; i < right; i += 1) bits |= BRAILLE_RIGHT_UP[isFromTop ? 3 - i : i]!;
  return bits === 0 ? ' ' : String.fromCharCode(0x2800 + bits);
}

const GLYPHS: Readonly<Record<GlyphMode, Glyphs>> = {
  braille: {
    dots: 2,
    downLevels: 4,
    upLevels: 4,
    down: (l, r) => brailleOf(l, r, false),
    up: (l, r) => brailleOf(l, r, true),
    unknown: '░',
    axis: '─',
    corner: '└',
    tick: '┤',
    downMark: '↓',
    upMark: '↑',
  },
  blocks: {
    dots: 1,
    downLevels: 8,
    upLevels: 2,
    down: (l) => (l <= 0 ? ' ' : EIGHTHS[Math.min(8, l) - 1]!),
    up: (l) => (l <= 0 ? ' ' : l >= 2 ? '█' : '▀'),
    unknown: '░',
    axis: '─',
    corner: '└',
    tick: '┤',
    downMark: '↓',
    upMark: '↑',
  },
  ascii: {
    dots: 1,
    downLevels: 2,
    upLevels: 2,
    down: (l) => (l <= 0 ? ' ' : l >= 2 ? '#' : '.'),
    up: (l) => (l <= 0 ? ' ' : l >= 2 ? '#' : "'"),
    unknown: '?',
    axis: '-',
    corner: '+',
    tick: '|',
    downMark: 'dn',
    upMark: 'up',
  },
};

/** Label steps in buckets, smallest first: round times for each granularity. */
const LABEL_STEPS: Readonly<Record<Granularity, readonly number[]>> = {
  minute: [1, 5, 10, 15, 30, 60, 120, 180, 360, 720],
  hour: [1, 2, 3, 4, 6, 12, 24, 48, 96],
  day: [1, 2, 5, 7, 10, 15, 30, 60, 90, 180, 365],
};

const clean = (v: number | null | undefined): number | null => (v === null || v === undefined || !Number.isFinite(v) ? null : Math.max(0, v));

/**
 * Per dot column: the bucket values it shows (the busiest of its buckets when there are more
 * buckets than dots; null when all its buckets are unknown; undefined past the last bucket).
 */
function dotValues(values: readonly (number | null)[], n: number, dots: number): Array<number | null | undefined> {
  const out = new Array<number | null | undefined>(dots);
  if (n <= dots) {
    const per = Math.floor(dots / n);
    for (let d = 0; d < dots; d += 1) {
      const b = Math.floor(d / per);
      out[d] = b < n ? clean(values[b]) : undefined;
    }
    return out;
  }
  for (let d = 0; d < dots; d += 1) {
    const from = Math.floor((d * n) / dots);
    const to = Math.max(from + 1, Math.floor(((d + 1) * n) / dots));
    let best: number | null = null;
    for (let b = from; b < to; b += 1) {
      const v = clean(values[b]);
      if (v !== null && (best === null || v > best)) best = v;
    }
    out[d] = best;
  }
  return out;
}

/** The dot column bucket `b` starts at. */
function dotOfBucket(b: number, n: number, dots: number): number {
  return n <= dots ? b * Math.floor(dots / n) : Math.ceil((b * dots) / n);
}

function peakOf(values: ReadonlyArray<number | null | undefined>): number {
  let max = 0;
  for (const v of values) if (typeof v === 'number' && v > max) max = v;
  return max;
}

/** Sub-levels filled for a value: any traffic at all is at least one, so a trickle shows. */
function levelsOf(v: number | null | undefined, peak: number, total: number): number {
  if (typeof v !== 'number' || v <= 0 || peak <= 0) return 0;
  return Math.max(1, Math.min(total, Math.ceil((v / peak) * total)));
}

function two(n: number): string {
  return String(n).padStart(2, '0');
}

/** HH:MM (local) for minutes and hours; the UTC day of the month for day buckets (how they are stored). */
export function bucketLabel(ms: number, granularity: Granularity, zone: LocalZone = systemZone): string {
  if (!Number.isFinite(ms)) return '';
  if (granularity === 'day') return two(utcZone.parts(ms).day);
  const p = zone.parts(ms);
  return `${two(p.hour)}:${two(p.minute)}`;
}

function isRoundLabel(ms: number, granularity: Granularity, step: number, zone: LocalZone): boolean {
  if (step <= 1) return true;
  if (granularity === 'day') return (utcZone.parts(ms).day - 1) % step === 0;
  const p = zone.parts(ms);
  return granularity === 'hour' ? p.minute === 0 && p.hour % step === 0 : (p.hour * 60 + p.minute) % step === 0;
}

function axisLine(input: TimeChartInput, g: Glyphs, n: number, plotWidth: number, label: string): string {
  const cells = new Array<string>(plotWidth).fill(g.axis);
  const zone = input.zone ?? systemZone;
  if (n > 0 && plotWidth > 0) {
    const dots = plotWidth * g.dots;
    const labelLength = input.granularity === 'day' ? 2 : 5;
    const cellsPerBucket = (n <= dots ? Math.floor(dots / n) : dots / n) / g.dots;
    const steps = LABEL_STEPS[input.granularity];
    const step = steps.find((s) => s * cellsPerBucket >= labelLength + 1) ?? steps[steps.length - 1]!;
    let nextFree = 0;
    let placed = 0;
    for (let b = 0; b < n; b += 1) {
      const ms = input.bucketStartsMs[b]!;
      if (!isRoundLabel(ms, input.granularity, step, zone)) continue;
      const at = Math.floor(dotOfBucket(b, n, dots) / g.dots);
      const text = bucketLabel(ms, input.granularity, zone);
      if (at < nextFree || at + text.length > plotWidth || text === '') continue;
      for (let i = 0; i < text.length; i += 1) cells[at + i] = text[i]!;
      nextFree = at + text.length + 1;
      placed += 1;
    }
    if (placed === 0) {
      const text = bucketLabel(input.bucketStartsMs[0]!, input.granularity, zone);
      for (let i = 0; i < text.length && i < plotWidth; i += 1) cells[i] = text[i]!;
    }
  }
  return label + cells.join('');
}

function fit(text: string, width: number): string {
  // Labels are ASCII plus the arrows (one cell each): length is cells.
  return text.length >= width ? text.slice(0, width) : text + ' '.repeat(width - text.length);
}

/** Exactly `height` lines of exactly `width` cells (0 lines for a height below 1). */
export function renderTimeChart(input: TimeChartInput): string[] {
  const height = Number.isFinite(input.height) ? Math.max(0, Math.floor(input.height)) : 0;
  const width = Number.isFinite(input.width) ? Math.max(0, Math.floor(input.width)) : 0;
  if (height === 0) return [];
  const g = GLYPHS[input.mode] ?? GLYPHS.ascii;
  const labelWidth = width >= MIN_WIDTH_FOR_LABELS ? LABEL_WIDTH : 0;
  const plotWidth = width - labelWidth;
  const n = input.bucketStartsMs.length;
  const dots = plotWidth * g.dots;
  const down = n > 0 && dots > 0 ? dotValues(input.down, n, dots) : [];
  const up = n > 0 && dots > 0 ? dotValues(input.up, n, dots) : [];
  const downPeak = peakOf(down);
  const upPeak = peakOf(up);
  const barRows = height - 1;
  const downRows = Math.ceil(barRows / 2);
  const upRows = barRows - downRows;
  const downTotal = downRows * g.downLevels;
  const upTotal = upRows * g.upLevels;
  const downLevels = down.map((v) => levelsOf(v, downPeak, downTotal));
  const upLevels = up.map((v) => levelsOf(v, upPeak, upTotal));
  const labelOf = (text: string, sep: string) => (labelWidth === 0 ? '' : fit(text, labelWidth - 1) + sep);

  const lines: string[] = [];
  for (let row = 0; row < barRows; row += 1) {
    const isDown = row < downRows;
    // Rows counted away from the middle: 0 touches it.
    const away = isDown ? downRows - 1 - row : row - downRows;
    const per = isDown ? g.downLevels : g.upLevels;
    const levels = isDown ? downLevels : upLevels;
    const values = isDown ? down : up;
    let text = '';
    for (let c = 0; c < plotWidth; c += 1) {
      const d0 = c * g.dots;
      const filled = (d: number) => Math.max(0, Math.min(per, (levels[d] ?? 0) - away * per));
      const left = filled(d0);
      const right = g.dots > 1 ? filled(d0 + 1) : 0;
      let glyph = isDown ? g.down(left, right) : g.up(left, right);
      if (glyph === ' ' && away === 0) {
        let isUnknown = false;
        for (let d = d0; d < d0 + g.dots; d += 1) if (values[d] === null) isUnknown = true;
        if (isUnknown) glyph = g.unknown;
      }
      text += glyph;
    }
    const isFar = isDown ? row === 0 : row === barRows - 1;
    const peak = isDown ? downPeak : upPeak;
    const mark = isDown ? g.downMark : g.upMark;
    lines.push(labelOf(isFar ? `${mark} ${formatBytes(peak)}` : away === 0 ? mark : '', g.tick) + text);
  }
  lines.push(axisLine(input, g, n, plotWidth, labelOf('', g.corner)));
  return lines;
}
