// The real RouterController behind the Ink app: one router connection, one monitor, the history
// store. Screens call these methods; nothing here renders.
import { lastHoursSpec, shiftedPeriod } from '../domain/periods.js';
import { GRANULARITY_MS } from '../domain/chart-resolution.js';
import { alignSeries, chartWindow } from '../domain/report-document-builder.js';
import type { Snapshot } from '../domain/snapshot.js';
import { RouterError } from '../errors.js';
import { sanitizeText } from '../sanitize.js';
import type { HistoryStore } from '../store/history-store.js';
import type { OpenRouter } from './open-router.js';
import { startMonitor, type Monitor } from './monitor.js';
import { periodSpec } from './history-report.js';
import type { Services } from './services.js';
import type { ApplyResult, BlockActionResult, DiscoveredHost, HistoryPeriod, HistoryQuery, HistoryView, QuotaInput, QuotasView, RouterController, RulePlanView } from './types.js';
import type { AlertDispatcher } from '../notify/dispatcher.js';
import type { QuotaEnforcer } from './quota-enforcer.js';
import { loadQuotasView, removeQuota, saveQuota } from './quota-controller.js';
import { DeviceConnectionsReader } from './device-connections.js';
import type { ConnectionsView } from '../domain/connection-model.js';

export interface ControllerOptions {
  services: Pick<Services, 'settings' | 'password' | 'key' | 'label' | 'isManaged' | 'setManaged' | 'open' | 'clock'>;
  store: HistoryStore | null;
  intervalMs?: number;
  /** The alert channels for the quota enforcer (issue 16; the app: Services.openAlerts; the demo: none). */
  openAlerts?: Services['openAlerts'];
}

/** The History screen's `h` view: the last this many hours, per minute (issue 17). */
const HISTORY_HOURS = 6;

export class LiveRouterController implements RouterController {
  private router: OpenRouter | null = null;
  private monitor: Monitor | null = null;
  private readonly listeners = new Set<(snapshot: Snapshot) => void>();
  private isClosed = false;
  private connecting: Promise<void> | null = null;
  private alerts: AlertDispatcher | null = null;
  private connectionsReader: DeviceConnectionsReader | null = null;

  constructor(private readonly options: ControllerOptions) {}

  get label(): string {
    return this.options.services.label;
  }

  get protocol(): 'telnet' | 'ssh' | 'local' {
    return this.options.services.settings.protocol;
  }

  /**
   * Logs in (once: concurrent callers share the attempt; a failed attempt can be retried). The
   * CLI starts it while the UI is still loading, and the connect screen then joins it.
   */
  connect(): Promise<void> {
    this.connecting ??= this.login().catch((error: unknown) => {
      this.connecting = null;
      throw error;
    });
    return this.connecting;
  }

  private async login(): Promise<void> {
    if (this.router !== null) return;
    this.router = await this.options.services.open();
    // Poll from the start, not only while the live screen is open: history records while the
    // user looks at other screens, and a managed router gets its rules at once.
    void this.ensureMonitor();
  }

  private async ready(): Promise<OpenRouter> {
    if (this.router === null) await this.connect();
    return this.router!;
  }

  async listHosts(): Promise<DiscoveredHost[]> {
    const { client } = await this.ready();
    return client.listCountedHosts();
  }

  async plan(action: RulePlanView['action'], options: { isAdopting?: boolean } = {}): Promise<RulePlanView> {
    const { client } = await this.ready();
    if (action === 'setup') {
      const { plan } = await client.planSetup(options.isAdopting === true);
      return {
        action,
        commands: plan.commands,
        notes: plan.notes,
        foreignRules: plan.foreign,
        rejectedHosts: plan.rejectedHosts,
      };
    }
    const commands = action === 'flush' ? await client.planFlush() : await client.planTeardown();
    return { action, commands, notes: [], foreignRules: [], rejectedHosts: [] };
  }

  async apply(plan: RulePlanView): Promise<ApplyResult> {
    const { client } = await this.ready();
    if (plan.action === 'setup') {
      const outcome = await client.setup({ isAdopting: plan.foreignRules.length > 0 });
      if (outcome.failed === null) this.setManaged(client, true);
      return { applied: outcome.applied, failed: outcome.failed && { command: outcome.failed.command, output: outcome.failed.output }, isVerified: outcome.isVerified, notes: outcome.notes };
    }
    const outcome = await client.apply(plan.commands);
    // teardown removes lantop's block objects too (issue 16).
    const blocks = plan.action === 'teardown' && outcome.failed === null ? await client.planBlockTeardown() : [];
    if (blocks.length > 0) outcome.applied.push(...(await client.applyBlockTeardown(blocks)).applied);
    // After flush or teardown, sync must not put the rules straight back: setup does that.
    if (outcome.failed === null) this.setManaged(client, false);
    return { applied: outcome.applied, failed: outcome.failed && { command: outcome.failed.command, output: outcome.failed.output }, isVerified: outcome.failed === null, notes: [] };
  }

  private setManaged(client: OpenRouter['client'], isManaged: boolean): void {
    client.setManaged(isManaged);
    this.options.services.setManaged(isManaged);
  }

  watch(listener: (snapshot: Snapshot) => void): () => void {
    this.listeners.add(listener);
    void this.ensureMonitor();
    const last = this.monitor?.snapshot;
    if (last) listener(last);
    return () => {
      this.listeners.delete(listener);
    };
  }

  private async ensureMonitor(): Promise<void> {
    if (this.monitor !== null || this.isClosed) return;
    const { client, session } = await this.ready();
    if (this.monitor !== null || this.isClosed) return;
    this.alerts = this.options.openAlerts?.((text) => this.monitor?.enforcer?.notice('warn', text)) ?? null;
    this.monitor = startMonitor({
      routerKey: this.options.services.key,
      linkBitsPerSecond: this.options.services.settings.linkBitsPerSecond,
      client,
      session,
      clock: this.options.services.clock,
      store: this.options.store,
      ...(this.options.intervalMs !== undefined ? { intervalMs: this.options.intervalMs } : {}),
      enforce: { sink: this.alerts, neverBlock: this.options.services.settings.neverBlock },
      onSnapshot: (snapshot) => {
        for (const l of this.listeners) l(snapshot);
      },
    });
    this.monitor.poller.start();
  }

  /**
   * A period's per-device totals and its chart (issue 17): `query.offset` periods back, the total
   * series and, when asked, one device's, at chart-resolution's granularity for the period.
   */
  async history(period: HistoryPeriod, query: HistoryQuery = {}): Promise<HistoryView> {
    const store = this.options.store;
    if (store === null) throw new RouterError('History is not available: no database.', 'Pass --db PATH or check the data directory is writable.');
    const now = this.options.services.clock.now();
    const offset = query.offset ?? 0;
    if (!Number.isInteger(offset)) throw new RangeError(`history offset must be an integer, got ${String(offset)}`);
    const spec = period === 'hours' ? lastHoursSpec(now, HISTORY_HOURS) : periodSpec({ period });
    const range = shiftedPeriod(spec, now, offset);
    const routerId = store.findRouter(this.options.services.key);
    const report = routerId === null ? null : store.hostTotals(routerId, range.startMs, range.endMs);
    const window = chartWindow(spec, range, report, now);
    const { granularity, bucketStartsMs } = window;
    const first = bucketStartsMs[0];
    const last = bucketStartsMs[bucketStartsMs.length - 1];
    const seriesOf = (identity: string | null) =>
      alignSeries(routerId === null || first === undefined || last === undefined ? [] : store.series(routerId, identity, first, last + GRANULARITY_MS[granularity], granularity), bucketStartsMs);
    const rows = (report?.hosts ?? []).map((h) => ({ identity: h.identity, ip: h.ip, mac: h.mac, hostname: h.hostname === null ? null : sanitizeText(h.hostname, 255), downBytes: h.downBytes, upBytes: h.upBytes }));
    const identity = query.identity ?? null;
    const named = identity === null ? undefined : rows.find((r) => r.identity === identity);
    return {
      period,
      startMs: range.startMs,
      endMs: range.endMs,
      rows,
      totals: report?.totals ?? { downBytes: 0, upBytes: 0 },
      offset,
      chart: {
        granularity,
        bucketStartsMs,
        total: seriesOf(null),
        device: identity === null ? null : { identity, name: sanitizeText(named?.hostname ?? named?.ip ?? identity, 64), ...seriesOf(identity) },
      },
    };
  }

  /** The quota enforcer, once the monitor runs (issue 16). */
  private async enforcer(): Promise<{ enforcer: QuotaEnforcer; store: HistoryStore }> {
    const store = this.options.store;
    if (store === null) throw new RouterError('Quotas are not available: no history database.', 'Pass --db PATH or check the data directory is writable.');
    await this.ensureMonitor();
    const enforcer = this.monitor?.enforcer;
    if (!enforcer) throw new RouterError('Quotas are not available: lantop is not connected.');
    return { enforcer, store };
  }

  async blockDevice(identity: string, durationMs: number): Promise<BlockActionResult> {
    try {
      return await (await this.enforcer()).enforcer.blockByHand(identity, durationMs);
    } catch (error) {
      return { isDone: false, message: sanitizeText(error instanceof Error ? error.message : String(error), 200) };
    }
  }

  async unblockDevice(identity: string): Promise<BlockActionResult> {
    try {
      return await (await this.enforcer()).enforcer.unblockByHand(identity);
    } catch (error) {
      return { isDone: false, message: sanitizeText(error instanceof Error ? error.message : String(error), 200) };
    }
  }

  async quotas(): Promise<QuotasView> {
    const { enforcer, store } = await this.enforcer();
    return loadQuotasView(store, this.options.services.key, enforcer);
  }

  async saveQuota(input: QuotaInput, replacesId?: number): Promise<void> {
    const { store } = await this.enforcer();
    saveQuota(store, this.options.services.key, input, this.options.services.clock.now(), replacesId);
  }

  async removeQuota(id: number): Promise<void> {
    const { store } = await this.enforcer();
    removeQuota(store, this.options.services.key, id);
  }

  /** One read of a device's connections (issue 19), with rates against this controller's previous read. */
  async connections(identity: string): Promise<ConnectionsView> {
    const { client } = await this.ready();
    const host = this.monitor?.snapshot?.hosts.find((h) => h.identity === identity);
    if (host === undefined) throw new RouterError('That device is not in the live table any more.', 'Go back and pick it again once it is listed.');
    this.connectionsReader ??= new DeviceConnectionsReader(client.connections, () => client.offload);
    return this.connectionsReader.read({ identity, name: host.hostname, addresses: host.addresses.length > 0 ? host.addresses : [host.ip] });
  }

  async enableConnectionAccounting(): Promise<BlockActionResult> {
    try {
      const { client } = await this.ready();
      return await client.connections.enableAccounting();
    } catch (error) {
      return { isDone: false, message: sanitizeText(error instanceof Error ? error.message : String(error), 200) };
    }
  }

  async close(): Promise<void> {
    this.isClosed = true;
    this.monitor?.close();
    await this.monitor?.enforcer?.idle();
    this.monitor = null;
    await this.alerts?.close(2000);
    this.alerts = null;
    await this.router?.session.close();
    this.router = null;
  }
}
