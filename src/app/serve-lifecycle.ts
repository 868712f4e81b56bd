// Serve's life after it started (issue 22, docs/service.md): each router's state for /healthz and
// the router-down/router-up log lines, what a SIGHUP may change without dropping the sessions, and
// the last poll at shutdown. app/serve.ts wires these to the monitors, the logger and the signals.
import type { ResolvedSettings } from '../config/resolve.js';
import type { Snapshot } from '../domain/snapshot.js';
import type { RouterHealth } from './web/routes.js';
import type { LogEvent } from './serve-log.js';

/** A consumer of every router's snapshots (metrics, the page, /healthz, MQTT), closed at shutdown. */
export interface SnapshotSink {
  onSnapshot(routerKey: string, snapshot: Snapshot): void;
  close?(): void | Promise<void>;
}

/** What a sink made by serve learns first: the routers (key and shown name), the poll interval, the log. */
export interface SinkContext {
  routers: ReadonlyArray<{ key: string; label: string }>;
  intervalMs: number;
  notice(level: 'info' | 'warn' | 'error', text: string): void;
}

/** A poll succeeded when it has a latency; the session may still be reconnecting after it. */
function isPollUp(snapshot: Snapshot): boolean {
  return snapshot.pollLatencyMs !== null && snapshot.connection.kind === 'connected';
}

function downReason(snapshot: Snapshot): string {
  const c = snapshot.connection;
  if (c.kind === 'reconnecting') return `${c.reason} (reconnecting in ${Math.round(c.inMs / 1000)} s)`;
  if (c.kind === 'failed') return c.reason;
  const error = snapshot.notices.findLast((n) => n.level === 'error' && n.atMs === snapshot.atMs);
  return error?.text ?? c.kind;
}

/**
 * One router's health: up or down, the last successful poll, and a log line when that changes
 * (the first failure after polls worked, the first success after failures). Starts up: serve
 * logged in to every router before it listened.
 */
export class RouterHealthTracker implements SnapshotSink {
  private isUp = true;
  private lastPollMs: number | null = null;

  constructor(
    private readonly routerKey: string,
    private readonly name: string,
    private readonly log: (event: LogEvent) => void,
  ) {}

  onSnapshot(routerKey: string, snapshot: Snapshot): void {
    if (routerKey !== this.routerKey) return;
    const isUp = isPollUp(snapshot);
    if (isUp) this.lastPollMs = snapshot.atMs;
    if (isUp !== this.isUp) {
      this.log(isUp ? { level: 'info', event: 'router-up', router: routerKey, message: 'polling again' } : { level: 'warn', event: 'router-down', router: routerKey, message: `cannot poll the router: ${downReason(snapshot)}` });
    }
    this.isUp = isUp;
  }

  /** No failed poll since the last good one (or since the login): worth a last poll at shutdown. */
  get isReachable(): boolean {
    return this.isUp;
  }

  get health(): RouterHealth {
    return { name: this.name, isUp: this.isUp && this.lastPollMs !== null, lastPollMs: this.lastPollMs };
  }
}

/** /healthz calls a router unhealthy when its last good poll is older than this. */
export function staleAfterMs(intervalMs: number): number {
  return Math.max(3 * intervalMs, 30_000);
}

/** Settings a running session depends on: a change is logged and waits for a restart. */
const RESTART_KEYS = ['host', 'port', 'protocol', 'user', 'wan', 'firmware', 'backend', 'passwordEnv', 'passwordFile', 'connectTimeoutMs', 'commandTimeoutMs', 'linkBitsPerSecond', 'dbPath'] as const;
const RESTART_WORDS: Readonly<Record<(typeof RESTART_KEYS)[number], string>> = {
  host: 'host',
  port: 'port',
  protocol: 'protocol',
  user: 'user',
  wan: 'wan',
  firmware: 'firmware',
  backend: 'backend',
  passwordEnv: 'password source',
  passwordFile: 'password file',
  connectTimeoutMs: 'timeout',
  commandTimeoutMs: 'timeout',
  linkBitsPerSecond: 'max bandwidth',
  dbPath: 'history database',
};

export interface SettingsReload {
  /** The never-block list changed (applied at once: the enforcer reads the list it was given). */
  isNeverBlockChanged: boolean;
  /** What changed but needs a restart, in words ("host", "wan"). */
  needsRestart: string[];
}

/** What a SIGHUP finds changed in one router's settings (pure). */
export function compareSettings(running: ResolvedSettings, fresh: ResolvedSettings): SettingsReload {
  const needsRestart = [...new Set(RESTART_KEYS.filter((key) => running[key] !== fresh[key]).map((key) => RESTART_WORDS[key]))];
  const a = [...running.neverBlock].sort().join(',');
  const b = [...fresh.neverBlock].sort().join(',');
  return { isNeverBlockChanged: a !== b, needsRestart };
}

/** Resolves with the promise's value, or with null after `ms` (the shutdown does not wait on a dead router). */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ms);
  });
  return Promise.race([promise.catch(() => null), timeout]).finally(() => clearTimeout(timer));
}
