// Reading the emulated nft's tokens: a cursor over them, the locations errors point at, and the two
// kinds of refusal the parser raises — a syntax error in bison's words, and "Operation not
// supported" for valid nft this emulator does not model (the answer of a kernel without that
// expression). Pure.

import { NftError, type NftLocation } from './nft-ast.js';
import { isNftKeyword, tokenName, type NftToken } from './nft-lexer.js';

export const END_OF_COMMAND = 'end of file or newline or semicolon';

export function locationOf(token: NftToken): NftLocation {
  return { line: token.line, first: token.first, last: token.last, lineStart: token.lineStart };
}

/** From the first token to the last (on the first token's line). */
export function spanOf(from: NftToken, to: NftToken): NftLocation {
  return { ...locationOf(from), last: from.line === to.line ? to.last : from.last };
}

export function syntaxError(token: NftToken, expecting?: string): NftError {
  return new NftError(`syntax error, unexpected ${tokenName(token)}${expecting ? `, expecting ${expecting}` : ''}`, [locationOf(token)]);
}

/** Valid nft, not modelled here: refused as a kernel without that expression would refuse it. */
export function unsupported(token: NftToken): NftError {
  return new NftError('Operation not supported', [locationOf(token)], true);
}

export class NftCursor {
  private at = 0;
  /** Syntax errors already reported (bison recovers at the end of the line and goes on). */
  readonly errors: NftError[] = [];
  private isFailed = false;
  constructor(readonly tokens: NftToken[]) {}
  /**
   * After an error in a block or at the top: keep it, drop the rest of the line, go on — as
   * nft's grammar does with its `error` rules. Anything else (a refusal, the end of the input)
   * ends the parse with what was found so far.
   */
  recover(error: unknown): void {
    if (!(error instanceof NftError) || this.isFailed) throw error;
    if (error.isKernel || !error.message.startsWith('syntax error') || this.peek().kind === 'eof') this.fail(error);
    this.errors.push(error);
    while (this.peek().kind !== 'newline' && this.peek().kind !== 'eof') this.next();
  }
  /** Ends the parse: the first error found, with the ones after it (a refusal only when alone). */
  fail(error?: NftError): never {
    this.isFailed = true;
    const [first, ...rest] = this.errors;
    if (first === undefined) throw error as NftError;
    first.followers.push(...rest);
    if (error && !error.isKernel) first.followers.push(error);
    throw first;
  }
  peek(offset = 0): NftToken {
    return this.tokens[Math.min(this.at + offset, this.tokens.length - 1)] as NftToken;
  }
  next(): NftToken {
    const token = this.peek();
    if (this.at < this.tokens.length - 1) this.at++;
    return token;
  }
  /** The next token is this word or punctuation. */
  is(text: string, offset = 0): boolean {
    const token = this.peek(offset);
    return (token.kind === 'string' || token.kind === 'punct') && token.text === text;
  }
  /** The next token, which must be `text`. */
  expect(text: string, expecting?: string): NftToken {
    if (!this.is(text)) throw syntaxError(this.peek(), expecting ?? (text.length === 1 ? `'${text}'` : text));
    return this.next();
  }
  /** At the end of a command or rule: a newline, `;`, the end, or (in a block) its `}`. */
  isSeparator(inBlock: boolean): boolean {
    const token = this.peek();
    return token.kind === 'newline' || token.kind === 'eof' || this.is(';') || (inBlock && this.is('}'));
  }
  skipNewlines(): void {
    while (this.peek().kind === 'newline' || this.is(';')) this.next();
  }
  skipLineBreaks(): void {
    while (this.peek().kind === 'newline') this.next();
  }
  /** A name (table, chain, set): a string that is not a keyword. */
  name(): NftToken {
    const token = this.peek();
    if (token.kind !== 'string' || isNftKeyword(token.text)) throw syntaxError(token, 'string');
    return this.next();
  }
}
