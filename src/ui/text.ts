// Router text on screen: every hostname, MAC, notice or error text passes through here, so
// escape sequences and control bytes never reach the terminal and nothing outgrows its column.
import { sanitizeText, sanitizeBlock } from '../sanitize.js';
import { isUnattributedIdentity, UNATTRIBUTED_IPV6_NAME } from '../domain/snapshot.js';
import { LantopError, RouterError, AuthError, exitCodeOf, type ExitCode } from '../errors.js';

export const NO_NAME = '(no name)';

export const DEFAULT_TELNET_WARNING = 'Telnet is unencrypted: your router password crosses the LAN in clear text. Use --protocol ssh if the router offers it.';

/** A hostname for a cell `width` wide; blank or missing names read "(no name)". */
export function displayName(hostname: string | null | undefined, width = 64): string {
  const clean = hostname === null || hostname === undefined ? '' : sanitizeText(hostname, Math.max(1, width)).trim();
  return clean === '' ? NO_NAME : clean;
}

/** A row's name: its hostname as displayName gives it, or "unattributed IPv6" for that row (no router text). */
export function rowName(row: { identity: string; hostname: string | null }, width = 64): string {
  return isUnattributedIdentity(row.identity) ? UNATTRIBUTED_IPV6_NAME.slice(0, Math.max(1, width)) : displayName(row.hostname, width);
}

/** Any router-provided value for a cell `width` wide ('' for null). */
export function cellText(value: string | null | undefined, width = 64): string {
  return value === null || value === undefined ? '' : sanitizeText(value, Math.max(1, width));
}

export interface ErrorView {
  title: string;
  message: string;
  nextStep: string | null;
  seen: string | null;
  isAuth: boolean;
  /** What `lantop` exits with if the user quits on this error. */
  exitCode: ExitCode;
}

/** What the screens show for a failed controller call, already sanitised. */
export function describeError(error: unknown): ErrorView {
  if (error instanceof LantopError) {
    return {
      title: error instanceof AuthError ? 'Login failed' : error.name.replace(/Error$/, '') || 'Error',
      message: sanitizeText(error.message, 1000),
      nextStep: error.nextStep ? sanitizeText(error.nextStep, 500) : null,
      seen: error instanceof RouterError && error.seen ? sanitizeBlock(error.seen, 200, 8) : null,
      isAuth: error instanceof AuthError,
      exitCode: error.exitCode,
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return {
    title: 'Unexpected error',
    message: sanitizeText(message, 1000),
    nextStep: 'This is a bug in lantop; please report it with the output of `--debug`.',
    seen: null,
    isAuth: false,
    exitCode: exitCodeOf(error),
  };
}
