// Per-user accounting over SSH sessions (issue 18, mode users): each session's counters, as the
// gateway's rules report them, turned into bytes per user and a Snapshot every output can render.
// Pure: readings and a time in, totals out.
//
// A session's bytes are what its rules counted since they were written (the first reading of a
// session counts from 0, so a lantop that restarts and finds the rules by their comments goes on
// from the same numbers). A counter below the last reading is a rule written again (someone
// removed them): it counts from 0 again, never backwards. A session that ends keeps the bytes
// read for it in its user's total for as long as this accountant lives, and across restarts when
// its state is stored (exportState / restore: the history database, app/users-history.ts).
import type { HostUsage, Notice, Snapshot } from './snapshot.js';
import { compareAddresses } from './address.js';

/** One session's counters in one poll (both families' rules summed by the caller). */
export interface SessionReading {
  /** `pid/ip/port`. */
  id: string;
  user: string;
  pid: number;
  clientIp: string;
  clientPort: number;
  downBytes: number;
  upBytes: number;
}

/** A session as the users view shows it: its reading's fields (bytes as counted), rates, and life. */
export interface SessionUsage extends SessionReading {
  downBps: number;
  upBps: number;
  isLive: boolean;
  firstSeenMs: number;
  endedMs: number | null;
}

export interface UserUsage {
  user: string;
  downBytes: number;
  upBytes: number;
  downBps: number;
  upBps: number;
  /** Sessions counted now. */
  liveSessions: number;
  /** Sessions of this user seen by this accountant, ended ones included. */
  sessions: SessionUsage[];
}

interface SessionState {
  usage: SessionUsage;
  lastDown: number;
  lastUp: number;
}

/** Bytes of one user in one poll (what the history records per minute), and their IPv6 part. */
export interface UserDelta {
  user: string;
  /** A client address of the user's sessions (the history's `ip`). */
  ip: string;
  downBytes: number;
  upBytes: number;
  down6Bytes: number;
  up6Bytes: number;
}

/** [downBytes, upBytes, down6Bytes, up6Bytes]. */
type Quad = [number, number, number, number];

/** A session as stored (exportState): the usage so far and the raw counters last read. */
export interface StoredUserSession {
  id: string;
  user: string;
  pid: number;
  clientIp: string;
  clientPort: number;
  downBytes: number;
  upBytes: number;
  lastDown: number;
  lastUp: number;
  isLive: boolean;
  firstSeenMs: number;
  endedMs: number | null;
}

/** The accountant's state: per-user totals (ended sessions included) and the sessions still listed. */
export interface UserAccountantState {
  lastMs: number | null;
  /** user → totals over all its sessions counted so far, and their first and last sight. */
  users: Record<string, { downBytes: number; upBytes: number; down6Bytes: number; up6Bytes: number; ip: string; firstSeenMs: number; lastSeenMs: number }>;
  sessions: StoredUserSession[];
}

const isV6 = (ip: string) => ip.includes(':');

function delta(now: number, last: number): number {
  return now >= last ? now - last : now;
}

export class UserAccountant {
  private readonly sessions = new Map<string, SessionState>();
  private lastMs: number | null = null;
  /** Per user: bytes of sessions that ended before a restart (no session of theirs is kept). */
  private readonly carried = new Map<string, { quad: Quad; ip: string; firstSeenMs: number; lastSeenMs: number }>();
  private readonly lastSeen = new Map<string, number>();

  /** Goes on from a stored state (replaces everything this accountant had). */
  restore(state: UserAccountantState): void {
    this.sessions.clear();
    this.carried.clear();
    this.lastSeen.clear();
    this.lastMs = state.lastMs;
    const bySession = new Map<string, Quad>();
    for (const s of state.sessions) {
      const six = isV6(s.clientIp);
      const usage: SessionUsage = { id: s.id, user: s.user, pid: s.pid, clientIp: s.clientIp, clientPort: s.clientPort, downBytes: s.downBytes, upBytes: s.upBytes, downBps: 0, upBps: 0, isLive: s.isLive, firstSeenMs: s.firstSeenMs, endedMs: s.endedMs };
      this.sessions.set(s.id, { usage, lastDown: s.lastDown, lastUp: s.lastUp });
      const q = bySession.get(s.user) ?? [0, 0, 0, 0];
      q[0] += s.downBytes;
      q[1] += s.upBytes;
      if (six) {
        q[2] += s.downBytes;
        q[3] += s.upBytes;
      }
      bySession.set(s.user, q);
    }
    for (const [user, t] of Object.entries(state.users)) {
      const q = bySession.get(user) ?? [0, 0, 0, 0];
      // What the user's stored total has beyond its kept sessions: the sessions that ended.
      const rest: Quad = [t.downBytes - q[0], t.upBytes - q[1], t.down6Bytes - q[2], t.up6Bytes - q[3]].map((n) => Math.max(0, n)) as Quad;
      this.carried.set(user, { quad: rest, ip: t.ip, firstSeenMs: t.firstSeenMs, lastSeenMs: t.lastSeenMs });
      this.lastSeen.set(user, t.lastSeenMs);
    }
  }

  /** The state to store after a poll; `restore` goes on from it. Ended sessions live on in their user's totals only. */
  exportState(): UserAccountantState {
    const users: UserAccountantState['users'] = {};
    for (const [user, c] of this.carried) users[user] = { downBytes: c.quad[0], upBytes: c.quad[1], down6Bytes: c.quad[2], up6Bytes: c.quad[3], ip: c.ip, firstSeenMs: c.firstSeenMs, lastSeenMs: this.lastSeen.get(user) ?? c.lastSeenMs };
    const sessions: StoredUserSession[] = [];
    for (const { usage: u, lastDown, lastUp } of this.sessions.values()) {
      const t = (users[u.user] ??= { downBytes: 0, upBytes: 0, down6Bytes: 0, up6Bytes: 0, ip: u.clientIp, firstSeenMs: u.firstSeenMs, lastSeenMs: this.lastSeen.get(u.user) ?? u.firstSeenMs });
      t.downBytes += u.downBytes;
      t.upBytes += u.upBytes;
      if (isV6(u.clientIp)) {
        t.down6Bytes += u.downBytes;
        t.up6Bytes += u.upBytes;
      }
      t.firstSeenMs = Math.min(t.firstSeenMs, u.firstSeenMs);
      // Kept while its rules may still be listed (their counters must go on from lastDown/lastUp).
      if (u.endedMs === null || lastDown > 0 || lastUp > 0) sessions.push({ id: u.id, user: u.user, pid: u.pid, clientIp: u.clientIp, clientPort: u.clientPort, downBytes: u.downBytes, upBytes: u.upBytes, lastDown, lastUp, isLive: u.isLive, firstSeenMs: u.firstSeenMs, endedMs: u.endedMs });
    }
    return { lastMs: this.lastMs, users, sessions };
  }

  /**
   * One poll: `readings` are the sessions whose rules were listed (read before any rule was
   * removed); `live` the ids counted from now on. A session not listed any more has ended.
   */
  update(readings: readonly SessionReading[], live: ReadonlySet<string>, nowMs: number): UserDelta[] {
    const deltas = new Map<string, UserDelta>();
    const seconds = this.lastMs === null ? 0 : Math.max(0, (nowMs - this.lastMs) / 1000);
    this.lastMs = nowMs;
    const listed = new Set<string>();
    for (const r of readings) {
      listed.add(r.id);
      let state = this.sessions.get(r.id);
      if (state === undefined || state.usage.user !== r.user) {
        state = { usage: { id: r.id, user: r.user, pid: r.pid, clientIp: r.clientIp, clientPort: r.clientPort, downBytes: 0, upBytes: 0, downBps: 0, upBps: 0, isLive: true, firstSeenMs: nowMs, endedMs: null }, lastDown: 0, lastUp: 0 };
        this.sessions.set(r.id, state);
      }
      const down = delta(r.downBytes, state.lastDown);
      const up = delta(r.upBytes, state.lastUp);
      state.lastDown = r.downBytes;
      state.lastUp = r.upBytes;
      const u = state.usage;
      u.downBytes += down;
      u.upBytes += up;
      this.lastSeen.set(r.user, nowMs);
      if (down > 0 || up > 0) {
        const d = deltas.get(r.user) ?? { user: r.user, ip: r.clientIp, downBytes: 0, upBytes: 0, down6Bytes: 0, up6Bytes: 0 };
        d.downBytes += down;
        d.upBytes += up;
        if (isV6(r.clientIp)) {
          d.down6Bytes += down;
          d.up6Bytes += up;
        }
        deltas.set(r.user, d);
      }
      u.downBps = seconds > 0 ? down / seconds : 0;
      u.upBps = seconds > 0 ? up / seconds : 0;
      u.isLive = live.has(r.id);
      if (u.isLive) u.endedMs = null;
      else u.endedMs ??= nowMs;
    }
    for (const [id, state] of this.sessions) {
      if (listed.has(id)) continue;
      const u = state.usage;
      u.downBps = 0;
      u.upBps = 0;
      // Its rules are gone: the next rules for the same endpoint count from 0.
      state.lastDown = 0;
      state.lastUp = 0;
      if (u.isLive) {
        u.isLive = false;
        u.endedMs = nowMs;
      }
    }
    return [...deltas.values()].sort((a, b) => (a.user < b.user ? -1 : a.user > b.user ? 1 : 0));
  }

  /** Users by name, each with its sessions (live first, then by first sight). */
  users(): UserUsage[] {
    const byUser = new Map<string, UserUsage>();
    for (const [user, c] of this.carried) byUser.set(user, { user, downBytes: c.quad[0], upBytes: c.quad[1], downBps: 0, upBps: 0, liveSessions: 0, sessions: [] });
    for (const { usage } of this.sessions.values()) {
      const row = byUser.get(usage.user) ?? { user: usage.user, downBytes: 0, upBytes: 0, downBps: 0, upBps: 0, liveSessions: 0, sessions: [] };
      row.downBytes += usage.downBytes;
      row.upBytes += usage.upBytes;
      row.downBps += usage.downBps;
      row.upBps += usage.upBps;
      if (usage.isLive) row.liveSessions++;
      row.sessions.push({ ...usage });
      byUser.set(usage.user, row);
    }
    for (const row of byUser.values()) row.sessions.sort((a, b) => Number(b.isLive) - Number(a.isLive) || a.firstSeenMs - b.firstSeenMs || (a.id < b.id ? -1 : 1));
    return [...byUser.values()].sort((a, b) => (a.user < b.user ? -1 : a.user > b.user ? 1 : 0));
  }
}

export const USER_IDENTITY_PREFIX = 'user:';

/**
 * The users as a Snapshot (issue 18): one row per user, identity `user:NAME`, the name where a
 * device's host name goes, its sessions' client addresses as its addresses, so the table, JSON and
 * CSV renderers of devices show users unchanged.
 */
export function usersSnapshot(router: string, users: readonly UserUsage[], atMs: number, options: { pollLatencyMs: number | null; notices: Notice[]; connected: boolean }): Snapshot {
  const totals = { downBytes: 0, upBytes: 0, downBps: 0, upBps: 0 };
  for (const u of users) {
    totals.downBytes += u.downBytes;
    totals.upBytes += u.upBytes;
    totals.downBps += u.downBps;
    totals.upBps += u.upBps;
  }
  const hosts: HostUsage[] = users.map((u) => {
    const live = u.sessions.filter((s) => s.isLive);
    const addresses = [...new Set((live.length > 0 ? live : u.sessions).map((s) => s.clientIp))].sort(compareAddresses);
    return {
      identity: `${USER_IDENTITY_PREFIX}${u.user}`,
      ip: addresses[0] ?? '',
      addresses,
      mac: null,
      hostname: u.user,
      downBytes: u.downBytes,
      upBytes: u.upBytes,
      downBps: u.downBps,
      upBps: u.upBps,
      downShare: totals.downBytes > 0 ? u.downBytes / totals.downBytes : 0,
      upShare: totals.upBytes > 0 ? u.upBytes / totals.upBytes : 0,
      isCounted: u.liveSessions > 0,
    };
  });
  return {
    schema: 1,
    router,
    atMs,
    hosts,
    totals,
    pollLatencyMs: options.pollLatencyMs,
    connection: options.connected ? { kind: 'connected' } : { kind: 'failed', reason: 'poll failed' },
    notices: options.notices,
  };
}
