// The blocking seam (issue 16, "Blocking"). A block drops a device's forwarded traffic both ways —
// by MAC where the firewall can match one, by address always — and carries its expiry on the router
// itself where the firewall can hold one, so it lifts when lantop is not running. Blocking lives in
// lantop's own, separately removable objects and touches forwarding only, never the router's input:
// the owner can always log in and unblock. A backend owns the objects; RouterClient talks to it only
// through this interface (block-loader.ts), and the safety check (domain/never-block.ts) runs before.
//
// Commands are built from validated tokens only (canonical MACs from router/tokens.ts, addresses
// from domain/address.ts, integers and times lantop computed); router text never reaches one.
import type { CommandSpec } from '../firmware/families.js';
import type { ApplyOutcome, RunCommand } from './backend.js';

/** What to block: the device's identity (MAC, or `ip:<address>`), its MAC if known, its addresses, until when. */
export interface BlockTarget {
  identity: string;
  mac: string | null;
  addresses: string[];
  untilMs: number;
}

/** A block on the router, as read back (expired ones included until lantop removes them). */
export interface BlockEntry {
  /** Read from lantop's tag; null when the router keeps no tag (an untagged rule). */
  identity: string | null;
  mac: string | null;
  addresses: string[];
  /** When it lifts; null when the router holds no expiry and lantop's tag carries none. */
  untilMs: number | null;
  isExpired: boolean;
}

/** One read of lantop's block objects. */
export interface BlockReading {
  entries: BlockEntry[];
  /** lantop's block objects exist (chain and jump / table): a block only adds entries then. */
  isInstalled: boolean;
  /** What the read could not understand or what is missing, in words (display-safe). */
  notes: string[];
}

/** A block plan: the commands, in order, and what they do not do, in words. */
export interface BlockPlan {
  commands: string[];
  notes: string[];
}

export interface BlockBackend<R extends BlockReading = BlockReading> {
  readonly kind: 'iptables' | 'nftables';
  /** The read-only commands of one read, in order; read() gets their answers in the same order. */
  readonly readCommands: readonly CommandSpec[];
  read(answers: readonly string[], nowMs: number): R;
  /** Blocks target until target.untilMs (a block of the same identity is replaced). */
  planBlock(target: BlockTarget, nowMs: number, reading: R): BlockPlan;
  /**
   * After a block was applied: end the device's established connections where the router can
   * (conntrack). Their answers are not judged ("0 flow entries have been deleted" is fine).
   */
  planEndConnections(target: BlockTarget): CommandSpec[];
  planUnblock(which: string | 'all', reading: R): string[];
  planRemoveExpired(reading: R, nowMs: number): string[];
  /** Every block object, gone: the ruleset as before the first block. */
  planTeardown(reading: R): string[];
  /** Sends a plan, stopping at the first refusal. */
  apply(run: RunCommand, commands: readonly string[]): Promise<ApplyOutcome>;
  /**
   * A refusal that means the router lacks an optional match (time, mac, comment): the backend does
   * without it from now on and says so; the caller reads and plans again. null: a real failure.
   */
  fallBackAfter(failed: NonNullable<ApplyOutcome['failed']>): string | null;
  describe(): string;
}

/** The tag on every block object: `lantop-block:<identity>@<unix seconds of the expiry>`. */
export const BLOCK_TAG_PREFIX = 'lantop-block:';

/** Longest block: the iptables time match reads dates up to 2038 (libxt_time.man); a year is plenty. */
export const MAX_BLOCK_MS = 366 * 24 * 3600 * 1000;
