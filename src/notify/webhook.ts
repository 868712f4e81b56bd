// The webhook channel: one HTTP(S) POST per event (Node 20's fetch), within a timeout. The body
// follows the configured format: `json` (the documented body, domain/alert-event.ts), `slack`
// ({"text": …}: Slack, Mattermost, Discord's /slack endpoint, Rocket.Chat), `ntfy` (plain text with
// Title/Priority/Tags headers, https://docs.ntfy.sh/publish/) and `gotify` ({title, message,
// priority}, https://gotify.net/docs/pushmsg). Home Assistant's webhook trigger takes `json`.
import { alertJson, alertText, alertTitle, type AlertEvent } from '../domain/alert-event.js';
import { sanitizeText } from '../sanitize.js';
import { ChannelError, maskUrl, withTimeout, type AlertChannel } from './channel.js';

export const WEBHOOK_FORMATS = ['json', 'slack', 'ntfy', 'gotify'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

export function isWebhookFormat(value: string): value is WebhookFormat {
  return (WEBHOOK_FORMATS as readonly string[]).includes(value);
}

export interface WebhookOptions {
  id: string;
  url: string;
  format: WebhookFormat;
  /** Extra headers (e.g. Authorization), sent as given; they win over the format's own. */
  headers?: Readonly<Record<string, string>>;
  timeoutMs?: number;
}

export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;

export interface WebhookRequest {
  headers: Record<string, string>;
  body: string;
}

/** How urgent an event is, 1 (low) … 5 (urgent), as ntfy counts; Gotify's scale is 0–10. */
function urgencyOf(event: AlertEvent): number {
  if (event.kind === 'block') return 4;
  if (event.kind === 'quota-threshold') return (event.percent ?? 0) >= 100 ? 4 : 3;
  return event.kind === 'test' ? 2 : 3;
}

const NTFY_TAGS = { 'quota-threshold': 'warning', block: 'no_entry', unblock: 'white_check_mark', test: 'test_tube' } as const;

/**
 * A header value that survives HTTP: fetch accepts only Latin-1 (a ByteString), so a title with
 * other characters goes as RFC 2047 encoded words, which ntfy decodes. CR/LF never get here:
 * sanitizeText removed them.
 */
export function headerValue(text: string): string {
  const clean = sanitizeText(text, 200);
  if (/^[\x20-\x7e]*$/.test(clean)) return clean;
  return `=?UTF-8?B?${Buffer.from(clean, 'utf8').toString('base64')}?=`;
}

/** The body and headers of one POST: pure, so the tests can check every format without a server. */
export function webhookRequest(event: AlertEvent, format: WebhookFormat): WebhookRequest {
  switch (format) {
    case 'json':
      return { headers: { 'content-type': 'application/json' }, body: JSON.stringify(alertJson(event)) };
    case 'slack':
      return { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: alertText(event) }) };
    case 'gotify':
      return {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ title: alertTitle(event), message: alertText(event), priority: urgencyOf(event) * 2 }),
      };
    case 'ntfy':
      return {
        headers: {
          'content-type': 'text/plain; charset=utf-8',
          title: headerValue(alertTitle(event)),
          priority: String(urgencyOf(event)),
          tags: NTFY_TAGS[event.kind],
        },
        body: alertText(event),
      };
  }
}

/** Parses `--header 'Name: value'`; throws RangeError with the reason. */
export function parseHeader(text: string): [string, string] {
  const colon = text.indexOf(':');
  const name = colon < 0 ? '' : text.slice(0, colon).trim();
  const value = colon < 0 ? '' : text.slice(colon + 1).trim();
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/.test(name)) throw new RangeError(`a header is 'Name: value' with a plain name (got '${sanitizeText(text, 60)}').`);
  if (!/^[\x20-\x7e\t]{0,2000}$/.test(value)) throw new RangeError(`the value of header '${name}' must be printable ASCII on one line.`);
  return [name, value];
}

/** Checks a webhook URL (http or https, no spaces); throws RangeError with the reason. */
export function checkWebhookUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new RangeError(`'${sanitizeText(text, 80)}' is not a URL (e.g. https://ntfy.sh/my-topic).`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new RangeError(`a webhook URL starts with http:// or https:// (got '${sanitizeText(url.protocol, 20)}').`);
  return url.toString();
}

/**
 * POSTs one request to a webhook: the body read and dropped (the connection released), a short
 * excerpt of a refusal in the error, 5xx/429/408 and network failures retryable. Alerts and
 * scheduled reports (report-mail.ts) both send through here.
 */
export async function postWebhook(options: WebhookOptions, request: { headers: Record<string, string>; body: string }, signal: AbortSignal): Promise<void> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS;
  const shownUrl = maskUrl(options.url);
  const limit = withTimeout(signal, timeoutMs);
  try {
    const response = await fetch(options.url, {
      method: 'POST',
      headers: { ...request.headers, 'user-agent': 'lantop', ...options.headers },
      body: request.body,
      signal: limit.signal,
      redirect: 'follow',
    });
    const answer = await response.text().catch(() => '');
    if (!response.ok) {
      const excerpt = sanitizeText(answer.replace(/\s+/g, ' ').trim(), 120);
      const isRetryable = response.status >= 500 || response.status === 429 || response.status === 408;
      throw new ChannelError(`HTTP ${response.status} from ${shownUrl}${excerpt ? `: ${excerpt}` : ''}`, isRetryable);
    }
  } catch (error) {
    if (error instanceof ChannelError) throw error;
    if (limit.isTimedOut()) throw new ChannelError(`no answer from ${shownUrl} within ${timeoutMs} ms`, true, { cause: error });
    if (signal.aborted) throw new ChannelError('cancelled (lantop is closing)', false, { cause: error });
    throw new ChannelError(`cannot POST to ${shownUrl}: ${describeFetchError(error)}`, true, { cause: error });
  } finally {
    limit.done();
  }
}

export function createWebhookChannel(options: WebhookOptions): AlertChannel {
  return {
    id: options.id,
    type: 'webhook',
    label: `webhook ${options.format} ${maskUrl(options.url)}`,
    deliver: (event, signal) => postWebhook(options, webhookRequest(event, options.format), signal),
  };
}

/** undici hides the reason in `cause` (ECONNREFUSED, ENOTFOUND, a TLS error). */
function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } } | null)?.cause;
  const text = cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
  return sanitizeText(String(text), 160);
}
