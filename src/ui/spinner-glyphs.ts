// The spinner's braille frames, one every 80 ms (components/spinner.tsx, the live view's wait).
export const SPINNER_GLYPHS = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'] as const;
