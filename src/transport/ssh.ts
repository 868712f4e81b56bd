// One SSH connection, logged in (ssh-client.ts: login, host-key pinning, legacy algorithms).
// Commands go through one persistent pty shell channel framed like telnet (ssh-shell-channel.ts)
// when the login shell is POSIX or exec is refused (vendor CLI as login shell, "Unable to exec"),
// or through one exec channel per command (ssh-exec-channel.ts) when asked, or when the shell
// channel of a POSIX login does not behave.
import { BugError, LantopError } from '../errors.js';
import { connectionLostError, type Endpoint } from './errors.js';
import type { InteractiveShell } from './interactive-shell.js';
import { OverlapGuard } from './overlap-guard.js';
import type { ConnectionSession } from './reconnecting-session.js';
import { DEFAULT_COMMAND_TIMEOUT_MS, DEFAULT_CONNECT_TIMEOUT_MS, socketAddress, type ExecOptions, type ShellMode, type TraceEvent } from './session.js';
import { endClient, logInSsh, type SshClient, type SshLoginOptions } from './ssh-client.js';
import { isExecPosix, runExec } from './ssh-exec-channel.js';
import { openShellChannel } from './ssh-shell-channel.js';

export interface SshConnectOptions extends SshLoginOptions {
  connectTimeoutMs?: number;
  commandTimeoutMs?: number;
  /** First use: the fingerprint seen, for the caller to store. */
  onNewHostKey?: (fingerprint: string) => void;
  /** Use shell() even if exec works (testing, odd routers). */
  forceInteractive?: boolean;
  /** Use one exec channel per command even when a persistent shell channel would work. */
  preferExec?: boolean;
  /** From a vendor CLI to BusyBox; default `sh`, then `shell`. */
  shellEntryCommands?: readonly string[];
  cliSettleMs?: number;
  /** Go to the shell right after login. */
  enterShell?: boolean;
  /** The dialogue, for `--trace`: shell-channel bytes, or each exec command and its output. */
  onTrace?: (event: TraceEvent) => void;
}

type Backend = { kind: 'exec' } | { kind: 'interactive'; shell: InteractiveShell };

export class SshSession implements ConnectionSession {
  private readonly guard = new OverlapGuard();
  private readonly closeListeners = new Set<() => void>();
  private hasClosed = false;
  private failInFlight: ((error: Error) => void) | undefined;

  /** @internal use connectSsh() */
  constructor(
    private readonly client: SshClient,
    private readonly backend: Backend,
    private readonly endpoint: Endpoint,
    private readonly commandTimeoutMs: number,
    private readonly password: string,
    /** The server's host key fingerprint (`SHA256:…`). */
    readonly hostKeyFingerprint: string,
    /** True when the key was not pinned before this connection (store it). */
    readonly isNewHostKey: boolean,
    /** Legacy algorithms offered on this connection (empty when none were needed). */
    readonly legacyAlgorithmsEnabled: readonly string[],
    private readonly onTrace?: (event: TraceEvent) => void,
  ) {
    client.once('close', () => {
      this.hasClosed = true;
      this.failInFlight?.(connectionLostError(endpoint, 'while running a command'));
      if (this.backend.kind === 'interactive') this.backend.shell.connectionClosed();
      for (const listener of this.closeListeners) listener();
    });
  }

  /** 'exec': each command its own channel; 'interactive': one pty shell, prompt-framed. */
  get channelKind(): Backend['kind'] {
    return this.backend.kind;
  }

  get mode(): ShellMode {
    return this.backend.kind === 'exec' ? 'shell' : this.backend.shell.mode;
  }

  get isAlive(): boolean {
    return !this.hasClosed && (this.backend.kind === 'exec' || this.backend.shell.isAlive);
  }

  onClose(listener: () => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /** Runs one command; one at a time (ReconnectingSession queues; an overlapping call is refused). */
  exec(command: string, options?: ExecOptions): Promise<string> {
    const timeoutMs = options?.timeoutMs ?? this.commandTimeoutMs;
    return this.guard.run(command, async () => {
      if (!this.isAlive) throw connectionLostError(this.endpoint, 'earlier; this session was discarded');
      if (this.backend.kind === 'interactive') return this.backend.shell.run(command, timeoutMs, options?.onLines);
      try {
        this.onTrace?.({ kind: 'sent', text: command });
        const output = await this.execChannel(command, timeoutMs);
        this.onTrace?.({ kind: 'received', text: output });
        return output;
      } catch (error) {
        // Never reuse a connection after a failed command (issue 4).
        endClient(this.client);
        throw error;
      }
    });
  }

  get loginMode(): ShellMode {
    return this.backend.kind === 'exec' ? 'shell' : this.backend.shell.loginMode;
  }

  /** ssh2 keeps its socket in `_sock` (lib/client.js); absent: unknown. */
  private get socketOf(): { localAddress?: string; remoteAddress?: string } | undefined {
    return (this.client as unknown as { _sock?: { localAddress?: string; remoteAddress?: string } })._sock;
  }

  get localAddress(): string | null {
    return socketAddress(this.socketOf?.localAddress);
  }

  get remoteAddress(): string | null {
    return socketAddress(this.socketOf?.remoteAddress);
  }

  /** Host key and login prompt (or 'exec'): what the stored firmware profile is keyed on. */
  get identity(): string {
    const prompt = this.backend.kind === 'exec' ? 'exec' : (this.backend.shell.identity.prompt ?? '');
    return `ssh\n${this.hostKeyFingerprint}\n${prompt}`;
  }

  /** Tries the entry commands; the one that reached a shell, or null (see InteractiveShell). */
  enterShell(entries?: readonly string[], isKnownRoute?: boolean): Promise<string | null> {
    return this.guard.run('enter the shell', async () => {
      if (this.backend.kind === 'exec') return '';
      return this.backend.shell.enterShell(this.commandTimeoutMs, this.password, entries, isKnownRoute);
    });
  }

  exitShell(exitCommand?: string): Promise<void> {
    return this.guard.run('leave the shell', async () => {
      if (this.backend.kind === 'interactive') await this.backend.shell.exitShell(this.commandTimeoutMs, exitCommand);
    });
  }

  async close(): Promise<void> {
    if (this.hasClosed) return;
    const closed = new Promise<void>((resolve) => this.client.once('close', () => resolve()));
    endClient(this.client);
    await closed;
  }

  private execChannel(command: string, timeoutMs: number): Promise<string> {
    return runExec(this.client, command, timeoutMs, this.endpoint, (fail) => {
      this.failInFlight = fail;
    }).finally(() => {
      this.failInFlight = undefined;
    });
  }
}

/**
 * Connects, authenticates, checks the host key and picks the channel kind. Logs in at most twice:
 * a POSIX login whose persistent shell channel misbehaves takes the connection with it, and the
 * second login keeps exec.
 */
export async function connectSsh(options: SshConnectOptions): Promise<SshSession> {
  const endpoint: Endpoint = { host: options.host, port: options.port };
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const isNewHostKey = options.hostKeyFingerprint === undefined;
  let login: SshLoginOptions = options;
  const plans = options.preferExec === true ? [{ preferExec: true }] : [{ preferExec: false }, { preferExec: true }];
  for (const [index, plan] of plans.entries()) {
    const { client, fingerprint, legacyAlgorithmsEnabled } = await logInSsh(login, connectTimeoutMs);
    if (index === 0 && isNewHostKey) options.onNewHostKey?.(fingerprint);
    let backend: Backend | null;
    try {
      backend = await chooseBackend(client, endpoint, options, plan.preferExec, connectTimeoutMs, commandTimeoutMs);
    } catch (error) {
      endClient(client);
      throw error;
    }
    if (backend !== null) {
      return new SshSession(client, backend, endpoint, commandTimeoutMs, options.password, fingerprint, isNewHostKey, legacyAlgorithmsEnabled, options.onTrace);
    }
    endClient(client);
    // The same router again: its key is pinned now, and the algorithms that worked are offered at once.
    login = { ...login, hostKeyFingerprint: fingerprint, legacyAlgorithms: legacyAlgorithmsEnabled.length > 0 ? true : (login.legacyAlgorithms ?? 'auto') };
  }
  throw new BugError('connectSsh ran out of login plans (the last one keeps exec and always yields a session).');
}

/**
 * Exec when it lands in a POSIX shell, else the shell channel. null: the POSIX login's shell
 * channel did not behave (no pty, no POSIX prompt) and took the connection with it.
 */
async function chooseBackend(
  client: SshClient,
  endpoint: Endpoint,
  options: SshConnectOptions,
  preferExec: boolean,
  connectTimeoutMs: number,
  commandTimeoutMs: number,
): Promise<Backend | null> {
  const isPosix = !options.forceInteractive && (await isExecPosix(client, endpoint, Math.min(commandTimeoutMs, 5000)));
  if (!isPosix) {
    const shell = await openShellChannel(client, endpoint, options, connectTimeoutMs, commandTimeoutMs);
    if (options.enterShell) await shell.requireShell(commandTimeoutMs, options.password);
    return { kind: 'interactive', shell };
  }
  if (preferExec) return { kind: 'exec' };
  // The login shell is POSIX: keep one shell channel open and frame each command with the
  // sentinel. An exec channel per command costs a channel open and a shell start on the router
  // (~15–20 ms per poll in the lab; BENCHMARKS.md).
  let shell: InteractiveShell | null = null;
  try {
    shell = await openShellChannel(client, endpoint, options, connectTimeoutMs, commandTimeoutMs);
  } catch (error) {
    if (!(error instanceof LantopError)) throw error;
  }
  return shell !== null && shell.mode === 'shell' ? { kind: 'interactive', shell } : null;
}
