// Which glyphs the terminal can show (issue 17): braille dots (finest), Unicode blocks, or plain
// ASCII. Decided once from the environment by the entry point and handed down like the theme; a
// terminal whose locale is not UTF-8, the Linux console (its font has no braille) and dumb
// terminals get ASCII. LANTOP_GLYPHS=braille|blocks|ascii overrides the guess.
import { createContext, useContext } from 'react';

export type GlyphMode = 'braille' | 'blocks' | 'ascii';

export const GLYPH_MODES: readonly GlyphMode[] = ['braille', 'blocks', 'ascii'];

/** The glyph mode for an environment (process.env in the app; a plain object in tests). */
export function glyphModeFor(env: Readonly<Record<string, string | undefined>>): GlyphMode {
  const forced = env.LANTOP_GLYPHS?.trim().toLowerCase();
  if (forced === 'braille' || forced === 'blocks' || forced === 'ascii') return forced;
  const term = (env.TERM ?? '').toLowerCase();
  if (term === 'dumb' || term === 'linux' || term === 'vt100' || term === 'vt220') return 'ascii';
  // POSIX precedence: LC_ALL, then LC_CTYPE, then LANG. No locale at all: most terminal
  // emulators are UTF-8 anyway (macOS sets none for GUI apps), so Unicode stays on.
  const locale = env.LC_ALL || env.LC_CTYPE || env.LANG || '';
  if (locale === '') return 'braille';
  if (locale === 'C' || locale === 'POSIX' || !/utf-?8/i.test(locale)) return 'ascii';
  return 'braille';
}

/** Everything here is 7-bit printable ASCII (what ASCII mode may write). */
export function isPrintableAscii(text: string): boolean {
  return /^[\x20-\x7e]*$/.test(text);
}

// Default Unicode: what every screen drew before the switch existed.
export const GlyphModeContext = createContext<GlyphMode>('braille');

export function useGlyphMode(): GlyphMode {
  return useContext(GlyphModeContext);
}
