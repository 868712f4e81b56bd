// Mounts the Ink app on the given streams and resolves with the exit code once the user quits:
// 0 from the menu, 130 on Ctrl-C (key or SIGINT), the error's code when quitting a failed connect.
// The terminal is restored on every path (raw mode off, cursor shown, alternate screen left).
// The caller owns the controller and closes it afterwards.
import { render } from 'ink';
import type { RouterController } from '../app/types.js';
import { App } from './app.js';
import { EXIT_INTERRUPTED } from './use-app.js';
import { CURSOR_HOME, ENTER_ALTERNATE_SCREEN, LEAVE_ALTERNATE_SCREEN } from './first-frame.js';
import { TerminalSurface, TerminalSurfaceContext } from './terminal-surface.js';
import { GlyphModeContext, glyphModeFor, type GlyphMode } from './glyph-mode.js';
import type { RouterSet } from './router-set.js';

export interface RunAppOptions {
  controller: RouterController;
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  /** False for NO_COLOR / --no-color / dumb terminals: no colour props reach any <Text>. */
  isColor: boolean;
  needsPassword?: boolean;
  onPassword?(password: string): void;
  telnetWarning?: string;
  /** Injected clock (default Date.now). */
  now?: () => number;
  /** Draw on the terminal's alternate screen, like htop (default: when stdout is a TTY). */
  isAlternateScreen?: boolean;
  /**
   * The caller already entered the alternate screen and drew the connecting frame there
   * (first-frame.ts): Ink draws over it instead of entering (and clearing) the screen again.
   */
  hasFirstFrame?: boolean;
  /** Braille, blocks or ASCII charts (default: from the locale, TERM and LANTOP_GLYPHS, glyph-mode.ts). */
  glyphMode?: GlyphMode;
  /** Several routers at once (issue 20, `lantop --routers a,b`); `controller` is then the first's. */
  routers?: RouterSet;
}

export async function runApp(options: RunAppOptions): Promise<number> {
  const { stdin, stdout, stderr } = options;
  const isAlternateScreen = options.isAlternateScreen ?? stdout.isTTY === true;
  let exitCode = 0;
  if (isAlternateScreen && options.hasFirstFrame !== true) stdout.write(ENTER_ALTERNATE_SCREEN + CURSOR_HOME);
  // On the alternate screen Ink's frame starts at the top-left corner, so the live screen can write
  // its own rows there (terminal-surface.ts); Ink writes through the surface so it knows when.
  const surface = isAlternateScreen ? new TerminalSurface(stdout) : null;
  const instance = render(
    <TerminalSurfaceContext.Provider value={surface}>
      <GlyphModeContext.Provider value={options.glyphMode ?? glyphModeFor(process.env)}>
      <App
        controller={options.controller}
        isColor={options.isColor}
        needsPassword={options.needsPassword}
        onPassword={options.onPassword}
        telnetWarning={options.telnetWarning}
        now={options.now}
        {...(options.routers !== undefined ? { routers: options.routers } : {})}
        onExit={(code) => {
          exitCode = code;
        }}
      />
      </GlyphModeContext.Provider>
    </TerminalSurfaceContext.Provider>,
    // Ctrl-C is handled by the app (as a key in raw mode) so it can exit with 130 and unmount cleanly.
    { stdin, stdout: surface?.inkStdout ?? stdout, stderr, exitOnCtrlC: false, patchConsole: false },
  );
  // Without raw mode (stdin not a TTY) Ctrl-C arrives as SIGINT instead of a key.
  const onSigint = () => {
    exitCode = EXIT_INTERRUPTED;
    instance.unmount();
  };
  process.on('SIGINT', onSigint);
  try {
    await instance.waitUntilExit();
  } finally {
    process.off('SIGINT', onSigint);
    instance.cleanup();
    if (isAlternateScreen) stdout.write(LEAVE_ALTERNATE_SCREEN);
  }
  return exitCode;
}
