// Rows of the screen that lantop writes itself, beside Ink (issue 21). Ink re-renders and re-writes
// its whole frame on every change (a grid of styled cells per frame, ANSI tokenising, the output
// diff): at 1 Hz on a 160×50 screen that was most of the live app's CPU, while writing only the
// rows that changed costs ~20× less (bench/ink-floor.mjs). So while the live screen shows, Ink
// keeps a blank block of the screen's height that never changes (so it has nothing to redraw),
// and a RowWriter draws the screen's lines over it, rewriting only rows whose text changed.
//
// Ink's frame starts at the top-left corner of the alternate screen (runApp puts it there and
// keeps it below the last row), so the rows are addressed absolutely; the cursor is saved and
// restored around each write, so Ink finds it where it left it. Whenever Ink does write (a resize,
// the help opening or closing, another screen), the rows it wrote over are unknown: the surface
// sees that write (Ink is handed `inkStdout`, which reports its writes) and redraws every row
// once the commit that caused it is over.
import { createContext } from 'react';

const SAVE_CURSOR = '\u001b7';
const RESTORE_CURSOR = '\u001b8';
const RESET_STYLE = '\u001b[m';
const ERASE_LINE = '\u001b[2K';

// The lines come from sanitised text and lantop's own SGR codes; anything else escape-like or any
// control character would be a bug upstream, and must still never reach the terminal raw.
const NOT_SGR_ESCAPE = /\u001b(?!\[[0-9;]*m)/;
const CONTROL = /[\u0000-\u001a\u001c-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const NOT_SGR_ESCAPES = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|\u001b[@-Z\\-_]?/g;
const CONTROLS = /[\u0000-\u001a\u001c-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
const SGR = /^\u001b\[[0-9;]*m$/;

/** The line with every control character and every escape sequence but SGR removed. */
export function printableLine(line: string): string {
  if (!NOT_SGR_ESCAPE.test(line) && !CONTROL.test(line)) return line;
  return line.replace(NOT_SGR_ESCAPES, (sequence) => (SGR.test(sequence) ? sequence : '')).replace(CONTROLS, '');
}

/**
 * Draws lines on rows 1…height of the screen, writing only the rows whose text differs from what
 * it drew there last (each as: cursor to the row, erase it, the line), in one write.
 */
export class RowWriter {
  /** What each row shows; undefined: not known (never drawn, or written over since). */
  private shown: Array<string | undefined> = [];

  constructor(private readonly write: (data: string) => void) {}

  /** Forget what the rows show: the next draw writes every row. */
  invalidate(): void {
    this.shown = [];
  }

  draw(lines: readonly string[], height: number): void {
    let out = '';
    for (let i = 0; i < height; i++) {
      const line = i < lines.length ? lines[i]! : '';
      if (this.shown[i] === line) continue;
      this.shown[i] = line;
      // Erase first, then write: an erase after a line that fills the row would take its last cell.
      out += `\u001b[${i + 1};1H${ERASE_LINE}${printableLine(line)}`;
    }
    this.shown.length = Math.max(0, height);
    if (out !== '') this.write(SAVE_CURSOR + RESET_STYLE + out + RESET_STYLE + RESTORE_CURSOR);
  }
}

export interface SurfaceRegion {
  /** Draw the source's lines again (only the rows that changed). */
  redraw(): void;
  detach(): void;
}

export class TerminalSurface {
  /** The stream to hand Ink: the real one, except that each of Ink's writes is reported here. */
  readonly inkStdout: NodeJS.WriteStream;
  private region: { lines: () => readonly string[]; height: number; writer: RowWriter } | null = null;
  private isRedrawPending = false;

  constructor(private readonly stdout: NodeJS.WriteStream) {
    const bound = new Map<PropertyKey, unknown>();
    const inkWrite = (...args: unknown[]) => {
      const result = (stdout.write as (...a: unknown[]) => boolean)(...args);
      this.onInkWrite();
      return result;
    };
    this.inkStdout = new Proxy(stdout, {
      get(target, property) {
        if (property === 'write') return inkWrite;
        const value: unknown = Reflect.get(target, property, target);
        if (typeof value !== 'function') return value;
        let fn = bound.get(property);
        if (fn === undefined || (fn as { original?: unknown }).original !== value) {
          fn = Object.assign((value as (...a: unknown[]) => unknown).bind(target), { original: value });
          bound.set(property, fn);
        }
        return fn;
      },
    });
  }

  /**
   * From now until detach(), rows 1…height show `lines()`: drawn at once, on redraw(), and again
   * in full after any write of Ink's. One region at a time (a new one replaces the old).
   */
  attach(lines: () => readonly string[], height: number): SurfaceRegion {
    const region = { lines, height, writer: new RowWriter((data) => this.stdout.write(data)) };
    this.region = region;
    region.writer.draw(lines(), height);
    return {
      redraw: () => {
        if (this.region === region) region.writer.draw(region.lines(), region.height);
      },
      detach: () => {
        if (this.region === region) this.region = null;
      },
    };
  }

  // One redraw after Ink's writes, in a microtask: Ink writes a frame in up to three writes (the
  // synchronized-update marks around it), during a commit or later from its 30 fps throttle. A
  // region its screen no longer shows was detached before (layout effect clean-ups run before Ink
  // writes the commit's frame).
  private onInkWrite(): void {
    if (this.region === null || this.isRedrawPending) return;
    this.isRedrawPending = true;
    queueMicrotask(() => {
      this.isRedrawPending = false;
      const region = this.region;
      if (region === null) return;
      region.writer.invalidate();
      region.writer.draw(region.lines(), region.height);
    });
  }
}

/** The surface of the terminal the app runs in; null where Ink draws everything (tests, no alternate screen). */
export const TerminalSurfaceContext = createContext<TerminalSurface | null>(null);
