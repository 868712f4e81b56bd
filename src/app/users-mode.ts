// Users mode (issue 18): per-user accounting over the SSH sessions of a Linux gateway. Each poll is
// one round trip (router/users-poll.ts): lantop's own login, the auth log's new lines, the live
// sockets, the sshd process titles and the users chain. The session tracker (domain/ssh-sessions.ts)
// is fed the log events and then the live sockets; the chain's counters are read (before any rule
// goes) into the user accountant (domain/user-usage.ts); then the rules are brought to exactly the
// live, attributable sessions by one plan per family (router/backends/iptables/user-chain.ts),
// sent as `&&` shell lines through the iptables backend's shell-batch delivery.
//
// Left out on purpose: lantop's own login (its client address and port as the gateway sees them,
// `$SSH_CONNECTION` of the shell lantop's commands run in: the socket the transport holds), and
// sessions from the gateway itself (loopback, or a peer address that is the socket's own), whose
// packets pass INPUT and OUTPUT both.
import { randomBytes } from 'node:crypto';
import { parseAuthLog } from '../router/parsers/auth-log.js';
import { parsePsSshdOwners, parseSsSessions } from '../router/parsers/ss-sessions.js';
import { parseIptablesListing } from '../router/parsers/iptables-listing.js';
import type { IptablesListing } from '../router/parsers/types.js';
import { AUTH_LOG_CANDIDATES, LogFollower, parseUsersPollAnswer, selfEndpointOf, usersPollCommands, type AuthLogPath, type LogPosition } from '../router/users-poll.js';
import { planUserChain, readSessionCounters, sessionId, shellLine, type SessionCounters, type SessionEndpoint, type UserChainPlan } from '../router/backends/iptables/user-chain.js';
import { deliverShellBatch, type ShellBatchLine } from '../router/backends/iptables/apply/shell-batch.js';
import { marker } from '../router/backends/iptables/apply/markers.js';
import { SshSessionTracker, canonicalClientAddress, type SshSession } from '../domain/ssh-sessions.js';
import { UserAccountant, usersSnapshot, type SessionReading, type UserDelta } from '../domain/user-usage.js';
import type { Notice, Snapshot } from '../domain/snapshot.js';
import type { Clock } from '../domain/clock.js';
import { sanitizeText } from '../sanitize.js';
import { RouterError } from '../errors.js';

export interface UsersTool {
  /** What lists (`iptables`, or a path). */
  command: string;
  /** What the rules name (the plan's first word). */
  binary: string;
}

export interface UsersPollerOptions {
  /** Runs one command in the gateway's shell. */
  run: (command: string) => Promise<string>;
  iptables: UsersTool;
  ip6tables: UsersTool | null;
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
  logFile: AuthLogPath | null;
  /** Per-user bytes counted in this poll (what the history records: app/users-history.ts). */
  deltas: UserDelta[];
}

const LOOPBACK = /^(?:127\.|::1$)/;
const MAX_NOTICES = 40;

function shellLinesOf(nonce: string, commands: readonly string[][], maxLineBytes: number): ShellBatchLine[] {
  const lines: ShellBatchLine[] = [];
  const tail = `;${marker(nonce, 'a${_L}')}`;
  let body = '';
  let batch: string[] = [];
  for (const argv of commands) {
    const text = shellLine(argv);
    const next = `${body}${batch.length === 0 ? '' : '&&'}${text}&&_L=${batch.length + 1}`;
    if (batch.length > 0 && 5 + next.length + tail.length > maxLineBytes) {
      lines.push({ line: `_L=0;${body}${tail}`, commands: batch });
      body = `${text}&&_L=1`;
      batch = [text];
    } else {
      body = next;
      batch.push(text);
    }
  }
  if (batch.length > 0) lines.push({ line: `_L=0;${body}${tail}`, commands: batch });
  return lines;
}

export class UsersPoller {
  readonly tracker: SshSessionTracker;
  readonly accountant = new UserAccountant();
  private readonly follower = new LogFollower();
  private readonly nonce: string;
  private logFile: AuthLogPath | null | undefined;
  private position: LogPosition | null = null;
  private isRestored = false;
  private pending: Notice[] = [];

  constructor(private readonly options: UsersPollerOptions) {
    this.nonce = options.nonce ?? randomBytes(6).toString('hex');
    this.tracker = new SshSessionTracker({ sshPorts: [options.sshPort] });
  }

  private notice(level: Notice['level'], text: string): void {
    if (this.pending.length < MAX_NOTICES) this.pending.push({ atMs: this.options.clock.now(), level, text });
  }

  /** Which auth log the gateway has: probed once (sessions come from `ss` and `ps` alone without one). */
  private async findLog(): Promise<AuthLogPath | null> {
    if (this.logFile !== undefined) return this.logFile;
    const answer = await this.options.run(AUTH_LOG_CANDIDATES.map((f) => `[ -r ${f} ] && echo "LOG=${f}"`).join('; ') + '; true');
    const found = AUTH_LOG_CANDIDATES.find((f) => answer.split('\n').some((l) => l.trim() === `LOG=${f}`)) ?? null;
    this.logFile = found;
    if (found === null) this.notice('warn', 'no readable /var/log/auth.log or /var/log/secure: sessions are found by `ss` and the sshd process titles only');
    return found;
  }

  async poll(pollOptions: { apply?: boolean } = {}): Promise<UsersPollResult> {
    const { options } = this;
    const logFile = await this.findLog();
    const request = { nonce: this.nonce, logFile, position: this.position, iptables: options.iptables.command, ip6tables: options.ip6tables?.command ?? null };
    const started = options.clock.now();
    const texts: string[] = [];
    for (const line of usersPollCommands(request, options.maxLineBytes ?? 2000)) texts.push(await options.run(line));
    const answer = parseUsersPollAnswer(texts.join('\n'), request);
    const latency = options.clock.now() - started;
    if (!answer.isComplete) throw new RouterError('The gateway\'s answer to the users poll was cut off.', 'Users mode needs a POSIX shell on the gateway (sh, dash, bash, BusyBox ash) with stat, tail, head, ss and ps; try again, or run with --trace FILE to see what it answered.');
    const now = options.clock.now();
    const listing4 = parseIptablesListing(answer.listing4);
    const listing6 = answer.listing6 === null ? null : parseIptablesListing(answer.listing6);
    if (!listing4.chains.some((c) => c.name === 'INPUT')) throw new RouterError('iptables did not list its INPUT chain on the gateway.', 'Users mode needs root (or sudo) and iptables on the gateway.', { seen: sanitizeText(answer.listing4, 400) });
    const counters = this.countersOf(listing4, listing6);
    if (!this.isRestored) {
      // After a restart: the sessions the rules' comments name, with the rules' own endpoints.
      this.isRestored = true;
      const restored = this.tracker.restore([...counters.values()], now);
      if (restored.added.length > 0) this.notice('info', `recovered ${restored.added.length} session(s) from the rules' comments`);
    }
    if (answer.log !== null) {
      if (answer.log.isRotated) this.notice('info', `${logFile} was rotated: read the rest of ${logFile}.1, then the new file`);
      const report = parseAuthLog(this.follower.read(answer.log));
      this.tracker.apply(report.events, now);
      for (const s of report.skipped.slice(0, 5)) this.notice('warn', `auth log line not used (${s.reason}): ${sanitizeText(s.line, 160)}`);
      this.position = answer.log.position;
    }
    const live = parseSsSessions(answer.ss).connections.filter((c) => c.localPort === options.sshPort);
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
    const commands = await this.applyPlans(listing4, listing6, wanted, pollOptions.apply !== false);
    const notices = this.pending;
    this.pending = [];
    if (self !== null) notices.unshift({ atMs: now, level: 'info', text: `lantop's own login (${self.ip} port ${self.port}) is not counted` });
    const snapshot = usersSnapshot(options.router, this.accountant.users(), now, { pollLatencyMs: latency, notices, connected: true });
    return { snapshot, self, commands, logFile, deltas };
  }

  /** Both families' session counters, summed per session. */
  private countersOf(listing4: IptablesListing, listing6: IptablesListing | null): Map<string, SessionCounters> {
    const all = readSessionCounters(listing4, this.options.sshPort, 4);
    if (listing6 !== null) for (const [id, c] of readSessionCounters(listing6, this.options.sshPort, 6)) all.set(id, c);
    return all;
  }

  private async applyPlans(listing4: IptablesListing, listing6: IptablesListing | null, wanted: readonly SshSession[], isApplying: boolean): Promise<string[]> {
    const { options } = this;
    const endpoints: SessionEndpoint[] = wanted.map((s) => ({ pid: s.pid, user: s.user, clientIp: s.clientIp, clientPort: s.clientPort }));
    const plans: UserChainPlan[] = [planUserChain(listing4, { iptables: options.iptables.binary, family: 4, sshPort: options.sshPort, sessions: endpoints.filter((s) => !s.clientIp.includes(':')) })];
    if (listing6 !== null && options.ip6tables !== null) plans.push(planUserChain(listing6, { iptables: options.ip6tables.binary, family: 6, sshPort: options.sshPort, sessions: endpoints.filter((s) => s.clientIp.includes(':')) }));
    else if (endpoints.some((s) => s.clientIp.includes(':'))) this.notice('warn', 'IPv6 sessions are not counted: the gateway has no ip6tables');
    const commands = plans.flatMap((p) => p.commands);
    for (const p of plans) {
      for (const s of p.added) this.notice('info', `counting ${s.user}'s session (pid ${s.pid}, ${s.clientIp} port ${s.clientPort})`);
      for (const s of p.removed) this.notice('info', `session ended: ${s.user} (pid ${s.pid}, ${s.clientIp} port ${s.clientPort}); its bytes stay in the total`);
      for (const n of p.notes) this.notice('warn', n);
    }
    if (commands.length === 0) return [];
    if (!isApplying) return commands.map(shellLine);
    const lines = shellLinesOf(this.nonce, commands, options.maxLineBytes ?? 2000);
    const outcome = await deliverShellBatch((spec) => options.run(spec.command), lines, this.nonce);
    if (outcome.failed !== null) this.notice('error', `the gateway refused: ${sanitizeText(outcome.failed.command, 200)}: ${sanitizeText(outcome.failed.output, 200)} (tried again next poll)`);
    return outcome.applied;
  }

  /** `teardown`: the commands that take the users chain and its jumps out of both families. */
  async planRemoval(): Promise<string[][]> {
    const { options } = this;
    const text = await options.run(`${options.iptables.command} -L INPUT -v -x -n --line-numbers 2>&1; ${options.iptables.command} -L OUTPUT -v -x -n --line-numbers 2>&1; ${options.iptables.command} -L LANTOP_USERS -v -x -n --line-numbers 2>/dev/null`);
    const commands = planUserChain(parseIptablesListing(text), { iptables: options.iptables.binary, family: 4, sshPort: options.sshPort, sessions: [], remove: true }).commands;
    if (options.ip6tables !== null) {
      const c = options.ip6tables.command;
      const text6 = await options.run(`${c} -L INPUT -v -x -n --line-numbers 2>&1; ${c} -L OUTPUT -v -x -n --line-numbers 2>&1; ${c} -L LANTOP_USERS -v -x -n --line-numbers 2>/dev/null`);
      commands.push(...planUserChain(parseIptablesListing(text6), { iptables: options.ip6tables.binary, family: 6, sshPort: options.sshPort, sessions: [], remove: true }).commands);
    }
    return commands;
  }

  /** Sends a plan (teardown) the way polls send theirs; the commands applied, or throws with the refusal. */
  async send(commands: readonly string[][]): Promise<string[]> {
    if (commands.length === 0) return [];
    const outcome = await deliverShellBatch((spec) => this.options.run(spec.command), shellLinesOf(this.nonce, commands, this.options.maxLineBytes ?? 2000), this.nonce);
    if (outcome.failed !== null) throw new RouterError(`The gateway refused: ${sanitizeText(outcome.failed.command, 200)}`, 'See what it said below; nothing after that command was sent.', { seen: outcome.failed.output });
    return outcome.applied;
  }
}
