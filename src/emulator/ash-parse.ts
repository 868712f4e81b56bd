// The emulated BusyBox ash's parser: one command line → lists of and-or pipelines of simple
// commands, `{ …; }` and `( … )` groups, `for`/`if`/`while`, with quotes, `$NAME`, `${NAME}`,
// `${#NAME}`, `$?`, `$$`, `$(…)` and backquotes, and redirections (`>`, `>>`, `<`, `N>&M`). What
// lantop's batched delivery sends (printf into a pipe, the script built up in a variable and
// `eval`ed, `for … do [ -r "$f" ] && echo "$f"; done`) parses as ash parses it. Input that needs
// more (an open quote or group) is reported as incomplete: the interactive shell then asks for the
// next line with PS2 ("> "), as ash does. Pure.

export type WordPart =
  | { kind: 'text'; text: string; isQuoted: boolean }
  | { kind: 'param'; name: string; isLength: boolean; isQuoted: boolean }
  | { kind: 'subst'; script: string; isQuoted: boolean };
export type Word = WordPart[];

export interface Redirect {
  fd: number;
  op: '>' | '>>' | '<' | '>&' | '<&';
  target: Word;
}

export type AshCommand =
  | { kind: 'simple'; assigns: Array<{ name: string; value: Word }>; words: Word[]; redirects: Redirect[] }
  | { kind: 'group'; body: AshList; isSubshell: boolean; redirects: Redirect[] }
  | { kind: 'for'; name: string; items: Word[]; body: AshList; redirects: Redirect[] }
  | { kind: 'if'; clauses: Array<{ condition: AshList; body: AshList }>; otherwise: AshList | null; redirects: Redirect[] }
  | { kind: 'while'; condition: AshList; body: AshList; isUntil: boolean; redirects: Redirect[] };

export interface Pipeline {
  isNegated: boolean;
  commands: AshCommand[];
}
export interface AndOr {
  first: Pipeline;
  rest: Array<{ op: '&&' | '||'; pipeline: Pipeline }>;
}
export type AshList = AndOr[];

/** The input ends inside a quote, a group or after `&&`/`|`: ash would read another line. */
export class AshIncomplete extends Error {}
/** ash's "syntax error: …" (the caller prefixes the shell's name). */
export class AshSyntaxError extends Error {}

const RESERVED = new Set(['{', '}', '!', 'for', 'in', 'do', 'done', 'if', 'then', 'elif', 'else', 'fi', 'while', 'until', 'case', 'esac']);
const METACHARS = ' \t\n;&|<>()';

export function parseAsh(input: string): AshList {
  const parser = new AshParser(input);
  const list = parser.list(new Set());
  parser.skipBlanks();
  if (!parser.atEnd()) throw new AshSyntaxError(`syntax error: unexpected "${parser.peekToken()}"`);
  return list;
}

class AshParser {
  private at = 0;
  constructor(private readonly input: string) {}

  atEnd(): boolean {
    return this.at >= this.input.length;
  }
  skipBlanks(): void {
    while (this.input[this.at] === ' ' || this.input[this.at] === '\t') this.at++;
    if (this.input[this.at] === '#') while (!this.atEnd() && this.input[this.at] !== '\n') this.at++;
  }
  private skipBlanksAndNewlines(): void {
    for (;;) {
      this.skipBlanks();
      if (this.input[this.at] !== '\n') return;
      this.at++;
    }
  }
  /** The next operator or word, without consuming it (for error messages). */
  peekToken(): string {
    const ops = ['&&', '||', ';;', ';', '&', '|', '(', ')', '>>', '>', '<'];
    const op = ops.find((o) => this.input.startsWith(o, this.at));
    if (op) return op;
    const save = this.at;
    const word = this.readRawWord();
    this.at = save;
    return word;
  }
  /** The literal text of the next word if it is a plain (unquoted) word, else null. */
  private peekPlainWord(): string | null {
    const save = this.at;
    this.skipBlanks();
    let end = this.at;
    while (end < this.input.length && !METACHARS.includes(this.input[end] as string) && !`'"\\$\``.includes(this.input[end] as string)) end++;
    const word = this.input.slice(this.at, end);
    const next = this.input[end];
    this.at = save;
    return word !== '' && (next === undefined || METACHARS.includes(next)) ? word : null;
  }
  private takeReserved(word: string): boolean {
    if (this.peekPlainWord() !== word) return false;
    this.skipBlanks();
    this.at += word.length;
    return true;
  }
  private expectReserved(word: string): void {
    this.skipBlanksAndNewlines();
    if (this.atEnd()) throw new AshIncomplete();
    if (!this.takeReserved(word)) throw new AshSyntaxError(`syntax error: unexpected "${this.peekToken()}" (expecting "${word}")`);
  }

  /** Commands up to one of the stop words (not consumed) or the end. */
  list(stops: ReadonlySet<string>): AshList {
    const items: AshList = [];
    for (;;) {
      this.skipBlanksAndNewlines();
      if (this.atEnd() || this.input[this.at] === ')') return items;
      const word = this.peekPlainWord();
      if (word !== null && stops.has(word)) return items;
      if (word !== null && RESERVED.has(word) && !['{', '!', 'for', 'if', 'while', 'until', 'in'].includes(word)) {
        throw new AshSyntaxError(`syntax error: unexpected "${word}"`);
      }
      items.push(this.andOr());
      this.skipBlanks();
      const ch = this.input[this.at];
      if (ch === ';' || ch === '&') {
        if (this.input.startsWith(';;', this.at)) throw new AshSyntaxError('syntax error: unexpected ";;"');
        this.at++;
      } else if (ch !== '\n' && ch !== ')' && !this.atEnd()) {
        const next = this.peekPlainWord();
        if (next === null || !stops.has(next)) throw new AshSyntaxError(`syntax error: unexpected "${this.peekToken()}"`);
      }
    }
  }

  private andOr(): AndOr {
    const first = this.pipeline();
    const rest: AndOr['rest'] = [];
    for (;;) {
      this.skipBlanks();
      const op = this.input.startsWith('&&', this.at) ? '&&' : this.input.startsWith('||', this.at) ? '||' : null;
      if (op === null) return { first, rest };
      this.at += 2;
      this.skipBlanksAndNewlines();
      if (this.atEnd()) throw new AshIncomplete();
      rest.push({ op, pipeline: this.pipeline() });
    }
  }

  private pipeline(): Pipeline {
    const isNegated = this.takeReserved('!');
    const commands = [this.command()];
    for (;;) {
      this.skipBlanks();
      if (this.input[this.at] !== '|' || this.input[this.at + 1] === '|') return { isNegated, commands };
      this.at++;
      this.skipBlanksAndNewlines();
      if (this.atEnd()) throw new AshIncomplete();
      commands.push(this.command());
    }
  }

  private command(): AshCommand {
    this.skipBlanks();
    if (this.atEnd()) throw new AshIncomplete();
    if (this.input[this.at] === '(') {
      this.at++;
      const body = this.list(new Set());
      this.skipBlanksAndNewlines();
      if (this.atEnd()) throw new AshIncomplete();
      this.at++;
      return { kind: 'group', body, isSubshell: true, redirects: this.redirects() };
    }
    if (this.takeReserved('{')) {
      const body = this.list(new Set(['}']));
      this.expectReserved('}');
      return { kind: 'group', body, isSubshell: false, redirects: this.redirects() };
    }
    if (this.takeReserved('for')) return this.forCommand();
    if (this.takeReserved('if')) return this.ifCommand();
    if (this.peekPlainWord() === 'while' || this.peekPlainWord() === 'until') {
      const isUntil = this.peekPlainWord() === 'until';
      this.takeReserved(isUntil ? 'until' : 'while');
      const condition = this.list(new Set(['do']));
      this.expectReserved('do');
      const body = this.list(new Set(['done']));
      this.expectReserved('done');
      return { kind: 'while', condition, body, isUntil, redirects: this.redirects() };
    }
    if (this.peekPlainWord() === 'case') throw new AshSyntaxError('syntax error: "case" is not emulated');
    return this.simple();
  }

  private forCommand(): AshCommand {
    this.skipBlanks();
    const name = this.readRawWord();
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new AshSyntaxError(`syntax error: bad for loop variable`);
    const items: Word[] = [];
    if (this.takeReserved('in')) {
      for (;;) {
        this.skipBlanks();
        const ch = this.input[this.at];
        if (this.atEnd() || ch === ';' || ch === '\n') break;
        items.push(this.word());
      }
    }
    this.skipBlanks();
    if (this.input[this.at] === ';') this.at++;
    this.expectReserved('do');
    const body = this.list(new Set(['done']));
    this.expectReserved('done');
    return { kind: 'for', name, items, body, redirects: this.redirects() };
  }

  private ifCommand(): AshCommand {
    const clauses: Array<{ condition: AshList; body: AshList }> = [];
    let otherwise: AshList | null = null;
    for (;;) {
      const condition = this.list(new Set(['then']));
      this.expectReserved('then');
      const body = this.list(new Set(['elif', 'else', 'fi']));
      clauses.push({ condition, body });
      this.skipBlanksAndNewlines();
      if (this.atEnd()) throw new AshIncomplete();
      if (this.takeReserved('elif')) continue;
      if (this.takeReserved('else')) otherwise = this.list(new Set(['fi']));
      this.expectReserved('fi');
      return { kind: 'if', clauses, otherwise, redirects: this.redirects() };
    }
  }

  private simple(): AshCommand {
    const assigns: Array<{ name: string; value: Word }> = [];
    const words: Word[] = [];
    const redirects: Redirect[] = [];
    for (;;) {
      this.skipBlanks();
      if (this.atEnd()) break;
      const ch = this.input[this.at] as string;
      const redirect = this.redirect();
      if (redirect) {
        redirects.push(redirect);
        continue;
      }
      if (';&|()\n'.includes(ch)) break;
      const assign = words.length === 0 ? /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(this.input.slice(this.at)) : null;
      if (assign) {
        this.at += assign[0].length;
        const value = METACHARS.includes(this.input[this.at] ?? ' ') ? [] : this.word();
        assigns.push({ name: assign[1] as string, value });
        continue;
      }
      words.push(this.word());
    }
    if (assigns.length === 0 && words.length === 0 && redirects.length === 0) {
      throw new AshSyntaxError(`syntax error: unexpected "${this.peekToken() || 'end of file'}"`);
    }
    return { kind: 'simple', assigns, words, redirects };
  }

  private redirects(): Redirect[] {
    const out: Redirect[] = [];
    for (;;) {
      this.skipBlanks();
      const redirect = this.redirect();
      if (!redirect) return out;
      out.push(redirect);
    }
  }

  private redirect(): Redirect | null {
    const m = /^(\d?)(>>|>&|<&|>|<)/.exec(this.input.slice(this.at, this.at + 4));
    if (!m) return null;
    if (this.input.startsWith('<<', this.at + (m[1] as string).length)) throw new AshSyntaxError('syntax error: here-documents are not emulated');
    this.at += m[0].length;
    this.skipBlanks();
    if (this.atEnd()) throw new AshSyntaxError('syntax error: unexpected newline');
    const op = m[2] as Redirect['op'];
    return { fd: m[1] ? Number(m[1]) : op.startsWith('<') ? 0 : 1, op, target: this.word() };
  }

  /** The raw text of the next word (for names and messages). */
  private readRawWord(): string {
    let end = this.at;
    while (end < this.input.length && !METACHARS.includes(this.input[end] as string)) end++;
    const word = this.input.slice(this.at, end);
    this.at = end;
    return word;
  }

  /** One word with its quoting, up to an unquoted metacharacter. */
  private word(): Word {
    const parts: Word = [];
    const text = (value: string, isQuoted: boolean): void => {
      const last = parts[parts.length - 1];
      if (last?.kind === 'text' && last.isQuoted === isQuoted) last.text += value;
      else parts.push({ kind: 'text', text: value, isQuoted });
    };
    while (!this.atEnd()) {
      const ch = this.input[this.at] as string;
      if (METACHARS.includes(ch)) break;
      if (ch === "'") {
        const end = this.input.indexOf("'", this.at + 1);
        if (end < 0) throw new AshIncomplete();
        text(this.input.slice(this.at + 1, end), true);
        this.at = end + 1;
      } else if (ch === '"') {
        this.at++;
        for (;;) {
          if (this.atEnd()) throw new AshIncomplete();
          const c = this.input[this.at] as string;
          if (c === '"') {
            this.at++;
            break;
          }
          if (c === '\\' && '"\\$`\n'.includes(this.input[this.at + 1] ?? '')) {
            if (this.input[this.at + 1] !== '\n') text(this.input[this.at + 1] as string, true);
            this.at += 2;
          } else if (c === '$' || c === '`') this.expansion(parts, true, text);
          else {
            text(c, true);
            this.at++;
          }
        }
        if (parts.length === 0) text('', true);
      } else if (ch === '\\') {
        if (this.at + 1 >= this.input.length) throw new AshIncomplete();
        if (this.input[this.at + 1] !== '\n') text(this.input[this.at + 1] as string, true);
        this.at += 2;
      } else if (ch === '$' || ch === '`') this.expansion(parts, false, text);
      else {
        text(ch, false);
        this.at++;
      }
    }
    return parts;
  }

  private expansion(parts: Word, isQuoted: boolean, text: (value: string, isQuoted: boolean) => void): void {
    const rest = this.input.slice(this.at);
    if (rest.startsWith('$(') || rest.startsWith('`')) {
      const isBackquote = rest.startsWith('`');
      let depth = 1;
      let i = this.at + (isBackquote ? 1 : 2);
      let quote: string | null = null;
      for (; i < this.input.length; i++) {
        const c = this.input[i] as string;
        if (quote) {
          if (c === quote) quote = null;
          else if (c === '\\' && quote === '"') i++;
        } else if (c === "'" || c === '"') quote = c;
        else if (c === '\\') i++;
        else if (isBackquote ? c === '`' : c === ')') {
          if (isBackquote || --depth === 0) break;
        } else if (!isBackquote && c === '(') depth++;
      }
      if (i >= this.input.length) throw new AshIncomplete();
      parts.push({ kind: 'subst', script: this.input.slice(this.at + (isBackquote ? 1 : 2), i), isQuoted });
      this.at = i + 1;
      return;
    }
    const braced = /^\$\{(#?)([A-Za-z_][A-Za-z0-9_]*|[?$#0-9])\}/.exec(rest);
    const bare = /^\$([A-Za-z_][A-Za-z0-9_]*|[?$#0-9])/.exec(rest);
    if (braced) {
      parts.push({ kind: 'param', name: braced[2] as string, isLength: braced[1] === '#', isQuoted });
      this.at += braced[0].length;
    } else if (bare) {
      parts.push({ kind: 'param', name: bare[1] as string, isLength: false, isQuoted });
      this.at += bare[0].length;
    } else if (rest.startsWith('${')) {
      if (!rest.includes('}')) throw new AshIncomplete();
      throw new AshSyntaxError('syntax error: bad substitution');
    } else {
      text('$', isQuoted);
      this.at++;
    }
  }
}
