// Deny over quota in users mode (issue 18): the quota enforcer of devices mode (quota-enforcer.ts),
// with users for devices. Its BlockPort is sshd's DenyUsers on the gateway (sshd-deny-port.ts), its
// guard never denies lantop's own login user or root, its quotas and audit rows are under the users
// history key, and a deny lasts `denyFor` (else until the quota's period ends). The commands:
//   lantop --mode users block USER --for 2h | --until 07:00     deny by hand
//   lantop --mode users unblock USER | --all                     lift (--all: lantop's lines gone)
//   lantop --mode users block --list [--json]                    the denies now and the audit log
// Every change is audited in the history database, as devices mode's blocks are.
import { EXIT, UsageError } from '../errors.js';
import { sanitizeText } from '../sanitize.js';
import type { AlertSink } from '../domain/alert-event.js';
import { parseBlockDuration } from '../domain/durations.js';
import type { BlockAuditAction } from '../domain/quota.js';
import type { Notice } from '../domain/snapshot.js';
import { usersHistoryKey } from '../domain/user-history.js';
import { canonicalLoginName } from '../domain/login-name.js';
import { formatLocalTime, formatTimeUntil } from '../output/units.js';
import type { BlockEntry } from '../router/backends/block.js';
import type { HistoryStore } from '../store/history-store.js';
import { parseBlockUntil } from './block-commands.js';
import { withRouter } from './commands.js';
import type { OpenRouter } from './open-router.js';
import { QuotaEnforcer } from './quota-enforcer.js';
import type { Services } from './services.js';
import { SshdDenyPort, UserDenyGuard, userOfIdentity } from './sshd-deny-port.js';
import type { UsersPoller } from './users-mode.js';
import { usersPollerFor } from './users-poller-for.js';

/** The sshd pids of `user`'s sessions as the poller tracks them. */
function sessionPidsOf(poller: Pick<UsersPoller, 'tracker'>, user: string): number[] {
  return [...new Set(poller.tracker.sessions().filter((s) => s.user === user).map((s) => s.pid))];
}

/** `poller` null: a port that only reads and lifts denies (it ends no session, and needs no counting backend). */
export function denyPortFor(services: Pick<Services, 'settings'>, router: Pick<OpenRouter, 'session'>, poller: Pick<UsersPoller, 'tracker'> | null): SshdDenyPort {
  return new SshdDenyPort({
    run: (command) => router.session.exec(command, { where: 'shell' }),
    endSessions: poller !== null && services.settings.isDenyEndingSessions,
    ...(poller !== null ? { sessionPidsOf: (user: string) => sessionPidsOf(poller, user) } : {}),
  });
}

/** The users-mode quota enforcer of an open gateway (usage --watch, serve, the app). */
export function usersEnforcerFor(
  services: Pick<Services, 'settings' | 'key' | 'clock'>,
  parts: { router: Pick<OpenRouter, 'session'>; poller: Pick<UsersPoller, 'tracker'>; store: HistoryStore; sink: AlertSink | null; onNotice?: (notice: Notice) => void },
): QuotaEnforcer {
  const port = denyPortFor(services, parts.router, parts.poller);
  return new QuotaEnforcer({
    routerKey: usersHistoryKey(services.key),
    store: parts.store,
    client: port,
    session: parts.router.session,
    clock: services.clock,
    sink: parts.sink,
    neverBlock: [],
    guard: new UserDenyGuard(port),
    words: { blocked: 'denied SSH logins', unblocked: 'allowed to log in again' },
    blockForMs: services.settings.denyForMs,
    ...(parts.onNotice !== undefined ? { onNotice: parts.onNotice } : {}),
  });
}

function audit(services: Services, action: BlockAuditAction, entry: { identity: string; untilMs: number | null; reason: string }): void {
  const store = services.openHistory();
  try {
    store.quotas.addAudit({ atMs: services.clock.now(), routerKey: usersHistoryKey(services.key), action, identity: entry.identity, addresses: [], reason: entry.reason, quotaId: null, by: 'hand', untilMs: entry.untilMs });
  } finally {
    store.close();
  }
}

function userArg(text: string): string {
  const user = canonicalLoginName(text.startsWith('user:') ? text.slice(5) : text);
  if (user === null) throw new UsageError(`"${sanitizeText(text, 40)}" is not a login name.`, 'Give the user\'s login name as `lantop --mode users usage` shows it.');
  return user;
}

function untilOf(services: Services, options: Record<string, unknown>): { untilMs: number; how: string } {
  const forText = typeof options.for === 'string' ? options.for : undefined;
  const untilText = typeof options.until === 'string' ? options.until : undefined;
  if ((forText === undefined) === (untilText === undefined)) throw new UsageError('Say how long: give --for DURATION (e.g. 90s, 20m, 2h) or --until TIME (HH:MM or an ISO date-time), one of them.');
  const nowMs = services.clock.now();
  try {
    if (forText !== undefined) return { untilMs: nowMs + parseBlockDuration(forText), how: `--for ${forText}` };
    return { untilMs: parseBlockUntil(untilText!, nowMs), how: `--until ${untilText}` };
  } catch (error) {
    if (error instanceof RangeError) throw new UsageError(`${forText !== undefined ? '--for' : '--until'}: ${error.message}.`, 'e.g. `lantop --mode users block alice --for 6h`.');
    throw error;
  }
}

function notes(services: Services, lines: readonly string[]): void {
  for (const line of lines) services.io.stderr.write(`note: ${sanitizeText(line, 200)}\n`);
}

/** `block USER`: one poll first (to know the user's sessions, should denyEndSessions end them), then the deny. */
export async function runUsersBlock(services: Services, userText: string, options: Record<string, unknown>): Promise<number> {
  const user = userArg(userText);
  const { untilMs, how } = untilOf(services, options);
  return withRouter(services, async (router) => {
    const poller = usersPollerFor(services, router);
    if (services.settings.isDenyEndingSessions) await poller.poll({ apply: false });
    const port = denyPortFor(services, router, poller);
    const refusal = await new UserDenyGuard(port).refusal({ identity: `user:${user}`, mac: null, addresses: [], name: user }, []);
    if (refusal !== null) throw new UsageError(refusal, 'Nothing was changed.');
    const outcome = await port.block({ identity: `user:${user}`, mac: null, addresses: [], untilMs }, services.clock.now());
    notes(services, outcome.notes);
    audit(services, 'block', { identity: `user:${user}`, untilMs, reason: `by hand: lantop --mode users block ${how}` });
    services.io.stderr.write(`Denied ${user} SSH logins until ${formatLocalTime(untilMs)} (${formatTimeUntil(untilMs - services.clock.now())}); sshd -t passed and sshd was reloaded.\n`);
    return EXIT.ok;
  });
}

/** `unblock USER | --all`: the deny lifted (--all: lantop's drop-in or block gone, sshd_config as before). */
export async function runUsersUnblock(services: Services, userText: string | undefined, options: Record<string, unknown>): Promise<number> {
  const isAll = options.all === true;
  if (isAll === (userText !== undefined)) throw new UsageError('Say whom to lift the deny of: a USER or --all, one of them.');
  const user = userText === undefined ? null : userArg(userText);
  return withRouter(services, async (router) => {
    const port = denyPortFor(services, router, null);
    const nowMs = services.clock.now();
    const before = await port.list(nowMs);
    const outcome = await port.unblock(user === null ? 'all' : `user:${user}`, nowMs);
    notes(services, outcome.notes);
    const lifted = before.filter((e) => user === null || e.identity === `user:${user}`);
    for (const e of lifted) audit(services, 'unblock', { identity: e.identity!, untilMs: e.untilMs, reason: `by hand: lantop --mode users unblock ${user === null ? '--all' : user}` });
    services.io.stderr.write(lifted.length === 0 && outcome.entries.length === before.length ? `Nothing to lift${user === null ? '' : ` for ${user}`}.\n` : `Lifted the deny of ${user === null ? 'every user' : user}${user === null ? ': lantop\'s DenyUsers lines are gone' : ''}.\n`);
    return EXIT.ok;
  });
}

function entryJson(e: BlockEntry): Record<string, unknown> {
  return { user: e.identity === null ? null : userOfIdentity(e.identity), untilMs: e.untilMs, until: e.untilMs === null ? null : new Date(e.untilMs).toISOString(), expired: e.isExpired };
}

/** `block --list`: the denies on the gateway (expired ones lifted now, and audited), and the audit log. */
export async function runUsersBlockList(services: Services, options: Record<string, unknown>): Promise<number> {
  return withRouter(services, async (router) => {
    const port = denyPortFor(services, router, null);
    const nowMs = services.clock.now();
    const { entries, removed, notes: said } = await port.removeExpiredBlocks(nowMs);
    notes(services, said);
    for (const e of removed) audit(services, 'expired', { identity: e.identity!, untilMs: e.untilMs, reason: 'expired: lifted by lantop --mode users block --list' });
    const store = services.openHistory();
    let log;
    try {
      log = store.quotas.listAudit(usersHistoryKey(services.key), { limit: 20 });
    } finally {
      store.close();
    }
    if (options.json === true || !services.io.stdout.isTTY) {
      services.io.stdout.write(JSON.stringify({ router: services.label, denies: [...entries, ...removed].map(entryJson), audit: log.map((a) => ({ atMs: a.atMs, action: a.action, user: userOfIdentity(a.identity), reason: sanitizeText(a.reason, 200), by: a.by, quotaId: a.quotaId, untilMs: a.untilMs })) }, null, 2) + '\n');
      return EXIT.ok;
    }
    const lines = entries.length === 0 ? ['No user is denied.'] : entries.map((e) => `  ${userOfIdentity(e.identity!)}  until ${e.untilMs === null ? '?' : `${formatLocalTime(e.untilMs)} (${formatTimeUntil(e.untilMs - nowMs)})`}`);
    for (const e of removed) lines.push(`  ${userOfIdentity(e.identity!)}  expired: lifted now`);
    services.io.stdout.write(`${lines.join('\n')}\n`);
    if (log.length > 0) services.io.stdout.write(`\nLast ${log.length} audit line(s):\n${log.map((a) => `  ${formatLocalTime(a.atMs)}  ${a.action}  ${sanitizeText(a.identity, 40)}  ${sanitizeText(a.reason, 100)}`).join('\n')}\n`);
    return EXIT.ok;
  });
}
