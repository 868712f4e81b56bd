// nft's time format → milliseconds: `7d`, `2h30m`, `1m30s`, `6d23h59m57s980ms` (nft(8), "TIME"
// values; src/datatype.c time_type). null when it is not one.
const DURATION = /^(?:(\d{1,6})d)?(?:(\d{1,3})h)?(?:(\d{1,3})m(?!s))?(?:(\d{1,6})s)?(?:(\d{1,4})ms)?$/;

export function durationMs(text: string): number | null {
  const m = DURATION.exec(text);
  if (m === null || text === '') return null;
  const [, d = '0', h = '0', min = '0', s = '0', ms = '0'] = m;
  return ((Number(d) * 24 + Number(h)) * 60 + Number(min)) * 60_000 + Number(s) * 1000 + Number(ms);
}

/** Milliseconds → nft's time format, rounded up to the second (`2h30m`, `1m30s`, `5s`). */
export function formatDuration(ms: number): string {
  let s = Math.max(1, Math.ceil(ms / 1000));
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return `${d ? `${d}d` : ''}${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s ? `${s}s` : ''}`;
}
