// Scheduled reports in the history database (issue 17, schema version 8, migrations.ts): one row
// per (schedule, router, period), so a period's report is sent once, also across restarts and with
// two lantop processes on one database. A sender CLAIMS the row before it sends: an INSERT of a
// new row, or an UPDATE of a failed row whose retry time has come or of a claim left behind by a
// process that died mid-send (older than `staleMs`), inside one write transaction; only the
// claimant sends, then records the outcome. Opened over the HistoryStore's database
// (history-store.ts `reports`).

import type Database from 'better-sqlite3';

export type ReportSendStatus = 'sending' | 'sent' | 'failed' | 'gave-up' | 'empty';

export interface ReportSendKey {
  schedule: string;
  routerKey: string;
  startMs: number;
  /** Exclusive. */
  endMs: number;
}

/** A channel's last answer for this report. */
export interface ChannelOutcome {
  channel: string;
  isOk: boolean;
  reason?: string;
  atMs: number;
}

export interface ReportSend extends ReportSendKey {
  id: number;
  scheduleId: number;
  status: ReportSendStatus;
  claimedBy: string;
  claimedMs: number;
  /** How many times the row was claimed (a round of attempts each). */
  rounds: number;
  /** failed: when a later check may claim it again. */
  nextTryMs: number | null;
  sentMs: number | null;
  outcomes: ChannelOutcome[];
}

export interface ClaimOptions {
  scheduleId: number;
  /** Who claims (unique per process and scheduler). */
  holder: string;
  nowMs: number;
  /** A 'sending' claim older than this was left by a process that died: it may be taken over. */
  staleMs: number;
}

export interface FinishOptions {
  status: Exclude<ReportSendStatus, 'sending'>;
  outcomes: readonly ChannelOutcome[];
  nowMs: number;
  /** failed: when to try again. */
  nextTryMs?: number | null;
}

interface Row {
  id: number;
  schedule: string;
  schedule_id: number;
  router_key: string;
  period_start_ms: number;
  period_end_ms: number;
  status: string;
  claimed_by: string;
  claimed_ms: number;
  rounds: number;
  next_try_ms: number | null;
  sent_ms: number | null;
  outcome_json: string;
}

function parseOutcomes(text: string): ChannelOutcome[] {
  try {
    const value = JSON.parse(text) as unknown;
    return Array.isArray(value) ? (value as ChannelOutcome[]) : [];
  } catch {
    return [];
  }
}

function fromRow(row: Row): ReportSend {
  return {
    id: row.id,
    schedule: row.schedule,
    scheduleId: row.schedule_id,
    routerKey: row.router_key,
    startMs: row.period_start_ms,
    endMs: row.period_end_ms,
    status: row.status as ReportSendStatus,
    claimedBy: row.claimed_by,
    claimedMs: row.claimed_ms,
    rounds: row.rounds,
    nextTryMs: row.next_try_ms,
    sentMs: row.sent_ms,
    outcomes: parseOutcomes(row.outcome_json),
  };
}

const KEY_WHERE = 'schedule = ? AND router_key = ? AND period_start_ms = ? AND period_end_ms = ?';

export class ReportSendStore {
  private readonly statements: ReturnType<typeof prepare>;
  private readonly claimTx: Database.Transaction<(key: ReportSendKey, options: ClaimOptions) => ReportSend | null>;

  constructor(db: Database.Database) {
    this.statements = prepare(db);
    const s = this.statements;
    this.claimTx = db.transaction((key: ReportSendKey, o: ClaimOptions): ReportSend | null => {
      const keyArgs = [key.schedule, key.routerKey, key.startMs, key.endMs] as const;
      const inserted = s.insert.run(key.schedule, o.scheduleId, key.routerKey, key.startMs, key.endMs, o.holder, o.nowMs);
      if (inserted.changes === 0) {
        const taken = s.reclaim.run(o.holder, o.nowMs, ...keyArgs, o.nowMs, o.nowMs - o.staleMs);
        if (taken.changes === 0) return null;
      }
      return fromRow(s.get.get(...keyArgs) as Row);
    });
  }

  /**
   * Claims the period for `holder`: true only for one caller, whatever the number of processes.
   * Returns the claimed row (status 'sending'), or null when it is sent, being sent, given up, or
   * failed with its retry time still ahead.
   */
  claim(key: ReportSendKey, options: ClaimOptions): ReportSend | null {
    return this.claimTx.immediate(key, options);
  }

  /** Records the outcome of a claimed row; false if `holder` no longer holds the claim. */
  finish(id: number, holder: string, options: FinishOptions): boolean {
    const sentMs = options.status === 'sent' ? options.nowMs : null;
    const nextTryMs = options.status === 'failed' ? (options.nextTryMs ?? options.nowMs) : null;
    return this.statements.finish.run(options.status, nextTryMs, sentMs, JSON.stringify(options.outcomes), id, holder).changes === 1;
  }

  get(key: ReportSendKey): ReportSend | null {
    const row = this.statements.get.get(key.schedule, key.routerKey, key.startMs, key.endMs) as Row | undefined;
    return row === undefined ? null : fromRow(row);
  }

  /** Failed rows whose retry time has come (and stale claims), oldest first. */
  due(nowMs: number, staleMs: number): ReportSend[] {
    return (this.statements.due.all(nowMs, nowMs - staleMs) as Row[]).map(fromRow);
  }

  /** The latest rows, newest period first (for `schedule list`). */
  list(options: { schedule?: string; limit?: number } = {}): ReportSend[] {
    const limit = Math.max(1, Math.min(1000, Math.floor(options.limit ?? 100)));
    const rows = options.schedule === undefined ? this.statements.listAll.all(limit) : this.statements.listOne.all(options.schedule, limit);
    return (rows as Row[]).map(fromRow);
  }
}

function prepare(db: Database.Database) {
  return {
    insert: db.prepare(
      `INSERT INTO report_sends (schedule, schedule_id, router_key, period_start_ms, period_end_ms, status, claimed_by, claimed_ms, rounds)
       VALUES (?, ?, ?, ?, ?, 'sending', ?, ?, 1) ON CONFLICT DO NOTHING`,
    ),
    reclaim: db.prepare(
      `UPDATE report_sends SET status = 'sending', claimed_by = ?, claimed_ms = ?, rounds = rounds + 1, next_try_ms = NULL
       WHERE ${KEY_WHERE} AND ((status = 'failed' AND next_try_ms <= ?) OR (status = 'sending' AND claimed_ms <= ?))`,
    ),
    finish: db.prepare(`UPDATE report_sends SET status = ?, next_try_ms = ?, sent_ms = ?, outcome_json = ? WHERE id = ? AND claimed_by = ? AND status = 'sending'`),
    get: db.prepare(`SELECT * FROM report_sends WHERE ${KEY_WHERE}`),
    due: db.prepare(`SELECT * FROM report_sends WHERE (status = 'failed' AND next_try_ms <= ?) OR (status = 'sending' AND claimed_ms <= ?) ORDER BY period_start_ms, id`),
    listAll: db.prepare(`SELECT * FROM report_sends ORDER BY period_end_ms DESC, id DESC LIMIT ?`),
    listOne: db.prepare(`SELECT * FROM report_sends WHERE schedule = ? ORDER BY period_end_ms DESC, id DESC LIMIT ?`),
  };
}
