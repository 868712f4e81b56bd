// Transport failures → the typed errors of src/errors.ts, with the message a user needs.
import {
  AuthError,
  ConnectionLostError,
  LantopError,
  RouterError,
  TimeoutError,
  UnreachableError,
} from '../errors.js';
import { sanitizeBlock, sanitizeText } from '../sanitize.js';

export interface Endpoint {
  host: string;
  port: number;
}

export function describeEndpoint(endpoint: Endpoint): string {
  const host = sanitizeText(endpoint.host, 128);
  // Port 0: no socket at all (local mode's shell on this machine, issue 18).
  if (endpoint.port === 0) return host;
  return host.includes(':') ? `[${host}]:${endpoint.port}` : `${host}:${endpoint.port}`;
}

export function seconds(ms: number): string {
  const value = ms / 1000;
  return `${Number.isInteger(value) ? value : value.toFixed(1)} s`;
}

/** The router's SSH host key differs from the one pinned on first use. */
export class HostKeyChangedError extends RouterError {
  readonly expectedFingerprint: string;
  readonly actualFingerprint: string;
  constructor(endpoint: Endpoint, expected: string, actual: string) {
    super(
      `The SSH host key of ${describeEndpoint(endpoint)} has changed: expected ${expected}, got ${actual}. ` +
        'lantop refused to connect: this can mean someone is intercepting the connection, or the router was reset or replaced.',
      'If you trust the change (e.g. after a firmware update or factory reset), run again with ' +
        `--accept-host-key ${actual} to pin the new key.`,
    );
    this.expectedFingerprint = expected;
    this.actualFingerprint = actual;
  }
}

export function authError(endpoint: Endpoint, user: string, protocol: 'telnet' | 'ssh', howSeen?: string): AuthError {
  return new AuthError(
    `${describeEndpoint(endpoint)} refused the login${howSeen ? ` (${howSeen})` : ''}: wrong user name or password (user '${sanitizeText(user, 64)}', ${protocol}).`,
    'Check the user name and the password (LANTOP_PASSWORD, --password-env or --password-file) and try again.',
  );
}

/** Local mode (issue 18) cannot become root: sudo asks for a password, refuses, or is missing. */
export function localRootError(why: string, seen?: string): AuthError {
  return new AuthError(
    `Local mode needs root, and ${why}${seen ? `: ${sanitizeText(seen, 160)}` : ''}.`,
    "Run as root, or allow sudo without a password for lantop's commands (sudo -n /bin/sh).",
  );
}

export function connectTimeoutError(endpoint: Endpoint, timeoutMs: number, what = 'connecting'): TimeoutError {
  return new TimeoutError(
    `No answer from ${describeEndpoint(endpoint)} within ${seconds(timeoutMs)} while ${what}.`,
    'Check the router address and port, that the router is on, and that telnet/SSH is enabled; raise --timeout (milliseconds) for a slow router.',
  );
}

export function commandTimeoutError(endpoint: Endpoint, command: string, timeoutMs: number): TimeoutError {
  return new TimeoutError(
    `No complete reply from ${describeEndpoint(endpoint)} to '${sanitizeText(command, 80)}' within ${seconds(timeoutMs)}; the connection was reset.`,
    'lantop reconnects on the next command; raise --timeout (milliseconds) if the router is just slow.',
  );
}

export function connectionLostError(endpoint: Endpoint, during: string, cause?: unknown): ConnectionLostError {
  const code = errorCode(cause);
  return new ConnectionLostError(
    `The connection to ${describeEndpoint(endpoint)} closed ${during}${code ? ` (${code})` : ''}.`,
    'lantop reconnects automatically; if this keeps happening, check the router (reboot, telnetd/dropbear limits).',
    { cause },
  );
}

export function notUnderstoodError(endpoint: Endpoint, what: string, seen: string): RouterError {
  return new RouterError(
    `${describeEndpoint(endpoint)} ${what}; this is not a router shell lantop understands.`,
    'Check the protocol and port (telnet vs SSH), and open an issue with the lines shown below if this is a router lantop should support.',
    { seen: sanitizeBlock(seen, 200, 12) },
  );
}

function errorCode(error: unknown): string | undefined {
  if (error && typeof error === 'object' && 'code' in error && typeof error.code === 'string') return error.code;
  return undefined;
}

/** Maps a socket/DNS error while connecting to the error the user should see. */
export function mapConnectError(error: unknown, endpoint: Endpoint, connectTimeoutMs: number): LantopError {
  if (error instanceof LantopError) return error;
  const code = errorCode(error);
  const where = describeEndpoint(endpoint);
  const message = error instanceof Error ? error.message : String(error);
  switch (code) {
    case 'ECONNREFUSED':
      return new UnreachableError(
        `${where} refused the connection (ECONNREFUSED): nothing listens on that port.`,
        'Check the port (--port; telnet is usually 23, SSH 22) and that the telnet/SSH service is enabled on the router.',
        { cause: error },
      );
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
    case 'ENETDOWN':
    case 'EADDRNOTAVAIL':
      return new UnreachableError(
        `Cannot reach ${where} (${code}): no route to the router.`,
        'Check that this computer is on the router\'s network and that the address is right.',
        { cause: error },
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return new UnreachableError(
        `Cannot resolve the router name '${sanitizeText(endpoint.host, 128)}' (${code}).`,
        'Check the spelling of --host, or use the router\'s IP address.',
        { cause: error },
      );
    case 'ETIMEDOUT':
      return connectTimeoutError(endpoint, connectTimeoutMs);
    case 'ECONNRESET':
    case 'EPIPE':
      return connectionLostError(endpoint, 'while connecting', error);
    default:
      if (/cannot connect|timed? ?out/i.test(message)) return connectTimeoutError(endpoint, connectTimeoutMs);
      return new UnreachableError(
        `Cannot connect to ${where}: ${sanitizeText(message, 160)}${code ? ` (${code})` : ''}.`,
        'Check the router address, port and protocol.',
        { cause: error },
      );
  }
}
