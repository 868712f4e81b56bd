// Running what ash-parse.ts read, as BusyBox ash runs it: and-or lists with `$?`, pipelines (each
// command's output is the next one's input), groups and subshells, for/if/while/case, variables and
// field splitting of unquoted expansions, `$(…)`, redirections to /dev/null, between 1 and 2 and
// to the router's RAM files, `eval`, `exit`, and the builtins of ash-builtins.ts. Programs come
// from the persona's command table; a name it does not know is "-ash: NAME: not found" (127).
// What the line prints, stdout and stderr, comes back in the order it was written. Pure.

import { runEcho, runPrintf, runTest, type FileKind } from './ash-builtins.js';
import { globMatch, globQuote, utf8Bytes } from './ash-glob.js';
import { AshIncomplete, AshSyntaxError, parseAsh, type AndOr, type AshCommand, type AshList, type Pipeline, type Redirect, type Word } from './ash-parse.js';

export interface ProgramResult {
  stdout: string;
  stderr: string;
  status: number;
  /** The program ends the session (`reboot` reboots the router). */
  exit?: 'logout' | 'reboot';
}

/** A program of the router: its arguments (without its name) and what its stdin holds. */
export type Program = (args: string[], stdin: string) => ProgramResult;

export interface AshEnvironment {
  /** How ash names itself in errors: "-ash" for a login shell. */
  shellName: string;
  vars: Map<string, string>;
  lastStatus: number;
  pid: number;
  /** The program a name or path runs, or null. */
  program(name: string): Program | null;
  fileKind(path: string): FileKind;
  readFile(path: string): string | null;
  /** Writes a RAM file; false where nothing can be created. */
  writeFile(path: string, text: string, isAppend: boolean): boolean;
}

export interface AshLineResult {
  output: string;
  exit: 'logout' | 'reboot' | null;
  /** The line needs more input (ash's PS2 prompt). */
  isIncomplete: boolean;
}

interface Sink {
  write(text: string): void;
}
interface Io {
  stdin: string;
  out: Sink;
  err: Sink;
}

class ExitSignal {
  constructor(readonly kind: 'logout' | 'reboot') {}
}

const BUILTINS = new Set([':', 'true', 'false', 'echo', 'printf', 'eval', 'exit', 'test', '[', 'cd', 'export', 'unset', 'set', 'command', 'wait', 'local']);
const MAX_LOOP_ROUNDS = 10_000;

/**
 * Runs one line. What it prints goes to the terminal in order (`output`), or, with `streams`,
 * stdout and stderr apart (tests compare them with a real shell's).
 */
export function runAshLine(env: AshEnvironment, line: string, streams?: { out(text: string): void; err(text: string): void }): AshLineResult {
  let output = '';
  const terminal: Sink = { write: (text) => (output += text) };
  const out: Sink = streams ? { write: (text) => streams.out(text) } : terminal;
  const err: Sink = streams ? { write: (text) => streams.err(text) } : terminal;
  let list: AshList;
  try {
    list = parseAsh(line);
  } catch (error) {
    if (error instanceof AshIncomplete) return { output: '', exit: null, isIncomplete: true };
    if (error instanceof AshSyntaxError) {
      env.lastStatus = 2;
      err.write(`${env.shellName}: ${error.message}\n`);
      return { output, exit: null, isIncomplete: false };
    }
    throw error;
  }
  try {
    runList(env, list, { stdin: '', out, err });
  } catch (signal) {
    if (signal instanceof ExitSignal) return { output, exit: signal.kind, isIncomplete: false };
    throw signal;
  }
  return { output, exit: null, isIncomplete: false };
}

function runList(env: AshEnvironment, list: AshList, io: Io): void {
  for (const item of list) runAndOr(env, item, io);
}

function runAndOr(env: AshEnvironment, item: AndOr, io: Io): void {
  runPipeline(env, item.first, io);
  for (const { op, pipeline } of item.rest) {
    if ((op === '&&') === (env.lastStatus === 0)) runPipeline(env, pipeline, io);
  }
}

function runPipeline(env: AshEnvironment, pipeline: Pipeline, io: Io): void {
  let stdin = io.stdin;
  pipeline.commands.forEach((command, i) => {
    const isLast = i === pipeline.commands.length - 1;
    let captured = '';
    const out: Sink = isLast ? io.out : { write: (text) => (captured += text) };
    runCommand(env, command, { stdin, out, err: io.err });
    stdin = captured;
  });
  if (pipeline.isNegated) env.lastStatus = env.lastStatus === 0 ? 1 : 0;
}

/** The fields a word expands to (quoted parts kept whole, unquoted expansions split on blanks). */
export function expandWord(env: AshEnvironment, word: Word, io: Io): string[] {
  const fields: string[] = [];
  let current = '';
  let hasField = false;
  for (const part of word) {
    let value: string;
    if (part.kind === 'text') value = part.text;
    else if (part.kind === 'param') value = paramValue(env, part.name, part.isLength);
    else value = substitute(env, part.script, io);
    if (part.isQuoted || part.kind === 'text') {
      current += value;
      hasField = true;
      continue;
    }
    const pieces = value.split(/[ \t\n]+/);
    pieces.forEach((piece, i) => {
      if (i > 0 && (hasField || current !== '')) {
        fields.push(current);
        current = '';
        hasField = false;
      }
      if (piece !== '') {
        current += piece;
        hasField = true;
      }
    });
  }
  if (hasField || current !== '') fields.push(current);
  return fields;
}

function paramValue(env: AshEnvironment, name: string, isLength: boolean): string {
  let value: string;
  if (name === '?') value = String(env.lastStatus);
  else if (name === '$') value = String(env.pid);
  else if (name === '#') value = '0';
  else if (name === '0') value = env.shellName;
  else value = env.vars.get(name) ?? '';
  return isLength ? String(value.length) : value;
}

function substitute(env: AshEnvironment, script: string, io: Io): string {
  let captured = '';
  const child: AshEnvironment = { ...env, vars: new Map(env.vars) };
  try {
    runList(child, parseAsh(script), { stdin: '', out: { write: (text) => (captured += text) }, err: io.err });
  } catch (error) {
    if (error instanceof AshSyntaxError) io.err.write(`${env.shellName}: ${error.message}\n`);
    else if (!(error instanceof ExitSignal) && !(error instanceof AshIncomplete)) throw error;
  }
  env.lastStatus = child.lastStatus;
  return captured.replace(/\n+$/, '');
}

/** Applies redirections; null (after printing why) when one cannot be made. */
function redirected(env: AshEnvironment, redirects: readonly Redirect[], io: Io): Io | null {
  const fds = new Map<number, Sink>([[1, io.out], [2, io.err]]);
  let stdin = io.stdin;
  for (const redirect of redirects) {
    const target = expandWord(env, redirect.target, io).join(' ');
    if (redirect.op === '>&') {
      const sink = fds.get(Number(target));
      if (sink) fds.set(redirect.fd, sink);
    } else if (redirect.op === '<&') continue;
    else if (redirect.op === '<') {
      const text = target === '/dev/null' ? '' : env.readFile(target);
      if (text === null) {
        io.err.write(`${env.shellName}: can't open '${target}': No such file or directory\n`);
        return null;
      }
      if (redirect.fd === 0) stdin = text;
    } else if (target === '/dev/null') fds.set(redirect.fd, { write: () => undefined });
    else {
      if (!env.writeFile(target, '', redirect.op === '>>')) {
        io.err.write(`${env.shellName}: can't create ${target}: nonexistent directory\n`);
        return null;
      }
      fds.set(redirect.fd, { write: (text) => void env.writeFile(target, text, true) });
    }
  }
  return { stdin, out: fds.get(1) as Sink, err: fds.get(2) as Sink };
}

function runCommand(env: AshEnvironment, command: AshCommand, outer: Io): void {
  const io = redirected(env, command.redirects, outer);
  if (io === null) {
    env.lastStatus = 1;
    return;
  }
  switch (command.kind) {
    case 'group':
      if (command.isSubshell) {
        const child: AshEnvironment = { ...env, vars: new Map(env.vars) };
        try {
          runList(child, command.body, io);
        } catch (signal) {
          if (!(signal instanceof ExitSignal)) throw signal;
        }
        env.lastStatus = child.lastStatus;
      } else runList(env, command.body, io);
      return;
    case 'for': {
      const items = command.items.flatMap((word) => expandWord(env, word, io));
      env.lastStatus = 0;
      for (const item of items) {
        env.vars.set(command.name, item);
        runList(env, command.body, io);
      }
      return;
    }
    case 'if':
      for (const clause of command.clauses) {
        runList(env, clause.condition, io);
        if (env.lastStatus === 0) return runList(env, clause.body, io);
      }
      if (command.otherwise) runList(env, command.otherwise, io);
      else env.lastStatus = 0;
      return;
    case 'while':
      for (let round = 0; round < MAX_LOOP_ROUNDS; round++) {
        runList(env, command.condition, io);
        if ((env.lastStatus === 0) === command.isUntil) break;
        runList(env, command.body, io);
      }
      env.lastStatus = 0;
      return;
    case 'case':
      return runCase(env, command, io);
    case 'simple':
      return runSimple(env, command, io);
  }
}

/** A word expanded as one field, without field splitting (case subjects, assignments). */
function expandWhole(env: AshEnvironment, word: Word, io: Io): string {
  return expandWord(env, word.map((part) => ({ ...part, isQuoted: true })), io).join(' ');
}

/**
 * A case pattern as glob text: quoted parts literal, unquoted text and unquoted expansions active
 * (a backslash in an unquoted expansion quotes the next character, as in ash's EXP_CASE).
 */
function expandPattern(env: AshEnvironment, word: Word, io: Io): string {
  let pattern = '';
  for (const part of word) {
    const value = part.kind === 'text' ? part.text : expandWhole(env, [part], io);
    pattern += part.isQuoted ? globQuote(utf8Bytes(value)) : utf8Bytes(value);
  }
  return pattern;
}

// ash.c evalcase: the subject expanded once; patterns expanded in order, only until one matches;
// that branch's list runs and gives the status, which is 0 when nothing matched or the list is empty.
function runCase(env: AshEnvironment, command: Extract<AshCommand, { kind: 'case' }>, io: Io): void {
  const subject = utf8Bytes(expandWhole(env, command.subject, io));
  for (const branch of command.branches) {
    if (!branch.patterns.some((pattern) => globMatch(expandPattern(env, pattern, io), subject))) continue;
    env.lastStatus = 0;
    runList(env, branch.body, io);
    return;
  }
  env.lastStatus = 0;
}

function runSimple(env: AshEnvironment, command: Extract<AshCommand, { kind: 'simple' }>, io: Io): void {
  const words = command.words.flatMap((word) => expandWord(env, word, io));
  if (words.length === 0) {
    // No field splitting in an assignment (POSIX 2.9.1): `_S=$(cmd)` keeps cmd's newlines.
    for (const { name, value } of command.assigns) env.vars.set(name, expandWhole(env, value, io));
    if (command.assigns.length > 0 || command.redirects.length > 0) env.lastStatus = 0;
    return;
  }
  const [name, ...args] = words as [string, ...string[]];
  if (BUILTINS.has(name)) return runBuiltin(env, name, args, io);
  const program = env.program(name);
  if (program === null) {
    io.err.write(`${env.shellName}: ${name}: not found\n`);
    env.lastStatus = 127;
    return;
  }
  const result = program(args, io.stdin);
  io.out.write(result.stdout);
  io.err.write(result.stderr);
  env.lastStatus = result.status;
  if (result.exit) throw new ExitSignal(result.exit);
}

function runBuiltin(env: AshEnvironment, name: string, args: string[], io: Io): void {
  const write = (result: { stdout: string; stderr: string; status: number }): void => {
    io.out.write(result.stdout);
    io.err.write(result.stderr);
    env.lastStatus = result.status;
  };
  switch (name) {
    case ':':
    case 'true':
    case 'cd':
    case 'set':
    case 'wait':
      env.lastStatus = 0;
      return;
    case 'false':
      env.lastStatus = 1;
      return;
    case 'echo':
      return write(runEcho(args));
    case 'printf':
      return write(runPrintf(args, env.shellName));
    case 'test':
    case '[':
      return write(runTest(name, args, (path) => env.fileKind(path), env.shellName));
    case 'exit':
      throw new ExitSignal('logout');
    case 'export':
    case 'local':
      for (const arg of args) {
        const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(arg);
        if (m) env.vars.set(m[1] as string, m[2] as string);
      }
      env.lastStatus = 0;
      return;
    case 'unset':
      for (const arg of args) env.vars.delete(arg);
      env.lastStatus = 0;
      return;
    case 'eval': {
      const script = args.join(' ');
      try {
        runList(env, parseAsh(script), io);
      } catch (error) {
        if (!(error instanceof AshSyntaxError) && !(error instanceof AshIncomplete)) throw error;
        io.err.write(`${env.shellName}: eval: ${error instanceof AshSyntaxError ? error.message : 'syntax error: unexpected end of file'}\n`);
        env.lastStatus = 2;
      }
      return;
    }
    case 'command': {
      if (args[0] !== '-v') return runSimple(env, { kind: 'simple', assigns: [], words: args.map((a) => [{ kind: 'text', text: a, isQuoted: true }]), redirects: [] }, io);
      const found = args.slice(1).filter((n) => BUILTINS.has(n) || env.program(n) !== null);
      io.out.write(found.slice(0, 1).map((n) => `${n}\n`).join(''));
      env.lastStatus = found.length > 0 ? 0 : 1;
      return;
    }
  }
}
