// Where the alert channels live (issue 16): alerts.json in lantop's configuration directory,
// beside the router profiles (0600, validated by a schema). Channels are global, not per profile:
// one household has one ntfy topic or mailbox however many routers it watches, and an alert says
// which router it is about. Secrets: an SMTP password is saved only when asked, obfuscated like
// the router password (profiles.ts), NOT encrypted; webhook tokens sit in the URL or headers as
// given. `alert list` masks both.
import type Conf from 'conf';
import { UsageError } from '../errors.js';
import { confClass } from './profiles.js';

export interface StoredWebhook {
  id: number;
  type: 'webhook';
  url: string;
  format: 'json' | 'slack' | 'ntfy' | 'gotify';
  headers: Record<string, string>;
}

export interface StoredEmail {
  id: number;
  type: 'email';
  smtp: string;
  from: string;
  to: string[];
  user?: string;
  /** obfuscatePassword(…) of the SMTP password; absent: LANTOP_SMTP_PASSWORD at send time. */
  savedPassword?: string;
  requireTLS?: boolean;
  /** A PEM file of certificates to trust (a self-signed server). */
  caFile?: string;
}

export interface StoredCommand {
  id: number;
  type: 'command';
  argv: string[];
}

export type StoredChannel = StoredWebhook | StoredEmail | StoredCommand;
export type ChannelInput = Omit<StoredWebhook, 'id'> | Omit<StoredEmail, 'id'> | Omit<StoredCommand, 'id'>;

interface AlertShape {
  channels: StoredChannel[];
  nextId: number;
}

const STRING = { type: 'string', maxLength: 2048 } as const;
const CHANNEL_SCHEMA = {
  type: 'object',
  required: ['id', 'type'],
  properties: {
    id: { type: 'integer', minimum: 1 },
    type: { enum: ['webhook', 'email', 'command'] },
    url: STRING,
    format: { enum: ['json', 'slack', 'ntfy', 'gotify'] },
    headers: { type: 'object', additionalProperties: STRING },
    smtp: STRING,
    from: STRING,
    to: { type: 'array', items: STRING, maxItems: 50 },
    user: STRING,
    savedPassword: STRING,
    requireTLS: { type: 'boolean' },
    caFile: STRING,
    argv: { type: 'array', items: STRING, minItems: 1, maxItems: 100 },
  },
  additionalProperties: false,
} as const;

export const ALERT_CONFIG_NAME = 'alerts';

export class AlertChannelStore {
  private readonly conf: Conf<AlertShape>;

  constructor(env: NodeJS.ProcessEnv = process.env) {
    const ConfStore = confClass();
    this.conf = new ConfStore<AlertShape>({
      projectName: 'lantop',
      projectSuffix: '',
      configName: ALERT_CONFIG_NAME,
      ...(env.LANTOP_CONFIG_DIR ? { cwd: env.LANTOP_CONFIG_DIR } : {}),
      configFileMode: 0o600,
      clearInvalidConfig: false,
      defaults: { channels: [], nextId: 1 },
      schema: {
        channels: { type: 'array', items: CHANNEL_SCHEMA, maxItems: 100 },
        nextId: { type: 'integer', minimum: 1 },
      } as never,
    });
  }

  get path(): string {
    return this.conf.path;
  }

  list(): StoredChannel[] {
    return this.conf.get('channels');
  }

  get(id: number): StoredChannel | undefined {
    return this.list().find((c) => c.id === id);
  }

  /** Saves a channel and returns it with its new id (ids are never reused). */
  add(channel: ChannelInput): StoredChannel {
    const id = this.conf.get('nextId');
    const stored = { ...channel, id } as StoredChannel;
    try {
      this.conf.set({ channels: [...this.list(), stored], nextId: id + 1 });
    } catch (error) {
      throw new UsageError(`Cannot save the alert channel: ${(error as Error).message}`, 'Check the values (URLs and addresses under 2048 characters).');
    }
    return stored;
  }

  remove(id: number): boolean {
    const channels = this.list();
    const left = channels.filter((c) => c.id !== id);
    if (left.length === channels.length) return false;
    this.conf.set('channels', left);
    return true;
  }
}
