// The plain (non-interactive) commands. Each renders the same models as the Ink app: hosts from
// discovery, the rule plan, the Snapshot, the history report. Tables on a TTY; JSON/CSV when asked.
import { createInterface } from 'node:readline/promises';
import { EXIT, UsageError, RouterError } from '../errors.js';
import { sanitizeText } from '../sanitize.js';
import type { ResolvedSettings } from '../config/resolve.js';
import type { ProfileStore } from '../config/profiles.js';
import type { Clock } from '../domain/clock.js';
import type { Snapshot } from '../domain/snapshot.js';
import { MIN_INTERVAL_MS } from '../domain/poller.js';
import { resolvePeriod, parsePeriodBound, type PeriodSpec } from '../domain/periods.js';
import { renderCsv, renderTable, type Column } from '../output/table.js';
import { formatBytes } from '../output/units.js';
import { hostsJson, snapshotJson, snapshotCsv, reportJson, reportCsv } from '../output/json.js';
import { renderPlainSnapshot } from '../output/usage-table.js';
import { HistoryStore, defaultHistoryPath, type PeriodReport } from '../store/history-store.js';
import { openRouter, type OpenRouter } from './open-router.js';
import { startMonitor } from './monitor.js';
import type { DiscoveredHost } from '../router/discovery.js';
import { describeRule, type RuleLayout } from '../router/rules.js';

export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
}

export interface CommandDeps {
  settings: ResolvedSettings;
  password: () => Promise<string>;
  profiles: ProfileStore | null;
  clock: Clock;
  io: Io;
  /** `setup --layout`: the rule layout asked for (default: what the router has, else flat). */
  layout?: RuleLayout;
  /** For tests: how to open the router (default: openRouter with the settings). */
  open?: (password: string, isManaged: boolean) => Promise<OpenRouter>;
}

function write(io: Io, text: string): void {
  io.stdout.write(text);
}

async function withRouter<T>(deps: CommandDeps, fn: (router: OpenRouter) => Promise<T>): Promise<T> {
  const password = await deps.password();
  const isManaged = deps.profiles?.get(deps.settings.profileName)?.isManaged === true;
  const router = await (deps.open ? deps.open(password, isManaged) : openRouter({ settings: deps.settings, password, isManaged, profiles: deps.profiles, ...(deps.layout ? { layout: deps.layout } : {}), onWarning: (text) => deps.io.stderr.write(`note: ${text}\n`) }));
  try {
    return await fn(router);
  } finally {
    await router.session.close();
  }
}

const hostColumns: Column<DiscoveredHost & { isCounted: boolean }>[] = [
  { header: 'NAME', value: (h) => h.hostname ?? '(no name)', maxWidth: 32, priority: 5 },
  { header: 'IP', value: (h) => h.ip, priority: 9 },
  { header: 'MAC', value: (h) => h.mac, priority: 3 },
  { header: 'IFACE', value: (h) => h.iface ?? '', priority: 1 },
  { header: 'COUNTED', value: (h) => (h.isCounted ? 'yes' : 'no'), priority: 4 },
];

export async function runHosts(deps: CommandDeps, options: { json?: boolean; csv?: boolean }): Promise<number> {
  return withRouter(deps, async ({ client, label }) => {
    const rows = await client.listCountedHosts();
    if (options.json || (!options.csv && !deps.io.stdout.isTTY)) {
      write(deps.io, JSON.stringify(hostsJson(label, deps.clock.now(), rows), null, 2) + '\n');
    } else if (options.csv) {
      write(deps.io, renderCsv(['ip', 'mac', 'hostname', 'iface', 'counted'], rows.map((h) => [h.ip, h.mac, h.hostname, h.iface, h.isCounted])));
    } else {
      write(deps.io, `Router reports ${rows.length} active device${rows.length === 1 ? '' : 's'}\n\n`);
      if (rows.length > 0) write(deps.io, renderTable(rows, hostColumns, deps.io.stdout.columns));
    }
    return EXIT.ok;
  });
}

async function confirm(io: Io, question: string): Promise<boolean> {
  const rl = createInterface({ input: io.stdin, output: io.stderr as NodeJS.WritableStream });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

export type RuleAction = 'setup' | 'flush' | 'teardown';

export async function runRules(deps: CommandDeps, action: RuleAction, options: { dryRun?: boolean; yes?: boolean; adopt?: boolean }): Promise<number> {
  return withRouter(deps, async ({ client, label }) => {
    const io = deps.io;
    let commands: string[];
    const notes: string[] = [];
    if (action === 'setup') {
      const { plan, hosts } = await client.planSetup(options.adopt === true);
      commands = plan.commands;
      notes.push(...plan.notes);
      if (plan.rejectedHosts.length > 0) notes.push(`${plan.rejectedHosts.length} host entr${plan.rejectedHosts.length === 1 ? 'y has' : 'ies have'} no valid IPv4 address and get no rules`);
      io.stderr.write(`${hosts.length} host(s) on ${label}${plan.isTagging ? '' : ' (rules untagged: no comment match)'}\n`);
      if (plan.foreignRules.length > 0) {
        io.stderr.write(`The TRAFFIC chain holds ${plan.foreignRules.length} rule(s) lantop did not write:\n`);
        for (const rule of plan.foreignRules.slice(0, 20)) {
          io.stderr.write(`  ${sanitizeText(describeRule(rule), 160)}\n`);
        }
        if (!options.adopt) {
          if (options.dryRun) io.stderr.write('(with --adopt, setup would take them over)\n');
          else throw new UsageError('lantop will not silently take over a TRAFFIC chain it did not create.', 'Re-run with --adopt to take it over (its rules are kept), or remove it yourself.');
        }
      }
    } else {
      commands = action === 'flush' ? await client.planFlush() : await client.planTeardown();
    }
    for (const note of notes) io.stderr.write(`note: ${note}\n`);
    if (commands.length === 0) {
      io.stderr.write(`Nothing to do: the router already matches (${action}).\n`);
      return EXIT.ok;
    }
    if (options.dryRun) {
      write(io, commands.join('\n') + '\n');
      return EXIT.ok;
    }
    if (!options.yes) {
      if (!io.stdin.isTTY) throw new UsageError(`Refusing to change the router without confirmation (${commands.length} command(s)).`, `Review them with \`lantop ${action} --dry-run\`, then pass --yes.`);
      io.stderr.write(commands.map((c) => `  ${c}`).join('\n') + '\n');
      if (!(await confirm(io, `Send these ${commands.length} command(s) to ${label}?`))) {
        io.stderr.write('Cancelled; nothing was changed.\n');
        return EXIT.ok;
      }
    }
    if (action === 'setup') {
      const outcome = await client.setup({ isAdopting: options.adopt === true });
      for (const note of outcome.notes) io.stderr.write(`note: ${note}\n`);
      if (outcome.failed) {
        throw new RouterError(`The router refused: ${outcome.failed.command}`, 'See what it said below; nothing after that command was sent.', { seen: outcome.failed.output });
      }
      deps.profiles?.update(deps.settings.profileName, { isManaged: true });
      io.stderr.write(`Set up: ${outcome.applied.length} command(s) applied; ${outcome.isVerified ? 'verified' : 'NOT verified — run `lantop setup --dry-run` to see what differs'}.\n`);
      return outcome.isVerified ? EXIT.ok : EXIT.router;
    }
    const outcome = await client.apply(commands);
    if (outcome.failed) throw new RouterError(`The router refused: ${outcome.failed.command}`, 'See what it said below; nothing after that command was sent.', { seen: outcome.failed.output });
    // After flush or teardown, running monitors must not put the rules straight back: setup does.
    deps.profiles?.update(deps.settings.profileName, { isManaged: false });
    io.stderr.write(`${action === 'flush' ? 'Flushed' : 'Removed'}: ${outcome.applied.length} command(s) applied.\n`);
    return EXIT.ok;
  });
}

export function openStore(settings: ResolvedSettings, env: NodeJS.ProcessEnv): HistoryStore {
  return HistoryStore.open({ path: settings.dbPath ?? defaultHistoryPath(env) });
}

export function routerKey(settings: ResolvedSettings): string {
  return `${settings.host ?? '?'}:${settings.port}`;
}

export async function runUsage(
  deps: CommandDeps & { env: NodeJS.ProcessEnv; store?: HistoryStore | null },
  options: { json?: boolean; csv?: boolean; watch?: boolean; interval?: string; count?: string },
): Promise<number> {
  const intervalMs = Number(options.interval ?? 2000);
  if (!Number.isInteger(intervalMs) || intervalMs < MIN_INTERVAL_MS) throw new UsageError(`--interval must be a whole number of milliseconds ≥ ${MIN_INTERVAL_MS}.`);
  const count = options.count === undefined ? (options.watch ? Infinity : 2) : Number(options.count);
  if (!(count === Infinity || (Number.isInteger(count) && count >= 1))) throw new UsageError('--count must be a whole number ≥ 1.');
  const store = deps.store !== undefined ? deps.store : openStore(deps.settings, deps.env);
  try {
    return await withRouter(deps, async ({ client, session }) => {
      const monitor = startMonitor({ routerKey: routerKey(deps.settings), client, session, clock: deps.clock, store, intervalMs, linkBitsPerSecond: deps.settings.linkBitsPerSecond });
      const render = (snapshot: Snapshot, isLast: boolean) => {
        if (options.json) write(deps.io, JSON.stringify(snapshotJson(snapshot)) + '\n');
        else if (options.csv) write(deps.io, snapshotCsv(snapshot, options.watch === true && !isLast ? false : true));
        else write(deps.io, renderPlainSnapshot(snapshot, deps.io.stdout.columns ?? 100) + '\n');
      };
      let stop = false;
      const onSignal = () => {
        stop = true;
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        // With --count N and no --watch, only the last snapshot is printed (the first poll has no rate yet).
        for (let i = 0; i < count && !stop; i++) {
          const started = deps.clock.now();
          const snapshot = await monitor.poller.pollOnce();
          const isLast = i + 1 >= count;
          if (options.watch || isLast) render(snapshot, isLast);
          if (isLast || stop) break;
          await new Promise((resolve) => setTimeout(resolve, Math.max(0, intervalMs - (deps.clock.now() - started))));
        }
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        monitor.close();
      }
      const last = monitor.poller.snapshot;
      return last !== null && last.connection.kind === 'failed' ? EXIT.unreachable : EXIT.ok;
    });
  } finally {
    store?.close();
  }
}

export function periodSpec(options: { period?: string; since?: string; until?: string; cycleDay?: string }): PeriodSpec {
  if (options.since !== undefined || options.until !== undefined) {
    const sinceMs = options.since === undefined ? null : parsePeriodBound(options.since, 'since');
    const untilMs = options.until === undefined ? null : parsePeriodBound(options.until, 'until');
    if (sinceMs === null && options.since !== undefined) throw new UsageError(`--since: cannot read '${options.since}' as a date.`, 'Use YYYY-MM-DD or an ISO time like 2026-11-01T08:00.');
    if (untilMs === null && options.until !== undefined) throw new UsageError(`--until: cannot read '${options.until}' as a date.`, 'Use YYYY-MM-DD or an ISO time.');
    return { kind: 'custom', sinceMs, untilMs };
  }
  const period = options.period ?? 'today';
  if (period === 'cycle') {
    const day = Number(options.cycleDay ?? 1);
    if (!Number.isInteger(day) || day < 1 || day > 31) throw new UsageError('--cycle-day must be 1–31.');
    return { kind: 'cycle', startDay: day };
  }
  if (period === 'today' || period === 'yesterday' || period === 'week' || period === 'month' || period === 'all') return { kind: period };
  throw new UsageError(`Unknown period '${period}'.`, 'Use today, yesterday, week, month, cycle or all.');
}

export function loadReport(store: HistoryStore, key: string, spec: PeriodSpec, nowMs: number): PeriodReport | null {
  const routerId = store.findRouter(key);
  const range = resolvePeriod(spec, nowMs);
  if (routerId === null) return null;
  return store.hostTotals(routerId, range.startMs, range.endMs);
}

export async function runReport(
  deps: { settings: ResolvedSettings; clock: Clock; io: Io; env: NodeJS.ProcessEnv },
  options: { period?: string; since?: string; until?: string; cycleDay?: string; json?: boolean; csv?: boolean },
): Promise<number> {
  const spec = periodSpec(options);
  const store = openStore(deps.settings, deps.env);
  try {
    const key = routerKey(deps.settings);
    const report = loadReport(store, key, spec, deps.clock.now());
    const range = resolvePeriod(spec, deps.clock.now());
    const periodName = spec.kind;
    if (options.json || (!options.csv && !deps.io.stdout.isTTY)) {
      write(deps.io, JSON.stringify(reportJson(key, periodName, range, report), null, 2) + '\n');
    } else if (options.csv) {
      write(deps.io, reportCsv(report));
    } else if (report === null) {
      write(deps.io, `No history for ${key} yet. Run \`lantop\` or \`lantop usage --watch\` to record some.\n`);
    } else {
      write(deps.io, `Usage on ${key}, ${periodName}: ${new Date(report.effective.startMs).toLocaleString()} – ${new Date(report.effective.endMs).toLocaleString()}\n\n`);
      const columns: Column<PeriodReport['hosts'][number]>[] = [
        { header: 'NAME', value: (h) => h.hostname ?? '(no name)', maxWidth: 32, priority: 5 },
        { header: 'IP', value: (h) => h.ip, priority: 6 },
        { header: 'MAC', value: (h) => h.mac ?? '', priority: 1 },
        { header: '↓ TOTAL', value: (h) => formatBytes(h.downBytes), align: 'right', priority: 9 },
        { header: '↑ TOTAL', value: (h) => formatBytes(h.upBytes), align: 'right', priority: 8 },
        { header: '↓ %', value: (h) => share(h.downBytes, report.totals.downBytes), align: 'right', priority: 3 },
        { header: '↑ %', value: (h) => share(h.upBytes, report.totals.upBytes), align: 'right', priority: 2 },
      ];
      write(deps.io, renderTable(report.hosts, columns, deps.io.stdout.columns));
      write(deps.io, `\nTotal: ↓ ${formatBytes(report.totals.downBytes)}  ↑ ${formatBytes(report.totals.upBytes)}  (${report.hostCount} host${report.hostCount === 1 ? '' : 's'})\n`);
    }
    return EXIT.ok;
  } finally {
    store.close();
  }
}

function share(part: number, total: number): string {
  return total > 0 ? `${((part / total) * 100).toFixed(1)}%` : '0.0%';
}
