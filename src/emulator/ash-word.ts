// The emulated BusyBox ash's words: quoting, `$NAME`, `${NAME}`, `${#NAME}`, `$?`, `$(…)` and
// backquotes, as ash-parse.ts reads them. Pure.
import { AshIncomplete, AshSyntaxError, type Word } from './ash-ast.js';

/** Unquoted characters that end a word. */
export const METACHARS = ' \t\n;&|<>()';

/** One word with its quoting from `at`, up to an unquoted metacharacter, and where it ends. */
export function readWord(input: string, start: number): { word: Word; at: number } {
  const c$ = { input, at: start };
  const parts: Word = [];
  const text = (value: string, isQuoted: boolean): void => {
    const last = parts[parts.length - 1];
    if (last?.kind === 'text' && last.isQuoted === isQuoted) last.text += value;
    else parts.push({ kind: 'text', text: value, isQuoted });
  };
  while (c$.at < c$.input.length) {
    const ch = c$.input[c$.at] as string;
    if (METACHARS.includes(ch)) break;
    if (ch === "'") {
      const end = c$.input.indexOf("'", c$.at + 1);
      if (end < 0) throw new AshIncomplete();
      text(c$.input.slice(c$.at + 1, end), true);
      c$.at = end + 1;
    } else if (ch === '"') {
      c$.at++;
      for (;;) {
        if (c$.at >= c$.input.length) throw new AshIncomplete();
        const c = c$.input[c$.at] as string;
        if (c === '"') {
          c$.at++;
          break;
        }
        if (c === '\\' && '"\\$`\n'.includes(c$.input[c$.at + 1] ?? '')) {
          if (c$.input[c$.at + 1] !== '\n') text(c$.input[c$.at + 1] as string, true);
          c$.at += 2;
        } else if (c === '$' || c === '`') expansion(c$, parts, true, text);
        else {
          text(c, true);
          c$.at++;
        }
      }
      if (parts.length === 0) text('', true);
    } else if (ch === '\\') {
      if (c$.at + 1 >= c$.input.length) throw new AshIncomplete();
      if (c$.input[c$.at + 1] !== '\n') text(c$.input[c$.at + 1] as string, true);
      c$.at += 2;
    } else if (ch === '$' || ch === '`') expansion(c$, parts, false, text);
    else {
      text(ch, false);
      c$.at++;
    }
  }
  return { word: parts, at: c$.at };
}

function expansion(c$: { input: string; at: number }, parts: Word, isQuoted: boolean, text: (value: string, isQuoted: boolean) => void): void {
  const rest = c$.input.slice(c$.at);
  if (rest.startsWith('$(') || rest.startsWith('`')) {
    const isBackquote = rest.startsWith('`');
    let depth = 1;
    let i = c$.at + (isBackquote ? 1 : 2);
    let quote: string | null = null;
    for (; i < c$.input.length; i++) {
      const c = c$.input[i] as string;
      if (quote) {
        if (c === quote) quote = null;
        else if (c === '\\' && quote === '"') i++;
      } else if (c === "'" || c === '"') quote = c;
      else if (c === '\\') i++;
      else if (isBackquote ? c === '`' : c === ')') {
        if (isBackquote || --depth === 0) break;
      } else if (!isBackquote && c === '(') depth++;
    }
    if (i >= c$.input.length) throw new AshIncomplete();
    parts.push({ kind: 'subst', script: c$.input.slice(c$.at + (isBackquote ? 1 : 2), i), isQuoted });
    c$.at = i + 1;
    return;
  }
  const braced = /^\$\{(#?)([A-Za-z_][A-Za-z0-9_]*|[?$#0-9])\}/.exec(rest);
  const bare = /^\$([A-Za-z_][A-Za-z0-9_]*|[?$#0-9])/.exec(rest);
  if (braced) {
    parts.push({ kind: 'param', name: braced[2] as string, isLength: braced[1] === '#', isQuoted });
    c$.at += braced[0].length;
  } else if (bare) {
    parts.push({ kind: 'param', name: bare[1] as string, isLength: false, isQuoted });
    c$.at += bare[0].length;
  } else if (rest.startsWith('${')) {
    if (!rest.includes('}')) throw new AshIncomplete();
    throw new AshSyntaxError('syntax error: bad substitution');
  } else {
    text('$', isQuoted);
    c$.at++;
  }
}
