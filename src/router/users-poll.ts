// One poll of users mode (issue 18) in one round trip: lantop's own login ($SSH_CONNECTION), the
// log's new lines (the auth log's bytes since the last offset, the journal after its cursor, or the
// ring buffer: users-log-sources.ts), the live SSH sockets (`ss -tnpH state established`, `netstat
// -tnp` where there is no ss: BusyBox), the sshd process titles (`ps -eo pid=,args=`, to name a
// session whose log line was missed) and the counting backend's listings (router/backends/
// users-backend.ts), each under its own section. Pure: the command text and the answer split back
// into sections; app/users-mode.ts runs it.
//
// The log is followed by position (inode + byte offset), as `tail -F` would, but statelessly:
//   same inode, size ≥ offset   →  the bytes from offset to the size stat saw (`tail -c +N | head -c`)
//   another inode               →  the rest of the old file, if `FILE.1` has its inode (logrotate
//                                  renamed it), then the new file from 0 to its size
//   same inode, size < offset   →  truncated (copytruncate): the file from 0
// A read may end inside a line that is still being written: the caller keeps that tail and puts it
// in front of the next read (LogFollower). Sizes and offsets are decimal integers lantop prints
// itself; the shell compares and subtracts them (POSIX `$(( ))`, 64-bit in dash and bash).
//
// Sections are cut at markers carrying a per-process nonce (node:crypto): log text cannot forge one,
// and a marker may follow log text on the same line (a read that ended inside a line).

import { isJournalCursor, journalCommand, logreadCommand, readJournalAnswer, AUTH_LOG_CANDIDATES, type AuthLogPath } from './users-log-sources.js';

export { AUTH_LOG_CANDIDATES, type AuthLogPath };

export interface LogPosition {
  inode: number;
  offset: number;
}

/** The log of this poll, where the last one left off. */
export type LogRequest =
  | { kind: 'file'; path: AuthLogPath; position: LogPosition | null }
  | { kind: 'journal'; cursor: string | null }
  | { kind: 'logread' };

export interface UsersPollRequest {
  nonce: string;
  /** null: no log found (sessions come from `ss` and the process titles alone). */
  log: LogRequest | null;
  /** The backend's listings, each answered under its section. */
  listings: ReadonlyArray<{ section: string; command: string }>;
}

export interface UsersPollAnswer {
  /** `$SSH_CONNECTION` of lantop's own shell: `client_ip client_port server_ip server_port`, or ''. */
  selfConnection: string;
  /**
   * The file's new bytes: `continued` goes on from the last read (the same file, or the rest of the
   * rotated one); `restarted` is a file read from its start (first read, rotation, truncation), null
   * when none. `position` is where the next read starts (null: the file is not there).
   */
  log: { continued: string; restarted: string | null; position: LogPosition | null; isRotated: boolean } | null;
  /** The journal's new entries and the cursor to go on from (null: none printed, or refused). */
  journal: { text: string; cursor: string | null; isCursorRefused: boolean } | null;
  /** The whole ring buffer's SSH lines (RingBufferFollower takes the new ones). */
  logread: string | null;
  ss: string;
  /** `netstat -tnp`'s answer on a gateway without ss; null where ss answered. */
  netstat: string | null;
  ps: string;
  /** Each listing's answer by section. */
  listings: Map<string, string>;
  /** The answer lacked a section (cut off, or not a shell): nothing in it can be trusted. */
  isComplete: boolean;
}

const NONCE = /^[0-9a-f]{12}$/;
const SECTIONS = ['self', 'stat', 'rotated', 'fresh', 'same', 'jrnl', 'logrd', 'ss', 'netstat', 'ps', 'end'] as const;
type Section = string;
const LISTING_SECTION = /^[a-z0-9]{1,8}$/;

function markerEcho(nonce: string, name: Section, extra = ''): string {
  // Split quotes: the echoed command line never matches the marker itself.
  return `echo "__LT""UP_${nonce}_${name}__${extra}"`;
}

function markerText(nonce: string, name: Section): string {
  return `__LTUP_${nonce}_${name}__`;
}

function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

/** The one shell line of a poll. */
export function usersPollCommand(request: UsersPollRequest): string {
  return usersPollParts(request).join('; ');
}

/**
 * The poll in as few lines as fit `maxLineBytes` (a shell that keeps short lines, BusyBox ash with
 * line editing: 1022): whole parts per line, the log's stat and read always in one. The answers,
 * joined by newlines in order, read as the one line's answer.
 */
export function usersPollCommands(request: UsersPollRequest, maxLineBytes: number): string[] {
  const lines: string[] = [];
  for (const part of usersPollParts(request)) {
    const last = lines.length - 1;
    if (last >= 0 && lines[last]!.length + 2 + part.length <= maxLineBytes) lines[last] += `; ${part}`;
    else lines.push(part);
  }
  return lines;
}

function checkListings(request: UsersPollRequest): void {
  const names = new Set<string>();
  for (const l of request.listings) {
    if (!LISTING_SECTION.test(l.section) || (SECTIONS as readonly string[]).includes(l.section) || names.has(l.section)) throw new TypeError('listing: a section name of its own');
    if (typeof l.command !== 'string' || l.command.includes('\n')) throw new TypeError('listing: one command line');
    names.add(l.section);
  }
}

function filePart(nonce: string, f: AuthLogPath, p: LogPosition | null): string {
  if (!(AUTH_LOG_CANDIDATES as readonly string[]).includes(f)) throw new TypeError('logFile: not a known auth log');
  if (p !== null && (!isCount(p.inode) || !isCount(p.offset))) throw new TypeError('position: whole numbers');
  // inode 0 is never a file's: a first read always takes the "another inode" branch.
  const inode = p === null ? 0 : p.inode;
  const offset = p === null ? 0 : p.offset;
  return (
    `_i=$(stat -L -c %i ${f} 2>/dev/null); _s=$(stat -L -c %s ${f} 2>/dev/null); ` +
    `${markerEcho(nonce, 'stat', ' $_i $_s')}; ` +
    `if [ -n "$_s" ] && [ "$_i" = ${inode} ] && [ "$_s" -ge ${offset} ]; then ${markerEcho(nonce, 'same')}; tail -c +${offset + 1} ${f} | head -c $((_s - ${offset})); ` +
      `elif [ -n "$_s" ]; then if [ ${inode} != 0 ] && [ "$_i" != ${inode} ] && [ "$(stat -L -c %i ${f}.1 2>/dev/null)" = ${inode} ]; then ${markerEcho(nonce, 'rotated')}; tail -c +${offset + 1} ${f}.1; fi; ${markerEcho(nonce, 'fresh')}; head -c "$_s" ${f}; fi`
  );
}

function usersPollParts(request: UsersPollRequest): string[] {
  const { nonce } = request;
  if (!NONCE.test(nonce)) throw new TypeError('nonce: 12 hex digits');
  checkListings(request);
  const parts: string[] = [`${markerEcho(nonce, 'self')}; echo "$SSH_CONNECTION"`];
  const log = request.log;
  if (log?.kind === 'file') parts.push(filePart(nonce, log.path, log.position));
  else if (log?.kind === 'journal') {
    if (log.cursor !== null && !isJournalCursor(log.cursor)) throw new TypeError('cursor: not a journal cursor');
    parts.push(`${markerEcho(nonce, 'jrnl')}; ${journalCommand(log.cursor)}`);
  } else if (log?.kind === 'logread') parts.push(`${markerEcho(nonce, 'logrd')}; ${logreadCommand()}`);
  else if (log !== null) throw new TypeError('log: not a known source');
  // BusyBox without ss (OpenWrt): netstat, under its own section.
  parts.push(`${markerEcho(nonce, 'ss')}; if command -v ss >/dev/null 2>&1; then ss -tnpH state established 2>&1; else ${markerEcho(nonce, 'netstat')}; { netstat -tnp 2>/dev/null || netstat -tn 2>&1; }; fi`, `${markerEcho(nonce, 'ps')}; ps -eo pid=,args= 2>&1`);
  for (const l of request.listings) parts.push(`${markerEcho(nonce, l.section)}; ${l.command}`);
  parts.push(markerEcho(nonce, 'end'));
  return parts;
}

/** Per marker: the rest of its line and the text from the next line up to the next marker. */
function sectionsOf(text: string, nonce: string, listings: readonly string[]): Map<Section, { rest: string; body: string }> {
  const found: Array<{ name: Section; at: number; end: number }> = [];
  const pattern = new RegExp(`__LTUP_${nonce}_(${[...SECTIONS, ...listings.filter((l) => LISTING_SECTION.test(l))].join('|')})__`, 'g');
  for (const m of text.matchAll(pattern)) found.push({ name: m[1] as Section, at: m.index, end: m.index + m[0].length });
  const out = new Map<Section, { rest: string; body: string }>();
  for (const [i, f] of found.entries()) {
    if (out.has(f.name)) continue; // only lantop's own echo can write a marker: a second one is ignored
    const next = found[i + 1]?.at ?? text.length;
    const lineEnd = text.indexOf('\n', f.end);
    const restEnd = lineEnd < 0 || lineEnd > next ? next : lineEnd;
    // The log's body is raw: the next marker may stand right after its last, unfinished line.
    out.set(f.name, { rest: text.slice(f.end, restEnd), body: text.slice(Math.min(restEnd + 1, next), next) });
  }
  return out;
}

/** Splits a poll's answer; `request` is the one the command was built from. */
export function parseUsersPollAnswer(text: string, request: UsersPollRequest): UsersPollAnswer {
  const names = request.listings.map((l) => l.section);
  const sections = sectionsOf(typeof text === 'string' ? text : '', request.nonce, names);
  const body = (name: Section) => sections.get(name)?.body ?? '';
  const kind = request.log?.kind ?? null;
  const hasLog = kind === null || sections.has(kind === 'file' ? 'stat' : kind === 'journal' ? 'jrnl' : 'logrd');
  const isComplete = sections.has('self') && sections.has('ss') && sections.has('end') && names.every((n) => sections.has(n)) && hasLog;
  let log: UsersPollAnswer['log'] = null;
  if (kind === 'file' && sections.has('stat')) {
    const stat = /^ (\d{1,20}) (\d{1,20})$/.exec(sections.get('stat')!.rest);
    const inode = stat === null ? null : Number(stat[1]);
    const size = stat === null ? null : Number(stat[2]);
    const position = inode !== null && size !== null && isCount(inode) && isCount(size) ? { inode, offset: size } : null;
    log = sections.has('same')
      ? { continued: body('same'), restarted: null, position, isRotated: false }
      : { continued: body('rotated'), restarted: sections.has('fresh') ? body('fresh') : null, position, isRotated: sections.has('rotated') };
  }
  const journalRead = kind === 'journal' && sections.has('jrnl') ? readJournalAnswer(body('jrnl')) : null;
  return {
    selfConnection: body('self').split('\n')[0]?.trim() ?? '',
    log,
    journal: journalRead === null ? null : { text: journalRead.text, cursor: journalRead.cursor, isCursorRefused: journalRead.isRefused },
    logread: kind === 'logread' && sections.has('logrd') ? body('logrd') : null,
    ss: body('ss'),
    netstat: sections.has('netstat') ? body('netstat') : null,
    ps: body('ps'),
    listings: new Map(names.map((n) => [n, body(n)])),
    isComplete,
  };
}

/** `$SSH_CONNECTION` → the client end (lantop's own socket as the gateway sees it); null when not SSH. */
export function selfEndpointOf(selfConnection: string): { ip: string; port: number } | null {
  const m = /^(\S{1,64}) (\d{1,5}) (\S{1,64}) (\d{1,5})$/.exec(selfConnection.trim());
  if (m === null) return null;
  const port = Number(m[2]);
  return port >= 1 && port <= 65535 ? { ip: m[1]!, port } : null;
}

/**
 * Complete lines of a log that is read in pieces: a piece's unfinished last line is held until the
 * next piece ends it (or a rotation shows it never will).
 */
export class LogFollower {
  private carry = '';

  /** The complete lines of `text` after what was held. */
  push(text: string): string {
    const all = this.carry + text;
    const cut = all.lastIndexOf('\n');
    if (cut < 0) {
      this.carry = all.length > 8192 ? '' : all;
      return '';
    }
    this.carry = all.slice(cut + 1);
    if (this.carry.length > 8192) this.carry = '';
    return all.slice(0, cut + 1);
  }

  /** A read of the log: what continues the last one, then a file from its start (the held line ends). */
  read(log: { continued: string; restarted: string | null }): string {
    let lines = this.push(log.continued);
    if (log.restarted !== null) {
      if (this.carry !== '') lines += `${this.carry}\n`;
      this.carry = '';
      lines += this.push(log.restarted);
    }
    return lines;
  }
}
