// How an interactive connection finds its prompt: the telnet login dialogue, the first prompt of
// an SSH shell channel, the prompt after a command that changes it (`sh`, `exit`), and the
// confirmation that a candidate really is the prompt. The prompt learned here is what vendor-CLI
// replies are framed by (reply-framing.ts).
import { authError, connectTimeoutError, notUnderstoodError } from './errors.js';
import type { ShellStream } from './shell-stream.js';
import { LOGIN_FAILED, LOGIN_PROMPT, PASSWORD_PROMPT, isPromptLike, lastLine, renderTerminalLine, renderText, stripEcho, tailLines } from './text-framing.js';

/** Empty lines sent to see the same prompt twice before giving up on a prompt that keeps changing. */
const PROMPT_CONFIRM_ROUNDS = 4;

/** A prompt seen once (still to be confirmed) and the firmware's banner shown before it. */
export interface PromptCandidate {
  candidate: string;
  banner: string;
}

/**
 * Answers the login dialogue (telnet) up to the first prompt. Reports a refused login as soon as
 * the router shows it, including `Login incorrect` and the next `login:` in one TCP write.
 */
export async function answerLogin(
  stream: ShellStream,
  login: { user: string; password: string; protocol: 'telnet' | 'ssh'; timeoutMs: number },
): Promise<PromptCandidate> {
  const { user, password, protocol, timeoutMs } = login;
  const endpoint = stream.endpoint;
  let loginPrompts = 0;
  let hasSentPassword = false;
  let hasSeenFailure = false;
  let banner = '';
  const refused = () => authError(endpoint, user, protocol);
  const candidate = await stream.wait<string>({
    timeoutMs,
    step: () => {
      const text = renderText(stream.text);
      const last = lastLine(text);
      if (hasSentPassword && LOGIN_FAILED.test(text)) hasSeenFailure = true;
      if (LOGIN_PROMPT.test(last)) {
        // Asked for the user again: the previous attempt was refused.
        if (hasSentPassword || loginPrompts >= 2) throw refused();
        if (loginPrompts === 0) banner = bannerOf(text);
        loginPrompts += 1;
        stream.send(user);
        return undefined;
      }
      if (PASSWORD_PROMPT.test(last)) {
        if (hasSentPassword) throw refused();
        if (loginPrompts === 0) banner = bannerOf(text);
        hasSentPassword = true;
        stream.send(password, true);
        return undefined;
      }
      return isPromptLike(last) ? last : undefined;
    },
    onTimeout: () =>
      stream.hasReceived
        ? notUnderstoodError(endpoint, `showed no login or shell prompt within ${timeoutMs / 1000} s`, tailLines(renderText(stream.text)))
        : connectTimeoutError(endpoint, timeoutMs, 'waiting for the login prompt'),
    // Some login programs hang up right after a wrong password, before their message reaches
    // the socket (BusyBox telnetd -K): a close after the password and before any prompt is a refusal.
    onClose: () => (hasSeenFailure ? refused() : hasSentPassword ? authError(endpoint, user, protocol, 'it hung up after the password') : undefined),
  });
  return { candidate, banner };
}

/** The first prompt when there is no login dialogue (SSH shell channel): an empty line, then wait. */
export async function awaitFirstPrompt(stream: ShellStream, settleMs: number, timeoutMs: number): Promise<PromptCandidate> {
  stream.send('');
  const candidate = await stream.wait<string>({
    timeoutMs,
    settleMs,
    step: () => {
      const last = renderTerminalLine(lastLine(stream.text));
      return isPromptLike(last) ? last : undefined;
    },
    onTimeout: () => notUnderstoodError(stream.endpoint, `showed no prompt within ${timeoutMs / 1000} s`, tailLines(renderText(stream.text))),
  });
  return { candidate, banner: bannerOf(renderText(stream.text)) };
}

/**
 * Sends a command that changes the prompt (`sh`, `exit` from a shell or sub-menu) and returns the
 * prompt candidate after it. A password prompt on the way is answered once when a password is given.
 */
export function promptAfter(stream: ShellStream, command: string, settleMs: number, timeoutMs: number, password?: string): Promise<string> {
  let hasSentPassword = false;
  stream.send(command);
  return stream.wait<string>({
    timeoutMs,
    settleMs,
    step: () => {
      const body = stripEcho(renderText(stream.text), command);
      const last = lastLine(body);
      if (password !== undefined && !hasSentPassword && PASSWORD_PROMPT.test(last)) {
        hasSentPassword = true;
        stream.send(password, true);
        return undefined;
      }
      return body.length > 0 && isPromptLike(last) ? last : undefined;
    },
    onTimeout: () => notUnderstoodError(stream.endpoint, `showed no prompt after '${command}'`, tailLines(renderText(stream.text))),
  });
}

/**
 * Confirms a prompt candidate by sending an empty line and seeing the same prompt again; a banner
 * line that merely ends in `>` does not survive this. Returns the prompt as rendered.
 */
export async function confirmPrompt(stream: ShellStream, candidate: string, settleMs: number, timeoutMs: number): Promise<string> {
  let current = candidate;
  for (let round = 0; round < PROMPT_CONFIRM_ROUNDS; round += 1) {
    stream.send('');
    const next = await stream.wait<string>({
      timeoutMs,
      settleMs,
      step: () => {
        const last = renderTerminalLine(lastLine(stream.text));
        return isPromptLike(last) ? last : undefined;
      },
      onTimeout: () => notUnderstoodError(stream.endpoint, 'did not show its prompt again after an empty line', tailLines(renderText(stream.text))),
    });
    if (next.trimEnd() === current.trimEnd()) return next;
    current = next;
  }
  const error = notUnderstoodError(stream.endpoint, 'kept changing its prompt', tailLines(renderText(stream.text)));
  stream.destroy();
  throw error;
}

/** What came before the login prompt, without that prompt line: the firmware's banner. */
function bannerOf(text: string): string {
  const end = text.lastIndexOf('\n');
  return (end < 0 ? '' : text.slice(0, end)).trim().slice(0, 500);
}
