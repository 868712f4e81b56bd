// The seam between the screens/commands and everything that talks to a router or the database.
// The Ink app and the plain commands call a RouterController; tests pass a fake one.
import type { QuotaUsageView, Snapshot } from '../domain/snapshot.js';
import type { QuotaDirection, QuotaPeriod, QuotaSubject, QuotaThreshold } from '../domain/quota.js';
import type { ConnectionsView } from '../domain/connection-model.js';

/** One (device, address) pair from discovery; a device with several addresses has several. */
export interface DiscoveredHost {
  /** Who the device is: the MAC when known, else `ip:<address>`. */
  identity: string;
  ip: string;
  /** Every address the device holds right now, in address order; includes `ip`. */
  addresses: string[];
  mac: string | null;
  /** Raw from the router (hostile): sanitise at display time. */
  hostname: string | null;
  iface: string | null;
  /** True when lantop has accounting rules for this host. */
  isCounted: boolean;
}

export interface RulePlanView {
  action: 'setup' | 'flush' | 'teardown';
  /** The exact commands that would be sent, in order. Empty = nothing to do. */
  commands: string[];
  notes: string[];
  /** Rules in lantop's chains that lantop did not write, rendered as listing lines (raw). */
  foreignRules: string[];
  /** Hosts that get no rule because their address is not a valid IPv4 address (raw). */
  rejectedHosts: string[];
}

export interface ApplyResult {
  /** Commands that succeeded. */
  applied: string[];
  /** The first command that failed and what the router said (sanitised), if any. */
  failed: { command: string; output: string } | null;
  /** Verification after applying: does the router now match the plan? */
  isVerified: boolean;
  notes: string[];
}

export interface HistoryRow {
  identity: string;
  ip: string | null;
  mac: string | null;
  hostname: string | null;
  downBytes: number;
  upBytes: number;
}

/** Bytes per bucket, aligned with HistoryChart.bucketStartsMs; null = pruned (unknown, not zero). */
export interface HistorySeries {
  down: Array<number | null>;
  up: Array<number | null>;
}

/** The History screen's time chart (issue 17): the period's buckets at domain/chart-resolution's resolution. */
export interface HistoryChart {
  granularity: 'minute' | 'hour' | 'day';
  /** UTC-aligned bucket starts from the period's start up to now (the future part is not drawn). */
  bucketStartsMs: number[];
  /** All devices together. */
  total: HistorySeries;
  /** The device asked for (HistoryQuery.identity), `name` display-safe; null when none was asked. */
  device: (HistorySeries & { identity: string; name: string }) | null;
}

export interface HistoryView {
  period: string;
  startMs: number;
  endMs: number;
  rows: HistoryRow[];
  totals: { downBytes: number; upBytes: number };
  /** Periods back from the current one (0 now, -1 the one before); absent: 0. */
  offset?: number;
  /** Absent or null: no chart (a controller without series). */
  chart?: HistoryChart | null;
  /** Custom counters' totals in the period (issue 18), most bytes first; absent: none. Names are lantop's. */
  counters?: Array<{ name: string; bytes: number; packets: number }>;
}

/** `hours`: the last 6 hours, per minute (issue 17); the others as `lantop report --period`. */
export type HistoryPeriod = 'hours' | 'today' | 'yesterday' | 'week' | 'month' | 'cycle' | 'all';

/** Which neighbour of the period and whose series (issue 17: ←/→ and the device picker). */
export interface HistoryQuery {
  /** 0 = the current period, -1 the one before…; absent: 0. */
  offset?: number;
  /** A device's identity for its own series beside the total; absent or null: the total only. */
  identity?: string | null;
}

/** What a block or unblock from the app did, in words (display-safe). */
export interface BlockActionResult {
  isDone: boolean;
  message: string;
}

/** A quota as the app's form edits it (issue 16). */
export interface QuotaInput {
  subject: QuotaSubject;
  limitBytes: number;
  direction: QuotaDirection;
  period: QuotaPeriod;
  /** Notify at these percents; `block`: also block at 100 %. */
  notifyPercents: number[];
  block: boolean;
}

/** Whom a quota can be on: a known device, a person, or the whole line. `label` is display-safe. */
export interface QuotaSubjectChoice {
  subject: QuotaSubject;
  label: string;
}

export interface QuotaRowView {
  usage: QuotaUsageView;
  input: QuotaInput;
  thresholds: QuotaThreshold[];
}

/** The Quotas screen: quotas with their usage, who can have one, blocks now and the audit log. */
export interface QuotasView {
  quotas: QuotaRowView[];
  subjects: QuotaSubjectChoice[];
  /** Blocks on the router now (as lantop last read them). `name` is display-safe. */
  blocks: Array<{ identity: string; name: string; untilMs: number | null }>;
  /** Newest last. `name` and `reason` are display-safe. */
  audit: Array<{ atMs: number; action: 'block' | 'unblock' | 'expired'; name: string; reason: string; by: 'quota' | 'hand'; untilMs: number | null }>;
}

/** What the rows are, for the screens' words (issue 18): `{ one: 'user', many: 'users' }` in users mode. */
export interface SubjectNoun {
  one: string;
  many: string;
}

export interface RouterController {
  /** e.g. "198.51.100.1 over telnet" — for the connect spinner and status line. */
  readonly label: string;
  readonly protocol: 'telnet' | 'ssh' | 'local';
  /** What the rows are (users mode: users); absent: devices. */
  readonly subjectNoun?: SubjectNoun;
  connect(): Promise<void>;
  listHosts(): Promise<DiscoveredHost[]>;
  plan(action: RulePlanView['action'], options?: { isAdopting?: boolean }): Promise<RulePlanView>;
  apply(plan: RulePlanView): Promise<ApplyResult>;
  /** Starts polling (idempotent); every poll's snapshot goes to the listener. Returns stop(). */
  watch(listener: (snapshot: Snapshot) => void): () => void;
  /** A period's per-device totals and its time chart; `query` picks the neighbour period and a device's series. */
  history(period: HistoryPeriod, query?: HistoryQuery): Promise<HistoryView>;
  /** Blocks a device (by identity) for durationMs, or lifts its block (issue 16). Never rejects. */
  blockDevice(identity: string, durationMs: number): Promise<BlockActionResult>;
  unblockDevice(identity: string): Promise<BlockActionResult>;
  /** The router's quotas now (evaluated against the history), the subjects, blocks and audit. */
  quotas(): Promise<QuotasView>;
  /** Adds a quota, or replaces quota `replacesId` (edit). Rejects with a UsageError on bad input. */
  saveQuota(input: QuotaInput, replacesId?: number): Promise<void>;
  removeQuota(id: number): Promise<void>;
  /**
   * One read of a device's connections from the router's connection table (issue 19), with rates
   * against the previous read of the same device. Rejects with a RouterError when the router has no
   * readable connection table.
   */
  connections(identity: string): Promise<ConnectionsView>;
  /** Turns the router's connection accounting on (nf_conntrack_acct=1), after the user's consent. Never rejects. */
  enableConnectionAccounting(): Promise<BlockActionResult>;
  close(): Promise<void>;
}
