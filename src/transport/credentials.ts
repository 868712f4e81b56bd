// Where the router password comes from: an environment variable (default LANTOP_PASSWORD), the
// first line of a file, or a hidden prompt on a terminal — never argv, never logged (issue 4).
import { readFile, stat } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import { sanitizeText } from '../sanitize.js';

export const DEFAULT_PASSWORD_ENV = 'LANTOP_PASSWORD';

export const TELNET_CLEARTEXT_WARNING =
  'Telnet sends the password and everything else in clear text: anyone on the LAN path can read it. Use --protocol ssh if the router offers SSH.';

export interface PasswordResult {
  password: string;
  /** Where it came from, for messages (never the password itself). */
  source: string;
  /** Things the user should know (e.g. a password file readable by others). */
  warnings: string[];
}

/** The password from an environment variable, or null when unset or empty. */
export function passwordFromEnv(env: NodeJS.ProcessEnv, name = DEFAULT_PASSWORD_ENV): PasswordResult | null {
  const value = env[name];
  if (value === undefined || value === '') return null;
  return { password: value, source: `environment variable ${name}`, warnings: [] };
}

/** The first line of a file that must exist; warns when group or others may read it. */
export async function passwordFromFile(path: string): Promise<PasswordResult> {
  const shown = sanitizeText(path, 200);
  let text: string;
  let mode: number;
  try {
    mode = (await stat(path)).mode;
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = error && typeof error === 'object' && 'code' in error ? String(error.code) : 'error';
    throw new UsageError(`Cannot read the password file '${shown}' (${code}).`, 'Check the path given to --password-file.', { cause: error });
  }
  const password = text.split(/\r?\n/, 1)[0] ?? '';
  if (password === '') throw new UsageError(`The password file '${shown}' is empty (lantop reads its first line).`, 'Write the password on the first line of the file.');
  const warnings: string[] = [];
  if ((mode & 0o077) !== 0 && process.platform !== 'win32') {
    warnings.push(`The password file '${shown}' can be read by other users (mode ${(mode & 0o777).toString(8)}); run: chmod 600 '${shown}'`);
  }
  return { password, source: `file ${shown}`, warnings };
}

export interface PromptStreams {
  input: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown; isRaw?: boolean };
  output: NodeJS.WritableStream;
}

/**
 * Asks for the password on a terminal without echoing it. Enter finishes, Backspace edits,
 * Ctrl-C / Ctrl-D on an empty line cancel. Refuses when stdin is not a terminal.
 */
export function promptPassword(streams: PromptStreams, question = 'Router password: '): Promise<PasswordResult> {
  const { input, output } = streams;
  if (!input.isTTY || typeof input.setRawMode !== 'function') {
    return Promise.reject(
      new UsageError('No password given and stdin is not a terminal to ask for one.', `Set ${DEFAULT_PASSWORD_ENV} (or --password-env VAR) or pass --password-file PATH.`),
    );
  }
  const setRawMode = input.setRawMode.bind(input);
  return new Promise((resolve, reject) => {
    const wasRaw = input.isRaw ?? false;
    let typed = '';
    const finish = (error: Error | null) => {
      input.removeListener('data', onData);
      setRawMode(wasRaw);
      input.pause();
      output.write('\n');
      if (error) reject(error);
      else resolve({ password: typed, source: 'the terminal prompt', warnings: [] });
    };
    const onData = (chunk: Buffer | string) => {
      for (const char of chunk.toString()) {
        if (char === '\r' || char === '\n') return finish(null);
        if (char === '\u0003' || (char === '\u0004' && typed === '')) {
          return finish(new UsageError('Password prompt cancelled.'));
        }
        if (char === '\u007f' || char === '\b') typed = typed.slice(0, -1);
        else if (char === '\u0015') typed = '';
        else if (char >= ' ') typed += char;
      }
    };
    output.write(question);
    setRawMode(true);
    input.on('data', onData);
    input.resume();
  });
}

export interface ResolvePasswordOptions {
  env: NodeJS.ProcessEnv;
  /** Name of the environment variable; default LANTOP_PASSWORD. */
  passwordEnv?: string;
  passwordFile?: string | null;
  /** A password saved in the profile (obfuscated by the config store), used after env and file. */
  savedPassword?: string | null;
  /** For the hidden prompt; omit to never prompt. */
  prompt?: PromptStreams;
}

/** --password-file, then the environment variable, then a saved password, then the prompt. */
export async function resolvePassword(options: ResolvePasswordOptions): Promise<PasswordResult> {
  if (options.passwordFile) return passwordFromFile(options.passwordFile);
  const fromEnv = passwordFromEnv(options.env, options.passwordEnv ?? DEFAULT_PASSWORD_ENV);
  if (fromEnv) return fromEnv;
  if (options.savedPassword) return { password: options.savedPassword, source: 'the saved profile', warnings: [] };
  if (options.prompt) return promptPassword(options.prompt);
  throw new UsageError(
    'No router password given.',
    `Set ${options.passwordEnv ?? DEFAULT_PASSWORD_ENV}, pass --password-file PATH, or run in a terminal to be asked.`,
  );
}

let hasWarnedAboutTelnet = false;

/** Calls warn with TELNET_CLEARTEXT_WARNING the first time per process; later calls do nothing. */
export function warnTelnetCleartextOnce(warn: (text: string) => void): void {
  if (hasWarnedAboutTelnet) return;
  hasWarnedAboutTelnet = true;
  warn(TELNET_CLEARTEXT_WARNING);
}
