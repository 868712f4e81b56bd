// `lantop report --routers a,b` / `--all` (issue 20): several saved routers' histories over one
// period, from the one history database (each router under its own key), combined as the live view
// is (domain/multi-report.ts). Reads the database only: no router login, no password.
import { EXIT, UsageError } from '../errors.js';
import { resolvePeriod } from '../domain/periods.js';
import { combineReports, type ReportPart } from '../domain/multi-report.js';
import { mergeTopology } from '../domain/upstream-detection.js';
import { renderCombinedReport } from '../output/multi-report-table.js';
import { combinedReportCsv, combinedReportJson } from '../output/multi-report-json.js';
import type { Action } from './context.js';
import { loadReport, periodSpec } from './history-report.js';
import { routerDisplayName, topologyOf } from './multi-usage.js';
import { createServices, type Services } from './services.js';

const text = (options: Record<string, unknown>, key: string) => (typeof options[key] === 'string' ? (options[key] as string) : undefined);

/** The saved profiles `--routers a,b` / `--all` name; an unknown one is a usage error with the next step. */
export function profileNamesOf(services: Pick<Services, 'profiles'>, options: Record<string, unknown>): string[] {
  const routersText = text(options, 'routers');
  const isAll = options['all'] === true;
  if (isAll && routersText !== undefined) throw new UsageError('Give --routers or --all, not both.');
  const names = isAll ? Object.keys(services.profiles?.list() ?? {}) : (routersText ?? '').split(',').map((n) => n.trim()).filter(Boolean);
  if (names.length === 0) throw new UsageError(isAll ? '--all: there is no saved profile.' : '--routers names no profile.', 'Save one first: lantop --profile NAME config set host ADDRESS.');
  for (const name of names) if (services.profiles?.get(name) === undefined) throw new UsageError(`--routers: no saved profile '${name.slice(0, 40)}'.`, 'Save it first: lantop --profile NAME config set host ADDRESS.');
  return names;
}

export async function runMultiReport(services: Services, options: Record<string, unknown>): Promise<number> {
  // What has no several-router form yet is refused before anything is read.
  if (text(options, 'html') !== undefined || options['open'] === true) throw new UsageError('report --html does not work with --routers/--all yet.', 'Write one HTML report per router: lantop --profile NAME report --html FILE; or use --json/--csv with --routers.');
  if (options['counters'] === true) throw new UsageError('report --counters does not work with --routers/--all yet.', 'Custom counters are per router: lantop --profile NAME report --csv --counters.');
  if (options['byFamily'] === true) throw new UsageError('--by-family does not work with --routers/--all yet.');
  const names = profileNamesOf(services, options);
  const spec = periodSpec({ period: text(options, 'period'), since: text(options, 'since'), until: text(options, 'until'), cycleDay: text(options, 'cycleDay') } as Parameters<typeof periodSpec>[0]);
  const routers = names.map((name) => services.forProfile(name));
  if (new Set(routers.map((r) => r.key)).size !== routers.length) throw new UsageError('Two of the routers given to --routers are the same router (same host and port).');
  const nowMs = services.clock.now();
  const range = resolvePeriod(spec, nowMs);
  const store = services.openHistory();
  try {
    const parts: ReportPart[] = routers.map((r) => ({ routerKey: r.key, label: routerDisplayName(r), report: loadReport(store, r.key, spec, nowMs) }));
    // The profiles' `upstream` settings: the history does not keep a router's own addresses, so
    // there is nothing to detect from here (usage and the app detect live).
    const view = combineReports(parts, mergeTopology(topologyOf(routers), null));
    const io = services.io;
    if (options['json'] === true || (options['csv'] !== true && !io.stdout.isTTY)) io.stdout.write(JSON.stringify(combinedReportJson(view, spec.kind, range), null, 2) + '\n');
    else if (options['csv'] === true) io.stdout.write(combinedReportCsv(view));
    else {
      const covered = view.effective === null ? 'no history yet' : `${new Date(view.effective.startMs).toLocaleString()} – ${new Date(view.effective.endMs).toLocaleString()}`;
      io.stdout.write(renderCombinedReport(view, io.stdout.columns ?? 100, `Usage on ${parts.map((p) => p.label).join(', ')}, ${spec.kind}: ${covered}`));
      if (view.effective === null) io.stdout.write('Run `lantop usage --routers …` or `lantop --routers …` to record some.\n');
    }
    return EXIT.ok;
  } finally {
    store.close();
  }
}

/** The `report` action with --routers/--all (multi-report-cli.ts). */
export const multiReportAction: Action = async (ctx, options) => runMultiReport(createServices(ctx), options);
