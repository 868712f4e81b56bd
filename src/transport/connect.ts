// The one entry point the rest of lantop needs: connection settings in, a persistent,
// reconnecting session to a router over telnet or SSH (or this machine's own shell, issue 18) out.
import type { ConnectionState } from '../domain/snapshot.js';
import { warnTelnetCleartextOnce } from './credentials.js';
import { describeEndpoint } from './errors.js';
import { connectLocal, LOCAL_ENDPOINT } from './local-session.js';
import { ReconnectingSession, type ConnectionSession, type Timers } from './reconnecting-session.js';
import type { ConnectionOptions, TraceEvent } from './session.js';
import { connectTelnet } from './telnet.js';

export interface OpenSessionOptions extends ConnectionOptions {
  /** SSH: the fingerprint stored with the profile; absent on first use. */
  hostKeyFingerprint?: string;
  /** SSH first use: store this fingerprint with the profile. */
  onNewHostKey?: (fingerprint: string) => void;
  /** SSH: offer legacy algorithms (true), retry with them on failure ('auto', default), never (false). */
  legacyAlgorithms?: boolean | 'auto';
  /** One-time notices for the user: telnet in clear text, legacy SSH algorithms enabled. */
  onWarning?: (text: string) => void;
  /**
   * Telnet: say TELNET_CLEARTEXT_WARNING through onWarning, once per process (default true). false
   * when the caller says it itself (the app: before asking for the password, or on screen).
   */
  warnsAboutCleartextTelnet?: boolean;
  /** Go from a vendor CLI to the BusyBox shell after login, and again after every reconnect. */
  enterShell?: boolean;
  /** The wire dialogue of every connection, for `--trace` (password masked). */
  onTrace?: (event: TraceEvent) => void;
  onStateChange?: (state: ConnectionState) => void;
  /** false: do not connect now; the first exec does (errors surface there). Default true. */
  connectNow?: boolean;
  /** Backoff tuning and injectable time (tests). */
  initialReconnectDelayMs?: number;
  maxReconnectDelayMs?: number;
  timers?: Timers;
}

/** A factory for single connections (what ReconnectingSession calls on every (re)connect). */
function connectionFactory(options: OpenSessionOptions): () => Promise<ConnectionSession> {
  if (options.protocol === 'local') {
    return () =>
      connectLocal({
        commandTimeoutMs: options.commandTimeoutMs,
        startTimeoutMs: options.connectTimeoutMs,
        ...(options.onTrace ? { onTrace: options.onTrace } : {}),
      });
  }
  if (options.protocol === 'telnet') {
    return () =>
      connectTelnet({
        host: options.host,
        port: options.port,
        user: options.user,
        password: options.password,
        connectTimeoutMs: options.connectTimeoutMs,
        commandTimeoutMs: options.commandTimeoutMs,
        ...(options.enterShell !== undefined ? { enterShell: options.enterShell } : {}),
        ...(options.onTrace ? { onTrace: options.onTrace } : {}),
      });
  }
  // The key seen first stays pinned for reconnects, even if the caller does not store it.
  let pinned = options.hostKeyFingerprint;
  return async () => {
    // ssh2 is loaded only for SSH routers: telnet users (and `lantop demo`) do not pay its start-up.
    const { connectSsh } = await import('./ssh.js');
    const session = await connectSsh({
      host: options.host,
      port: options.port,
      user: options.user,
      password: options.password,
      connectTimeoutMs: options.connectTimeoutMs,
      commandTimeoutMs: options.commandTimeoutMs,
      ...(pinned !== undefined ? { hostKeyFingerprint: pinned } : {}),
      onNewHostKey: (fingerprint) => options.onNewHostKey?.(fingerprint),
      ...(options.legacyAlgorithms !== undefined ? { legacyAlgorithms: options.legacyAlgorithms } : {}),
      ...(options.onWarning ? { onWarning: options.onWarning } : {}),
      ...(options.enterShell !== undefined ? { enterShell: options.enterShell } : {}),
      ...(options.onTrace ? { onTrace: options.onTrace } : {}),
    });
    pinned = session.hostKeyFingerprint;
    return session;
  };
}

/**
 * Opens a persistent reconnecting session. With connectNow (default) it logs in before returning
 * and rejects with the typed error (AuthError, UnreachableError, TimeoutError, RouterError,
 * HostKeyChangedError) — nothing is left running then.
 */
export async function openSession(options: OpenSessionOptions): Promise<ReconnectingSession> {
  if (options.protocol === 'telnet' && options.onWarning && options.warnsAboutCleartextTelnet !== false) warnTelnetCleartextOnce(options.onWarning);
  const session = new ReconnectingSession({
    factory: connectionFactory(options),
    target: describeEndpoint(options.protocol === 'local' ? LOCAL_ENDPOINT : options),
    ...(options.enterShell !== undefined ? { enterShell: options.enterShell } : {}),
    ...(options.initialReconnectDelayMs !== undefined ? { initialDelayMs: options.initialReconnectDelayMs } : {}),
    ...(options.maxReconnectDelayMs !== undefined ? { maxDelayMs: options.maxReconnectDelayMs } : {}),
    ...(options.timers ? { timers: options.timers } : {}),
  });
  if (options.onStateChange) session.onStateChange(options.onStateChange);
  if (options.connectNow === false) return session;
  try {
    await session.connect();
  } catch (error) {
    await session.close().catch(() => undefined);
    throw error;
  }
  return session;
}
