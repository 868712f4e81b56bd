// Users-mode polls into the history database (issue 18), as device polls go (app/monitor.ts): one
// lantop process per router key holds the writer lease and records each poll's per-user bytes and
// the accountant's state; the others only read. Under the gateway's own key prefixed `users@`
// (domain/user-history.ts), so its devices history and its users history never mix.
//
// A lantop that starts (writer or reader) goes on from the last stored state: the users' totals,
// ended sessions included, and each listed session's last counters, so a restart neither loses an
// ended session's bytes nor counts a live session's bytes twice. One that takes the lease over
// from another writer takes that writer's last state, for the same reason.
import type { Clock } from '../domain/clock.js';
import { usersAccountingResult, usersHistoryKey, usersStateFromAccounting, usersStateToAccounting } from '../domain/user-history.js';
import type { UserAccountant, UserDelta } from '../domain/user-usage.js';
import type { HistoryStore } from '../store/history-store.js';
import { HistoryRecorder } from '../store/recorder.js';
import type { UsersPoller, UsersPollResult } from './users-mode.js';

export class UsersHistory {
  readonly recorder: HistoryRecorder;
  private isStarted = false;

  /** `key`: the gateway's key (services.key); recorded under usersHistoryKey(key). */
  constructor(
    private readonly store: HistoryStore,
    key: string,
    clock: Clock,
  ) {
    this.recorder = new HistoryRecorder(store, usersHistoryKey(key), { clock });
  }

  /** Before each poll: the lease, and the state to continue from (at start, or on taking over). */
  beforePoll(accountant: UserAccountant): void {
    const role = this.recorder.ensureRole();
    if (!this.isStarted) {
      this.isStarted = true;
      const stored = role.becameWriter ? role.restore : (this.store.loadState(this.recorder.routerId)?.state ?? null);
      if (stored !== null) accountant.restore(usersStateFromAccounting(stored));
    } else if (role.becameWriter && role.restore !== null) {
      accountant.restore(usersStateFromAccounting(role.restore));
    }
  }

  /** After a poll: its per-user bytes and the accountant's state, when this process is the writer. */
  afterPoll(atMs: number, deltas: readonly UserDelta[], accountant: UserAccountant): boolean {
    return this.recorder.record(usersAccountingResult(atMs, deltas), usersStateToAccounting(accountant.exportState()));
  }

  /** One poll recorded: the state to go on from, the poll, its bytes; `isWriter` when this process recorded it. */
  async poll(poller: Pick<UsersPoller, 'accountant' | 'poll'>, options: { apply?: boolean } = {}): Promise<{ result: UsersPollResult; isWriter: boolean }> {
    this.beforePoll(poller.accountant);
    const result = await poller.poll(options);
    return { result, isWriter: this.afterPoll(result.snapshot.atMs, result.deltas, poller.accountant) };
  }

  close(): void {
    this.recorder.close();
  }
}
