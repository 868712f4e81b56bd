// `lantop --routers a,b` / `lantop --all` (issue 20): the Ink app on several saved routers at once.
// The program-level words are read here, not by commander in cli.ts: a program option would also
// take `usage --routers` and `unblock --all` from their commands (commander reads program options
// anywhere in argv). Every router gets its own controller (multi-router-controller.ts); the
// screens get them as a RouterSet. Not a terminal: the combined table once, as `usage --routers`.
import { Command, CommanderError } from 'commander';
import { UsageError } from '../errors.js';
import { sanitizeText } from '../sanitize.js';
import type { CommandContext } from './context.js';
import { MultiRouterController } from './multi-router-controller.js';
import { runMultiUsage, topologyOf } from './multi-usage.js';
import type { RouterServices, Services } from './services.js';

export interface AppRouterFlags {
  routers?: string;
  all?: boolean;
}

/** The words after `lantop` when no command was given: --routers LIST, --all, or a usage error. */
export function appRouterFlags(args: readonly string[]): AppRouterFlags {
  const [first] = args;
  if (first === undefined) return {};
  if (!first.startsWith('-')) throw new UsageError(`unknown command '${sanitizeText(first, 40)}'.`, 'Run `lantop --help` to see the commands.');
  const parser = new Command('lantop')
    .option('--routers <profiles>')
    .option('--all')
    .exitOverride()
    .configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
  try {
    parser.parse([...args], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) throw new UsageError(sanitizeText(error.message.replace(/^error: /, ''), 200), 'Run `lantop --help` for usage.');
    throw error;
  }
  const o = parser.opts<{ routers?: string; all?: boolean }>();
  return { ...(o.routers !== undefined ? { routers: o.routers } : {}), ...(o.all === true ? { all: true } : {}) };
}

/** The profiles --routers/--all name (checked: each is saved), or null for the one-router app. */
export function appRouterNames(services: Pick<Services, 'profiles'>, flags: AppRouterFlags): string[] | null {
  if (flags.routers === undefined && flags.all !== true) return null;
  if (flags.all === true && flags.routers !== undefined) throw new UsageError('Give --routers or --all, not both.');
  const names = flags.all === true ? Object.keys(services.profiles?.list() ?? {}) : (flags.routers ?? '').split(',').map((n) => n.trim()).filter(Boolean);
  if (names.length === 0) throw new UsageError(flags.all === true ? '--all: there is no saved profile.' : '--routers names no profile.', 'Save one first: lantop --profile NAME config set host ADDRESS.');
  if (new Set(names).size !== names.length) throw new UsageError('--routers names a profile twice.');
  for (const name of names) {
    if (services.profiles?.get(name) === undefined) throw new UsageError(`--routers: no saved profile '${sanitizeText(name, 40)}'.`, 'Save it first: lantop --profile NAME config set host ADDRESS (see `lantop config list`).');
  }
  return names;
}

export async function runMultiApp(ctx: CommandContext, services: Services, names: readonly string[], options: { intervalMs?: number } = {}): Promise<number> {
  const routers: RouterServices[] = names.map((name) => services.forProfile(name));
  for (const [i, router] of routers.entries()) {
    if (router.settings.host === null && router.settings.protocol !== 'local') throw new UsageError(`The saved profile '${sanitizeText(names[i]!, 40)}' has no host.`, `Set it: lantop --profile ${sanitizeText(names[i]!, 40)} config set host ADDRESS.`);
  }
  if (new Set(routers.map((r) => r.key)).size !== routers.length) throw new UsageError('Two of the routers given to --routers are the same router (same host and port).');
  if (!ctx.stdout.isTTY) {
    ctx.stderr.write('(stdout is not a terminal: the combined table once; for scripts use `lantop usage --routers … --json`)\n');
    return runMultiUsage(services, routers, { intervalMs: options.intervalMs ?? 2000 });
  }
  const store = services.openHistory();
  const multi = new MultiRouterController({
    routers: routers.map((router, i) => ({ name: names[i]!, services: router })),
    clock: services.clock,
    store,
    topology: topologyOf(routers),
    openAlerts: services.openAlerts,
    ...(options.intervalMs !== undefined ? { intervalMs: options.intervalMs } : {}),
  });
  try {
    // Ink loads while every router logs in.
    const ui = import('../ui/run-app.js');
    void multi.connectAll();
    const { runApp } = await ui;
    return await runApp({ controller: multi.entries[0]!.controller, routers: multi, stdin: ctx.stdin, stdout: ctx.stdout, stderr: ctx.stderr, isColor: services.settings.isColor });
  } finally {
    await multi.close();
    store.close();
  }
}

