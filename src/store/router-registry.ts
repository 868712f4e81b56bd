// The routers the history knows: a row per router key (e.g. "192.168.1.1:23"), created on first
// use. Every other table refers to a router by its id.

import type Database from 'better-sqlite3';

export class RouterRegistry {
  private readonly keys = new Map<number, string>();
  private readonly s;

  constructor(db: Database.Database) {
    this.s = {
      idByKey: db.prepare<[string], { id: number }>('SELECT id FROM routers WHERE key = ?'),
      keyById: db.prepare<[number], { key: string }>('SELECT key FROM routers WHERE id = ?'),
      insert: db.prepare<[string, number]>('INSERT INTO routers (key, created_ms) VALUES (?, ?) ON CONFLICT (key) DO NOTHING'),
    };
  }

  /** The id of a router (created on first use). `key` names the router, e.g. its address. */
  routerId(key: string, nowMs: number): number {
    const found = this.s.idByKey.get(key);
    if (found) return found.id;
    this.s.insert.run(key, nowMs);
    const id = this.s.idByKey.get(key)?.id;
    if (id === undefined) throw new Error(`router ${key} vanished after insert`);
    return id;
  }

  /** The id of a router with history, without creating one. */
  findRouter(key: string): number | null {
    return this.s.idByKey.get(key)?.id ?? null;
  }

  /** The key a router was registered under (its id as text if unknown); cached, keys never change. */
  routerKey(routerId: number): string {
    let key = this.keys.get(routerId);
    if (key === undefined) {
      key = this.s.keyById.get(routerId)?.key ?? String(routerId);
      this.keys.set(routerId, key);
    }
    return key;
  }
}
