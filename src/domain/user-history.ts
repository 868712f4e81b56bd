// Users mode in the history database (issue 18): a users poll in the shape the history writer takes
// for a device poll, so per-user bytes go into the same per-minute rows (rolled up hourly and daily
// by the same retention) and `report` reads them unchanged, the users as the rows (identity
// `user:NAME`). Pure: the accountant's deltas and state in, the writer's records out.
//
// The accountant's state travels in the device state's slots where they mean the same (the
// per-user totals are the `hosts`, the last poll time is `lastAtMs`), and the sessions still
// listed as one extra field, `userSessions`, that the state codec keeps as JSON. No `counters`:
// a users state never feeds a device Accountant (the router key is its own: usersHistoryKey).
import type { AccountingResult, AccountingState, HostDelta, HostRecord } from './accounting-model.js';
import type { FamilyBytes } from './family.js';
import { emptyFamilySplit } from './family.js';
import { USER_IDENTITY_PREFIX, type StoredUserSession, type UserAccountantState, type UserDelta } from './user-usage.js';

/** The history's router key of a gateway's users (apart from its devices history, `key`). */
export function usersHistoryKey(key: string): string {
  return `users@${key}`;
}

/** One users poll as the history writer records it: per-user deltas, no events. */
export function usersAccountingResult(atMs: number, deltas: readonly UserDelta[]): AccountingResult {
  const rows: HostDelta[] = [];
  const byFamily = new Map<string, FamilyBytes>();
  const totals = { downBytes: 0, upBytes: 0, downBps: 0, upBps: 0 };
  const totalsByFamily = emptyFamilySplit();
  for (const d of deltas) {
    if (d.downBytes === 0 && d.upBytes === 0) continue;
    const identity = `${USER_IDENTITY_PREFIX}${d.user}`;
    rows.push({ identity, mac: null, ip: d.ip, hostname: d.user, downBytes: d.downBytes, upBytes: d.upBytes });
    const split = { down4Bytes: d.downBytes - d.down6Bytes, up4Bytes: d.upBytes - d.up6Bytes, down6Bytes: d.down6Bytes, up6Bytes: d.up6Bytes };
    byFamily.set(identity, split);
    totals.downBytes += d.downBytes;
    totals.upBytes += d.upBytes;
    totalsByFamily.down4Bytes += split.down4Bytes;
    totalsByFamily.up4Bytes += split.up4Bytes;
    totalsByFamily.down6Bytes += split.down6Bytes;
    totalsByFamily.up6Bytes += split.up6Bytes;
  }
  return { atMs, epoch: 0, hosts: [], totals, totalsByFamily, deltas: rows, deltasByFamily: byFamily, events: [], notices: [] };
}

type StoredUsersState = AccountingState & { userSessions?: StoredUserSession[] };

/** The accountant's state as the history stores it. */
export function usersStateToAccounting(state: UserAccountantState): AccountingState {
  const hosts: Record<string, HostRecord> = {};
  for (const [user, t] of Object.entries(state.users)) {
    const identity = `${USER_IDENTITY_PREFIX}${user}`;
    hosts[identity] = { identity, mac: null, ip: t.ip, hostname: user, downBytes: t.downBytes, upBytes: t.upBytes, firstSeenMs: t.firstSeenMs, lastSeenMs: t.lastSeenMs, ...(t.down6Bytes > 0 || t.up6Bytes > 0 ? { down6Bytes: t.down6Bytes, up6Bytes: t.up6Bytes } : {}) };
  }
  const stored: StoredUsersState = { version: 1, epoch: 0, bootMarker: null, lastAtMs: state.lastMs, counters: {}, hosts, present: Object.keys(hosts), userSessions: state.sessions.map((s) => ({ ...s })) };
  return stored;
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

/** A stored state read back (what a device state would be: no sessions, nothing of it used but users' rows). */
export function usersStateFromAccounting(state: AccountingState): UserAccountantState {
  const users: UserAccountantState['users'] = {};
  for (const h of Object.values(state.hosts)) {
    if (!h.identity.startsWith(USER_IDENTITY_PREFIX)) continue;
    users[h.identity.slice(USER_IDENTITY_PREFIX.length)] = { downBytes: h.downBytes, upBytes: h.upBytes, down6Bytes: h.down6Bytes ?? 0, up6Bytes: h.up6Bytes ?? 0, ip: h.ip, firstSeenMs: h.firstSeenMs, lastSeenMs: h.lastSeenMs };
  }
  const raw = (state as StoredUsersState).userSessions;
  const sessions = Array.isArray(raw)
    ? raw.filter((s): s is StoredUserSession => typeof s === 'object' && s !== null && typeof s.id === 'string' && typeof s.user === 'string' && users[s.user] !== undefined && [s.downBytes, s.upBytes, s.lastDown, s.lastUp, s.firstSeenMs].every(isNumber))
    : [];
  return { lastMs: state.lastAtMs, users, sessions };
}
