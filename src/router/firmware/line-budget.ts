// How long a line the router's shell takes whole: the budget every batched line is cut to.

/**
 * Longest line sent to a shell, before the transport's own sentinel (`; echo "__LANTOP""_END_…"`,
 * 41 bytes) is added, when nothing better is known. Measured through a pty (issue 13): a pty in
 * canonical mode keeps 4095 bytes (dash, bash, a vendor CLI reading with `read`); BusyBox ash with
 * line editing keeps CONFIG_FEATURE_EDITING_MAX_LEN − 2: 1022 with BusyBox's default of 1024
 * (libbb/Config.src; Debian's build, measured, and the lab test in apply-batch-lab.test.ts) and 510
 * with OpenWrt's 512 (package/utils/busybox/Config-defaults.in). A longer line is cut silently: its
 * closing quote is lost and the shell waits for more (nothing runs; the command times out). 450 + 41
 * fits OpenWrt. The line probe below measures the real limit (issue 21); this is what is left when
 * it could not.
 */
export const DEFAULT_MAX_LINE_BYTES = 450;
/** Below this not even one rule line and its redirections fit: batching is not attempted. */
export const MIN_LINE_BYTES = 200;
/** A line for a shell that reads through the pty's canonical mode only (4095 bytes), with room to spare. */
export const PLAIN_SHELL_MAX_LINE_BYTES = 3000;

/**
 * The line budget for a shell, from what `readlink /proc/$$/exe` answered in it (the probe the
 * firmware table can run once): dash and bash read the line through the pty's canonical mode and
 * keep 4095 bytes; BusyBox ash (or no answer) may have a line editor with any limit from 128 up,
 * so the safe default stays (and the line probe measures it). An exec channel without a pty has no
 * line limit worth the name.
 */
export function maxLineBytesForShell(exePath: string | null, channel: 'pty' | 'exec' = 'pty'): number {
  if (channel === 'exec') return PLAIN_SHELL_MAX_LINE_BYTES;
  const name = (exePath ?? '').trim().split('/').pop() ?? '';
  return /^(?:dash|bash|ksh|mksh|zsh)$/.test(name) ? PLAIN_SHELL_MAX_LINE_BYTES : DEFAULT_MAX_LINE_BYTES;
}

// The line probe (issue 21): one line longer than any budget lantop grants, that reports how much
// of itself arrived and still ends with a sentinel the transport sees, however much was cut.
//
//   _L=aaaa…a (3100 bytes)  DEL×80  ;echo "__LT""LL_${#_L}__";_L=   + the transport's sentinel
//
// A line editor (BusyBox ash, bash's readline) and a pty in canonical mode both drop what does not
// fit but still act on DEL (0x7f, the erase character of a pty and of BusyBox's editor): after the
// cut, the 80 DELs free room for the last 70 bytes, so the marker and the sentinel always run and
// `${#_L}` says where the line was cut. Measured in the lab (issue 21): Debian's BusyBox ash answers
// 939 (kept 939 + 80 + 3 = 1022 bytes, CONFIG_FEATURE_EDITING_MAX_LEN 1024), dash through a pty 3020
// (nothing cut). A shell whose pty erases with another key keeps the DELs in `_L` (3180: nothing cut).

/** Bytes of `a` in the probe line: more than the largest budget plus the sentinel. */
export const LINE_PROBE_FILL_BYTES = 3100;
/** DELs after the fill: at least what follows them (29 bytes of ours + the transport's 41). */
export const LINE_PROBE_ERASE_BYTES = 80;
/** The transport's sentinel (41 bytes) and a margin: what a budget leaves free of the kept line. */
export const LINE_SENTINEL_RESERVE_BYTES = 50;
export const LINE_PROBE_COMMAND = `_L=${'a'.repeat(LINE_PROBE_FILL_BYTES)}${'\u007f'.repeat(LINE_PROBE_ERASE_BYTES)};echo "__LT""LL_\${#_L}__";_L=`;
const LINE_PROBE_ANSWER = /(?:^|\n)__LTLL_(\d{1,5})__(?:\n|$)/g;

/**
 * How many bytes of a line the shell kept, from the line probe's answer: 'whole' when nothing was
 * cut, a number when the line was cut there, null when the answer says neither (no marker, an odd
 * length): then nothing is concluded.
 */
export function keptLineBytes(output: string | undefined): number | 'whole' | null {
  if (typeof output !== 'string') return null;
  let length: number | null = null;
  for (const m of output.matchAll(LINE_PROBE_ANSWER)) length = Number(m[1]);
  if (length === null) return null;
  const fill = LINE_PROBE_FILL_BYTES;
  const erase = LINE_PROBE_ERASE_BYTES;
  // Nothing cut: the DELs erased (3020), or were kept as characters by a pty erasing with ^H (3180).
  if (length === fill - erase || length === fill + erase) return 'whole';
  // Cut: `_L=` plus `length` bytes stayed after the DELs removed 80 of what was kept.
  if (length < fill - erase) return length + erase + 3;
  return null;
}

/**
 * The budget for lines to this shell from the line probe's answer (the kept line minus the
 * transport's sentinel and a margin, at most PLAIN_SHELL_MAX_LINE_BYTES), or null when the answer
 * says nothing. A budget below MIN_LINE_BYTES is kept as measured: such a shell gets changes line by
 * line.
 */
export function maxLineBytesFromProbe(output: string | undefined): number | null {
  const kept = keptLineBytes(output);
  if (kept === null) return null;
  if (kept === 'whole') return PLAIN_SHELL_MAX_LINE_BYTES;
  return Math.max(1, Math.min(PLAIN_SHELL_MAX_LINE_BYTES, kept - LINE_SENTINEL_RESERVE_BYTES));
}

/** Whether a stored budget is one lantop itself can produce (stored-profile.ts accepts no other). */
export function isProducedLineBudget(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= PLAIN_SHELL_MAX_LINE_BYTES;
}
