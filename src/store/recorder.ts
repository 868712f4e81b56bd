// One process records history for a router; the others read (issue 7, "several lantop processes
// at once"). The recorder wraps the lease protocol so the poller only has to:
//
//   const role = recorder.ensureRole();               // before each poll
//   if (role.becameWriter && role.restore) accountant = new Accountant(opts, role.restore);
//   const result = accountant.process(input);
//   if (recorder.role === 'writer') recorder.record(result, accountant.exportState());
//   …
//   recorder.close();                                  // on exit: frees the lease at once
//
// Replacing the accountant on takeover is what prevents double counting: the restored state's
// baselines are exactly what the previous writer last committed.

import { randomUUID } from 'node:crypto';
import { hostname as osHostname } from 'node:os';
import type { Clock } from '../domain/clock.js';
import type { AccountingResult, AccountingState } from '../domain/accounting.js';
import type { HistoryPort } from '../domain/poller.js';
import type { HistoryWriter } from './history-writer.js';
import type { LeaseAttempt, LeaseHolder, LeaseInfo } from './writer-lease.js';

export const DEFAULT_LEASE_TTL_MS = 30_000;

export type RecorderRole = 'writer' | 'reader';

export interface RoleCheck {
  role: RecorderRole;
  /** True on the check that made this process the writer. */
  becameWriter: boolean;
  /** With becameWriter: the state to continue from (null: no history for this router yet). */
  restore: AccountingState | null;
  /** With becameWriter: whom we replaced, and why. */
  tookOver: LeaseAttempt['tookOver'];
  /** With role reader: who writes. */
  writer: LeaseInfo | null;
}

export interface RecorderOptions {
  clock: Clock;
  leaseTtlMs?: number;
  holder?: LeaseHolder;
}

export class HistoryRecorder implements HistoryPort {
  readonly routerId: number;
  readonly holder: LeaseHolder;
  private readonly ttlMs: number;
  private currentRole: RecorderRole = 'reader';

  constructor(
    private readonly store: HistoryWriter,
    routerKey: string,
    private readonly options: RecorderOptions,
  ) {
    this.routerId = store.routerId(routerKey, options.clock.now());
    this.holder = options.holder ?? { id: randomUUID(), pid: process.pid, hostname: osHostname() };
    this.ttlMs = options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
  }

  get role(): RecorderRole {
    return this.currentRole;
  }

  ensureRole(): RoleCheck {
    const now = this.options.clock.now();
    if (this.currentRole === 'reader' && !this.store.isLeaseAvailable(this.routerId, this.holder.id, now)) {
      return { role: 'reader', becameWriter: false, restore: null, tookOver: null, writer: this.store.getLease(this.routerId) };
    }
    const attempt = this.store.tryAcquireLease(this.routerId, this.holder, now, this.ttlMs);
    if (!attempt.acquired) {
      this.currentRole = 'reader';
      return { role: 'reader', becameWriter: false, restore: null, tookOver: null, writer: attempt.lease };
    }
    if (this.currentRole === 'writer') {
      return { role: 'writer', becameWriter: false, restore: null, tookOver: null, writer: attempt.lease };
    }
    this.currentRole = 'writer';
    this.store.invalidateCache(this.routerId);
    return {
      role: 'writer',
      becameWriter: true,
      restore: this.store.loadState(this.routerId)?.state ?? null,
      tookOver: attempt.tookOver,
      writer: attempt.lease,
    };
  }

  /** Records a poll; false when the lease was lost (this process is a reader from now on). */
  record(result: AccountingResult, state: AccountingState): boolean {
    if (this.currentRole !== 'writer') return false;
    const ok = this.store.recordPoll(this.routerId, this.holder.id, result, state, this.ttlMs);
    if (!ok) this.currentRole = 'reader';
    return ok;
  }

  close(): void {
    if (this.currentRole === 'writer') this.store.releaseLease(this.routerId, this.holder.id);
    this.currentRole = 'reader';
  }
}
