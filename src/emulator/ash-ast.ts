// The emulated BusyBox ash's syntax tree and errors (ash-parse.ts builds it, ash-run.ts runs it).

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
  | { kind: 'while'; condition: AshList; body: AshList; isUntil: boolean; redirects: Redirect[] }
  | { kind: 'case'; subject: Word; branches: CaseBranch[]; redirects: Redirect[] };

/** One `PATTERN|PATTERN) LIST` of a case (patterns are words, expanded only when reached). */
export interface CaseBranch {
  patterns: Word[];
  body: AshList;
}

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
