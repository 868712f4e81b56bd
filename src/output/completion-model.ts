// Shell completion (issue 22): the model of the command tree, which app/completion.ts reads off the
// commander program itself (no hand-written list of commands), and what the three scripts share;
// completion-scripts.ts writes bash and zsh, completion-fish.ts fish. Pure.
//
// Names that come from the router (device names) or from the user's config (profile names) never
// enter a script: the scripts ask `lantop completion --list profiles|devices` at completion time,
// which prints only words of [A-Za-z0-9._:-] (completionWord), and the scripts check that pattern
// again and never pass the names through an expanding builtin (bash's `compgen -W` expands `$(…)`).

/** The shells there is a script for. */
export const COMPLETION_SHELLS = ['bash', 'zsh', 'fish'] as const;
export type CompletionShell = (typeof COMPLETION_SHELLS)[number];

/** What a value is completed from: a fixed list, files, saved profiles, known devices, or nothing. */
export type CompletionValue = { kind: 'choice'; choices: readonly string[] } | { kind: 'file' | 'profile' | 'device' | 'text' };

export interface CompletionOption {
  /** `--json`, `-V`, … (long first where there is one). */
  names: readonly string[];
  description: string;
  /** null: a flag without a value. */
  value: CompletionValue | null;
}

export interface CompletionArgument {
  name: string;
  value: CompletionValue;
  isVariadic: boolean;
}

export interface CompletionCommand {
  name: string;
  description: string;
  options: readonly CompletionOption[];
  arguments: readonly CompletionArgument[];
  subcommands: readonly CompletionCommand[];
}

/** The name lists the scripts ask for. */
export const COMPLETION_LISTS = ['profiles', 'devices'] as const;
export type CompletionList = (typeof COMPLETION_LISTS)[number];

/** Characters a completed name may have: nothing a shell would expand, split or quote. */
export const COMPLETION_WORD = /^[A-Za-z0-9._:-]+$/;
const MAX_WORD_LENGTH = 64;

/** A name as the completion callback prints it, or null when it has anything outside [A-Za-z0-9._:-]. */
export function completionWord(text: string | null): string | null {
  if (text === null) return null;
  return COMPLETION_WORD.test(text) && text.length <= MAX_WORD_LENGTH && !text.startsWith('-') ? text : null;
}

// ---- the tree, flattened -------------------------------------------------------------------------

export interface Entry {
  /** Space-separated command path below the program: '' for the program, 'quota add'. */
  path: string;
  command: CompletionCommand;
}

export function entriesOf(program: CompletionCommand): Entry[] {
  const out: Entry[] = [];
  const walk = (command: CompletionCommand, path: string) => {
    out.push({ path, command });
    for (const sub of command.subcommands) walk(sub, path === '' ? sub.name : `${path} ${sub.name}`);
  };
  walk(program, '');
  return out;
}

const WORD = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
const OPTION = /^--?[A-Za-z0-9][A-Za-z0-9-]*$/;

/** Our own names go into the scripts unquoted in places: a bug if one is not a plain word. */
export function checkNames(entries: readonly Entry[]): void {
  for (const { command } of entries) {
    if (!WORD.test(command.name)) throw new TypeError(`completion: command name ${JSON.stringify(command.name)}`);
    for (const o of command.options) {
      for (const n of o.names) if (!OPTION.test(n)) throw new TypeError(`completion: option name ${JSON.stringify(n)}`);
      if (o.value?.kind === 'choice') for (const c of o.value.choices) if (!COMPLETION_WORD.test(c)) throw new TypeError(`completion: choice ${JSON.stringify(c)}`);
    }
    for (const a of command.arguments) if (a.value.kind === 'choice') for (const c of a.value.choices) if (!COMPLETION_WORD.test(c)) throw new TypeError(`completion: choice ${JSON.stringify(c)}`);
  }
}

/** One line of a description, for zsh's and fish's menus. */
export function shortDescription(text: string): string {
  const line = text.split('\n')[0] ?? '';
  const plain = line.replace(/[\u0000-\u001f\u007f]/g, '');
  return plain.length > 80 ? `${plain.slice(0, 79)}…` : plain;
}

/** A POSIX single-quoted word (bash and zsh). */
export function sq(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A fish single-quoted word. */
export function fq(text: string): string {
  return `'${text.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

/** The options that take a value, by command path (global ones under '*'), for the word walk. */
export function valueOptionCases(entries: readonly Entry[], program: CompletionCommand, indent: string): string {
  const lines: string[] = [];
  for (const { path, command } of entries) {
    if (path === '') continue;
    const names = command.options.filter((o) => o.value !== null).flatMap((o) => o.names);
    if (names.length > 0) lines.push(`${indent}${names.map((n) => sq(`${path} ${n}`)).join('|')}) return 0 ;;`);
  }
  const globals = program.options.filter((o) => o.value !== null).flatMap((o) => o.names);
  if (globals.length > 0) lines.push(`${indent}${globals.map((n) => `*${sq(` ${n}`)}`).join('|')}) return 0 ;;`);
  return lines.join('\n');
}

export function subcommandCases(entries: readonly Entry[], indent: string): string {
  return entries
    .filter((e) => e.command.subcommands.length > 0)
    .map((e) => `${indent}${sq(e.path)}) echo ${sq(e.command.subcommands.map((s) => s.name).join(' '))} ;;`)
    .join('\n');
}

/** Each command's options and the program's (global) ones, once each. */
export function optionCases(entries: readonly Entry[], program: CompletionCommand, indent: string): string {
  return entries
    .map((e) => {
      const names = new Set([...e.command.options, ...program.options].flatMap((o) => o.names));
      return `${indent}${sq(e.path)}) echo ${sq([...names].join(' '))} ;;`;
    })
    .join('\n');
}

/** A shell's way to offer a value of each kind. */
export interface Emit {
  choices(words: readonly string[]): string;
  file(): string;
  names(list: CompletionList): string;
}

export function valueCode(value: CompletionValue, emit: Emit): string | null {
  switch (value.kind) {
    case 'choice':
      return emit.choices(value.choices);
    case 'file':
      return emit.file();
    case 'profile':
      return emit.names('profiles');
    case 'device':
      return emit.names('devices');
    case 'text':
      return null;
  }
}

/** `case "$path $option"`: how each option's value is completed (command options before global ones). */
export function optionValueCases(entries: readonly Entry[], program: CompletionCommand, emit: Emit, indent: string): string {
  const lines: string[] = [];
  const add = (patterns: string[], value: CompletionValue) => {
    const code = valueCode(value, emit);
    lines.push(`${indent}${patterns.join('|')}) ${code ?? ':'} ;;`);
  };
  for (const { path, command } of entries) {
    if (path === '') continue;
    for (const o of command.options) if (o.value) add(o.names.map((n) => sq(`${path} ${n}`)), o.value);
  }
  for (const o of program.options) if (o.value) add(o.names.map((n) => `*${sq(` ${n}`)}`), o.value);
  return lines.join('\n');
}

/** `case "$path"` then the positional index: how each command's arguments are completed. */
export function argumentCases(entries: readonly Entry[], emit: Emit, indent: string): string {
  const lines: string[] = [];
  for (const { path, command } of entries) {
    const args = command.arguments;
    if (path === '' || args.length === 0 || command.subcommands.length > 0) continue;
    const inner: string[] = [];
    args.forEach((a, i) => {
      const code = valueCode(a.value, emit);
      const isLast = i === args.length - 1;
      if (code !== null) inner.push(`${isLast && a.isVariadic ? '*' : String(i)}) ${code} ;;`);
    });
    if (inner.length > 0) lines.push(`${indent}${sq(path)}) case "$2" in ${inner.join(' ')} esac ;;`);
  }
  return lines.join('\n');
}

/** Options passed on to the callback, so it lists the devices of the router the line names. */
export const ROUTER_OPTIONS = ['--profile', '--host', '--port', '--db'];
