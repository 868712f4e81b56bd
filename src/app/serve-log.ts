// What `lantop serve` says while it runs (issue 22, docs/service.md "Logs"): one line per event —
// started, a router lost or back, a quota crossing or block, an alert channel failing, a reload, the
// shutdown. Two formats:
//  - text (default, stderr, where every lantop command's diagnostics go and where scripts and
//    tests already read serve's lines): `warning: ROUTER: text`, `note: …`, `error: …`, and
//    `lantop serve: …` for its own start and stop. Under systemd (JOURNAL_STREAM names our
//    stream) each line starts with a syslog priority, `<4>warning: …`: journald strips it and files
//    the line at that priority (SyslogLevelPrefix=, on by default), so `journalctl -p warning`
//    works, with no journal library and nothing changed when run by hand.
//  - json (stdout: it is data): one object per line, {time, level, router, event, message}.
// Every text from a router or a peer is sanitised here, and a notice line printed in the last
// NOTICE_REPEAT_MS is not printed again (an enforcer repeats itself each check).
import type { Clock } from '../domain/clock.js';
import type { Notice } from '../domain/snapshot.js';
import { sanitizeText } from '../sanitize.js';

export type LogFormat = 'text' | 'json';
export const LOG_FORMATS: readonly LogFormat[] = ['text', 'json'];
export type LogLevel = Notice['level'];

/** Events of serve's own life; the rest are notices about routers, quotas and channels. */
export type LogEventName = 'listening' | 'reload' | 'stopping' | 'stopped' | 'router-down' | 'router-up' | 'notice' | 'report';
const LIFECYCLE: ReadonlySet<LogEventName> = new Set(['listening', 'reload', 'stopping', 'stopped']);

export interface LogEvent {
  level: LogLevel;
  event: LogEventName;
  /** The router's key (`HOST:PORT`), or null when the event is not about one router. */
  router: string | null;
  message: string;
}

export interface ServeLogger {
  readonly format: LogFormat;
  log(event: LogEvent): void;
  /** A notice (enforcer, alert channels, reports): deduplicated for NOTICE_REPEAT_MS. */
  notice(router: string | null, notice: Pick<Notice, 'level' | 'text'>, event?: LogEventName): void;
}

/** The same notice line again within this long is not printed again. */
export const NOTICE_REPEAT_MS = 10 * 60_000;
const WORDS: Readonly<Record<LogLevel, string>> = { info: 'note', warn: 'warning', error: 'error' };
/** syslog(3) priorities: LOG_ERR, LOG_WARNING, LOG_INFO. */
const PRIORITIES: Readonly<Record<LogLevel, number>> = { error: 3, warn: 4, info: 6 };

export interface ServeLoggerOptions {
  format: LogFormat;
  write(line: string): void;
  clock: Pick<Clock, 'now'>;
  /** Start each line with `<N>` (the stream is journald's: see isJournalStream). */
  hasPriorityPrefix?: boolean;
}

export function createServeLogger(options: ServeLoggerOptions): ServeLogger {
  const printedMs = new Map<string, number>();
  const line = (event: LogEvent, messageMax: number): { key: string; text: string } => {
    const router = event.router === null ? null : sanitizeText(event.router, 80);
    const message = sanitizeText(event.message, messageMax);
    const body =
      options.format === 'json'
        ? JSON.stringify({ time: new Date(options.clock.now()).toISOString(), level: event.level, router, event: event.event, message })
        : `${LIFECYCLE.has(event.event) && event.level === 'info' ? 'lantop serve' : WORDS[event.level]}: ${router === null ? '' : `${router}: `}${message}`;
    // The key leaves out the time, so a repeat is recognised in JSON too.
    const key = `${event.level}\u0000${event.event}\u0000${router ?? ''}\u0000${message}`;
    return { key, text: `${options.hasPriorityPrefix ? `<${PRIORITIES[event.level]}>` : ''}${body}\n` };
  };
  return {
    format: options.format,
    log(event) {
      options.write(line(event, 1000).text);
    },
    notice(router, notice, event = 'notice') {
      const now = options.clock.now();
      const { key, text } = line({ level: notice.level, event, router, message: notice.text }, 300);
      const last = printedMs.get(key);
      if (last !== undefined && now - last < NOTICE_REPEAT_MS) return;
      if (printedMs.size >= 200) for (const [k, at] of printedMs) if (now - at >= NOTICE_REPEAT_MS) printedMs.delete(k);
      printedMs.set(key, now);
      options.write(text);
    },
  };
}

/**
 * The enforcer's notices and the alert channels' reports as plain text lines (`warning: ROUTER:
 * text`), each once per NOTICE_REPEAT_MS: the text logger's notice().
 */
export function createNoticePrinter(write: (line: string) => void, clock: Pick<Clock, 'now'>): (source: string | null, notice: Pick<Notice, 'level' | 'text'>) => void {
  const logger = createServeLogger({ format: 'text', write, clock });
  return (source, notice) => logger.notice(source, notice);
}

/**
 * systemd sets JOURNAL_STREAM=DEVICE:INODE when stdout or stderr is a journal stream; the stream
 * we write to is journald's when its fstat() matches (a child that inherited the variable but
 * writes elsewhere does not match).
 */
export function isJournalStream(journalStream: string | undefined, stat: { dev: number | bigint; ino: number | bigint } | null): boolean {
  if (journalStream === undefined || stat === null) return false;
  const match = /^(\d+):(\d+)$/.exec(journalStream.trim());
  return match !== null && BigInt(match[1]!) === BigInt(stat.dev) && BigInt(match[2]!) === BigInt(stat.ino);
}
