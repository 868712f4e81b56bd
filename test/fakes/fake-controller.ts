// A scripted RouterController for UI and command tests (STYLE.md principle 3): a test declares
// the calls it expects and what each returns; an unexpected call is recorded (and rejects), and
// verify() fails the test on unexpected calls *and* on expected ones never made.
import type {
  ApplyResult,
  BlockActionResult,
  DiscoveredHost,
  QuotaInput,
  QuotasView,
  HistoryChart,
  HistoryPeriod,
  HistoryQuery,
  HistoryView,
  RouterController,
  RulePlanView,
} from '../../src/app/types.js';
import type { ConnectionsView, DeviceConnection } from '../../src/domain/connection-model.js';
import type { HostUsage, Snapshot } from '../../src/domain/snapshot.js';

/** A scripted reply: a value, an Error to reject with, or a Deferred the test settles later. */
export type Reply<T> = T | Error | Deferred<T>;

export class Deferred<T> {
  readonly promise: Promise<T>;
  resolve!: (value: T) => void;
  reject!: (error: Error) => void;
  constructor() {
    this.promise = new Promise<T>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }
}

type Method = 'connect' | 'listHosts' | 'plan' | 'apply' | 'watch' | 'history' | 'blockDevice' | 'unblockDevice' | 'quotas' | 'saveQuota' | 'removeQuota' | 'connections' | 'enableConnectionAccounting' | 'close';

interface Expectation {
  method: Method;
  /** Checked against the call's arguments when present. */
  matches?: (args: unknown[]) => boolean;
  describe: string;
  reply: Reply<unknown>;
}

export interface RecordedCall {
  method: Method;
  args: unknown[];
}

export class FakeController implements RouterController {
  readonly label: string;
  readonly protocol: 'telnet' | 'ssh';
  readonly calls: RecordedCall[] = [];
  readonly unexpected: string[] = [];
  private readonly expected: Expectation[] = [];
  private readonly listeners = new Set<(snapshot: Snapshot) => void>();
  /** How many watch() subscriptions have been stopped. */
  stoppedWatches = 0;

  constructor(options: { label?: string; protocol?: 'telnet' | 'ssh' } = {}) {
    this.protocol = options.protocol ?? 'telnet';
    this.label = options.label ?? `198.51.100.1 over ${this.protocol}`;
  }

  // --- scripting -------------------------------------------------------------------------
  expectConnect(reply: Reply<void> = undefined): this {
    return this.push({ method: 'connect', describe: 'connect()', reply });
  }
  expectListHosts(reply: Reply<DiscoveredHost[]>): this {
    return this.push({ method: 'listHosts', describe: 'listHosts()', reply });
  }
  expectPlan(action: RulePlanView['action'], reply: Reply<RulePlanView>, options: { isAdopting?: boolean } = {}): this {
    const isAdopting = options.isAdopting === true;
    return this.push({
      method: 'plan',
      describe: `plan(${action}, isAdopting=${isAdopting})`,
      matches: ([a, o]) => a === action && ((o as { isAdopting?: boolean } | undefined)?.isAdopting === true) === isAdopting,
      reply,
    });
  }
  /** Matches the plan passed in by its commands, so the UI must apply exactly what it showed. */
  expectApply(plan: RulePlanView, reply: Reply<ApplyResult>): this {
    const commands = JSON.stringify(plan.commands);
    return this.push({
      method: 'apply',
      describe: `apply(${plan.action}, ${plan.commands.length} commands)`,
      matches: ([p]) => JSON.stringify((p as RulePlanView | undefined)?.commands) === commands && (p as RulePlanView).action === plan.action,
      reply,
    });
  }
  expectWatch(): this {
    return this.push({ method: 'watch', describe: 'watch()', reply: undefined });
  }
  /** Matches the period and the query (absent: offset 0, no device), as the History screen asks. */
  expectHistory(period: HistoryPeriod, reply: Reply<HistoryView>, query: HistoryQuery = {}): this {
    const offset = query.offset ?? 0;
    const identity = query.identity ?? null;
    return this.push({
      method: 'history',
      describe: `history(${period}, offset=${offset}, identity=${String(identity)})`,
      matches: ([p, q]) => p === period && ((q as HistoryQuery | undefined)?.offset ?? 0) === offset && ((q as HistoryQuery | undefined)?.identity ?? null) === identity,
      reply,
    });
  }
  expectBlock(identity: string, durationMs: number, reply: Reply<BlockActionResult>): this {
    return this.push({ method: 'blockDevice', describe: `blockDevice(${identity}, ${durationMs})`, matches: ([i, d]) => i === identity && d === durationMs, reply });
  }
  expectUnblock(identity: string, reply: Reply<BlockActionResult>): this {
    return this.push({ method: 'unblockDevice', describe: `unblockDevice(${identity})`, matches: ([i]) => i === identity, reply });
  }
  expectQuotas(reply: Reply<QuotasView>): this {
    return this.push({ method: 'quotas', describe: 'quotas()', reply });
  }
  /** Matches the input by its JSON, and the id an edit replaces. */
  expectSaveQuota(input: QuotaInput, replacesId: number | undefined, reply: Reply<void> = undefined): this {
    const wanted = JSON.stringify(input);
    return this.push({ method: 'saveQuota', describe: `saveQuota(${wanted}, ${String(replacesId)})`, matches: ([i, r]) => JSON.stringify(i) === wanted && r === replacesId, reply });
  }
  expectRemoveQuota(id: number, reply: Reply<void> = undefined): this {
    return this.push({ method: 'removeQuota', describe: `removeQuota(${id})`, matches: ([i]) => i === id, reply });
  }
  expectConnections(identity: string, reply: Reply<ConnectionsView>): this {
    return this.push({ method: 'connections', describe: `connections(${identity})`, matches: ([i]) => i === identity, reply });
  }
  expectEnableConnectionAccounting(reply: Reply<BlockActionResult>): this {
    return this.push({ method: 'enableConnectionAccounting', describe: 'enableConnectionAccounting()', reply });
  }
  expectClose(): this {
    return this.push({ method: 'close', describe: 'close()', reply: undefined });
  }

  /** Sends a snapshot to every active watch() listener, as a poll would. */
  emit(snapshot: Snapshot): void {
    for (const listener of [...this.listeners]) listener(snapshot);
  }
  get activeWatches(): number {
    return this.listeners.size;
  }
  /** Expected calls not made yet. */
  get pending(): string[] {
    return this.expected.map((e) => e.describe);
  }

  /** Throws when a call was unexpected or an expected call never happened. */
  verify(): void {
    const problems = [
      ...this.unexpected.map((u) => `unexpected call: ${u}`),
      ...this.expected.map((e) => `expected call never made: ${e.describe}`),
    ];
    if (problems.length > 0) throw new Error(`FakeController:\n  ${problems.join('\n  ')}`);
  }

  // --- RouterController --------------------------------------------------------------------
  connect(): Promise<void> {
    return this.take<void>('connect', []);
  }
  listHosts(): Promise<DiscoveredHost[]> {
    return this.take<DiscoveredHost[]>('listHosts', []);
  }
  plan(action: RulePlanView['action'], options?: { isAdopting?: boolean }): Promise<RulePlanView> {
    return this.take<RulePlanView>('plan', [action, options]);
  }
  apply(plan: RulePlanView): Promise<ApplyResult> {
    return this.take<ApplyResult>('apply', [plan]);
  }
  history(period: HistoryPeriod, query?: HistoryQuery): Promise<HistoryView> {
    return this.take<HistoryView>('history', [period, query]);
  }
  blockDevice(identity: string, durationMs: number): Promise<BlockActionResult> {
    return this.take<BlockActionResult>('blockDevice', [identity, durationMs]);
  }
  unblockDevice(identity: string): Promise<BlockActionResult> {
    return this.take<BlockActionResult>('unblockDevice', [identity]);
  }
  quotas(): Promise<QuotasView> {
    return this.take<QuotasView>('quotas', []);
  }
  saveQuota(input: QuotaInput, replacesId?: number): Promise<void> {
    return this.take<void>('saveQuota', [input, replacesId]);
  }
  removeQuota(id: number): Promise<void> {
    return this.take<void>('removeQuota', [id]);
  }
  connections(identity: string): Promise<ConnectionsView> {
    return this.take<ConnectionsView>('connections', [identity]);
  }
  enableConnectionAccounting(): Promise<BlockActionResult> {
    return this.take<BlockActionResult>('enableConnectionAccounting', []);
  }
  close(): Promise<void> {
    return this.take<void>('close', []);
  }
  watch(listener: (snapshot: Snapshot) => void): () => void {
    this.calls.push({ method: 'watch', args: [] });
    const index = this.expected.findIndex((e) => e.method === 'watch');
    if (index === -1) {
      this.unexpected.push('watch()');
      return () => {};
    }
    this.expected.splice(index, 1);
    this.listeners.add(listener);
    let isStopped = false;
    return () => {
      if (isStopped) return;
      isStopped = true;
      this.listeners.delete(listener);
      this.stoppedWatches += 1;
    };
  }

  private push(expectation: Expectation): this {
    this.expected.push(expectation);
    return this;
  }

  private take<T>(method: Method, args: unknown[]): Promise<T> {
    this.calls.push({ method, args });
    // The first expectation for this method must match: calls of one kind happen in script order.
    const index = this.expected.findIndex((e) => e.method === method);
    const expectation = index === -1 ? undefined : this.expected[index];
    if (expectation === undefined || (expectation.matches && !expectation.matches(args))) {
      const text = `${method}(${args.map((a) => JSON.stringify(a) ?? 'undefined').join(', ')})`;
      this.unexpected.push(expectation ? `${text}, expected ${expectation.describe}` : text);
      return Promise.reject(new Error(`FakeController: unexpected call ${text}`));
    }
    this.expected.splice(index, 1);
    const { reply } = expectation;
    if (reply instanceof Deferred) return reply.promise as Promise<T>;
    if (reply instanceof Error) return Promise.reject(reply);
    return Promise.resolve(reply as T);
  }
}

// --- builders for scripted data -----------------------------------------------------------

export function host(ip: string, fields: Partial<HostUsage> = {}): HostUsage {
  const mac = fields.mac ?? null;
  return {
    identity: mac ?? `ip:${ip}`,
    ip,
    addresses: [ip],
    mac: null,
    hostname: null,
    downBytes: 0,
    upBytes: 0,
    downBps: 0,
    upBps: 0,
    downShare: 0,
    upShare: 0,
    isCounted: true,
    ...fields,
  };
}

/** A snapshot whose totals and shares follow from its hosts (as the real accounting computes them). */
export function makeSnapshot(hosts: HostUsage[], fields: Partial<Snapshot> = {}): Snapshot {
  const totals = hosts.reduce(
    (t, h) => ({ downBytes: t.downBytes + h.downBytes, upBytes: t.upBytes + h.upBytes, downBps: t.downBps + h.downBps, upBps: t.upBps + h.upBps }),
    { downBytes: 0, upBytes: 0, downBps: 0, upBps: 0 },
  );
  const withShares = hosts.map((h) => ({
    ...h,
    downShare: totals.downBps > 0 ? h.downBps / totals.downBps : 0,
    upShare: totals.upBps > 0 ? h.upBps / totals.upBps : 0,
  }));
  return {
    schema: 1,
    router: '198.51.100.1',
    atMs: 1_700_000_000_000,
    hosts: withShares,
    totals,
    pollLatencyMs: 42,
    connection: { kind: 'connected' },
    notices: [],
    ...fields,
  };
}

export function discovered(ip: string, fields: Partial<DiscoveredHost> = {}): DiscoveredHost {
  return { identity: fields.mac ?? `ip:${ip}`, ip, addresses: [ip], mac: null, hostname: null, iface: 'br0', isCounted: false, ...fields };
}

export function plan(action: RulePlanView['action'], commands: string[], fields: Partial<RulePlanView> = {}): RulePlanView {
  return { action, commands, notes: [], foreignRules: [], rejectedHosts: [], ...fields };
}

export function historyView(period: HistoryPeriod, rows: HistoryView['rows'], fields: Partial<HistoryView> = {}): HistoryView {
  const totals = rows.reduce((t, r) => ({ downBytes: t.downBytes + r.downBytes, upBytes: t.upBytes + r.upBytes }), { downBytes: 0, upBytes: 0 });
  return { period, startMs: 1_700_000_000_000, endMs: 1_700_086_400_000, rows, totals, ...fields };
}

/**
 * A chart for historyView: `n` buckets of `granularity` from `startMs`, the total's bytes per bucket
 * from `total(k)` (null = pruned) and, with `device`, that device's from its `bytes(k)`.
 */
export function historyChart(
  granularity: HistoryChart['granularity'],
  startMs: number,
  n: number,
  total: (k: number) => readonly [number | null, number | null],
  device?: { identity: string; name: string; bytes: (k: number) => readonly [number | null, number | null] },
): HistoryChart {
  const len = { minute: 60_000, hour: 3_600_000, day: 86_400_000 }[granularity];
  const ks = Array.from({ length: n }, (_, k) => k);
  const series = (f: (k: number) => readonly [number | null, number | null]) => ({ down: ks.map((k) => f(k)[0]), up: ks.map((k) => f(k)[1]) });
  return {
    granularity,
    bucketStartsMs: ks.map((k) => startMs + k * len),
    total: series(total),
    device: device ? { identity: device.identity, name: device.name, ...series(device.bytes) } : null,
  };
}

/** One connection of a device (documentation addresses; bytes as given, rates 0 unless given). */
export function connection(remote: string, remotePort: number | null, fields: Partial<DeviceConnection> = {}): DeviceConnection {
  const protocol = fields.protocol ?? 'tcp';
  const localAddress = fields.localAddress ?? '198.51.100.10';
  const localPort = fields.localPort ?? 50_000;
  return {
    key: `${protocol} ${localAddress}:${String(localPort)} ${remote}:${String(remotePort)}`,
    protocol,
    initiator: 'device',
    localAddress,
    localPort,
    remote,
    remotePort,
    downBytes: 0,
    upBytes: 0,
    downBps: 0,
    upBps: 0,
    state: protocol === 'tcp' ? 'ESTABLISHED' : null,
    isOffloaded: false,
    ageMs: 0,
    timeoutS: null,
    remoteName: null,
    service: null,
    ...fields,
  };
}

export function connectionsView(identity: string, connections: DeviceConnection[], fields: Partial<ConnectionsView> = {}): ConnectionsView {
  return {
    atMs: 1_700_000_000_000,
    identity,
    name: 'laptop',
    addresses: ['198.51.100.10'],
    connections,
    accounting: 'on',
    enableAccountingCommand: null,
    source: '/proc/net/nf_conntrack',
    notes: [],
    ...fields,
  };
}
