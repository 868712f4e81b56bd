// The session everything above transport/ holds for the life of a run: one persistent connection
// (no re-login per command; issue 4 measured 1.25 s per refresh when the seed script did that),
// one command in flight, and on a lost connection a reconnect with exponential backoff capped at
// 30 s. Commands say where they run (vendor CLI or shell): the session moves there first with the
// route detection found, also after a reconnect, which always lands where the login lands (issue
// 13). Errors the user must fix (wrong password, changed host key) are not retried: the state
// becomes 'failed'.
import type { ConnectionState } from '../domain/snapshot.js';
import { AuthError, ConnectionLostError, LantopError, RouterError, UnreachableError } from '../errors.js';
import { HostKeyChangedError, seconds } from './errors.js';
import { SerialQueue } from './serial-queue.js';
import type { ExecOptions, ModalSession, ShellMode, ShellRoute } from './session.js';

/**
 * A session over one connection: once it failed or closed it stays dead. One call at a time: the
 * ReconnectingSession's queue is the only one on the command path; telnet and SSH connections
 * refuse a call that overlaps another (overlap-guard.ts).
 */
export interface ConnectionSession extends ModalConnection {
  /** False once the connection failed or closed (absent: judged by the errors it throws). */
  readonly isAlive?: boolean;
  /** Called when the connection closes while idle (router reboot, telnetd killed). */
  onClose?(listener: () => void): () => void;
  /** What identifies the firmware from the outside (banner, prompt, host key); absent: unknown. */
  readonly identity?: string;
  readonly localAddress?: string | null;
  readonly remoteAddress?: string | null;
}

/** One connection's own mode moves (telnet and SSH shells implement them; exec-only SSH does not need to). */
interface ModalConnection {
  exec(command: string, options?: ExecOptions): Promise<string>;
  readonly mode: ShellMode;
  close(): Promise<void>;
  /** Where the login landed; absent: where the connection is now. */
  readonly loginMode?: ShellMode;
  /**
   * Tries the entry commands in order; the one that reached a shell, or null. isKnownRoute: the
   * entry led to a shell before (no quiet waits; the usual probe only if it no longer does).
   */
  enterShell?(entries?: readonly string[], isKnownRoute?: boolean): Promise<string | null | void>;
  exitShell?(exitCommand?: string): Promise<void>;
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
  /** How to reach the shell from the CLI and back (from a stored profile); see setShellRoute. */
  shellRoute?: ShellRoute | null;
}

export const DEFAULT_INITIAL_RECONNECT_DELAY_MS = 1_000;
export const DEFAULT_MAX_RECONNECT_DELAY_MS = 30_000;

/** min(max, initial · 2^attempt): 1 s, 2 s, 4 s … 30 s. */
export function backoffDelayMs(attempt: number, initialMs = DEFAULT_INITIAL_RECONNECT_DELAY_MS, maxMs = DEFAULT_MAX_RECONNECT_DELAY_MS): number {
  return Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
}

/** Errors only the user can fix: retrying would just repeat them (and may lock the account). */
function isFatalConnectError(error: unknown): boolean {
  return error instanceof AuthError || error instanceof HostKeyChangedError || !(error instanceof LantopError);
}

export class ReconnectingSession implements ModalSession {
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
  /** Where commands without a `where` go: 'shell' after enterShell(). */
  private defaultWhere: ShellMode | undefined;
  private route: ShellRoute | null;
  private lastLoginMode: ShellMode | null = null;
  private isClosed = false;

  constructor(private readonly options: ReconnectingSessionOptions) {
    this.timers = options.timers ?? systemTimers;
    this.initialDelayMs = options.initialDelayMs ?? DEFAULT_INITIAL_RECONNECT_DELAY_MS;
    this.maxDelayMs = options.maxDelayMs ?? DEFAULT_MAX_RECONNECT_DELAY_MS;
    this.defaultWhere = options.enterShell ? 'shell' : undefined;
    this.route = options.shellRoute ?? null;
  }

  get state(): ConnectionState {
    return this.stateValue;
  }

  get mode(): ShellMode {
    return this.current?.mode ?? this.defaultWhere ?? this.loginMode;
  }

  get loginMode(): ShellMode {
    return this.current?.loginMode ?? this.lastLoginMode ?? this.current?.mode ?? 'cli';
  }

  get shellRoute(): ShellRoute | null {
    return this.route;
  }

  setShellRoute(route: ShellRoute | null): void {
    this.route = route;
  }

  /** The live connection's identity (banner, prompt, host key); null while disconnected. */
  get identity(): string | null {
    return this.current?.identity ?? null;
  }

  /** The address lantop connects from, of the live connection; null while disconnected. */
  get localAddress(): string | null {
    return this.current?.localAddress ?? null;
  }

  /** The router's address, of the live connection; null while disconnected. */
  get remoteAddress(): string | null {
    return this.current?.remoteAddress ?? null;
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
        await this.moveTo(session, options?.where ?? this.defaultWhere);
        return await session.exec(command, options?.timeoutMs !== undefined || options?.onLines ? {
          ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
          ...(options.onLines ? { onLines: options.onLines } : {}),
        } : undefined);
      } catch (error) {
        this.afterCommandFailure(session, error);
        throw error;
      }
    });
  }

  /** Moves to the shell now, and after every reconnect (with the known route, else `sh`, `shell`). */
  enterShell(): Promise<void> {
    return this.queue.run(async () => {
      const session = await this.ensureConnected();
      try {
        await this.moveToShell(session, true);
      } catch (error) {
        this.afterCommandFailure(session, error);
        throw error;
      }
      this.defaultWhere = 'shell';
    });
  }

  findShell(candidates: readonly string[]): Promise<ShellRoute | null> {
    return this.queue.run(async () => {
      const session = await this.ensureConnected();
      if (session.mode === 'shell' || !session.enterShell) return null;
      let used: string | null | void;
      try {
        used = await session.enterShell(candidates);
      } catch (error) {
        this.afterCommandFailure(session, error);
        throw error;
      }
      if (typeof used !== 'string' || used === '') return null;
      this.route = { enter: used, exit: 'exit' };
      return this.route;
    });
  }

  /**
   * Goes where a command must run. Where no move is possible (no route known, or a login that
   * lands in a shell has no CLI behind it) the command runs where the session is: the router's
   * answer then says what went wrong, and the caller reports it.
   */
  private async moveTo(session: ConnectionSession, where: ShellMode | undefined): Promise<void> {
    if (where === undefined || session.mode === where) return;
    if (where === 'shell') {
      await this.moveToShell(session, false);
    } else if (session.exitShell && (session.loginMode ?? this.lastLoginMode) === 'cli') {
      await session.exitShell(this.route?.exit ?? 'exit');
    }
  }

  private async moveToShell(session: ConnectionSession, isDefaultEntryAllowed: boolean): Promise<void> {
    if (session.mode === 'shell' || !session.enterShell) return;
    if (this.route === null && !isDefaultEntryAllowed) return;
    const used = await session.enterShell(this.route ? [this.route.enter] : undefined, this.route !== null);
    if ((session.mode as ShellMode) !== 'shell') {
      throw new RouterError(
        this.route
          ? `'${this.route.enter}' no longer leads to the router's shell.`
          : "Could not reach a shell from the router's command line (tried sh, shell).",
        'Run `lantop doctor` to see what the router offers now, or start again with --redetect.',
      );
    }
    if (this.route === null && typeof used === 'string' && used !== '') this.route = { enter: used, exit: 'exit' };
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
      this.lastLoginMode = session.loginMode ?? session.mode;
      if (this.defaultWhere === 'shell') await this.moveToShell(session, true);
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
