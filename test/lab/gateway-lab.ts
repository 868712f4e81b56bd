// The gateway lab (issue 18; README.md "The gateway lab"): a Linux gateway in a namespace running
// Debian's OpenSSH server and rsyslog with real users, clients that log in from their own namespaces
// and push bytes through `ssh -D`/`-L` tunnels to a server behind the gateway, and an independent
// per-session oracle in the clients. Public face: startGatewayLab() and the GatewayLab class.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canRunLab, type LabCheck } from './lab-check.js';
import { gatewayPaths, writeGatewayFiles } from './gateway-files.js';
import { readLog, rotateLog, waitForLog } from './gateway-log.js';
import {
  CONSOLE_IP, GW_CLIENT_IP, GW_CLIENT_IP6, GW_CONSOLE_IP, GW_SERVER_IP, MAX_CLIENTS, SERVER_IP, SSH_PORT, USER_NAME_PATTERN, addCounts, clientIp,
  clientIp6, defaultGatewayUsers, zeroPortCounts, type AddressFamily, type GatewayUser, type PortCounts, type SyslogTemplate,
} from './gateway-model.js';
import { GatewayProcesses } from './gateway-processes.js';
import { SshTunnel, type TunnelKind } from './gateway-sessions.js';
import { buildGatewayTopology } from './gateway-topology.js';
import { GatewayAgents, forgetClientPort, installClientOracle, readClientOracle, type ClientOracle } from './gateway-traffic.js';
import { labNames, type IptablesBackend } from './lab-model.js';
import {
  acquireConsoleLock, allocatePrefix, cleanupStaleLabs, destroyLabByPrefixSync, installExitHandlers, registerLab, unregisterLab,
} from './lab-registry.js';
import { STATE_ROOT, STEP_TIMEOUT_MS } from './lab-settings.js';
import { settleOracle } from './lab-traffic.js';
import { LabError, run, runSyncQuiet, type ExecResult } from './run-command.js';

export type { AddressFamily, GatewayUser, PortCounts, SyslogTemplate } from './gateway-model.js';
export { HOSTILE_USER } from './gateway-model.js';
export type { TunnelKind } from './gateway-sessions.js';

export interface GatewayLabOptions {
  /** Client namespaces c1..cN (default 2), at 203.0.113.10, .11, … */
  clients?: number;
  /** Default: alice, bob and HOSTILE_USER (`_-odd-name$`), uids 1001–1003. */
  users?: GatewayUser[];
  /** root's password (lantop's own login to the gateway); default 'admin'. */
  rootPassword?: string;
  /** auth.log line format; default 'debian12' (what Debian 12's rsyslog writes). */
  syslogTemplate?: SyslogTemplate;
  /** What `iptables` is in the gateway (its /etc/alternatives): 'nft' (default, Debian 12's) or
   * 'legacy'; 'none': no iptables or ip6tables at all, nftables only (`nft` stays). */
  backend?: GatewayBackend;
  /** The client link carries IPv6 too (2001:db8:ff::/64) and sshd listens on both families. */
  ipv6?: boolean;
}

export type GatewayBackend = IptablesBackend | 'none';

export interface GatewayClient {
  name: string;
  index: number;
  ns: string;
  ip: string;
  /** Its IPv6 address (2001:db8:ff::10, ::11, …) when the lab has `ipv6`. */
  ip6: string | undefined;
}

/** What one session moved on its SSH connection, at the IP level: down = gateway → client. */
export interface SessionCounts extends PortCounts {
  session: number;
  user: string;
  client: string;
  localPort: number;
  ended: boolean;
}

export interface GatewaySession {
  readonly id: number;
  readonly user: string;
  readonly client: GatewayClient;
  readonly tunnel: TunnelKind;
  /** 6: the session's SSH connection goes to 2001:db8:ff::1 from the client's IPv6 address. */
  readonly family: AddressFamily;
  /** The client's TCP port of the SSH connection (`Accepted password for U from IP port N ssh2`). */
  readonly localPort: number;
  /** The forward's port on the client's loopback (SOCKS for -D, the local end for -L). */
  readonly forwardPort: number;
  readonly ended: boolean;
  /** Ends the session: ssh gets SIGTERM (`abrupt`: SIGKILL), then the gateway's end is awaited. */
  end(options?: { abrupt?: boolean }): Promise<void>;
}

class Session implements GatewaySession {
  ended = false;
  /** The oracle's reading when the session ended (what the port moved, all of it). */
  final: PortCounts | undefined;
  /** Subtracted from readings: resetOracle() moves it to "now". */
  baseline = zeroPortCounts();
  private chain: Promise<unknown> = Promise.resolve();

  constructor(readonly id: number, readonly user: string, readonly client: GatewayClient, readonly tunnel: TunnelKind, readonly family: AddressFamily, readonly ssh: SshTunnel,
    private readonly finish: (session: Session, abrupt: boolean) => Promise<void>) {}

  get localPort(): number { return this.ssh.localPort; }
  get forwardPort(): number { return this.ssh.forwardPort; }

  end(options: { abrupt?: boolean } = {}): Promise<void> {
    return this.finish(this, options.abrupt === true);
  }

  /** One push at a time per session (an -L forward's server port takes one connection per push). */
  serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.chain.then(work, work);
    this.chain = next.catch(() => undefined);
    return next;
  }
}

export function canRunGatewayLab(): LabCheck {
  const base = canRunLab();
  if (!base.ok) return base;
  const missing = ['/usr/sbin/sshd', '/usr/bin/ssh', '/usr/bin/ssh-keygen', '/usr/sbin/rsyslogd', '/usr/bin/ss', '/usr/bin/nsenter'].filter((p) => !existsSync(p));
  if (missing.length > 0) return { ok: false, why: `missing ${missing.join(', ')} (Debian: openssh-server openssh-client rsyslog iproute2 util-linux)` };
  return { ok: true };
}

/** For `describe(…, { skip })`: one loud line and the reason; an error under LANTOP_REQUIRE_LAB=1. */
export function gatewaySkipReason(): false | string {
  const check = canRunGatewayLab();
  if (check.ok) return false;
  if (process.env['LANTOP_REQUIRE_LAB'] === '1') throw new LabError(`LANTOP_REQUIRE_LAB=1 but the gateway lab cannot run: ${check.why}`);
  process.stderr.write(`\n*** GATEWAY LAB TESTS SKIPPED: ${check.why} ***\n\n`);
  return `gateway lab cannot run: ${check.why}`;
}

export class GatewayLab {
  readonly prefix: string;
  readonly gatewayNs: string;
  readonly serverNs: string;
  readonly clients: GatewayClient[];
  readonly users: GatewayUser[];
  readonly root: { user: 'root'; password: string };
  /** Where lantop (root namespace) reaches the gateway's sshd; clients use gatewayIp. */
  readonly consoleIp = CONSOLE_IP;
  readonly gatewayConsoleIp = GW_CONSOLE_IP;
  readonly gatewayIp = GW_CLIENT_IP;
  /** The gateway's IPv6 address on the client link (only with `ipv6`). */
  readonly gatewayIp6: string | undefined;
  readonly ipv6: boolean;
  readonly gatewayServerSideIp = GW_SERVER_IP;
  readonly serverIp = SERVER_IP;
  readonly sshPort = SSH_PORT;
  readonly syslogTemplate: SyslogTemplate;
  readonly backend: GatewayBackend;
  /** The gateway's /var/log on this machine (auth.log, syslog, rotated files). */
  readonly logDir: string;
  private readonly dir: string;
  private readonly consoleIf: string;
  private readonly processes: GatewayProcesses;
  private readonly agents: GatewayAgents;
  private readonly sessionList: Session[] = [];
  private nextSessionId = 1;
  private destroyed = false;

  constructor(options: GatewayLabOptions = {}) {
    const count = options.clients ?? 2;
    if (!Number.isInteger(count) || count < 1 || count > MAX_CLIENTS) throw new LabError(`gateway lab: clients must be 1..${MAX_CLIENTS}`);
    this.users = (options.users ?? defaultGatewayUsers()).map((u) => ({ ...u }));
    for (const user of this.users) {
      if (!USER_NAME_PATTERN.test(user.name) || user.name.length > 32 || user.name === 'root') throw new LabError(`gateway lab: bad user name ${JSON.stringify(user.name)}`);
      if (/[\0\n\r]/.test(user.password) || !user.password) throw new LabError('gateway lab: passwords must be non-empty, without NUL/CR/LF');
    }
    this.root = { user: 'root', password: options.rootPassword ?? 'admin' };
    this.syslogTemplate = options.syslogTemplate ?? 'debian12';
    this.backend = options.backend ?? 'nft';
    if (this.backend !== 'nft' && this.backend !== 'legacy' && this.backend !== 'none') throw new LabError(`gateway lab: backend must be 'nft', 'legacy' or 'none'`);
    this.ipv6 = options.ipv6 === true;
    this.gatewayIp6 = this.ipv6 ? GW_CLIENT_IP6 : undefined;
    if (this.syslogTemplate !== 'debian12' && this.syslogTemplate !== 'traditional') throw new LabError(`gateway lab: syslogTemplate must be 'debian12' or 'traditional'`);
    this.prefix = allocatePrefix();
    const names = labNames(this.prefix);
    // The router lab's namespace names (gateway = -r, server = -isp, clients = -hN): cleanup.sh and
    // the stale-lab cleanup remove a gateway lab like any other.
    this.gatewayNs = names.routerNs;
    this.serverNs = names.ispNs;
    this.consoleIf = names.consoleIf;
    this.clients = Array.from({ length: count }, (_, i) => ({ name: `c${i + 1}`, index: i + 1, ns: names.hostNs(i + 1), ip: clientIp(i + 1), ip6: this.ipv6 ? clientIp6(i + 1) : undefined }));
    this.dir = join(STATE_ROOT, this.prefix);
    this.logDir = gatewayPaths(this.dir).log;
    this.processes = new GatewayProcesses(this.gatewayNs, this.dir);
    this.agents = new GatewayAgents(this.serverNs, SERVER_IP);
    registerLab(this);
  }

  async start(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(join(this.dir, 'owner'), `${process.pid}\n`);
    await writeGatewayFiles({ dir: this.dir, users: this.users, rootPassword: this.root.password, template: this.syslogTemplate, backend: this.backend, ipv6: this.ipv6 });
    // One lab at a time on this machine, as for the router lab (lab-registry.ts's lock).
    await acquireConsoleLock(this.prefix);
    await buildGatewayTopology({ gatewayNs: this.gatewayNs, serverNs: this.serverNs, clients: this.clients, consoleIf: this.consoleIf, ipv6: this.ipv6 });
    for (const client of this.clients) await installClientOracle(client.ns);
    await this.processes.startKeeper();
    await this.processes.startDaemon('rsyslogd');
    await this.processes.startDaemon('sshd');
  }

  private assertRunning(): void {
    if (this.destroyed) throw new LabError('gateway lab: already stopped');
  }

  client(ref: string | number): GatewayClient {
    const found = this.clients.find((c) => c.name === ref || c.index === ref || c.ip === ref || (c.ip6 !== undefined && c.ip6 === ref));
    if (!found) throw new LabError(`gateway lab: no client ${String(ref)}`);
    return found;
  }

  // --- sessions and traffic -----------------------------------------------------------------------

  /** `ssh -N -D|-L … USER@203.0.113.1` (`family: 6`: @2001:db8:ff::1) from the client, with the user's password; resolves when logged in. */
  async login(clientRef: string | number, userName: string, options: { tunnel?: TunnelKind; password?: string; family?: AddressFamily } = {}): Promise<GatewaySession> {
    this.assertRunning();
    const client = this.client(clientRef);
    const user = this.users.find((u) => u.name === userName);
    const password = options.password ?? user?.password ?? this.root.password;
    if (!user && userName !== 'root') throw new LabError(`gateway lab: no user ${JSON.stringify(userName)}`);
    const tunnel = options.tunnel ?? 'D';
    const family = options.family ?? 4;
    if (family === 6 && client.ip6 === undefined) throw new LabError('gateway lab: an IPv6 login needs startGatewayLab({ ipv6: true })');
    const id = this.nextSessionId++;
    const clientAddress = family === 6 ? client.ip6! : client.ip;
    const ssh = new SshTunnel({ id, clientNs: client.ns, clientIp: clientAddress, family, user: userName, password, tunnel, clientDir: gatewayPaths(this.dir).client });
    try {
      await ssh.ready();
    } catch (error) {
      ssh.killSync();
      throw error;
    }
    const session = new Session(id, userName, client, tunnel, family, ssh, (s, abrupt) => this.endSession(s, abrupt));
    this.sessionList.push(session);
    return session;
  }

  /** Ends the session and opens a new one for the same user, client and tunnel (a reconnect). */
  async reconnect(session: GatewaySession, options: { abrupt?: boolean } = {}): Promise<GatewaySession> {
    await session.end(options);
    return this.login(session.client.name, session.user, { tunnel: session.tunnel, family: session.family });
  }

  private async endSession(session: Session, abrupt: boolean): Promise<void> {
    if (session.ended) return;
    session.ended = true;
    await session.ssh.stop(abrupt);
    await session.ssh.gatewayReleased(this.gatewayNs);
    await this.settle();
    session.final = (await readClientOracle(session.client.ns))[session.family].get(session.localPort) ?? zeroPortCounts();
    await forgetClientPort(session.client.ns, session.localPort, session.family);
  }

  /** Exactly downBytes server → client and upBytes client → server, through the session's tunnel. */
  async pushThroughTunnel(handle: GatewaySession, amounts: { downBytes: number; upBytes: number; timeoutMs?: number }): Promise<{ downBytes: number; upBytes: number; ms: number }> {
    this.assertRunning();
    const session = this.sessionList.find((s) => s === handle);
    if (!session) throw new LabError('gateway lab: not a session of this lab');
    if (session.ended) throw new LabError(`gateway lab: session ${session.id} has ended`);
    return session.serial(async () => {
      const started = Date.now();
      const route = session.tunnel === 'D'
        ? { clientNs: session.client.ns, socksPort: session.forwardPort }
        : { clientNs: session.client.ns, localPort: session.forwardPort, serverPort: session.ssh.serverPort! };
      const moved = await this.agents.push(route, amounts);
      await this.settle();
      return { ...moved, ms: Date.now() - started };
    });
  }

  sessions(): GatewaySession[] {
    return [...this.sessionList];
  }

  // --- the oracle -------------------------------------------------------------------------------

  private async rawBySession(): Promise<Array<{ session: Session; counts: PortCounts }>> {
    const live = new Map<string, ClientOracle>();
    for (const client of this.clients) {
      if (this.sessionList.some((s) => !s.ended && s.client === client)) live.set(client.ns, await readClientOracle(client.ns));
    }
    return this.sessionList.map((session) => {
      const counts = { ...(session.final ?? live.get(session.client.ns)?.[session.family].get(session.localPort) ?? zeroPortCounts()) };
      addCounts(counts, session.baseline, -1);
      return { session, counts };
    });
  }

  /** Every session's IP-level bytes and packets on its SSH connection (since login or resetOracle()). */
  async oracleBySession(): Promise<SessionCounts[]> {
    this.assertRunning();
    return (await this.rawBySession()).map(({ session, counts }) => ({
      ...counts, session: session.id, user: session.user, client: session.client.name, localPort: session.localPort, ended: session.ended,
    }));
  }

  /** The sessions' counts summed per user; every lab user is listed (zeros when idle). */
  async oracleByUser(): Promise<Record<string, PortCounts>> {
    this.assertRunning();
    const result: Record<string, PortCounts> = {};
    for (const user of this.users) result[user.name] = zeroPortCounts();
    for (const { session, counts } of await this.rawBySession()) addCounts((result[session.user] ??= zeroPortCounts()), counts);
    return result;
  }

  /** From now on the oracle counts from zero (sessions keep their identity; ended ones stay at zero). */
  async resetOracle(): Promise<void> {
    this.assertRunning();
    for (const { session, counts } of await this.rawBySession()) addCounts(session.baseline, counts);
  }

  /** Until the clients' counters stay the same for 200 ms (lab-traffic.ts settleOracle). */
  async settle(): Promise<void> {
    await settleOracle(async () => Promise.all(this.clients.map(async (c) => {
      const oracle = await readClientOracle(c.ns);
      return [[...oracle[4]], [...oracle[6]]];
    })));
  }

  // --- the gateway's log and daemons ----------------------------------------------------------------

  /** The gateway's /var/log/auth.log now (or another file of its /var/log). */
  authLog(file = 'auth.log'): string {
    return readLog(this.logDir, file);
  }

  waitForLog(pattern: RegExp, options: { count?: number; timeoutMs?: number; file?: string } = {}): Promise<string[]> {
    return waitForLog(this.logDir, pattern, options);
  }

  /** What logrotate does for rsyslog's files on Debian: rename, new empty file, HUP rsyslogd. */
  async rotateLog(): Promise<void> {
    this.assertRunning();
    await rotateLog(this.logDir, () => this.processes.signal('rsyslogd', 'SIGHUP'));
  }

  /** sshd's listener pid (what /run/sshd.pid in the gateway holds). */
  sshdPid(): number | undefined {
    return this.processes.daemonPid('sshd');
  }

  /** A program in the gateway (network, mount, UTS namespaces), argument array only. */
  exec(argv: readonly string[], options: { timeoutMs?: number; input?: string } = {}): Promise<ExecResult> {
    this.assertRunning();
    return this.processes.exec(argv, options);
  }

  clientExec(clientRef: string | number, argv: readonly string[], options: { timeoutMs?: number } = {}): Promise<ExecResult> {
    this.assertRunning();
    return run(['ip', 'netns', 'exec', this.client(clientRef).ns, ...argv], { timeoutMs: options.timeoutMs ?? STEP_TIMEOUT_MS });
  }

  diagnostics(): string {
    return this.processes.diagnostics();
  }

  async stop(): Promise<void> {
    this.destroySync();
  }

  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const session of this.sessionList) session.ssh.killSync();
    this.agents.killAll();
    this.processes.killAllSync();
    destroyLabByPrefixSync(this.prefix);
    unregisterLab(this);
  }
}

/** Everything up in a couple of seconds; cleans up after itself if it fails. */
export async function startGatewayLab(options: GatewayLabOptions = {}): Promise<GatewayLab> {
  installExitHandlers();
  cleanupStaleLabs();
  const lab = new GatewayLab(options);
  try {
    await lab.start();
  } catch (error) {
    const why = lab.diagnostics();
    lab.destroySync();
    if (error instanceof Error && why) error.message += `\n${why}`;
    throw error;
  }
  return lab;
}

/** For tests: namespaces of this lab still present (teardown check). */
export function labNamespacesLeft(prefix: string): string[] {
  return runSyncQuiet(['ip', 'netns', 'list']).stdout.split('\n').map((l) => l.split(' ')[0] ?? '').filter((ns) => ns.startsWith(`${prefix}-`));
}
