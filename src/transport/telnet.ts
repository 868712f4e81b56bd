// One telnet connection, logged in, framing replies itself. telnet-client 2.2.14 (mandated) opens
// the TCP connection (negotiationMandatory: false resolves on connect); lantop then takes the
// socket over — option negotiation (telnet-protocol.ts), UTF-8 decoding and prompt framing
// (interactive-shell.ts) — because the library's own login/exec survive none of the five defect
// classes of issue 4. A TelnetSession is one connection: after any failure it is dead, and
// ReconnectingSession opens a new one.
import { StringDecoder } from 'node:string_decoder';
import type { Socket } from 'node:net';
import telnetClient from 'telnet-client';
import type { ExecOptions, ShellMode, TraceEvent } from './session.js';
import { DEFAULT_COMMAND_TIMEOUT_MS, DEFAULT_CONNECT_TIMEOUT_MS, socketAddress } from './session.js';
import { InteractiveShell } from './interactive-shell.js';
import { OverlapGuard } from './overlap-guard.js';
import type { ConnectionSession } from './reconnecting-session.js';
import { IAC, NOP } from './telnet-codes.js';
import { TelnetDecoder } from './telnet-protocol.js';
import { mapConnectError, type Endpoint } from './errors.js';

const { Telnet } = telnetClient;
const IAC_NOP = Buffer.from([IAC, NOP]);

export interface TelnetConnectOptions {
  host: string;
  port: number;
  user: string;
  password: string;
  connectTimeoutMs?: number;
  commandTimeoutMs?: number;
  /** Sent after each command; default CR LF (RFC 854). */
  newline?: string;
  /** From a vendor CLI to BusyBox; default `sh`, then `shell`. */
  shellEntryCommands?: readonly string[];
  /** Quiet time after a vendor-CLI prompt before its reply counts as complete; default 60 ms. */
  cliSettleMs?: number;
  /** Go to the shell right after login (tries shellEntryCommands). */
  enterShell?: boolean;
  /** The wire dialogue, for `--trace` (the password is masked before it gets here). */
  onTrace?: (event: TraceEvent) => void;
}

export class TelnetSession implements ConnectionSession {
  private readonly guard = new OverlapGuard();
  private readonly closeListeners = new Set<() => void>();
  private hasClosed = false;

  /** @internal use connectTelnet() */
  constructor(
    private readonly shell: InteractiveShell,
    private readonly socket: Socket,
    private readonly options: Required<Pick<TelnetConnectOptions, 'commandTimeoutMs' | 'password'>>,
    /** Milliseconds from connect() to a learned prompt: TCP, negotiation, login, prompt, mode probe. */
    readonly loginMs: number,
  ) {
    socket.once('close', () => {
      this.hasClosed = true;
      for (const listener of this.closeListeners) listener();
    });
  }

  get mode(): ShellMode {
    return this.shell.mode;
  }

  get prompt(): string | null {
    return this.shell.prompt;
  }

  get loginMode(): ShellMode {
    return this.shell.loginMode;
  }

  get localAddress(): string | null {
    return socketAddress(this.socket.localAddress);
  }

  get remoteAddress(): string | null {
    return socketAddress(this.socket.remoteAddress);
  }

  /** Banner and login prompt: what the stored firmware profile is keyed on. */
  get identity(): string {
    const { banner, prompt } = this.shell.identity;
    return `telnet\n${banner}\n${prompt ?? ''}`;
  }

  /** False once the connection failed or closed; a dead session never comes back. */
  get isAlive(): boolean {
    return this.shell.isAlive && !this.hasClosed;
  }

  /** Called once when the connection closes (any reason). */
  onClose(listener: () => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  exec(command: string, options?: ExecOptions): Promise<string> {
    return this.guard.run(command, () => this.shell.run(command, options?.timeoutMs ?? this.options.commandTimeoutMs, options?.onLines));
  }

  /** Tries the entry commands; the one that reached a shell, or null (see InteractiveShell). */
  enterShell(entries?: readonly string[], isKnownRoute?: boolean): Promise<string | null> {
    return this.guard.run('enter the shell', () => this.shell.enterShell(this.options.commandTimeoutMs, this.options.password, entries, isKnownRoute));
  }

  exitShell(exitCommand?: string): Promise<void> {
    return this.guard.run('leave the shell', () => this.shell.exitShell(this.options.commandTimeoutMs, exitCommand));
  }

  async close(): Promise<void> {
    if (this.hasClosed) return;
    const closed = new Promise<void>((resolve) => this.socket.once('close', () => resolve()));
    this.shell.destroy();
    await closed;
  }
}

/** Connects, negotiates, logs in and learns the prompt. Rejects with AuthError, UnreachableError, TimeoutError or RouterError. */
export async function connectTelnet(options: TelnetConnectOptions): Promise<TelnetSession> {
  const startedMs = Date.now();
  const endpoint: Endpoint = { host: options.host, port: options.port };
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;

  const telnet = new Telnet();
  // telnet-client emits 'error' only when someone listens; failures reach us through connect()'s promise.
  telnet.on('error', () => undefined);
  try {
    await telnet.connect({
      host: options.host,
      port: options.port,
      timeout: connectTimeoutMs,
      negotiationMandatory: false,
      disableLogon: true,
      encoding: 'utf8',
    });
  } catch (error) {
    telnet.getSocket()?.destroy();
    throw mapConnectError(error, endpoint, connectTimeoutMs);
  }
  const socket = telnet.getSocket();
  if (!socket) throw mapConnectError(new Error('no socket after connect'), endpoint, connectTimeoutMs);

  // Take the stream over: the library's data handler would negotiate only chunk-leading IACs and
  // queue every chunk in memory for a reader that never comes.
  for (const listener of socket.listeners('data')) socket.removeListener('data', listener as (...args: unknown[]) => void);
  socket.setTimeout(0);
  socket.setNoDelay(true);

  const negotiation = new TelnetDecoder();
  const utf8 = new StringDecoder('utf8');
  const shell = new InteractiveShell(
    {
      write: (text) => {
        if (socket.writable) socket.write(text, 'utf8');
      },
      destroy: () => socket.destroy(),
    },
    {
      endpoint,
      protocol: 'telnet',
      ...(options.newline !== undefined ? { newline: options.newline } : {}),
      ...(options.cliSettleMs !== undefined ? { cliSettleMs: options.cliSettleMs } : {}),
      ...(options.shellEntryCommands !== undefined ? { shellEntryCommands: options.shellEntryCommands } : {}),
      ...(options.onTrace ? { onTrace: options.onTrace } : {}),
    },
  );
  let socketError: unknown;
  socket.on('data', (chunk: Buffer) => {
    const { data, reply } = negotiation.feed(chunk);
    if (reply.length > 0 && socket.writable) socket.write(reply);
    if (data.length > 0) shell.receive(utf8.write(data));
    // BusyBox telnetd writes a reply in several small segments without TCP_NODELAY: Nagle holds
    // each one until our delayed ACK (~40 ms). A no-op packet carries the ACK at once.
    if (reply.length === 0 && shell.isWaiting && socket.writable) socket.write(IAC_NOP);
  });
  socket.on('error', (error) => {
    socketError = error;
  });
  socket.once('close', () => {
    shell.receive(utf8.end());
    shell.connectionClosed(socketError);
  });

  try {
    const loginBudgetMs = Math.max(1000, connectTimeoutMs - (Date.now() - startedMs));
    await shell.login(options.user, options.password, loginBudgetMs);
    await shell.probeMode(commandTimeoutMs);
    if (options.enterShell) await shell.requireShell(commandTimeoutMs, options.password);
  } catch (error) {
    shell.destroy();
    throw error;
  }
  return new TelnetSession(shell, socket, { commandTimeoutMs, password: options.password }, Date.now() - startedMs);
}
