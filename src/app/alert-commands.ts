// `lantop alert …` (issue 16): add, list and remove alert channels, and send a test event through
// each. The channels are kept in alerts.json (config/alert-channels.ts); docs/alerts.md has the
// details. An SMTP password comes from LANTOP_SMTP_PASSWORD or a hidden prompt, never argv.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Action, CommandContext } from './context.js';
import { EXIT, UsageError } from '../errors.js';
import { sanitizeText } from '../sanitize.js';
import { AlertChannelStore, type ChannelInput } from '../config/alert-channels.js';
import { obfuscatePassword } from '../config/profiles.js';
import { promptPassword } from '../transport/credentials.js';
import { testAlertEvent } from '../domain/alert-event.js';
import { checkWebhookUrl, isWebhookFormat, parseHeader, WEBHOOK_FORMATS } from '../notify/webhook.js';
import { checkEmailAddress, parseSmtpUrl } from '../notify/email.js';
import { splitCommand } from '../notify/command.js';
import { testChannels } from '../notify/dispatcher.js';
import { channelOf, describeStored, maskedChannel, SMTP_PASSWORD_ENV, type ChannelTimeouts } from './alerts.js';

/** A RangeError from a checker becomes a usage error about the flag that carried the value. */
function checked<T>(what: string, check: () => T, nextStep?: string): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof RangeError) throw new UsageError(`${what}: ${error.message}`, nextStep);
    throw error;
  }
}

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : typeof value === 'string' ? [value] : []);
const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

function save(ctx: CommandContext, channel: ChannelInput): void {
  const store = new AlertChannelStore(ctx.env);
  const stored = store.add(channel);
  ctx.stdout.write(`added alert channel ${stored.id}: ${describeStored(stored)}\n`);
  ctx.stderr.write(`Saved in ${store.path}. Try it: lantop alert test\n`);
}

/** The SMTP password to save: LANTOP_SMTP_PASSWORD, else a hidden prompt on a terminal. */
async function passwordToSave(ctx: CommandContext, user: string): Promise<string> {
  const fromEnv = ctx.env[SMTP_PASSWORD_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (!(ctx.stdin as { isTTY?: boolean }).isTTY) {
    throw new UsageError(`--save-password: no password in ${SMTP_PASSWORD_ENV} and stdin is not a terminal to ask for one.`, `Set ${SMTP_PASSWORD_ENV} for this command, or run it in a terminal.`);
  }
  const result = await promptPassword({ input: ctx.stdin, output: ctx.stderr }, `SMTP password for ${sanitizeText(user, 64)}: `);
  if (result.password === '') throw new UsageError('The SMTP password is empty.');
  return result.password;
}

/** `alert add command` takes one string to split ('notify-send "lantop alert"') or the words as given. */
export function commandArgv(words: readonly string[]): string[] {
  if (words.length === 0) throw new UsageError('alert add command: which command?', "Give the program and its arguments, e.g. lantop alert add command -- /usr/local/bin/on-alert --quiet");
  const argv = words.length === 1 ? checked('alert add command', () => splitCommand(words[0]!)) : [...words];
  if (argv.length === 0 || argv[0] === '') throw new UsageError('alert add command: the command is empty.');
  return argv;
}

function parseId(text: string | undefined): number {
  const id = Number(text);
  if (text === undefined || !/^\d{1,9}$/.test(text) || id < 1) throw new UsageError(`'${sanitizeText(String(text), 20)}' is not a channel id.`, 'See the ids with: lantop alert list');
  return id;
}

export interface AlertTestOptions {
  timeouts?: ChannelTimeouts;
}

export const alertActions = {
  async alertAddWebhook(ctx, options, [url]) {
    const checkedUrl = checked('alert add webhook', () => checkWebhookUrl(String(url)));
    const format = text(options.format) ?? 'json';
    if (!isWebhookFormat(format)) throw new UsageError(`--format must be ${WEBHOOK_FORMATS.join(', ')}, not '${sanitizeText(format, 20)}'.`);
    const headers: Record<string, string> = {};
    for (const header of strings(options.header)) {
      const [name, value] = checked('--header', () => parseHeader(header), "Write it as --header 'Authorization: Bearer TOKEN'.");
      headers[name] = value;
    }
    save(ctx, { type: 'webhook', url: checkedUrl, format, headers });
  },

  async alertAddEmail(ctx, options) {
    const smtp = text(options.smtp);
    if (smtp === undefined) throw new UsageError('alert add email needs --smtp URL.', 'e.g. --smtp smtp://mail.example.net:587 (STARTTLS) or smtps://mail.example.net (TLS).');
    const endpoint = checked('--smtp', () => parseSmtpUrl(smtp));
    const from = checked('--from', () => checkEmailAddress(text(options.from) ?? ''), 'Give the sender with --from ADDRESS.');
    const to = strings(options.to).flatMap((t) => t.split(',')).filter((t) => t.trim() !== '');
    if (to.length === 0) throw new UsageError('alert add email needs --to ADDRESS (repeat it, or separate addresses with commas).');
    const recipients = to.map((t) => checked('--to', () => checkEmailAddress(t)));
    const user = text(options.smtpUser);
    if (user !== undefined && !/^[\x21-\x7e]{1,256}$/.test(user)) throw new UsageError('--smtp-user: one word of printable characters.');
    if (options.requireTls === true && endpoint.isImplicitTls) throw new UsageError('--require-tls is for smtp:// (STARTTLS); smtps:// is TLS from the start already.');
    const caFile = text(options.caFile);
    if (caFile !== undefined && !existsSync(caFile)) throw new UsageError(`--ca-file: no file '${sanitizeText(caFile, 120)}'.`);
    const isSaving = options.savePassword === true;
    if (isSaving && user === undefined) throw new UsageError('--save-password needs --smtp-user: a password without a user name is never sent.');
    const savedPassword = isSaving ? obfuscatePassword(await passwordToSave(ctx, user!)) : undefined;
    save(ctx, {
      type: 'email',
      smtp: `${endpoint.isImplicitTls ? 'smtps' : 'smtp'}://${endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host}:${endpoint.port}`,
      from,
      to: recipients,
      ...(user !== undefined ? { user } : {}),
      ...(savedPassword !== undefined ? { savedPassword } : {}),
      ...(options.requireTls === true ? { requireTLS: true } : {}),
      ...(caFile !== undefined ? { caFile: resolve(caFile) } : {}),
    });
    if (savedPassword !== undefined) ctx.stderr.write('The SMTP password is obfuscated, NOT encrypted: anyone who can read that file can recover it.\n');
    else if (user !== undefined) ctx.stderr.write(`note: the SMTP password is read from ${SMTP_PASSWORD_ENV} when an alert is sent (or save it: --save-password).\n`);
  },

  async alertAddCommand(ctx, _options, words) {
    save(ctx, { type: 'command', argv: commandArgv(words) });
  },

  async alertList(ctx, options) {
    const channels = new AlertChannelStore(ctx.env).list();
    if (options.json === true) {
      ctx.stdout.write(JSON.stringify(channels.map(maskedChannel), null, 2) + '\n');
      return;
    }
    if (channels.length === 0) {
      ctx.stderr.write('No alert channels. Add one: lantop alert add webhook URL | email --smtp URL --from A --to B | command CMD\n');
      return;
    }
    for (const channel of channels) ctx.stdout.write(`${String(channel.id).padStart(3)}  ${describeStored(channel)}\n`);
  },

  async alertRemove(ctx, _options, [id]) {
    const n = parseId(id);
    if (!new AlertChannelStore(ctx.env).remove(n)) throw new UsageError(`No alert channel ${n}.`, 'See the ids with: lantop alert list');
    ctx.stdout.write(`removed alert channel ${n}\n`);
  },

  async alertTest(ctx) {
    return runAlertTest(ctx);
  },
} satisfies Record<string, Action>;

/** Sends the test event through every channel once and prints each result; 0 only if all worked. */
export async function runAlertTest(ctx: Pick<CommandContext, 'env' | 'stdout' | 'stderr'>, options: AlertTestOptions = {}): Promise<number> {
  const stored = new AlertChannelStore(ctx.env).list();
  if (stored.length === 0) throw new UsageError('No alert channels to test.', 'Add one first: lantop alert add webhook URL (see docs/alerts.md).');
  const channels = stored.map((s) => channelOf(s, ctx.env, options.timeouts));
  ctx.stderr.write(`Sending a test alert through ${channels.length} channel${channels.length === 1 ? '' : 's'}…\n`);
  const results = await testChannels(channels, testAlertEvent(Date.now()));
  for (const result of results) {
    const head = `${result.isOk ? 'ok    ' : 'failed'}  ${result.channel.id.padStart(3)}  ${result.channel.label}`;
    ctx.stdout.write(result.isOk ? `${head} (${result.ms} ms)\n` : `${head}: ${result.reason}\n`);
  }
  const failed = results.filter((r) => !r.isOk).length;
  if (failed > 0) ctx.stderr.write(`${failed} of ${results.length} channel${results.length === 1 ? '' : 's'} failed.\n`);
  return failed === 0 ? EXIT.ok : EXIT.unreachable;
}
