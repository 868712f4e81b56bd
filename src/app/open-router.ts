// Builds the live router connection for a command: persistent reconnecting session, firmware
// (--firmware, else the profile stored from an earlier run while the router looks the same, else
// probed now and stored), and the RouterClient that knows what to send and where.
import type { ResolvedSettings } from '../config/resolve.js';
import { UsageError } from '../errors.js';
import type { ReconnectingSession } from '../transport/reconnecting-session.js';
import { openSession, type OpenSessionOptions } from '../transport/connect.js';
import type { ProfileStore } from '../config/profiles.js';
import { probeFirmware } from '../router/firmware/probe-router.js';
import { identityHash, routerKey, storedFirmware } from '../router/firmware/stored-profile.js';
import { Transcript } from '../transport/transcript.js';
import { firmwareForOverride, type FirmwareProfile } from '../router/firmware/families.js';
import { RouterClient } from '../router/router-client.js';
import type { RuleLayout } from '../router/backends/iptables/layouts.js';
import { isNftLayout, type NftLayout } from '../router/backends/nftables/layouts.js';

/** `setup --layout`: an iptables layout (flat, split, tree) or an nftables one (dynamic-sets, static-sets, rules). */
export type SetupLayout = RuleLayout | NftLayout;

export function isSetupLayout(name: string): name is SetupLayout {
  return name === 'flat' || name === 'split' || name === 'tree' || isNftLayout(name);
}
import { defaultRouteInterface } from '../router/parsers/route-table.js';
import { RouterError } from '../errors.js';
import type { Session } from '../transport/session.js';

/** `--wan auto`: the interface of the router's default route, from /proc/net/route. */
export async function detectWan(session: Session): Promise<string> {
  // In the shell where there is one (a Broadcom CLI also passes `cat` through when there is not).
  const wan = defaultRouteInterface(await session.exec('cat /proc/net/route', { where: 'shell' }));
  if (wan === null) throw new RouterError('Could not find the WAN interface: the router shows no default route in /proc/net/route.', 'Pass it with --wan IFACE (e.g. ppp0, eth0.2, vlan2).');
  return wan;
}

export interface OpenRouterOptions {
  settings: ResolvedSettings;
  password: string;
  isManaged: boolean;
  layout?: SetupLayout;
  /** Where the SSH host key is pinned (the profile); null: pinned for this run only. */
  profiles?: ProfileStore | null;
  /** One-time notices (legacy SSH algorithms enabled, …). */
  onWarning?: (text: string) => void;
  /** Where the dialogue is recorded (doctor); default: settings.tracePath, else nowhere. */
  transcript?: Transcript | null;
}

export interface OpenRouter {
  session: ReconnectingSession;
  client: RouterClient;
  firmware: FirmwareProfile;
  label: string;
}

export function routerLabel(settings: ResolvedSettings): string {
  if (settings.protocol === 'local') return 'this machine (local)';
  return `${settings.host ?? '?'}:${settings.port} over ${settings.protocol}`;
}

/** How to log in to the router the settings name (telnet or SSH), as transport/connect.ts takes it. */
export function sessionOptions(settings: ResolvedSettings, password: string, options: Pick<OpenRouterOptions, 'profiles' | 'onWarning' | 'transcript'> = {}): OpenSessionOptions {
  const host = settings.host;
  if (host === null) throw new UsageError('No router address given.', 'Pass --host ADDRESS, set LANTOP_HOST, or save one with `lantop config set host ADDRESS`.');
  const profiles = options.profiles ?? null;
  // SSH host keys are pinned on first use in the profile; --accept-host-key replaces the pin.
  const pinned = settings.acceptHostKey ?? profiles?.get(settings.profileName)?.hostKey;
  return {
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
    // Plain commands say it themselves (services.ts); the app shows it on its own screen.
    warnsAboutCleartextTelnet: false,
    ...(options.transcript ? { onTrace: (event) => options.transcript!.record(event) } : {}),
  };
}

/** The transcript `--trace FILE` asks for (password masked), or null. */
function traceFor(settings: ResolvedSettings, password: string): Transcript | null {
  return settings.tracePath === null ? null : Transcript.toFile(settings.tracePath, [password]);
}

/** Decisions of detection in words, for the transcript and `lantop doctor`. */
export function describeDetection(firmware: FirmwareProfile): string[] {
  const lines = [`firmware ${firmware.family} (${firmware.source === 'stored' ? 'reused from an earlier run' : firmware.source === 'override' ? '--firmware' : 'probed now'})`];
  for (const d of firmware.decisions) lines.push(`${d.what}: ${d.chosen}`);
  return lines;
}

/**
 * The firmware for this session: --firmware, else the stored profile when the router shows the
 * same identity and --redetect was not asked, else the probes (stored for the next start).
 */
async function firmwareFor(session: ReconnectingSession, settings: ResolvedSettings, profiles: ProfileStore | null): Promise<FirmwareProfile> {
  if (settings.firmware !== null) return firmwareForOverride(settings.firmware);
  const key = routerKey(settings);
  const identity = session.identity === null ? null : identityHash(session.identity);
  const stored = profiles?.getDetected(key);
  if (!settings.isRedetecting && identity !== null && stored?.identity === identity) {
    const firmware = storedFirmware(stored.firmware);
    if (firmware !== null) return firmware;
  }
  return probeAndStore(session, settings, profiles);
}

export async function probeAndStore(session: ReconnectingSession, settings: ResolvedSettings, profiles: ProfileStore | null): Promise<FirmwareProfile> {
  const firmware = await probeFirmware(session);
  // The probes are the truth for this session: a route found is kept, and none found clears an
  // older one (findShell alone would leave it).
  session.setShellRoute(firmware.commands.shellRoute);
  const identity = session.identity === null ? null : identityHash(session.identity);
  if (identity !== null && profiles) {
    const { source: _source, ...saved } = firmware;
    try {
      profiles.setDetected(routerKey(settings), { identity, firmware: saved, savedAt: new Date().toISOString() });
    } catch {
      // A read-only config directory costs the next start its probes, nothing else.
    }
  }
  return firmware;
}

export async function openRouter(options: OpenRouterOptions): Promise<OpenRouter> {
  const { settings } = options;
  const profiles = options.profiles ?? null;
  const transcript = options.transcript !== undefined ? options.transcript : traceFor(settings, options.password);
  const label = routerLabel(settings);
  let session: ReconnectingSession;
  try {
    // Logs in before returning; on failure it has closed itself and throws the typed error.
    session = await openSession(sessionOptions(settings, options.password, { ...options, transcript }));
  } catch (error) {
    if (error instanceof Error) transcript?.note(`error: ${error.message}`);
    throw error;
  }
  try {
    if (settings.acceptHostKey !== null && settings.protocol === 'ssh') profiles?.update(settings.profileName, { hostKey: settings.acceptHostKey });
    const firmware = await firmwareFor(session, settings, profiles);
    // A stored or overridden profile brings its route; probing found it on this session already.
    session.setShellRoute(firmware.commands.shellRoute);
    transcript?.note(describeDetection(firmware).join('\n'));
    const wan = settings.wan === 'auto' ? await detectWan(session) : settings.wan;
    const redetect = async (): Promise<FirmwareProfile> => {
      transcript?.note('the stored profile stopped fitting this router: probing again');
      const fresh = await probeAndStore(session, { ...settings, isRedetecting: true }, profiles);
      transcript?.note(describeDetection(fresh).join('\n'));
      return fresh;
    };
    const client = new RouterClient(session, firmware, { wan, isManaged: options.isManaged, redetect, readsWan: true, ...(options.layout === undefined ? {} : isNftLayout(options.layout) ? { nftLayout: options.layout } : { layout: options.layout }), ...(settings.backend !== null ? { backend: settings.backend } : {}) });
    if (options.layout !== undefined && isNftLayout(options.layout) !== (client.backend.kind === 'nftables')) {
      await session.close();
      throw new UsageError(`--layout ${options.layout} is ${isNftLayout(options.layout) ? 'an nftables' : 'an iptables'} layout, but this router counts with ${client.backend.kind}.`, client.backend.kind === 'iptables' ? 'Use flat, split or tree here, or --backend nftables where the router has nft.' : 'Use dynamic-sets, static-sets or rules here, or --backend iptables where the router has iptables.');
    }
    return { session, client, firmware, label };
  } catch (error) {
    if (error instanceof Error) transcript?.note(`error: ${error.message}`);
    await session.close().catch(() => undefined);
    throw error;
  }
}
