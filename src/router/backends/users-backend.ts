// The users-mode counting seam (issue 18): how per-session counters are kept on a Linux gateway.
// Two backends: iptables (a LANTOP_USERS chain per family, iptables/users-backend.ts) and nftables
// (lantop's own `table inet lantop_users`, nftables/users-backend.ts). The poller
// (app/users-mode.ts) asks a backend what its poll must list, hands back those sections' text,
// and gets per-session counters and a plan; it never sees chains, tables or handles.
import type { RunCommand } from './backend.js';

/** What a session's rules need: who (the tag) and the client end of its TCP connection. */
export interface SessionEndpoint {
  pid: number;
  user: string;
  clientIp: string;
  clientPort: number;
}

export interface SessionCounters extends SessionEndpoint {
  /** `pid/ip/port`, as the session tracker names sessions. */
  id: string;
  downBytes: number;
  upBytes: number;
  downPackets: number;
  upPackets: number;
  /** Both rules are listed (a session with one rule counts one direction only). */
  isComplete: boolean;
}

export function sessionId(s: SessionEndpoint): string {
  return `${s.pid}/${s.clientIp}/${s.clientPort}`;
}

/** One listing command of the poll, answered under its own section (name: [a-z0-9]{1,8}). */
export interface UsersListingPart {
  section: string;
  /** A shell command lantop built from validated words only. */
  command: string;
}

export interface UsersReading {
  /** Each session's counters (both families), by session id. */
  counters: Map<string, SessionCounters>;
}

export interface UsersPlan {
  /** argv of each command (the binary first), as `shellLine` prints it for a dry run. */
  commands: string[][];
  added: SessionEndpoint[];
  removed: SessionEndpoint[];
  notes: string[];
}

export interface UsersSendOutcome {
  /** The commands applied, as shell lines. */
  applied: string[];
  /** The first refusal (raw router text: sanitise before display); nothing after it was sent. */
  failed: { command: string; output: string } | null;
}

export interface UsersBackend<R extends UsersReading = UsersReading> {
  readonly kind: 'iptables' | 'nftables';
  /** For messages: where the sessions are counted. */
  readonly where: string;
  /** The poll's listing parts, in order. */
  listingParts(): UsersListingPart[];
  /** The listing sections of one poll → counters; throws RouterError when they are no listing. */
  read(sections: ReadonlyMap<string, string>): R;
  /** The commands that leave exactly `sessions` counted (a second plan on the result is empty). */
  plan(reading: R, sessions: readonly SessionEndpoint[]): UsersPlan;
  /** `teardown`: everything lantop put in, from a fresh listing. */
  planRemoval(run: (command: string) => Promise<string>): Promise<UsersPlan>;
  /** Sends plan commands in order, stopping at the first refusal. */
  send(run: RunCommand, commands: readonly string[][], options: { nonce: string; maxLineBytes: number }): Promise<UsersSendOutcome>;
}
