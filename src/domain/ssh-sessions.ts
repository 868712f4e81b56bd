// SSH sessions on a Linux gateway (issue 18, "mode users"): which sessions must be counted, from
// what the gateway's log says and what its socket table shows. Pure and deterministic; time is
// passed in. The parsers (router/parsers/auth-log.ts, ss-sessions.ts) produce the records below.
//
// One TCP connection is one session, keyed by the client's address and port: OpenSSH logs the
// accept and the PAM close from the privileged monitor's PID but "Received disconnect" /
// "Disconnected from user" from the session child's PID (seen in the RHEL 9 and Proxmox captures,
// fixtures/linux-auth), so only the endpoint ties every line of a session together.
//
// The rules, as issue 18 asks:
// - an accepted line adds a session; a close, exit or disconnect line for it removes it. The
//   endpoint is remembered: still ESTAB at the next check is the moment between the line and the
//   socket's end, but still ESTAB for `missesToDrop` checks means the line lied (anyone who may
//   call logger(1) can write `sshd[PID]: …` into auth.log) and the session comes back;
// - a connection of sshd/dropbear in `ss` that no line announced (rotation, lantop restarted) is
//   added when its user is known from the process titles (`sshd: USER [priv]`) or, for a pty
//   session, from `who`; otherwise it is returned as unattributed, never guessed;
// - a session absent from `ss` for `missesToDrop` (2) consecutive checks is dropped (a missed
//   close line);
// - after a restart, sessions come back from the rule comments (`pid:PID user:USER`).
import { parseAddress } from './address.js';
import { canonicalLoginName } from './login-name.js';

export type SshDaemon = 'sshd' | 'dropbear';
export type SshLogEventKind = 'accepted' | 'closed' | 'disconnected';

/** One session line of the log. accepted always has user, ip and port; the others may lack them. */
export interface SshLogEvent {
  kind: SshLogEventKind;
  daemon: SshDaemon;
  pid: number;
  user: string | null;
  /** Canonical, IPv4-mapped IPv6 written as IPv4 (canonicalClientAddress). */
  ip: string | null;
  port: number | null;
  /** The line's timestamp as printed (null when it had none). */
  time: string | null;
  /** Milliseconds since the epoch when the timestamp had a year and a zone (RFC 3339), else null. */
  timeMs: number | null;
}

/** An established TCP connection of an SSH daemon, as `ss -tnp` shows it. */
export interface LiveSshConnection {
  daemon: SshDaemon;
  /** Every process holding the socket (sshd: the monitor and the session child). */
  pids: number[];
  localIp: string;
  localPort: number;
  peerIp: string;
  peerPort: number;
}

/** A process title naming its user: OpenSSH's `sshd: USER [priv]` (monitor) or `sshd: USER@pts/0`. */
export interface SshProcessOwner {
  pid: number;
  user: string;
  isMonitor: boolean;
}

/** A line of `who`: a login on a terminal, from a host when remote. */
export interface WhoLogin {
  user: string;
  tty: string;
  /** Canonical client address when the host column is one, else null (a display, a name). */
  host: string | null;
  /** `who -u` only: the login process (for Dropbear the pty child, not the connection's PID). */
  pid: number | null;
}

export interface SshSession {
  id: string;
  user: string;
  pid: number;
  clientIp: string;
  clientPort: number;
  daemon: SshDaemon;
  /** When lantop learnt of the session (the `nowMs` of that call), for its first minute. */
  firstSeenMs: number;
}

export type SessionEndReason = 'closed' | 'disconnected' | 'absent' | 'replaced';

export interface SessionChanges {
  added: SshSession[];
  removed: Array<{ session: SshSession; reason: SessionEndReason }>;
}

export interface ReconcileResult extends SessionChanges {
  /** Live connections no line announced and no process title or `who` line names a user for. */
  unattributed: LiveSshConnection[];
}

export interface SessionAttribution {
  processOwners?: readonly SshProcessOwner[];
  logins?: readonly WhoLogin[];
}

export interface SshSessionTrackerOptions {
  /** Consecutive checks a session may be missing from `ss` before it is dropped (default 2). */
  missesToDrop?: number;
  /**
   * Only connections to these local ports count (sshd's Port lines; default 22). A session's own
   * forwarded connections (`ssh -L`/`-D`) belong to the same process but have other local ports.
   */
  sshPorts?: readonly number[];
}

/** Linux's PID_MAX_LIMIT (2^22). */
export const MAX_PID = 4_194_304;

export function isPid(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 && value <= MAX_PID;
}

export function isPort(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65535;
}

/**
 * The canonical client address, or null. IPv4-mapped IPv6 (`::ffff:10.0.0.100`, as Dropbear and
 * `ss` print a v4 client of a dual-stack socket) becomes IPv4: the packets, and so the IPv4 rules,
 * carry the IPv4 address.
 */
export function canonicalClientAddress(text: string): string | null {
  const address = parseAddress(text);
  if (address === null) return null;
  if (address.family === 6 && address.text.startsWith('::ffff:') && address.text.includes('.')) return address.text.slice(7);
  return address.text;
}

const SESSION_TAG = /^pid:([1-9][0-9]{0,6}) user:(\S{1,32})$/;

/** The rule comment of a session (`pid:PID user:USER`, the write-up), or null if invalid. */
export function formatSessionTag(session: { pid: number; user: string }): string | null {
  if (!isPid(session.pid) || canonicalLoginName(session.user) === null) return null;
  return `pid:${session.pid} user:${session.user}`;
}

/** Reads a rule comment written by formatSessionTag: exactly that form, else null. */
export function parseSessionTag(text: string): { pid: number; user: string } | null {
  if (typeof text !== 'string' || text.length > 48) return null;
  const m = SESSION_TAG.exec(text);
  if (m === null) return null;
  const pid = Number(m[1]);
  const user = canonicalLoginName(m[2]);
  return isPid(pid) && user !== null ? { pid, user } : null;
}

function endpointKey(ip: string, port: number): string {
  return `${ip}|${port}`;
}

function makeSession(daemon: SshDaemon, pid: number, user: string, clientIp: string, clientPort: number, firstSeenMs: number): SshSession {
  return { id: `${pid}/${clientIp}/${clientPort}`, user, pid, clientIp, clientPort, daemon, firstSeenMs };
}

interface Entry {
  session: SshSession;
  misses: number;
}

/** A candidate session from untrusted input, validated; null when any field is not acceptable. */
function validSession(daemon: unknown, pid: unknown, user: unknown, ip: unknown, port: unknown, nowMs: number): SshSession | null {
  if ((daemon !== 'sshd' && daemon !== 'dropbear') || !isPid(pid) || !isPort(port) || typeof ip !== 'string') return null;
  const name = canonicalLoginName(user);
  const address = canonicalClientAddress(ip);
  return name === null || address === null ? null : makeSession(daemon, pid, name, address, port, nowMs);
}

export class SshSessionTracker {
  private readonly entries = new Map<string, Entry>();
  /** Endpoints whose end a line announced: the session (when known) and the checks it stayed live. */
  private readonly ended = new Map<string, { session: SshSession | null; sightings: number }>();
  private readonly missesToDrop: number;
  private readonly sshPorts: ReadonlySet<number>;

  constructor(options: SshSessionTrackerOptions = {}) {
    this.missesToDrop = Math.max(1, Math.floor(options.missesToDrop ?? 2));
    this.sshPorts = new Set((options.sshPorts ?? [22]).filter(isPort));
  }

  /** The sessions that must have rules, in id order. */
  sessions(): SshSession[] {
    return [...this.entries.values()].map((e) => e.session).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Applies log events in order. */
  apply(events: readonly SshLogEvent[], nowMs: number): SessionChanges {
    const changes: SessionChanges = { added: [], removed: [] };
    for (const event of events) {
      if (event.kind === 'accepted') this.accept(event, nowMs, changes);
      else this.end(event, changes);
    }
    return changes;
  }

  /** Sessions recovered from rule comments after a restart (address and port from the rule itself). */
  restore(tagged: ReadonlyArray<{ pid: number; user: string; clientIp: string; clientPort: number; daemon?: SshDaemon }>, nowMs: number): SessionChanges {
    const changes: SessionChanges = { added: [], removed: [] };
    for (const t of tagged) {
      const session = validSession(t.daemon ?? 'sshd', t.pid, t.user, t.clientIp, t.clientPort, nowMs);
      if (session === null) continue;
      const key = endpointKey(session.clientIp, session.clientPort);
      if (this.entries.has(key)) continue;
      this.entries.set(key, { session, misses: 0 });
      changes.added.push(session);
    }
    return changes;
  }

  /** One periodic check against the live connections (`ss`), with what names their users. */
  reconcile(live: readonly LiveSshConnection[], nowMs: number, attribution: SessionAttribution = {}): ReconcileResult {
    const result: ReconcileResult = { added: [], removed: [], unattributed: [] };
    const seen = new Set<string>();
    // Every live connection per address, tracked ones included: `who` names a pty's user by
    // address only, so it may name a connection only when that address has no other.
    const connectionsPerIp = new Map<string, number>();
    const candidates: Array<{ key: string; conn: LiveSshConnection; ip: string }> = [];
    for (const conn of live) {
      if (!this.sshPorts.has(conn.localPort)) continue;
      const ip = canonicalClientAddress(conn.peerIp);
      if (ip === null || !isPort(conn.peerPort)) continue;
      const key = endpointKey(ip, conn.peerPort);
      seen.add(key);
      connectionsPerIp.set(ip, (connectionsPerIp.get(ip) ?? 0) + 1);
      const entry = this.entries.get(key);
      if (entry !== undefined) {
        entry.misses = 0;
        // A restored session's daemon was a guess (the tag does not carry it): the socket's owner decides.
        if (entry.session.daemon !== conn.daemon) entry.session = { ...entry.session, daemon: conn.daemon };
        continue;
      }
      const ended = this.ended.get(key);
      if (ended !== undefined) {
        ended.sightings++;
        if (ended.sightings < this.missesToDrop) continue;
        this.ended.delete(key);
        if (ended.session !== null) {
          this.entries.set(key, { session: ended.session, misses: 0 });
          result.added.push(ended.session);
          continue;
        }
      }
      candidates.push({ key, conn, ip });
    }
    for (const [key] of this.ended) if (!seen.has(key)) this.ended.delete(key);
    const ownersByPid = new Map<number, SshProcessOwner>();
    for (const owner of attribution.processOwners ?? []) if (isPid(owner.pid) && canonicalLoginName(owner.user) !== null) ownersByPid.set(owner.pid, owner);
    for (const { key, conn, ip } of candidates) {
      const owner = ownerOf(conn, ownersByPid) ?? loginOf(ip, connectionsPerIp, attribution.logins ?? [], conn);
      const session = owner === null ? null : validSession(conn.daemon, owner.pid, owner.user, ip, conn.peerPort, nowMs);
      if (session === null) {
        result.unattributed.push(conn);
        continue;
      }
      this.entries.set(key, { session, misses: 0 });
      result.added.push(session);
    }
    for (const [key, entry] of this.entries) {
      if (seen.has(key)) continue;
      entry.misses++;
      if (entry.misses >= this.missesToDrop) {
        this.entries.delete(key);
        result.removed.push({ session: entry.session, reason: 'absent' });
      }
    }
    return result;
  }

  private accept(event: SshLogEvent, nowMs: number, changes: SessionChanges): void {
    const session = validSession(event.daemon, event.pid, event.user, event.ip, event.port, nowMs);
    if (session === null) return;
    const key = endpointKey(session.clientIp, session.clientPort);
    this.ended.delete(key);
    const existing = this.entries.get(key);
    if (existing !== undefined) {
      if (existing.session.id === session.id && existing.session.user === session.user) return;
      changes.removed.push({ session: existing.session, reason: 'replaced' });
    }
    this.entries.set(key, { session, misses: 0 });
    changes.added.push(session);
  }

  private end(event: SshLogEvent, changes: SessionChanges): void {
    const reason: SessionEndReason = event.kind === 'closed' ? 'closed' : 'disconnected';
    const ip = event.ip === null ? null : canonicalClientAddress(event.ip);
    if (ip !== null && isPort(event.port)) {
      const key = endpointKey(ip, event.port);
      const entry = this.entries.get(key);
      if (entry !== undefined && (event.user === null || entry.session.user === event.user)) {
        this.entries.delete(key);
        changes.removed.push({ session: entry.session, reason });
        this.ended.set(key, { session: entry.session, sightings: 0 });
      } else if (entry === undefined && !this.ended.has(key)) {
        this.ended.set(key, { session: null, sightings: 0 });
      }
      return;
    }
    // No endpoint (OpenSSH's PAM close, Dropbear before 2020.79): the PID, daemon and user decide.
    for (const [key, entry] of this.entries) {
      const s = entry.session;
      if (s.pid !== event.pid || s.daemon !== event.daemon || (event.user !== null && s.user !== event.user)) continue;
      this.entries.delete(key);
      this.ended.set(key, { session: s, sightings: 0 });
      changes.removed.push({ session: s, reason });
    }
  }
}

/** The user of a connection from its processes' titles: the monitor's PID when one is listed. */
function ownerOf(conn: LiveSshConnection, owners: ReadonlyMap<number, SshProcessOwner>): { pid: number; user: string } | null {
  let user: string | null = null;
  let monitorPid: number | null = null;
  for (const pid of conn.pids) {
    const owner = owners.get(pid);
    if (owner === undefined) continue;
    if (user !== null && owner.user !== user) return null; // titles disagree: not attributable
    user = owner.user;
    if (owner.isMonitor) monitorPid = pid;
  }
  if (user === null) return null;
  // The PAM close line carries the monitor's PID; without one listed, the lowest PID (the parent).
  return { pid: monitorPid ?? Math.min(...conn.pids), user };
}

/** A pty login from `who`, when it is the only candidate connection from that address. */
function loginOf(ip: string, connectionsPerIp: ReadonlyMap<string, number>, logins: readonly WhoLogin[], conn: LiveSshConnection): { pid: number; user: string } | null {
  if (connectionsPerIp.get(ip) !== 1 || conn.pids.length === 0) return null;
  let user: string | null = null;
  for (const login of logins) {
    if (login.host === null || canonicalClientAddress(login.host) !== ip) continue;
    if (user !== null && login.user !== user) return null;
    user = login.user;
  }
  return user === null ? null : { pid: Math.min(...conn.pids), user };
}
