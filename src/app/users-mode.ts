// Users mode (issue 18): per-user accounting over the SSH sessions of a Linux gateway. Each poll is
// one round trip (router/users-poll.ts): lantop's own login, the log's new lines (auth log, journal
// or logread: router/users-log-sources.ts), the live sockets, the sshd process titles and the
// counting backend's listing. The session tracker (domain/ssh-sessions.ts) is fed the log events
// and then the live sockets; the backend's counters are read (before any rule goes) into the user
// accountant (domain/user-usage.ts); then the backend's plan brings the rules to exactly the live,
// attributable sessions. The backend (router/backends/users-backend.ts) is iptables (LANTOP_USERS)
// or nftables (`table inet lantop_users`); app/users-poller-for.ts picks it.
//
// Left out on purpose: lantop's own login (its client address and port as the gateway sees them,
// `$SSH_CONNECTION` of the shell lantop's commands run in: the socket the transport holds), and
// sessions from the gateway itself (loopback, or a peer address that is the socket's own), whose
// packets pass INPUT and OUTPUT both.
import { randomBytes } from 'node:crypto';
import { parseAuthLog } from '../router/parsers/auth-log.js';
import { parsePsSshdOwners, parseSsSessions } from '../router/parsers/ss-sessions.js';
import { parseNetstatSessions } from '../router/parsers/netstat-sessions.js';
import { LogFollower, parseUsersPollAnswer, selfEndpointOf, usersPollCommands, type AuthLogPath, type LogPosition, type LogRequest, type UsersPollAnswer } from '../router/users-poll.js';
import { describeLogSource, logSourceProbe, parseLogSourceProbe, RingBufferFollower, type FoundLogSource } from '../router/users-log-sources.js';
import { sessionId, type SessionEndpoint, type UsersBackend } from '../router/backends/users-backend.js';
import { IptablesUsersBackend, type UsersTool } from '../router/backends/iptables/users-backend.js';
import { shellLine } from '../router/backends/iptables/user-chain.js';
import { SshSessionTracker, canonicalClientAddress } from '../domain/ssh-sessions.js';
import { UserAccountant, usersSnapshot, type SessionReading, type UserDelta } from '../domain/user-usage.js';
import type { Notice, Snapshot } from '../domain/snapshot.js';
import type { Clock } from '../domain/clock.js';
import { sanitizeText } from '../sanitize.js';
import { RouterError } from '../errors.js';

export type { UsersTool };

export interface UsersPollerOptions {
  /** Runs one command in the gateway's shell. */
  run: (command: string) => Promise<string>;
  /** Where the sessions are counted (users-poller-for.ts picks); default: iptables from the two below. */
  backend?: UsersBackend;
  iptables?: UsersTool;
  ip6tables?: UsersTool | null;
  /** The gateway's SSH port (the sessions' and lantop's own). */
  sshPort: number;
  /** lantop logs in over SSH (its own session is then left out); false in local mode. */
  isSsh: boolean;
  clock: Clock;
  router: string;
  /** Longest shell line (the firmware's measure); default 2000. */
  maxLineBytes?: number;
  nonce?: string;
}

export interface UsersPollResult {
  snapshot: Snapshot;
  /** Lantop's own session as the gateway sees it, or null (local mode, or not told). */
  self: { ip: string; port: number } | null;
  /** The rule commands of this poll (shell lines): sent, or only planned with `apply: false`. */
  commands: string[];
  /** The auth log file read (null: none, or the journal / ring buffer: see `logSource`). */
  logFile: AuthLogPath | null;
  /** Where the log came from: the file, the journal or logread; null: no log. */
  logSource: FoundLogSource | null;
  /** Per-user bytes counted in this poll (what the history records: app/users-history.ts). */
  deltas: UserDelta[];
}

const LOOPBACK = /^(?:127\.|::1$)/;
const MAX_NOTICES = 40;

export class UsersPoller {
  readonly tracker: SshSessionTracker;
  readonly accountant = new UserAccountant();
  readonly backend: UsersBackend;
  private readonly follower = new LogFollower();
  private readonly ring = new RingBufferFollower();
  private readonly nonce: string;
  private source: FoundLogSource | null | undefined;
  private position: LogPosition | null = null;
  private cursor: string | null = null;
  private isRestored = false;
  private pending: Notice[] = [];

  constructor(private readonly options: UsersPollerOptions) {
    this.nonce = options.nonce ?? randomBytes(6).toString('hex');
    this.tracker = new SshSessionTracker({ sshPorts: [options.sshPort] });
    if (options.backend !== undefined) this.backend = options.backend;
    else if (options.iptables !== undefined) this.backend = new IptablesUsersBackend({ iptables: options.iptables, ip6tables: options.ip6tables ?? null, sshPort: options.sshPort });
    else throw new TypeError('UsersPoller: a backend, or iptables');
  }

  private notice(level: Notice['level'], text: string): void {
    if (this.pending.length < MAX_NOTICES) this.pending.push({ atMs: this.options.clock.now(), level, text });
  }

  private get maxLineBytes(): number {
    return this.options.maxLineBytes ?? 2000;
  }

  /** Which log the gateway has: probed once (sessions come from `ss` and `ps` alone without one). */
  private async findLog(): Promise<FoundLogSource | null> {
    if (this.source !== undefined) return this.source;
    const found = parseLogSourceProbe(await this.options.run(logSourceProbe()));
    this.source = found;
    if (found === null) this.notice('warn', 'no readable /var/log/auth.log or /var/log/secure, no journalctl, no logread: sessions are found by `ss` and the sshd process titles only');
    else if (found.kind !== 'file') this.notice('info', `reading the SSH log from ${describeLogSource(found)}`);
    return found;
  }

  private logRequest(source: FoundLogSource | null): LogRequest | null {
    if (source === null) return null;
    if (source.kind === 'file') return { kind: 'file', path: source.path, position: this.position };
    return source.kind === 'journal' ? { kind: 'journal', cursor: this.cursor } : { kind: 'logread' };
  }

  /** This poll's new log lines; the position, cursor or ring anchor moves on. */
  private newLogLines(answer: UsersPollAnswer, source: FoundLogSource | null): string | null {
    if (answer.log !== null && source?.kind === 'file') {
      if (answer.log.isRotated) this.notice('info', `${source.path} was rotated: read the rest of ${source.path}.1, then the new file`);
      this.position = answer.log.position;
      return this.follower.read(answer.log);
    }
    if (answer.journal !== null) {
      if (answer.journal.isCursorRefused) this.notice('warn', 'journalctl printed a cursor lantop does not accept: the journal is read again from its last lines');
      // No cursor printed (no new entries): the last one stands; a refused one is forgotten.
      if (answer.journal.cursor !== null || answer.journal.isCursorRefused) this.cursor = answer.journal.cursor;
      return answer.journal.text;
    }
    if (answer.logread !== null) {
      const read = this.ring.read(answer.logread);
      if (read.isWrapped) this.notice('warn', 'the syslog ring buffer no longer holds the last lines read (it wrapped, or the gateway restarted): read whole again; session lines in between may be missed (`ss` still finds the sessions)');
      return read.text;
    }
    return null;
  }

  async poll(pollOptions: { apply?: boolean } = {}): Promise<UsersPollResult> {
    const { options, backend } = this;
    const source = await this.findLog();
    const request = { nonce: this.nonce, log: this.logRequest(source), listings: backend.listingParts() };
    const started = options.clock.now();
    const texts: string[] = [];
    for (const line of usersPollCommands(request, this.maxLineBytes)) texts.push(await options.run(line));
    const answer = parseUsersPollAnswer(texts.join('\n'), request);
    const latency = options.clock.now() - started;
    if (!answer.isComplete) throw new RouterError('The gateway\'s answer to the users poll was cut off.', 'Users mode needs a POSIX shell on the gateway (sh, dash, bash, BusyBox ash) with stat, tail, head, ss (or netstat) and ps; try again, or run with --trace FILE to see what it answered.');
    const now = options.clock.now();
    const reading = backend.read(answer.listings);
    const counters = reading.counters;
    if (!this.isRestored) {
      // After a restart: the sessions the rules' comments name, with the rules' own endpoints.
      this.isRestored = true;
      const restored = this.tracker.restore([...counters.values()], now);
      if (restored.added.length > 0) this.notice('info', `recovered ${restored.added.length} session(s) from the rules' comments`);
    }
    const logText = this.newLogLines(answer, source);
    if (logText !== null) {
      const report = parseAuthLog(logText);
      this.tracker.apply(report.events, now);
      for (const s of report.skipped.slice(0, 5)) this.notice('warn', `auth log line not used (${s.reason}): ${sanitizeText(s.line, 160)}`);
    }
    const sockets = answer.netstat !== null ? parseNetstatSessions(answer.netstat) : parseSsSessions(answer.ss);
    const live = sockets.connections.filter((c) => c.localPort === options.sshPort);
    const result = this.tracker.reconcile(live, now, { processOwners: parsePsSshdOwners(answer.ps).owners });
    for (const c of result.unattributed.slice(0, 5)) this.notice('warn', `an SSH connection from ${c.peerIp} port ${c.peerPort} names no user (no log line, no process title): not counted`);
    const self = options.isSsh ? selfEndpointOf(answer.selfConnection) : null;
    if (options.isSsh && self === null) this.notice('warn', "the gateway's shell has no $SSH_CONNECTION: lantop cannot tell its own login from the users' (it may be counted as its user's)");
    const selfKey = self === null ? null : `${canonicalClientAddress(self.ip) ?? self.ip}|${self.port}`;
    const liveKeys = new Set<string>();
    const localKeys = new Set<string>();
    for (const c of live) {
      const key = `${c.peerIp}|${c.peerPort}`;
      liveKeys.add(key);
      if (LOOPBACK.test(c.peerIp) || c.peerIp === c.localIp) localKeys.add(key);
    }
    const keyOf = (s: { clientIp: string; clientPort: number }) => `${s.clientIp}|${s.clientPort}`;
    const isCounted = (s: { clientIp: string; clientPort: number }) => liveKeys.has(keyOf(s)) && keyOf(s) !== selfKey && !localKeys.has(keyOf(s));
    const wanted = this.tracker.sessions().filter(isCounted);
    // Counters first (read in this round trip, before any rule goes), then the rules change.
    const readings: SessionReading[] = [...counters.values()].filter((c) => keyOf(c) !== selfKey).map((c) => ({ id: c.id, user: c.user, pid: c.pid, clientIp: c.clientIp, clientPort: c.clientPort, downBytes: c.downBytes, upBytes: c.upBytes }));
    const deltas = this.accountant.update(readings, new Set(wanted.map(sessionId)), now);
    const commands = await this.applyPlan(reading, wanted, pollOptions.apply !== false);
    const notices = this.pending;
    this.pending = [];
    if (self !== null) notices.unshift({ atMs: now, level: 'info', text: `lantop's own login (${self.ip} port ${self.port}) is not counted` });
    const snapshot = usersSnapshot(options.router, this.accountant.users(), now, { pollLatencyMs: latency, notices, connected: true });
    return { snapshot, self, commands, logFile: source?.kind === 'file' ? source.path : null, logSource: source, deltas };
  }

  private async applyPlan(reading: ReturnType<UsersBackend['read']>, wanted: readonly SessionEndpoint[], isApplying: boolean): Promise<string[]> {
    const endpoints: SessionEndpoint[] = wanted.map((s) => ({ pid: s.pid, user: s.user, clientIp: s.clientIp, clientPort: s.clientPort }));
    const plan = this.backend.plan(reading, endpoints);
    for (const s of plan.added) this.notice('info', `counting ${s.user}'s session (pid ${s.pid}, ${s.clientIp} port ${s.clientPort})`);
    for (const s of plan.removed) this.notice('info', `session ended: ${s.user} (pid ${s.pid}, ${s.clientIp} port ${s.clientPort}); its bytes stay in the total`);
    for (const n of plan.notes) this.notice('warn', n);
    if (plan.commands.length === 0) return [];
    if (!isApplying) return plan.commands.map(shellLine);
    const outcome = await this.backend.send(this.runCommand, plan.commands, { nonce: this.nonce, maxLineBytes: this.maxLineBytes });
    if (outcome.failed !== null) this.notice('error', `the gateway refused: ${sanitizeText(outcome.failed.command, 200)}: ${sanitizeText(outcome.failed.output, 200)} (tried again next poll)`);
    return outcome.applied;
  }

  private readonly runCommand = (spec: { command: string }) => this.options.run(spec.command);

  /** `teardown`: the commands that take everything lantop put in for the users out again. */
  async planRemoval(): Promise<string[][]> {
    return (await this.backend.planRemoval(this.options.run)).commands;
  }

  /** Sends a plan (teardown) the way polls send theirs; the commands applied, or throws with the refusal. */
  async send(commands: readonly string[][]): Promise<string[]> {
    if (commands.length === 0) return [];
    const outcome = await this.backend.send(this.runCommand, commands, { nonce: this.nonce, maxLineBytes: this.maxLineBytes });
    if (outcome.failed !== null) throw new RouterError(`The gateway refused: ${sanitizeText(outcome.failed.command, 200)}`, 'See what it said below; nothing after that command was sent.', { seen: outcome.failed.output });
    return outcome.applied;
  }
}
