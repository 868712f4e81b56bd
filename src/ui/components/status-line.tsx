// The live screen's status: router and protocol, how old the last poll is and how long it took,
// the connection state (with the reconnect countdown) and the latest notice. Ages are computed at
// render time; between polls it re-renders itself once a second for them (a new snapshot restarts
// that second, so a poll every second costs one render, not two or three).
import { useEffect, useState } from 'react';
import { Box, Text } from 'ink';
import type { Notice, Snapshot } from '../../domain/snapshot.js';
import { formatDuration } from '../../output/units.js';
import { sanitizeText } from '../../sanitize.js';
import { useTheme, type Theme } from '../theme.js';

export interface StatusLineProps {
  label: string;
  protocol: 'telnet' | 'ssh';
  snapshot: Snapshot | null;
  now: () => number;
}

export function StatusLine({ label, protocol, snapshot, now }: StatusLineProps) {
  const theme = useTheme();
  const [, setTick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setTick((t) => t + 1), 1000);
    return () => clearInterval(timer);
  }, [now, snapshot]);
  const nowMs = now();

  const where = sanitizeText(label.includes(protocol) ? label : `${label} (${protocol})`, 80);
  const notice = latestNotice(snapshot?.notices ?? []);
  const more = (snapshot?.notices.length ?? 0) - 1;
  return (
    <Box flexDirection="column">
      <Text wrap="truncate-end">
        <Text bold>{where}</Text>
        {snapshot ? (
          <Text {...theme.dim}>
            {' · polled '}
            {formatDuration(Math.max(0, nowMs - snapshot.atMs))} ago
            {snapshot.pollLatencyMs !== null ? ` in ${formatDuration(snapshot.pollLatencyMs)}` : ''}
          </Text>
        ) : null}
        <Text> · </Text>
        <ConnectionText snapshot={snapshot} nowMs={nowMs} theme={theme} />
      </Text>
      <Text wrap="truncate-end" {...(notice ? noticeStyle(notice, theme) : {})}>
        {notice ? `${NOTICE_GLYPH[notice.level]} ${sanitizeText(notice.text, 300)}${more > 0 ? `  (+${more} more)` : ''}` : ' '}
      </Text>
    </Box>
  );
}

const NOTICE_GLYPH: Record<Notice['level'], string> = { info: 'ℹ', warn: '⚠', error: '✗' };

function noticeStyle(notice: Notice, theme: Theme) {
  return notice.level === 'error' ? theme.error : notice.level === 'warn' ? theme.warn : theme.accent;
}

function latestNotice(notices: readonly Notice[]): Notice | null {
  let latest: Notice | null = null;
  for (const n of notices) if (latest === null || n.atMs >= latest.atMs) latest = n;
  return latest;
}

function ConnectionText({ snapshot, nowMs, theme }: { snapshot: Snapshot | null; nowMs: number; theme: Theme }) {
  const connection = snapshot?.connection ?? { kind: 'connecting' as const };
  switch (connection.kind) {
    case 'connected':
      return <Text {...theme.ok}>● connected</Text>;
    case 'connecting':
      return <Text {...theme.warn}>… connecting</Text>;
    case 'reconnecting': {
      const leftMs = Math.max(0, connection.inMs - Math.max(0, nowMs - (snapshot?.atMs ?? nowMs)));
      return (
        <Text {...theme.warn}>
          ⟳ reconnecting in {Math.ceil(leftMs / 1000)} s ({sanitizeText(connection.reason, 120)})
        </Text>
      );
    }
    case 'failed':
      return <Text {...theme.error}>✗ connection failed: {sanitizeText(connection.reason, 120)}</Text>;
  }
}
