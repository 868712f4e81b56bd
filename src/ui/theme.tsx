// Colour is a prop, not a global: with NO_COLOR / --no-color the theme hands out empty style
// objects, so no colour props reach <Text> at all. Bold stays (it is not colour) so the top
// talker still stands out, and it also carries a ▶ marker for terminals without either.
import { createContext, useContext, useMemo, type ReactNode } from 'react';
import type { TextProps } from 'ink';

export interface Theme {
  isColor: boolean;
  accent: TextProps;
  dim: TextProps;
  ok: TextProps;
  warn: TextProps;
  error: TextProps;
  top: TextProps;
  down: TextProps;
  up: TextProps;
  selected: TextProps;
}

export function makeTheme(isColor: boolean): Theme {
  if (!isColor) {
    return { isColor, accent: {}, dim: {}, ok: {}, warn: {}, error: {}, top: { bold: true }, down: {}, up: {}, selected: { bold: true } };
  }
  return {
    isColor,
    accent: { color: 'cyan' },
    dim: { dimColor: true },
    ok: { color: 'green' },
    warn: { color: 'yellow' },
    error: { color: 'red' },
    top: { bold: true, color: 'magenta' },
    down: { color: 'green' },
    up: { color: 'blue' },
    selected: { bold: true, color: 'cyan' },
  };
}

const ThemeContext = createContext<Theme>(makeTheme(false));

export function ThemeProvider({ isColor, children }: { isColor: boolean; children: ReactNode }) {
  const theme = useMemo(() => makeTheme(isColor), [isColor]);
  return <ThemeContext.Provider value={theme}>{children}</ThemeContext.Provider>;
}

export function useTheme(): Theme {
  return useContext(ThemeContext);
}
