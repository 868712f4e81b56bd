// The Ink app on several routers at once (issue 20, `lantop --routers a,b` / `--all`): one
// LiveRouterController per router — its own session, detection, backend, reconnects, monitor and
// history rows — all logging in at the same time. A router that cannot log in is down with the
// reason (sanitised) and is tried again now and then (not after a wrong password: that would only
// lock the account); the others go on. The screens see it as a RouterSet (ui/router-set.ts).
import { AuthError, LantopError } from '../errors.js';
import { sanitizeText } from '../sanitize.js';
import type { RouterTopology } from '../domain/multi-router.js';
import { canonicalAddress } from '../domain/address.js';
import { liveTopology } from './multi-usage.js';
import type { Snapshot } from '../domain/snapshot.js';
import { DEFAULT_INTERVAL_MS } from '../domain/poller.js';
import type { HistoryStore } from '../store/history-store.js';
import type { RouterEntry, RouterSet, RouterStatus } from '../ui/router-set.js';
import type { RouterController } from './types.js';
import { LiveRouterController } from './controller.js';
import { staleAfterMs } from './serve-lifecycle.js';
import type { RouterServices, Services } from './services.js';

/** What the controller knows of one router, for routerStatusOf. */
export interface RouterSlotState {
  phase: 'connecting' | 'open' | 'failed';
  /** Why the login failed (phase failed). */
  error: string | null;
  /** Its latest poll's snapshot. */
  snapshot: Snapshot | null;
}

/**
 * A router's state now (pure): up while it is logged in, its last poll answered and is recent; a
 * router whose polls stop answering goes down after `staleMs` (as serve's /healthz says).
 */
export function routerStatusOf(base: { routerKey: string; label: string }, slot: RouterSlotState, nowMs: number, staleMs: number): RouterStatus {
  const down = (reason: string, snapshot: Snapshot | null = slot.snapshot): RouterStatus => ({ ...base, snapshot, state: 'down', link: 'down', reason: sanitizeText(reason, 200) });
  if (slot.phase === 'connecting') return { ...base, snapshot: null, state: 'down', link: 'connecting', reason: 'connecting' };
  if (slot.phase === 'failed') return down(slot.error ?? 'cannot log in', null);
  const snapshot = slot.snapshot;
  if (snapshot === null) return { ...base, snapshot: null, state: 'down', link: 'connecting', reason: 'waiting for the first poll' };
  const c = snapshot.connection;
  if (c.kind === 'connected' && snapshot.pollLatencyMs !== null) {
    if (nowMs - snapshot.atMs > staleMs) return down(`no answer for ${Math.round((nowMs - snapshot.atMs) / 1000)} s`);
    return { ...base, snapshot, state: 'up', link: 'up' };
  }
  if (c.kind === 'reconnecting' || c.kind === 'failed') return down(c.reason);
  if (c.kind === 'connecting') return { ...base, snapshot, state: 'down', link: 'connecting', reason: 'connecting' };
  const lastError = [...snapshot.notices].reverse().find((n) => n.level === 'error')?.text;
  return down(lastError ?? 'its last poll failed');
}

export interface MultiRouterOptions {
  routers: ReadonlyArray<{ name: string; services: RouterServices }>;
  clock: Services['clock'];
  store: HistoryStore | null;
  topology: RouterTopology;
  intervalMs?: number;
  openAlerts?: Services['openAlerts'];
  /** How long after a failed login the next try starts (default: max(interval, 10 s)). */
  retryAfterMs?: number;
}

interface Slot extends RouterSlotState {
  entry: RouterEntry;
  controller: LiveRouterController;
  services: RouterServices;
  /** The screens watching this router (through SlotController.watch). */
  viewers: Set<(snapshot: Snapshot) => void>;
  unwatch: (() => void) | null;
  retry: NodeJS.Timeout | null;
}

/**
 * What the screens get for one router: its LiveRouterController, except that watch() hands out the
 * polls this controller receives. A screen may watch a router that is not logged in (yet, or any
 * more) without starting a login of its own: LiveRouterController.watch would, and its failure
 * would go nowhere.
 */
class SlotController implements RouterController {
  constructor(private readonly slot: Slot) {}
  get label() {
    return this.slot.controller.label;
  }
  get protocol() {
    return this.slot.controller.protocol;
  }
  connect: RouterController['connect'] = () => this.slot.controller.connect();
  listHosts: RouterController['listHosts'] = () => this.slot.controller.listHosts();
  plan: RouterController['plan'] = (action, options) => this.slot.controller.plan(action, options);
  apply: RouterController['apply'] = (plan) => this.slot.controller.apply(plan);
  history: RouterController['history'] = (period, query) => this.slot.controller.history(period, query);
  blockDevice: RouterController['blockDevice'] = (identity, ms) => this.slot.controller.blockDevice(identity, ms);
  unblockDevice: RouterController['unblockDevice'] = (identity) => this.slot.controller.unblockDevice(identity);
  quotas: RouterController['quotas'] = () => this.slot.controller.quotas();
  saveQuota: RouterController['saveQuota'] = (input, replacesId) => this.slot.controller.saveQuota(input, replacesId);
  removeQuota: RouterController['removeQuota'] = (id) => this.slot.controller.removeQuota(id);
  connections: RouterController['connections'] = (identity) => this.slot.controller.connections(identity);
  enableConnectionAccounting: RouterController['enableConnectionAccounting'] = () => this.slot.controller.enableConnectionAccounting();
  watch(listener: (snapshot: Snapshot) => void): () => void {
    this.slot.viewers.add(listener);
    if (this.slot.snapshot !== null) listener(this.slot.snapshot);
    return () => {
      this.slot.viewers.delete(listener);
    };
  }
  close: RouterController['close'] = () => this.slot.controller.close();
}

export class MultiRouterController implements RouterSet {
  readonly entries: readonly RouterEntry[];
  private readonly configuredTopology: RouterTopology;
  private readonly slots: Slot[];
  private readonly listeners = new Set<() => void>();
  private readonly staleMs: number;
  private readonly retryAfterMs: number;
  private isClosed = false;

  constructor(private readonly options: MultiRouterOptions) {
    const intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
    this.staleMs = staleAfterMs(intervalMs);
    this.retryAfterMs = options.retryAfterMs ?? Math.max(intervalMs, 10_000);
    this.configuredTopology = options.topology;
    this.slots = options.routers.map(({ name, services }) => {
      const controller = new LiveRouterController({
        services: { ...services, clock: options.clock },
        store: options.store,
        ...(options.intervalMs !== undefined ? { intervalMs: options.intervalMs } : {}),
        ...(options.openAlerts !== undefined ? { openAlerts: options.openAlerts } : {}),
      });
      const slot: Slot = { entry: { key: services.key, name, controller }, controller, services, viewers: new Set(), phase: 'connecting', error: null, snapshot: null, unwatch: null, retry: null };
      slot.entry = { key: services.key, name, controller: new SlotController(slot) };
      return slot;
    });
    this.entries = this.slots.map((s) => s.entry);
  }

  /** Logs in to every router at once; never rejects (a router that cannot is down, with why). */
  async connectAll(): Promise<void> {
    await Promise.all(this.slots.map((slot) => this.connectSlot(slot)));
  }

  private async connectSlot(slot: Slot): Promise<void> {
    if (this.isClosed) return;
    slot.retry = null;
    if (!slot.services.password.isKnown) {
      // No prompt under the app: each router's password is saved or in the environment.
      const name = slot.entry.name;
      this.fail(slot, `no password known for ${name}: save it (lantop --profile ${name} config save-password) or set LANTOP_PASSWORD_${name.toUpperCase().replace(/-/g, '_')}`, false);
      return;
    }
    slot.phase = 'connecting';
    this.notify();
    try {
      await slot.controller.connect();
    } catch (error) {
      // A wrong password, an unreachable or unsupported router: down, the others go on.
      const message = error instanceof Error ? error.message : String(error);
      this.fail(slot, message, !(error instanceof AuthError) && error instanceof LantopError);
      return;
    }
    if (this.isClosed) {
      // Logged in after close(): that login's session is closed here.
      await slot.controller.close().catch(() => undefined);
      return;
    }
    slot.phase = 'open';
    slot.error = null;
    slot.unwatch ??= slot.controller.watch((snapshot) => {
      slot.snapshot = snapshot;
      for (const viewer of [...slot.viewers]) viewer(snapshot);
      this.notify();
    });
    this.notify();
  }

  private fail(slot: Slot, message: string, isRetried: boolean): void {
    slot.phase = 'failed';
    slot.error = sanitizeText(message, 200);
    if (isRetried && !this.isClosed) {
      slot.retry = setTimeout(() => void this.connectSlot(slot), this.retryAfterMs);
      slot.retry.unref?.();
    }
    this.notify();
  }

  /**
   * The profiles' `upstream` settings, else the relation detected now: a router's login address
   * that is a host on another's LAN (the app's controllers do not hand out their sessions, so the
   * routers' interface addresses, which `usage --routers` reads too, are not asked for here).
   */
  get topology(): RouterTopology {
    const nowMs = this.options.clock.now();
    return liveTopology(
      this.configuredTopology,
      this.slots.map((slot) => {
        const login = slot.services.settings.host === null ? null : canonicalAddress(slot.services.settings.host);
        const isUp = routerStatusOf({ routerKey: slot.entry.key, label: slot.entry.name }, slot, nowMs, this.staleMs).state === 'up';
        return { key: slot.entry.key, label: slot.entry.name, ownAddresses: login === null ? [] : [login], snapshot: slot.snapshot, isUp };
      }),
    );
  }

  statuses(nowMs: number): RouterStatus[] {
    return this.slots.map((slot) => routerStatusOf({ routerKey: slot.entry.key, label: slot.entry.name }, slot, nowMs, this.staleMs));
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  async close(): Promise<void> {
    this.isClosed = true;
    this.listeners.clear();
    for (const slot of this.slots) {
      if (slot.retry !== null) clearTimeout(slot.retry);
      slot.retry = null;
      slot.unwatch?.();
      slot.unwatch = null;
      slot.viewers.clear();
    }
    await Promise.all(this.slots.map((slot) => slot.controller.close().catch(() => undefined)));
  }
}
