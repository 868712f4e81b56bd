// A fake terminal for Ink frame tests, like ink-testing-library's but with a settable size
// (columns *and* rows, plus 'resize') and a switch for a non-TTY stdin.
import { EventEmitter } from 'node:events';
import { render, type Instance } from 'ink';
import type { ReactElement } from 'react';

export class FakeStdout extends EventEmitter {
  readonly frames: string[] = [];
  isTTY = true;
  constructor(
    public columns = 100,
    public rows = 40,
  ) {
    super();
  }
  write = (frame: string): boolean => {
    this.frames.push(frame);
    return true;
  };
  lastFrame = (): string => this.frames[this.frames.length - 1] ?? '';
  resize(columns: number, rows: number): void {
    this.columns = columns;
    this.rows = rows;
    this.emit('resize');
  }
}

export class FakeStdin extends EventEmitter {
  private data: string | null = null;
  readonly rawModeCalls: boolean[] = [];
  constructor(public isTTY = true) {
    super();
  }
  write = (data: string): void => {
    this.data = data;
    this.emit('readable');
    this.emit('data', data);
  };
  read = (): string | null => {
    const { data } = this;
    this.data = null;
    return data;
  };
  setRawMode(isEnabled: boolean): this {
    this.rawModeCalls.push(isEnabled);
    return this;
  }
  setEncoding(): this {
    return this;
  }
  resume(): this {
    return this;
  }
  pause(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
}

export interface FakeTerminal {
  stdout: FakeStdout;
  stderr: FakeStdout;
  stdin: FakeStdin;
  instance: Instance;
  lastFrame(): string;
  /** Writes keys one event at a time and waits for the app to settle. */
  press(...keys: string[]): Promise<void>;
  /**
   * Waits (bounded: 2 s by default) until the last frame satisfies `predicate` (a substring or
   * a function) and returns it; throws with the last frame when it never does.
   */
  waitFor(predicate: string | ((frame: string) => boolean), timeoutMs?: number): Promise<string>;
  unmount(): void;
}

export const KEY = {
  up: '\u001b[A',
  down: '\u001b[B',
  right: '\u001b[C',
  left: '\u001b[D',
  pageUp: '\u001b[5~',
  pageDown: '\u001b[6~',
  home: '\u001b[H',
  end: '\u001b[F',
  enter: '\r',
  escape: '\u001b',
  backspace: '\u007f',
  ctrlC: '\u0003',
} as const;

export const settle = (ms = 20) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits (bounded) until `predicate()` holds, e.g. until a screen's effect has subscribed. */
export async function until(predicate: () => boolean, what = 'condition', timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await settle(5);
  }
}

const mounted = new Set<FakeTerminal>();

/**
 * Unmounts every terminal still mounted (call from afterEach): a test that failed half-way must
 * not leave spinners or poll-age timers keeping the test process alive.
 */
/**
 * press and waitFor over a fake stdin and a frame source (shared by renderInTerminal and
 * fake-screen.ts's renderOnScreen; `what` names the frame in a failure: "frame" or "screen").
 */
export function keyDriver(stdin: FakeStdin, lastFrame: () => string, what: string): Pick<FakeTerminal, 'press' | 'waitFor'> {
  return {
    async press(...keys: string[]) {
      for (const key of keys) {
        // A beat before each key lets the last render's effects attach their input handlers.
        await settle(5);
        stdin.write(key);
        await settle();
      }
    },
    async waitFor(predicate, timeoutMs = 2000) {
      const test = typeof predicate === 'string' ? (f: string) => f.includes(predicate) : predicate;
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const frame = lastFrame();
        if (test(frame)) return frame;
        if (Date.now() > deadline) {
          throw new Error(`${what} never matched ${typeof predicate === 'string' ? JSON.stringify(predicate) : 'the predicate'}; last ${what}:\n${frame}`);
        }
        await settle(10);
      }
    },
  };
}

export function cleanupTerminals(): void {
  for (const terminal of [...mounted]) terminal.unmount();
}

export function renderInTerminal(tree: ReactElement, options: { columns?: number; rows?: number; isStdinTTY?: boolean } = {}): FakeTerminal {
  const stdout = new FakeStdout(options.columns ?? 100, options.rows ?? 40);
  const stderr = new FakeStdout(options.columns ?? 100, options.rows ?? 40);
  const stdin = new FakeStdin(options.isStdinTTY ?? true);
  const instance = render(tree, {
    stdout: stdout as unknown as NodeJS.WriteStream,
    stderr: stderr as unknown as NodeJS.WriteStream,
    stdin: stdin as unknown as NodeJS.ReadStream,
    debug: true,
    exitOnCtrlC: false,
    patchConsole: false,
  });
  const terminal: FakeTerminal = {
    stdout,
    stderr,
    stdin,
    instance,
    lastFrame: stdout.lastFrame,
    ...keyDriver(stdin, stdout.lastFrame, 'frame'),
    unmount() {
      if (!mounted.delete(terminal)) return;
      instance.unmount();
      instance.cleanup();
    },
  };
  mounted.add(terminal);
  return terminal;
}

/** An Ink Key with every flag false except those given, for testing pure key mappings. */
export function keyOf(flags: Partial<import('ink').Key> = {}): import('ink').Key {
  return {
    upArrow: false,
    downArrow: false,
    leftArrow: false,
    rightArrow: false,
    pageDown: false,
    pageUp: false,
    home: false,
    end: false,
    return: false,
    escape: false,
    ctrl: false,
    shift: false,
    tab: false,
    backspace: false,
    delete: false,
    meta: false,
    super: false,
    hyper: false,
    capsLock: false,
    numLock: false,
    ...flags,
  };
}
