// Builds the live router connection for a command: persistent reconnecting session, firmware
// (detected, or --firmware), and the RouterClient that knows what to send.
import type { ResolvedSettings } from '../config/resolve.js';
import { UsageError } from '../errors.js';
import { ReconnectingSession, type ConnectionSession } from '../transport/reconnecting-session.js';
import { connectionFactory } from '../transport/connect.js';
import type { ProfileStore } from '../config/profiles.js';
import { probeFirmware } from '../router/firmware/detect-firmware.js';
import { firmwareForOverride, type FirmwareProfile } from '../router/firmware/families.js';
import { RouterClient } from '../router/router-client.js';
import type { RuleLayout } from '../router/rules.js';
import { defaultRouteInterface } from '../router/parsers/route-table.js';
import { RouterError } from '../errors.js';
import type { Session } from '../transport/session.js';

/** `--wan auto`: the interface of the router's default route, from /proc/net/route. */
export async function detectWan(session: Session): Promise<string> {
  const wan = defaultRouteInterface(await session.exec('cat /proc/net/route'));
  if (wan === null) throw new RouterError('Could not find the WAN interface: the router shows no default route in /proc/net/route.', 'Pass it with --wan IFACE (e.g. ppp0, eth0.2, vlan2).');
  return wan;
}

export interface OpenRouterOptions {
  settings: ResolvedSettings;
  password: string;
  isManaged: boolean;
  layout?: RuleLayout;
  /** Where the SSH host key is pinned (the profile); null: pinned for this run only. */
  profiles?: ProfileStore | null;
  /** One-time notices (legacy SSH algorithms enabled, …). */
  onWarning?: (text: string) => void;
  /** Opens one connection; the default picks telnet or SSH from the settings. */
  connect?: () => Promise<ConnectionSession>;
}

export interface OpenRouter {
  session: ReconnectingSession;
  client: RouterClient;
  firmware: FirmwareProfile;
  label: string;
}

export function routerLabel(settings: ResolvedSettings): string {
  return `${settings.host ?? '?'}:${settings.port} over ${settings.protocol}`;
}

export function defaultConnector(settings: ResolvedSettings, password: string, options: Pick<OpenRouterOptions, 'profiles' | 'onWarning'> = {}): () => Promise<ConnectionSession> {
  const host = settings.host;
  if (host === null) throw new UsageError('No router address given.', 'Pass --host ADDRESS, set LANTOP_HOST, or save one with `lantop config set host ADDRESS`.');
  const profiles = options.profiles ?? null;
  // SSH host keys are pinned on first use in the profile; --accept-host-key replaces the pin.
  const pinned = settings.acceptHostKey ?? profiles?.get(settings.profileName)?.hostKey;
  return connectionFactory({
    host,
    port: settings.port,
    protocol: settings.protocol,
    user: settings.user,
    password,
    connectTimeoutMs: settings.connectTimeoutMs,
    commandTimeoutMs: settings.commandTimeoutMs,
    ...(pinned !== undefined ? { hostKeyFingerprint: pinned } : {}),
    onNewHostKey: (fingerprint) => profiles?.update(settings.profileName, { hostKey: fingerprint }),
    ...(options.onWarning ? { onWarning: options.onWarning } : {}),
  });
}

export async function openRouter(options: OpenRouterOptions): Promise<OpenRouter> {
  const { settings } = options;
  const connect = options.connect ?? defaultConnector(settings, options.password, options);
  const label = routerLabel(settings);
  const session = new ReconnectingSession({ factory: connect, target: `${settings.host ?? '?'}:${settings.port}` });
  try {
    await session.connect();
    if (settings.acceptHostKey !== null && settings.protocol === 'ssh') options.profiles?.update(settings.profileName, { hostKey: settings.acceptHostKey });
    const firmware = settings.firmware !== null ? firmwareForOverride(settings.firmware) : await probeFirmware(session);
    const wan = settings.wan === 'auto' ? await detectWan(session) : settings.wan;
    const client = new RouterClient(session, firmware, { wan, isManaged: options.isManaged, ...(options.layout ? { layout: options.layout } : {}) });
    return { session, client, firmware, label };
  } catch (error) {
    await session.close().catch(() => undefined);
    throw error;
  }
}
