// The RouterController of the app in users mode (issue 18): the same screens, with the gateway's SSH
// users in place of devices. One login, one users poller (usersPollerFor, as `usage --mode users`
// has it) and one poll loop from the login on, so the history records while other screens are
// open; every poll goes through the same serialised path (the loop's, Set up's plan and apply), so
// the poller never runs two polls at once and no poll's bytes miss the history.
//
// Users mode keeps its rules in step on every poll (as `usage` does): Set up is one poll now.
// Flush and teardown take the users chain out (poller.planRemoval) and pause that until Set up,
// as a flushed router's sync waits for setup in devices mode.
import { RouterError, UsageError } from '../errors.js';
import { sanitizeText } from '../sanitize.js';
import { DEFAULT_INTERVAL_MS } from '../domain/poller.js';
import type { ConnectionState, Notice, Snapshot } from '../domain/snapshot.js';
import type { ConnectionsView } from '../domain/connection-model.js';
import { usersHistoryKey } from '../domain/user-history.js';
import { usersTableSnapshot } from '../output/users-json.js';
import { shellLine } from '../router/backends/iptables/user-chain.js';
import type { HistoryStore } from '../store/history-store.js';
import type { OpenRouter } from './open-router.js';
import type { Services } from './services.js';
import type { QuotaEnforcer } from './quota-enforcer.js';
import { loadQuotasView, removeQuota, saveQuota } from './quota-controller.js';
import { loadHistoryView } from './history-view.js';
import { usersPollerFor } from './users-poller-for.js';
import { UsersHistory } from './users-history.js';
import type { UsersPoller, UsersPollResult } from './users-mode.js';
import type { ApplyResult, BlockActionResult, DiscoveredHost, HistoryPeriod, HistoryQuery, HistoryView, QuotaInput, QuotasView, RouterController, RulePlanView, SubjectNoun } from './types.js';

export const USERS_NOUN: SubjectNoun = { one: 'user', many: 'users' };

/** What a users-mode quota enforcer is built from, once lantop is logged in (the lead's wiring). */
export interface UsersEnforcerParts {
  router: OpenRouter;
  poller: UsersPoller;
  store: HistoryStore;
  /** Where the users' quotas, crossings and blocks are kept: usersHistoryKey(services.key). */
  routerKey: string;
}

export interface UsersControllerOptions {
  services: Services;
  /** The history database (the caller opens and closes it); null: no history, no quotas. */
  store: HistoryStore | null;
  /** Between polls; default DEFAULT_INTERVAL_MS (2 s, as `usage --watch` and `serve`). */
  intervalMs?: number;
  /** Deny over quota, already built; null or absent: not set up (quotas empty, no blocks). */
  enforcer?: QuotaEnforcer | null;
  /** Or built once at login from the open gateway (used when `enforcer` is absent and there is a store). */
  makeEnforcer?: (parts: UsersEnforcerParts) => QuotaEnforcer | null;
}

interface LoggedIn {
  router: OpenRouter;
  poller: UsersPoller;
  history: UsersHistory | null;
}

const NOT_SET_UP = 'Deny over quota (sshd DenyUsers) is not set up for users mode here: users cannot be blocked from the app yet.';
const PAUSED = 'counting is paused (the users chain was taken out): Set up accounting rules (menu 3) to count again';

const messageOf = (error: unknown) => sanitizeText(error instanceof Error ? error.message : String(error), 200);

export class UsersController implements RouterController {
  readonly subjectNoun = USERS_NOUN;
  private loggedIn: LoggedIn | null = null;
  private connecting: Promise<void> | null = null;
  private readonly listeners = new Set<(snapshot: Snapshot) => void>();
  private last: Snapshot | null = null;
  private timer: NodeJS.Timeout | null = null;
  private firstPoll: Promise<UsersPollResult> | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  private isClosed = false;
  /** False after flush/teardown: polls read but change nothing until Set up. */
  private isKeepingRules = true;
  private enforcer: QuotaEnforcer | null;
  /** The last removal plan's shell lines and the commands they are (apply sends exactly those). */
  private removal = new Map<string, string[]>();
  private readonly intervalMs: number;

  constructor(private readonly options: UsersControllerOptions) {
    this.enforcer = options.enforcer ?? null;
    this.intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
  }

  get label(): string {
    return this.options.services.label;
  }

  get protocol(): 'telnet' | 'ssh' | 'local' {
    return this.options.services.settings.protocol;
  }

  /** Logs in once (concurrent callers share the attempt; a failed one can be retried), then polls. */
  connect(): Promise<void> {
    this.connecting ??= this.login().catch((error: unknown) => {
      this.connecting = null;
      throw error;
    });
    return this.connecting;
  }

  private async login(): Promise<void> {
    if (this.loggedIn !== null) return;
    const { services, store } = this.options;
    const router = await services.open();
    let poller: UsersPoller;
    try {
      poller = usersPollerFor(services, router);
    } catch (error) {
      await router.session.close();
      throw error;
    }
    if (this.isClosed) {
      await router.session.close();
      return;
    }
    const history = store === null ? null : new UsersHistory(store, services.key, services.clock);
    this.loggedIn = { router, poller, history };
    if (this.options.enforcer === undefined && this.options.makeEnforcer && store !== null) {
      this.enforcer = this.options.makeEnforcer({ router, poller, store, routerKey: usersHistoryKey(services.key) });
    }
    this.startLoop();
  }

  private async ready(): Promise<LoggedIn> {
    if (this.loggedIn === null) await this.connect();
    if (this.loggedIn === null) throw new RouterError('lantop is not connected (the app is closing).');
    return this.loggedIn;
  }

  /** One timer: a poll, then the next one an interval after this one started. */
  private startLoop(): void {
    if (this.firstPoll !== null || this.isClosed) return;
    const tick = (): Promise<UsersPollResult> => {
      const startedMs = Date.now();
      const poll = this.poll(this.isKeepingRules);
      void poll
        .catch(() => undefined /* shown as the failed poll's snapshot */)
        .then(() => {
          if (!this.isClosed) this.timer = setTimeout(tick, Math.max(0, this.intervalMs - (Date.now() - startedMs)));
        });
      return poll;
    };
    this.firstPoll = tick();
    this.firstPoll.catch(() => undefined);
  }

  /** Polls after whatever poll or removal is in flight (one at a time). */
  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.chain.then(work);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private poll(apply: boolean): Promise<UsersPollResult> {
    return this.serial(async () => {
      const { poller, history } = await this.ready();
      let result: UsersPollResult;
      let isWriter = false;
      try {
        if (history === null) result = await poller.poll({ apply });
        else ({ result, isWriter } = await history.poll(poller, { apply }));
      } catch (error) {
        if (!this.isClosed) this.emit(this.failedSnapshot(error));
        throw error;
      }
      this.enforcer?.afterPoll(result.snapshot, isWriter);
      let shown = usersTableSnapshot(result.snapshot, poller.accountant.users());
      if (!this.isKeepingRules) shown = { ...shown, notices: [...shown.notices, { atMs: shown.atMs, level: 'warn', text: PAUSED }] };
      this.emit(this.enforcer === null ? shown : this.enforcer.decorate(shown));
      return result;
    });
  }

  /** The last rows with their totals kept and rates zeroed, the connection's state, and what failed. */
  private failedSnapshot(error: unknown): Snapshot {
    const reason = messageOf(error);
    const now = this.options.services.clock.now();
    const state = this.loggedIn?.router.session.state;
    // The session's own state when it lost the line; else the poll failed on a live line: retried next interval.
    const connection: ConnectionState = state !== undefined && state.kind !== 'connected' ? state : { kind: 'reconnecting', inMs: this.intervalMs, reason };
    const previous = this.last;
    const notice: Notice = { atMs: now, level: 'error', text: `poll failed: ${reason} (trying again)` };
    return {
      schema: 1,
      router: previous?.router ?? this.options.services.key,
      atMs: now,
      hosts: (previous?.hosts ?? []).map((h) => ({ ...h, downBps: 0, upBps: 0, down4Bps: 0, up4Bps: 0, down6Bps: 0, up6Bps: 0 })),
      totals: { ...(previous?.totals ?? { downBytes: 0, upBytes: 0 }), downBps: 0, upBps: 0 },
      pollLatencyMs: null,
      connection,
      notices: [notice],
    };
  }

  private emit(snapshot: Snapshot): void {
    this.last = snapshot;
    for (const listener of [...this.listeners]) listener(snapshot);
  }

  watch(listener: (snapshot: Snapshot) => void): () => void {
    this.listeners.add(listener);
    if (this.last !== null) listener(this.last);
    if (this.loggedIn === null && !this.isClosed) this.connect().catch(() => undefined /* the connect screen shows it */);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** The users with their live sessions: one row per (user, client address); counted = the session has rules. */
  async listHosts(): Promise<DiscoveredHost[]> {
    const { poller } = await this.ready();
    try {
      await this.firstPoll;
    } catch {
      await this.poll(this.isKeepingRules);
    }
    const counted = new Set<string>();
    for (const u of poller.accountant.users()) for (const s of u.sessions) if (s.isLive) counted.add(`${s.clientIp}|${s.clientPort}`);
    const byUser = new Map<string, Map<string, boolean>>();
    for (const s of poller.tracker.sessions()) {
      const addresses = byUser.get(s.user) ?? new Map<string, boolean>();
      addresses.set(s.clientIp, (addresses.get(s.clientIp) ?? false) || counted.has(`${s.clientIp}|${s.clientPort}`));
      byUser.set(s.user, addresses);
    }
    const rows: DiscoveredHost[] = [];
    for (const [user, addresses] of [...byUser].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const all = [...addresses.keys()];
      for (const [ip, isCounted] of addresses) rows.push({ identity: `user:${user}`, ip, addresses: all, mac: null, hostname: user, iface: null, isCounted });
    }
    return rows;
  }

  async plan(action: RulePlanView['action']): Promise<RulePlanView> {
    const { poller } = await this.ready();
    if (action === 'setup') {
      // What this poll would send (as `setup --mode users --dry-run`); its bytes are recorded all the same.
      const result = await this.poll(false);
      const notes = result.snapshot.notices.filter((n) => n.level !== 'info').map((n) => sanitizeText(n.text, 300));
      if (this.isKeepingRules) notes.push('While lantop runs, every poll keeps these rules in step with the live sessions.');
      return { action, commands: result.commands, notes, foreignRules: [], rejectedHosts: [] };
    }
    const commands = await this.serial(() => poller.planRemoval());
    const lines = commands.map(shellLine);
    this.removal = new Map(lines.map((line, i) => [line, commands[i]!]));
    const notes = [`${action === 'flush' ? 'Flush' : 'Teardown'} in users mode takes the users chain and its INPUT/OUTPUT jumps out; counting pauses until Set up. The users' totals so far stay in the history.`];
    return { action, commands: lines, notes, foreignRules: [], rejectedHosts: [] };
  }

  async apply(plan: RulePlanView): Promise<ApplyResult> {
    const { poller } = await this.ready();
    if (plan.action === 'setup') {
      this.isKeepingRules = true;
      const done = await this.poll(true);
      const check = await this.poll(false);
      const refusal = done.snapshot.notices.find((n) => n.level === 'error' && n.text.startsWith('the gateway refused'));
      const failed = refusal === undefined ? null : { command: plan.commands.find((c) => !done.commands.includes(c)) ?? plan.commands[0] ?? '', output: sanitizeText(refusal.text, 300) };
      return { applied: done.commands, failed, isVerified: failed === null && check.commands.length === 0, notes: [] };
    }
    const commands = plan.commands.every((line) => this.removal.has(line)) ? plan.commands.map((line) => this.removal.get(line)!) : await this.serial(() => poller.planRemoval());
    // Before sending: a poll in between must not put the chain straight back.
    this.isKeepingRules = false;
    let applied: string[];
    try {
      applied = await this.serial(() => poller.send(commands));
    } catch (error) {
      const seen = error instanceof RouterError ? (error.seen ?? '') : '';
      return { applied: [], failed: { command: plan.commands[0] ?? '', output: sanitizeText(`${messageOf(error)} ${seen}`.trim(), 300) }, isVerified: false, notes: [] };
    }
    const left = await this.serial(() => poller.planRemoval());
    return { applied, failed: null, isVerified: left.length === 0, notes: [PAUSED] };
  }

  /** The users' totals and chart from the users history (usersHistoryKey), as the devices' History. */
  async history(period: HistoryPeriod, query: HistoryQuery = {}): Promise<HistoryView> {
    const { services, store } = this.options;
    return loadHistoryView(store, usersHistoryKey(services.key), services.clock.now(), period, query);
  }

  private withEnforcer(): { enforcer: QuotaEnforcer; store: HistoryStore } | null {
    const store = this.options.store;
    if (store === null) throw new RouterError('Quotas are not available: no history database.', 'Pass --db PATH or check the data directory is writable.');
    return this.enforcer === null ? null : { enforcer: this.enforcer, store };
  }

  async blockDevice(identity: string, durationMs: number): Promise<BlockActionResult> {
    try {
      await this.ready();
      const parts = this.withEnforcer();
      return parts === null ? { isDone: false, message: NOT_SET_UP } : await parts.enforcer.blockByHand(identity, durationMs);
    } catch (error) {
      return { isDone: false, message: messageOf(error) };
    }
  }

  async unblockDevice(identity: string): Promise<BlockActionResult> {
    try {
      await this.ready();
      const parts = this.withEnforcer();
      return parts === null ? { isDone: false, message: NOT_SET_UP } : await parts.enforcer.unblockByHand(identity);
    } catch (error) {
      return { isDone: false, message: messageOf(error) };
    }
  }

  async quotas(): Promise<QuotasView> {
    await this.ready();
    const parts = this.withEnforcer();
    if (parts === null) return { quotas: [], subjects: [], blocks: [], audit: [] };
    return loadQuotasView(parts.store, usersHistoryKey(this.options.services.key), parts.enforcer);
  }

  async saveQuota(input: QuotaInput, replacesId?: number): Promise<void> {
    const parts = this.withEnforcer();
    if (parts === null) throw new UsageError(NOT_SET_UP);
    saveQuota(parts.store, usersHistoryKey(this.options.services.key), input, this.options.services.clock.now(), replacesId);
  }

  async removeQuota(id: number): Promise<void> {
    const parts = this.withEnforcer();
    if (parts === null) throw new UsageError(NOT_SET_UP);
    removeQuota(parts.store, usersHistoryKey(this.options.services.key), id);
  }

  async connections(): Promise<ConnectionsView> {
    throw new RouterError("A user's connections are not shown in users mode yet.", 'The live table counts each user\'s SSH sessions; `lantop --mode users usage --json` lists them with their client addresses.');
  }

  async enableConnectionAccounting(): Promise<BlockActionResult> {
    return { isDone: false, message: 'Connection accounting is a devices-mode feature; users mode counts SSH sessions.' };
  }

  /** Stops the loop, lets the poll in flight finish (and be recorded), frees the lease, logs out. */
  async close(): Promise<void> {
    this.isClosed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.chain;
    if (this.timer !== null) clearTimeout(this.timer);
    this.enforcer?.close();
    await this.enforcer?.idle();
    const loggedIn = this.loggedIn;
    this.loggedIn = null;
    loggedIn?.history?.close();
    await loggedIn?.router.session.close();
  }
}
