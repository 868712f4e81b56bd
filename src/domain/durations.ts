// Durations as people type them (`90s`, `20m`, `2h`, `1d`, `1h30m`): how long a block or a deny
// lasts (`block --for`, the denyFor setting).

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `20m`, `2h`, `1d`, `1h30m` → ms; a RangeError with the reason otherwise. */
export function parseBlockDuration(text: string): number {
  const t = text.trim().toLowerCase();
  if (!/^(?:\d{1,6}[smhd])+$/.test(t)) throw new RangeError(`'${text.slice(0, 30)}' is not a duration like 90s, 20m, 2h or 1h30m`);
  let ms = 0;
  for (const m of t.matchAll(/(\d{1,6})([smhd])/g)) ms += Number(m[1]) * UNIT_MS[m[2]!]!;
  if (ms < 1000) throw new RangeError('the duration must be at least 1s');
  return ms;
}

