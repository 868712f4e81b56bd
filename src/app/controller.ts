// The real RouterController behind the Ink app: one router connection, one monitor, the history
// store. Screens call these methods; nothing here renders.
import type { Snapshot } from '../domain/snapshot.js';
import { RouterError } from '../errors.js';
import { sanitizeText } from '../sanitize.js';
import type { HistoryStore } from '../store/history-store.js';
import type { OpenRouter } from './open-router.js';
import { startMonitor, type Monitor } from './monitor.js';
import { loadHistoryView } from './history-view.js';
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
    this.ensureMonitor().catch(() => undefined /* never an unhandled rejection: a failed login shows on the connect screen, and quotas() awaits it again */);
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
    this.ensureMonitor().catch(() => undefined /* never an unhandled rejection: a failed login shows on the connect screen, and quotas() awaits it again */);
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
    return loadHistoryView(this.options.store, this.options.services.key, this.options.services.clock.now(), period, query);
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
