// The connect screen's first frame, written with plain writes before Ink is imported: loading
// Ink, React and yoga takes 0.3–1 s (most of lantop demo's time to the first frame, issue 21), so
// the terminal shows the app at once and Ink then draws the same frame over it — no jump, no
// blank screen. No Ink or React here (only types): this module loads in a few milliseconds.
import { sanitizeText } from '../sanitize.js';
import { lineText, truncateLine, type StyledLine } from './styled-line.js';
import { DEFAULT_TELNET_WARNING } from './text.js';

export const ENTER_ALTERNATE_SCREEN = '\u001b[?1049h';
export const LEAVE_ALTERNATE_SCREEN = '\u001b[?1049l';
/** Ink draws from the cursor: on the alternate screen that is its top-left corner. */
export const CURSOR_HOME = '\u001b[H';
const HIDE_CURSOR = '\u001b[?25l';
const SHOW_CURSOR = '\u001b[?25h';

/** Spinner.tsx's first frame. */
export const FIRST_SPINNER_FRAME = '⠋';

export interface ConnectingFrame {
  label: string;
  protocol: 'telnet' | 'ssh' | 'local';
  /** The telnet warning the connect screen shows (its default when not given). */
  telnetWarning?: string;
  width: number;
}

// The theme's colours (theme.tsx makeTheme(true)): bold title, yellow warning, cyan spinner, the
// footer's keys bold and its words dim.
const BOLD = { bold: true };
const WARN = { color: 'yellow' };
const ACCENT = { color: 'cyan' };
const DIM = { dimColor: true };

/** ConnectScreen while connect() runs, line by line (connect-screen.test.tsx checks they match). */
export function connectingFrameLines({ label, protocol, telnetWarning, width }: ConnectingFrame): StyledLine[] {
  const where = sanitizeText(label, 120);
  const lines: StyledLine[] = [[{ text: 'lantop', style: BOLD }]];
  if (protocol === 'telnet') lines.push(truncateLine([{ text: `⚠ ${sanitizeText(telnetWarning ?? DEFAULT_TELNET_WARNING, 300)}`, style: WARN }], width));
  lines.push([]);
  lines.push(truncateLine([{ text: FIRST_SPINNER_FRAME, style: ACCENT }, { text: ` Connecting to ${where}…` }], width));
  lines.push([]);
  lines.push(
    truncateLine(
      [
        { text: 'q', style: BOLD },
        { text: ' quit', style: DIM },
        { text: ' · ', style: DIM },
        { text: 'Ctrl-C', style: BOLD },
        { text: ' exit', style: DIM },
      ],
      width,
    ),
  );
  return lines;
}

export interface FirstFrame {
  /** runApp takes over the alternate screen (and SIGINT): nothing left to undo here. */
  handOver(): void;
  /** The app never started: back to the main screen, cursor shown. */
  abandon(): void;
}

/**
 * Enters the alternate screen and draws the connecting frame. Until handOver(), Ctrl-C (SIGINT:
 * the terminal is not in raw mode yet) leaves the alternate screen before the process ends.
 */
export function drawFirstFrame(stdout: NodeJS.WritableStream & { columns?: number }, frame: Omit<ConnectingFrame, 'width'> & { isColor: boolean; env: NodeJS.ProcessEnv }): FirstFrame {
  const isStyled = frame.isColor && frame.env.TERM !== 'dumb' && frame.env.FORCE_COLOR !== '0';
  const lines = connectingFrameLines({ ...frame, width: stdout.columns || 80 });
  stdout.write(ENTER_ALTERNATE_SCREEN + CURSOR_HOME + HIDE_CURSOR + lines.map((line) => lineText(line, isStyled)).join('\n') + CURSOR_HOME);
  let isDone = false;
  const onSigint = () => {
    release();
    stdout.write(SHOW_CURSOR + LEAVE_ALTERNATE_SCREEN);
    process.exit(130); // as the app exits on Ctrl-C (128 + SIGINT)
  };
  const release = () => {
    isDone = true;
    process.off('SIGINT', onSigint);
  };
  process.on('SIGINT', onSigint);
  return {
    handOver: release,
    abandon() {
      if (isDone) return;
      release();
      stdout.write(SHOW_CURSOR + LEAVE_ALTERNATE_SCREEN);
    },
  };
}
