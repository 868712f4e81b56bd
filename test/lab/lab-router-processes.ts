// The router's processes: a keeper that owns its private mount namespace (where the lab's users
// and /tmp are bound over the machine's files; on the OpenWrt router also its /etc, /usr/bin and
// /usr/sbin, and a UTS namespace for its host name), the daemons started inside it (telnetd or
// inetd, the slow relay, dropbear), programs run there, and the kills that the fault injections use.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OPENWRT_PATH } from './lab-openwrt.js';
import { loginProgramPath } from './lab-router-files.js';
import { openwrtBinSteps, openwrtEtcSteps } from './lab-router-openwrt.js';
import {
  DAEMON_START_TIMEOUT_MS, INETUTILS_INETD, RELAYED_TELNET_PORT, SSH_PORT, STEP_TIMEOUT_MS, SYSTEM_PATH, TELNET_PORT,
} from './lab-settings.js';
import type { RouterProfile } from './lab-variants.js';
import { LabError, run, runOk, sleep, waitFor, type ExecResult } from './run-command.js';

export type DaemonName = 'telnetd' | 'relay' | 'dropbear';

export class RouterProcesses {
  private keeper: ChildProcess | undefined;
  private keeperPid = 0;
  private readonly daemons = new Map<DaemonName, ChildProcess>();
  private readonly daemonLogs = new Map<string, string>();

  constructor(
    private readonly routerNs: string,
    /** The lab's state dir (lab-router-files.ts wrote it). */
    private readonly dir: string,
    private readonly profile: RouterProfile,
  ) {}

  /** The keeper's pid: its /proc entry shows the router's network namespace. */
  get pid(): number {
    return this.keeperPid;
  }

  /** A process that owns the router's private mount namespace: lab passwd/shadow/shells and the
   * router's own /tmp are bind-mounted there, never on the machine's real files. */
  private get isOpenwrt(): boolean {
    return this.profile.firmware === 'openwrt';
  }

  /** nsenter's namespaces: mount and network; OpenWrt's router also has its own host name (UTS). */
  private get nsenterFlags(): string[] {
    return this.isOpenwrt ? ['-m', '-n', '-u'] : ['-m', '-n'];
  }

  async startKeeper(): Promise<void> {
    const script = [
      'set -e',
      ...(this.isOpenwrt ? openwrtEtcSteps() : []),
      'mount --bind "$1/etc/passwd" /etc/passwd',
      'mount --bind "$1/etc/shadow" /etc/shadow',
      'mount --bind "$1/etc/shells" /etc/shells',
      'mount --bind "$1/tmp" /tmp',
      // The router's own /etc/hosts and a resolver that answers at once (nothing listens on the
      // namespace's loopback): no lookup ever waits for, or reaches, a DNS server outside the lab
      // (inetutils telnetd looks up the client before it says anything; `arp show` looks up "show").
      'mount --bind "$1/etc/hosts" /etc/hosts',
      'mount --bind "$1/etc/resolv.conf" /etc/resolv.conf',
      ...(this.isOpenwrt ? openwrtBinSteps() : []),
      'echo ready',
      'exec sleep 2147483647',
    ].join('\n');
    const keeper = spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'ip', 'netns', 'exec', this.routerNs,
      'unshare', '--mount', ...(this.isOpenwrt ? ['--uts'] : []), '--propagation', 'private', '--', '/bin/sh', '-c', script, 'keeper', this.dir], {
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

  routerEnv(): NodeJS.ProcessEnv {
    if (this.isOpenwrt) return { PATH: OPENWRT_PATH, LC_ALL: 'C', HOME: '/root' };
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
      return ['/bin/busybox', 'telnetd', '-F', '-b', `127.0.0.1:${RELAYED_TELNET_PORT}`, '-f', '/dev/null', '-l', loginProgramPath(this.dir)];
    }
    if (name === 'telnetd') {
      // OpenWrt: BusyBox login ("OpenWrt login: ") checks the password and starts the user's shell.
      const login = this.isOpenwrt ? '/bin/login' : loginProgramPath(this.dir);
      return ['/bin/busybox', 'telnetd', '-F', '-p', String(TELNET_PORT), '-f', '/dev/null', '-l', login];
    }
    return ['/usr/sbin/dropbear', '-F', '-E', '-m', '-j', '-k', '-p', String(SSH_PORT),
      '-r', join(this.dir, 'dropbear_ed25519_host_key'), '-P', join(this.dir, 'dropbear.pid')];
  }

  async startDaemon(name: DaemonName): Promise<void> {
    const env = this.routerEnv();
    const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'nsenter', '-t', String(this.keeperPid), ...this.nsenterFlags, '--', ...this.daemonArgv(name)], {
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

  async killDaemon(name: DaemonName): Promise<void> {
    const child = this.daemons.get(name);
    this.daemons.delete(name);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await Promise.race([exited, sleep(STEP_TIMEOUT_MS)]);
  }

  /** SIGKILL to every process of the router namespace whose command name is `comm`. */
  async killRouterProcesses(comm: string): Promise<void> {
    const pids = (await runOk(['ip', 'netns', 'pids', this.routerNs])).split('\n').filter((p) => /^\d+$/.test(p));
    for (const pid of pids) {
      let name = '';
      try { name = readFileSync(`/proc/${pid}/comm`, 'utf8').trim(); } catch { continue; }
      if (name === comm) {
        try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ }
      }
    }
  }

  /** telnetd, and the slow relay in front of it when the profile asks for one. */
  async startTelnet(): Promise<void> {
    await this.startDaemon('telnetd');
    if (this.profile.chunking) await this.startDaemon('relay');
  }

  /** Runs a program in the router (its network and mount namespaces; the lab's iptables first in PATH). */
  exec(argv: readonly string[], options: { timeoutMs?: number; input?: string } = {}): Promise<ExecResult> {
    return run(['nsenter', '-t', String(this.keeperPid), ...this.nsenterFlags, '--', ...argv], {
      env: this.routerEnv(), timeoutMs: options.timeoutMs ?? STEP_TIMEOUT_MS, ...(options.input !== undefined ? { input: options.input } : {}),
    });
  }

  /** Every process of the router except the keeper, as a power cut would: daemons and all their sessions. */
  async killAllButKeeper(): Promise<void> {
    this.daemons.clear();
    const pids = (await runOk(['ip', 'netns', 'pids', this.routerNs])).split('\n').filter((p) => /^\d+$/.test(p)).map(Number);
    for (const pid of pids) {
      if (pid !== this.keeperPid) {
        try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      }
    }
  }

  /** Last stderr lines of the daemons, for failure messages. */
  diagnostics(): string {
    return [...this.daemonLogs].map(([name, log]) => `[${name}] ${log.trim()}`).filter((l) => l.length > 12).join('\n');
  }

  /** SIGKILL to the daemons and the keeper (the namespace's other processes go with the namespace). */
  killAllSync(): void {
    for (const child of this.daemons.values()) child.kill('SIGKILL');
    this.daemons.clear();
    this.keeper?.kill('SIGKILL');
  }
}
