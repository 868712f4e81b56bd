// The plain (non-interactive) commands. Each renders the same models as the Ink app: hosts from
// discovery, the accounting plan, the Snapshot, the history report. Tables on a TTY; JSON/CSV when
// asked. Every dependency comes from the composition root (services.ts).
import { createInterface } from 'node:readline/promises';
import { EXIT, UsageError, RouterError } from '../errors.js';
import { sanitizeText } from '../sanitize.js';
import { isUnattributedIdentity, UNATTRIBUTED_IPV6_NAME, type Snapshot } from '../domain/snapshot.js';
import { MIN_INTERVAL_MS } from '../domain/poller.js';
import { resolvePeriod } from '../domain/periods.js';
import { renderCsv, renderTable, type Column } from '../output/table.js';
import { formatBytes } from '../output/units.js';
import { hostsJson, snapshotJson, snapshotCsv, reportCsv, reportClassesJson } from '../output/json.js';
import { renderPlainSnapshot } from '../output/usage-table.js';
import { reportCounterRows, reportCountersCsv, renderReportCounters } from '../output/report-counters.js';
import { counterKey } from '../domain/custom-counter.js';
import type { HistoryStore, PeriodReport } from '../store/history-store.js';
import type { OpenRouter } from './open-router.js';
import type { TrafficClass } from '../domain/traffic-class.js';
import { startMonitor } from './monitor.js';
import type { DiscoveredHost } from '../router/discovery.js';
import type { SetupLayout } from './open-router.js';
import type { Io } from './context.js';
import type { Services } from './services.js';
import { loadReport, periodSpec } from './history-report.js';
import { runHtmlReport } from './report-html.js';
import { reportJsonDocument } from './report-json.js';

function write(io: Io, text: string): void {
  io.stdout.write(text);
}

/** Opens the router, runs fn, and always closes the session. */
export async function withRouter<T>(services: Services, fn: (router: OpenRouter) => Promise<T>, options: { layout?: SetupLayout } = {}): Promise<T> {
  const router = await services.open(options);
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

export async function runHosts(deps: Services, options: { json?: boolean; csv?: boolean }): Promise<number> {
  return withRouter(deps, async ({ client, label }) => {
    const rows = await client.listCountedHosts();
    if (options.json || (!options.csv && !deps.io.stdout.isTTY)) {
      write(deps.io, JSON.stringify(hostsJson(label, deps.clock.now(), rows), null, 2) + '\n');
    } else if (options.csv) {
      write(deps.io, renderCsv(['ip', 'mac', 'hostname', 'iface', 'counted', 'identity'], rows.map((h) => [h.ip, h.mac, h.hostname, h.iface, h.isCounted, h.identity])));
    } else {
      write(deps.io, `Router reports ${rows.length} active device${rows.length === 1 ? '' : 's'}\n\n`);
      if (rows.length > 0) write(deps.io, renderTable(rows, hostColumns, deps.io.stdout.columns));
    }
    return EXIT.ok;
  });
}

export async function confirm(io: Io, question: string): Promise<boolean> {
  const rl = createInterface({ input: io.stdin, output: io.stderr as NodeJS.WritableStream });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

export type RuleAction = 'setup' | 'flush' | 'teardown';

export async function runRules(deps: Services, action: RuleAction, options: { dryRun?: boolean; yes?: boolean; adopt?: boolean; layout?: SetupLayout; classes?: TrafficClass[] }): Promise<number> {
  return withRouter(deps, async ({ client, label }) => {
    const io = deps.io;
    let commands: string[];
    // teardown removes lantop's block objects too (issue 16), after the accounting's, by their own backend.
    let blockTeardown: string[] = [];
    const notes: string[] = [];
    if (action === 'setup') {
      const { plan, hosts } = await client.planSetup(options.adopt === true, options.classes);
      commands = plan.commands;
      notes.push(...plan.notes);
      if (plan.rejectedHosts.length > 0) notes.push(`${plan.rejectedHosts.length} host entr${plan.rejectedHosts.length === 1 ? 'y has' : 'ies have'} no valid IPv4 address and get no rules`);
      // Several routers (issue 20): who counts what, as the `--routers` views will.
      const upstream = (deps.profiles?.get(deps.settings.profileName) as { upstream?: unknown } | undefined)?.upstream;
      if (typeof upstream === 'string' && upstream !== '' && upstream !== 'none') notes.push(`this router is behind '${sanitizeText(upstream, 32)}' (setting upstream): in \`--routers\` views ${sanitizeText(upstream, 32)}'s WAN counts its traffic, and its own devices are shown per device but not added to the total`);
      io.stderr.write(`${hosts.length} host(s) on ${label}${plan.caveat === null ? '' : ` (${plan.caveat})`}\n`);
      if (options.dryRun) io.stderr.write(`accounting: ${client.backend.describe()}\n`);
      const { names } = client.backend;
      if (plan.foreign.length > 0) {
        io.stderr.write(`${names.definite[0]!.toUpperCase()}${names.definite.slice(1)} holds ${plan.foreign.length} rule(s) lantop did not write:\n`);
        for (const line of plan.foreign.slice(0, 20)) {
          io.stderr.write(`  ${sanitizeText(line, 160)}\n`);
        }
        if (!options.adopt) {
          if (options.dryRun) io.stderr.write('(with --adopt, setup would take them over)\n');
          else throw new UsageError(`lantop will not silently take over ${names.indefinite} it did not create.`, 'Re-run with --adopt to take it over (its rules are kept), or remove it yourself.');
        }
      }
    } else {
      commands = action === 'flush' ? await client.planFlush() : await client.planTeardown();
      if (action === 'teardown') blockTeardown = await client.planBlockTeardown(deps.clock.now());
      commands = [...commands, ...blockTeardown];
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
      const outcome = await client.setup({ isAdopting: options.adopt === true, ...(options.classes !== undefined ? { classes: options.classes } : {}) });
      for (const note of outcome.notes) io.stderr.write(`note: ${note}\n`);
      if (outcome.failed) {
        throw new RouterError(`The router refused: ${outcome.failed.command}`, 'See what it said below; nothing after that command was sent.', { seen: outcome.failed.output });
      }
      deps.setManaged(true);
      io.stderr.write(`Set up: ${outcome.applied.length} command(s) applied; ${outcome.isVerified ? 'verified' : 'NOT verified — run `lantop setup --dry-run` to see what differs'}.\n`);
      return outcome.isVerified ? EXIT.ok : EXIT.router;
    }
    const accountingCommands = commands.slice(0, commands.length - blockTeardown.length);
    const outcome = accountingCommands.length > 0 ? await client.apply(accountingCommands) : { applied: [] as string[], failed: null };
    if (outcome.failed) throw new RouterError(`The router refused: ${outcome.failed.command}`, 'See what it said below; nothing after that command was sent.', { seen: outcome.failed.output });
    const blockOutcome = blockTeardown.length > 0 ? await client.applyBlockTeardown(blockTeardown) : null;
    if (blockOutcome?.failed) throw new RouterError(`The router refused: ${blockOutcome.failed.command}`, 'See what it said below; nothing after that command was sent.', { seen: blockOutcome.failed.output });
    outcome.applied.push(...(blockOutcome?.applied ?? []));
    // After flush or teardown, running monitors must not put the rules straight back: setup does.
    deps.setManaged(false);
    io.stderr.write(`${action === 'flush' ? 'Flushed' : 'Removed'}: ${outcome.applied.length} command(s) applied.\n`);
    return EXIT.ok;
  }, options.layout ? { layout: options.layout } : {});
}

export async function runUsage(
  deps: Services,
  options: { json?: boolean; csv?: boolean; byFamily?: boolean; watch?: boolean; interval?: string; count?: string },
): Promise<number> {
  const intervalMs = Number(options.interval ?? 2000);
  if (!Number.isInteger(intervalMs) || intervalMs < MIN_INTERVAL_MS) throw new UsageError(`--interval must be a whole number of milliseconds ≥ ${MIN_INTERVAL_MS}.`);
  const count = options.count === undefined ? (options.watch ? Infinity : 2) : Number(options.count);
  if (!(count === Infinity || (Number.isInteger(count) && count >= 1))) throw new UsageError('--count must be a whole number ≥ 1.');
  const store = deps.openHistory();
  try {
    return await withRouter(deps, async ({ client, session }) => {
      // Quotas act here too (issue 16), so a crossing recorded by `usage` also reaches the alert channels.
      const alerts = deps.openAlerts((text) => deps.io.stderr.write(`note: ${text}\n`));
      const enforce = { sink: alerts, neverBlock: deps.settings.neverBlock };
      const monitor = startMonitor({ routerKey: deps.key, client, session, clock: deps.clock, store, intervalMs, linkBitsPerSecond: deps.settings.linkBitsPerSecond, enforce });
      const render = (snapshot: Snapshot, isLast: boolean) => {
        const format = { byFamily: options.byFamily === true };
        if (options.json) write(deps.io, JSON.stringify(snapshotJson(snapshot, format)) + '\n');
        else if (options.csv) write(deps.io, snapshotCsv(snapshot, options.watch === true && !isLast ? false : true, format));
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
          await monitor.poller.pollOnce();
          const isLast = i + 1 >= count;
          // The last one with the quota state of a finished evaluation.
          if (isLast) await monitor.enforcer?.idle();
          const snapshot = monitor.current()!;
          if (options.watch || isLast) render(snapshot, isLast);
          if (isLast || stop) break;
          await new Promise((resolve) => setTimeout(resolve, Math.max(0, intervalMs - (deps.clock.now() - started))));
        }
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        monitor.close();
        await monitor.enforcer?.idle();
        await alerts?.close(2000);
      }
      const last = monitor.poller.snapshot;
      return last !== null && last.connection.kind === 'failed' ? EXIT.unreachable : EXIT.ok;
    });
  } finally {
    store.close();
  }
}

export async function runReport(
  deps: Pick<Services, 'settings' | 'clock' | 'io' | 'key' | 'openHistory'>,
  options: { period?: string; since?: string; until?: string; cycleDay?: string; json?: boolean; csv?: boolean; byFamily?: boolean; html?: string; open?: boolean; counters?: boolean },
): Promise<number> {
  // A second CSV layout, not rows in the hosts' CSV: its header and columns are documented (docs/cli.md).
  if (options.counters === true && options.csv !== true) throw new UsageError('--counters goes with --csv.', 'The table and --json have the counters already: lantop report [--json].');
  const spec = periodSpec(options);
  // One self-contained HTML file with the charts (issue 17, docs/reports.md).
  if (options.html !== undefined || options.open === true) return runHtmlReport(deps, spec, options);
  const store = deps.openHistory();
  try {
    const key = deps.key;
    const report = loadReport(store, key, spec, deps.clock.now());
    const range = resolvePeriod(spec, deps.clock.now());
    const periodName = spec.kind;
    if (options.json || (!options.csv && !deps.io.stdout.isTTY)) {
      // With what crossed the WAN and the traffic classes (issue 19); serve's /api/report sends the same.
      write(deps.io, JSON.stringify(reportJsonDocument(store, key, spec, deps.clock.now(), { byFamily: options.byFamily === true }), null, 2) + '\n');
    } else if (options.csv && options.counters === true) {
      write(deps.io, reportCountersCsv(counterRows(store, key, range)));
    } else if (options.csv) {
      write(deps.io, reportCsv(report, { byFamily: options.byFamily === true }));
    } else if (report === null) {
      write(deps.io, `No history for ${key} yet. Run \`lantop\` or \`lantop usage --watch\` to record some.\n`);
    } else {
      write(deps.io, `Usage on ${key}, ${periodName}: ${new Date(report.effective.startMs).toLocaleString()} – ${new Date(report.effective.endMs).toLocaleString()}\n\n`);
      const columns: Column<PeriodReport['hosts'][number]>[] = [
        { header: 'NAME', value: (h) => (isUnattributedIdentity(h.identity) ? UNATTRIBUTED_IPV6_NAME : (h.hostname ?? '(no name)')), maxWidth: 32, priority: 5 },
        { header: 'IP', value: (h) => h.ip, priority: 6 },
        { header: 'MAC', value: (h) => h.mac ?? '', priority: 1 },
        { header: '↓ TOTAL', value: (h) => formatBytes(h.downBytes), align: 'right', priority: 9 },
        { header: '↑ TOTAL', value: (h) => formatBytes(h.upBytes), align: 'right', priority: 8 },
        { header: '↓ %', value: (h) => share(h.downBytes, report.totals.downBytes), align: 'right', priority: 3 },
        { header: '↑ %', value: (h) => share(h.upBytes, report.totals.upBytes), align: 'right', priority: 2 },
      ];
      write(deps.io, renderTable(report.hosts, columns, deps.io.stdout.columns));
      write(deps.io, `\nTotal: ↓ ${formatBytes(report.totals.downBytes)}  ↑ ${formatBytes(report.totals.upBytes)}  (${report.hostCount} host${report.hostCount === 1 ? '' : 's'})\n`);
      const classRows = store.classes.query(key, range.startMs, range.endMs);
      if (classRows.length > 0) {
        write(deps.io, `\nBy port/protocol (setup --ports/--protocols; they overlap the devices above):\n`);
        write(deps.io, renderTable(reportClassesJson(classRows), [
          { header: 'CLASS', value: (c) => c.label, priority: 9 },
          { header: '↓ TOTAL', value: (c) => formatBytes(c.downBytes), align: 'right', priority: 8 },
          { header: '↑ TOTAL', value: (c) => formatBytes(c.upBytes), align: 'right', priority: 7 },
        ], deps.io.stdout.columns));
      }
      write(deps.io, renderReportCounters(counterRows(store, key, range), deps.io.stdout.columns));
      const wan = store.wan.query(key, range.startMs, range.endMs);
      if (wan.minutes > 0) {
        const pct = (share: number | null) => (share === null ? 'n/a' : `${Math.floor(share * 100)}%`);
        write(deps.io, `WAN: ↓ ${formatBytes(wan.downBytes)}  ↑ ${formatBytes(wan.upBytes)} over ${wan.minutes} recorded minute(s); counted per device: ↓ ${pct(wan.accountedShare.down)}  ↑ ${pct(wan.accountedShare.up)}\n`);
      }
    }
    return EXIT.ok;
  } finally {
    store.close();
  }
}

/** The period's custom counters (issue 18) with their matches: what was recorded, and the router's counters that counted nothing. */
function counterRows(store: HistoryStore, key: string, range: { startMs: number; endMs: number }) {
  const counters = store.counters.list(key).map((c) => ({ name: c.counter.name, match: counterKey(c.counter) }));
  return reportCounterRows(store.counters.query(key, range.startMs, range.endMs), counters);
}

function share(part: number, total: number): string {
  return total > 0 ? `${((part / total) * 100).toFixed(1)}%` : '0.0%';
}
