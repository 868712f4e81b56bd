// The command channel: runs the configured program without a shell, the event's JSON body on its
// stdin and a few LANTOP_ALERT_* variables in its environment; never any event text in argv.
// A non-zero exit, a signal or no exit within the timeout (then it is killed) is a failure.
import { spawn } from 'node:child_process';
import { alertJson, alertText, alertTitle, type AlertEvent } from '../domain/alert-event.js';
import { sanitizeText } from '../sanitize.js';
import { ChannelError, withTimeout, type AlertChannel } from './channel.js';

export interface CommandOptions {
  id: string;
  /** Program and arguments, as splitCommand made them. */
  argv: readonly string[];
  timeoutMs?: number;
  /** The environment the program starts from (default: lantop's own). */
  env?: NodeJS.ProcessEnv;
}

export const DEFAULT_COMMAND_TIMEOUT_MS = 10_000;

/**
 * Words of a command line, like a POSIX shell would split them, without any expansion: spaces
 * separate, '…' keeps everything literal, "…" keeps everything but \" and \\, a backslash outside
 * quotes escapes the next character. No $, no globs, no pipes: those characters are plain text.
 * Throws RangeError on an open quote.
 */
export function splitCommand(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let hasWord = false;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote === "'") {
      if (c === "'") quote = null;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === '\\' && (text[i + 1] === '"' || text[i + 1] === '\\')) word += text[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      hasWord = true;
    } else if (c === '\\' && i + 1 < text.length) {
      word += text[++i];
      hasWord = true;
    } else if (c === ' ' || c === '\t' || c === '\n') {
      if (hasWord || word !== '') words.push(word);
      word = '';
      hasWord = false;
    } else {
      word += c;
      hasWord = true;
    }
  }
  if (quote !== null) throw new RangeError(`the command has an unclosed ${quote === "'" ? 'single' : 'double'} quote.`);
  if (hasWord || word !== '') words.push(word);
  return words;
}

/** The variables a command gets besides its stdin (all sanitised, one line each). */
export function commandEnv(event: AlertEvent): Record<string, string> {
  const body = alertJson(event);
  return {
    LANTOP_ALERT_KIND: event.kind,
    LANTOP_ALERT_TITLE: alertTitle(event),
    LANTOP_ALERT_TEXT: alertText(event),
    LANTOP_ALERT_SUBJECT: body.subject.label,
    LANTOP_ALERT_ROUTER: body.router,
    LANTOP_ALERT_PERCENT: event.percent === null ? '' : String(event.percent),
    LANTOP_ALERT_AT: body.at.iso,
  };
}

export function createCommandChannel(options: CommandOptions): AlertChannel {
  const [program, ...args] = options.argv;
  if (program === undefined || program === '') throw new RangeError('the command is empty.');
  const timeoutMs = options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const shown = sanitizeText(options.argv.join(' '), 120);
  return {
    id: options.id,
    type: 'command',
    label: `command ${shown}`,
    deliver(event, signal) {
      const limit = withTimeout(signal, timeoutMs);
      return new Promise<void>((resolve, reject) => {
        let stderr = '';
        const child = spawn(program, args, {
          shell: false,
          stdio: ['pipe', 'ignore', 'pipe'],
          env: { ...(options.env ?? process.env), ...commandEnv(event) },
          signal: limit.signal,
          killSignal: 'SIGKILL',
        });
        child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
          if (stderr.length < 4000) stderr += chunk;
        });
        // A program that does not read its stdin makes the write fail with EPIPE: not our failure.
        child.stdin?.on('error', () => undefined);
        child.stdin?.end(JSON.stringify(alertJson(event)) + '\n');
        let isSettled = false;
        const settle = (error: ChannelError | null) => {
          if (isSettled) return;
          isSettled = true;
          limit.done();
          if (error) reject(error);
          else resolve();
        };
        child.on('error', (error: NodeJS.ErrnoException) => {
          if (limit.isTimedOut()) return settle(new ChannelError(`${shown}: killed after ${timeoutMs} ms without finishing`));
          if (signal.aborted) return settle(new ChannelError('cancelled (lantop is closing)', false));
          const isMissing = error.code === 'ENOENT' || error.code === 'EACCES';
          settle(new ChannelError(`cannot run ${shown}: ${sanitizeText(error.code ?? error.message, 60)}`, !isMissing, { cause: error }));
        });
        child.on('close', (code, killedBy) => {
          if (limit.isTimedOut()) return settle(new ChannelError(`${shown}: killed after ${timeoutMs} ms without finishing`));
          if (code === 0) return settle(null);
          const said = sanitizeText(stderr.replace(/\s+/g, ' ').trim(), 160);
          const how = code === null ? `ended by ${killedBy ?? 'a signal'}` : `exited with ${code}`;
          settle(new ChannelError(`${shown} ${how}${said ? `: ${said}` : ''}`));
        });
      });
    },
  };
}
