// The one interface everything above transport/ uses to talk to a router.
// Implementations: telnet (telnet-client), ssh (ssh2), and the scripted fake in test/fakes.

import { canonicalAddress } from '../domain/address.js';

/** 'local' (issue 18): this machine's own shell, no login (local-session.ts). */
export type Protocol = 'telnet' | 'ssh' | 'local';

/** Where a command lands: the vendor CLI (` > `, `ATP>`) or a BusyBox/Linux shell (`# `). */
export type ShellMode = 'cli' | 'shell';

export interface ExecOptions {
  /** Per-command timeout; default comes from the session's options (10 s). */
  timeoutMs?: number;
  /**
   * Where the command must run. A modal session moves there first (vendor CLI ⇄ shell) with the
   * route it learned; absent: wherever the session is now. Where no move is possible (no route
   * known, or no CLI behind a shell login) the command runs where the session is, and the
   * router's answer decides (an error text is classified by the caller, never swallowed).
   */
  where?: ShellMode;
  /**
   * Complete lines of the reply, handed over while the rest is still arriving (a POSIX shell's
   * sentinel-framed reply only), so a caller can parse as the bytes come in. A hint: each call
   * gets the next lines, each ending in '\n', of what exec resolves with followed by '\n' (the
   * output has no final line end); the resolved output is always the whole reply, and a session
   * may hand over only a prefix of it, or nothing.
   */
  onLines?: (lines: string) => void;
}

/** How to go from the vendor CLI to its shell and back, as detection found it. */
export interface ShellRoute {
  /** The CLI command that leads to a POSIX shell (`sh`, `shell`, `system shell`…). */
  enter: string;
  /** The shell command that returns to the CLI (`exit`). */
  exit: string;
}

/** Candidate CLI commands that lead to a shell on vendor firmware, most common first. */
export const SHELL_ENTRY_CANDIDATES: readonly string[] = ['sh', 'shell', 'system shell', 'busybox sh'];

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
  close(): Promise<void>;
  /** The addresses of the live connection's two ends, canonical (issue 16: never block the owner); absent/null: unknown. */
  readonly localAddress?: string | null;
  readonly remoteAddress?: string | null;
}

/** An endpoint address of a socket, canonical (an IPv4-mapped IPv6 address as IPv4); null: none. */
export function socketAddress(text: string | undefined): string | null {
  if (typeof text !== 'string') return null;
  return canonicalAddress(/^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(text) ? text.slice(7) : text.replace(/%.*$/, ''));
}

/** A session over a login that may land in a vendor CLI with a shell behind it. */
export interface ModalSession extends Session {
  /** Where a fresh login lands (the CLI, or a shell). */
  readonly loginMode: ShellMode;
  /**
   * Tries the entry commands in order from the CLI (read-only: each either reaches a shell,
   * recognised by the sentinel probe, or leaves the CLI as it was). On success the session stays
   * in the shell and remembers the route; null when none led to a shell.
   */
  findShell(candidates: readonly string[]): Promise<ShellRoute | null>;
  /** The route exec({ where }) uses, e.g. from a stored profile; null: none known. */
  setShellRoute(route: ShellRoute | null): void;
  readonly shellRoute: ShellRoute | null;
}

export function isModalSession(session: Session): session is ModalSession {
  return typeof (session as Partial<ModalSession>).findShell === 'function';
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

/** One step of the wire dialogue, as `--trace` and `lantop doctor` record it (the password only as isSecret). */
export type TraceEvent = { kind: 'sent'; text: string; isSecret?: boolean } | { kind: 'received'; text: string };

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_COMMAND_TIMEOUT_MS = 10_000;
