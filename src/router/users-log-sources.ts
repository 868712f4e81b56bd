// Where users mode reads the SSH daemon's log (issue 18), probed once per poller, first match wins:
//   file     /var/log/auth.log (Debian, Ubuntu), /var/log/secure (RHEL, Fedora): followed by inode and
//            byte offset (users-poll.ts)
//   journal  no such file, but `journalctl` (Debian 12+ without rsyslog, Arch): read incrementally by
//            cursor, `journalctl -u ssh -u sshd -u dropbear -o short --no-pager --show-cursor
//            [--after-cursor='CURSOR']`; journalctl ends its answer with `-- cursor: s=…;i=…;…`
//            (journalctl(1), --show-cursor), which the next read starts after
//   logread  BusyBox/OpenWrt's ring buffer (Dropbear logs there): `logread` prints the whole buffer,
//            without offsets, so the lines after the last ones seen are the new ones; when those are
//            gone (the ring wrapped past them, or a reboot emptied it) the whole buffer is new
// The first read of each takes what is there (journal: its last MAX_JOURNAL_LINES lines), so
// sessions that began before lantop started are found. Pure: commands and answers only.
//
// The cursor is journal text going back into a command: it passes only as journald prints it
// (`k=hex` fields joined by `;`, sd-journal's sd_journal_get_cursor) and is single-quoted.

export const AUTH_LOG_CANDIDATES = ['/var/log/auth.log', '/var/log/secure'] as const;
export type AuthLogPath = (typeof AUTH_LOG_CANDIDATES)[number];

export type LogSourceKind = 'file' | 'journal' | 'logread';

/** What the probe found: the file, or the journal / ring buffer; null: none. */
export type FoundLogSource = { kind: 'file'; path: AuthLogPath } | { kind: 'journal' } | { kind: 'logread' };

/** The first read of the journal: its last lines of these units, not all of it. */
export const MAX_JOURNAL_LINES = 5000;
const JOURNAL_UNITS = ['ssh', 'sshd', 'dropbear'] as const;

/** One shell line: which sources the gateway has (read-only; `true` keeps the status 0). */
export function logSourceProbe(): string {
  return [
    ...AUTH_LOG_CANDIDATES.map((f) => `[ -r ${f} ] && echo "LOG=${f}"`),
    'command -v journalctl >/dev/null 2>&1 && echo "LOG=journal"',
    'command -v logread >/dev/null 2>&1 && echo "LOG=logread"',
    'true',
  ].join('; ');
}

/** The probe's answer → the source to read (a file before the journal before logread), or null. */
export function parseLogSourceProbe(answer: string): FoundLogSource | null {
  const lines = new Set((typeof answer === 'string' ? answer : '').split('\n').map((l) => l.trim()));
  const file = AUTH_LOG_CANDIDATES.find((f) => lines.has(`LOG=${f}`));
  if (file !== undefined) return { kind: 'file', path: file };
  if (lines.has('LOG=journal')) return { kind: 'journal' };
  return lines.has('LOG=logread') ? { kind: 'logread' } : null;
}

export function describeLogSource(source: FoundLogSource): string {
  return source.kind === 'file' ? source.path : source.kind === 'journal' ? `the journal (journalctl -u ${JOURNAL_UNITS.join(' -u ')})` : 'logread (the syslog ring buffer)';
}

const CURSOR = /^[a-z]=[0-9a-f]{1,64}(?:;[a-z]=[0-9a-f]{1,64}){0,11}$/;

/** A journal cursor exactly as journald prints one (nothing a shell or journalctl reads as more). */
export function isJournalCursor(text: unknown): text is string {
  return typeof text === 'string' && text.length <= 400 && CURSOR.test(text);
}

/** The journal read: the new entries after `cursor` (null: the last MAX_JOURNAL_LINES). */
export function journalCommand(cursor: string | null): string {
  if (cursor !== null && !isJournalCursor(cursor)) throw new TypeError('cursor: not a journal cursor');
  const units = JOURNAL_UNITS.map((u) => `-u ${u}`).join(' ');
  const from = cursor === null ? `-n ${MAX_JOURNAL_LINES}` : `'--after-cursor=${cursor}'`;
  return `journalctl ${units} -o short --no-pager --show-cursor ${from} 2>&1`;
}

const CURSOR_LINE = /^-- cursor: (\S{1,400})$/;

/**
 * journalctl's answer → the log text and the cursor to go on from (null: it printed none, e.g.
 * `-- No entries --`: keep the last). A cursor line that is not a valid cursor is refused (`isRefused`).
 */
export function readJournalAnswer(text: string): { text: string; cursor: string | null; isRefused: boolean } {
  const lines = (typeof text === 'string' ? text : '').split('\n');
  let cursor: string | null = null;
  let isRefused = false;
  const kept: string[] = [];
  for (const line of lines) {
    const m = CURSOR_LINE.exec(line.endsWith('\r') ? line.slice(0, -1) : line);
    if (m === null) {
      kept.push(line);
      continue;
    }
    if (isJournalCursor(m[1])) {
      cursor = m[1];
      isRefused = false;
    } else {
      cursor = null;
      isRefused = true;
    }
  }
  return { text: kept.join('\n'), cursor, isRefused };
}

/** The ring-buffer read: only the lines of the SSH daemons (the parser checks each again). */
export function logreadCommand(): string {
  return 'logread 2>&1 | grep -e dropbear -e sshd';
}

/** Lines remembered from the end of the last read, to find where the new ones start. */
const ANCHOR_LINES = 3;

/**
 * The new lines of a ring buffer read whole each time: after the last place where the previous
 * read's last lines (up to ANCHOR_LINES, then fewer) stand in order. `isWrapped`: they are all
 * gone, so the whole buffer is taken (lines between the reads may have been lost).
 */
export class RingBufferFollower {
  private anchor: string[] = [];
  private hasRead = false;

  read(text: string): { text: string; isWrapped: boolean } {
    const lines = (typeof text === 'string' ? text : '').split('\n').filter((l) => l !== '');
    const isFirst = !this.hasRead;
    this.hasRead = true;
    if (lines.length === 0) return { text: '', isWrapped: false }; // nothing to take; the anchor stays
    let from = 0;
    let isWrapped = !isFirst && this.anchor.length > 0;
    for (let n = this.anchor.length; n >= 1 && isWrapped; n--) {
      const at = lastIndexOfRun(lines, this.anchor.slice(this.anchor.length - n));
      if (at >= 0) {
        from = at + n;
        isWrapped = false;
      }
    }
    if (lines.length > 0) this.anchor = lines.slice(-ANCHOR_LINES);
    const fresh = lines.slice(from);
    return { text: fresh.length === 0 ? '' : `${fresh.join('\n')}\n`, isWrapped };
  }
}

/** The index where `run` last starts in `lines`, or -1. */
function lastIndexOfRun(lines: readonly string[], run: readonly string[]): number {
  for (let i = lines.length - run.length; i >= 0; i--) {
    let j = 0;
    while (j < run.length && lines[i + j] === run[j]) j++;
    if (j === run.length) return i;
  }
  return -1;
}
