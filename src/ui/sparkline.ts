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
  const clean = samples.map((s) => (Number.isFinite(s) && s > 0 ? s : 0));
  const buckets: number[] = [];
  if (clean.length > width) {
    for (let i = 0; i < width; i += 1) {
      const from = Math.floor((i * clean.length) / width);
      const to = Math.floor(((i + 1) * clean.length) / width);
      let peak = 0;
      for (let j = from; j < to; j += 1) peak = Math.max(peak, clean[j] ?? 0);
      buckets.push(peak);
    }
  } else {
    buckets.push(...clean);
  }
  const scale = max !== undefined && Number.isFinite(max) && max > 0 ? max : Math.max(0, ...buckets);
  const glyphs = buckets.map((value) => {
    if (value <= 0 || scale <= 0) return ' ';
    const level = Math.min(SPARK.length - 1, Math.max(0, Math.ceil((value / scale) * SPARK.length) - 1));
    return SPARK[level]!;
  });
  return ' '.repeat(width - glyphs.length) + glyphs.join('');
}

/** 0..1 as a bar of eighth-blocks, `width` characters (padded with `fill`). */
export function shareBar(share: number, width: number, fill = ' '): string {
  if (width <= 0) return '';
  const clamped = Number.isFinite(share) ? Math.min(1, Math.max(0, share)) : 0;
  const eighths = Math.round(clamped * width * 8);
  const full = Math.floor(eighths / 8);
  const partial = PARTIAL[eighths % 8] ?? '';
  const bar = '█'.repeat(full) + partial;
  return bar + fill.repeat(Math.max(0, width - [...bar].length));
}
