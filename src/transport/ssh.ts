// One SSH connection (ssh2 1.17), logged in. Commands run through `exec` when the router allows it
// and lands in a POSIX shell; otherwise (vendor CLI as login shell, "Unable to exec") through an
// interactive shell() with a pty, framed by interactive-shell.ts like telnet. Host keys are pinned
// on first use: a changed key refuses to connect. Old dropbear builds get legacy algorithms on
// request, or by an automatic retry that says what it enabled.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { StringDecoder } from 'node:string_decoder';
import ssh2 from 'ssh2';
import type { Algorithms, ClientChannel, ConnectConfig } from 'ssh2';
import { LantopError, RouterError } from '../errors.js';
import { sanitizeText } from '../sanitize.js';
import {
  HostKeyChangedError,
  authError,
  commandTimeoutError,
  connectTimeoutError,
  connectionLostError,
  describeEndpoint,
  mapConnectError,
  type Endpoint,
} from './errors.js';
import { InteractiveShell, SHELL_PROBE_COMMAND, SHELL_PROBE_OUTPUT, type TraceEvent } from './interactive-shell.js';
import type { ConnectionSession } from './reconnecting-session.js';
import { SerialQueue } from './serial-queue.js';
import { DEFAULT_COMMAND_TIMEOUT_MS, DEFAULT_CONNECT_TIMEOUT_MS, type ExecOptions, type ShellMode } from './session.js';

const { Client } = ssh2;
type SshClient = InstanceType<typeof Client>;

export interface SshConnectOptions {
  host: string;
  port: number;
  user: string;
  password: string;
  connectTimeoutMs?: number;
  commandTimeoutMs?: number;
  /** Pinned host key fingerprint (`SHA256:…`, as stored with the profile). Absent: first use. */
  hostKeyFingerprint?: string;
  /** First use: the fingerprint seen, for the caller to store. */
  onNewHostKey?: (fingerprint: string) => void;
  /**
   * Old dropbear builds only speak diffie-hellman-group1-sha1, aes128-cbc, 3des-cbc, hmac-md5,
   * ssh-dss. true: offer them from the start; 'auto' (default): retry with them when negotiation
   * fails, and say so through onWarning; false: never.
   */
  legacyAlgorithms?: boolean | 'auto';
  onWarning?: (text: string) => void;
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

/** What "legacy" adds, per algorithm list; filtered by what this ssh2 build supports. */
export const LEGACY_ALGORITHMS = {
  kex: ['diffie-hellman-group14-sha1', 'diffie-hellman-group1-sha1', 'diffie-hellman-group-exchange-sha1'],
  cipher: ['aes128-cbc', 'aes256-cbc', '3des-cbc'],
  serverHostKey: ['ssh-rsa', 'ssh-dss'],
  hmac: ['hmac-sha1', 'hmac-md5'],
} as const;

const require = createRequire(import.meta.url);
interface Ssh2Constants {
  SUPPORTED_KEX: string[];
  SUPPORTED_CIPHER: string[];
  SUPPORTED_SERVER_HOST_KEY: string[];
  SUPPORTED_MAC: string[];
}
function supportedAlgorithms(): Ssh2Constants | null {
  try {
    return require('ssh2/lib/protocol/constants.js') as Ssh2Constants;
  } catch {
    return null;
  }
}

/** The ssh2 `algorithms` option that appends the legacy algorithms to ssh2's defaults. */
export function legacyAlgorithmConfig(): { algorithms: Algorithms; enabled: string[] } {
  const supported = supportedAlgorithms();
  const keep = (names: readonly string[], list: keyof Ssh2Constants) => names.filter((name) => !supported || supported[list].includes(name));
  const kex = keep(LEGACY_ALGORITHMS.kex, 'SUPPORTED_KEX');
  const cipher = keep(LEGACY_ALGORITHMS.cipher, 'SUPPORTED_CIPHER');
  const serverHostKey = keep(LEGACY_ALGORITHMS.serverHostKey, 'SUPPORTED_SERVER_HOST_KEY');
  const hmac = keep(LEGACY_ALGORITHMS.hmac, 'SUPPORTED_MAC');
  // @types/ssh2 wants all three of append/prepend/remove when the object form is used.
  const algorithms = {
    kex: { append: kex, prepend: [], remove: [] },
    cipher: { append: cipher, prepend: [], remove: [] },
    serverHostKey: { append: serverHostKey, prepend: [], remove: [] },
    hmac: { append: hmac, prepend: [], remove: [] },
  } as Algorithms;
  return { algorithms, enabled: [...kex, ...cipher, ...serverHostKey, ...hmac] };
}

/** OpenSSH-style fingerprint of a raw host key blob: `SHA256:` + unpadded base64. */
export function fingerprintOf(hostKey: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(hostKey).digest('base64').replace(/=+$/, '');
}

/** How long a closing connection may wait for the router's goodbye before its socket is destroyed. */
const CLOSE_GRACE_MS = 1000;

/**
 * ssh2's Client.destroy() does nothing once end() was called (it checks that the socket is still
 * writable), so it cannot finish off an ended connection: destroy the socket itself.
 */
function destroyClient(client: SshClient): void {
  client.destroy();
  (client as unknown as { _sock?: { destroy(): void } })._sock?.destroy();
}

/**
 * end() sends the disconnect and a FIN; a router that vanished (rebooted, unplugged, a deleted lab
 * namespace) never answers, the socket sits in FIN-WAIT-1 and keeps the process alive for minutes
 * (issue 13). So the goodbye gets CLOSE_GRACE_MS, then the socket is destroyed.
 */
function endClient(client: SshClient): void {
  client.end();
  const timer = setTimeout(() => destroyClient(client), CLOSE_GRACE_MS);
  timer.unref();
  client.once('close', () => clearTimeout(timer));
}

const NEGOTIATION_FAILED = /no matching (?:key exchange|host key|C->S cipher|S->C cipher|C->S MAC|S->C MAC)/i;

type Backend = { kind: 'exec' } | { kind: 'interactive'; shell: InteractiveShell };

export class SshSession implements ConnectionSession {
  private readonly queue = new SerialQueue();
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
    /** Milliseconds from connect to ready-for-commands. */
    readonly loginMs: number,
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

  exec(command: string, options?: ExecOptions): Promise<string> {
    const timeoutMs = options?.timeoutMs ?? this.commandTimeoutMs;
    return this.queue.run(async () => {
      if (!this.isAlive) throw connectionLostError(this.endpoint, 'earlier; this session was discarded');
      if (this.backend.kind === 'interactive') return this.backend.shell.run(command, timeoutMs);
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

  /** Host key and login prompt (or 'exec'): what the stored firmware profile is keyed on. */
  get identity(): string {
    const prompt = this.backend.kind === 'exec' ? 'exec' : (this.backend.shell.identity.prompt ?? '');
    return `ssh\n${this.hostKeyFingerprint}\n${prompt}`;
  }

  /** Tries the entry commands; the one that reached a shell, or null (see InteractiveShell). */
  enterShell(entries?: readonly string[]): Promise<string | null> {
    return this.queue.run(async () => {
      if (this.backend.kind === 'exec') return '';
      return this.backend.shell.enterShell(this.commandTimeoutMs, this.password, entries);
    });
  }

  exitShell(exitCommand?: string): Promise<void> {
    return this.queue.run(async () => {
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

function runExec(
  client: SshClient,
  command: string,
  timeoutMs: number,
  endpoint: Endpoint,
  registerFail: (fail: (error: Error) => void) => void,
): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let isDone = false;
    let channel: ClientChannel | undefined;
    const finish = (error: Error | null, output?: string) => {
      if (isDone) return;
      isDone = true;
      clearTimeout(timer);
      if (error) {
        channel?.close();
        reject(error);
      } else resolve(output ?? '');
    };
    registerFail((error) => finish(error));
    const timer = setTimeout(() => finish(commandTimeoutError(endpoint, command, timeoutMs)), timeoutMs);
    client.exec(command, (error, stream) => {
      if (error) {
        finish(new ExecRefusedError(endpoint, error));
        return;
      }
      channel = stream;
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.stderr.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('close', () => {
        finish(null, cleanExecOutput(Buffer.concat(chunks).toString('utf8')));
      });
      // Commands reading stdin (a CLI forced as the login shell) must see EOF, not hang.
      stream.end();
    });
  });
}

/** The router refused an exec channel ("Unable to exec", channel open failure). */
class ExecRefusedError extends RouterError {
  constructor(endpoint: Endpoint, cause: Error) {
    super(`${describeEndpoint(endpoint)} refused to run a command over SSH exec: ${sanitizeText(cause.message, 120)}.`, undefined, { cause });
  }
}

/** CR LF → LF, one final line end dropped: the same shape as a telnet reply. */
export function cleanExecOutput(text: string): string {
  return text.replace(/\r+\n/g, '\n').replace(/\n$/, '');
}

interface Ready {
  client: SshClient;
  fingerprint: string;
}

function openClient(options: SshConnectOptions, endpoint: Endpoint, connectTimeoutMs: number, algorithms: Algorithms | undefined): Promise<Ready> {
  return new Promise<Ready>((resolve, reject) => {
    const client = new Client();
    let fingerprint = '';
    let changedKey: HostKeyChangedError | undefined;
    let isSettled = false;
    const settle = (error: LantopError | null) => {
      if (isSettled) return;
      isSettled = true;
      if (error) {
        destroyClient(client);
        reject(error);
      } else resolve({ client, fingerprint });
    };
    client.on('ready', () => {
      // Small request/reply packets: Nagle + delayed ACK would add ~40 ms per command.
      client.setNoDelay(true);
      settle(null);
    });
    client.on('error', (error: Error & { level?: string; code?: string }) => {
      if (changedKey) settle(changedKey);
      else settle(mapSshError(error, options, endpoint, connectTimeoutMs));
    });
    client.on('close', () => settle(connectionLostError(endpoint, 'during the SSH handshake')));
    client.on('keyboard-interactive', (_name, _instructions, _language, prompts, finish) => {
      // Routers ask for the password this way (dropbear with PAM, some vendor builds).
      finish(prompts.map(() => options.password));
    });
    const config: ConnectConfig = {
      host: options.host,
      port: options.port,
      username: options.user,
      password: options.password,
      tryKeyboard: true,
      readyTimeout: connectTimeoutMs,
      hostVerifier: (key: Buffer) => {
        fingerprint = fingerprintOf(key);
        if (options.hostKeyFingerprint !== undefined && options.hostKeyFingerprint !== fingerprint) {
          changedKey = new HostKeyChangedError(endpoint, options.hostKeyFingerprint, fingerprint);
          return false;
        }
        return true;
      },
      ...(algorithms ? { algorithms } : {}),
    };
    try {
      client.connect(config);
    } catch (error) {
      settle(mapConnectError(error, endpoint, connectTimeoutMs));
    }
  });
}

class AlgorithmMismatchError extends RouterError {}

function mapSshError(error: Error & { level?: string; code?: string }, options: SshConnectOptions, endpoint: Endpoint, connectTimeoutMs: number): LantopError {
  if (error.level === 'client-authentication') return authError(endpoint, options.user, 'ssh');
  if (error.level === 'client-timeout') return connectTimeoutError(endpoint, connectTimeoutMs, 'logging in over SSH');
  if (NEGOTIATION_FAILED.test(error.message)) {
    return new AlgorithmMismatchError(
      `${describeEndpoint(endpoint)} and lantop share no SSH algorithm (${sanitizeText(error.message, 120)}).`,
      'Try --ssh-legacy-algorithms for an old router, or use telnet.',
      { cause: error },
    );
  }
  return mapConnectError(error, endpoint, connectTimeoutMs);
}

/** Connects, authenticates (password or keyboard-interactive), checks the host key, picks exec or shell. */
export async function connectSsh(options: SshConnectOptions): Promise<SshSession> {
  const startedMs = Date.now();
  const endpoint: Endpoint = { host: options.host, port: options.port };
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const legacy = options.legacyAlgorithms ?? 'auto';

  let ready: Ready;
  let enabled: string[] = [];
  if (legacy === true) {
    const config = legacyAlgorithmConfig();
    enabled = config.enabled;
    ready = await openClient(options, endpoint, connectTimeoutMs, config.algorithms);
  } else {
    try {
      ready = await openClient(options, endpoint, connectTimeoutMs, undefined);
    } catch (error) {
      if (!(error instanceof AlgorithmMismatchError) || legacy === false) throw error;
      const config = legacyAlgorithmConfig();
      enabled = config.enabled;
      ready = await openClient(options, endpoint, connectTimeoutMs, config.algorithms);
      options.onWarning?.(
        `${describeEndpoint(endpoint)} only speaks old SSH algorithms; lantop enabled ${enabled.join(', ')}. ` +
          'They are weak: update the router firmware if you can.',
      );
    }
  }
  const { client, fingerprint } = ready;
  const isNewHostKey = options.hostKeyFingerprint === undefined;
  if (isNewHostKey) options.onNewHostKey?.(fingerprint);

  try {
    let useExec = !options.forceInteractive;
    if (useExec) {
      try {
        const output = await runExec(client, SHELL_PROBE_COMMAND, Math.min(commandTimeoutMs, 5000), endpoint, () => undefined);
        useExec = SHELL_PROBE_OUTPUT.test(output);
      } catch (error) {
        if (!(error instanceof ExecRefusedError) && !(error instanceof LantopError && error.name === 'TimeoutError')) throw error;
        useExec = false;
      }
    }
    let backend: Backend = { kind: 'exec' };
    if (!useExec) {
      const shell = await openInteractiveShell(client, options, endpoint, connectTimeoutMs, commandTimeoutMs);
      if (options.enterShell) await shell.requireShell(commandTimeoutMs, options.password);
      backend = { kind: 'interactive', shell };
    } else if (options.preferExec !== true) {
      // The login shell is POSIX: keep one shell channel open and frame each command with the
      // sentinel. An exec channel per command costs a channel open and a shell start on the router
      // (~15–20 ms per poll in the lab; BENCHMARKS.md). If the shell channel does not behave (no
      // pty, no POSIX prompt), a failed channel takes the connection with it: log in again and
      // keep exec.
      let shell: InteractiveShell | null = null;
      try {
        shell = await openInteractiveShell(client, options, endpoint, connectTimeoutMs, commandTimeoutMs);
      } catch (error) {
        if (!(error instanceof LantopError)) throw error;
      }
      if (shell === null || shell.mode !== 'shell') {
        endClient(client);
        return connectSsh({ ...options, preferExec: true, hostKeyFingerprint: fingerprint, legacyAlgorithms: enabled.length > 0 ? true : legacy });
      }
      backend = { kind: 'interactive', shell };
    }
    const session = new SshSession(client, backend, endpoint, commandTimeoutMs, options.password, fingerprint, isNewHostKey, enabled, Date.now() - startedMs, options.onTrace);
    return session;
  } catch (error) {
    endClient(client);
    throw error;
  }
}

async function openInteractiveShell(
  client: SshClient,
  options: SshConnectOptions,
  endpoint: Endpoint,
  connectTimeoutMs: number,
  commandTimeoutMs: number,
): Promise<InteractiveShell> {
  const stream = await new Promise<ClientChannel>((resolve, reject) => {
    // Wide and tall pty: fewer wrapped echoes and pagers.
    client.shell({ term: 'vt100', cols: 512, rows: 1000 }, (error, channel) => {
      if (error) reject(new RouterError(`${describeEndpoint(endpoint)} offers neither SSH exec nor a shell: ${sanitizeText(error.message, 120)}.`, 'Try telnet.', { cause: error }));
      else resolve(channel);
    });
  });
  const decoder = new StringDecoder('utf8');
  const shell = new InteractiveShell(
    {
      write: (text) => {
        if (stream.writable) stream.write(text);
      },
      // Never reuse: a failed interactive channel takes the connection with it.
      destroy: () => {
        stream.close();
        endClient(client);
      },
    },
    {
      endpoint,
      protocol: 'ssh',
      newline: '\r',
      ...(options.cliSettleMs !== undefined ? { cliSettleMs: options.cliSettleMs } : {}),
      ...(options.shellEntryCommands !== undefined ? { shellEntryCommands: options.shellEntryCommands } : {}),
      ...(options.onTrace ? { onTrace: options.onTrace } : {}),
    },
  );
  stream.on('data', (chunk: Buffer) => shell.receive(decoder.write(chunk)));
  stream.stderr.on('data', (chunk: Buffer) => shell.receive(chunk.toString('utf8')));
  stream.on('close', () => shell.connectionClosed());
  await shell.awaitPrompt(connectTimeoutMs);
  await shell.probeMode(commandTimeoutMs);
  return shell;
}
