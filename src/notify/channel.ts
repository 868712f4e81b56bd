// The seam every alert channel implements (issue 16): deliver one event or throw a ChannelError
// with a reason in words. The dispatcher (dispatcher.ts) owns queues, retries and reporting; a
// channel only tries once, within its own timeout, and stops early when the signal aborts.
import type { AlertEvent } from '../domain/alert-event.js';

export type ChannelType = 'webhook' | 'email' | 'command';

export interface AlertChannel {
  /** The configured id (`lantop alert list`), e.g. "2". */
  readonly id: string;
  readonly type: ChannelType;
  /** For people, secrets masked: "webhook ntfy https://ntfy.sh/…". */
  readonly label: string;
  deliver(event: AlertEvent, signal: AbortSignal): Promise<void>;
}

/** A delivery that did not work; the message says why in words (already sanitised). */
export class ChannelError extends Error {
  /** Worth trying again (timeouts, 5xx, refused connections); false for a 4xx or a bad config. */
  readonly isRetryable: boolean;
  constructor(message: string, isRetryable = true, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ChannelError';
    this.isRetryable = isRetryable;
  }
}

/** An AbortSignal that fires on the caller's abort or after timeoutMs, and its cleanup. */
export function withTimeout(signal: AbortSignal, timeoutMs: number): { signal: AbortSignal; isTimedOut: () => boolean; done: () => void } {
  const controller = new AbortController();
  let isTimedOut = false;
  const timer = setTimeout(() => {
    isTimedOut = true;
    controller.abort(new Error(`timed out after ${timeoutMs} ms`));
  }, timeoutMs);
  timer.unref?.();
  const onAbort = () => controller.abort(signal.reason);
  if (signal.aborted) controller.abort(signal.reason);
  else signal.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    isTimedOut: () => isTimedOut,
    done: () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    },
  };
}

const SECRET_NAME = /auth|token|key|secret|pass|cookie|session|signature|sig\b/i;

/** Is this header or query parameter name one whose value is a secret? */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/**
 * A URL with its secrets masked, for lists and messages: the password of user:pass@, query values
 * named like secrets (token=…), and long path segments after the first (Slack and Home Assistant
 * put the secret in the path) cut to their first characters.
 */
export function maskUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return '(invalid URL)';
  }
  if (url.password) url.password = '***';
  for (const [name] of [...url.searchParams]) if (isSecretName(name)) url.searchParams.set(name, '***');
  const segments = url.pathname.split('/');
  url.pathname = segments.map((segment, i) => (i > 1 && segment.length >= 16 ? `${segment.slice(0, 4)}…` : segment)).join('/');
  try {
    return decodeURI(url.toString());
  } catch {
    return url.toString();
  }
}
