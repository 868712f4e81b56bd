// One authenticated ssh2 (1.17) client: connect, log in (password or keyboard-interactive), check
// the host key against the pinned one (a changed key refuses to connect), offer legacy algorithms
// to old dropbear builds, and close without hanging on a router that vanished.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import ssh2 from 'ssh2';
import type { Algorithms, ConnectConfig } from 'ssh2';
import { LantopError, RouterError } from '../errors.js';
import { sanitizeText } from '../sanitize.js';
import { HostKeyChangedError, authError, connectTimeoutError, connectionLostError, describeEndpoint, mapConnectError, type Endpoint } from './errors.js';

const { Client } = ssh2;
export type SshClient = InstanceType<typeof Client>;

export interface SshLoginOptions {
  host: string;
  port: number;
  user: string;
  password: string;
  /** Pinned host key fingerprint (`SHA256:…`, as stored with the profile). Absent: first use. */
  hostKeyFingerprint?: string;
  /**
   * Old dropbear builds only speak diffie-hellman-group1-sha1, aes128-cbc, 3des-cbc, hmac-md5,
   * ssh-dss. true: offer them from the start; 'auto' (default): retry with them when negotiation
   * fails, and say so through onWarning; false: never.
   */
  legacyAlgorithms?: boolean | 'auto';
  onWarning?: (text: string) => void;
}

export interface LoggedInClient {
  client: SshClient;
  /** The server's host key fingerprint (`SHA256:…`). */
  fingerprint: string;
  /** Legacy algorithms offered on this connection (empty when none were needed). */
  legacyAlgorithmsEnabled: string[];
}

/** What "legacy" adds, per algorithm list; filtered by what this ssh2 build supports. */
const LEGACY_ALGORITHMS = {
  kex: ['diffie-hellman-group14-sha1', 'diffie-hellman-group1-sha1', 'diffie-hellman-group-exchange-sha1'],
  cipher: ['aes128-cbc', 'aes256-cbc', '3des-cbc'],
  serverHostKey: ['ssh-rsa', 'ssh-dss'],
  hmac: ['hmac-sha1', 'hmac-md5'],
} as const;

const require = createRequire(import.meta.url);
interface Ssh2Constants {
  SUPPORTED_KEX: string[];
  SUPPORTED_CIPHER: string[];
  SUPPORTED_SERVER_HOST_KEY: string[];
  SUPPORTED_MAC: string[];
}
function supportedAlgorithms(): Ssh2Constants | null {
  try {
    return require('ssh2/lib/protocol/constants.js') as Ssh2Constants;
  } catch {
    return null;
  }
}

/** The ssh2 `algorithms` option that appends the legacy algorithms to ssh2's defaults. */
export function legacyAlgorithmConfig(): { algorithms: Algorithms; enabled: string[] } {
  const supported = supportedAlgorithms();
  const keep = (names: readonly string[], list: keyof Ssh2Constants) => names.filter((name) => !supported || supported[list].includes(name));
  const kex = keep(LEGACY_ALGORITHMS.kex, 'SUPPORTED_KEX');
  const cipher = keep(LEGACY_ALGORITHMS.cipher, 'SUPPORTED_CIPHER');
  const serverHostKey = keep(LEGACY_ALGORITHMS.serverHostKey, 'SUPPORTED_SERVER_HOST_KEY');
  const hmac = keep(LEGACY_ALGORITHMS.hmac, 'SUPPORTED_MAC');
  // @types/ssh2 wants all three of append/prepend/remove when the object form is used.
  const algorithms = {
    kex: { append: kex, prepend: [], remove: [] },
    cipher: { append: cipher, prepend: [], remove: [] },
    serverHostKey: { append: serverHostKey, prepend: [], remove: [] },
    hmac: { append: hmac, prepend: [], remove: [] },
  } as Algorithms;
  return { algorithms, enabled: [...kex, ...cipher, ...serverHostKey, ...hmac] };
}

/** OpenSSH-style fingerprint of a raw host key blob: `SHA256:` + unpadded base64. */
function fingerprintOf(hostKey: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(hostKey).digest('base64').replace(/=+$/, '');
}

/** How long a closing connection may wait for the router's goodbye before its socket is destroyed. */
const CLOSE_GRACE_MS = 1000;

/**
 * ssh2's Client.destroy() does nothing once end() was called (it checks that the socket is still
 * writable), so it cannot finish off an ended connection: destroy the socket itself.
 */
function destroyClient(client: SshClient): void {
  client.destroy();
  (client as unknown as { _sock?: { destroy(): void } })._sock?.destroy();
}

/**
 * end() sends the disconnect and a FIN; a router that vanished (rebooted, unplugged, a deleted lab
 * namespace) never answers, the socket sits in FIN-WAIT-1 and keeps the process alive for minutes
 * (issue 13). So the goodbye gets CLOSE_GRACE_MS, then the socket is destroyed.
 */
export function endClient(client: SshClient): void {
  client.end();
  const timer = setTimeout(() => destroyClient(client), CLOSE_GRACE_MS);
  timer.unref();
  client.once('close', () => clearTimeout(timer));
}

const NEGOTIATION_FAILED = /no matching (?:key exchange|host key|C->S cipher|S->C cipher|C->S MAC|S->C MAC)/i;

class AlgorithmMismatchError extends RouterError {}

/**
 * Connects and logs in. With legacyAlgorithms 'auto' a failed negotiation is tried once more with
 * the legacy algorithms, and onWarning says which were enabled.
 */
export async function logInSsh(options: SshLoginOptions, connectTimeoutMs: number): Promise<LoggedInClient> {
  const endpoint: Endpoint = { host: options.host, port: options.port };
  const legacy = options.legacyAlgorithms ?? 'auto';
  if (legacy !== true) {
    try {
      return { ...(await openClient(options, endpoint, connectTimeoutMs, undefined)), legacyAlgorithmsEnabled: [] };
    } catch (error) {
      if (!(error instanceof AlgorithmMismatchError) || legacy === false) throw error;
    }
  }
  const config = legacyAlgorithmConfig();
  const ready = await openClient(options, endpoint, connectTimeoutMs, config.algorithms);
  if (legacy === 'auto') {
    options.onWarning?.(
      `${describeEndpoint(endpoint)} only speaks old SSH algorithms; lantop enabled ${config.enabled.join(', ')}. ` +
        'They are weak: update the router firmware if you can.',
    );
  }
  return { ...ready, legacyAlgorithmsEnabled: config.enabled };
}

function openClient(options: SshLoginOptions, endpoint: Endpoint, connectTimeoutMs: number, algorithms: Algorithms | undefined): Promise<{ client: SshClient; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let fingerprint = '';
    let changedKey: HostKeyChangedError | undefined;
    let isSettled = false;
    const settle = (error: LantopError | null) => {
      if (isSettled) return;
      isSettled = true;
      if (error) {
        destroyClient(client);
        reject(error);
      } else resolve({ client, fingerprint });
    };
    client.on('ready', () => {
      // Small request/reply packets: Nagle + delayed ACK would add ~40 ms per command.
      client.setNoDelay(true);
      settle(null);
    });
    client.on('error', (error: Error & { level?: string; code?: string }) => {
      if (changedKey) settle(changedKey);
      else settle(mapSshError(error, options.user, endpoint, connectTimeoutMs));
    });
    client.on('close', () => settle(connectionLostError(endpoint, 'during the SSH handshake')));
    client.on('keyboard-interactive', (_name, _instructions, _language, prompts, finish) => {
      // Routers ask for the password this way (dropbear with PAM, some vendor builds).
      finish(prompts.map(() => options.password));
    });
    const config: ConnectConfig = {
      host: options.host,
      port: options.port,
      username: options.user,
      password: options.password,
      tryKeyboard: true,
      readyTimeout: connectTimeoutMs,
      hostVerifier: (key: Buffer) => {
        fingerprint = fingerprintOf(key);
        if (options.hostKeyFingerprint !== undefined && options.hostKeyFingerprint !== fingerprint) {
          changedKey = new HostKeyChangedError(endpoint, options.hostKeyFingerprint, fingerprint);
          return false;
        }
        return true;
      },
      ...(algorithms ? { algorithms } : {}),
    };
    try {
      client.connect(config);
    } catch (error) {
      settle(mapConnectError(error, endpoint, connectTimeoutMs));
    }
  });
}

function mapSshError(error: Error & { level?: string; code?: string }, user: string, endpoint: Endpoint, connectTimeoutMs: number): LantopError {
  if (error.level === 'client-authentication') return authError(endpoint, user, 'ssh');
  if (error.level === 'client-timeout') return connectTimeoutError(endpoint, connectTimeoutMs, 'logging in over SSH');
  if (NEGOTIATION_FAILED.test(error.message)) {
    return new AlgorithmMismatchError(
      `${describeEndpoint(endpoint)} and lantop share no SSH algorithm (${sanitizeText(error.message, 120)}).`,
      'Try --ssh-legacy-algorithms for an old router, or use telnet.',
      { cause: error },
    );
  }
  return mapConnectError(error, endpoint, connectTimeoutMs);
}
