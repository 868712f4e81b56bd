// Import first in tests that check colours: chalk (through Ink) decides at import whether it
// writes SGR codes at all, and a test's stdout is no terminal.
process.env.FORCE_COLOR = '1';
export {};
