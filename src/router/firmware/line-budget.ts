// How long a line the router's shell takes whole: the budget every batched line is cut to.

/**
 * Longest line sent to a shell, before the transport's own sentinel (`; echo "__LANTOP""_END_…"`,
 * 40 bytes) is added. Measured through a pty (issue 13): a pty in canonical mode keeps 4095 bytes
 * (dash, bash, a vendor CLI reading with `read`); BusyBox ash with line editing keeps
 * CONFIG_FEATURE_EDITING_MAX_LEN − 2: 1022 with BusyBox's default of 1024 (libbb/Config.src;
 * Debian's build, measured, and the lab test in apply-batch-lab.test.ts) and 510 with OpenWrt's 512
 * (package/utils/busybox/Config-defaults.in). A longer line is cut silently: its closing quote is
 * lost and the shell waits for more (nothing runs; the command times out). 450 + 40 fits OpenWrt;
 * maxLineBytesForShell() gives more to shells known to take it.
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
 * so the safe default stays. An exec channel without a pty has no line limit worth the name.
 */
export function maxLineBytesForShell(exePath: string | null, channel: 'pty' | 'exec' = 'pty'): number {
  if (channel === 'exec') return PLAIN_SHELL_MAX_LINE_BYTES;
  const name = (exePath ?? '').trim().split('/').pop() ?? '';
  return /^(?:dash|bash|ksh|mksh|zsh)$/.test(name) ? PLAIN_SHELL_MAX_LINE_BYTES : DEFAULT_MAX_LINE_BYTES;
}
