// Live SSH sessions of a Linux gateway (issue 18): the sockets, the logins and the process titles
// that let the session tracker (domain/ssh-sessions.ts) catch a session whose log line was missed.
//
// `ss -tnp` (iproute2; fixtures/linux-auth/lantop-capture, captured with Dropbear 2022.83):
//   State Recv-Q Send-Q Local Address:Port  Peer Address:Port Process
//   ESTAB 0      0          127.0.0.1:22       127.0.0.1:56992 users:(("dropbear",pid=27814,fd=5))
// `ss -tnpH state established '( sport = :22 )'` (no header, no State column):
//   0      0          [::1]:22     [::1]:40290 users:(("dropbear",pid=27839,fd=5))
// OpenSSH's socket is held by the monitor and the session child: `users:(("sshd",pid=A,fd=4),("sshd",pid=B,fd=4))`
// (`sshd-session` since OpenSSH 9.8). IPv6 is bracketed (`[::ffff:192.0.2.7]:22`), an interface
// zone (`%eth0`) refused; `ss` before iproute2 4.x printed IPv6 without brackets: split at the last ':'.
//
// `who` / `who -u` (coreutils 9.1, same capture):
//   root     pts/2        2026-12-04 18:28 (127.0.0.1)
//   root     pts/2        2026-12-04 18:28   .         27815 (127.0.0.1)
// Only pty sessions are in utmp: a tunnel-only login (`ssh -N -D`) never appears in `who`.
//
// `ps -eo pid=,args=` titles OpenSSH gives its processes (openssh-portable sshd-session.c,
// monitor.c `"%s [priv]"`; sshd-session.c `"%s [postauth]"`; session.c `"%s"`, `"%s@%s"` with the
// ttys, `notty` or `internal-sftp`):
//   2345 sshd: alice [priv]
//   2351 sshd: alice@pts/0
// Process names, user names and hosts are hostile: only sshd/sshd-session/dropbear sockets count,
// names pass the login-name rule, addresses the one address parser. Never throws.
import { canonicalLoginName } from '../../domain/login-name.js';
import { canonicalClientAddress, isPid, isPort, type LiveSshConnection, type SshDaemon, type SshProcessOwner, type WhoLogin } from '../../domain/ssh-sessions.js';

export interface SsSessionsReport {
  connections: LiveSshConnection[];
  /** Lines that are neither a header nor a socket row (raw: sanitise before display). */
  skipped: string[];
}

export interface WhoReport {
  logins: WhoLogin[];
  skipped: string[];
}

export interface PsOwnersReport {
  owners: SshProcessOwner[];
}

const MAX_LINE_LENGTH = 4096;
const MAX_SKIPPED = 200;
const COUNTER = /^[0-9]{1,12}$/;
const TCP_STATE = /^[A-Z][A-Z0-9-]{1,15}$/;
const USER_ENTRY = /\("((?:[^"\\]|\\.){0,64})",pid=([0-9]{1,10}),fd=[0-9]{1,10}\)/g;

function daemonOfProcess(name: string): SshDaemon | null {
  if (name === 'sshd' || name === 'sshd-session') return 'sshd';
  return name === 'dropbear' ? 'dropbear' : null;
}

/** `127.0.0.1:22`, `[::1]:22`, or the old unbracketed `::1:22`; null for `*:*`, zones, junk. */
function readEndpoint(text: string): { ip: string; port: number } | null {
  let host: string;
  let portText: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']:');
    if (close < 0) return null;
    host = text.slice(1, close);
    portText = text.slice(close + 2);
  } else {
    const colon = text.lastIndexOf(':');
    if (colon <= 0) return null;
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
  }
  if (!/^[0-9]{1,5}$/.test(portText)) return null;
  const port = Number(portText);
  const ip = canonicalClientAddress(host);
  return ip !== null && isPort(port) ? { ip, port } : null;
}

/**
 * Established sockets of sshd/dropbear from `ss -tnp` (any of the layouts above). Rows of other
 * programs and of other states are left out without a report; unreadable rows are skipped.
 */
export function parseSsSessions(text: string): SsSessionsReport {
  const report: SsSessionsReport = { connections: [], skipped: [] };
  if (typeof text !== 'string') return report;
  for (const rawLine of text.split('\n')) {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (line.trim() === '') continue;
    if (/^\s*(?:Netid\s+)?(?:State\s+)?Recv-Q\s/.test(line)) continue; // the header
    const usersAt = line.indexOf(' users:((');
    const head = (usersAt < 0 ? line : line.slice(0, usersAt)).trim().split(/\s+/);
    if (line.length > MAX_LINE_LENGTH || head.length < 4) {
      if (report.skipped.length < MAX_SKIPPED) report.skipped.push(line);
      continue;
    }
    let i = 0;
    if (head[i] === 'tcp') i++; // a Netid column (ss -anp)
    let state = 'ESTAB'; // `state established` omits the column
    if (TCP_STATE.test(head[i]!)) state = head[i++]!;
    const recvQ = head[i];
    const sendQ = head[i + 1];
    const local = head[i + 2] === undefined ? null : readEndpoint(head[i + 2]!);
    const peer = head[i + 3] === undefined ? null : readEndpoint(head[i + 3]!);
    if (recvQ === undefined || sendQ === undefined || !COUNTER.test(recvQ) || !COUNTER.test(sendQ) || head.length !== i + 4) {
      if (report.skipped.length < MAX_SKIPPED) report.skipped.push(line);
      continue;
    }
    if (state !== 'ESTAB' || usersAt < 0 || local === null || peer === null) continue; // listeners, closing sockets, no process
    let daemon: SshDaemon | null = null;
    let mixed = false;
    const pids: number[] = [];
    for (const m of line.slice(usersAt).matchAll(USER_ENTRY)) {
      const d = daemonOfProcess(m[1]!);
      const pid = Number(m[2]);
      if (d === null || !isPid(pid)) {
        mixed = true; // another program holds this socket too: not a session socket of the daemon
        continue;
      }
      if (daemon !== null && d !== daemon) mixed = true;
      daemon = d;
      if (!pids.includes(pid)) pids.push(pid);
    }
    if (daemon === null || mixed) continue;
    pids.sort((a, b) => a - b);
    report.connections.push({ daemon, pids, localIp: local.ip, localPort: local.port, peerIp: peer.ip, peerPort: peer.port });
  }
  return report;
}

const WHO_ROW = /^(\S{1,64})\s+(\S{1,32})\s+([0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}|[A-Z][a-z]{2} {1,2}[0-9]{1,2} [0-9]{2}:[0-9]{2})(?:\s+(\.|old|[0-9]{2}:[0-9]{2})\s+([0-9]{1,10}))?(?:\s+\(([^()]*)\))?\s*$/;
const TTY = /^(?:pts\/[0-9]{1,6}|tty[A-Za-z0-9]{0,8}|console|:[0-9]{1,4})$/;

/** `who` or `who -u`: logins with a remote address where the host column holds one. */
export function parseWho(text: string): WhoReport {
  const report: WhoReport = { logins: [], skipped: [] };
  if (typeof text !== 'string') return report;
  for (const rawLine of text.split('\n')) {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (line.trim() === '') continue;
    const m = line.length > MAX_LINE_LENGTH ? null : WHO_ROW.exec(line);
    const user = m === null ? null : canonicalLoginName(m[1]);
    if (m === null || user === null || !TTY.test(m[2]!)) {
      if (report.skipped.length < MAX_SKIPPED) report.skipped.push(line);
      continue;
    }
    const pid = m[5] === undefined ? null : Number(m[5]);
    const host = m[6] === undefined ? null : canonicalClientAddress(m[6]);
    report.logins.push({ user, tty: m[2]!, host, pid: pid !== null && isPid(pid) ? pid : null });
  }
  return report;
}

const PS_SSHD_TITLE = /^\s*([0-9]{1,10})\s+sshd(?:-session)?: (\S{1,64}?)( \[priv\]| \[postauth\]|@(?:pts\/[0-9]{1,6}|notty|internal-sftp)|)$/;

/**
 * Users of OpenSSH session processes from `ps -eo pid=,args=`. Other lines (the listener
 * `sshd: /usr/sbin/sshd -D [listener] …`, `[net]`/`[preauth]` children, other programs) say
 * nothing here and are passed over. Titles are settable by any process of that user, so the
 * tracker takes them only for PIDs that hold an sshd socket.
 */
export function parsePsSshdOwners(text: string): PsOwnersReport {
  const report: PsOwnersReport = { owners: [] };
  if (typeof text !== 'string') return report;
  for (const line of text.split('\n')) {
    if (line.length > MAX_LINE_LENGTH) continue;
    const m = PS_SSHD_TITLE.exec(line.endsWith('\r') ? line.slice(0, -1) : line);
    if (m === null) continue;
    const pid = Number(m[1]);
    const user = canonicalLoginName(m[2]);
    // `unknown [priv]` is OpenSSH's title for a login that has no account yet, not a user.
    if (!isPid(pid) || user === null || user === 'unknown') continue;
    report.owners.push({ pid, user, isMonitor: m[3] === ' [priv]' });
  }
  return report;
}
