// `usage --mode users --json` (issue 18, docs/cli.md): the device-mode snapshot document with the
// users as its rows (identity `user:NAME`, hostname = the user), plus `mode: "users"`, `users[]`
// with each user's sessions, and lantop's own login that was left out. User names passed the
// login-name rule before they got here; addresses are canonical.
import type { Snapshot } from '../domain/snapshot.js';
import type { UserUsage } from '../domain/user-usage.js';
import { snapshotJson, type FormatOptions } from './json.js';

export interface UsersJsonExtras {
  /** lantop's own login as the gateway sees it (not counted); null: none (local mode) or unknown. */
  self: { ip: string; port: number } | null;
  /** The auth log followed, or null when none was found. */
  logFile: string | null;
}

export function usersJson(snapshot: Snapshot, users: readonly UserUsage[], extras: UsersJsonExtras, options: FormatOptions = {}) {
  return {
    ...snapshotJson(snapshot, options),
    mode: 'users' as const,
    excluded: { self: extras.self === null ? null : { ip: extras.self.ip, port: extras.self.port } },
    logFile: extras.logFile,
    users: users.map((u) => ({
      user: u.user,
      identity: `user:${u.user}`,
      downBytes: u.downBytes,
      upBytes: u.upBytes,
      downBps: Math.round(u.downBps),
      upBps: Math.round(u.upBps),
      sessions: u.liveSessions,
      sessionList: u.sessions.map((s) => ({
        id: s.id,
        pid: s.pid,
        client: s.clientIp,
        port: s.clientPort,
        downBytes: s.downBytes,
        upBytes: s.upBytes,
        live: s.isLive,
        since: new Date(s.firstSeenMs).toISOString(),
        ended: s.endedMs === null ? null : new Date(s.endedMs).toISOString(),
      })),
    })),
  };
}

/** The table's rows: the user and how many sessions it has now, in the name column. */
export function usersTableSnapshot(snapshot: Snapshot, users: readonly UserUsage[]): Snapshot {
  const live = new Map(users.map((u) => [`user:${u.user}`, u.liveSessions]));
  return {
    ...snapshot,
    hosts: snapshot.hosts.map((h) => {
      const n = live.get(h.identity) ?? 0;
      return { ...h, hostname: `${h.hostname ?? ''} (${n} session${n === 1 ? '' : 's'})` };
    }),
  };
}
