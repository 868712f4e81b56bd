// The emulated BusyBox ash's parser: one command line → lists of and-or pipelines of simple
// commands, `{ …; }` and `( … )` groups, `for`/`if`/`while`, with quotes, `$NAME`, `${NAME}`,
// `${#NAME}`, `$?`, `$$`, `$(…)` and backquotes, redirections (`>`, `>>`, `<`, `N>&M`), and
// `case WORD in [(]PATTERN[|PATTERN…]) LIST ;; … esac` as ash's parse_command reads it. What
// lantop's batched delivery sends (printf into a pipe, the script built up in a variable and
// `eval`ed, `for … do [ -r "$f" ] && echo "$f"; done`) parses as ash parses it. Input that needs
// more (an open quote or group) is reported as incomplete: the interactive shell then asks for the
// next line with PS2 ("> "), as ash does. Pure.
export * from './ash-ast.js';
import { AshIncomplete, AshSyntaxError, type AndOr, type AshCommand, type AshList, type CaseBranch, type Pipeline, type Redirect, type Word } from './ash-ast.js';
import { METACHARS, readWord } from './ash-word.js';

const RESERVED = new Set(['{', '}', '!', 'for', 'in', 'do', 'done', 'if', 'then', 'elif', 'else', 'fi', 'while', 'until', 'case', 'esac']);
/** Where a case branch's list ends: `;;`, `esac`, or a closing word ash then reports as unexpected. */
const CASE_BODY_STOPS: ReadonlySet<string> = new Set([';;', 'esac', 'fi', 'then', 'elif', 'else', 'do', 'done', '}']);

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
      if (stops.has(';;') && this.input.startsWith(';;', this.at)) return items;
      const word = this.peekPlainWord();
      if (word !== null && stops.has(word)) return items;
      if (word !== null && RESERVED.has(word) && !['{', '!', 'for', 'if', 'while', 'until', 'case', 'in'].includes(word)) {
        throw new AshSyntaxError(`syntax error: unexpected "${word}"`);
      }
      items.push(this.andOr());
      this.skipBlanks();
      const ch = this.input[this.at];
      if (ch === ';' || ch === '&') {
        if (this.input.startsWith(';;', this.at)) {
          if (stops.has(';;')) return items;
          throw new AshSyntaxError('syntax error: unexpected ";;"');
        }
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
    if (this.takeReserved('case')) return this.caseCommand();
    return this.simple();
  }

  /** How ash's raise_error_unexpected_syntax names the next token (keywords only where ash checks for them). */
  private tokenName(isKeywordChecked: boolean): string {
    this.skipBlanks();
    if (this.atEnd()) return 'end of file';
    if (this.input[this.at] === '\n') return 'newline';
    if (/^\d?(>>|>&|<&|>|<)/.test(this.input.slice(this.at, this.at + 4))) return 'redirection';
    const op = ['&&', '||', ';;', ';', '&', '|', '(', ')'].find((o) => this.input.startsWith(o, this.at));
    if (op) return `"${op}"`;
    const plain = this.peekPlainWord();
    return isKeywordChecked && plain !== null && RESERVED.has(plain) ? `"${plain}"` : 'word';
  }

  private isAtWordStart(): boolean {
    return !this.atEnd() && !METACHARS.includes(this.input[this.at] as string);
  }

  // ash.c parse_command, TCASE: the word, `in` (after newlines), then branches up to `esac`. A
  // branch: an optional `(` (after which `esac` is a pattern), patterns joined by `|`, `)`, a list
  // ending at `;;` or `esac` (the last `;;` may be left out).
  private caseCommand(): AshCommand {
    const fail = (message: string): never => {
      throw new AshSyntaxError(`syntax error: ${message}`);
    };
    this.skipBlanks();
    if (this.atEnd()) throw new AshIncomplete();
    if (!this.isAtWordStart()) fail(`unexpected ${this.tokenName(false)} (expecting word)`);
    const subject = this.word();
    this.skipBlanksAndNewlines();
    if (this.atEnd()) throw new AshIncomplete();
    if (!this.takeReserved('in')) fail(`unexpected ${this.tokenName(true)} (expecting "in")`);
    const branches: CaseBranch[] = [];
    for (;;) {
      this.skipBlanksAndNewlines();
      if (this.atEnd()) throw new AshIncomplete();
      if (this.takeReserved('esac')) break;
      if (this.input[this.at] === '(') this.at++;
      const patterns: Word[] = [];
      for (;;) {
        this.skipBlanks();
        if (this.atEnd()) throw new AshIncomplete();
        if (!this.isAtWordStart()) {
          // ash takes any token here as the pattern and then wants `|` or `)` after it.
          this.at += (/^(;;|&&|\|\||\d?>>|\d?>&|\d?<&|\d?[<>]|[;&|()\n])/.exec(this.input.slice(this.at))?.[0] ?? ' ').length;
          this.skipBlanks();
          if (this.atEnd()) throw new AshIncomplete();
          fail(`unexpected ${this.input[this.at] === ')' ? '")"' : this.tokenName(false)} (expecting ")")`);
        }
        patterns.push(this.word());
        this.skipBlanks();
        if (this.input[this.at] !== '|' || this.input[this.at + 1] === '|') break;
        this.at++;
      }
      if (this.atEnd()) throw new AshIncomplete();
      if (this.input[this.at] !== ')') fail(`unexpected ${this.tokenName(false)} (expecting ")")`);
      this.at++;
      branches.push({ patterns, body: this.list(CASE_BODY_STOPS) });
      this.skipBlanksAndNewlines();
      if (this.atEnd()) throw new AshIncomplete();
      if (this.input.startsWith(';;', this.at)) {
        this.at += 2;
        continue;
      }
      if (this.takeReserved('esac')) break;
      fail(`unexpected ${this.tokenName(true)} (expecting ";;")`);
    }
    return { kind: 'case', subject, branches, redirects: this.redirects() };
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
    const read = readWord(this.input, this.at);
    this.at = read.at;
    return read.word;
  }
}
