// `lantop usage --routers a,b` (issue 20): several saved routers in one view. Each router gets its
// own session and monitor (as `serve --routers` does); a router that cannot be opened, or drops,
// is shown as down while the others go on. One-shot: two polls of every router (the first has no
// rate yet), combined (domain/multi-router.ts) and printed as a table, JSON or CSV. --watch: every
// interval until SIGINT, JSON as one line per round (NDJSON), CSV rows without the header again.
import { AuthError, EXIT, LantopError, UsageError } from '../errors.js';
import { MIN_INTERVAL_MS } from '../domain/poller.js';
import { combineSnapshots, NO_UPSTREAM, type CombinedView, type RouterPart, type RouterTopology } from '../domain/multi-router.js';
import { canonicalAddress } from '../domain/address.js';
import { detectUpstreams, mergeTopology, type DetectionInput } from '../domain/upstream-detection.js';
import type { Snapshot } from '../domain/snapshot.js';
import { renderCombinedTable } from '../output/combined-table.js';
import { combinedCsv, combinedJson } from '../output/combined-json.js';
import type { AlertSink } from '../domain/alert-event.js';
import type { OpenRouter } from './open-router.js';
import { startMonitor, type Monitor } from './monitor.js';
import { staleAfterMs } from './serve-lifecycle.js';
import type { RouterServices, Services } from './services.js';

export interface MultiUsageOptions {
  json?: boolean;
  csv?: boolean;
  watch?: boolean;
  intervalMs: number;
  /** Rounds of polls (default 2, or until SIGINT with --watch); only the last is printed without --watch. */
  count?: number;
  /** Who is upstream of whom, as is (no detection); default: the profiles' `upstream` settings (topologyOf), else what is detected (liveTopology). */
  topology?: RouterTopology;
  /** Where SIGINT/SIGTERM come from (tests); default the process. */
  signals?: Pick<NodeJS.EventEmitter, 'on' | 'off'>;
  /** How long a router that failed to open waits before the next try (--watch only). */
  reopenAfterMs?: number;
}

/** The name people know a router by: its profile, else its key (as serve's labels). */
export function routerDisplayName(router: RouterServices): string {
  return router.settings.profileName === 'default' ? router.key : router.settings.profileName;
}

/**
 * The topology the profiles state: a profile's `upstream` names another profile in this view (or
 * "none"); a router's uplink address is the address lantop logs in to it by (where that is on the
 * upstream's LAN, the upstream's row for it is marked "via"). Profiles without the setting: none.
 */
export function topologyOf(routers: readonly RouterServices[]): RouterTopology {
  const keyOfProfile = new Map(routers.map((r) => [r.settings.profileName, r.key]));
  const upstreamOf: Record<string, string> = {};
  const uplinkAddressesOf: Record<string, string[]> = {};
  for (const r of routers) {
    const profile = r.profiles?.get(r.settings.profileName) as { upstream?: unknown } | undefined;
    const upstream = profile?.upstream;
    if (typeof upstream === 'string' && upstream !== '') upstreamOf[r.key] = upstream === NO_UPSTREAM ? NO_UPSTREAM : (keyOfProfile.get(upstream) ?? `profile ${upstream}`);
    const address = r.settings.host === null ? null : canonicalAddress(r.settings.host);
    if (address !== null) uplinkAddressesOf[r.key] = [address];
  }
  return { upstreamOf, uplinkAddressesOf };
}

/**
 * The topology in effect now: each profile's `upstream` setting where it has one, else the relation
 * detected from what the routers answered (domain/upstream-detection.ts): a router's own addresses
 * (its interfaces', read once after login, and its login address) against the other routers' hosts.
 */
export function liveTopology(configured: RouterTopology, routers: ReadonlyArray<{ key: string; label: string; ownAddresses: readonly string[] | null; snapshot: Snapshot | null; isUp: boolean }>): RouterTopology {
  const inputs: DetectionInput[] = routers.map((r) => ({
    routerKey: r.key,
    label: r.label,
    ownAddresses: r.ownAddresses,
    lanAddresses: r.isUp && r.snapshot !== null ? r.snapshot.hosts.flatMap((h) => h.addresses) : null,
  }));
  return mergeTopology(configured, detectUpstreams(inputs));
}

/** The login address (when it is one) and, where the client can read them, the router's interface addresses. Never throws. */
export async function ownAddressesOf(router: RouterServices, opened: OpenRouter): Promise<string[]> {
  const login = router.settings.host === null ? null : canonicalAddress(router.settings.host);
  const out = login === null ? [] : [login];
  const client = opened.client as Partial<Pick<OpenRouter['client'], 'routerOwnAddresses'>>;
  if (typeof client.routerOwnAddresses === 'function') {
    const read = await client.routerOwnAddresses().catch(() => null);
    for (const a of read?.addresses ?? []) if (!out.includes(a)) out.push(a);
  }
  return out;
}

interface Slot {
  router: RouterServices;
  /** Its own addresses (ownAddressesOf), for the detection; null until it opened. */
  ownAddresses: string[] | null;
  label: string;
  opened: OpenRouter | null;
  monitor: Monitor | null;
  /** Why it could not be opened (null once open). */
  openError: LantopError | null;
  reopening: Promise<void> | null;
  lastTryMs: number;
}

/**
 * A router's state now: up while its session is connected, its last poll answered and that poll is
 * recent (a hung router goes down after staleMs, as serve's /healthz says).
 */
function partOf(slot: Slot, nowMs: number, staleMs: number): RouterPart {
  const base = { routerKey: slot.router.key, label: slot.label };
  if (slot.monitor === null || slot.opened === null) return { ...base, snapshot: null, state: 'down', reason: slot.openError?.message ?? 'not connected' };
  const snapshot: Snapshot | null = slot.monitor.current();
  const session = slot.opened.session.state;
  if (session.kind === 'reconnecting' || session.kind === 'failed') return { ...base, snapshot, state: 'down', reason: session.reason };
  if (snapshot === null) return { ...base, snapshot: null, state: 'down', reason: 'no poll yet' };
  const c = snapshot.connection;
  if (c.kind === 'connected' && snapshot.pollLatencyMs !== null) {
    if (nowMs - snapshot.atMs > staleMs) return { ...base, snapshot, state: 'down', reason: `no answer for ${Math.round((nowMs - snapshot.atMs) / 1000)} s` };
    return { ...base, snapshot, state: 'up' };
  }
  const lastError = [...snapshot.notices].reverse().find((n) => n.level === 'error')?.text;
  const reason = c.kind === 'reconnecting' || c.kind === 'failed' ? c.reason : c.kind === 'connecting' ? 'connecting' : (lastError ?? 'its last poll failed');
  return { ...base, snapshot, state: 'down', reason };
}

export async function runMultiUsage(services: Services, routers: readonly RouterServices[], options: MultiUsageOptions): Promise<number> {
  const { intervalMs } = options;
  if (!Number.isInteger(intervalMs) || intervalMs < MIN_INTERVAL_MS) throw new UsageError(`--interval must be a whole number of milliseconds ≥ ${MIN_INTERVAL_MS}.`);
  const count = options.count ?? (options.watch ? Infinity : 2);
  if (!(count === Infinity || (Number.isInteger(count) && count >= 1))) throw new UsageError('--count must be a whole number ≥ 1.');
  if (routers.length === 0) throw new UsageError('--routers names no router.');
  if (new Set(routers.map((r) => r.key)).size !== routers.length) throw new UsageError('Two of the routers given to --routers are the same router (same host and port).');
  const configured = topologyOf(routers);
  const io = services.io;
  const signals = options.signals ?? process;
  const reopenAfterMs = options.reopenAfterMs ?? Math.max(intervalMs, 10_000);
  const store = services.openHistory();
  // Quotas act here too (issue 16), through one dispatcher for every router, as in serve.
  const alerts = services.openAlerts((text) => io.stderr.write(`note: ${text}\n`));
  const alertSink: AlertSink = { send: (event) => alerts?.send(event) };
  const slots: Slot[] = routers.map((router) => ({ router, label: routerDisplayName(router), opened: null, monitor: null, openError: null, reopening: null, lastTryMs: 0, ownAddresses: null }));

  const open = async (slot: Slot): Promise<void> => {
    slot.lastTryMs = services.clock.now();
    try {
      const opened = await slot.router.open();
      slot.opened = opened;
      slot.openError = null;
      if (options.topology === undefined) slot.ownAddresses = await ownAddressesOf(slot.router, opened);
      slot.monitor = startMonitor({
        routerKey: slot.router.key,
        client: opened.client,
        session: opened.session,
        clock: services.clock,
        store,
        intervalMs,
        linkBitsPerSecond: slot.router.settings.linkBitsPerSecond,
        enforce: { sink: alertSink, neverBlock: slot.router.settings.neverBlock },
      });
    } catch (error) {
      // A wrong password, an unreachable or unsupported router: down, the others go on. Anything
      // else is a bug and ends the command.
      if (!(error instanceof LantopError)) throw error;
      slot.openError = error;
    }
  };

  const print = (view: CombinedView, withHeader: boolean) => {
    if (options.json) io.stdout.write(JSON.stringify(combinedJson(view)) + '\n');
    else if (options.csv) io.stdout.write(combinedCsv(view, withHeader));
    else io.stdout.write(renderCombinedTable(view, io.stdout.columns ?? 100) + (options.watch ? '\n' : ''));
  };

  let stop = false;
  const wakers = new Set<() => void>();
  const onSignal = () => {
    stop = true;
    for (const wake of [...wakers]) wake();
  };
  /** Sleeps `ms`, or less when a signal comes. */
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      wakers.add(wake);
    });
  signals.on('SIGINT', onSignal);
  signals.on('SIGTERM', onSignal);
  let last: CombinedView | null = null;
  const staleMs = staleAfterMs(intervalMs);
  const combineNow = () => {
    const parts = slots.map((s) => partOf(s, services.clock.now(), staleMs));
    const topology = options.topology ?? liveTopology(configured, slots.map((s, i) => ({ key: s.router.key, label: s.label, ownAddresses: s.ownAddresses, snapshot: parts[i]!.snapshot, isUp: parts[i]!.state === 'up' })));
    return combineSnapshots(parts, topology);
  };
  try {
    // Every router is opened (and closed in finally) even when one open fails with a bug.
    const opens = await Promise.allSettled(slots.map(open));
    for (const outcome of opens) if (outcome.status === 'rejected') throw outcome.reason;
    for (const slot of slots) if (slot.openError !== null) io.stderr.write(`note: ${slot.label}: down (${slot.openError.message})\n`);
    if (!options.watch) {
      // Each router its own polls (a slow one holds up only itself); the first has no rate yet.
      await Promise.all(
        slots.map(async (slot) => {
          const monitor = slot.monitor;
          if (monitor === null) return;
          for (let i = 0; i < count && !stop; i++) {
            const started = services.clock.now();
            await monitor.poller.pollOnce();
            if (i + 1 < count && !stop) await sleep(Math.max(0, intervalMs - (services.clock.now() - started)));
          }
          await monitor.enforcer?.idle();
        }),
      );
      last = combineNow();
      print(last, true);
    } else {
      // Every router polls on its own loop; each interval prints what they last saw, so a router
      // that hangs or drops is down in that line while the others' numbers keep coming.
      for (const slot of slots) slot.monitor?.poller.start();
      for (let i = 0; i < count && !stop; i++) {
        await sleep(intervalMs);
        if (stop) break;
        for (const slot of slots) {
          if (slot.monitor === null && slot.reopening === null && services.clock.now() - slot.lastTryMs >= reopenAfterMs) {
            slot.reopening = open(slot).then(() => slot.monitor?.poller.start()).finally(() => {
              slot.reopening = null;
            });
          }
        }
        last = combineNow();
        print(last, i === 0);
      }
    }
  } finally {
    signals.off('SIGINT', onSignal);
    signals.off('SIGTERM', onSignal);
    await Promise.all(slots.map((s) => s.reopening?.catch(() => undefined)));
    for (const slot of slots) {
      slot.monitor?.close();
      await slot.monitor?.enforcer?.idle();
      await slot.opened?.session.close().catch(() => undefined);
    }
    await alerts?.close(2000);
    store.close();
  }
  if (last !== null && last.routers.some((r) => r.state === 'up')) return EXIT.ok;
  // Nothing came up: exit as the one-router command would (3 for a wrong password, else 4).
  return slots.every((s) => s.openError instanceof AuthError) ? EXIT.auth : EXIT.unreachable;
}

/** `usage --routers a,b` / `usage --all` (actions.ts): the profiles checked, then runMultiUsage. */
export async function multiUsageFromOptions(services: Services, options: Record<string, unknown>, parsed: { interval?: string | undefined; count?: string | undefined }): Promise<number> {
  const routersText = typeof options['routers'] === 'string' ? options['routers'] : undefined;
  const isAll = options['all'] === true;
  if (isAll && routersText !== undefined) throw new UsageError('Give --routers or --all, not both.');
  const names = isAll ? Object.keys(services.profiles?.list() ?? {}) : (routersText ?? '').split(',').map((n) => n.trim()).filter(Boolean);
  if (names.length === 0) throw new UsageError(isAll ? '--all: there is no saved profile.' : '--routers names no profile.', 'Save one first: lantop --profile NAME config set host ADDRESS.');
  for (const name of names) if (services.profiles?.get(name) === undefined) throw new UsageError(`--routers: no saved profile '${name.slice(0, 40)}'.`, 'Save it first: lantop --profile NAME config set host ADDRESS.');
  if (options['byFamily'] === true) throw new UsageError('--by-family does not work with --routers/--all yet.');
  const intervalMs = Number(parsed.interval ?? 2000);
  return runMultiUsage(services, names.map((name) => services.forProfile(name)), {
    json: options['json'] === true,
    csv: options['csv'] === true,
    watch: options['watch'] === true,
    intervalMs,
    ...(parsed.count !== undefined ? { count: Number(parsed.count) } : {}),
  });
}
