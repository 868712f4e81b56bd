// Deny over quota (issue 18): a user over quota is kept from logging in again by sshd's own
// `DenyUsers`, written where sshd reads it and nowhere else. Pure: which file, what it says, what a
// file on the gateway says back.
//
// Where: a drop-in, /etc/ssh/sshd_config.d/lantop-deny.conf, when sshd_config includes that
// directory (Debian and Ubuntu ship `Include /etc/ssh/sshd_config.d/*.conf` as its first line);
// otherwise a marked block at the top of sshd_config itself. At the top: after a `Match` line every
// keyword is conditional, and sshd_config's own lines are not ours to reorder. DenyUsers lines add
// up (servconf.c appends each one's names), so ours adds to an owner's DenyUsers, never replaces it.
//
// What: one comment line per denied user with its expiry (the file is the state: a deny outlives
// lantop, and another lantop reads it back), then one DenyUsers line. Names are login names that
// passed domain/login-name.ts, so none holds a pattern character (`*`, `?`, `!`, `,`, `@`) sshd
// would read as more than the one user.

import { canonicalLoginName } from './login-name.js';

export const DENY_DROP_IN_DIR = '/etc/ssh/sshd_config.d';
export const DENY_DROP_IN = `${DENY_DROP_IN_DIR}/lantop-deny.conf`;
export const SSHD_CONFIG = '/etc/ssh/sshd_config';
export const BLOCK_BEGIN = '# >>> lantop deny (managed by lantop: `lantop --mode users unblock --all` removes it)';
export const BLOCK_END = '# <<< lantop deny';
const HEADER = '# Written by lantop (deny over quota, users mode). Lift every deny: lantop --mode users unblock --all';

/** A user lantop denies: until when (ms; whole seconds on the gateway), since when. */
export interface DenyEntry {
  user: string;
  untilMs: number;
  sinceMs: number;
}

/** Where the deny goes on this gateway. */
export type DenyPlace = 'drop-in' | 'block';

const ENTRY = /^# lantop-deny user=(\S+) until=(\d{1,12}) since=(\d{1,12})$/;

/** The lines that hold `entries` (none: nothing, the file or block goes away). */
export function denyLines(entries: readonly DenyEntry[]): string[] {
  if (entries.length === 0) return [];
  const users: string[] = [];
  const lines = [HEADER];
  for (const e of [...entries].sort((a, b) => a.user.localeCompare(b.user))) {
    const user = canonicalLoginName(e.user);
    if (user === null) throw new TypeError(`not a login name: ${JSON.stringify(e.user).slice(0, 40)}`);
    if (!Number.isSafeInteger(e.untilMs) || !Number.isSafeInteger(e.sinceMs)) throw new TypeError('deny times: whole ms');
    lines.push(`# lantop-deny user=${user} until=${Math.ceil(e.untilMs / 1000)} since=${Math.floor(e.sinceMs / 1000)}`);
    users.push(user);
  }
  lines.push(`DenyUsers ${users.join(' ')}`);
  return lines;
}

/** lantop's deny entries in a drop-in or block; `notes`: lines it did not write (display-safe). */
export function parseDenyLines(text: string): { entries: DenyEntry[]; notes: string[] } {
  const entries: DenyEntry[] = [];
  const notes: string[] = [];
  let denied: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '').trim();
    if (line === '' || line === HEADER || line === BLOCK_BEGIN || line === BLOCK_END) continue;
    const m = ENTRY.exec(line);
    if (m) {
      const user = canonicalLoginName(m[1]);
      if (user === null) notes.push('a deny entry names no valid login name: left out');
      else if (!entries.some((e) => e.user === user)) entries.push({ user, untilMs: Number(m[2]) * 1000, sinceMs: Number(m[3]) * 1000 });
      continue;
    }
    if (/^DenyUsers\s/i.test(line)) {
      denied = line.split(/\s+/).slice(1);
      continue;
    }
    notes.push('the deny file has a line lantop did not write: it is dropped on the next change');
  }
  const listed = new Set(denied);
  const missing = entries.filter((e) => !listed.has(e.user));
  if (missing.length > 0) notes.push(`${missing.length} deny entr${missing.length === 1 ? 'y is' : 'ies are'} not on the DenyUsers line: written again on the next change`);
  return { entries, notes: [...new Set(notes)] };
}

/** Entries past their expiry at `nowMs`, and the rest. */
export function splitExpired(entries: readonly DenyEntry[], nowMs: number): { left: DenyEntry[]; expired: DenyEntry[] } {
  return { left: entries.filter((e) => e.untilMs > nowMs), expired: entries.filter((e) => e.untilMs <= nowMs) };
}

/** `entries` with `user` denied until `untilMs` (a deny of the same user is replaced). */
export function withDeny(entries: readonly DenyEntry[], entry: DenyEntry): DenyEntry[] {
  return [...entries.filter((e) => e.user !== entry.user), entry];
}

/** sshd_config's words of a line: the keyword and its arguments (quotes kept simple: sshd's argv_split for plain words). */
function words(line: string): string[] {
  const t = line.replace(/#.*$/, '').trim();
  return t === '' ? [] : t.split(/[\s=]+/).filter(Boolean);
}

/** fnmatch for Include's globs: `*` and `?` within one path part, `[…]` not used by lantop's check. */
function globMatches(glob: string, path: string): boolean {
  const re = new RegExp('^' + glob.split('').map((c) => (c === '*' ? '[^/]*' : c === '?' ? '[^/]' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('') + '$');
  return re.test(path);
}

/**
 * Whether sshd reads the drop-in: an `Include` before any `Match` whose glob names it (relative
 * paths are relative to /etc/ssh, as sshd reads them).
 */
export function includesDropIn(sshdConfig: string): boolean {
  for (const line of sshdConfig.split('\n')) {
    const [keyword, ...args] = words(line);
    if (keyword === undefined) continue;
    const k = keyword.toLowerCase();
    if (k === 'match') return false;
    if (k !== 'include') continue;
    for (const arg of args) {
      const path = arg.startsWith('/') ? arg : `/etc/ssh/${arg}`;
      if (globMatches(path, DENY_DROP_IN)) return true;
    }
  }
  return false;
}

/** lantop's block in sshd_config (its lines between the markers), or null when there is none. */
export function markedBlockOf(sshdConfig: string): string | null {
  const lines = sshdConfig.split('\n');
  const begin = lines.indexOf(BLOCK_BEGIN);
  if (begin < 0) return null;
  const end = lines.indexOf(BLOCK_END, begin + 1);
  return lines.slice(begin + 1, end < 0 ? lines.length : end).join('\n');
}

/** Never denied: the user lantop logs in as (it would lock lantop out of lifting the deny), and root. */
export function denyRefusal(user: string, selfUser: string | null): string | null {
  if (canonicalLoginName(user) === null) return `"${user.slice(0, 40)}" is not a login name lantop can deny`;
  if (selfUser !== null && user === selfUser) return `${user} is the user lantop logs in to the gateway as: never denied (lantop could not lift the deny)`;
  if (user === 'root') return 'root is never denied: the gateway\'s owner must always be able to log in';
  return null;
}
