// The email channel: one message per event over SMTP with nodemailer. smtp://host[:port] speaks
// plain SMTP and upgrades with STARTTLS when the server offers it (`requireTLS`: refuse to send
// without it); smtps://host[:port] is TLS from the first byte. Default ports: 587 and 465
// (RFC 8314). The password never comes from argv: the caller resolves it (env or saved).
import nodemailer from 'nodemailer';
import { alertJson, alertText, alertTitle, type AlertEvent } from '../domain/alert-event.js';
import { sanitizeText } from '../sanitize.js';
import { ChannelError, withTimeout, type AlertChannel } from './channel.js';

export interface EmailOptions {
  id: string;
  /** smtp://host[:port] or smtps://host[:port]; no user or password in it. */
  smtpUrl: string;
  from: string;
  to: readonly string[];
  user?: string | null;
  password?: string | null;
  /** smtp:// only: fail unless STARTTLS succeeds. */
  requireTLS?: boolean;
  /** PEM certificates to trust besides the system's (a self-signed server). */
  ca?: string | null;
  timeoutMs?: number;
}

export const DEFAULT_EMAIL_TIMEOUT_MS = 30_000;

export interface SmtpEndpoint {
  host: string;
  port: number;
  isImplicitTls: boolean;
}

/** Reads smtp:// or smtps:// URLs; throws RangeError with the reason. */
export function parseSmtpUrl(text: string): SmtpEndpoint {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new RangeError(`'${sanitizeText(text, 80)}' is not an SMTP URL (e.g. smtp://mail.example.net:587 or smtps://mail.example.net).`);
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') throw new RangeError(`an SMTP URL starts with smtp:// (STARTTLS) or smtps:// (TLS), not '${sanitizeText(url.protocol, 20)}'.`);
  if (url.username || url.password) throw new RangeError('the SMTP URL must not carry a user or password: pass --smtp-user, and the password in LANTOP_SMTP_PASSWORD or saved with --save-password.');
  if (url.pathname !== '' && url.pathname !== '/') throw new RangeError('an SMTP URL has no path: smtp://host[:port].');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (host === '') throw new RangeError('the SMTP URL has no host.');
  const isImplicitTls = url.protocol === 'smtps:';
  return { host, port: url.port ? Number(url.port) : isImplicitTls ? 465 : 587, isImplicitTls };
}

const ADDRESS = /^[^\s<>"',;@]{1,64}@[A-Za-z0-9.-]{1,253}$/;

/** A plain address (user@host), no display name; throws RangeError. */
export function checkEmailAddress(text: string): string {
  const address = text.trim();
  if (!ADDRESS.test(address)) throw new RangeError(`'${sanitizeText(text, 80)}' is not an email address (user@example.net).`);
  return address;
}

/** The message: subject is the title (sanitised, one line), the text the line and the JSON body. */
export function emailMessage(event: AlertEvent): { subject: string; text: string } {
  const body = alertJson(event);
  return {
    subject: alertTitle(event),
    text: `${alertText(event)}\n\n-- \nThe same alert as JSON (docs/alerts.md):\n${JSON.stringify(body, null, 2)}\n`,
  };
}

export function createEmailChannel(options: EmailOptions): AlertChannel {
  const { where } = emailEndpoint(options);
  return {
    id: options.id,
    type: 'email',
    label: `email ${where} → ${options.to.join(', ')}`,
    deliver: (event, signal) => sendEmail(options, emailMessage(event), signal),
  };
}

/** What one mail carries (the alert's text, or a scheduled report's text, HTML and attachment). */
export interface MailContent {
  subject: string;
  text: string;
  html?: string;
  attachments?: Array<{ filename: string; content: string; contentType: string }>;
}

/** The server and how it is shown ("smtp://mail.example.net:587"); throws RangeError on a bad URL. */
export function emailEndpoint(options: Pick<EmailOptions, 'smtpUrl'>): { endpoint: SmtpEndpoint; where: string } {
  const endpoint = parseSmtpUrl(options.smtpUrl);
  return { endpoint, where: `${endpoint.isImplicitTls ? 'smtps' : 'smtp'}://${endpoint.host}:${endpoint.port}` };
}

/** Sends one mail once, within the timeout; throws a ChannelError saying why it did not go. */
export async function sendEmail(options: EmailOptions, mail: MailContent, signal: AbortSignal): Promise<void> {
  const { endpoint, where } = emailEndpoint(options);
  const timeoutMs = options.timeoutMs ?? DEFAULT_EMAIL_TIMEOUT_MS;
  if (options.user && !options.password) throw new ChannelError(`no SMTP password for ${options.user}: set LANTOP_SMTP_PASSWORD or save it (lantop alert add email … --save-password)`, false);
  const transport = nodemailer.createTransport({
    host: endpoint.host,
    port: endpoint.port,
    secure: endpoint.isImplicitTls,
    requireTLS: options.requireTLS === true,
    ...(options.user ? { auth: { user: options.user, pass: options.password ?? '' } } : {}),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    // SNI takes names only (RFC 6066); an address as servername makes Node warn.
    tls: { ...(isAddress(endpoint.host) ? {} : { servername: endpoint.host }), ...(options.ca ? { ca: options.ca } : {}) },
  });
  const limit = withTimeout(signal, timeoutMs);
  const onAbort = () => transport.close();
  limit.signal.addEventListener('abort', onAbort, { once: true });
  try {
    const sending = transport.sendMail({ from: options.from, to: [...options.to], ...mail });
    const aborted = new Promise<never>((_, reject) => limit.signal.addEventListener('abort', () => reject(limit.signal.reason), { once: true }));
    await Promise.race([sending, aborted]);
  } catch (error) {
    if (limit.isTimedOut()) throw new ChannelError(`no answer from ${where} within ${timeoutMs} ms`, true, { cause: error });
    if (signal.aborted) throw new ChannelError('cancelled (lantop is closing)', false, { cause: error });
    throw describeSmtpError(error, where);
  } finally {
    limit.signal.removeEventListener('abort', onAbort);
    limit.done();
    transport.close();
  }
}

function isAddress(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}

/** nodemailer's errors carry a code (EAUTH, ECONNECTION, ETLS…) and the server's answer. */
function describeSmtpError(error: unknown, where: string): ChannelError {
  const e = (error ?? {}) as { code?: string; response?: string; responseCode?: number; message?: string };
  const said = sanitizeText(String(e.response ?? e.message ?? error), 160);
  if (e.code === 'ETLS') return new ChannelError(`${where}: STARTTLS did not work: ${said}`, true, { cause: error });
  if (e.code === 'EAUTH') return new ChannelError(`${where} refused the login: ${said}`, false, { cause: error });
  const isPermanent = typeof e.responseCode === 'number' && e.responseCode >= 500 && e.responseCode < 600;
  return new ChannelError(`cannot send through ${where}${e.code ? ` (${sanitizeText(e.code, 20)})` : ''}: ${said}`, !isPermanent, { cause: error });
}
