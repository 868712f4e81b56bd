// The alert channels the user configured (config/alert-channels.ts) made into working channels
// (notify/), and the dispatcher the poll loop sends events to. The SMTP password: the
// LANTOP_SMTP_PASSWORD variable, else the one saved with the channel; never argv.
import { readFileSync } from 'node:fs';
import { AlertChannelStore, type StoredChannel, type StoredEmail } from '../config/alert-channels.js';
import { revealPassword } from '../config/profiles.js';
import { sanitizeText } from '../sanitize.js';
import { ChannelError, isSecretName, maskUrl, type AlertChannel } from '../notify/channel.js';
import { AlertDispatcher, type DeliveryReport, type Timers } from '../notify/dispatcher.js';
import { createWebhookChannel } from '../notify/webhook.js';
import { createEmailChannel } from '../notify/email.js';
import { createCommandChannel } from '../notify/command.js';

export const SMTP_PASSWORD_ENV = 'LANTOP_SMTP_PASSWORD';

/** Per-channel timeouts (tests shorten them). */
export interface ChannelTimeouts {
  webhookMs?: number;
  emailMs?: number;
  commandMs?: number;
}

/** A channel whose configuration cannot work: every delivery fails with the reason. */
function brokenChannel(stored: StoredChannel, reason: string): AlertChannel {
  return {
    id: String(stored.id),
    type: stored.type,
    label: describeStored(stored),
    deliver: () => Promise.reject(new ChannelError(reason, false)),
  };
}

/**
 * What an email channel sends with: the SMTP password from LANTOP_SMTP_PASSWORD, else the saved
 * one; the CA file read now. A string: why it cannot work (the CA file is unreadable). Shared by
 * the alert and the report channels (report-delivery.ts).
 */
export function emailSettingsOf(stored: StoredEmail, env: NodeJS.ProcessEnv): { smtpUrl: string; from: string; to: string[]; user: string | null; password: string | null; requireTLS: boolean; ca: string | null } | string {
  const fromEnv = env[SMTP_PASSWORD_ENV];
  const password = fromEnv !== undefined && fromEnv !== '' ? fromEnv : stored.savedPassword ? revealPassword(stored.savedPassword) : null;
  let ca: string | null = null;
  if (stored.caFile) {
    try {
      ca = readFileSync(stored.caFile, 'utf8');
    } catch (error) {
      return `cannot read the CA file ${sanitizeText(stored.caFile, 120)} (${(error as NodeJS.ErrnoException).code ?? 'error'})`;
    }
  }
  return { smtpUrl: stored.smtp, from: stored.from, to: stored.to, user: stored.user ?? null, password, requireTLS: stored.requireTLS === true, ca };
}

/** One stored channel made real. Never throws: a bad configuration becomes a channel that says so. */
export function channelOf(stored: StoredChannel, env: NodeJS.ProcessEnv, timeouts: ChannelTimeouts = {}): AlertChannel {
  const id = String(stored.id);
  try {
    switch (stored.type) {
      case 'webhook':
        return createWebhookChannel({ id, url: stored.url, format: stored.format, headers: stored.headers, ...(timeouts.webhookMs ? { timeoutMs: timeouts.webhookMs } : {}) });
      case 'email': {
        const settings = emailSettingsOf(stored, env);
        if (typeof settings === 'string') return brokenChannel(stored, settings);
        return createEmailChannel({ id, ...settings, ...(timeouts.emailMs ? { timeoutMs: timeouts.emailMs } : {}) });
      }
      case 'command':
        return createCommandChannel({ id, argv: stored.argv, env, ...(timeouts.commandMs ? { timeoutMs: timeouts.commandMs } : {}) });
    }
  } catch (error) {
    return brokenChannel(stored, sanitizeText(error instanceof Error ? error.message : String(error), 200));
  }
}

/** Every configured channel, in id order. */
export function configuredChannels(env: NodeJS.ProcessEnv, timeouts: ChannelTimeouts = {}): AlertChannel[] {
  return new AlertChannelStore(env).list().map((stored) => channelOf(stored, env, timeouts));
}

/** A channel for lists and messages: what it is and where it goes, secrets masked. */
export function describeStored(stored: StoredChannel): string {
  switch (stored.type) {
    case 'webhook':
      return `webhook ${stored.format} ${maskUrl(stored.url)}`;
    case 'email':
      return `email ${sanitizeText(stored.smtp, 120)} → ${sanitizeText(stored.to.join(', '), 200)}`;
    case 'command':
      return `command ${sanitizeText(stored.argv.join(' '), 200)}`;
  }
}

/** The stored channel as `alert list --json` shows it: tokens and passwords masked. */
export function maskedChannel(stored: StoredChannel): Record<string, unknown> {
  switch (stored.type) {
    case 'webhook':
      return { ...stored, url: maskUrl(stored.url), headers: Object.fromEntries(Object.entries(stored.headers).map(([name, value]) => [name, isSecretName(name) ? '***' : value])) };
    case 'email': {
      const { savedPassword, ...rest } = stored;
      return { ...rest, password: savedPassword ? '(saved, obfuscated)' : `(from ${SMTP_PASSWORD_ENV})` };
    }
    case 'command':
      return { ...stored };
  }
}

export interface AlertDispatcherParts {
  env: NodeJS.ProcessEnv;
  /** Final failures and recoveries, for the notice line. */
  onReport?: (report: DeliveryReport) => void;
  timers?: Timers;
  timeouts?: ChannelTimeouts;
}

/** The AlertSink for the poll loop: every configured channel behind one dispatcher (none: null). */
export function openAlertDispatcher(parts: AlertDispatcherParts): AlertDispatcher | null {
  const channels = configuredChannels(parts.env, parts.timeouts);
  if (channels.length === 0) return null;
  return new AlertDispatcher({ channels, ...(parts.onReport ? { onReport: parts.onReport } : {}), ...(parts.timers ? { timers: parts.timers } : {}) });
}
