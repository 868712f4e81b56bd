// Versioned schema migrations. The version lives in the one-row table schema_version; each
// migration runs in its own transaction together with the version bump, so a crash leaves the
// database at one version or the next, never between. Append new migrations; never edit old ones.
// docs/history.md describes the tables.

import type Database from 'better-sqlite3';
import { UsageError } from '../errors.js';

export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'routers, hosts, per-minute samples with hourly and daily rollups, accounting state, writer lease',
    sql: `
      CREATE TABLE routers (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        created_ms INTEGER NOT NULL
      );
      CREATE TABLE hosts (
        id INTEGER PRIMARY KEY,
        router_id INTEGER NOT NULL REFERENCES routers(id),
        identity TEXT NOT NULL,
        mac TEXT,
        ip TEXT NOT NULL,
        hostname TEXT,
        first_seen_ms INTEGER NOT NULL,
        last_seen_ms INTEGER NOT NULL,
        UNIQUE (router_id, identity)
      );
      -- Bucket = UTC minute / hour / day index (ms / bucket length). Only non-zero buckets are stored.
      -- Bucket first in the key: one poll's rows are neighbours (a few pages per commit, not one
      -- page per host), and pruning is a range delete.
      CREATE TABLE samples_minute (
        host_id INTEGER NOT NULL,
        minute INTEGER NOT NULL,
        down_bytes INTEGER NOT NULL,
        up_bytes INTEGER NOT NULL,
        PRIMARY KEY (minute, host_id)
      ) WITHOUT ROWID;
      CREATE TABLE samples_hour (
        host_id INTEGER NOT NULL,
        hour INTEGER NOT NULL,
        down_bytes INTEGER NOT NULL,
        up_bytes INTEGER NOT NULL,
        PRIMARY KEY (hour, host_id)
      ) WITHOUT ROWID;
      CREATE TABLE samples_day (
        host_id INTEGER NOT NULL,
        day INTEGER NOT NULL,
        down_bytes INTEGER NOT NULL,
        up_bytes INTEGER NOT NULL,
        PRIMARY KEY (day, host_id)
      ) WITHOUT ROWID;
      -- The accounting state (last raw counters, epoch, totals) as of the last recorded poll.
      -- rolled_minute: every minute before it is also in samples_hour and samples_day; minutes from
      -- it on are only in samples_minute (rolled up when the next minute begins).
      CREATE TABLE router_state (
        router_id INTEGER PRIMARY KEY REFERENCES routers(id),
        epoch INTEGER NOT NULL,
        boot_marker TEXT,
        last_poll_ms INTEGER,
        state_json TEXT NOT NULL,
        updated_ms INTEGER NOT NULL,
        rolled_minute INTEGER NOT NULL
      );
      -- At most one history writer per router.
      CREATE TABLE writer_lease (
        router_id INTEGER PRIMARY KEY REFERENCES routers(id),
        holder TEXT NOT NULL,
        pid INTEGER NOT NULL,
        hostname TEXT NOT NULL,
        acquired_ms INTEGER NOT NULL,
        expires_ms INTEGER NOT NULL
      );
      -- Retention cut-offs: minutes_from_ms, hours_from_ms, days_from_ms.
      CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
    `,
  },
  {
    version: 2,
    description: 'notices: resets, gaps and discarded deltas, kept with the history they explain',
    sql: `
      CREATE TABLE notices (
        id INTEGER PRIMARY KEY,
        router_id INTEGER NOT NULL REFERENCES routers(id),
        at_ms INTEGER NOT NULL,
        level TEXT NOT NULL,
        kind TEXT NOT NULL,
        text TEXT NOT NULL,
        -- For resets: the window whose bytes could not be read (missing_from_ms may be NULL).
        missing_from_ms INTEGER,
        missing_to_ms INTEGER
      );
      CREATE INDEX notices_by_time ON notices (router_id, at_ms);
    `,
  },
  {
    version: 3,
    description: 'router_state.state_counts: the accounting state\'s per-poll numbers, written alone while the rest of the state is unchanged',
    sql: `
      -- NULL: state_json alone is the state (every row written before version 3). Otherwise its
      -- numbers replace state_json's (src/store/state-codec.ts, issue 21).
      ALTER TABLE router_state ADD COLUMN state_counts BLOB;
    `,
  },
  {
    version: 4,
    description: 'samples: the IPv6 part of each bucket\'s bytes (issue 15); rows written before are IPv4',
    sql: `
      -- down_bytes/up_bytes stay the totals over both families; down6_bytes/up6_bytes are their IPv6
      -- part and the IPv4 part is the rest. Rows from before version 4 get 0: lantop counted no IPv6
      -- before issue 15, so they are IPv4. ADD COLUMN with a constant default rewrites no rows.
      ALTER TABLE samples_minute ADD COLUMN down6_bytes INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE samples_minute ADD COLUMN up6_bytes INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE samples_hour ADD COLUMN down6_bytes INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE samples_hour ADD COLUMN up6_bytes INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE samples_day ADD COLUMN down6_bytes INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE samples_day ADD COLUMN up6_bytes INTEGER NOT NULL DEFAULT 0;
    `,
  },
  {
    version: 5,
    description: 'quotas (issue 16): persons and their devices, quotas, threshold crossings recorded once, the block audit log',
    sql: `
      -- Keyed by the router key (as routers.key), not routers.id: a quota may be set before the
      -- first poll of its router has registered it.
      CREATE TABLE persons (
        id INTEGER PRIMARY KEY,
        router_key TEXT NOT NULL,
        name TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        UNIQUE (router_key, name)
      );
      -- A person's devices, by identity as in hosts.identity (MAC, or ip:<address>).
      CREATE TABLE person_devices (
        person_id INTEGER NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
        identity TEXT NOT NULL,
        PRIMARY KEY (person_id, identity)
      ) WITHOUT ROWID;
      -- subject_kind device|person|line; subject_id the identity, the person's name, or ''.
      -- period_json and thresholds_json: src/domain/quota.ts's QuotaPeriod and QuotaThreshold[].
      CREATE TABLE quotas (
        id INTEGER PRIMARY KEY,
        router_key TEXT NOT NULL,
        subject_kind TEXT NOT NULL,
        subject_id TEXT NOT NULL,
        limit_bytes INTEGER NOT NULL,
        direction TEXT NOT NULL,
        period_json TEXT NOT NULL,
        thresholds_json TEXT NOT NULL,
        created_ms INTEGER NOT NULL
      );
      CREATE INDEX quotas_by_router ON quotas (router_key);
      -- One row per (quota, window, threshold): an alert is sent once, also across restarts.
      CREATE TABLE quota_crossings (
        quota_id INTEGER NOT NULL REFERENCES quotas(id) ON DELETE CASCADE,
        window_start_ms INTEGER NOT NULL,
        percent INTEGER NOT NULL,
        at_ms INTEGER NOT NULL,
        PRIMARY KEY (quota_id, window_start_ms, percent)
      ) WITHOUT ROWID;
      -- Every block and unblock: action block|unblock|expired, by quota|hand; addresses as JSON.
      -- quota_id is kept (no foreign key) when its quota is removed: the log outlives it.
      CREATE TABLE block_audit (
        id INTEGER PRIMARY KEY,
        router_key TEXT NOT NULL,
        at_ms INTEGER NOT NULL,
        action TEXT NOT NULL,
        identity TEXT NOT NULL,
        addresses_json TEXT NOT NULL,
        reason TEXT NOT NULL,
        quota_id INTEGER,
        by TEXT NOT NULL,
        until_ms INTEGER
      );
      CREATE INDEX block_audit_by_time ON block_audit (router_key, at_ms);
    `,
  },
  {
    version: 6,
    description: 'WAN reconciliation (issue 19): per-minute WAN, router-own and per-device bytes; the reconciler\'s last baselines',
    sql: `
      -- Bytes at layer 3 that crossed the WAN interface in each minute (minute_ms: its UTC start),
      -- what the router itself sent and received there (NULL: not counted that minute) and what
      -- the per-device counters saw over the same reads (src/store/wan-store.ts).
      CREATE TABLE wan_minutes (
        router_id INTEGER NOT NULL REFERENCES routers(id),
        minute_ms INTEGER NOT NULL,
        down_bytes INTEGER NOT NULL,
        up_bytes INTEGER NOT NULL,
        router_down_bytes INTEGER,
        router_up_bytes INTEGER,
        host_down_bytes INTEGER NOT NULL,
        host_up_bytes INTEGER NOT NULL,
        PRIMARY KEY (router_id, minute_ms)
      ) WITHOUT ROWID;
      -- src/domain/wan.ts WanReconcilerState of the last recorded poll: a one-shot run's baseline.
      CREATE TABLE wan_state (
        router_id INTEGER PRIMARY KEY REFERENCES routers(id),
        state_json TEXT NOT NULL,
        updated_ms INTEGER NOT NULL
      );
    `,
  },
  {
    version: 7,
    description: 'traffic classes (issue 19, setup --ports/--protocols): per-minute bytes per class; the class accountant\'s last baselines and totals',
    sql: `
      -- Bytes each traffic class counted in each minute (minute_ms: its UTC start); class_key as
      -- src/domain/traffic-class.ts classKey (tcp/443, udp). Only non-zero minutes are stored.
      CREATE TABLE class_minutes (
        router_id INTEGER NOT NULL REFERENCES routers(id),
        minute_ms INTEGER NOT NULL,
        class_key TEXT NOT NULL,
        down_bytes INTEGER NOT NULL,
        up_bytes INTEGER NOT NULL,
        PRIMARY KEY (router_id, minute_ms, class_key)
      ) WITHOUT ROWID;
      -- src/domain/class-usage.ts ClassAccountantState of the last recorded poll.
      CREATE TABLE class_state (
        router_id INTEGER PRIMARY KEY REFERENCES routers(id),
        state_json TEXT NOT NULL,
        updated_ms INTEGER NOT NULL
      );
    `,
  },
  {
    version: 8,
    description: 'scheduled reports (issue 17): each (schedule, router, period) sent once, claimed before sending, with its outcome per channel',
    sql: `
      -- One row per report period of a schedule and router (src/store/report-sends.ts). A process
      -- claims the row (INSERT, or UPDATE of a failed or stale one) in a write transaction BEFORE it
      -- sends, so two lantop processes never both send; the UNIQUE key keeps it once per period
      -- across restarts. Keyed by the router key, as persons and quotas. status: sending | sent |
      -- failed (retried from next_try_ms) | gave-up | empty (no history for the router).
      -- outcome_json: [{channel, isOk, reason?, atMs}], the last answer of each channel.
      CREATE TABLE report_sends (
        id INTEGER PRIMARY KEY,
        schedule TEXT NOT NULL,
        schedule_id INTEGER NOT NULL,
        router_key TEXT NOT NULL,
        period_start_ms INTEGER NOT NULL,
        period_end_ms INTEGER NOT NULL,
        status TEXT NOT NULL,
        claimed_by TEXT NOT NULL,
        claimed_ms INTEGER NOT NULL,
        rounds INTEGER NOT NULL,
        next_try_ms INTEGER,
        sent_ms INTEGER,
        outcome_json TEXT NOT NULL DEFAULT '[]',
        UNIQUE (schedule, router_key, period_start_ms, period_end_ms)
      );
      CREATE INDEX report_sends_retry ON report_sends (status, next_try_ms);
    `,
  },
  {
    version: 9,
    description: "custom counters (issue 18, lantop counter add): the counters per router, their per-minute bytes and packets, the counter accountant's last baselines and totals",
    sql: `
      -- The counters a user added (src/store/counter-store.ts), keyed by the router key as quotas
      -- are. match_key: src/domain/custom-counter.ts counterKey (the matches, canonical; re-validated
      -- on every read). reset_ms: the last \`lantop counter reset\` (a history epoch on this PC:
      -- totals count from it; the router's counters are never zeroed); null: never reset.
      CREATE TABLE custom_counters (
        router_key TEXT NOT NULL,
        name TEXT NOT NULL,
        match_key TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        reset_ms INTEGER,
        PRIMARY KEY (router_key, name)
      );
      -- Bytes and packets each counter counted in each minute (minute_ms: its UTC start), by name.
      -- Only non-zero minutes are stored; a reset leaves them as they are.
      CREATE TABLE counter_minutes (
        router_id INTEGER NOT NULL REFERENCES routers(id),
        minute_ms INTEGER NOT NULL,
        name TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        packets INTEGER NOT NULL,
        PRIMARY KEY (router_id, minute_ms, name)
      ) WITHOUT ROWID;
      -- src/domain/counter-usage.ts CounterAccountantState of the last recorded poll.
      CREATE TABLE counter_state (
        router_id INTEGER PRIMARY KEY REFERENCES routers(id),
        state_json TEXT NOT NULL,
        updated_ms INTEGER NOT NULL
      );
    `,
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

export function schemaVersion(db: Database.Database): number {
  const hasTable = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'`).get();
  if (!hasTable) return 0;
  const row = db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
  return row?.version ?? 0;
}

/**
 * Brings the database to `target` (default: the latest). Returns the versions applied.
 * Refuses a database written by a newer lantop rather than guessing at its schema.
 */
export function migrate(db: Database.Database, target = LATEST_SCHEMA_VERSION, migrations: readonly Migration[] = MIGRATIONS): number[] {
  const applied: number[] = [];
  const step = db.transaction((m: Migration) => {
    // Re-read inside the write transaction: another process may have migrated meanwhile.
    if (schemaVersion(db) >= m.version) return false;
    db.exec(m.sql);
    db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
    db.exec('DELETE FROM schema_version');
    db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(m.version);
    return true;
  });
  const current = schemaVersion(db);
  const newest = migrations[migrations.length - 1]?.version ?? 0;
  if (current > newest) {
    throw new UsageError(
      `The history database has schema version ${current}, newer than this lantop understands (${newest}).`,
      'Upgrade lantop, or point --db at another file.',
    );
  }
  for (const m of migrations) {
    if (m.version > target) break;
    if (m.version <= current) continue;
    if (step.immediate(m)) applied.push(m.version);
  }
  return applied;
}
