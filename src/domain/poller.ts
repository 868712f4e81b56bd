// The poller: one counter listing per poll, discovery every 30 s, both through the same session
// and never overlapping; each poll becomes one Snapshot (the model every output renders).
// All effects come in through ports, and time through a clock, so whole sessions run in tests.
import { Accountant, type AccountingOptions, type AccountingResult, type AccountingState, type CounterPair, type PollHost } from './accounting.js';
import type { PendingInstall } from './accounting-model.js';
import type { Clock } from './clock.js';
import { emptyFamilySplit } from './family.js';
import type { ConnectionState, HostUsage, Notice, Snapshot } from './snapshot.js';

/** What the router says of lantop's accounting objects at this read. */
export type InstallationState = 'complete' | 'incomplete' | 'missing';

export interface TrafficReading {
  /** Cumulative counters per canonical host address (IPv4 or IPv6 text from src/domain/address.ts). */
  counters: Map<string, CounterPair>;
  /** complete: all there and reached by forwarded traffic; incomplete: there, but traffic no longer reaches them (or part is gone); missing: none there. */
  installation: InstallationState;
}

export interface SyncOutcome {
  /** Addresses whose counters were (re)installed now: they start from 0. */
  newAddresses: string[];
  /**
   * Every counter was installed from scratch now (none were there): every counter starts from 0.
   * Also true for lantop's very first setup; the accountant tells a first installation from a
   * repair by whether it had counted anything before, so sync need not know.
   */
  isReinstalled: boolean;
  notes: string[];
}

export interface PollPort {
  readTraffic(): Promise<TrafficReading>;
  discover(): Promise<PollHost[]>;
  /** Adds counters for new hosts and repairs a missing or incomplete installation; absent = never change the router. */
  sync?(hosts: PollHost[], reading: TrafficReading): Promise<SyncOutcome>;
  /** The connection's state as the transport sees it. */
  connectionState?(): ConnectionState;
}

function isPendingInstall(value: unknown): value is PendingInstall {
  if (typeof value !== 'object' || value === null) return false;
  const p = value as Record<string, unknown>;
  return typeof p['isReinstalled'] === 'boolean' && Array.isArray(p['newAddresses']) && p['newAddresses'].every((a) => typeof a === 'string') && (p['rulesInstalledAtMs'] === null || typeof p['rulesInstalledAtMs'] === 'number');
}

export interface HistoryPort {
  ensureRole(): { role: 'writer' | 'reader'; becameWriter: boolean; restore: AccountingState | null };
  record(result: AccountingResult, state: AccountingState): boolean;
}

export interface PollerOptions {
  router: string;
  port: PollPort;
  clock: Clock;
  history?: HistoryPort;
  accounting?: AccountingOptions;
  /** State to continue from when there is no history port (tests, one-shot readers). */
  initialState?: AccountingState;
  intervalMs?: number;
  discoveryIntervalMs?: number;
  /** Called with every poll's snapshot (also failed polls: connection state and notices). */
  onSnapshot?: (snapshot: Snapshot) => void;
  /** How many notices the snapshot carries (newest last). */
  maxNotices?: number;
  timers?: { setTimeout(fn: () => void, ms: number): unknown; clearTimeout(handle: unknown): void };
}

export const DEFAULT_INTERVAL_MS = 2000;
export const MIN_INTERVAL_MS = 500;
export const DEFAULT_DISCOVERY_INTERVAL_MS = 30_000;

export class Poller {
  private accountant: Accountant;
  private hosts: PollHost[] = [];
  private lastDiscoveryMs: number | null = null;
  /** Addresses with counters: this read's, and those the last sync added. */
  private countedAddresses = new Set<string>();
  private notices: Notice[] = [];
  private lastSnapshot: Snapshot | null = null;
  private pendingNewAddresses: string[] = [];
  private isReinstallPending = false;
  /** When the last sync put the rules back: the gap a repair reports ends there, not at the next read. */
  private pendingRulesInstalledAtMs: number | null = null;
  private handle: unknown = null;
  private isRunning = false;
  private inFlight: Promise<Snapshot> | null = null;
  private readonly intervalMs: number;
  private readonly discoveryIntervalMs: number;

  constructor(private readonly options: PollerOptions) {
    this.intervalMs = Math.max(MIN_INTERVAL_MS, options.intervalMs ?? DEFAULT_INTERVAL_MS);
    this.discoveryIntervalMs = options.discoveryIntervalMs ?? DEFAULT_DISCOVERY_INTERVAL_MS;
    this.accountant = new Accountant(options.accounting, options.initialState);
  }

  get snapshot(): Snapshot | null {
    return this.lastSnapshot;
  }

  /** One poll; concurrent callers share the poll in flight (polls never overlap). */
  pollOnce(): Promise<Snapshot> {
    if (this.inFlight === null) {
      this.inFlight = this.runPoll().finally(() => {
        this.inFlight = null;
      });
    }
    return this.inFlight;
  }

  start(): void {
    if (this.isRunning) return;
    this.isRunning = true;
    const loop = async () => {
      if (!this.isRunning) return;
      const startedMs = this.options.clock.now();
      await this.pollOnce();
      if (!this.isRunning) return;
      const elapsedMs = this.options.clock.now() - startedMs;
      this.handle = this.timers().setTimeout(() => void loop(), Math.max(0, this.intervalMs - elapsedMs));
    };
    void loop();
  }

  stop(): void {
    this.isRunning = false;
    if (this.handle !== null) this.timers().clearTimeout(this.handle);
    this.handle = null;
  }

  private timers() {
    return this.options.timers ?? { setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms), clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout) };
  }

  private notify(level: Notice['level'], text: string): void {
    this.notices.push({ atMs: this.options.clock.now(), level, text });
    const max = this.options.maxNotices ?? 20;
    if (this.notices.length > max) this.notices.splice(0, this.notices.length - max);
  }

  private async runPoll(): Promise<Snapshot> {
    const { clock, port } = this.options;
    const startedMs = clock.now();
    try {
      if (this.lastDiscoveryMs === null || startedMs - this.lastDiscoveryMs >= this.discoveryIntervalMs) {
        this.hosts = await port.discover();
        this.lastDiscoveryMs = startedMs;
      }
      const reading = await port.readTraffic();
      const atMs = clock.now();
      const latencyMs = atMs - startedMs;
      this.countedAddresses = new Set(reading.counters.keys());

      const role = this.options.history?.ensureRole();
      if (role?.becameWriter && role.restore) {
        const { pending, ...restore } = role.restore;
        this.accountant = new Accountant(this.options.accounting, restore);
        // What the last writer's sync installed after its last poll (a one-shot run that ended).
        if (pending !== undefined && isPendingInstall(pending)) {
          this.isReinstallPending = this.isReinstallPending || pending.isReinstalled;
          this.pendingNewAddresses = [...new Set([...this.pendingNewAddresses, ...pending.newAddresses])];
          this.pendingRulesInstalledAtMs ??= pending.rulesInstalledAtMs;
        }
      }

      const result = this.accountant.process({
        atMs,
        counters: reading.counters,
        hosts: this.hosts,
        // A re-install this read cannot see (the apply failed, or the rules vanished again) put
        // nothing back: the next sync tries again and reports then.
        isReinstalled: this.isReinstallPending && reading.installation !== 'missing',
        newAddresses: this.pendingNewAddresses,
        rulesInstalledAtMs: this.pendingRulesInstalledAtMs,
        // A read without rules (or without traffic reaching them) counted nothing: the gap a later
        // reset reports starts at the last read that had them (issue 13).
        isInstallationComplete: reading.installation === 'complete' && reading.counters.size > 0,
      });
      this.isReinstallPending = false;
      this.pendingNewAddresses = [];
      this.pendingRulesInstalledAtMs = null;
      for (const notice of result.notices) this.notify(notice.level, notice.text);

      // Sync after accounting: rules added now start at 0 and are counted from the next poll. The
      // poll is recorded after it, with what it installed, so a lantop that stops now (a one-shot
      // `usage`) leaves the next run knowing those counters start from 0.
      let syncError: unknown = null;
      if (port.sync) {
        try {
          const outcome = await port.sync(this.hosts, reading);
          this.pendingNewAddresses = outcome.newAddresses;
          this.isReinstallPending = outcome.isReinstalled;
          this.pendingRulesInstalledAtMs = outcome.isReinstalled ? clock.now() : null;
          for (const address of outcome.newAddresses) this.countedAddresses.add(address);
          for (const note of outcome.notes) this.notify('info', note);
        } catch (error) {
          syncError = error;
        }
      } else if (reading.installation !== 'complete') {
        this.notify('warn', `lantop's counting rules are ${reading.installation === 'incomplete' ? 'incomplete (forwarded traffic no longer reaches them)' : 'missing'}: nothing is being counted (run \`lantop setup\`)`);
      }
      if (role?.role === 'writer') {
        // Without the rate window: the store drops it (src/store/state-codec.ts), so copying it was wasted.
        const state = this.accountant.exportState({ includeRates: false });
        if (this.isReinstallPending || this.pendingNewAddresses.length > 0) {
          state.pending = { isReinstalled: this.isReinstallPending, newAddresses: [...this.pendingNewAddresses], rulesInstalledAtMs: this.pendingRulesInstalledAtMs };
        }
        this.options.history?.record(result, state);
      }
      if (syncError !== null) throw syncError;
      return this.emit(this.buildSnapshot(result, latencyMs));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const connection: ConnectionState = port.connectionState?.() ?? { kind: 'failed', reason };
      if (connection.kind === 'connected') this.notify('error', `poll failed: ${reason}`);
      const previous = this.lastSnapshot;
      return this.emit({
        schema: 1,
        router: this.options.router,
        atMs: clock.now(),
        // Rates are unknown while disconnected: keep the totals, zero the rates.
        hosts: (previous?.hosts ?? []).map((h) => ({ ...h, downBps: 0, upBps: 0, down4Bps: 0, up4Bps: 0, down6Bps: 0, up6Bps: 0 })),
        totals: { ...(previous?.totals ?? { downBytes: 0, upBytes: 0 }), downBps: 0, upBps: 0 },
        totalsByFamily: { ...(previous?.totalsByFamily ?? emptyFamilySplit()), down4Bps: 0, up4Bps: 0, down6Bps: 0, up6Bps: 0 },
        pollLatencyMs: null,
        connection,
        notices: [...this.notices],
      });
    }
  }

  private emit(snapshot: Snapshot): Snapshot {
    this.lastSnapshot = snapshot;
    this.options.onSnapshot?.(snapshot);
    return snapshot;
  }

  private buildSnapshot(result: AccountingResult, latencyMs: number): Snapshot {
    // A snapshot row is the accounted row without this poll's deltas (the history's business).
    const hosts: HostUsage[] = result.hosts.map(({ deltaDownBytes: _down, deltaUpBytes: _up, deltaDown6Bytes: _down6, deltaUp6Bytes: _up6, ...usage }) => ({
      ...usage,
      isCounted: hasAny(this.countedAddresses, usage.addresses),
    }));
    return {
      schema: 1,
      router: this.options.router,
      atMs: result.atMs,
      hosts,
      totals: { ...result.totals },
      totalsByFamily: { ...result.totalsByFamily },
      pollLatencyMs: latencyMs,
      connection: this.options.port.connectionState?.() ?? { kind: 'connected' },
      notices: [...this.notices],
    };
  }
}

function hasAny(set: ReadonlySet<string>, items: readonly string[]): boolean {
  for (const item of items) if (set.has(item)) return true;
  return false;
}
