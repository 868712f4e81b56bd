// A terminal screen for tests of what is actually drawn: a grid of cells that interprets the
// control sequences Ink and lantop's row writer use (cursor moves and addressing, erase line and
// display, save/restore cursor, LF as CR LF like a tty with onlcr), so a test reads the screen a
// person would see — not the last chunk written. SGR codes are kept out of the cells (and counted
// in `raw`); anything else unknown is dropped. Every write is also kept verbatim in `raw`.
import { EventEmitter } from 'node:events';
import type { ReactElement } from 'react';
import { render } from 'ink';
import { createElement } from 'react';
import { TerminalSurface, TerminalSurfaceContext } from '../../src/ui/terminal-surface.js';
import { FakeStdin, keyDriver, type FakeTerminal } from './fake-terminal.js';

export class FakeScreen extends EventEmitter {
  readonly isTTY = true;
  readonly raw: string[] = [];
  private cells: string[][];
  private row = 0;
  private col = 0;
  private saved = { row: 0, col: 0 };
  /** The cursor sits past the last column after filling it: the next character wraps first. */
  private isWrapPending = false;

  constructor(
    public columns = 100,
    public rows = 40,
  ) {
    super();
    this.cells = Array.from({ length: rows }, () => this.blankRow());
  }

  write = (data: string | Uint8Array, ...rest: unknown[]): boolean => {
    const text = typeof data === 'string' ? data : Buffer.from(data).toString('utf8');
    this.raw.push(text);
    this.apply(text);
    const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  };

  /** The screen as text: each row without trailing blanks, trailing blank rows dropped. */
  lastFrame = (): string => {
    const lines = this.cells.map((row) => row.join('').trimEnd());
    while (lines.length > 0 && lines.at(-1) === '') lines.pop();
    return lines.join('\n');
  };

  /** Like a terminal: rows and columns kept where they still fit, the cursor clamped. */
  resize(columns: number, rows: number): void {
    this.cells = Array.from({ length: rows }, (_, r) => {
      const old = this.cells[r] ?? [];
      return Array.from({ length: columns }, (_, c) => old[c] ?? ' ');
    });
    this.columns = columns;
    this.rows = rows;
    this.row = Math.min(this.row, rows - 1);
    this.col = Math.min(this.col, columns - 1);
    this.isWrapPending = false;
    this.emit('resize');
  }

  private blankRow(): string[] {
    return Array.from({ length: this.columns }, () => ' ');
  }

  private apply(text: string): void {
    let i = 0;
    while (i < text.length) {
      const char = text[i]!;
      if (char === '\u001b') {
        i = this.escape(text, i);
        continue;
      }
      // One cell per code point (wide characters are not told apart: tests compare text).
      const code = char.codePointAt(0)!;
      const units = code > 0xffff ? 2 : 1;
      const glyph = text.slice(i, i + units);
      i += units;
      if (glyph === '\n') this.lineFeed();
      else if (glyph === '\r') this.carriageReturn();
      else if (code >= 0x20 && code !== 0x7f && !(code >= 0x80 && code < 0xa0)) this.print(glyph);
    }
  }

  private print(glyph: string): void {
    if (this.isWrapPending) {
      this.lineFeed();
      this.isWrapPending = false;
    }
    this.cells[this.row]![this.col] = glyph;
    if (this.col === this.columns - 1) this.isWrapPending = true;
    else this.col += 1;
  }

  private carriageReturn(): void {
    this.col = 0;
    this.isWrapPending = false;
  }

  private lineFeed(): void {
    this.carriageReturn();
    if (this.row < this.rows - 1) this.row += 1;
    else {
      this.cells.shift();
      this.cells.push(this.blankRow());
    }
  }

  private escape(text: string, start: number): number {
    const next = text[start + 1];
    if (next === '7') {
      this.saved = { row: this.row, col: this.col };
      return start + 2;
    }
    if (next === '8') {
      ({ row: this.row, col: this.col } = this.saved);
      this.isWrapPending = false;
      return start + 2;
    }
    if (next === ']') {
      // OSC: up to BEL or ST.
      const bel = text.indexOf('\u0007', start);
      const st = text.indexOf('\u001b\\', start);
      const end = [bel === -1 ? Infinity : bel + 1, st === -1 ? Infinity : st + 2].reduce((a, b) => Math.min(a, b));
      return end === Infinity ? text.length : end;
    }
    if (next !== '[') return start + (next === undefined ? 1 : 2);
    const match = /^\u001b\[([0-?]*)([ -/]*)([@-~])/.exec(text.slice(start, start + 32));
    if (!match) return start + 2;
    this.csi(match[1]!, match[3]!);
    return start + match[0].length;
  }

  private csi(params: string, final: string): void {
    if (params.startsWith('?')) return; // private modes: cursor visibility, alternate screen, synchronized output
    const args = params === '' ? [] : params.split(';').map((p) => (p === '' ? 0 : Number(p)));
    const n = Math.max(1, args[0] ?? 1);
    const clampRow = (r: number) => Math.min(this.rows - 1, Math.max(0, r));
    const clampCol = (c: number) => Math.min(this.columns - 1, Math.max(0, c));
    this.isWrapPending = false;
    switch (final) {
      case 'A':
        this.row = clampRow(this.row - n);
        break;
      case 'B':
        this.row = clampRow(this.row + n);
        break;
      case 'C':
        this.col = clampCol(this.col + n);
        break;
      case 'D':
        this.col = clampCol(this.col - n);
        break;
      case 'E':
        this.row = clampRow(this.row + n);
        this.col = 0;
        break;
      case 'F':
        this.row = clampRow(this.row - n);
        this.col = 0;
        break;
      case 'G':
        this.col = clampCol(n - 1);
        break;
      case 'H':
      case 'f':
        this.row = clampRow(Math.max(1, args[0] ?? 1) - 1);
        this.col = clampCol(Math.max(1, args[1] ?? 1) - 1);
        break;
      case 'K': {
        const line = this.cells[this.row]!;
        const mode = args[0] ?? 0;
        const [from, to] = mode === 0 ? [this.col, this.columns] : mode === 1 ? [0, this.col + 1] : [0, this.columns];
        for (let c = from; c < to; c++) line[c] = ' ';
        break;
      }
      case 'J': {
        const mode = args[0] ?? 0;
        if (mode === 2 || mode === 3) this.cells = Array.from({ length: this.rows }, () => this.blankRow());
        else if (mode === 0) {
          for (let c = this.col; c < this.columns; c++) this.cells[this.row]![c] = ' ';
          for (let r = this.row + 1; r < this.rows; r++) this.cells[r] = this.blankRow();
        } else {
          for (let r = 0; r < this.row; r++) this.cells[r] = this.blankRow();
          for (let c = 0; c <= this.col; c++) this.cells[this.row]![c] = ' ';
        }
        break;
      }
      default:
        break; // SGR (m) and anything else: no effect on the text
    }
  }
}

export interface ScreenTerminal extends Omit<FakeTerminal, 'stdout' | 'stderr'> {
  stdout: FakeScreen;
  surface: TerminalSurface;
}

const mounted = new Set<ScreenTerminal>();

/** Unmounts every screen terminal still mounted (call from afterEach). */
export function cleanupScreens(): void {
  for (const terminal of [...mounted]) terminal.unmount();
}

/**
 * Renders `tree` as runApp does on the alternate screen: Ink (not in debug mode: it erases and
 * redraws as on a terminal) writes through a TerminalSurface, which the tree gets from context.
 * Import test/helpers/no-ci.js first (Ink reads CI at import). Same interface as renderInTerminal,
 * except that lastFrame() is the screen.
 */
export function renderOnScreen(tree: ReactElement, options: { columns?: number; rows?: number } = {}): ScreenTerminal {
  const stdout = new FakeScreen(options.columns ?? 100, options.rows ?? 40);
  const stdin = new FakeStdin(true);
  const surface = new TerminalSurface(stdout as unknown as NodeJS.WriteStream);
  const instance = render(createElement(TerminalSurfaceContext.Provider, { value: surface }, tree), {
    stdout: surface.inkStdout,
    stdin: stdin as unknown as NodeJS.ReadStream,
    stderr: new FakeScreen(options.columns ?? 100, options.rows ?? 40) as unknown as NodeJS.WriteStream,
    exitOnCtrlC: false,
    patchConsole: false,
  });
  const terminal: ScreenTerminal = {
    stdout,
    stdin,
    surface,
    instance,
    lastFrame: stdout.lastFrame,
    ...keyDriver(stdin, stdout.lastFrame, 'screen'),
    unmount() {
      if (!mounted.delete(terminal)) return;
      instance.unmount();
      instance.cleanup();
    },
  };
  mounted.add(terminal);
  return terminal;
}
