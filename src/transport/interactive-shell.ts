// Command execution over an interactive text stream: the telnet connection, or an SSH shell()
// channel when the router refuses exec or a persistent channel is cheaper. Holds where commands
// land (vendor CLI or POSIX shell) and moves between the two; the stream mechanics are in
// shell-stream.ts, the login and prompt in prompt-learning.ts, reply framing in reply-framing.ts.
// Any failure destroys the connection (issue 4). One call at a time: the owning session refuses
// overlapping calls (overlap-guard.ts).
import { RouterError } from '../errors.js';
import { notUnderstoodError, type Endpoint } from './errors.js';
import { answerLogin, awaitFirstPrompt, confirmPrompt, promptAfter } from './prompt-learning.js';
import { runFramedByPrompt, runFramedBySentinel, runFramedBySentinelOrPrompt } from './reply-framing.js';
import type { ShellMode, TraceEvent } from './session.js';
import { ShellStream, type ShellChannel } from './shell-stream.js';
import { renderText, tailLines } from './text-framing.js';

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

const DEFAULT_SHELL_ENTRY_COMMANDS: readonly string[] = ['sh', 'shell'];
/**
 * Tells a POSIX shell from a vendor CLI: needs `;`, `$?` and quote joining, which the sentinel
 * framing relies on. A plain `echo` probe is not enough: Broadcom CLIs pass `echo` through to
 * BusyBox without a shell.
 */
export const SHELL_PROBE_COMMAND = 'false; echo "__LANTOP""_PROBE_$?__"';
export const SHELL_PROBE_OUTPUT = /(?:^|\n)__LANTOP_PROBE_1__(?:\n|$)/;

export class InteractiveShell {
  private readonly stream: ShellStream;
  private promptText: string | null = null;
  private currentMode: ShellMode = 'cli';
  private loginModeValue: ShellMode | null = null;
  private shellEnteredWith: string | null = null;
  private bannerText = '';
  private loginPromptText: string | null = null;
  private readonly cliSettleMs: number;
  private readonly shellEntryCommands: readonly string[];

  constructor(
    channel: ShellChannel,
    private readonly options: InteractiveShellOptions,
  ) {
    this.stream = new ShellStream(channel, options.endpoint, options.newline ?? '\r\n', options.onTrace);
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
    return this.stream.isAlive;
  }

  /** True while a reply is awaited (login, command, prompt). */
  get isWaiting(): boolean {
    return this.stream.isWaiting;
  }

  /** Decoded text from the connection (telnet commands already removed). */
  receive(text: string): void {
    this.stream.receive(text);
  }

  /** The connection ended (closed by the router, or destroyed by us). */
  connectionClosed(cause?: unknown): void {
    this.stream.connectionClosed(cause);
  }

  /** Discards the connection for good: used after any failure, and by close(). */
  destroy(reason?: Error): void {
    this.stream.destroy(reason);
  }

  /** Answers the login dialogue (telnet) and learns the prompt. */
  async login(user: string, password: string, timeoutMs: number): Promise<void> {
    const { candidate, banner } = await answerLogin(this.stream, { user, password, protocol: this.options.protocol, timeoutMs });
    this.bannerText = banner;
    await this.learnPrompt(candidate, timeoutMs);
    this.loginPromptText = this.promptText;
  }

  /** Learns the prompt when there is no login dialogue (SSH shell channel). */
  async awaitPrompt(timeoutMs: number): Promise<void> {
    const { candidate, banner } = await awaitFirstPrompt(this.stream, this.cliSettleMs, timeoutMs);
    this.bannerText = banner;
    await this.learnPrompt(candidate, timeoutMs);
    this.loginPromptText = this.promptText;
  }

  /** Finds out whether commands land in a POSIX shell or a vendor CLI. */
  async probeMode(timeoutMs: number): Promise<ShellMode> {
    const output = await this.runInCli(SHELL_PROBE_COMMAND, timeoutMs);
    this.currentMode = SHELL_PROBE_OUTPUT.test(output) ? 'shell' : 'cli';
    this.loginModeValue ??= this.currentMode;
    return this.currentMode;
  }

  /** Runs one command; the caller serialises calls. onLines: see ExecOptions (shell mode only). */
  async run(command: string, timeoutMs: number, onLines?: (lines: string) => void): Promise<string> {
    if (/[\r\n]/.test(command)) throw new RouterError('lantop tried to send a command with a line break; refused.', undefined);
    if (this.currentMode === 'cli') return this.runInCli(command, timeoutMs);
    const reply = await runFramedBySentinel(this.stream, command, timeoutMs, onLines);
    this.promptText = reply.prompt;
    return reply.output;
  }

  /**
   * From the vendor CLI into a POSIX shell: tries each entry command in order and returns the one
   * that led to a shell (recognised by the sentinel probe, not by its prompt), or null when none
   * did — the CLI is then as it was. Already in a shell: returns how it got there ('' for a login
   * that landed in one).
   */
  async enterShell(timeoutMs: number, password?: string, entries: readonly string[] = this.shellEntryCommands, isKnownRoute = false): Promise<string | null> {
    if (this.currentMode === 'shell') return this.shellEnteredWith ?? '';
    const cliPrompt = this.promptText;
    for (const entry of entries) {
      if (/[\r\n]/.test(entry)) continue;
      if (isKnownRoute) {
        if (await this.tryKnownEntry(entry, timeoutMs, password)) {
          this.shellEnteredWith = entry;
          return entry;
        }
      } else {
        await this.learnPrompt(await promptAfter(this.stream, entry, this.cliSettleMs, timeoutMs, password), timeoutMs);
      }
      if ((await this.probeMode(timeoutMs)) === 'shell') {
        this.shellEnteredWith = entry;
        return entry;
      }
      // Still a CLI. A candidate that opened a sub-menu (another prompt) is left the way CLIs
      // leave sub-menus; at the top level `exit` would log out, so it is sent only here.
      if (cliPrompt !== null && this.promptText?.trimEnd() !== cliPrompt.trimEnd()) {
        await this.leave('exit', timeoutMs);
        if (this.promptText?.trimEnd() !== cliPrompt.trimEnd()) {
          this.fail(`did not return to its CLI prompt after '${entry}' and 'exit'`);
        }
      }
    }
    return null;
  }

  /**
   * An entry command known to open a shell (the route of a stored profile, or found earlier in this
   * run): no quiet waits — the first prompt after it, then the mode probe framed by the sentinel,
   * which ends the reply in a shell; a CLI shows the prompt seen after the entry again instead.
   * Three 60 ms settles made every shell entry cost ~190 ms, the first poll 2.5× a telnet login
   * (issue 21). Not a shell: the prompt is learned as on the slow path and false returned, and the
   * caller probes the usual way.
   */
  private async tryKnownEntry(entry: string, timeoutMs: number, password?: string): Promise<boolean> {
    const candidate = await promptAfter(this.stream, entry, 0, timeoutMs, password);
    const reply = await runFramedBySentinelOrPrompt(this.stream, SHELL_PROBE_COMMAND, candidate, timeoutMs);
    if (reply !== null && SHELL_PROBE_OUTPUT.test(reply.output)) {
      this.promptText = reply.prompt;
      this.currentMode = 'shell';
      return true;
    }
    await this.learnPrompt(reply?.prompt ?? candidate, timeoutMs);
    return false;
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
    if ((await this.probeMode(timeoutMs)) !== 'cli') this.fail(`stayed in a shell after '${exitCommand}'`);
  }

  /** Sends a command that changes the prompt (exit from a shell or sub-menu) and learns the new one. */
  private async leave(command: string, timeoutMs: number): Promise<void> {
    await this.learnPrompt(await promptAfter(this.stream, command, this.cliSettleMs, timeoutMs), timeoutMs);
  }

  private async learnPrompt(candidate: string, timeoutMs: number): Promise<void> {
    this.promptText = await confirmPrompt(this.stream, candidate, this.cliSettleMs, timeoutMs);
  }

  /** Runs a line framed by the learned prompt (the vendor CLI, and the mode probe in either mode). */
  private runInCli(line: string, timeoutMs: number): Promise<string> {
    const prompt = this.promptText;
    if (prompt === null) throw new RouterError('No prompt learned yet.', undefined);
    return runFramedByPrompt(this.stream, line, prompt, this.cliSettleMs, timeoutMs);
  }

  /** The router did something lantop cannot follow: the connection is unusable now. */
  private fail(what: string): never {
    const error = notUnderstoodError(this.options.endpoint, what, tailLines(renderText(this.stream.text)));
    this.destroy();
    throw error;
  }
}
