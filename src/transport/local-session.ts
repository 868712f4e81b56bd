// Local mode (issue 18): lantop runs on the gateway itself, so its commands go to one persistent
// `sh` child on this machine instead of a telnet or SSH login — as root, or through `sudo -n` when
// lantop is not root. Replies are framed exactly as in a router's shell (reply-framing.ts: the
// sentinel, then a prompt): the child runs a small read–eval loop that prints `# ` before each
// line it reads, and the channel below plays the terminal's echo, so the same framing code, line
// hand-over and echo stripping apply. No pty: commands read /dev/null (a command reading stdin
// must not eat the next command), stderr goes where stdout goes, in arrival order, as over SSH.
// A timeout or any failure kills the shell with everything it started; the next command gets a
// fresh one.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { hostname, release } from 'node:os';
import { StringDecoder } from 'node:string_decoder';
import { ConnectionLostError, RouterError, TimeoutError } from '../errors.js';
import { sanitizeText } from '../sanitize.js';
import { localRootError, seconds, type Endpoint } from './errors.js';
import type { ConnectionSession } from './reconnecting-session.js';
import { runFramedBySentinel } from './reply-framing.js';
import { SerialQueue } from './serial-queue.js';
import type { ExecOptions, ShellMode, TraceEvent } from './session.js';
import { DEFAULT_COMMAND_TIMEOUT_MS, DEFAULT_CONNECT_TIMEOUT_MS } from './session.js';
import { ShellStream, type ShellChannel } from './shell-stream.js';

/** How the shell becomes root: lantop is root already, or asks `sudo -n` (never a password prompt). */
export type LocalPrivilege = 'root' | 'sudo';

export interface LocalSessionOptions {
  /** Per-command timeout; default 10 s. */
  commandTimeoutMs?: number;
  /** Until the shell's first prompt (sudo included); default 10 s. */
  startTimeoutMs?: number;
  /** Default: 'root' when process.getuid() is 0, else 'sudo'. */
  privilege?: LocalPrivilege;
  /** The sudo program; default `sudo` from PATH (tests pass a stand-in). */
  sudoPath?: string;
  /** The shell; default /bin/sh. */
  shellPath?: string;
  /** Every line sent and every arrival, for `--trace`. */
  onTrace?: (event: TraceEvent) => void;
}

/** How errors name this session: describeEndpoint prints a host alone for port 0. */
export const LOCAL_ENDPOINT: Endpoint = { host: 'the local shell', port: 0 };

/**
 * The read–eval loop. fd 3 keeps the command pipe; commands get /dev/null as stdin, fd 3 closed,
 * stderr joined to stdout. `command eval` keeps a syntax error from ending the shell (POSIX:
 * a special built-in's error ends a non-interactive shell). `# ` is the prompt the framing waits for.
 * The C locale is set here too: sudo may reset the environment it was given.
 */
export const LOCAL_SHELL_LOOP = `LC_ALL=C LANG=C; export LC_ALL LANG; exec 3<&0 </dev/null 2>&1; while printf '# '; IFS= read -r lantop_line <&3; do command eval "$lantop_line" 3<&-; done`;

/** Kept of the child's own stderr (sudo's complaint before the loop joins stderr to stdout). */
const STDERR_KEPT = 2048;
/** After close() kills the shell, how long to wait for it to be gone. */
const CLOSE_WAIT_MS = 2_000;

export function defaultPrivilege(): LocalPrivilege {
  return process.getuid?.() === 0 ? 'root' : 'sudo';
}

/**
 * What identifies this machine for the stored firmware profile: /etc/machine-id (else the host
 * name), the kernel release (an upgrade may bring other tools) and how lantop became root.
 */
export function localIdentity(privilege: LocalPrivilege, read: (path: string) => string = (path) => readFileSync(path, 'utf8')): string {
  let machine = '';
  try {
    const id = read('/etc/machine-id').trim();
    if (/^[0-9a-f]{32}$/i.test(id)) machine = id.toLowerCase();
  } catch {
    // No machine-id (containers, BusyBox systems): the host name below.
  }
  if (machine === '') machine = `host:${sanitizeText(hostname(), 64)}`;
  return `local\n${machine}\n${sanitizeText(release(), 64)}\n${privilege}`;
}

/** A stable environment: C locale (parsers read English error texts), sbin on PATH, none of lantop's secrets. */
function shellEnvironment(): NodeJS.ProcessEnv {
  const path = (process.env['PATH'] ?? '/usr/bin:/bin').split(':').filter((p) => p !== '');
  for (const dir of ['/usr/local/sbin', '/usr/sbin', '/sbin']) if (!path.includes(dir)) path.push(dir);
  return { PATH: path.join(':'), HOME: process.env['HOME'] ?? '/', LC_ALL: 'C', LANG: 'C', TERM: 'dumb' };
}

/** One `sh` child: the ShellChannel under a ShellStream. Dead after any failure. */
class LocalShell implements ShellChannel {
  readonly stream: ShellStream;
  private readonly child: ChildProcess;
  private stderrText = '';
  private spawnError: NodeJS.ErrnoException | null = null;
  private hasExited = false;
  private readonly exited: Promise<void>;
  private killer: Promise<void> | null = null;

  constructor(
    private readonly options: Required<Pick<LocalSessionOptions, 'privilege' | 'sudoPath' | 'shellPath'>> & Pick<LocalSessionOptions, 'onTrace'>,
  ) {
    this.stream = new ShellStream(this, LOCAL_ENDPOINT, '\n', options.onTrace);
    const argv = options.privilege === 'sudo' ? [options.sudoPath, '-n', options.shellPath, '-c', LOCAL_SHELL_LOOP] : [options.shellPath, '-c', LOCAL_SHELL_LOOP];
    // Its own process group, so a timeout kills what the command started too.
    this.child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], detached: true, env: shellEnvironment() });
    const decoder = new StringDecoder('utf8');
    this.child.stdout!.on('data', (chunk: Buffer) => this.stream.receive(decoder.write(chunk)));
    this.child.stderr!.on('data', (chunk: Buffer) => {
      this.stderrText = (this.stderrText + chunk.toString('utf8')).slice(-STDERR_KEPT);
    });
    // A write after the shell died (EPIPE) shows as the stream's close, not as an uncaught error.
    this.child.stdin!.on('error', () => undefined);
    this.exited = new Promise((resolve) => {
      let isDone = false;
      const done = () => {
        if (isDone) return;
        isDone = true;
        this.hasExited = true;
        this.stream.receive(decoder.end());
        this.stream.connectionClosed();
        resolve();
      };
      this.child.once('error', (error: NodeJS.ErrnoException) => {
        this.spawnError = error;
        done();
      });
      this.child.once('close', done);
    });
  }

  get isAlive(): boolean {
    return !this.hasExited && this.stream.isAlive;
  }

  get pid(): number | null {
    return this.child.pid ?? null;
  }

  /** Waits for the loop's first prompt: the shell runs, and root it is (sudo said nothing against it). */
  async start(timeoutMs: number): Promise<void> {
    await this.stream.wait<true>({
      timeoutMs,
      step: () => (this.stream.text.endsWith('# ') ? true : undefined),
      onTimeout: () =>
        new TimeoutError(
          `The local shell${this.options.privilege === 'sudo' ? ' (through sudo -n)' : ''} did not start within ${seconds(timeoutMs)}.`,
          'Check that /bin/sh runs on this machine; raise --timeout (milliseconds) if it is just slow.',
        ),
      onClose: () => this.startError(),
    });
  }

  private startError(): Error {
    const seen = this.stderrText.trim().split('\n').slice(-2).join(' ');
    if (this.options.privilege === 'sudo') {
      if (this.spawnError?.code === 'ENOENT') return localRootError('sudo is not installed');
      if (/password|terminal is required|askpass/i.test(seen)) return localRootError('sudo -n needs a password', seen);
      return localRootError('sudo -n refused', seen || undefined);
    }
    return new RouterError(
      `The local shell ${sanitizeText(this.options.shellPath, 80)} ${this.spawnError ? `could not start (${this.spawnError.code ?? this.spawnError.message})` : 'exited at once'}.`,
      'Check that /bin/sh exists and runs on this machine.',
      seen ? { seen: sanitizeText(seen, 200) } : undefined,
    );
  }

  /** ShellChannel: one command line. Echoed into the stream first, as a terminal would. */
  write(text: string): void {
    if (this.hasExited) return;
    this.stream.receive(text);
    this.child.stdin!.write(text);
  }

  /** ShellChannel: tears the shell down (the stream calls it on any failure). */
  destroy(): void {
    this.kill();
  }

  kill(): void {
    if (this.hasExited || this.child.pid === undefined) return;
    this.child.stdin!.destroy();
    const group = -this.child.pid;
    if (this.options.privilege === 'sudo' && this.killer === null) {
      // The group's root members cannot be signalled from here: a second sudo does it.
      this.killer = new Promise((resolve) => {
        const helper = spawn(this.options.sudoPath, ['-n', this.options.shellPath, '-c', `kill -KILL -- ${group} 2>/dev/null; :`], { stdio: 'ignore', env: shellEnvironment() });
        helper.once('error', () => resolve());
        helper.once('close', () => resolve());
      });
    }
    try {
      process.kill(group, 'SIGKILL');
    } catch {
      // Gone already, or (sudo) only root members left: the helper above takes those.
    }
  }

  /** Kills the shell and waits (up to 2 s) until it is gone. */
  async close(): Promise<void> {
    this.kill();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all([this.exited, this.killer]), new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS)))]);
    clearTimeout(timer);
  }
}

/**
 * A Session on this machine. One command at a time (its own queue, for use without
 * ReconnectingSession too); a dead shell is replaced on the next command, without backoff.
 */
export class LocalSession implements ConnectionSession {
  private readonly queue = new SerialQueue();
  private readonly shellOptions: ConstructorParameters<typeof LocalShell>[0];
  private readonly commandTimeoutMs: number;
  private readonly startTimeoutMs: number;
  private shell: LocalShell | null = null;
  private isClosed = false;
  readonly identity: string;
  readonly localAddress = null;
  readonly remoteAddress = null;

  constructor(options: LocalSessionOptions = {}) {
    const privilege = options.privilege ?? defaultPrivilege();
    this.shellOptions = {
      privilege,
      sudoPath: options.sudoPath ?? 'sudo',
      shellPath: options.shellPath ?? '/bin/sh',
      ...(options.onTrace ? { onTrace: options.onTrace } : {}),
    };
    this.commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    this.startTimeoutMs = options.startTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.identity = localIdentity(privilege);
  }

  get mode(): ShellMode {
    return 'shell';
  }

  get loginMode(): ShellMode {
    return 'shell';
  }

  /** True until close(): a shell that died is replaced by the next command. */
  get isAlive(): boolean {
    return !this.isClosed;
  }

  /** Starts the shell now (errors such as sudo's surface here). */
  start(): Promise<void> {
    return this.queue.run(async () => {
      await this.ensureShell();
    });
  }

  exec(command: string, options?: ExecOptions): Promise<string> {
    return this.queue.run(async () => {
      if (/[\r\n]/.test(command)) throw new RouterError('lantop tried to send a command with a line break; refused.', undefined);
      const shell = await this.ensureShell();
      const reply = await runFramedBySentinel(shell.stream, command, options?.timeoutMs ?? this.commandTimeoutMs, options?.onLines);
      return reply.output;
    });
  }

  private async ensureShell(): Promise<LocalShell> {
    if (this.isClosed) throw new ConnectionLostError('The local shell session is closed.');
    if (this.shell?.isAlive) return this.shell;
    await this.shell?.close();
    const shell = new LocalShell(this.shellOptions);
    this.shell = shell;
    try {
      await shell.start(this.startTimeoutMs);
    } catch (error) {
      await shell.close();
      throw error;
    }
    return shell;
  }

  /** Kills the shell (and a command still running in it); later calls reject. */
  async close(): Promise<void> {
    this.isClosed = true;
    const shell = this.shell;
    this.shell = null;
    await shell?.close();
  }

  /** The shell's process id (tests: that close() really ended it); null: none running. */
  get shellPid(): number | null {
    return this.shell?.isAlive ? this.shell.pid : null;
  }
}

/** Opens a local session with its shell started (what ReconnectingSession's factory calls). */
export async function connectLocal(options: LocalSessionOptions = {}): Promise<LocalSession> {
  const session = new LocalSession(options);
  try {
    await session.start();
  } catch (error) {
    await session.close();
    throw error;
  }
  return session;
}
