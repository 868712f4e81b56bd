// Where each connection setting comes from: flags > environment > profile > defaults.
// Pure: the CLI hands in what commander parsed, process.env and the stored profile.
import { UsageError } from '../errors.js';
import { parseNeverBlockList } from '../domain/never-block.js';
import { parseBlockDuration } from '../domain/durations.js';
import type { Protocol } from '../transport/session.js';
import { DEFAULT_COMMAND_TIMEOUT_MS, DEFAULT_CONNECT_TIMEOUT_MS } from '../transport/session.js';

export interface Profile {
  host?: string;
  port?: number;
  protocol?: Protocol;
  user?: string;
  wan?: string;
  firmware?: string;
  /** The accounting backend: 'iptables' or 'nftables' (where a router has both). */
  backend?: string;
  /** MACs and addresses lantop never blocks, comma-separated (issue 16). */
  neverBlock?: string;
  /** Obfuscated, not encrypted; only present when the user asked to save it. */
  savedPassword?: string;
  /** Pinned SSH host key fingerprint (SHA256:…), set on first use. */
  hostKey?: string;
  /** Issue 20: the profile whose LAN this router's WAN is on; 'none': independent. */
  upstream?: string;
  /** Issue 18, users mode: how long a deny over quota lasts (`6h`); unset: until the quota's period ends. */
  denyFor?: string;
  /** Issue 18, users mode: 'yes' ends a denied user's running sessions too. */
  denyEndSessions?: string;
}

export interface GlobalFlags {
  host?: string;
  port?: string | number;
  protocol?: string;
  user?: string;
  passwordEnv?: string;
  passwordFile?: string;
  wan?: string;
  profile?: string;
  timeout?: string | number;
  db?: string;
  color?: boolean;
  firmware?: string;
  backend?: string;
  debug?: boolean;
  acceptHostKey?: string;
  maxBandwidth?: string;
  redetect?: boolean;
  trace?: string;
  /** `--mode devices|users` (issue 18). */
  mode?: string;
}

export interface ResolvedSettings {
  profileName: string;
  host: string | null;
  port: number;
  protocol: Protocol;
  user: string;
  wan: string;
  firmware: string | null;
  /** `--backend`: count with iptables or nftables where the router has both; null: chosen by detection. */
  backend: 'iptables' | 'nftables' | null;
  passwordEnv: string;
  passwordFile: string | null;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  dbPath: string | null;
  isColor: boolean;
  /** SSH: pin this host key instead of the stored one (after a legitimate change). */
  acceptHostKey: string | null;
  /** Highest plausible rate per direction, bit/s; a larger counter jump is discarded and reported. */
  linkBitsPerSecond: number;
  /** Probe the router again instead of reusing the stored profile. */
  isRedetecting: boolean;
  /** `--trace FILE`: the router dialogue is written there. */
  tracePath: string | null;
  /** The never-block list (setting neverBlock, env LANTOP_NEVER_BLOCK), canonical MACs and addresses. */
  neverBlock: string[];
  /** Users mode: how long a deny over quota lasts, ms (setting denyFor, env LANTOP_DENY_FOR); null: until the period ends. */
  denyForMs: number | null;
  /** Users mode: a deny also ends the user's running sessions (setting denyEndSessions, env LANTOP_DENY_END_SESSIONS). */
  isDenyEndingSessions: boolean;
}

export const DEFAULT_PROFILE = 'default';
export const DEFAULT_WAN = 'ppp0';
export const DEFAULT_USER = 'admin';
// Local mode has no port: 0 says so (describeEndpoint prints the host alone).
const DEFAULT_PORTS: Record<Protocol, number> = { telnet: 23, ssh: 22, local: 0 };
/** `--host local` (issue 18): this machine, through its own shell. */
export const LOCAL_HOST = 'local';

export type Env = Record<string, string | undefined>;

function parseProtocol(value: string, from: string): Protocol {
  if (value === 'telnet' || value === 'ssh' || value === 'local') return value;
  throw new UsageError(`${from}: protocol must be 'telnet', 'ssh' or 'local', not '${value}'.`);
}

/** Local mode runs on this machine: no other host, no port. */
function checkLocalMode(protocol: Protocol, host: string | null, portText: string | number | undefined): void {
  if (protocol !== 'local') {
    throw new UsageError(`--host local is this machine, which lantop reaches through its own shell, not over ${protocol}.`, 'Use --protocol local (or leave --protocol out), or give the router\'s address.');
  }
  if (host !== null && host !== LOCAL_HOST) {
    throw new UsageError(`--protocol local runs lantop's commands on this machine, so --host '${host.slice(0, 60)}' cannot be reached with it.`, 'Leave --host out or pass --host local; run lantop on that machine to use local mode there.');
  }
  if (portText !== undefined) {
    throw new UsageError('Local mode has no port: --port (or LANTOP_PORT, or a saved port) cannot be used with it.', 'Leave the port out (`lantop config unset port` if the profile has one).');
  }
}

function parsePositiveInt(value: string | number, from: string, max: number): number {
  const text = String(value).trim();
  if (!/^\d+$/.test(text)) throw new UsageError(`${from}: expected a whole number, got '${text}'.`);
  const n = Number(text);
  if (n < 1 || n > max) throw new UsageError(`${from}: ${n} is out of range (1–${max}).`);
  return n;
}

const IFACE = /^[A-Za-z0-9_.:@-]{1,15}$/;

export function resolveSettings(flags: GlobalFlags, env: Env, profile: Profile | undefined, profileName: string): ResolvedSettings {
  const hostText = flags.host ?? env.LANTOP_HOST ?? profile?.host ?? null;
  const protocolText = flags.protocol ?? env.LANTOP_PROTOCOL ?? profile?.protocol;
  // `--host local` alone means local mode; with another protocol it is a contradiction.
  const protocol = protocolText === undefined ? (hostText === LOCAL_HOST ? 'local' : 'telnet') : parseProtocol(protocolText, flags.protocol ? '--protocol' : env.LANTOP_PROTOCOL ? 'LANTOP_PROTOCOL' : `profile '${profileName}'`);
  const portText = flags.port ?? env.LANTOP_PORT ?? profile?.port;
  if (protocol === 'local' || hostText === LOCAL_HOST) checkLocalMode(protocol, hostText, portText);
  const port = portText === undefined || protocol === 'local' ? DEFAULT_PORTS[protocol] : parsePositiveInt(portText, flags.port !== undefined ? '--port' : 'LANTOP_PORT', 65535);
  const wan = flags.wan ?? env.LANTOP_WAN ?? profile?.wan ?? DEFAULT_WAN;
  if (!IFACE.test(wan)) throw new UsageError(`--wan: '${wan}' is not a valid interface name.`, 'Use the router\'s WAN interface, e.g. ppp0 or eth0.');
  const timeoutText = flags.timeout ?? env.LANTOP_TIMEOUT;
  const timeoutMs = timeoutText === undefined ? null : parsePositiveInt(timeoutText, '--timeout', 600_000);
  const passwordEnv = flags.passwordEnv ?? 'LANTOP_PASSWORD';
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(passwordEnv)) throw new UsageError(`--password-env: '${passwordEnv}' is not an environment variable name.`);
  return {
    profileName,
    host: protocol === 'local' ? LOCAL_HOST : hostText,
    port,
    protocol,
    user: flags.user ?? env.LANTOP_USER ?? profile?.user ?? DEFAULT_USER,
    wan,
    firmware: flags.firmware ?? env.LANTOP_FIRMWARE ?? profile?.firmware ?? null,
    backend: parseBackend(flags.backend ?? env.LANTOP_BACKEND ?? profile?.backend, flags.backend !== undefined ? '--backend' : env.LANTOP_BACKEND !== undefined ? 'LANTOP_BACKEND' : `profile '${profileName}'`),
    passwordEnv,
    passwordFile: flags.passwordFile ?? env.LANTOP_PASSWORD_FILE ?? null,
    connectTimeoutMs: timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    commandTimeoutMs: timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
    dbPath: flags.db ?? env.LANTOP_DB ?? null,
    isColor: flags.color !== false && env.NO_COLOR === undefined,
    acceptHostKey: parseFingerprint(flags.acceptHostKey),
    linkBitsPerSecond: parsePositiveInt(flags.maxBandwidth ?? env.LANTOP_MAX_BANDWIDTH ?? '1000', '--max-bandwidth', 1_000_000) * 1_000_000,
    isRedetecting: flags.redetect === true,
    tracePath: flags.trace ?? env.LANTOP_TRACE ?? null,
    neverBlock: parseNeverBlock(env.LANTOP_NEVER_BLOCK ?? profile?.neverBlock ?? '', env.LANTOP_NEVER_BLOCK !== undefined ? 'LANTOP_NEVER_BLOCK' : `profile '${profileName}' setting neverBlock`),
    denyForMs: parseDenyFor(env.LANTOP_DENY_FOR ?? profile?.denyFor, env.LANTOP_DENY_FOR !== undefined ? 'LANTOP_DENY_FOR' : `profile '${profileName}' setting denyFor`),
    isDenyEndingSessions: parseYesNo(env.LANTOP_DENY_END_SESSIONS ?? profile?.denyEndSessions, env.LANTOP_DENY_END_SESSIONS !== undefined ? 'LANTOP_DENY_END_SESSIONS' : `profile '${profileName}' setting denyEndSessions`),
  };
}

function parseDenyFor(text: string | undefined, from: string): number | null {
  if (text === undefined || text === '') return null;
  try {
    return parseBlockDuration(text);
  } catch (error) {
    if (error instanceof RangeError) throw new UsageError(`${from}: ${error.message}.`, 'e.g. `lantop config set denyFor 6h` (unset: a deny lasts until the quota\'s period ends).');
    throw error;
  }
}

function parseYesNo(text: string | undefined, from: string): boolean {
  if (text === undefined || text === '' || text === 'no') return false;
  if (text === 'yes') return true;
  throw new UsageError(`${from} must be yes or no, not '${text.slice(0, 20)}'.`);
}

function parseNeverBlock(text: string, from: string): string[] {
  const list = parseNeverBlockList(text);
  if (list.invalid.length > 0) throw new UsageError(`${from}: '${list.invalid[0]!.slice(0, 40)}' is not a MAC or an IP address.`, 'Give MACs and addresses separated by commas, e.g. `lantop config set neverBlock 02:00:5e:10:00:01,198.51.100.2`.');
  return [...list.macs, ...list.addresses];
}

function parseBackend(value: string | undefined, from: string): 'iptables' | 'nftables' | null {
  if (value === undefined || value === '') return null;
  const v = value.trim().toLowerCase();
  if (v === 'iptables' || v === 'nftables') return v;
  throw new UsageError(`${from}: the backend must be 'iptables' or 'nftables', not '${value.slice(0, 40)}'.`, 'Leave it out to let detection choose (iptables where it exists, else nftables).');
}

function parseFingerprint(value: string | undefined): string | null {
  if (value === undefined) return null;
  if (!/^SHA256:[A-Za-z0-9+/]{43}=?$/.test(value)) throw new UsageError(`--accept-host-key: '${value.slice(0, 60)}' is not a SHA256 fingerprint.`, 'Copy it from the error that reported the changed key (SHA256:…).');
  return value;
}

/** What lantop counts (issue 18): LAN devices (the default) or the SSH users of a Linux gateway. */
export type AccountingMode = 'devices' | 'users';

/** `--mode`, else LANTOP_MODE, else devices. */
export function resolveMode(flags: Pick<GlobalFlags, 'mode'>, env: Env): AccountingMode {
  const text = flags.mode ?? env.LANTOP_MODE;
  if (text === undefined || text === '' || text === 'devices') return 'devices';
  if (text === 'users') return 'users';
  throw new UsageError(`${flags.mode !== undefined ? '--mode' : 'LANTOP_MODE'}: the mode must be 'devices' or 'users', not '${text.slice(0, 40)}'.`);
}
