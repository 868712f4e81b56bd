// Opening the history database, and what its parts (writer, lease, retention, queries) share: the
// sample table of each granularity and the notice insert. With migrations.ts the only code that
// sets up better-sqlite3; docs/history.md explains the schema and the crash safety.

import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { UsageError } from '../errors.js';
import { migrate } from './migrations.js';
import type { Granularity } from './range-plan.js';

const DEFAULT_BUSY_TIMEOUT_MS = 5000;

export const SAMPLE_TABLE: Record<Granularity, { table: string; column: string }> = {
  minute: { table: 'samples_minute', column: 'minute' },
  hour: { table: 'samples_hour', column: 'hour' },
  day: { table: 'samples_day', column: 'day' },
};

export const GRANULARITIES: readonly Granularity[] = ['minute', 'hour', 'day'];

/** One value per granularity, e.g. a prepared statement per sample table. */
export function perGranularity<T>(make: (g: Granularity) => T): Record<Granularity, T> {
  return { minute: make('minute'), hour: make('hour'), day: make('day') };
}

/** Opens (creating the file and its directory) and migrates; any failure is a usage error naming the path. */
export function openHistoryDatabase(path: string, busyTimeoutMs: number = DEFAULT_BUSY_TIMEOUT_MS): Database.Database {
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const db = new Database(path, { timeout: busyTimeoutMs });
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
    db.pragma('journal_mode = WAL');
    // WAL + NORMAL: a power cut may drop the last commits, never half of one; state and samples
    // are in the same transaction, so they roll back together.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db);
    return db;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError(`Cannot open the history database at ${path}: ${message}`, 'Check the path given to --db, or move the damaged file away.', {
      cause: error,
    });
  }
}

/** (router_id, at_ms, level, kind, text, missing_from_ms, missing_to_ms): the poll writer's and the lease's notices. */
export function prepareNoticeInsert(db: Database.Database): Database.Statement<[number, number, string, string, string, number | null, number | null]> {
  return db.prepare<[number, number, string, string, string, number | null, number | null]>(
    'INSERT INTO notices (router_id, at_ms, level, kind, text, missing_from_ms, missing_to_ms) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
}

/** The largest batch one statement takes; SQLite allows 32 766 parameters. */
const MAX_BATCH_ROWS = 128;

/**
 * One statement for many rows: `sqlFor(n)` is the statement for n rows of `width` parameters each
 * (after `shared` leading ones). A 254-host poll is 7 statements (128 + 64 + … + 2 rows) instead of
 * 254: each run() is a call into SQLite that costs more than the row it writes (issue 21). Sizes are
 * powers of two so that at most 8 statements are ever prepared, whatever the number of hosts.
 */
export class BatchStatement {
  private readonly bySize = new Map<number, Database.Statement>();

  constructor(
    private readonly db: Database.Database,
    private readonly width: number,
    private readonly sqlFor: (rows: number) => string,
  ) {}

  /** `params` holds the rows one after another (`width` each); `shared` goes before each batch's rows. */
  run(params: readonly unknown[], shared: readonly unknown[] = []): void {
    if (params.length % this.width !== 0) throw new RangeError(`batch of ${params.length} values is not rows of ${this.width}`);
    let offset = 0;
    for (let size = MAX_BATCH_ROWS; size >= 1; size >>= 1) {
      const n = size * this.width;
      while (params.length - offset >= n) {
        const rows = params.slice(offset, offset + n);
        this.statement(size).run(shared.length === 0 ? rows : [...shared, ...rows]);
        offset += n;
      }
    }
  }

  private statement(rows: number): Database.Statement {
    let statement = this.bySize.get(rows);
    if (statement === undefined) {
      statement = this.db.prepare(this.sqlFor(rows));
      this.bySize.set(rows, statement);
    }
    return statement;
  }
}

/** `(?, ?, …)` for one row of `width` values, `rows` times, comma-separated. */
export function valueRows(rows: number, width: number): string {
  const row = `(${new Array<string>(width).fill('?').join(', ')})`;
  return new Array<string>(rows).fill(row).join(', ');
}
