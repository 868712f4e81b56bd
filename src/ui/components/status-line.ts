// The live screen's status: router and protocol, how old the last poll is and how long it took,
// the connection state (with the reconnect countdown) and the latest notice, as two styled lines.
// Pure: ages are computed from the `nowMs` given (the live view re-draws it once a second between
// polls: screens/live-view.ts).
import type { Notice, Snapshot } from '../../domain/snapshot.js';
import { formatDuration } from '../../output/units.js';
import { sanitizeText } from '../../sanitize.js';
import { truncateLine, type Span, type StyledLine } from '../styled-line.js';
import type { Theme } from '../theme.js';

/** The two status lines (where and how fresh; the latest notice), cut to `width`. */
export function statusLines(options: { label: string; protocol: 'telnet' | 'ssh' | 'local'; snapshot: Snapshot | null; nowMs: number; theme: Theme; width: number }): StyledLine[] {
  const { label, protocol, snapshot, nowMs, theme, width } = options;
  const where = sanitizeText(label.includes(protocol) ? label : `${label} (${protocol})`, 80);
  const status: Span[] = [{ text: where, style: BOLD }];
  if (snapshot) {
    const latency = snapshot.pollLatencyMs !== null ? ` in ${formatDuration(snapshot.pollLatencyMs)}` : '';
    status.push({ text: ` · polled ${formatDuration(Math.max(0, nowMs - snapshot.atMs))} ago${latency}`, style: theme.dim });
  }
  status.push({ text: ' · ' }, connectionSpan(snapshot, nowMs, theme));
  const notice = latestNotice(snapshot?.notices ?? []);
  const more = (snapshot?.notices.length ?? 0) - 1;
  const noticeLine: Span[] = notice
    ? [{ text: `${NOTICE_GLYPH[notice.level]} ${sanitizeText(notice.text, 300)}${more > 0 ? `  (+${more} more)` : ''}`, style: noticeStyle(notice, theme) }]
    : [{ text: ' ' }];
  return [truncateLine(status, width), truncateLine(noticeLine, width)];
}

const BOLD = { bold: true };
const NOTICE_GLYPH: Record<Notice['level'], string> = { info: 'ℹ', warn: '⚠', error: '✗' };

function noticeStyle(notice: Notice, theme: Theme) {
  return notice.level === 'error' ? theme.error : notice.level === 'warn' ? theme.warn : theme.accent;
}

function latestNotice(notices: readonly Notice[]): Notice | null {
  let latest: Notice | null = null;
  for (const n of notices) if (latest === null || n.atMs >= latest.atMs) latest = n;
  return latest;
}

function connectionSpan(snapshot: Snapshot | null, nowMs: number, theme: Theme): Span {
  const connection = snapshot?.connection ?? { kind: 'connecting' as const };
  switch (connection.kind) {
    case 'connected':
      return { text: '● connected', style: theme.ok };
    case 'connecting':
      return { text: '… connecting', style: theme.warn };
    case 'reconnecting': {
      const leftMs = Math.max(0, connection.inMs - Math.max(0, nowMs - (snapshot?.atMs ?? nowMs)));
      return { text: `⟳ reconnecting in ${Math.ceil(leftMs / 1000)} s (${sanitizeText(connection.reason, 120)})`, style: theme.warn };
    }
    case 'failed':
      return { text: `✗ connection failed: ${sanitizeText(connection.reason, 120)}`, style: theme.error };
  }
}
