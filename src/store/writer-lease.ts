// At most one process records history per router (issue 7, "several lantop processes at once"):
// the writer_lease row names it, with an expiry its recorded polls renew. docs/history.md, "Several
// processes: the writer lease", gives the rules; recorder.ts drives them for the poller.

import type Database from 'better-sqlite3';
import { hostname as osHostname } from 'node:os';
import { prepareNoticeInsert } from './history-database.js';

export interface LeaseHolder {
  /** Unique per recorder instance (e.g. crypto.randomUUID()). */
  id: string;
  pid: number;
  hostname: string;
}

export interface LeaseInfo extends LeaseHolder {
  acquiredMs: number;
  expiresMs: number;
}

export interface LeaseAttempt {
  acquired: boolean;
  /** The lease as it stands after the attempt. */
  lease: LeaseInfo | null;
  /** Set when we replaced another holder: whose lease, and why. */
  tookOver: { from: LeaseInfo; reason: 'expired' | 'holder-dead' } | null;
}

export interface WriterLeaseOptions {
  /** Takeover: is this process alive on this machine? Default: signal 0. */
  isPidAlive?: (pid: number) => boolean;
  /** This machine's name. Default os.hostname(). */
  hostname?: string;
}

interface LeaseRow {
  holder: string;
  pid: number;
  hostname: string;
  acquired_ms: number;
  expires_ms: number;
}

function isPidAliveBySignal(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function leaseOf(row: LeaseRow | undefined): LeaseInfo | null {
  if (!row) return null;
  return { id: row.holder, pid: row.pid, hostname: row.hostname, acquiredMs: row.acquired_ms, expiresMs: row.expires_ms };
}

export class WriterLease {
  private readonly isPidAlive: (pid: number) => boolean;
  private readonly hostname: string;
  private readonly s;

  constructor(
    private readonly db: Database.Database,
    options: WriterLeaseOptions = {},
  ) {
    this.isPidAlive = options.isPidAlive ?? isPidAliveBySignal;
    this.hostname = options.hostname ?? osHostname();
    this.s = {
      get: db.prepare<[number], LeaseRow>('SELECT holder, pid, hostname, acquired_ms, expires_ms FROM writer_lease WHERE router_id = ?'),
      put: db.prepare<[number, string, number, string, number, number]>(
        `INSERT INTO writer_lease (router_id, holder, pid, hostname, acquired_ms, expires_ms) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (router_id) DO UPDATE SET holder = excluded.holder, pid = excluded.pid, hostname = excluded.hostname,
           acquired_ms = excluded.acquired_ms, expires_ms = excluded.expires_ms`,
      ),
      renew: db.prepare<[number, number, string]>('UPDATE writer_lease SET expires_ms = ? WHERE router_id = ? AND holder = ?'),
      release: db.prepare<[number, string]>('DELETE FROM writer_lease WHERE router_id = ? AND holder = ?'),
      insertNotice: prepareNoticeInsert(db),
    };
  }

  get(routerId: number): LeaseInfo | null {
    return leaseOf(this.s.get.get(routerId));
  }

  /** Would tryAcquire succeed now? Read-only: no write lock taken. */
  isAvailable(routerId: number, holderId: string, nowMs: number): boolean {
    const row = this.s.get.get(routerId);
    return !row || row.holder === holderId || row.expires_ms <= nowMs || this.isHolderDead(row);
  }

  /**
   * Takes the lease when it is free, ours, expired, or held by a dead process on this machine.
   * Atomic across processes (BEGIN IMMEDIATE). A takeover is recorded as a notice.
   */
  tryAcquire(routerId: number, holder: LeaseHolder, nowMs: number, ttlMs: number): LeaseAttempt {
    return this.db
      .transaction((): LeaseAttempt => {
        const row = this.s.get.get(routerId);
        const put = () => {
          this.s.put.run(routerId, holder.id, holder.pid, holder.hostname, row?.holder === holder.id ? row.acquired_ms : nowMs, nowMs + ttlMs);
          return leaseOf(this.s.get.get(routerId));
        };
        if (!row || row.holder === holder.id) return { acquired: true, lease: put(), tookOver: null };
        const reason = row.expires_ms <= nowMs ? 'expired' : this.isHolderDead(row) ? 'holder-dead' : null;
        if (reason === null) return { acquired: false, lease: leaseOf(row), tookOver: null };
        const from = leaseOf(row);
        if (!from) throw new Error('lease row without lease');
        this.s.insertNotice.run(
          routerId,
          nowMs,
          'info',
          'lease-takeover',
          `History recording taken over from process ${row.pid} on ${row.hostname.slice(0, 64)} (${reason === 'expired' ? 'its lease expired' : 'it is no longer running'}).`,
          null,
          null,
        );
        return { acquired: true, lease: put(), tookOver: { from, reason } };
      })
      .immediate();
  }

  /** Inside the poll's transaction: moves the expiry on; false when `holderId` no longer holds the lease. */
  renew(routerId: number, holderId: string, expiresMs: number): boolean {
    return this.s.renew.run(expiresMs, routerId, holderId).changes === 1;
  }

  release(routerId: number, holderId: string): void {
    this.s.release.run(routerId, holderId);
  }

  private isHolderDead(row: LeaseRow): boolean {
    return row.hostname === this.hostname && !this.isPidAlive(row.pid);
  }
}
