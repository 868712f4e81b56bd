// The gateway's processes: a keeper that owns its private mount and UTS namespaces, Debian's
// rsyslogd and sshd started inside them, and programs run there. In that mount namespace the lab's
// users, /etc/ssh, /var/log, /home, /root and /tmp are bound over the machine's paths, /run is a
// tmpfs of its own (sshd's /run/sshd and pid file, utmp, no D-Bus socket: pam_systemd cannot reach
// the machine's logind) and so is /dev (its own /dev/log for rsyslog; the usual device nodes and a
// private devpts), so nothing the daemons write reaches the machine's files.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GATEWAY_HOSTNAME, SSH_PORT } from './gateway-model.js';
import { gatewayPaths } from './gateway-files.js';
import { exitedOrTimeout } from './gateway-sessions.js';
import { DAEMON_START_TIMEOUT_MS, STEP_TIMEOUT_MS, SYSTEM_PATH } from './lab-settings.js';
import { LabError, run, waitFor, type ExecResult } from './run-command.js';
import { fileURLToPath } from 'node:url';

export type GatewayDaemon = 'rsyslogd' | 'sshd';

/** This checkout (test/lab/ → the repo root). */
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');

/** The keeper's script: its first argument is the lab's state dir (under /run, so re-bound after /run is replaced), the second the checkout. */
function keeperScript(): string {
  // gatewayPaths() with the dir as "$dir" (the script's first argument).
  const paths = gatewayPaths('"$dir"');
  return [
    'set -e',
    'dir="$1"',
    'repo="$2"',
    // /run: a tmpfs, with the state dir bound back at its own path (`.` is the old directory: the
    // cwd keeps it reachable after the tmpfs hides it; -c stops mount(8) resolving it by name).
    'cd "$dir"',
    'mount -t tmpfs -o mode=755 gw-run /run',
    'mkdir -p "$dir"',
    'mount -c --bind . "$dir"',
    'mkdir -m 755 /run/sshd',
    'mount -t tmpfs -o mode=755 gw-dev /dev',
    'for spec in "null 1 3" "zero 1 5" "full 1 7" "random 1 8" "urandom 1 9" "tty 5 0"; do',
    '  set -- $spec; mknod -m 666 "/dev/$1" c "$2" "$3"',
    'done',
    'mkdir /dev/pts /dev/shm && chmod 1777 /dev/shm',
    'mount -t devpts -o newinstance,ptmxmode=0666,mode=620 gw-pts /dev/pts',
    'ln -s pts/ptmx /dev/ptmx && ln -s /proc/self/fd /dev/fd',
    'ln -s /proc/self/fd/0 /dev/stdin && ln -s /proc/self/fd/1 /dev/stdout && ln -s /proc/self/fd/2 /dev/stderr',
    `for f in passwd group shadow hosts resolv.conf hostname; do mount --bind ${paths.etc}/$f /etc/$f; done`,
    `mount --bind ${paths.ssh} /etc/ssh`,
    `mount --bind ${paths.alternatives} /etc/alternatives`,
    `mount --bind ${paths.log} /var/log`,
    `mount --bind ${paths.home} /home`,
    `mount --bind ${paths.root} /root`,
    // The checkout stays reachable at its own path when it lives under /tmp (a CI clone, a
    // worktree): tests run the built CLI inside the gateway (`--host local`). Same cwd trick.
    'case "$repo" in /tmp/*) cd "$repo" ;; esac',
    `mount --bind ${paths.tmp} /tmp`,
    'case "$repo" in /tmp/*) mkdir -p "$repo" && mount -c --bind . "$repo" ;; esac',
    'cd /',
    `hostname ${GATEWAY_HOSTNAME}`,
    ': > /run/utmp',
    'echo ready',
    'exec sleep 2147483647',
  ].join('\n');
}

export class GatewayProcesses {
  private keeper: ChildProcess | undefined;
  private keeperPid = 0;
  private readonly daemons = new Map<GatewayDaemon, ChildProcess>();
  private readonly logs = new Map<string, string>();

  constructor(private readonly gatewayNs: string, private readonly dir: string) {}

  get pid(): number {
    return this.keeperPid;
  }

  async startKeeper(): Promise<void> {
    // The state dir must exist before the keeper rebinds it; "$1" in keeperScript() is this dir.
    const keeper = spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'ip', 'netns', 'exec', this.gatewayNs,
      'unshare', '--mount', '--uts', '--propagation', 'private', '--', '/bin/sh', '-c', keeperScript(), 'gw-keeper', this.dir, REPO_ROOT], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.keeper = keeper;
    keeper.unref();
    let stderr = '';
    keeper.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new LabError('gateway lab: mount namespace did not come up')), STEP_TIMEOUT_MS);
      keeper.stdout!.once('data', () => { clearTimeout(timer); resolve(); });
      keeper.once('exit', (code) => { clearTimeout(timer); reject(new LabError(`gateway lab: keeper exited ${code}: ${stderr}`)); });
    });
    for (const stream of [keeper.stdout, keeper.stderr]) (stream as unknown as { unref?: () => void } | null)?.unref?.();
    this.keeperPid = keeper.pid!;
  }

  env(): NodeJS.ProcessEnv {
    return { PATH: SYSTEM_PATH, LC_ALL: 'C', HOME: '/root' };
  }

  private argv(name: GatewayDaemon): string[] {
    // rsyslogd -n: stay in the foreground (the lab's child); sshd -D likewise. sshd logs to syslog
    // (no -e): its lines reach auth.log through /dev/log, as on a Debian server.
    if (name === 'rsyslogd') return ['/usr/sbin/rsyslogd', '-n', '-f', join(this.dir, 'rsyslog.conf'), '-i', '/run/rsyslogd.pid'];
    return ['/usr/sbin/sshd', '-D'];
  }

  async startDaemon(name: GatewayDaemon): Promise<void> {
    const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'nsenter', '-t', String(this.keeperPid), '-m', '-n', '-u', '--', ...this.argv(name)], {
      stdio: ['ignore', 'ignore', 'pipe'], env: this.env(), cwd: '/',
    });
    child.unref();
    child.stderr!.on('data', (chunk: Buffer) => { this.logs.set(name, ((this.logs.get(name) ?? '') + chunk.toString()).slice(-4000)); });
    (child.stderr as unknown as { unref?: () => void }).unref?.();
    this.daemons.set(name, child);
    await waitFor(`gateway ${name}`, () => {
      if (child.exitCode !== null) throw new LabError(`gateway lab: ${name} exited ${child.exitCode}: ${this.logs.get(name) ?? ''}`);
      const ready = name === 'rsyslogd' ? existsSync(`/proc/${this.keeperPid}/root/dev/log`) : this.isListening(SSH_PORT);
      return ready ? true : undefined;
    }, DAEMON_START_TIMEOUT_MS);
  }

  /** The daemon's pid (setpriv and nsenter exec it: the child's pid is the daemon's). */
  daemonPid(name: GatewayDaemon): number | undefined {
    const child = this.daemons.get(name);
    return child && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
  }

  async signal(name: GatewayDaemon, signal: NodeJS.Signals): Promise<void> {
    const pid = this.daemonPid(name);
    if (pid === undefined) throw new LabError(`gateway lab: ${name} is not running`);
    process.kill(pid, signal);
  }

  async stopDaemon(name: GatewayDaemon): Promise<void> {
    const child = this.daemons.get(name);
    this.daemons.delete(name);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    await exitedOrTimeout(exited, STEP_TIMEOUT_MS);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }

  private isListening(port: number): boolean {
    const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
    let table = '';
    try { table = readFileSync(`/proc/${this.keeperPid}/net/tcp`, 'utf8'); } catch { return false; }
    return table.split('\n').some((line) => {
      const fields = line.trim().split(/\s+/);
      return fields[1]?.endsWith(`:${hexPort}`) === true && fields[3] === '0A';
    });
  }

  /** A program in the gateway (its network, mount and UTS namespaces), argument array only. */
  exec(argv: readonly string[], options: { timeoutMs?: number; input?: string } = {}): Promise<ExecResult> {
    return run(['nsenter', '-t', String(this.keeperPid), '-m', '-n', '-u', '--', ...argv], {
      env: this.env(), timeoutMs: options.timeoutMs ?? STEP_TIMEOUT_MS, ...(options.input !== undefined ? { input: options.input } : {}),
    });
  }

  diagnostics(): string {
    return [...this.logs].map(([name, log]) => `[${name}] ${log.trim()}`).filter((l) => l.length > 12).join('\n');
  }

  killAllSync(): void {
    for (const child of this.daemons.values()) child.kill('SIGKILL');
    this.daemons.clear();
    this.keeper?.kill('SIGKILL');
  }
}
