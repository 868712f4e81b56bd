// A Session that follows a script (STYLE.md principle 3, after lazygit's FakeCmdObjRunner):
// tests declare the commands they expect, in order, and what each returns. An unexpected command
// fails the test (exec rejects and the failure is remembered), and so does an expected command
// that was never sent (assertDone()).
//
//   const session = new ScriptedSession([{ command: 'arp show', output: '…' }], { mode: 'cli' });
//   await code(session);
//   session.assertDone();

import type { ExecOptions, ModalSession, Session, ShellMode, ShellRoute } from '../../src/transport/session.js';

export interface ScriptedStep {
  /** The exact command line expected, or a predicate/RegExp for commands that vary. */
  command: string | RegExp | ((command: string) => boolean);
  /** What exec resolves with. */
  output?: string;
  /**
   * Or a reply computed from the command, for answers with real semantics behind them (e.g. the
   * emulator's iptables). The command itself must still match `command`.
   */
  reply?: (command: string) => string;
  /** Or an error exec rejects with (e.g. new TimeoutError(...)). */
  error?: Error;
  /** The shell mode after this command (e.g. 'shell' after `sh`, 'cli' after `exit`). */
  modeAfter?: ShellMode;
}

export class ScriptedSessionError extends Error {}

export class ScriptedSession implements Session {
  private readonly steps: ScriptedStep[];
  private next = 0;
  protected currentMode: ShellMode;
  private failure: ScriptedSessionError | null = null;
  private closed = false;
  /** Every command sent, in order (also the unexpected ones). */
  readonly sent: string[] = [];
  /** Options passed with each exec, aligned with `sent`. */
  readonly sentOptions: Array<ExecOptions | undefined> = [];

  constructor(steps: ScriptedStep[], options: { mode?: ShellMode } = {}) {
    this.steps = [...steps];
    this.currentMode = options.mode ?? 'shell';
  }

  get mode(): ShellMode {
    return this.currentMode;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  async exec(command: string, options?: ExecOptions): Promise<string> {
    this.sent.push(command);
    this.sentOptions.push(options);
    return this.take(command);
  }

  /** Consumes the next step, which must match `command`. */
  protected async take(command: string): Promise<string> {
    if (this.closed) return this.fail(`exec(${JSON.stringify(command)}) after close()`);
    const step = this.steps[this.next];
    if (!step) return this.fail(`unexpected command ${JSON.stringify(command)}: the script has no more steps`);
    if (!matches(step.command, command)) {
      return this.fail(`unexpected command ${JSON.stringify(command)}; expected ${describe(step.command)} (step ${this.next + 1})`);
    }
    this.next++;
    if (step.modeAfter) this.currentMode = step.modeAfter;
    if (step.error) throw step.error;
    return step.reply ? step.reply(command) : (step.output ?? '');
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** Throws if a command was unexpected or an expected one was never sent. */
  assertDone(): void {
    if (this.failure) throw this.failure;
    if (this.next < this.steps.length) {
      const missing = this.steps.slice(this.next).map((s) => describe(s.command));
      throw new ScriptedSessionError(`expected command(s) never sent: ${missing.join(', ')}`);
    }
  }

  protected fail(message: string): never {
    const error = new ScriptedSessionError(message);
    this.failure ??= error;
    throw error;
  }
}

function matches(expected: ScriptedStep['command'], command: string): boolean {
  if (typeof expected === 'string') return expected === command;
  if (expected instanceof RegExp) return expected.test(command);
  return expected(command);
}

function describe(expected: ScriptedStep['command']): string {
  if (typeof expected === 'string') return JSON.stringify(expected);
  if (expected instanceof RegExp) return String(expected);
  return 'a command matching a predicate';
}

/**
 * A scripted session over a login that lands in a vendor CLI: moves between CLI and shell are
 * script steps too (the entry command with modeAfter 'shell', `exit` with modeAfter 'cli'), so a
 * test sees every move the code makes. findShell consumes one step per candidate it tries.
 */
export class ModalScriptedSession extends ScriptedSession implements ModalSession {
  readonly loginMode: ShellMode;
  private route: ShellRoute | null;

  constructor(steps: ScriptedStep[], options: { mode?: ShellMode; shellRoute?: ShellRoute | null } = {}) {
    super(steps, { mode: options.mode ?? 'cli' });
    this.loginMode = options.mode ?? 'cli';
    this.route = options.shellRoute ?? null;
  }

  get shellRoute(): ShellRoute | null {
    return this.route;
  }

  setShellRoute(route: ShellRoute | null): void {
    this.route = route;
  }

  async findShell(candidates: readonly string[]): Promise<ShellRoute | null> {
    if (this.currentMode === 'shell') return null;
    for (const entry of candidates) {
      this.sent.push(entry);
      this.sentOptions.push(undefined);
      await this.take(entry);
      if ((this.currentMode as ShellMode) === 'shell') {
        this.route = { enter: entry, exit: 'exit' };
        return this.route;
      }
    }
    return null;
  }

  override async exec(command: string, options?: ExecOptions): Promise<string> {
    const where = options?.where;
    if (where === 'shell' && this.currentMode === 'cli' && this.route) {
      this.sent.push(this.route.enter);
      this.sentOptions.push(undefined);
      await this.take(this.route.enter);
    } else if (where === 'cli' && this.currentMode === 'shell' && this.loginMode === 'cli') {
      this.sent.push(this.route?.exit ?? 'exit');
      this.sentOptions.push(undefined);
      await this.take(this.route?.exit ?? 'exit');
    }
    return super.exec(command, options);
  }
}
