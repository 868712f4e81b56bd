// The live screen's state and lines outside React (issue 21): polls and keys go through the reducer
// here, and whoever draws (Ink, or the row writer that rewrites only changed rows) subscribes.
// A poll therefore re-renders no React tree. One timer at a time: the status line's age once a
// second between polls, or the spinner while the first poll is awaited. Lines are rebuilt only
// when something they show changed; the status alone on an age tick.
import { statusLines } from '../components/status-line.js';
import { lineText, type StyledLine } from '../styled-line.js';
import type { Theme } from '../theme.js';
import { SPINNER_GLYPHS } from '../spinner-glyphs.js';
import { liveLines, type LiveLines } from './live-lines.js';
import { initialLiveState, liveReducer, type LiveAction, type LiveState } from './use-live-state.js';
import type { SubjectNoun } from '../../app/types.js';

export interface LiveViewContext {
  label: string;
  protocol: 'telnet' | 'ssh' | 'local';
  now: () => number;
  theme: Theme;
  /** Whether lines become strings with SGR codes (what Ink's chalk would write: fixed-lines.tsx). */
  isStyled: boolean;
  width: number;
  rows: number;
  /** What the rows are (users mode: users); absent: hosts. */
  noun?: SubjectNoun | undefined;
}

// A poll due every second arrives a little late; the first tick waits that out, so a steady 1 Hz
// poll costs one redraw per second, not two.
const LATE_POLL_MS = 500;
const SPINNER_MS = 80;

export class LiveView {
  private state: LiveState = initialLiveState;
  private context: LiveViewContext;
  private parts: LiveLines | null = null;
  private partTexts: { title: string; body: string[]; footer: string } | null = null;
  private status: StyledLine[] | null = null;
  private statusTexts: string[] | null = null;
  private styled: StyledLine[] | null = null;
  private texts: string[] | null = null;
  private readonly listeners = new Set<() => void>();
  private spinnerFrame = 0;
  private timer: NodeJS.Timeout | null = null;
  private isStarted = false;

  constructor(context: LiveViewContext) {
    this.context = context;
  }

  get current(): LiveState {
    return this.state;
  }

  /** New surroundings (size, theme, clock); takes effect at the next read, notifies nobody. */
  configure(context: LiveViewContext): void {
    const c = this.context;
    if (c.label === context.label && c.protocol === context.protocol && c.now === context.now && c.theme === context.theme && c.isStyled === context.isStyled && c.width === context.width && c.rows === context.rows && c.noun === context.noun) return;
    this.context = context;
    this.invalidate(true);
  }

  readonly dispatch = (action: LiveAction): void => {
    const next = liveReducer(this.state, action);
    if (next === this.state) return;
    const isNewSnapshot = next.snapshot !== this.state.snapshot;
    this.state = next;
    this.invalidate(true);
    if (isNewSnapshot && this.isStarted) this.schedule();
    this.notify();
  };

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };

  /** Every line of the screen, styled (the same array until something changes). */
  readonly styledLines = (): StyledLine[] => {
    if (this.styled === null) {
      const parts = this.currentParts();
      this.styled = [parts.title, ...this.currentStatus(), ...parts.body, parts.footer];
    }
    return this.styled;
  };

  /** Every line of the screen as the terminal gets it (the same array until something changes). */
  readonly textLines = (): string[] => {
    if (this.texts === null) {
      const { isStyled } = this.context;
      if (this.partTexts === null) {
        const parts = this.currentParts();
        this.partTexts = { title: lineText(parts.title, isStyled), body: parts.body.map((line) => lineText(line, isStyled)), footer: lineText(parts.footer, isStyled) };
      }
      this.statusTexts ??= this.currentStatus().map((line) => lineText(line, isStyled));
      const { title, body, footer } = this.partTexts;
      this.texts = [title, ...this.statusTexts, ...body, footer];
    }
    return this.texts;
  };

  /** Starts the one timer (status age or spinner); call stop() when the screen goes. */
  start(): void {
    this.isStarted = true;
    this.schedule();
  }

  stop(): void {
    this.isStarted = false;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.state.snapshot === null) {
      this.timer = setTimeout(this.spin, SPINNER_MS);
    } else {
      this.timer = setTimeout(this.tick, 1000 + LATE_POLL_MS);
    }
  }

  private readonly spin = (): void => {
    this.spinnerFrame = (this.spinnerFrame + 1) % SPINNER_GLYPHS.length;
    this.invalidate(true);
    this.timer = setTimeout(this.spin, SPINNER_MS);
    this.notify();
  };

  private readonly tick = (): void => {
    this.invalidate(false);
    this.timer = setTimeout(this.tick, 1000);
    this.notify();
  };

  private invalidate(isAll: boolean): void {
    if (isAll) {
      this.parts = null;
      this.partTexts = null;
    }
    this.status = null;
    this.statusTexts = null;
    this.styled = null;
    this.texts = null;
  }

  private currentParts(): LiveLines {
    const { width, rows, theme, noun } = this.context;
    this.parts ??= liveLines({ state: this.state, width, rows, theme, spinner: SPINNER_GLYPHS[this.spinnerFrame]!, noun });
    return this.parts;
  }

  private currentStatus(): StyledLine[] {
    const { label, protocol, now, theme, width } = this.context;
    this.status ??= statusLines({ label, protocol, snapshot: this.state.snapshot, nowMs: now(), theme, width });
    return this.status;
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }
}
