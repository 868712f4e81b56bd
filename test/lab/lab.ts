// The router lab: a consumer router built from network namespaces, real iptables (legacy or nft),
// real BusyBox telnetd with a Broadcom-style CLI, real dropbear, LAN hosts, an ISP with a traffic
// server, and an independent nftables oracle that counts per-host bytes. See test/lab/README.md.
//
// Everything here runs programs with argument arrays (run-command.ts) and a deadline, and everything
// it creates is registered for cleanup: stop(), process exit, SIGINT/SIGTERM, and stale labs of dead
// processes at the next start. test/lab/cleanup.sh removes leftovers by hand.
import { spawn, type ChildProcess } from 'node:child_process';
import {
  copyFileSync, chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  CONSOLE_IP, CONSOLE_MAC, ISP_IP, ISP_MAC, LAB_NAMESPACE_PATTERN, MAX_HOSTS, ORACLE_TABLE, ROUTER_LAN_IP,
  ROUTER_LAN_MAC, ROUTER_WAN_IP, ROUTER_WAN_MAC, WAN_PREFIX_LENGTH, bootRuleset, defaultHostname,
  formatDnsmasqLeases, formatLanhostsTable, hostIp, hostMac, hostileHostnames, labNames, labPrefix,
  normalizeIptablesSave, oracleRuleset, parseOracleCounters,
  type IptablesBackend, type LabLease, type LabNames, type OracleCounts,
} from './lab-model.js';
import { LabError, run, runOk, runSyncQuiet, sleep, waitFor, type ExecResult } from './run-command.js';
import {
  CLI_TEXTS, cliDialogue, cliEnvironment, resolveProfile,
  type CliDialogue, type LabVariantName, type RouterProfile,
} from './lab-variants.js';

export type { IptablesBackend, LabLease, OracleCounts, OracleHostCounts } from './lab-model.js';
export type { ExecResult } from './run-command.js';
export type { CliDialogue, LabVariantName, RouterProfile } from './lab-variants.js';
export { LAB_VARIANT_NAMES, cliDialogue, nameSource, resolveProfile } from './lab-variants.js';
export { LabError } from './run-command.js';

const LAB_SOURCE_DIR = dirname(fileURLToPath(import.meta.url));
const CLI_PATH = join(LAB_SOURCE_DIR, 'broadcom-cli.sh');
const AGENT_PATH = join(LAB_SOURCE_DIR, 'traffic-agent.mjs');
const RELAY_PATH = join(LAB_SOURCE_DIR, 'slow-relay.mjs');
/** Where telnetd listens (loopback only) when the slow relay owns port 23. */
const RELAYED_TELNET_PORT = 2323;
const FIXTURES_DIR = join(LAB_SOURCE_DIR, '..', '..', 'fixtures');
/** GNU inetutils' telnetd and inetd (Debian: inetutils-telnetd, which pulls in inetutils-inetd). */
const INETUTILS_TELNETD = '/usr/sbin/telnetd';
const INETUTILS_INETD = '/usr/sbin/inetutils-inetd';
/** Per-lab state (config files, the router's /tmp, host key). Outside /tmp on purpose: the router's
 * mount namespace bind-mounts its own /tmp over /tmp, which would hide a state dir living under it. */
const STATE_ROOT = process.env['LANTOP_LAB_STATE'] ?? '/run/lantop-lab';
const CONSOLE_LOCK = join(STATE_ROOT, 'console.lock');
const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const TELNET_PORT = 23;
const SSH_PORT = 22;
const STEP_TIMEOUT_MS = 10_000;
const DAEMON_START_TIMEOUT_MS = 5_000;
const LOCK_TIMEOUT_MS = Number(process.env['LANTOP_LAB_LOCK_TIMEOUT_MS'] ?? 300_000);

const BACKEND_BINARIES: Record<IptablesBackend, Record<string, string>> = {
  legacy: {
    iptables: '/usr/sbin/iptables-legacy',
    'iptables-save': '/usr/sbin/iptables-legacy-save',
    'iptables-restore': '/usr/sbin/iptables-legacy-restore',
  },
  nft: {
    iptables: '/usr/sbin/iptables-nft',
    'iptables-save': '/usr/sbin/iptables-nft-save',
    'iptables-restore': '/usr/sbin/iptables-nft-restore',
  },
};

// ---------------------------------------------------------------------------------------------
// Can this machine run the lab?

export type LabCheck = { ok: true } | { ok: false; why: string };
let cachedCheck: LabCheck | undefined;

const REQUIRED_PROGRAMS = [
  'ip', 'nft', 'iptables-legacy', 'iptables-nft', 'iptables-legacy-save', 'iptables-nft-save',
  'iptables-legacy-restore', 'iptables-nft-restore', 'busybox', 'dropbear', 'dropbearkey', 'openssl',
  'setpriv', 'nsenter', 'unshare', 'mount', 'bash', 'sleep',
];

function findProgram(name: string): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  for (const dir of dirs) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** Whether the lab can run here (root, tools, namespaces, both iptables backends). Cached; synchronous. */
export function canRunLab(): LabCheck {
  cachedCheck ??= checkLab();
  return cachedCheck;
}

function checkLab(): LabCheck {
  if (process.platform !== 'linux') return { ok: false, why: `needs Linux, this is ${process.platform}` };
  if (process.getuid?.() !== 0) return { ok: false, why: 'needs root (network namespaces, iptables, daemons on ports 22/23)' };
  const missing = REQUIRED_PROGRAMS.filter((name) => !findProgram(name));
  if (missing.length > 0) {
    return { ok: false, why: `missing programs: ${missing.join(', ')} (Debian: iproute2 iptables nftables busybox-static dropbear-bin openssl util-linux)` };
  }
  const applets = runSyncQuiet(['busybox', '--list']).stdout.split('\n');
  if (!applets.includes('telnetd')) return { ok: false, why: 'this busybox has no telnetd applet (install busybox-static)' };
  const probe = `ltprobe${process.pid % 100000}`;
  try {
    if (runSyncQuiet(['ip', 'netns', 'add', probe]).code !== 0) return { ok: false, why: 'cannot create a network namespace (ip netns add failed)' };
    for (const argv of [['iptables-legacy', '-t', 'nat', '-S'], ['iptables-nft', '-t', 'nat', '-S'], ['nft', 'list', 'tables']]) {
      if (runSyncQuiet(['ip', 'netns', 'exec', probe, ...argv]).code !== 0) {
        return { ok: false, why: `\`${argv.join(' ')}\` fails inside a namespace (kernel modules?)` };
      }
    }
  } finally {
    runSyncQuiet(['ip', 'netns', 'del', probe]);
  }
  return { ok: true };
}

/**
 * For `describe(..., { skip: labSkipReason() })`: false when the lab can run; otherwise prints ONE
 * loud line and returns the reason. With LANTOP_REQUIRE_LAB=1 (CI) a lab that cannot run is an error.
 */
export function labSkipReason(): false | string {
  const check = canRunLab();
  if (check.ok) return false;
  if (process.env['LANTOP_REQUIRE_LAB'] === '1') throw new LabError(`LANTOP_REQUIRE_LAB=1 but the lab cannot run: ${check.why}`);
  process.stderr.write(`\n*** LAB TESTS SKIPPED: ${check.why} ***\n\n`);
  return `lab cannot run: ${check.why}`;
}

/** What a variant needs beyond REQUIRED_PROGRAMS; { ok: true } when this machine has it. */
export function canRunVariant(variant: LabVariantName = 'cms', overrides: Partial<RouterProfile> = {}): LabCheck {
  const base = canRunLab();
  if (!base.ok) return base;
  const profile = resolveProfile(variant, overrides);
  if (profile.telnetd === 'inetutils') {
    for (const path of [INETUTILS_TELNETD, INETUTILS_INETD]) {
      if (!existsSync(path)) return { ok: false, why: `variant ${variant} needs ${path} (Debian: inetutils-telnetd)` };
    }
    const version = runSyncQuiet([INETUTILS_TELNETD, '--version']).stdout;
    if (!/inetutils/i.test(version)) return { ok: false, why: `${INETUTILS_TELNETD} is not GNU inetutils' telnetd (Debian: inetutils-telnetd)` };
  }
  return { ok: true };
}

/** Like labSkipReason(), for one variant: one loud line and the reason, or an error under LANTOP_REQUIRE_LAB=1. */
export function variantSkipReason(variant: LabVariantName = 'cms', overrides: Partial<RouterProfile> = {}): false | string {
  const base = labSkipReason();
  if (base) return base;
  const check = canRunVariant(variant, overrides);
  if (check.ok) return false;
  if (process.env['LANTOP_REQUIRE_LAB'] === '1') throw new LabError(`LANTOP_REQUIRE_LAB=1 but lab variant ${variant} cannot run: ${check.why}`);
  process.stderr.write(`\n*** LAB VARIANT ${variant} SKIPPED: ${check.why} ***\n\n`);
  return `lab variant ${variant} cannot run: ${check.why}`;
}

// ---------------------------------------------------------------------------------------------
// Public API

export interface LabOptions {
  /** LAN hosts h1..hN (default 3). */
  hosts?: number;
  backend?: IptablesBackend;
  /** Login for telnet (CLI) and SSH. User default `admin`; password default `admin`. */
  user?: string;
  password?: string;
  /** Lease hostnames for h1..hN; default: 'alice-laptop', 'bobs-phone', '' (no name), 'host-4'… */
  hostnames?: Array<string | Buffer>;
  /** First line the CLI prints on connect. */
  banner?: string;
  /**
   * The `# ` shell behind `sh` (telnet) and SSH logins. 'plain' (default): an ash (dash) without
   * line editing, like old Broadcom BusyBox builds. 'busybox': Debian's BusyBox ash with line
   * editing, which sends a cursor-position query (ESC [ 6 n) after every prompt.
   */
  shell?: 'plain' | 'busybox';
  /**
   * Which real-firmware behaviour the router shows (lab-variants.ts, sources in SOURCE.md): 'cms'
   * (default), 'unknown-silent', 'unknown-consoled', 'lanhosts-sdk', 'huawei-atp', 'tplink-hash',
   * 'inetutils-telnetd', 'slow-chunked', 'ssh-no-leases'.
   */
  variant?: LabVariantName;
  /** Single aspects on top of the variant (e.g. { unknownCommand: 'silent', telnetd: 'inetutils' }). */
  profile?: Partial<RouterProfile>;
}

export interface LabHost {
  index: number;
  /** h1, h2, … */
  name: string;
  ns: string;
  ip: string;
  mac: string;
  /** The lease hostname as text (lossy for non-UTF-8 names; '' = no name). */
  hostname: string;
  hostnameBytes: Buffer;
}

export type HostRef = number | string | LabHost;

export interface TransferResult {
  host: string;
  downBytes: number;
  upBytes: number;
  ms: number;
}

export interface Lab {
  readonly prefix: string;
  readonly backend: IptablesBackend;
  readonly routerIp: string;
  readonly telnetPort: number;
  readonly sshPort: number;
  readonly user: string;
  readonly password: string;
  readonly routerNs: string;
  readonly ispNs: string;
  readonly variant: LabVariantName;
  readonly profile: RouterProfile;
  /** Login prompts, CLI prompt and hidden shell command of this router's telnet CLI. */
  readonly dialogue: CliDialogue;
  /** The root namespace's own port on br0 (lantop connects from here); it is in the router's ARP table. */
  readonly console: { ip: string; mac: string; iface: string };
  readonly hosts: readonly LabHost[];
  readonly leases: readonly LabLease[];
  /** File name the hostile hostnames touch in /tmp; see markerExists(). */
  readonly markerName: string;

  /** hK downloads exactly downBytes and uploads exactly upBytes (application bytes, one TCP
   * connection through the router's NAT to the ISP), then waits until the oracle settles. */
  transfer(host: HostRef, amounts: { downBytes: number; upBytes: number; timeoutMs?: number }): Promise<TransferResult>;
  /** Ground truth: per-host IP-level bytes/packets forwarded via ppp0, independent of any TRAFFIC chain. */
  oracle(): Promise<OracleCounts>;
  resetOracle(): Promise<void>;
  /** Waits until the oracle stops changing (in-flight ACKs/FINs), returns its final reading. */
  settle(): Promise<OracleCounts>;
  /** Router reboot: every process in the router killed (sessions drop), all iptables state replaced
   * by the boot firewall (counters zero), ARP flushed; after downMs the daemons come back. */
  reboot(options?: { downMs?: number }): Promise<void>;
  /** SIGKILL telnetd (its sessions die with it); restarted after downMs. */
  killTelnetd(options?: { downMs?: number }): Promise<void>;
  /** SIGKILL dropbear and its sessions; restarted after downMs. */
  killSshd(options?: { downMs?: number }): Promise<void>;
  /** ppp0 down for `ms`, then up with the default route restored (NAT flows on it break). */
  flapWan(ms: number): Promise<void>;
  /** The router's bridge port towards the console goes down for `ms`: lantop's packets vanish. */
  flapLan(ms: number): Promise<void>;
  /** Replaces the DHCP lease table (`lanhosts show all` and /tmp/dhcp.leases). */
  setLeases(leases: readonly LabLease[]): Promise<void>;
  /** Hostile names whose commands would touch /tmp/<markerName>. */
  hostileHostnames(): Array<string | Buffer>;
  /** True when /tmp/<markerName> exists in the router's /tmp or in this machine's /tmp. */
  markerExists(): boolean;
  /** Every host pings the router and the router pings the console, so the ARP table is complete. */
  refreshArp(): Promise<void>;
  /** `iptables-save` of the router (its backend). Default: `#` lines dropped and chain counters
   * zeroed, so two dumps compare byte for byte; `raw: true` returns it untouched. */
  iptablesSave(options?: { counters?: boolean; raw?: boolean }): Promise<string>;
  /** Runs a program in the router (its network and mount namespaces; the lab's iptables first in PATH). */
  exec(argv: readonly string[], options?: { timeoutMs?: number; input?: string }): Promise<ExecResult>;
  /** Runs a program in a LAN host's namespace. */
  hostExec(host: HostRef, argv: readonly string[], options?: { timeoutMs?: number }): Promise<ExecResult>;
  /** Last stderr lines of the daemons, for failure messages. */
  diagnostics(): string;
  stop(): Promise<void>;
}

/** Builds and starts a lab. On any failure everything created so far is removed before it throws. */
export async function startLab(options: LabOptions = {}): Promise<Lab> {
  const check = canRunLab();
  if (!check.ok) throw new LabError(`the lab cannot run here: ${check.why}`);
  const variantCheck = canRunVariant(options.variant ?? 'cms', options.profile ?? {});
  if (!variantCheck.ok) throw new LabError(`the lab cannot run here: ${variantCheck.why}`);
  installExitHandlers();
  cleanupStaleLabs();
  const lab = new RouterLab(options);
  try {
    await lab.start();
  } catch (error) {
    const diagnostics = lab.diagnostics();
    lab.destroySync();
    if (error instanceof Error && diagnostics) error.message += `\n--- lab diagnostics ---\n${diagnostics}`;
    throw error;
  }
  return lab;
}

// ---------------------------------------------------------------------------------------------
// Cleanup registry

const activeLabs = new Set<RouterLab>();
let exitHandlersInstalled = false;

function installExitHandlers(): void {
  if (exitHandlersInstalled) return;
  exitHandlersInstalled = true;
  process.on('exit', destroyAllSync);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = (): void => {
      destroyAllSync();
      process.removeListener(signal, handler);
      process.kill(process.pid, signal);
    };
    process.on(signal, handler);
  }
}

function destroyAllSync(): void {
  for (const lab of [...activeLabs]) lab.destroySync();
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwner(dir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dir, 'owner'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Removes everything a lab with this prefix may have left: processes, namespaces, console veth, state. */
export function destroyLabByPrefixSync(prefix: string): void {
  const names = labNames(prefix);
  const namespaces = runSyncQuiet(['ip', 'netns', 'list']).stdout
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((ns) => LAB_NAMESPACE_PATTERN.exec(ns)?.[1] === prefix);
  for (const ns of namespaces) {
    for (const pid of runSyncQuiet(['ip', 'netns', 'pids', ns]).stdout.split('\n')) {
      if (/^\d+$/.test(pid)) {
        try { process.kill(Number(pid), 'SIGKILL'); } catch { /* already gone */ }
      }
    }
  }
  runSyncQuiet(['ip', 'link', 'del', names.consoleIf]);
  for (const ns of namespaces) runSyncQuiet(['ip', 'netns', 'del', ns]);
  const dir = join(STATE_ROOT, prefix);
  rmSync(dir, { recursive: true, force: true });
  releaseConsoleLock(prefix);
}

function cleanupStaleLabs(): void {
  if (!existsSync(STATE_ROOT)) return;
  for (const entry of readdirSync(STATE_ROOT)) {
    if (!/^lt\d{1,4}[a-z]$/.test(entry)) continue;
    const owner = readOwner(join(STATE_ROOT, entry));
    if (owner === undefined || !isAlive(owner)) destroyLabByPrefixSync(entry);
  }
  const lockOwner = readOwner(CONSOLE_LOCK);
  if (existsSync(CONSOLE_LOCK) && (lockOwner === undefined || !isAlive(lockOwner))) {
    rmSync(CONSOLE_LOCK, { recursive: true, force: true });
  }
}

// The console (198.51.100.254 + a route for 198.51.100.0/24 in the root namespace) can exist for
// one lab at a time on a machine: labs in parallel processes queue here, bounded by LOCK_TIMEOUT_MS.
async function acquireConsoleLock(prefix: string): Promise<void> {
  mkdirSync(STATE_ROOT, { recursive: true });
  const deadline = Date.now() + LOCK_TIMEOUT_MS;
  let announced = false;
  for (;;) {
    const staging = join(STATE_ROOT, `.lock-${prefix}-${process.pid}`);
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging);
    writeFileSync(join(staging, 'owner'), `${process.pid}\n${prefix}\n`);
    try {
      renameSync(staging, CONSOLE_LOCK); // atomic; fails while another lab holds the lock
      return;
    } catch {
      rmSync(staging, { recursive: true, force: true });
    }
    const owner = readOwner(CONSOLE_LOCK);
    if (owner === process.pid) throw new LabError('lab: this process already runs a lab; stop() it before starting another');
    if (owner !== undefined && !isAlive(owner)) {
      rmSync(CONSOLE_LOCK, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new LabError(`lab: another lab (pid ${owner}) held the console for ${LOCK_TIMEOUT_MS} ms`);
    if (!announced) {
      process.stderr.write(`lab ${prefix}: waiting for the lab of pid ${owner} to finish (one console at a time)\n`);
      announced = true;
    }
    await sleep(200);
  }
}

function releaseConsoleLock(prefix: string): void {
  try {
    const [pid, owner] = readFileSync(join(CONSOLE_LOCK, 'owner'), 'utf8').split('\n');
    if (Number(pid) === process.pid && owner === prefix) rmSync(CONSOLE_LOCK, { recursive: true, force: true });
  } catch { /* not held */ }
}

let labSerial = 0;

function allocatePrefix(): string {
  const existing = runSyncQuiet(['ip', 'netns', 'list']).stdout;
  while (labSerial < 26) {
    const prefix = labPrefix(process.pid, labSerial++);
    if (!existing.includes(`${prefix}-`) && !existsSync(join(STATE_ROOT, prefix))) return prefix;
  }
  throw new LabError('lab: no free prefix left for this process (26 labs max)');
}

// ---------------------------------------------------------------------------------------------
// Traffic agents (traffic-agent.mjs in a namespace, JSON lines both ways)

interface AgentReply {
  id: number;
  ok?: boolean;
  port?: number;
  sent?: number;
  received?: number;
  error?: string;
}

class Agent {
  private readonly child: ChildProcess;
  private readonly waiting = new Map<number, Array<(reply: AgentReply) => void>>();
  private readonly early = new Map<number, AgentReply[]>();
  private stderrTail = '';
  private exited = false;

  constructor(readonly ns: string) {
    this.child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'ip', 'netns', 'exec', ns, process.execPath, AGENT_PATH], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.unref();
    createInterface({ input: this.child.stdout! }).on('line', (line) => this.onLine(line));
    this.child.stderr!.on('data', (chunk: Buffer) => { this.stderrTail = (this.stderrTail + chunk.toString()).slice(-2000); });
    this.child.on('exit', () => { this.exited = true; });
    this.child.on('error', () => { this.exited = true; });
    this.child.stdin!.on('error', () => { /* agent gone; requests time out with its stderr */ });
    for (const stream of [this.child.stdin, this.child.stdout, this.child.stderr]) {
      (stream as unknown as { unref?: () => void } | null)?.unref?.();
    }
  }

  private onLine(line: string): void {
    let reply: AgentReply;
    try {
      reply = JSON.parse(line) as AgentReply;
    } catch {
      return;
    }
    const waiter = this.waiting.get(reply.id)?.shift();
    if (waiter) waiter(reply);
    else this.early.set(reply.id, [...(this.early.get(reply.id) ?? []), reply]);
  }

  send(message: Record<string, unknown>): void {
    if (this.exited) throw new LabError(`traffic agent in ${this.ns} is not running: ${this.stderrTail}`);
    this.child.stdin!.write(JSON.stringify(message) + '\n');
  }

  next(id: number, timeoutMs: number): Promise<AgentReply> {
    const queued = this.early.get(id)?.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const list = this.waiting.get(id) ?? [];
        this.waiting.set(id, list.filter((w) => w !== done));
        reject(new LabError(`traffic agent in ${this.ns}: no reply within ${timeoutMs} ms ${this.stderrTail}`));
      }, timeoutMs);
      const done = (reply: AgentReply): void => {
        clearTimeout(timer);
        resolve(reply);
      };
      this.waiting.set(id, [...(this.waiting.get(id) ?? []), done]);
    });
  }

  kill(): void {
    this.child.stdin?.end();
    this.child.kill('SIGKILL');
  }
}

// ---------------------------------------------------------------------------------------------
// The lab

type DaemonName = 'telnetd' | 'relay' | 'dropbear';

class RouterLab implements Lab {
  readonly prefix: string;
  readonly backend: IptablesBackend;
  readonly routerIp = ROUTER_LAN_IP;
  readonly telnetPort = TELNET_PORT;
  readonly sshPort = SSH_PORT;
  readonly user: string;
  readonly password: string;
  readonly routerNs: string;
  readonly ispNs: string;
  readonly console: { ip: string; mac: string; iface: string };
  readonly markerName: string;
  readonly variant: LabVariantName;
  readonly profile: RouterProfile;
  readonly dialogue: CliDialogue;
  hosts: LabHost[];
  leases: LabLease[] = [];

  private readonly names: LabNames;
  private readonly dir: string;
  private readonly banner: string;
  private readonly shell: 'plain' | 'busybox';
  private keeper: ChildProcess | undefined;
  private keeperPid = 0;
  private readonly daemons = new Map<DaemonName, ChildProcess>();
  private readonly daemonLogs = new Map<string, string>();
  private readonly agents = new Map<string, Agent>();
  private requestId = 0;
  private destroyed = false;

  constructor(options: LabOptions) {
    const hostCount = options.hosts ?? 3;
    if (!Number.isInteger(hostCount) || hostCount < 1 || hostCount > MAX_HOSTS) throw new LabError(`lab: hosts must be 1..${MAX_HOSTS}`);
    this.backend = options.backend ?? 'legacy';
    if (!(this.backend in BACKEND_BINARIES)) throw new LabError(`lab: unknown backend ${String(this.backend)}`);
    this.user = options.user ?? 'admin';
    this.password = options.password ?? 'admin';
    if (!/^[a-z_][a-z0-9_-]{0,30}$/.test(this.user)) throw new LabError('lab: user must be a plain login name');
    if (/[\0\n\r]/.test(this.password) || this.password.length === 0) throw new LabError('lab: password must be non-empty, without NUL/CR/LF');
    this.banner = options.banner ?? 'BCM96358 Broadband Router';
    this.shell = options.shell ?? 'plain';
    this.variant = options.variant ?? 'cms';
    this.profile = resolveProfile(this.variant, options.profile ?? {});
    this.dialogue = cliDialogue(this.profile);
    this.prefix = allocatePrefix();
    this.names = labNames(this.prefix);
    this.routerNs = this.names.routerNs;
    this.ispNs = this.names.ispNs;
    this.console = { ip: CONSOLE_IP, mac: CONSOLE_MAC, iface: this.names.consoleIf };
    this.markerName = `pwned-${this.prefix}`;
    this.dir = join(STATE_ROOT, this.prefix);
    this.hosts = Array.from({ length: hostCount }, (_, i) => {
      const index = i + 1;
      const name = options.hostnames?.[i] ?? defaultHostname(index);
      const bytes = typeof name === 'string' ? Buffer.from(name, 'utf8') : Buffer.from(name);
      return { index, name: `h${index}`, ns: this.names.hostNs(index), ip: hostIp(index), mac: hostMac(index), hostname: bytes.toString('utf8'), hostnameBytes: bytes };
    });
    activeLabs.add(this);
  }

  // --- bring-up -------------------------------------------------------------------------------

  async start(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(join(this.dir, 'owner'), `${process.pid}\n`);
    await this.writeRouterFiles();
    await acquireConsoleLock(this.prefix);
    await this.buildTopology();
    await this.startKeeper();
    await this.execOk(['iptables-restore'], bootRuleset());
    await runOk(['ip', 'netns', 'exec', this.routerNs, 'nft', '-f', '-'], { input: oracleRuleset(this.hosts.map((h) => h.ip)), timeoutMs: STEP_TIMEOUT_MS });
    await this.startTelnet();
    await this.startDaemon('dropbear');
    await this.refreshArp();
  }

  /** telnetd, and the slow relay in front of it when the profile asks for one. */
  private async startTelnet(): Promise<void> {
    await this.startDaemon('telnetd');
    if (this.profile.chunking) await this.startDaemon('relay');
  }

  private async writeRouterFiles(): Promise<void> {
    const bin = join(this.dir, 'bin');
    mkdirSync(bin, { recursive: true });
    for (const [name, target] of Object.entries(BACKEND_BINARIES[this.backend])) symlinkSync(target, join(bin, name));
    const routerSh = join(this.dir, 'router-sh');
    // dropbear clears the environment and runs the login shell: this wrapper gives it the lab's
    // PATH (backend-specific iptables first) and a BusyBox `# ` prompt, as on the real router.
    const busyboxVersion = /BusyBox v[^ ]+/.exec(runSyncQuiet(['busybox']).stdout)?.[0] ?? 'BusyBox';
    writeFileSync(routerSh, [
      '#!/bin/sh',
      `PATH=${shellQuote(`${bin}:${SYSTEM_PATH}`)}; export PATH`,
      "PS1='# '; export PS1",
      'unset ENV',
      ...(this.shell === 'busybox'
        ? ['exec /bin/busybox sh "$@"']
        : [
          // dash is an ash like BusyBox's, without line editing: cooked pty, kernel echo, plain
          // `# ` prompt, as the old BusyBox shells of Broadcom firmware behave.
          'if [ $# -eq 0 ]; then',
          `  printf '\\n\\n%s built-in shell (ash)\\nEnter %s for a list of built-in commands.\\n\\n' ${shellQuote(busyboxVersion)} "'help'"`,
          '  exec /bin/dash -i',
          'fi',
          'exec /bin/dash "$@"',
        ]),
      '',
    ].join('\n'));
    chmodSync(routerSh, 0o755);
    // The login program runs inside the router's mount namespace, whose /tmp is the router's own:
    // a checkout under /tmp (CI clones anywhere) would be hidden there, so telnetd gets a copy.
    copyFileSync(RELAY_PATH, join(this.dir, 'slow-relay.mjs'));
    copyFileSync(CLI_PATH, this.cliProgram);
    chmodSync(this.cliProgram, 0o755);
    const texts = join(this.dir, 'texts');
    mkdirSync(texts, { recursive: true });
    for (const [name, fixture] of Object.entries(CLI_TEXTS)) copyFileSync(join(FIXTURES_DIR, fixture), join(texts, name));
    // The telnet server runs this wrapper: inetutils telnetd scrubs the environment of its login
    // program, so the CLI's settings travel in the file (root-only: it holds the lab password).
    const settings: Record<string, string> = {
      PATH: `${join(this.dir, 'bin')}:${SYSTEM_PATH}`, LC_ALL: 'C', HOME: '/tmp',
      LAB_USER: this.user, LAB_PASSWORD: this.password, LAB_LANHOSTS: join(this.dir, 'lanhosts.tsv'),
      LAB_ROUTER_SH: routerSh, LAB_BANNER: this.banner, LAB_TEXTS: texts, ...cliEnvironment(this.profile),
    };
    writeFileSync(this.loginProgram, [
      '#!/bin/sh',
      ...Object.entries(settings).map(([name, value]) => `${name}=${shellQuote(value)}; export ${name}`),
      `exec /bin/bash ${shellQuote(this.cliProgram)}`,
      '',
    ].join('\n'), { mode: 0o700 });
    chmodSync(this.loginProgram, 0o700);
    if (this.profile.telnetd === 'inetutils') {
      // Debian's own inetd.conf line for telnetd (update-inetd), with the CLI as login program.
      writeFileSync(join(this.dir, 'inetd.conf'), `telnet stream tcp nowait root ${INETUTILS_TELNETD} telnetd -E ${this.loginProgram}\n`);
    }
    const etc = join(this.dir, 'etc');
    mkdirSync(etc, { recursive: true });
    {
      // Every variant: the router's own names and a resolver on its loopback (where a real router
      // runs dnsmasq; nothing listens here, so a lookup fails at once). Without this, `arp show` in
      // a shell looks up the host "show" via the machine's nameserver, which the namespace must
      // never contact (network rule), and waits 10 s for it.
      const names = ['127.0.0.1 localhost', `127.0.1.1 ${hostname()}`, `${ROUTER_LAN_IP} router`, `${CONSOLE_IP} console`, ...this.hosts.map((h) => `${h.ip} ${h.name}`)];
      writeFileSync(join(etc, 'hosts'), `${names.join('\n')}\n`);
      writeFileSync(join(etc, 'resolv.conf'), 'nameserver 127.0.0.1\n');
    }
    const hash = (await runOk(['openssl', 'passwd', '-6', '-stdin'], { input: `${this.password}\n` })).trim();
    const users = this.user === 'root' ? [] : [`${this.user}:x:0:0:Administrator:/tmp:${routerSh}`];
    writeFileSync(join(etc, 'passwd'), [
      `root:x:0:0:root:/root:${this.user === 'root' ? routerSh : '/bin/sh'}`, ...users,
      'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin', '',
    ].join('\n'));
    writeFileSync(join(etc, 'shadow'), [
      `root:${this.user === 'root' ? hash : '*'}:19000:0:99999:7:::`,
      ...(this.user === 'root' ? [] : [`${this.user}:${hash}:19000:0:99999:7:::`]),
      'nobody:*:19000:0:99999:7:::', '',
    ].join('\n'), { mode: 0o640 });
    writeFileSync(join(etc, 'shells'), ['/bin/sh', '/bin/bash', '/bin/dash', routerSh, ''].join('\n'));
    mkdirSync(join(this.dir, 'tmp'), { recursive: true });
    chmodSync(join(this.dir, 'tmp'), 0o1777);
    await runOk(['dropbearkey', '-t', 'ed25519', '-f', join(this.dir, 'dropbear_ed25519_host_key')]);
    await this.setLeases(this.hosts.map((h) => ({ mac: h.mac, ip: h.ip, hostname: h.hostnameBytes })));
  }

  private async ip(argv: readonly string[]): Promise<void> {
    await runOk(['ip', ...argv], { timeoutMs: STEP_TIMEOUT_MS });
  }

  private async sysctl(ns: string, settings: readonly string[]): Promise<void> {
    await runOk(['ip', 'netns', 'exec', ns, 'sysctl', '-q', '-w', ...settings], { timeoutMs: STEP_TIMEOUT_MS });
  }

  private async addNamespace(ns: string): Promise<void> {
    await this.ip(['netns', 'add', ns]);
    // IPv6 off: no autoconfiguration chatter on the links (IPv6 is not what lantop accounts).
    await this.sysctl(ns, ['net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    await this.ip(['-n', ns, 'link', 'set', 'lo', 'up']);
  }

  private async buildTopology(): Promise<void> {
    const { routerNs: r, ispNs: isp, consoleIf } = this.names;
    const taken = (await runOk(['ip', '-o', 'route', 'show', 'root', '198.51.100.0/24'])).trim();
    if (taken) throw new LabError(`lab: the root namespace already routes 198.51.100.0/24 (${taken}); run test/lab/cleanup.sh`);
    await this.addNamespace(r);
    await this.addNamespace(isp);
    for (const host of this.hosts) await this.addNamespace(host.ns);

    await this.sysctl(r, ['net.ipv4.ip_forward=1']);
    await this.ip(['-n', r, 'link', 'add', 'br0', 'address', ROUTER_LAN_MAC, 'type', 'bridge']);
    // Routed LAN<->WAN packets must cross iptables once, at the IP layer, as on the real router.
    await run(['ip', 'netns', 'exec', r, 'sysctl', '-q', '-w', 'net.bridge.bridge-nf-call-iptables=0']);
    await this.ip(['-n', r, 'addr', 'add', `${ROUTER_LAN_IP}/24`, 'dev', 'br0']);
    await this.ip(['-n', r, 'link', 'set', 'br0', 'up']);

    await this.ip(['-n', r, 'link', 'add', 'ppp0', 'address', ROUTER_WAN_MAC, 'type', 'veth', 'peer', 'name', 'wan0', 'address', ISP_MAC, 'netns', isp]);
    await this.ip(['-n', r, 'addr', 'add', `${ROUTER_WAN_IP}/${WAN_PREFIX_LENGTH}`, 'dev', 'ppp0']);
    await this.ip(['-n', r, 'link', 'set', 'ppp0', 'up']);
    await this.ip(['-n', isp, 'addr', 'add', `${ISP_IP}/${WAN_PREFIX_LENGTH}`, 'dev', 'wan0']);
    await this.ip(['-n', isp, 'link', 'set', 'wan0', 'up']);
    await this.ip(['-n', r, 'route', 'add', 'default', 'via', ISP_IP, 'dev', 'ppp0']);
    // The ISP gets no route to 198.51.100.0/24: replies come back only through the router's NAT.

    for (const host of this.hosts) {
      const port = `lan${host.index}`;
      await this.ip(['-n', host.ns, 'link', 'add', 'eth0', 'address', host.mac, 'type', 'veth', 'peer', 'name', port, 'netns', r]);
      await this.ip(['-n', r, 'link', 'set', port, 'master', 'br0', 'up']);
      await this.ip(['-n', host.ns, 'addr', 'add', `${host.ip}/24`, 'dev', 'eth0']);
      await this.ip(['-n', host.ns, 'link', 'set', 'eth0', 'up']);
      await this.ip(['-n', host.ns, 'route', 'add', 'default', 'via', ROUTER_LAN_IP]);
    }

    // The console: the root namespace's port on br0. Adding the /24 address creates the only
    // root-namespace route the lab makes (198.51.100.0/24 dev <prefix>c); deleting the veth removes it.
    await this.ip(['link', 'add', consoleIf, 'address', CONSOLE_MAC, 'type', 'veth', 'peer', 'name', 'con0', 'netns', r]);
    await run(['sysctl', '-q', '-w', `net.ipv6.conf.${consoleIf}.disable_ipv6=1`]);
    await this.ip(['-n', r, 'link', 'set', 'con0', 'master', 'br0', 'up']);
    await this.ip(['addr', 'add', `${CONSOLE_IP}/24`, 'dev', consoleIf]);
    await this.ip(['link', 'set', consoleIf, 'up']);
  }

  /** A process that owns the router's private mount namespace: lab passwd/shadow/shells and the
   * router's own /tmp are bind-mounted there, never on the machine's real files. */
  private async startKeeper(): Promise<void> {
    const script = [
      'set -e',
      'mount --bind "$1/etc/passwd" /etc/passwd',
      'mount --bind "$1/etc/shadow" /etc/shadow',
      'mount --bind "$1/etc/shells" /etc/shells',
      'mount --bind "$1/tmp" /tmp',
      // The router's own /etc/hosts and a resolver that answers at once (nothing listens on the
      // namespace's loopback): no lookup ever waits for, or reaches, a DNS server outside the lab
      // (inetutils telnetd looks up the client before it says anything; `arp show` looks up "show").
      'mount --bind "$1/etc/hosts" /etc/hosts',
      'mount --bind "$1/etc/resolv.conf" /etc/resolv.conf',
      'echo ready',
      'exec sleep 2147483647',
    ].join('\n');
    const keeper = spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'ip', 'netns', 'exec', this.routerNs,
      'unshare', '--mount', '--propagation', 'private', '--', '/bin/sh', '-c', script, 'keeper', this.dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.keeper = keeper;
    keeper.unref();
    let stderr = '';
    keeper.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new LabError('lab: router mount namespace did not come up')), STEP_TIMEOUT_MS);
      keeper.stdout!.once('data', () => { clearTimeout(timer); resolve(); });
      keeper.once('exit', (code) => { clearTimeout(timer); reject(new LabError(`lab: router keeper exited ${code}: ${stderr}`)); });
    });
    for (const stream of [keeper.stdout, keeper.stderr]) (stream as unknown as { unref?: () => void } | null)?.unref?.();
    this.keeperPid = keeper.pid!;
  }

  private get cliProgram(): string {
    return join(this.dir, 'broadcom-cli.sh');
  }

  private get loginProgram(): string {
    return join(this.dir, 'cli-login');
  }

  private routerEnv(): NodeJS.ProcessEnv {
    return { PATH: `${join(this.dir, 'bin')}:${SYSTEM_PATH}`, LC_ALL: 'C', HOME: '/tmp' };
  }

  private daemonArgv(name: DaemonName): string[] {
    if (name === 'telnetd' && this.profile.telnetd === 'inetutils') {
      return [INETUTILS_INETD, '-d', '-p', join(this.dir, 'inetd.pid'), join(this.dir, 'inetd.conf')];
    }
    if (name === 'relay') {
      const chunking = this.profile.chunking!;
      return [process.execPath, join(this.dir, 'slow-relay.mjs'), String(TELNET_PORT), String(RELAYED_TELNET_PORT), String(chunking.bytes), String(chunking.delayMs)];
    }
    if (name === 'telnetd' && this.profile.chunking) {
      return ['/bin/busybox', 'telnetd', '-F', '-b', `127.0.0.1:${RELAYED_TELNET_PORT}`, '-f', '/dev/null', '-l', this.loginProgram];
    }
    if (name === 'telnetd') {
      return ['/bin/busybox', 'telnetd', '-F', '-p', String(TELNET_PORT), '-f', '/dev/null', '-l', this.loginProgram];
    }
    return ['/usr/sbin/dropbear', '-F', '-E', '-m', '-j', '-k', '-p', String(SSH_PORT),
      '-r', join(this.dir, 'dropbear_ed25519_host_key'), '-P', join(this.dir, 'dropbear.pid')];
  }

  private async startDaemon(name: DaemonName): Promise<void> {
    const env = this.routerEnv();
    const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'nsenter', '-t', String(this.keeperPid), '-m', '-n', '--', ...this.daemonArgv(name)], {
      stdio: ['ignore', 'ignore', 'pipe'], env, cwd: '/',
    });
    child.unref();
    child.stderr!.on('data', (chunk: Buffer) => {
      this.daemonLogs.set(name, ((this.daemonLogs.get(name) ?? '') + chunk.toString()).slice(-4000));
    });
    (child.stderr as unknown as { unref?: () => void }).unref?.();
    this.daemons.set(name, child);
    const port = name === 'dropbear' ? SSH_PORT : name === 'telnetd' && this.profile.chunking ? RELAYED_TELNET_PORT : TELNET_PORT;
    await waitFor(`${name} listening on ${port}`, () => {
      if (child.exitCode !== null) throw new LabError(`lab: ${name} exited ${child.exitCode}: ${this.daemonLogs.get(name) ?? ''}`);
      return this.isListening(port) ? true : undefined;
    }, DAEMON_START_TIMEOUT_MS);
  }

  private isListening(port: number): boolean {
    const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
    let table = '';
    // BusyBox telnetd listens on a dual-stack IPv6 socket: it shows up in tcp6, not tcp.
    for (const file of ['tcp', 'tcp6']) {
      try {
        table += readFileSync(`/proc/${this.keeperPid}/net/${file}`, 'utf8');
      } catch { /* no IPv6 */ }
    }
    return table.split('\n').some((line) => {
      const fields = line.trim().split(/\s+/);
      return fields[1]?.endsWith(`:${hexPort}`) === true && fields[3] === '0A';
    });
  }

  private async killDaemon(name: DaemonName): Promise<void> {
    const child = this.daemons.get(name);
    this.daemons.delete(name);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await Promise.race([exited, sleep(STEP_TIMEOUT_MS)]);
  }

  // --- running things -------------------------------------------------------------------------

  exec(argv: readonly string[], options: { timeoutMs?: number; input?: string } = {}): Promise<ExecResult> {
    this.assertRunning();
    return run(['nsenter', '-t', String(this.keeperPid), '-m', '-n', '--', ...argv], {
      env: this.routerEnv(), timeoutMs: options.timeoutMs ?? STEP_TIMEOUT_MS, ...(options.input !== undefined ? { input: options.input } : {}),
    });
  }

  private async execOk(argv: readonly string[], input?: string): Promise<string> {
    const result = await this.exec(argv, input !== undefined ? { input } : {});
    if (result.code !== 0) throw new LabError(`lab: router command failed (exit ${result.code}): ${argv.join(' ')}\n${result.stderr}`);
    return result.stdout;
  }

  hostExec(host: HostRef, argv: readonly string[], options: { timeoutMs?: number } = {}): Promise<ExecResult> {
    this.assertRunning();
    return run(['ip', 'netns', 'exec', this.host(host).ns, ...argv], { timeoutMs: options.timeoutMs ?? STEP_TIMEOUT_MS });
  }

  private host(ref: HostRef): LabHost {
    const found = typeof ref === 'number' ? this.hosts[ref - 1]
      : typeof ref === 'string' ? this.hosts.find((h) => h.name === ref || h.ip === ref || h.ns === ref)
        : this.hosts.find((h) => h.ns === ref.ns);
    if (!found) throw new LabError(`lab: no host ${typeof ref === 'object' ? ref.name : String(ref)}`);
    return found;
  }

  private agent(ns: string): Agent {
    let agent = this.agents.get(ns);
    if (!agent) {
      agent = new Agent(ns);
      this.agents.set(ns, agent);
    }
    return agent;
  }

  private assertRunning(): void {
    if (this.destroyed) throw new LabError('lab: already stopped');
  }

  // --- traffic and the oracle ---------------------------------------------------------------------

  async transfer(ref: HostRef, amounts: { downBytes: number; upBytes: number; timeoutMs?: number }): Promise<TransferResult> {
    this.assertRunning();
    const host = this.host(ref);
    const timeoutMs = amounts.timeoutMs ?? 30_000;
    const started = Date.now();
    const server = this.agent(this.ispNs);
    const client = this.agent(host.ns);
    const serveId = ++this.requestId;
    server.send({ id: serveId, op: 'serve', send: amounts.downBytes, expect: amounts.upBytes, timeoutMs });
    const listening = await server.next(serveId, STEP_TIMEOUT_MS);
    if (listening.port === undefined) throw new LabError(`lab: ISP server failed: ${listening.error ?? 'no port'}`);
    const connectId = ++this.requestId;
    client.send({ id: connectId, op: 'connect', host: ISP_IP, port: listening.port, send: amounts.upBytes, expect: amounts.downBytes, timeoutMs });
    const [clientDone, serverDone] = await Promise.all([client.next(connectId, timeoutMs + 2_000), server.next(serveId, timeoutMs + 2_000)]);
    for (const [side, reply] of [['client', clientDone], ['server', serverDone]] as const) {
      if (!reply.ok) throw new LabError(`lab: transfer ${host.name} ${side} failed: ${reply.error ?? 'unknown'}`);
    }
    await this.settle();
    return { host: host.name, downBytes: clientDone.received ?? 0, upBytes: serverDone.received ?? 0, ms: Date.now() - started };
  }

  async oracle(): Promise<OracleCounts> {
    this.assertRunning();
    const json = await runOk(['ip', 'netns', 'exec', this.routerNs, 'nft', '-j', 'list', 'counters', 'table', 'inet', ORACLE_TABLE], { timeoutMs: STEP_TIMEOUT_MS });
    return parseOracleCounters(json, this.hosts.map((h) => h.ip));
  }

  async resetOracle(): Promise<void> {
    await runOk(['ip', 'netns', 'exec', this.routerNs, 'nft', 'reset', 'counters', 'table', 'inet', ORACLE_TABLE], { timeoutMs: STEP_TIMEOUT_MS });
  }

  async settle(): Promise<OracleCounts> {
    let last = JSON.stringify(await this.oracle());
    for (let i = 0; i < 40; i++) {
      await sleep(50);
      const now = await this.oracle();
      const text = JSON.stringify(now);
      if (text === last) return now;
      last = text;
    }
    throw new LabError('lab: the oracle counters did not settle within 2 s');
  }

  // --- faults ---------------------------------------------------------------------------------------

  async reboot(options: { downMs?: number } = {}): Promise<void> {
    this.assertRunning();
    this.daemons.clear();
    // Every process of the router except the namespace keeper: daemons and all their sessions.
    const pids = (await runOk(['ip', 'netns', 'pids', this.routerNs])).split('\n').filter((p) => /^\d+$/.test(p)).map(Number);
    for (const pid of pids) {
      if (pid !== this.keeperPid) {
        try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      }
    }
    await this.resetFirewall();
    await this.ip(['-n', this.routerNs, 'neigh', 'flush', 'dev', 'br0']);
    if (options.downMs) await sleep(options.downMs);
    await this.startTelnet();
    await this.startDaemon('dropbear');
    await this.refreshArp();
  }

  /** All iptables state replaced by the boot firewall: chains, rules, counters; other nft tables gone. */
  private async resetFirewall(): Promise<void> {
    const tables = JSON.parse(await runOk(['ip', 'netns', 'exec', this.routerNs, 'nft', '-j', 'list', 'tables'])) as {
      nftables?: Array<{ table?: { family: string; name: string } }>;
    };
    for (const item of tables.nftables ?? []) {
      const table = item.table;
      if (!table || (table.family === 'inet' && table.name === ORACLE_TABLE)) continue;
      await runOk(['ip', 'netns', 'exec', this.routerNs, 'nft', 'delete', 'table', table.family, table.name]);
    }
    let extra: string[] = [];
    if (this.backend === 'legacy') {
      // Legacy tables cannot be deleted, only reset: restore every one that exists in this netns.
      extra = readFileSync(`/proc/${this.keeperPid}/net/ip_tables_names`, 'utf8').split('\n').filter(Boolean);
    }
    await this.execOk(['iptables-restore'], bootRuleset(extra));
  }

  async killTelnetd(options: { downMs?: number } = {}): Promise<void> {
    this.assertRunning();
    await this.killDaemon('relay');
    await this.killDaemon('telnetd');
    // inetd forks one telnetd per session (BusyBox telnetd serves them all): end those too.
    if (this.profile.telnetd === 'inetutils') await this.killRouterProcesses('telnetd');
    if (options.downMs) await sleep(options.downMs);
    await this.startTelnet();
  }

  async killSshd(options: { downMs?: number } = {}): Promise<void> {
    this.assertRunning();
    await this.killDaemon('dropbear');
    // dropbear forks one process per session; a dead listener leaves them, so end them too.
    await this.killRouterProcesses('dropbear');
    if (options.downMs) await sleep(options.downMs);
    await this.startDaemon('dropbear');
  }

  /** SIGKILL to every process of the router namespace whose command name is `comm`. */
  private async killRouterProcesses(comm: string): Promise<void> {
    const pids = (await runOk(['ip', 'netns', 'pids', this.routerNs])).split('\n').filter((p) => /^\d+$/.test(p));
    for (const pid of pids) {
      let name = '';
      try { name = readFileSync(`/proc/${pid}/comm`, 'utf8').trim(); } catch { continue; }
      if (name === comm) {
        try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ }
      }
    }
  }

  async flapWan(ms: number): Promise<void> {
    this.assertRunning();
    await this.ip(['-n', this.routerNs, 'link', 'set', 'ppp0', 'down']);
    await sleep(ms);
    await this.ip(['-n', this.routerNs, 'link', 'set', 'ppp0', 'up']);
    // Link down removed the default route, as a PPP drop does; the "redial" brings it back.
    await this.ip(['-n', this.routerNs, 'route', 'replace', 'default', 'via', ISP_IP, 'dev', 'ppp0']);
  }

  async flapLan(ms: number): Promise<void> {
    this.assertRunning();
    await this.ip(['-n', this.routerNs, 'link', 'set', 'con0', 'down']);
    await sleep(ms);
    await this.ip(['-n', this.routerNs, 'link', 'set', 'con0', 'up']);
    // A bridge port coming up passes traffic at once only with STP off (the default); wait for it.
    await waitFor('console link up', async () => {
      const out = await runOk(['ip', '-o', 'link', 'show', this.console.iface]);
      return out.includes('LOWER_UP') ? true : undefined;
    }, STEP_TIMEOUT_MS);
  }

  // --- leases and hostile names -------------------------------------------------------------------

  async setLeases(leases: readonly LabLease[]): Promise<void> {
    const now = Math.floor(Date.now() / 1000);
    const dnsmasq = formatDnsmasqLeases(leases, now);
    const table = formatLanhostsTable(leases, now);
    // ssh-no-leases: the router's shell has no dnsmasq lease file at all (the CLI's table stays).
    if (this.profile.leaseFile) writeAtomic(join(this.dir, 'tmp', 'dhcp.leases'), dnsmasq);
    else rmSync(join(this.dir, 'tmp', 'dhcp.leases'), { force: true });
    writeAtomic(join(this.dir, 'lanhosts.tsv'), table);
    this.leases = leases.map((lease) => ({ ...lease }));
    for (const host of this.hosts) {
      const lease = leases.find((l) => l.mac === host.mac);
      const bytes = lease ? (typeof lease.hostname === 'string' ? Buffer.from(lease.hostname, 'utf8') : Buffer.from(lease.hostname)) : Buffer.alloc(0);
      host.hostnameBytes = bytes;
      host.hostname = bytes.toString('utf8');
    }
  }

  hostileHostnames(): Array<string | Buffer> {
    return hostileHostnames(this.markerName);
  }

  markerExists(): boolean {
    return existsSync(join(this.dir, 'tmp', this.markerName)) || existsSync(join('/tmp', this.markerName));
  }

  async refreshArp(): Promise<void> {
    this.assertRunning();
    const pings = this.hosts.map((host) => runOk(['ip', 'netns', 'exec', host.ns, 'busybox', 'ping', '-c', '1', '-W', '2', ROUTER_LAN_IP]));
    pings.push(runOk(['ip', 'netns', 'exec', this.routerNs, 'busybox', 'ping', '-c', '1', '-W', '2', CONSOLE_IP]));
    await Promise.all(pings);
  }

  async iptablesSave(options: { counters?: boolean; raw?: boolean } = {}): Promise<string> {
    const text = await this.execOk(['iptables-save', ...(options.counters ? ['-c'] : [])]);
    return options.raw || options.counters ? text : normalizeIptablesSave(text);
  }

  diagnostics(): string {
    return [...this.daemonLogs].map(([name, log]) => `[${name}] ${log.trim()}`).filter((l) => l.length > 12).join('\n');
  }

  // --- teardown -----------------------------------------------------------------------------------

  async stop(): Promise<void> {
    this.destroySync();
  }

  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const agent of this.agents.values()) agent.kill();
    this.agents.clear();
    for (const child of this.daemons.values()) child.kill('SIGKILL');
    this.daemons.clear();
    this.keeper?.kill('SIGKILL');
    destroyLabByPrefixSync(this.prefix);
    activeLabs.delete(this);
  }
}

function writeAtomic(path: string, data: Buffer): void {
  const temp = `${path}.new`;
  writeFileSync(temp, data);
  renameSync(temp, path);
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
