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

/** Runs one command in a POSIX shell, framed by a sentinel that carries a fresh nonce. */
export async function runFramedBySentinel(stream: ShellStream, command: string, timeoutMs: number): Promise<ShellReply> {
  const nonce = randomBytes(6).toString('hex');
  // Anywhere on a line, not only at its start: output without a final newline (`printf x`, a
  // lease file not ending in one) puts the sentinel right after it. The nonce keeps the echoed
  // command (where the quotes split the word) from matching.
  const sentinel = new RegExp(`__LANTOP_END_${nonce}_(\\d+)__\\n`);
  const line = `${command}; echo "__LANTOP""_END_${nonce}_$?__"`;
  stream.send(line);
  const framed = await stream.wait<{ body: string; prompt: string }>({
    timeoutMs,
    step: () => {
      stream.answerPager();
      const raw = stream.text;
      const match = sentinel.exec(raw);
      if (!match) return undefined;
      const rest = raw.slice(match.index + match[0].length);
      if (rest.includes('\n')) return undefined;
      const prompt = renderTerminalLine(rest);
      if (!isPromptLike(prompt)) return undefined;
      const body = raw.slice(0, match.index);
      return { body: body.endsWith('\n') ? body.slice(0, -1) : body, prompt };
    },
    onTimeout: () => commandTimeoutError(stream.endpoint, command, timeoutMs),
    onClose: () => connectionLostError(stream.endpoint, `while running '${command}'`),
  });
  return { output: cleanReply(framed.body, line, false, framed.prompt), prompt: framed.prompt };
}

/** Runs one line in a vendor CLI: the reply ends with a newline plus exactly `prompt`, then quiet. */
export async function runFramedByPrompt(stream: ShellStream, line: string, prompt: string, settleMs: number, timeoutMs: number): Promise<string> {
  stream.send(line);
  const body = await stream.wait<string>({
    timeoutMs,
    settleMs,
    step: () => {
      stream.answerPager();
      const raw = stream.text;
      const lineStart = raw.lastIndexOf('\n') + 1;
      const last = renderTerminalLine(raw.slice(lineStart));
      if (last.trimEnd() !== prompt.trimEnd()) return undefined;
      return raw.slice(0, lineStart);
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
