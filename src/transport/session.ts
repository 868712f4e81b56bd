// The one interface everything above transport/ uses to talk to a router.
// Implementations: telnet (telnet-client), ssh (ssh2), and the scripted fake in test/fakes.

export type Protocol = 'telnet' | 'ssh';

/** Where a command lands: the vendor CLI (` > `, `ATP>`) or a BusyBox/Linux shell (`# `). */
export type ShellMode = 'cli' | 'shell';

export interface ExecOptions {
  /** Per-command timeout; default comes from the session's options (10 s). */
  timeoutMs?: number;
}

export interface Session {
  /**
   * Runs one command and returns its complete output: echo, prompt and CRs removed, lines joined
   * with '\n'. Commands are queued: one in flight at a time. Rejects with a typed error
   * (TimeoutError, ConnectionLostError, …); after a failure the implementation discards the
   * connection and the next exec reconnects.
   */
  exec(command: string, options?: ExecOptions): Promise<string>;
  /** Which shell commands currently go to. */
  readonly mode: ShellMode;
  /**
   * Moves from the vendor CLI to the BusyBox shell (`sh`, `shell`); no-op when already there.
   * Optional: sessions that always land in a shell need not implement it. A reconnecting session
   * re-enters the shell after a reconnect.
   */
  enterShell?(): Promise<void>;
  close(): Promise<void>;
}

export interface ConnectionOptions {
  host: string;
  port: number;
  protocol: Protocol;
  user: string;
  password: string;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_COMMAND_TIMEOUT_MS = 10_000;
