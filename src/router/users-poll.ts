// One poll of users mode (issue 18) in one round trip: lantop's own login ($SSH_CONNECTION), the
// auth log's new bytes since the last offset, the live SSH sockets (`ss -tnpH state established`),
// the sshd process titles (`ps -eo pid=,args=`, to name a session whose log line was missed) and
// the users chain with its INPUT/OUTPUT jumps, per family. Pure: the command text and the answer
// split back into sections; app/users-mode.ts runs it.
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

export const AUTH_LOG_CANDIDATES = ['/var/log/auth.log', '/var/log/secure'] as const;
export type AuthLogPath = (typeof AUTH_LOG_CANDIDATES)[number];

export interface LogPosition {
  inode: number;
  offset: number;
}

export interface UsersPollRequest {
  nonce: string;
  /** null: no auth log found (sessions come from `ss` and the process titles alone). */
  logFile: AuthLogPath | null;
  /** null: first read (the whole file). */
  position: LogPosition | null;
  /** The listing command of each family (`iptables`, `ip6tables`); ip6tables null when absent. */
  iptables: string;
  ip6tables: string | null;
}

export interface UsersPollAnswer {
  /** `$SSH_CONNECTION` of lantop's own shell: `client_ip client_port server_ip server_port`, or ''. */
  selfConnection: string;
  /**
   * The log's new bytes: `continued` goes on from the last read (the same file, or the rest of the
   * rotated one); `restarted` is a file read from its start (first read, rotation, truncation), null
   * when none. `position` is where the next read starts (null: the file is not there).
   */
  log: { continued: string; restarted: string | null; position: LogPosition | null; isRotated: boolean } | null;
  ss: string;
  ps: string;
  listing4: string;
  listing6: string | null;
  /** The answer lacked a section (cut off, or not a shell): nothing in it can be trusted. */
  isComplete: boolean;
}

const NONCE = /^[0-9a-f]{12}$/;
const SECTIONS = ['self', 'stat', 'rotated', 'fresh', 'same', 'ss', 'ps', 'ipt4', 'ipt6', 'end'] as const;
type Section = (typeof SECTIONS)[number];

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

function listing(command: string): string {
  return `${command} -L INPUT -v -x -n --line-numbers 2>&1; ${command} -L OUTPUT -v -x -n --line-numbers 2>&1; ${command} -L LANTOP_USERS -v -x -n --line-numbers 2>/dev/null`;
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

function usersPollParts(request: UsersPollRequest): string[] {
  const { nonce } = request;
  if (!NONCE.test(nonce)) throw new TypeError('nonce: 12 hex digits');
  if (!/^[A-Za-z0-9_./-]+$/.test(request.iptables) || (request.ip6tables !== null && !/^[A-Za-z0-9_./-]+$/.test(request.ip6tables))) throw new TypeError('iptables: a plain command');
  const parts: string[] = [`${markerEcho(nonce, 'self')}; echo "$SSH_CONNECTION"`];
  if (request.logFile !== null) {
    if (!(AUTH_LOG_CANDIDATES as readonly string[]).includes(request.logFile)) throw new TypeError('logFile: not a known auth log');
    const f = request.logFile;
    const p = request.position;
    if (p !== null && (!isCount(p.inode) || !isCount(p.offset))) throw new TypeError('position: whole numbers');
    // inode 0 is never a file's: a first read always takes the "another inode" branch.
    const inode = p === null ? 0 : p.inode;
    const offset = p === null ? 0 : p.offset;
    parts.push(
      `_i=$(stat -L -c %i ${f} 2>/dev/null); _s=$(stat -L -c %s ${f} 2>/dev/null); ` +
      `${markerEcho(nonce, 'stat', ' $_i $_s')}; ` +
      `if [ -n "$_s" ] && [ "$_i" = ${inode} ] && [ "$_s" -ge ${offset} ]; then ${markerEcho(nonce, 'same')}; tail -c +${offset + 1} ${f} | head -c $((_s - ${offset})); ` +
        `elif [ -n "$_s" ]; then if [ ${inode} != 0 ] && [ "$_i" != ${inode} ] && [ "$(stat -L -c %i ${f}.1 2>/dev/null)" = ${inode} ]; then ${markerEcho(nonce, 'rotated')}; tail -c +${offset + 1} ${f}.1; fi; ${markerEcho(nonce, 'fresh')}; head -c "$_s" ${f}; fi`,
    );
  }
  parts.push(`${markerEcho(nonce, 'ss')}; ss -tnpH state established 2>&1`, `${markerEcho(nonce, 'ps')}; ps -eo pid=,args= 2>&1`);
  parts.push(`${markerEcho(nonce, 'ipt4')}; ${listing(request.iptables)}`);
  if (request.ip6tables !== null) parts.push(`${markerEcho(nonce, 'ipt6')}; ${listing(request.ip6tables)}`);
  parts.push(markerEcho(nonce, 'end'));
  return parts;
}

/** Per marker: the rest of its line and the text from the next line up to the next marker. */
function sectionsOf(text: string, nonce: string): Map<Section, { rest: string; body: string }> {
  const found: Array<{ name: Section; at: number; end: number }> = [];
  const pattern = new RegExp(`__LTUP_${nonce}_(${SECTIONS.join('|')})__`, 'g');
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
  const sections = sectionsOf(typeof text === 'string' ? text : '', request.nonce);
  const body = (name: Section) => sections.get(name)?.body ?? '';
  const isComplete = sections.has('self') && sections.has('ss') && sections.has('ipt4') && sections.has('end') && (request.ip6tables === null || sections.has('ipt6')) && (request.logFile === null || sections.has('stat'));
  let log: UsersPollAnswer['log'] = null;
  if (request.logFile !== null && sections.has('stat')) {
    const stat = /^ (\d{1,20}) (\d{1,20})$/.exec(sections.get('stat')!.rest);
    const inode = stat === null ? null : Number(stat[1]);
    const size = stat === null ? null : Number(stat[2]);
    const position = inode !== null && size !== null && isCount(inode) && isCount(size) ? { inode, offset: size } : null;
    log = sections.has('same')
      ? { continued: body('same'), restarted: null, position, isRotated: false }
      : { continued: body('rotated'), restarted: sections.has('fresh') ? body('fresh') : null, position, isRotated: sections.has('rotated') };
  }
  return {
    selfConnection: body('self').split('\n')[0]?.trim() ?? '',
    log,
    ss: body('ss'),
    ps: body('ps'),
    listing4: body('ipt4'),
    listing6: request.ip6tables === null ? null : body('ipt6'),
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
