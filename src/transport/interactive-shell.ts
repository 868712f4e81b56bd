// Prompt-framed command execution over an interactive text stream: the telnet connection, or an SSH
// shell() channel when the router refuses exec. Knows nothing about sockets: the owner feeds it
// decoded text and tells it when the connection ended; it writes through a ShellChannel.
//
// Framing rules (issue 4): a reply is complete only when the prompt is seen at the very end of what
// arrived — in the BusyBox shell after a sentinel line we asked for (`cmd; echo "__LANTOP""_END_…"`,
// the quotes keep the echoed command from matching), in a vendor CLI after a newline plus the exact
// prompt learned at login and a short quiet period. Any failure (timeout, close, refused login)
// destroys the connection: leftovers of a hung command must never glue onto the next reply.
import { randomBytes } from 'node:crypto';
import { ConnectionLostError, RouterError } from '../errors.js';
import type { ShellMode } from './session.js';
import {
  authError,
  commandTimeoutError,
  connectTimeoutError,
  connectionLostError,
  notUnderstoodError,
  type Endpoint,
} from './errors.js';
import {
  LOGIN_FAILED,
  LOGIN_PROMPT,
  LineEndNormalizer,
  PAGER,
  PASSWORD_PROMPT,
  isPromptLike,
  lastLine,
  renderTerminalLine,
  renderText,
  stripEcho,
  tailLines,
} from './text-framing.js';

export interface ShellChannel {
  write(text: string): void;
  /** Tears the connection down; the owner later calls connectionClosed(). */
  destroy(): void;
}

export interface InteractiveShellOptions {
  endpoint: Endpoint;
  protocol: 'telnet' | 'ssh';
  /** Line end sent after each command; RFC 854 NVT newline by default. */
  newline?: string;
  /** Quiet time after a vendor-CLI prompt before the reply counts as complete (default 60 ms). */
  cliSettleMs?: number;
  /** Commands that lead from a vendor CLI to the BusyBox shell, tried in order. */
  shellEntryCommands?: readonly string[];
  /** Every write and arrival, for `--trace` (the password is never passed here). */
  onTrace?: (event: TraceEvent) => void;
}

/** One step of the wire dialogue, as `--trace` and `lantop doctor` record it. */
export type TraceEvent = { kind: 'sent'; text: string; isSecret?: boolean } | { kind: 'received'; text: string };

export const DEFAULT_SHELL_ENTRY_COMMANDS: readonly string[] = ['sh', 'shell'];
/**
 * Tells a POSIX shell from a vendor CLI: needs `;`, `$?` and quote joining, which the sentinel
 * framing relies on. A plain `echo` probe is not enough: Broadcom CLIs pass `echo` through to
 * BusyBox without a shell.
 */
export const SHELL_PROBE_COMMAND = 'false; echo "__LANTOP""_PROBE_$?__"';
export const SHELL_PROBE_OUTPUT = /(?:^|\n)__LANTOP_PROBE_1__(?:\n|$)/;
const MAX_PAGER_ANSWERS = 10_000;
const PROMPT_CONFIRM_ROUNDS = 4;

interface WaitSpec<T> {
  step: () => T | undefined;
  timeoutMs: number;
  settleMs?: number;
  onTimeout: () => Error;
  onClose?: () => Error | undefined;
}

interface Waiter {
  evaluate: () => void;
  closed: () => void;
}

export class InteractiveShell {
  private raw = '';
  private readonly normalizer = new LineEndNormalizer();
  private waiter: Waiter | null = null;
  private failure: Error | null = null;
  private hasReceived = false;
  private pagerAnswers = 0;
  private promptText: string | null = null;
  private currentMode: ShellMode = 'cli';
  private loginModeValue: ShellMode | null = null;
  private shellEnteredWith: string | null = null;
  private bannerText = '';
  private loginPromptText: string | null = null;
  private readonly newline: string;
  private readonly cliSettleMs: number;
  private readonly shellEntryCommands: readonly string[];

  constructor(
    private readonly channel: ShellChannel,
    private readonly options: InteractiveShellOptions,
  ) {
    this.newline = options.newline ?? '\r\n';
    this.cliSettleMs = options.cliSettleMs ?? 60;
    this.shellEntryCommands = options.shellEntryCommands ?? DEFAULT_SHELL_ENTRY_COMMANDS;
  }

  get mode(): ShellMode {
    return this.currentMode;
  }

  /** The prompt learned at login (after the last mode change), as rendered. */
  get prompt(): string | null {
    return this.promptText;
  }

  /** Where the login landed (known after the first mode probe). */
  get loginMode(): ShellMode {
    return this.loginModeValue ?? this.currentMode;
  }

  /**
   * What identifies this firmware from the outside at no extra cost: the text shown before the
   * login prompt (banner) and the prompt after login. Raw router text: hash or sanitise it.
   */
  get identity(): { banner: string; prompt: string | null } {
    return { banner: this.bannerText, prompt: this.loginPromptText };
  }

  get isAlive(): boolean {
    return this.failure === null;
  }

  /** True while a reply is awaited (login, command, prompt). */
  get isWaiting(): boolean {
    return this.waiter !== null;
  }

  /** Decoded text from the connection (telnet commands already removed). */
  receive(text: string): void {
    if (text.length === 0) return;
    this.hasReceived = true;
    this.options.onTrace?.({ kind: 'received', text });
    this.raw += this.normalizer.push(text);
    this.waiter?.evaluate();
  }

  /** The connection ended (closed by the router, or destroyed by us). */
  connectionClosed(cause?: unknown): void {
    this.raw += this.normalizer.flush();
    this.failure ??= connectionLostError(this.options.endpoint, 'unexpectedly', cause);
    this.waiter?.closed();
  }

  /** Discards the connection for good: used after any failure, and by close(). */
  destroy(reason?: Error): void {
    this.failure ??=
      reason ??
      new ConnectionLostError(
        `The session with ${this.options.endpoint.host}:${this.options.endpoint.port} was discarded after a failure or close.`,
        'Open a new session (the reconnecting session does this by itself).',
      );
    this.channel.destroy();
  }

  /**
   * Answers the login dialogue (telnet) and learns the prompt. Reports a refused login as soon as
   * the router shows it, including `Login incorrect` and the next `login:` in one TCP write.
   */
  async login(user: string, password: string, timeoutMs: number): Promise<void> {
    let loginPrompts = 0;
    let hasSentPassword = false;
    let hasSeenFailure = false;
    const endpoint = this.options.endpoint;
    const refused = () => authError(endpoint, user, this.options.protocol);
    const candidate = await this.wait<string>({
      timeoutMs,
      step: () => {
        const text = renderText(this.raw);
        const last = lastLine(text);
        if (hasSentPassword && LOGIN_FAILED.test(text)) hasSeenFailure = true;
        if (LOGIN_PROMPT.test(last)) {
          // Asked for the user again: the previous attempt was refused.
          if (hasSentPassword || loginPrompts >= 2) throw refused();
          if (loginPrompts === 0) this.bannerText = bannerOf(text);
          loginPrompts += 1;
          this.send(user);
          return undefined;
        }
        if (PASSWORD_PROMPT.test(last)) {
          if (hasSentPassword) throw refused();
          if (loginPrompts === 0) this.bannerText = bannerOf(text);
          hasSentPassword = true;
          this.send(password, true);
          return undefined;
        }
        return isPromptLike(last) ? last : undefined;
      },
      onTimeout: () =>
        this.hasReceived
          ? notUnderstoodError(endpoint, `showed no login or shell prompt within ${timeoutMs / 1000} s`, tailLines(renderText(this.raw)))
          : connectTimeoutError(endpoint, timeoutMs, 'waiting for the login prompt'),
      // Some login programs hang up right after a wrong password, before their message reaches
      // the socket (BusyBox telnetd -K): a close after the password and before any prompt is a refusal.
      onClose: () => (hasSeenFailure ? refused() : hasSentPassword ? authError(endpoint, user, this.options.protocol, 'it hung up after the password') : undefined),
    });
    await this.learnPrompt(candidate, timeoutMs);
    this.loginPromptText = this.promptText;
  }

  /** Learns the prompt when there is no login dialogue (SSH shell channel). */
  async awaitPrompt(timeoutMs: number): Promise<void> {
    this.send('');
    const candidate = await this.wait<string>({
      timeoutMs,
      settleMs: this.cliSettleMs,
      step: () => {
        const last = renderTerminalLine(lastLine(this.raw));
        return isPromptLike(last) ? last : undefined;
      },
      onTimeout: () => notUnderstoodError(this.options.endpoint, `showed no prompt within ${timeoutMs / 1000} s`, tailLines(renderText(this.raw))),
    });
    this.bannerText = bannerOf(renderText(this.raw));
    await this.learnPrompt(candidate, timeoutMs);
    this.loginPromptText = this.promptText;
  }

  /**
   * Confirms a prompt candidate by sending an empty line and seeing the same prompt again; a banner
   * line that merely ends in `>` does not survive this.
   */
  private async learnPrompt(candidate: string, timeoutMs: number): Promise<void> {
    let current = candidate;
    for (let round = 0; round < PROMPT_CONFIRM_ROUNDS; round += 1) {
      this.send('');
      const next = await this.wait<string>({
        timeoutMs,
        settleMs: this.cliSettleMs,
        step: () => {
          const last = renderTerminalLine(lastLine(this.raw));
          return isPromptLike(last) ? last : undefined;
        },
        onTimeout: () => notUnderstoodError(this.options.endpoint, 'did not show its prompt again after an empty line', tailLines(renderText(this.raw))),
      });
      if (next.trimEnd() === current.trimEnd()) {
        this.promptText = next;
        return;
      }
      current = next;
    }
    const error = notUnderstoodError(this.options.endpoint, 'kept changing its prompt', tailLines(renderText(this.raw)));
    this.destroy();
    throw error;
  }

  /** Finds out whether commands land in a POSIX shell or a vendor CLI. */
  async probeMode(timeoutMs: number): Promise<ShellMode> {
    const output = await this.runFramedByPrompt(SHELL_PROBE_COMMAND, timeoutMs);
    this.currentMode = SHELL_PROBE_OUTPUT.test(output) ? 'shell' : 'cli';
    this.loginModeValue ??= this.currentMode;
    return this.currentMode;
  }

  /** Runs one command; the caller serialises calls. */
  async run(command: string, timeoutMs: number): Promise<string> {
    if (/[\r\n]/.test(command)) throw new RouterError('lantop tried to send a command with a line break; refused.', undefined);
    return this.currentMode === 'shell'
      ? (await this.runFramedBySentinel(command, timeoutMs)).output
      : this.runFramedByPrompt(command, timeoutMs);
  }

  /**
   * From the vendor CLI into a POSIX shell: tries each entry command in order and returns the one
   * that led to a shell (recognised by the sentinel probe, not by its prompt), or null when none
   * did — the CLI is then as it was. Already in a shell: returns how it got there ('' for a login
   * that landed in one).
   */
  async enterShell(timeoutMs: number, password?: string, entries: readonly string[] = this.shellEntryCommands): Promise<string | null> {
    if (this.currentMode === 'shell') return this.shellEnteredWith ?? '';
    const cliPrompt = this.promptText;
    for (const entry of entries) {
      if (/[\r\n]/.test(entry)) continue;
      let hasSentPassword = false;
      this.send(entry);
      const candidate = await this.wait<string>({
        timeoutMs,
        settleMs: this.cliSettleMs,
        step: () => {
          const body = stripEcho(renderText(this.raw), entry);
          const last = lastLine(body);
          if (password !== undefined && !hasSentPassword && PASSWORD_PROMPT.test(last)) {
            hasSentPassword = true;
            this.send(password, true);
            return undefined;
          }
          return body.length > 0 && isPromptLike(last) ? last : undefined;
        },
        onTimeout: () => notUnderstoodError(this.options.endpoint, `showed no prompt after '${entry}'`, tailLines(renderText(this.raw))),
      });
      await this.learnPrompt(candidate, timeoutMs);
      if ((await this.probeMode(timeoutMs)) === 'shell') {
        this.shellEnteredWith = entry;
        return entry;
      }
      // Still a CLI. A candidate that opened a sub-menu (another prompt) is left the way CLIs
      // leave sub-menus; at the top level `exit` would log out, so it is sent only here.
      if (cliPrompt !== null && this.promptText?.trimEnd() !== cliPrompt.trimEnd()) {
        await this.leave('exit', timeoutMs);
        if (this.promptText?.trimEnd() !== cliPrompt.trimEnd()) {
          const error = notUnderstoodError(this.options.endpoint, `did not return to its CLI prompt after '${entry}' and 'exit'`, tailLines(renderText(this.raw)));
          this.destroy();
          throw error;
        }
      }
    }
    return null;
  }

  /** enterShell, failing when no entry led to a shell (the `enterShell: true` connect option). */
  async requireShell(timeoutMs: number, password?: string): Promise<void> {
    if ((await this.enterShell(timeoutMs, password)) !== null) return;
    throw new RouterError(
      `Could not reach a shell from the router's command line (tried ${this.shellEntryCommands.join(', ')}).`,
      'lantop needs the BusyBox shell (iptables); check whether this router offers one to this user.',
    );
  }

  /** Back from the shell to the vendor CLI it was entered from; no-op when not entered by us. */
  async exitShell(timeoutMs: number, exitCommand = 'exit'): Promise<void> {
    if (this.currentMode !== 'shell' || this.shellEnteredWith === null) return;
    await this.leave(exitCommand, timeoutMs);
    this.shellEnteredWith = null;
    if ((await this.probeMode(timeoutMs)) !== 'cli') {
      const error = notUnderstoodError(this.options.endpoint, `stayed in a shell after '${exitCommand}'`, tailLines(renderText(this.raw)));
      this.destroy();
      throw error;
    }
  }

  /** Sends a command that changes the prompt (exit from a shell or sub-menu) and learns the new one. */
  private async leave(command: string, timeoutMs: number): Promise<void> {
    this.send(command);
    const candidate = await this.wait<string>({
      timeoutMs,
      settleMs: this.cliSettleMs,
      step: () => {
        const body = stripEcho(renderText(this.raw), command);
        const last = lastLine(body);
        return body.length > 0 && isPromptLike(last) ? last : undefined;
      },
      onTimeout: () => notUnderstoodError(this.options.endpoint, `showed no prompt after '${command}'`, tailLines(renderText(this.raw))),
    });
    await this.learnPrompt(candidate, timeoutMs);
  }

  private async runFramedBySentinel(command: string, timeoutMs: number): Promise<{ output: string; exitStatus: number }> {
    const nonce = randomBytes(6).toString('hex');
    // Anywhere on a line, not only at its start: output without a final newline (`printf x`, a
    // lease file not ending in one) puts the sentinel right after it. The nonce keeps the echoed
    // command (where the quotes split the word) from matching.
    const sentinel = new RegExp(`__LANTOP_END_${nonce}_(\\d+)__\\n`);
    const line = `${command}; echo "__LANTOP""_END_${nonce}_$?__"`;
    this.send(line);
    const framed = await this.wait<{ body: string; exitStatus: number }>({
      timeoutMs,
      step: () => {
        this.answerPager();
        const match = sentinel.exec(this.raw);
        if (!match) return undefined;
        const rest = this.raw.slice(match.index + match[0].length);
        if (rest.includes('\n')) return undefined;
        const prompt = renderTerminalLine(rest);
        if (!isPromptLike(prompt)) return undefined;
        this.promptText = prompt;
        const body = this.raw.slice(0, match.index);
        return { body: body.endsWith('\n') ? body.slice(0, -1) : body, exitStatus: Number(match[1]) };
      },
      onTimeout: () => commandTimeoutError(this.options.endpoint, command, timeoutMs),
      onClose: () => connectionLostError(this.options.endpoint, `while running '${command}'`),
    });
    return { output: this.cleanReply(framed.body, line, false), exitStatus: framed.exitStatus };
  }

  private async runFramedByPrompt(line: string, timeoutMs: number): Promise<string> {
    const prompt = this.promptText;
    if (prompt === null) throw new RouterError('No prompt learned yet.', undefined);
    this.send(line);
    const body = await this.wait<string>({
      timeoutMs,
      settleMs: this.cliSettleMs,
      step: () => {
        this.answerPager();
        const lineStart = this.raw.lastIndexOf('\n') + 1;
        const last = renderTerminalLine(this.raw.slice(lineStart));
        if (last.trimEnd() !== prompt.trimEnd()) return undefined;
        return this.raw.slice(0, lineStart);
      },
      onTimeout: () => commandTimeoutError(this.options.endpoint, line, timeoutMs),
      onClose: () => connectionLostError(this.options.endpoint, `while running '${line}'`),
    });
    return this.cleanReply(body, line, true);
  }

  /** Echo, a stray earlier prompt, CRs and the final line end removed; lines joined with '\n'. */
  private cleanReply(body: string, sentLine: string, endsWithNewline: boolean): string {
    let text = renderText(body);
    if (endsWithNewline && text.endsWith('\n')) text = text.slice(0, -1);
    const withoutEcho = stripEcho(text, sentLine);
    if (withoutEcho !== text) return withoutEcho;
    const prompt = this.promptText?.trimEnd();
    if (prompt && text.startsWith(prompt)) {
      const afterPrompt = stripEcho(text.slice(prompt.length), sentLine);
      if (afterPrompt !== text.slice(prompt.length)) return afterPrompt;
    }
    // Nothing echoed; an empty echo-less reply may still carry the newline of the Enter key.
    return text === '\n' ? '' : text;
  }

  /** `--More--` at the end of what arrived: drop it from the reply and press space. */
  private answerPager(): void {
    const lineStart = this.raw.lastIndexOf('\n') + 1;
    const last = renderTerminalLine(this.raw.slice(lineStart));
    if (!PAGER.test(last)) return;
    this.pagerAnswers += 1;
    if (this.pagerAnswers > MAX_PAGER_ANSWERS) {
      throw new RouterError('The router kept paging output (--More--) without end.', 'Disable paging on the router CLI and try again.');
    }
    this.raw = this.raw.slice(0, lineStart) + last.replace(PAGER, '');
    this.channel.write(' ');
  }

  private send(line: string, isSecret = false): void {
    this.raw = '';
    this.options.onTrace?.(isSecret ? { kind: 'sent', text: '', isSecret: true } : { kind: 'sent', text: line });
    this.channel.write(line + this.newline);
  }

  /**
   * Resolves when step() returns a value (after settleMs of quiet, if given); re-evaluated on every
   * arrival. Rejects on timeout, on close, or when step throws — and then destroys the connection.
   */
  private wait<T>(spec: WaitSpec<T>): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.waiter) return Promise.reject(new RouterError('lantop sent two commands at once (bug).', undefined));
    return new Promise<T>((resolve, reject) => {
      let settleTimer: NodeJS.Timeout | undefined;
      const finish = (error: Error | null, value?: T) => {
        clearTimeout(timer);
        clearTimeout(settleTimer);
        this.waiter = null;
        if (error) {
          this.destroy();
          reject(error);
        } else {
          resolve(value as T);
        }
      };
      const timer = setTimeout(() => finish(spec.onTimeout()), spec.timeoutMs);
      this.waiter = {
        evaluate: () => {
          clearTimeout(settleTimer);
          let value: T | undefined;
          try {
            value = spec.step();
          } catch (error) {
            finish(error instanceof Error ? error : new Error(String(error)));
            return;
          }
          if (value === undefined) return;
          if (spec.settleMs) settleTimer = setTimeout(() => finish(null, value), spec.settleMs);
          else finish(null, value);
        },
        closed: () => {
          finish(spec.onClose?.() ?? this.failure ?? connectionLostError(this.options.endpoint, 'unexpectedly'));
        },
      };
      this.waiter.evaluate();
    });
  }
}

/** What came before the login prompt, without that prompt line: the firmware's banner. */
function bannerOf(text: string): string {
  const end = text.lastIndexOf('\n');
  return (end < 0 ? '' : text.slice(0, end)).trim().slice(0, 500);
}
