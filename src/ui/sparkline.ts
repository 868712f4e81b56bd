// Pure glyph builders for the live and history screens: a sparkline of recent rates and a
// horizontal share bar. Both return exactly `width` characters so rows stay aligned.

const SPARK = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'] as const;
const PARTIAL = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'] as const;

/**
 * Last samples as a sparkline `width` characters wide, scaled to `max` (default: the samples' own
 * maximum). More samples than columns are bucketed (each glyph = the busiest sample of its bucket);
 * fewer are right-aligned so time always runs to the right edge. Zero is a blank, any traffic at
 * all is at least the lowest bar, so a trickle never looks like silence.
 */
export function sparkline(samples: readonly number[], width: number, max?: number): string {
  if (width <= 0) return '';
  // One pass, no arrays: at 1 Hz with a few dozen rows this runs ~40 times a second's poll (issue 21).
  const n = samples.length;
  const isBucketed = n > width;
  const count = isBucketed ? width : n;
  let scale = max !== undefined && Number.isFinite(max) && max > 0 ? max : 0;
  if (scale === 0) for (let i = 0; i < n; i += 1) scale = Math.max(scale, clean(samples[i]!));
  let out = ' '.repeat(width - count);
  for (let i = 0; i < count; i += 1) {
    let value = 0;
    if (isBucketed) {
      const to = Math.floor(((i + 1) * n) / width);
      for (let j = Math.floor((i * n) / width); j < to; j += 1) value = Math.max(value, clean(samples[j]!));
    } else {
      value = clean(samples[i]!);
    }
    out += value <= 0 || scale <= 0 ? ' ' : SPARK[Math.min(SPARK.length - 1, Math.max(0, Math.ceil((value / scale) * SPARK.length) - 1))]!;
  }
  return out;
}

const clean = (sample: number) => (Number.isFinite(sample) && sample > 0 ? sample : 0);

/** 0..1 as a bar of eighth-blocks, `width` characters (padded with `fill`). */
export function shareBar(share: number, width: number, fill = ' '): string {
  if (width <= 0) return '';
  const clamped = Number.isFinite(share) ? Math.min(1, Math.max(0, share)) : 0;
  const eighths = Math.round(clamped * width * 8);
  const full = Math.floor(eighths / 8);
  const partial = PARTIAL[eighths % 8] ?? '';
  return '█'.repeat(full) + partial + fill.repeat(Math.max(0, width - full - (partial === '' ? 0 : 1)));
}
