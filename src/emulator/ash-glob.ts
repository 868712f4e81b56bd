// Shell pattern matching for the emulated ash's `case` (POSIX 2.13.1, as BusyBox ash's pmatch does
// it): `*`, `?`, bracket expressions (`[abc]`, `[a-z]`, `[!…]`/`[^…]`, `[[:alpha:]]`, `]` first is
// literal, an unclosed `[` is literal), a backslash quotes the next character. Matched byte by
// byte over UTF-8, as OpenWrt's BusyBox (no UNICODE_SUPPORT) does: `é` is two `?`. Pure.

type GlobToken =
  | { kind: 'char'; c: string }
  | { kind: 'any' }
  | { kind: 'star' }
  | { kind: 'set'; isNegated: boolean; items: SetItem[] };
type SetItem = { lo: string; hi: string } | { cls: string };

const CLASSES: Record<string, RegExp> = {
  alpha: /[A-Za-z]/,
  digit: /[0-9]/,
  alnum: /[A-Za-z0-9]/,
  upper: /[A-Z]/,
  lower: /[a-z]/,
  space: /[ \t\n\v\f\r]/,
  blank: /[ \t]/,
  punct: /[!-/:-@[-`{-~]/,
  print: /[ -~]/,
  graph: /[!-~]/,
  cntrl: /[\x00-\x1f\x7f]/,
  xdigit: /[0-9A-Fa-f]/,
};

/** A string as its UTF-8 bytes, one char (U+0000–U+00FF) per byte. */
export function utf8Bytes(text: string): string {
  return String.fromCharCode(...new TextEncoder().encode(text));
}

/** Quotes every character of `text` so that it matches only itself. */
export function globQuote(text: string): string {
  return text.replace(/[\s\S]/g, (c) => `\\${c}`);
}

function tokenize(pattern: string): GlobToken[] {
  const tokens: GlobToken[] = [];
  let at = 0;
  while (at < pattern.length) {
    const c = pattern[at] as string;
    if (c === '\\' && at + 1 < pattern.length) {
      tokens.push({ kind: 'char', c: pattern[at + 1] as string });
      at += 2;
    } else if (c === '*') {
      tokens.push({ kind: 'star' });
      at++;
    } else if (c === '?') {
      tokens.push({ kind: 'any' });
      at++;
    } else if (c === '[') {
      const set = bracket(pattern, at + 1);
      if (set === null) {
        tokens.push({ kind: 'char', c: '[' });
        at++;
      } else {
        tokens.push(set.token);
        at = set.end;
      }
    } else {
      tokens.push({ kind: 'char', c });
      at++;
    }
  }
  return tokens;
}

/** The bracket expression starting after `[` at `start`, or null when it does not close. */
function bracket(pattern: string, start: number): { token: GlobToken; end: number } | null {
  let at = start;
  const isNegated = pattern[at] === '!' || pattern[at] === '^';
  if (isNegated) at++;
  const items: SetItem[] = [];
  const readChar = (): string | null => {
    if (at >= pattern.length) return null;
    if (pattern[at] === '\\' && at + 1 < pattern.length) {
      at += 2;
      return pattern[at - 1] as string;
    }
    return pattern[at++] as string;
  };
  let isFirst = true;
  for (;;) {
    if (at >= pattern.length) return null;
    if (pattern[at] === ']' && !isFirst) return { token: { kind: 'set', isNegated, items }, end: at + 1 };
    isFirst = false;
    if (pattern.startsWith('[:', at)) {
      const close = pattern.indexOf(':]', at + 2);
      if (close >= 0) {
        items.push({ cls: pattern.slice(at + 2, close) });
        at = close + 2;
        continue;
      }
    }
    const lo = readChar() as string;
    if (pattern[at] === '-' && at + 1 < pattern.length && pattern[at + 1] !== ']') {
      at++;
      const hi = readChar() as string;
      items.push({ lo, hi });
    } else items.push({ lo, hi: lo });
  }
}

function matchesOne(token: GlobToken, c: string): boolean {
  switch (token.kind) {
    case 'char':
      return token.c === c;
    case 'any':
      return true;
    case 'star':
      return false;
    case 'set': {
      const isIn = token.items.some((item) => ('cls' in item ? CLASSES[item.cls]?.test(c) === true : item.lo <= c && c <= item.hi));
      return isIn !== token.isNegated;
    }
  }
}

/** Whether `subject` matches the pattern (both already byte strings, see utf8Bytes). */
export function globMatch(pattern: string, subject: string): boolean {
  const tokens = tokenize(pattern);
  let ti = 0;
  let si = 0;
  let starTi = -1;
  let starSi = 0;
  while (si < subject.length) {
    const token = tokens[ti];
    if (token?.kind === 'star') {
      starTi = ti++;
      starSi = si;
    } else if (token !== undefined && matchesOne(token, subject[si] as string)) {
      ti++;
      si++;
    } else if (starTi >= 0) {
      ti = starTi + 1;
      si = ++starSi;
    } else return false;
  }
  while (tokens[ti]?.kind === 'star') ti++;
  return ti === tokens.length;
}
