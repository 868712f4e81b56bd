// Builds the live router connection for a command: persistent reconnecting session, firmware
// (detected, or --firmware), and the RouterClient that knows what to send.
import type { ResolvedSettings } from '../config/resolve.js';
import { UsageError } from '../errors.js';
import { ReconnectingSession, type ConnectionSession } from '../transport/reconnecting-session.js';
import { connectTelnet } from '../transport/telnet.js';
import { probeFirmware } from '../router/firmware/detect-firmware.js';
import { firmwareForOverride, type FirmwareProfile } from '../router/firmware/families.js';
import { RouterClient } from '../router/router-client.js';
import type { RuleLayout } from '../router/rules.js';

export interface OpenRouterOptions {
  settings: ResolvedSettings;
  password: string;
  isManaged: boolean;
  layout?: RuleLayout;
  /** Opens one connection; the default picks telnet or SSH from the settings. */
  connect?: () => Promise<ConnectionSession>;
}

export interface OpenRouter {
  session: ReconnectingSession;
  client: RouterClient;
  firmware: FirmwareProfile;
  label: string;
}

export const DEFAULT_LAYOUT: RuleLayout = 'flat';

export function routerLabel(settings: ResolvedSettings): string {
  return `${settings.host ?? '?'}:${settings.port} over ${settings.protocol}`;
}

export function defaultConnector(settings: ResolvedSettings, password: string): () => Promise<ConnectionSession> {
  const host = settings.host;
  if (host === null) throw new UsageError('No router address given.', 'Pass --host ADDRESS, set LANTOP_HOST, or save one with `lantop config set host ADDRESS`.');
  if (settings.protocol === 'ssh') {
    return async () => {
      const { connectSsh } = await import('../transport/ssh.js');
      return connectSsh({ host, port: settings.port, user: settings.user, password, connectTimeoutMs: settings.connectTimeoutMs, commandTimeoutMs: settings.commandTimeoutMs });
    };
  }
  return () => connectTelnet({ host, port: settings.port, user: settings.user, password, connectTimeoutMs: settings.connectTimeoutMs, commandTimeoutMs: settings.commandTimeoutMs });
}

export async function openRouter(options: OpenRouterOptions): Promise<OpenRouter> {
  const { settings } = options;
  const connect = options.connect ?? defaultConnector(settings, options.password);
  const label = routerLabel(settings);
  const session = new ReconnectingSession({ factory: connect, target: `${settings.host ?? '?'}:${settings.port}` });
  try {
    await session.connect();
    const firmware = settings.firmware !== null ? firmwareForOverride(settings.firmware) : await probeFirmware(session);
    const client = new RouterClient(session, firmware, { wan: settings.wan, layout: options.layout ?? DEFAULT_LAYOUT, isManaged: options.isManaged });
    return { session, client, firmware, label };
  } catch (error) {
    await session.close().catch(() => undefined);
    throw error;
  }
}
