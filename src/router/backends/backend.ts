// The accounting-backend seam (issue 14). The domain speaks of counters per host address and
// direction and of an installation that is complete, incomplete or missing; a backend owns the rest:
// what to install, how to read every counter in one round trip, how to recognise its own objects,
// how to remove them, and how to describe them to a person. RouterClient talks to a router only
// through this interface and chooses the backend from the detected capabilities.
//
// Recipe (docs/codebase.md, "Add a backend"): implement AccountingBackend in
// src/router/backends/<name>/, return it from chooseBackend for the capabilities it needs, and give
// it the same tests as the iptables backend (plans against captured listings, a lab e2e run).
import type { CounterPair } from '../../domain/accounting.js';
import type { InstallationState } from '../../domain/poller.js';
import type { RouterOutputProblem } from '../parsers/router-errors.js';
import type { CommandSpec } from '../firmware/families.js';
import type { TrafficClass } from '../../domain/traffic-class.js';
import type { CustomCounter } from '../../domain/custom-counter.js';
import type { CounterCount } from '../../domain/counter-usage.js';

/** One read of the router's counters, as the backend understood it. */
export interface BackendReading {
  /** Cumulative counters per canonical host address. */
  counters: Map<string, CounterPair>;
  installation: InstallationState;
  /** What this read could not count, in words (display-safe), e.g. IPv6 off; absent: nothing to say. */
  notes?: string[];
  /**
   * The router's own traffic on the WAN (issue 19), cumulative, both families summed: down = what
   * the router itself received from the WAN (INPUT), up = what it sent there (OUTPUT). null or
   * absent: not counted here (the counters are not installed, or this backend cannot).
   */
  routerCounters?: CounterPair | null;
  /**
   * The host counters are complete but the router's own counters are not in place (an installation
   * from before issue 19, or the firmware removed them): poll-time sync adds them. They never make
   * `installation` incomplete: host counting does not depend on them.
   */
  isRouterCounterMissing?: boolean;
  /**
   * Traffic classes (issue 19: `setup --ports/--protocols`), cumulative per class key
   * (domain/traffic-class.ts classKey), both families summed: down = from the WAN, up = to it.
   * Absent or empty: none installed.
   */
  classCounters?: Map<string, CounterPair>;
  /** The classes installed on the router now (read back from lantop's own rules), in classKey order. */
  installedClasses?: TrafficClass[];
}

/** Custom counters as one read found them (issue 18). */
export interface CustomCounterReading {
  /** Cumulative bytes and packets by counter name, both families summed; a counter without its rule is absent. */
  counts: Map<string, CounterCount>;
  /** The router holds exactly these counters (a plan of them alone would send nothing). */
  isInPlace: boolean;
}

/** A second command of the same read, for a router that cannot run both in one line (issue 15). */
export interface ReadFollowUp {
  command: CommandSpec;
  /** The line RouterClient puts between the two answers in the text read() gets. */
  separator: string;
}

export interface InstallPlan {
  /** The exact commands, in order (dry-run prints them). Empty when the router already matches. */
  commands: string[];
  /** lantop's objects that lantop did not write, one line each (raw router text: sanitise). */
  foreign: string[];
  /** Host addresses this backend cannot count (raw): they get no counters. */
  rejectedHosts: string[];
  /** What the plan does, in words (moved jump, removed duplicates, …). */
  notes: string[];
  /** A limit of this installation worth saying next to it (e.g. "rules untagged: no comment match"). */
  caveat: string | null;
}

export interface InstallOptions {
  /**
   * The traffic classes to count (issue 19). Absent or null: keep the classes installed now (poll-time
   * sync never changes them); []: remove every class counter; a list: exactly these.
   */
  classes?: readonly TrafficClass[] | null;
  /**
   * Custom counters (issue 18, `lantop counter add`; kept in the history database, so the caller
   * always knows them): exactly these ([]: none, their chains go). Absent or null: the counter
   * chains are left as they are.
   */
  counters?: readonly CustomCounter[] | null;
  /** Take over objects in lantop's place that lantop did not write. */
  isAdopting: boolean;
  /** Remove the counters of hosts that left (off by default: their counters are history). */
  isPruning: boolean;
}

export type RunCommand = (spec: CommandSpec) => Promise<string>;

/** A read fed the reply's lines while they arrive (ExecOptions.onLines); finish(text) = read(text). */
export interface IncrementalRead<R extends BackendReading = BackendReading> {
  push(lines: string): void;
  finish(text: string): R;
}

export interface ApplyOutcome {
  applied: string[];
  failed: { command: string; output: string; problem: RouterOutputProblem | null } | null;
  isVerified: boolean;
  notes: string[];
}

/** How messages name the backend's objects: "a TRAFFIC chain" / "the TRAFFIC chain". */
export interface ObjectNames {
  indefinite: string;
  definite: string;
}

/** The ways lantop can count; `--backend NAME` asks for one where several exist. */
export const BACKEND_KINDS = ['iptables', 'nftables'] as const;
export type BackendKind = (typeof BACKEND_KINDS)[number];

export interface AccountingBackend<R extends BackendReading = BackendReading> {
  readonly kind: BackendKind;
  readonly names: ObjectNames;
  /** What lantop installs here, for people (dry-run, doctor). */
  describe(): string;
  /** The one command a poll sends: every counter in one round trip. */
  readonly readCommand: CommandSpec;
  /**
   * Optional: a second command each read sends after readCommand where one line cannot carry every
   * counter (iptables in a vendor CLI, which runs one command per line, beside ip6tables). read()
   * then gets `first + '\n' + separator + '\n' + second`. Absent or null: one round trip.
   */
  readonly readFollowUp?: ReadFollowUp | null;
  /** The answer to readCommand, understood; throws a RouterError when it is not what was asked. */
  read(text: string): R;
  /**
   * Optional: read while the answer arrives — most of the parsing is done when its last bytes come
   * in (issue 21). Its finish(text) returns and throws what read(text) would.
   */
  readIncrementally?(): IncrementalRead<R>;
  /** Optional (issue 18): the custom counters in a reading, and whether they are in place as wanted. */
  readCustomCounters?(reading: R, counters: readonly CustomCounter[]): CustomCounterReading;
  planInstall(reading: R, hostAddresses: readonly string[], options: InstallOptions): InstallPlan;
  /** Empty lantop's objects (they stay; a later install re-adds the counters). */
  planFlush(reading: R): string[];
  /** Remove lantop's objects, nothing else. */
  planRemove(reading: R): string[];
  /** Sends a plan in as few round trips as the router allows, stopping at the first refusal. */
  apply(run: RunCommand, commands: readonly string[]): Promise<ApplyOutcome>;
  /** After applying to what `before` read: was everything installed from scratch (all counters at 0)? */
  isFreshInstall(before: R, applied: readonly string[]): boolean;
  /** The hosts among `addresses` that the applied commands gave a counter. */
  countedBy(applied: readonly string[], addresses: readonly string[]): string[];
  /** After a failed apply: what is in place and what is not, in words. */
  describeInstallation(reading: R): string[];
  /**
   * A refusal that means the router lacks an optional feature this backend can do without (iptables:
   * the comment match). Returns a note when the backend has switched to the simpler form; the
   * caller then reads and plans again. null: a real failure.
   */
  fallBackAfter(failed: NonNullable<ApplyOutcome['failed']>): string | null;
}
