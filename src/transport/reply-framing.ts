// When a command's reply is complete, and what of it is the reply (issue 4): only when the prompt
// is seen at the very end of what arrived — in a POSIX shell after a sentinel line we asked for
// (`cmd; echo "__LANTOP""_END_…"`, the quotes keep the echoed command from matching), in a vendor
// CLI after a newline plus the exact prompt learned at login and a short quiet period. Echo, a
// stray earlier prompt and pagers are removed.
import { randomBytes } from 'node:crypto';
import { commandTimeoutError, connectionLostError } from './errors.js';
import type { ShellStream } from './shell-stream.js';
import { isPromptLike, renderTerminalLine, renderText, stripEcho } from './text-framing.js';

/** A shell reply and the prompt after it (the shell may change its prompt, e.g. after `cd`). */
export interface ShellReply {
  output: string;
  prompt: string;
}

/**
 * Runs one command in a POSIX shell, framed by a sentinel that carries a fresh nonce. onLines gets
 * the reply's complete lines while it arrives (see ExecOptions.onLines).
 */
export async function runFramedBySentinel(stream: ShellStream, command: string, timeoutMs: number, onLines?: (lines: string) => void): Promise<ShellReply> {
  return (await runSentinelFramed(stream, command, null, timeoutMs, onLines))!;
}

/**
 * runFramedBySentinel where a shell is expected but not certain (right after a known shell entry):
 * null when `otherPrompt` (the prompt seen before the command) ends what arrived without the
 * sentinel — a CLI answered. Neither way needs a quiet wait.
 */
export function runFramedBySentinelOrPrompt(stream: ShellStream, command: string, otherPrompt: string, timeoutMs: number): Promise<ShellReply | null> {
  return runSentinelFramed(stream, command, otherPrompt.trimEnd(), timeoutMs);
}

async function runSentinelFramed(stream: ShellStream, command: string, otherPrompt: string | null, timeoutMs: number, onLines?: (lines: string) => void): Promise<ShellReply | null> {
  const nonce = randomBytes(6).toString('hex');
  // Anywhere on a line, not only at its start: output without a final newline (`printf x`, a
  // lease file not ending in one) puts the sentinel right after it. The nonce keeps the echoed
  // command (where the quotes split the word) from matching.
  const sentinel = new RegExp(`__LANTOP_END_${nonce}_(\\d+)__\\n`);
  const line = `${command}; echo "__LANTOP""_END_${nonce}_$?__"`;
  stream.send(line);
  const handOver = onLines ? new LineHandOver(line, onLines) : null;
  // Where the sentinel line starts and ends in the text, once it arrived (the prompt may follow later).
  let sentinelAt = -1;
  let sentinelEnd = -1;
  const framed = await stream.wait<{ body: string; prompt: string } | null>({
    timeoutMs,
    step: () => {
      stream.answerPager();
      if (sentinelAt < 0) {
        // Only the end of the text can hold what ends the reply: no rescan of the whole text per arrival.
        const recent = stream.recent;
        const match = sentinel.exec(recent.text);
        if (!match) {
          handOver?.offer(stream);
          if (otherPrompt === null) return undefined;
          const lastStart = recent.text.lastIndexOf('\n');
          return lastStart >= 0 && renderTerminalLine(recent.text.slice(lastStart + 1)).trimEnd() === otherPrompt ? null : undefined;
        }
        sentinelAt = recent.start + match.index;
        sentinelEnd = sentinelAt + match[0].length;
      }
      const raw = stream.text;
      const rest = raw.slice(sentinelEnd);
      if (rest.includes('\n')) return undefined;
      const prompt = renderTerminalLine(rest);
      if (!isPromptLike(prompt)) return undefined;
      const body = raw.slice(0, sentinelAt);
      return { body: body.endsWith('\n') ? body.slice(0, -1) : body, prompt };
    },
    onTimeout: () => commandTimeoutError(stream.endpoint, command, timeoutMs),
    onClose: () => connectionLostError(stream.endpoint, `while running '${command}'`),
  });
  if (framed === null) return null;
  return { output: cleanReply(framed.body, line, false, framed.prompt), prompt: framed.prompt };
}

/**
 * Hands the reply's complete lines over while it arrives, as far as they are certain to be what
 * cleanReply will return: after an echo that is exactly the sent line, and up to the first line
 * that terminal rendering would change (CR, BS, ESC). The sentinel is never handed over: offered
 * only while it has not arrived, and an incomplete sentinel line is no complete line. The last
 * line handed over may end the reply, whose output has no final '\n'.
 */
class LineHandOver {
  /** Index in the text up to which lines went out; -1: echo not seen yet; -2: stopped. */
  private handedTo = -1;

  constructor(
    private readonly sentLine: string,
    private readonly onLines: (lines: string) => void,
  ) {}

  offer(stream: ShellStream): void {
    if (this.handedTo === -2) return;
    if (this.handedTo === -1) {
      const echoLength = this.sentLine.length + 1;
      if (stream.text.length < echoLength) return;
      // A reply that does not start with the plain echo (none, wrapped, a stray prompt) is left whole to cleanReply.
      if (!stream.text.startsWith(`${this.sentLine}\n`)) {
        this.handedTo = -2;
        return;
      }
      this.handedTo = echoLength;
    }
    const recent = stream.recent;
    const lastNewline = recent.text.lastIndexOf('\n');
    if (lastNewline < 0) return;
    const end = recent.start + lastNewline + 1;
    if (end <= this.handedTo) return;
    const lines = this.handedTo >= recent.start ? recent.text.slice(this.handedTo - recent.start, end - recent.start) : stream.text.slice(this.handedTo, end);
    if (/[\r\b\u001b]/.test(lines)) {
      this.handedTo = -2;
      return;
    }
    this.handedTo = end;
    this.onLines(lines);
  }
}

/** Runs one line in a vendor CLI: the reply ends with a newline plus exactly `prompt`, then quiet. */
export async function runFramedByPrompt(stream: ShellStream, line: string, prompt: string, settleMs: number, timeoutMs: number): Promise<string> {
  stream.send(line);
  const body = await stream.wait<string>({
    timeoutMs,
    settleMs,
    step: () => {
      stream.answerPager();
      const recent = stream.recent;
      const inRecent = recent.text.lastIndexOf('\n');
      // A last line longer than `recent` is no prompt (≤ 160 characters).
      if (inRecent < 0 && recent.start > 0) return undefined;
      const last = renderTerminalLine(recent.text.slice(inRecent + 1));
      if (last.trimEnd() !== prompt.trimEnd()) return undefined;
      return stream.text.slice(0, recent.start + inRecent + 1);
    },
    onTimeout: () => commandTimeoutError(stream.endpoint, line, timeoutMs),
    onClose: () => connectionLostError(stream.endpoint, `while running '${line}'`),
  });
  return cleanReply(body, line, true, prompt);
}

/** Echo, a stray earlier prompt, CRs and the final line end removed; lines joined with '\n'. */
function cleanReply(body: string, sentLine: string, endsWithNewline: boolean, promptText: string): string {
  let text = renderText(body);
  if (endsWithNewline && text.endsWith('\n')) text = text.slice(0, -1);
  const withoutEcho = stripEcho(text, sentLine);
  if (withoutEcho !== text) return withoutEcho;
  const prompt = promptText.trimEnd();
  if (prompt && text.startsWith(prompt)) {
    const afterPrompt = stripEcho(text.slice(prompt.length), sentLine);
    if (afterPrompt !== text.slice(prompt.length)) return afterPrompt;
  }
  // Nothing echoed; an empty echo-less reply may still carry the newline of the Enter key.
  return text === '\n' ? '' : text;
}
