// SSH session lines of a Linux gateway's log (issue 18, "mode users"), in every header the log
// may carry (fixtures/linux-auth):
//   rsyslog traditional (/var/log/auth.log, /var/log/secure) and `journalctl -o short`:
//     Nov  8 18:24:06 dev-app-mg sshd-session[7345]: Accepted keyboard-interactive/pam for apprentice from 10.1.30.150 port 47376 ssh2
//   rsyslog RFC 3339 (RSYSLOG_FileFormat, Debian 12's default):
//     2024-01-02T03:04:05.123456+00:00 gw sshd[123]: Disconnected from user alice 192.0.2.7 port 50022
//   BusyBox syslogd with the facility (Alpine), OpenWrt `logread` (no host):
//     Apr  8 12:37:46 alpine authpriv.notice dropbear[2300]: Password auth succeeded for 'root' from 192.168.121.1:47834
//     Mon Sep 18 05:56:48 2017 authpriv.info dropbear[29286]: Exit (root) from <14.17.121.130:43422>: Disconnect received
//   `dropbear -E` (stderr):
//     [23791] Dec 04 18:28:31 Exit (root) from <::1:48432>: Exited normally
//
// Messages, from the daemons' format strings (openssh-portable auth.c, packet.c, serverloop.c;
// dropbear svr-auth*.c, svr-session.c): OpenSSH `Accepted METHOD for USER from IP port N ssh2[: …]`,
// `pam_unix(sshd:session): session closed for user USER`, `Disconnected from user USER IP port N`,
// `Received disconnect from IP port N:CODE: …`, `Connection closed|reset by [user USER ]IP port N`,
// `Timeout, client not responding from [user USER ]IP port N`; Dropbear `[PAM ]Password auth
// succeeded for 'USER' from ADDR`, `Pubkey auth succeeded for 'USER' with [TYPE ]key FP from ADDR`
// (the type since 2022.82), `Exit (USER)[ from <ADDR>]: …` (the address since 2020.79), where ADDR
// is `IP:PORT`, `[IPv6]:PORT` or, before the brackets, `IPv6:PORT`.
//
// Hostile input: OpenSSH writes the name a client *tried* verbatim into `Invalid user …` and
// `Failed … for invalid user …`, so a failed login can carry the text of an accepted one. A line
// counts only when the message *starts* with a session form right after the daemon's own
// `tag[PID]: ` at the position the header format fixes; preauth lines (`[preauth]`, `invalid
// user`, `authenticating user`) and partial successes never count. Names, addresses, ports and
// PIDs are validated (domain/login-name.ts, domain/ssh-sessions.ts) and a session line that fails
// is reported with its reason, never passed on. Never throws.
import { canonicalLoginName, loginNameProblem } from '../../domain/login-name.js';
import { canonicalClientAddress, isPid, isPort, type SshDaemon, type SshLogEvent } from '../../domain/ssh-sessions.js';

export type AuthLogLineResult =
  | { kind: 'event'; event: SshLogEvent }
  | { kind: 'skipped'; reason: string }
  | { kind: 'ignored' };

export interface AuthLogReport {
  events: SshLogEvent[];
  /** Session lines refused, with why (raw: sanitise before display). */
  skipped: Array<{ line: string; reason: string }>;
  /** Lines of other programs and sshd/dropbear lines that open or close no session. */
  ignored: number;
}

const MAX_LINE_LENGTH = 4096;
const MAX_SKIPPED = 500;
const MONTH = '(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
const TAG = String.raw`([A-Za-z0-9_./-]{1,64})\[([0-9]{1,10})\]: `;
const FACILITY = String.raw`(?:[a-z0-9]{1,12}\.[a-z]{1,8} )`;
const TRADITIONAL = new RegExp(String.raw`^(${MONTH} {1,2}[0-9]{1,2} [0-9]{2}:[0-9]{2}:[0-9]{2}) \S{1,255} ${FACILITY}?${TAG}`);
const RFC3339 = new RegExp(String.raw`^([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?(?:Z|[+-][0-9]{2}:?[0-9]{2})) \S{1,255} ${FACILITY}?${TAG}`);
const LOGREAD = new RegExp(String.raw`^((?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ${MONTH} {1,2}[0-9]{1,2} [0-9]{2}:[0-9]{2}:[0-9]{2} [0-9]{4}) ${FACILITY}${TAG}`);
const DROPBEAR_STDERR = new RegExp(String.raw`^\[([0-9]{1,10})\] (${MONTH} [0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}) `);
const TRADITIONAL_NO_HOST = new RegExp(String.raw`^(${MONTH} {1,2}[0-9]{1,2} [0-9]{2}:[0-9]{2}:[0-9]{2}) ${TAG}`);
const BARE = new RegExp(String.raw`^${TAG}`);

const ACCEPTED_START = /^Accepted [a-z0-9-]{1,40}(?:\/[a-z0-9-]{1,40})? for /;
const ACCEPTED = /^Accepted ([a-z0-9-]{1,40}(?:\/[a-z0-9-]{1,40})?) for (.+?) from (\S+) port (\S+) ssh2(?:$|: )/;
const PAM_CLOSED = /^pam_unix\(sshd:session\): session closed for user (.*)$/;
const DISCONNECTED_USER = /^Disconnected from user (.+) (\S+) port (\S+)$/;
const RECEIVED_DISCONNECT = /^Received disconnect from (\S+) port ([0-9]{1,5}):[0-9]{1,5}: /;
const CONNECTION_CLOSED = /^(?:Connection (?:closed|reset) by|Timeout, client not responding from) (?:user (\S+) )?(\S+) port ([0-9]{1,5})$/;
const DROPBEAR_PASSWORD = /^(?:PAM password|Password) auth succeeded for '(.*)' from (\S+)$/;
const DROPBEAR_BLANK = /^Auth succeeded with blank password for '(.*)' from (\S+)$/;
const DROPBEAR_PUBKEY = /^Pubkey auth succeeded for '(.*?)' with (?:\S+ )?key .+ from (\S+)$/;
const DROPBEAR_EXIT = /^Exit \(([^()]*)\)(?: from <([^<>]*)>)?: /;

interface Header {
  daemon: SshDaemon | null;
  pid: string;
  time: string | null;
  isRfc3339: boolean;
  message: string;
}

function daemonOf(tag: string): SshDaemon | null {
  const slash = tag.lastIndexOf('/');
  const name = slash >= 0 ? tag.slice(slash + 1) : tag;
  if (name === 'sshd' || name === 'sshd-session' || name === 'sshd-auth') return 'sshd';
  return name === 'dropbear' ? 'dropbear' : null;
}

/** The daemon, PID and message at the position the header format fixes; null for any other line. */
function readHeader(line: string): Header | null {
  let m = TRADITIONAL.exec(line);
  let isRfc3339 = false;
  if (m === null) {
    m = RFC3339.exec(line);
    isRfc3339 = m !== null;
  }
  if (m === null) m = LOGREAD.exec(line);
  if (m === null) m = TRADITIONAL_NO_HOST.exec(line); // a syslogd that writes no host
  if (m !== null) return { daemon: daemonOf(m[2]!), pid: m[3]!, time: m[1]!, isRfc3339, message: line.slice(m[0].length) };
  m = DROPBEAR_STDERR.exec(line);
  if (m !== null) return { daemon: 'dropbear', pid: m[1]!, time: m[2]!, isRfc3339: false, message: line.slice(m[0].length) };
  m = BARE.exec(line);
  if (m !== null) return { daemon: daemonOf(m[1]!), pid: m[2]!, time: null, isRfc3339: false, message: line.slice(m[0].length) };
  return null;
}

function rfc3339Ms(text: string): number | null {
  // `+0000` (journalctl short-iso) → `+00:00`, which Date.parse reads.
  const normalised = /[+-][0-9]{4}$/.test(text) ? `${text.slice(0, -2)}:${text.slice(-2)}` : text;
  const ms = Date.parse(normalised);
  return Number.isFinite(ms) ? ms : null;
}

function parsePort(text: string): number | null {
  if (!/^[0-9]{1,5}$/.test(text)) return null;
  const port = Number(text);
  return isPort(port) ? port : null;
}

/** Dropbear's `IP:PORT`, `[IPv6]:PORT` or `IPv6:PORT` (before the brackets): split at the last ':'. */
function splitHostPort(text: string): { host: string; port: string } | null {
  if (text.startsWith('[')) {
    const close = text.indexOf(']:');
    return close < 0 ? null : { host: text.slice(1, close), port: text.slice(close + 2) };
  }
  const colon = text.lastIndexOf(':');
  return colon <= 0 ? null : { host: text.slice(0, colon), port: text.slice(colon + 1) };
}

type Draft = { kind: SshLogEvent['kind']; user: string | null; ip: string | null; port: string | null } | 'ignored' | string;

function readSshdMessage(message: string): Draft {
  if (ACCEPTED_START.test(message)) {
    const m = ACCEPTED.exec(message);
    return m === null ? 'unreadable accepted line' : { kind: 'accepted', user: m[2]!, ip: m[3]!, port: m[4]! };
  }
  let m = PAM_CLOSED.exec(message);
  if (m !== null) return { kind: 'closed', user: m[1]!, ip: null, port: null };
  if (message.endsWith(' [preauth]')) return 'ignored';
  m = DISCONNECTED_USER.exec(message);
  if (m !== null) return { kind: 'disconnected', user: m[1]!, ip: m[2]!, port: m[3]! };
  m = RECEIVED_DISCONNECT.exec(message);
  if (m !== null) return { kind: 'disconnected', user: null, ip: m[1]!, port: m[2]! };
  m = CONNECTION_CLOSED.exec(message);
  if (m !== null) return { kind: 'disconnected', user: m[1] ?? null, ip: m[2]!, port: m[3]! };
  return 'ignored';
}

function readDropbearMessage(message: string): Draft {
  if (message.endsWith(', extra auth required')) return 'ignored'; // one factor of two: no session yet
  const m = DROPBEAR_PASSWORD.exec(message) ?? DROPBEAR_BLANK.exec(message) ?? DROPBEAR_PUBKEY.exec(message);
  if (m !== null) {
    const address = splitHostPort(m[2]!);
    return address === null ? 'address: unreadable' : { kind: 'accepted', user: m[1]!, ip: address.host, port: address.port };
  }
  if (/^(?:PAM password |Password |Pubkey )auth succeeded for /.test(message)) return 'unreadable accepted line';
  if (!message.startsWith('Exit (')) return 'ignored';
  const exit = DROPBEAR_EXIT.exec(message);
  if (exit === null) return 'unreadable exit line';
  if (exit[2] === undefined) return { kind: 'closed', user: exit[1]!, ip: null, port: null };
  const address = splitHostPort(exit[2]);
  return address === null ? 'address: unreadable' : { kind: 'closed', user: exit[1]!, ip: address.host, port: address.port };
}

/** One line of the log: a session event, a session line refused (with why), or any other line. */
export function parseAuthLogLine(rawLine: string): AuthLogLineResult {
  if (typeof rawLine !== 'string') return { kind: 'ignored' };
  const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
  if (line.length > MAX_LINE_LENGTH) {
    return /\b(?:sshd(?:-session)?|dropbear)\[/.test(line.slice(0, 512)) ? { kind: 'skipped', reason: 'line too long' } : { kind: 'ignored' };
  }
  const header = readHeader(line);
  if (header === null || header.daemon === null) return { kind: 'ignored' };
  const draft = header.daemon === 'sshd' ? readSshdMessage(header.message) : readDropbearMessage(header.message);
  if (draft === 'ignored') return { kind: 'ignored' };
  if (typeof draft === 'string') return { kind: 'skipped', reason: draft };
  const pid = Number(header.pid);
  if (!isPid(pid)) return { kind: 'skipped', reason: 'pid: out of range' };
  let user: string | null = null;
  if (draft.user !== null) {
    user = canonicalLoginName(draft.user);
    if (user === null) return { kind: 'skipped', reason: `user name: ${loginNameProblem(draft.user)}` };
  }
  let ip: string | null = null;
  let port: number | null = null;
  if (draft.ip !== null) {
    ip = canonicalClientAddress(draft.ip);
    if (ip === null) return { kind: 'skipped', reason: 'address: not an IP address' };
    port = parsePort(draft.port ?? '');
    if (port === null) return { kind: 'skipped', reason: 'port: not 1-65535' };
  }
  const time = header.time;
  const timeMs = header.isRfc3339 && time !== null ? rfc3339Ms(time) : null;
  return { kind: 'event', event: { kind: draft.kind, daemon: header.daemon, pid, user, ip, port, time, timeMs } };
}

/** Every line of a log excerpt (auth.log, /var/log/secure, journalctl, logread, dropbear -E). */
export function parseAuthLog(text: string): AuthLogReport {
  const report: AuthLogReport = { events: [], skipped: [], ignored: 0 };
  if (typeof text !== 'string') return report;
  for (const line of text.split('\n')) {
    if (line === '' || line === '\r') continue;
    const result = parseAuthLogLine(line);
    if (result.kind === 'event') report.events.push(result.event);
    else if (result.kind === 'ignored') report.ignored++;
    else if (report.skipped.length < MAX_SKIPPED) report.skipped.push({ line: line.length > 512 ? line.slice(0, 512) : line, reason: result.reason });
  }
  return report;
}
