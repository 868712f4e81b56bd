// The history database (issue 7) behind one handle: opens the file and composes its parts, each
// with its own reason to change: router-registry.ts (router ids), writer-lease.ts (one writer per
// router), history-writer.ts (a poll → rows, rollups), history-retention.ts (pruning),
// history-queries.ts (reports), state-codec.ts (the stored accounting state). Callers that need
// only one side can take the HistoryWriter or HistoryQueries type. docs/history.md explains the
// schema, crash safety and the lease.

import type Database from 'better-sqlite3';
import type { AccountingResult, AccountingState } from '../domain/accounting.js';
import { openHistoryDatabase } from './history-database.js';
import { HistoryReader, type HistoryQueries, type PeriodReport, type SeriesPoint, type StoredNotice } from './history-queries.js';
import { HistoryRetention, resolveRetention, type PruneResult, type RetentionOptions } from './history-retention.js';
import { PollWriter, type HistoryWriter, type StoredState } from './history-writer.js';
import type { Availability, Granularity } from './range-plan.js';
import { RouterRegistry } from './router-registry.js';
import { QuotaStore } from './quota-store.js';
import { WanStore } from './wan-store.js';
import { ClassStore } from './class-store.js';
import { CounterStore } from './counter-store.js';
import { ReportSendStore } from './report-sends.js';
import { WriterLease, type LeaseAttempt, type LeaseHolder, type LeaseInfo, type WriterLeaseOptions } from './writer-lease.js';

// What src/app/commands.ts and src/output/json.ts import from here besides the store.
export { defaultHistoryPath } from './history-paths.js';
export type { PeriodReport };

export interface HistoryStoreOptions extends WriterLeaseOptions {
  /** File path, or ':memory:'. See defaultHistoryPath(). */
  path: string;
  retention?: RetentionOptions;
  /** How long a statement waits for another process's write lock. Default 5 s. */
  busyTimeoutMs?: number;
  /** Prune old rows automatically once per hour of recorded polls. Default true. */
  autoPrune?: boolean;
}

export class HistoryStore implements HistoryWriter, HistoryQueries {
  private readonly db: Database.Database;
  private readonly routers: RouterRegistry;
  private readonly lease: WriterLease;
  private readonly retention: HistoryRetention;
  private readonly writer: PollWriter;
  private readonly reader: HistoryReader;
  private quotaStore: QuotaStore | null = null;
  private wanStore: WanStore | null = null;
  private classStore: ClassStore | null = null;
  private counterStore: CounterStore | null = null;
  private reportStore: ReportSendStore | null = null;

  static open(options: HistoryStoreOptions): HistoryStore {
    return new HistoryStore(options);
  }

  private constructor(options: HistoryStoreOptions) {
    // Checked before the file is created: a bad setting must not leave an empty database behind.
    const retention = resolveRetention(options.retention);
    this.db = openHistoryDatabase(options.path, options.busyTimeoutMs);
    this.routers = new RouterRegistry(this.db);
    this.lease = new WriterLease(this.db, options);
    this.retention = new HistoryRetention(this.db, retention);
    this.writer = new PollWriter(this.db, this.lease, (options.autoPrune ?? true) ? this.retention : null);
    this.reader = new HistoryReader(this.db, this.routers, this.retention);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Quotas, persons, crossings and the block audit log (issue 16), in this database; prepared on first use. */
  get quotas(): QuotaStore {
    return (this.quotaStore ??= new QuotaStore(this.db, this.retention));
  }

  /** Per-minute WAN reconciliation rows and the reconciler's last baselines (issue 19); prepared on first use. */
  get wan(): WanStore {
    return (this.wanStore ??= new WanStore(this.db, this.routers));
  }

  /** Per-minute bytes per traffic class and the class accountant's last state (issue 19); prepared on first use. */
  get classes(): ClassStore {
    return (this.classStore ??= new ClassStore(this.db, this.routers));
  }

  /** Custom counters (issue 18): the counters per router, their per-minute bytes and packets, the accountant's last state; prepared on first use. */
  get counters(): CounterStore {
    return (this.counterStore ??= new CounterStore(this.db, this.routers));
  }

  /** Scheduled reports sent, claimed or failed, once per (schedule, router, period) (issue 17); prepared on first use. */
  get reports(): ReportSendStore {
    return (this.reportStore ??= new ReportSendStore(this.db));
  }

  // ---- routers -------------------------------------------------------------------------------

  routerId(key: string, nowMs: number): number {
    return this.routers.routerId(key, nowMs);
  }

  findRouter(key: string): number | null {
    return this.routers.findRouter(key);
  }

  // ---- the writer lease ----------------------------------------------------------------------

  getLease(routerId: number): LeaseInfo | null {
    return this.lease.get(routerId);
  }

  isLeaseAvailable(routerId: number, holderId: string, nowMs: number): boolean {
    return this.lease.isAvailable(routerId, holderId, nowMs);
  }

  tryAcquireLease(routerId: number, holder: LeaseHolder, nowMs: number, ttlMs: number): LeaseAttempt {
    return this.lease.tryAcquire(routerId, holder, nowMs, ttlMs);
  }

  releaseLease(routerId: number, holderId: string): void {
    this.lease.release(routerId, holderId);
  }

  // ---- writing -------------------------------------------------------------------------------

  recordPoll(routerId: number, holderId: string, result: AccountingResult, state: AccountingState, leaseTtlMs: number): boolean {
    return this.writer.recordPoll(routerId, holderId, result, state, leaseTtlMs);
  }

  loadState(routerId: number): StoredState | null {
    return this.writer.loadState(routerId);
  }

  invalidateCache(routerId: number): void {
    this.writer.invalidateCache(routerId);
  }

  // ---- retention -----------------------------------------------------------------------------

  availability(): Availability {
    return this.retention.availability();
  }

  prune(nowMs: number): PruneResult {
    return this.retention.prune(nowMs);
  }

  // ---- queries -------------------------------------------------------------------------------

  hostTotals(routerId: number, startMs: number, endMs: number, options: { top?: number } = {}): PeriodReport {
    return this.reader.hostTotals(routerId, startMs, endMs, options);
  }

  series(routerId: number, identity: string | null, startMs: number, endMs: number, granularity: Granularity): SeriesPoint[] {
    return this.reader.series(routerId, identity, startMs, endMs, granularity);
  }

  notices(routerId: number, startMs: number, endMs: number): StoredNotice[] {
    return this.reader.notices(routerId, startMs, endMs);
  }

  /** For tests and diagnostics (the crash test checks the file after SIGKILL): SQL stays in store/. */
  integrityCheck(): string {
    return String(this.db.pragma('integrity_check', { simple: true }));
  }
}
