// One JSON state row per router (issue 19): what a pure accountant exported after the router's last
// poll (domain/wan.ts WanReconciler, domain/class-usage.ts ClassAccountant), so a run that reads once
// (`lantop usage`) continues from the last run's baselines. The table is one of lantop's own,
// named by the caller from a fixed list.
import type Database from 'better-sqlite3';
import type { RouterRegistry } from './router-registry.js';

export type StateTable = 'wan_state' | 'class_state' | 'counter_state';

export class StateRow {
  private readonly save: Database.Statement<[number, string, number]>;
  private readonly load: Database.Statement<[number], { state_json: string; updated_ms: number }>;

  constructor(
    db: Database.Database,
    table: StateTable,
    private readonly routers: Pick<RouterRegistry, 'routerId' | 'findRouter'>,
  ) {
    this.save = db.prepare<[number, string, number]>(
      `INSERT INTO ${table} (router_id, state_json, updated_ms) VALUES (?, ?, ?)
       ON CONFLICT (router_id) DO UPDATE SET state_json = excluded.state_json, updated_ms = excluded.updated_ms`,
    );
    this.load = db.prepare<[number], { state_json: string; updated_ms: number }>(`SELECT state_json, updated_ms FROM ${table} WHERE router_id = ?`);
  }

  /** Keeps the exported state of the router's last poll. */
  write(routerKey: string, state: unknown, atMs: number): void {
    this.save.run(this.routers.routerId(routerKey, atMs), JSON.stringify(state), atMs);
  }

  /** The last saved state (for the accountant's importState, which checks it), or null (none, or unreadable). */
  read(routerKey: string): { state: unknown; updatedMs: number } | null {
    const routerId = this.routers.findRouter(routerKey);
    const row = routerId === null ? undefined : this.load.get(routerId);
    if (!row) return null;
    try {
      return { state: JSON.parse(row.state_json) as unknown, updatedMs: row.updated_ms };
    } catch {
      return null;
    }
  }
}
