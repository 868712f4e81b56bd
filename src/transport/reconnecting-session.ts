// The session everything above transport/ holds for the life of a run: one persistent connection
// (no re-login per command; issue 4 measured 1.25 s per refresh when the seed script did that),
// one command in flight, and on a lost connection a reconnect with exponential backoff capped at
// 30 s that re-enters the shell it was in. Errors the user must fix (wrong password, changed host
// key) are not retried: the state becomes 'failed'.
import type { ConnectionState } from '../domain/snapshot.js';
import { AuthError, ConnectionLostError, LantopError, UnreachableError } from '../errors.js';
import { HostKeyChangedError, seconds } from './errors.js';
import { SerialQueue } from './serial-queue.js';
import type { ExecOptions, Session, ShellMode } from './session.js';

/** A session over one connection: once it failed or closed it stays dead. */
export interface ConnectionSession extends Session {
  /** False once the connection failed or closed (absent: judged by the errors it throws). */
  readonly isAlive?: boolean;
  /** Called when the connection closes while idle (router reboot, telnetd killed). */
  onClose?(listener: () => void): () => void;
}

export type SessionFactory = () => Promise<ConnectionSession>;

/** Injectable time (STYLE.md principle 5). */
export interface Timers {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => {
    const handle = setTimeout(callback, ms);
    // A pending reconnect must not keep a finished CLI process alive.
    handle.unref?.();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface ReconnectingSessionOptions {
  factory: SessionFactory;
  /** Shown in reasons, e.g. "192.168.1.1:23". */
  target: string;
  /** First reconnect delay; doubles per failed attempt. Default 1 s. */
  initialDelayMs?: number;
  /** Cap of the backoff. Default 30 s. */
  maxDelayMs?: number;
  timers?: Timers;
  /** Enter the shell on every (re)connect, as if enterShell() had been called. */
  enterShell?: boolean;
}

export const DEFAULT_INITIAL_RECONNECT_DELAY_MS = 1_000;
export const DEFAULT_MAX_RECONNECT_DELAY_MS = 30_000;

/** min(max, initial · 2^attempt): 1 s, 2 s, 4 s … 30 s. */
export function backoffDelayMs(attempt: number, initialMs = DEFAULT_INITIAL_RECONNECT_DELAY_MS, maxMs = DEFAULT_MAX_RECONNECT_DELAY_MS): number {
  return Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
}

/** Errors only the user can fix: retrying would just repeat them (and may lock the account). */
export function isFatalConnectError(error: unknown): boolean {
  return error instanceof AuthError || error instanceof HostKeyChangedError || !(error instanceof LantopError);
}

export class ReconnectingSession implements Session {
  private readonly queue = new SerialQueue();
  private readonly listeners = new Set<(state: ConnectionState) => void>();
  private readonly timers: Timers;
  private readonly initialDelayMs: number;
  private readonly maxDelayMs: number;
  private current: ConnectionSession | null = null;
  private stopWatchingClose: (() => void) | undefined;
  private stateValue: ConnectionState = { kind: 'connecting' };
  private failedAttempts = 0;
  private retryHandle: unknown = null;
  private retryAtMs = 0;
  private fatalError: unknown = null;
  private wantsShell: boolean;
  private isClosed = false;

  constructor(private readonly options: ReconnectingSessionOptions) {
    this.timers = options.timers ?? systemTimers;
    this.initialDelayMs = options.initialDelayMs ?? DEFAULT_INITIAL_RECONNECT_DELAY_MS;
    this.maxDelayMs = options.maxDelayMs ?? DEFAULT_MAX_RECONNECT_DELAY_MS;
    this.wantsShell = options.enterShell ?? false;
  }

  get state(): ConnectionState {
    return this.stateValue;
  }

  get mode(): ShellMode {
    return this.current?.mode ?? (this.wantsShell ? 'shell' : 'cli');
  }

  /** The live connection's session (e.g. to read an SSH host key); null while disconnected. */
  get connection(): ConnectionSession | null {
    return this.current;
  }

  /** Listens to state changes; returns the unsubscribe function. */
  onStateChange(listener: (state: ConnectionState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Connects now (errors surface here instead of at the first command). */
  connect(): Promise<void> {
    return this.queue.run(async () => {
      await this.ensureConnected();
    });
  }

  exec(command: string, options?: ExecOptions): Promise<string> {
    return this.queue.run(async () => {
      const session = await this.ensureConnected();
      try {
        return await session.exec(command, options);
      } catch (error) {
        this.afterCommandFailure(session, error);
        throw error;
      }
    });
  }

  enterShell(): Promise<void> {
    return this.queue.run(async () => {
      const session = await this.ensureConnected();
      if (session.mode !== 'shell') {
        try {
          if (!session.enterShell) throw new ConnectionLostError('This session cannot change to the shell.');
          await session.enterShell();
        } catch (error) {
          this.afterCommandFailure(session, error);
          throw error;
        }
      }
      this.wantsShell = true;
    });
  }

  async close(): Promise<void> {
    this.isClosed = true;
    this.cancelRetry();
    const session = this.current;
    this.dropCurrent();
    await session?.close();
  }

  private async ensureConnected(): Promise<ConnectionSession> {
    if (this.isClosed) throw new ConnectionLostError(`The session with ${this.options.target} is closed.`);
    if (this.fatalError !== null) throw this.fatalError;
    if (this.current && this.current.isAlive !== false) return this.current;
    if (this.current) this.lose(this.current, 'the connection closed');
    if (this.retryHandle !== null) {
      const inMs = Math.max(0, this.retryAtMs - this.timers.now());
      throw new ConnectionLostError(
        `Not connected to ${this.options.target}; reconnecting in ${seconds(Math.ceil(inMs / 1000) * 1000)}.`,
        'lantop keeps retrying by itself; check the router if this lasts.',
      );
    }
    return this.attempt();
  }

  private async attempt(): Promise<ConnectionSession> {
    this.setState({ kind: 'connecting' });
    let session: ConnectionSession | undefined;
    try {
      session = await this.options.factory();
      if (this.wantsShell && session.mode !== 'shell') await session.enterShell?.();
    } catch (error) {
      await session?.close().catch(() => undefined);
      if (isFatalConnectError(error)) {
        this.fatalError = error;
        this.setState({ kind: 'failed', reason: reasonOf(error) });
      } else {
        this.scheduleRetry(reasonOf(error));
      }
      throw error;
    }
    if (this.isClosed) {
      await session.close();
      throw new ConnectionLostError(`The session with ${this.options.target} is closed.`);
    }
    this.current = session;
    this.failedAttempts = 0;
    const connected = session;
    this.stopWatchingClose = session.onClose?.(() => {
      if (this.current === connected) this.lose(connected, 'the router closed the connection');
    });
    this.setState({ kind: 'connected' });
    return session;
  }

  private afterCommandFailure(session: ConnectionSession, error: unknown): void {
    // After a timeout or a drop the connection may hold a hung command's leftovers: never reuse it.
    if (error instanceof UnreachableError || session.isAlive === false) this.lose(session, reasonOf(error));
  }

  private lose(session: ConnectionSession, reason: string): void {
    if (this.current !== session) return;
    this.dropCurrent();
    session.close().catch(() => undefined);
    if (!this.isClosed) this.scheduleRetry(reason);
  }

  private dropCurrent(): void {
    this.stopWatchingClose?.();
    this.stopWatchingClose = undefined;
    this.current = null;
  }

  private scheduleRetry(reason: string): void {
    if (this.isClosed) return;
    this.cancelRetry();
    const delayMs = backoffDelayMs(this.failedAttempts, this.initialDelayMs, this.maxDelayMs);
    this.failedAttempts += 1;
    this.retryAtMs = this.timers.now() + delayMs;
    this.retryHandle = this.timers.setTimeout(() => {
      this.retryHandle = null;
      this.queue.run(() => this.ensureConnected()).catch(() => undefined);
    }, delayMs);
    this.setState({ kind: 'reconnecting', inMs: delayMs, reason });
  }

  private cancelRetry(): void {
    if (this.retryHandle !== null) this.timers.clearTimeout(this.retryHandle);
    this.retryHandle = null;
  }

  private setState(state: ConnectionState): void {
    this.stateValue = state;
    for (const listener of this.listeners) listener(state);
  }
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
