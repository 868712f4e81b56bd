// Errors sorted by who must act (STYLE.md principle 7; after Shopify cli-kit's AbortError/BugError).
// Every error lantop shows carries a message for the user and, where there is one, the next step.
// The exit code follows from the class, so the CLI never guesses (docs/cli.md lists them).

export const EXIT = {
  ok: 0,
  bug: 1,
  usage: 2,
  auth: 3,
  unreachable: 4,
  router: 5,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export abstract class LantopError extends Error {
  abstract readonly exitCode: ExitCode;
  /** What the user can do next, one short sentence; shown under the message. */
  readonly nextStep: string | undefined;
  constructor(message: string, nextStep?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.nextStep = nextStep;
  }
}

/** The user asked for something that cannot work as asked (bad flag, missing value). */
export class UsageError extends LantopError {
  readonly exitCode = EXIT.usage;
}

/** The router refused our user name or password. */
export class AuthError extends LantopError {
  readonly exitCode = EXIT.auth;
}

/** Could not reach the router: refused, unreachable, DNS, or a connect/command timeout. */
export class UnreachableError extends LantopError {
  readonly exitCode = EXIT.unreachable;
}

/** A timeout while connecting or waiting for a command's reply. */
export class TimeoutError extends UnreachableError {}

/** The connection dropped after it was established (router reboot, telnetd killed, link flap). */
export class ConnectionLostError extends UnreachableError {}

/** The router is not one we understand, or it refused a change (iptables error, not root…). */
export class RouterError extends LantopError {
  readonly exitCode = EXIT.router;
  /** The last lines the router printed, already sanitised for display. */
  readonly seen: string | undefined;
  constructor(message: string, nextStep?: string, options?: { cause?: unknown; seen?: string }) {
    super(message, nextStep, options);
    this.seen = options?.seen;
  }
}

/** A bug in lantop: the user should report it. */
export class BugError extends LantopError {
  readonly exitCode = EXIT.bug;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'This is a bug in lantop; please report it with the output of `--debug`.', options);
  }
}

export function exitCodeOf(error: unknown): ExitCode {
  return error instanceof LantopError ? error.exitCode : EXIT.bug;
}
