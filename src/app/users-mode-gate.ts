// `--mode users` (issue 18) at the entry point: the commands users mode has (usage, setup,
// teardown, report, serve) go to their users-mode versions; those that touch no router or history
// (config, completion, alert channels, help) run as they are; every other command says it does not
// work in users mode yet, before it logs in anywhere.
import { UsageError } from '../errors.js';
import { sanitizeText } from '../sanitize.js';
import { resolveMode } from '../config/resolve.js';
import type { Action, CommandContext } from './context.js';
import { createServices, noteCleartextTelnet, type Services } from './services.js';
import { usersHistoryKey } from '../domain/user-history.js';
import type { UsersReportOptions } from './users-report.js';

/** What cli.ts hands in: a commander Command, by shape (its name and its parents'). */
export interface NamedCommand {
  name(): string;
  parent: NamedCommand | null;
}

/** The command's words below the program: `['usage']`, `['config', 'get']`; [] for the program (the app). */
export function commandWords(cmd: NamedCommand): string[] {
  const words: string[] = [];
  for (let c: NamedCommand | null = cmd; c !== null && c.parent !== null; c = c.parent) words.unshift(c.name());
  return words;
}

/** Commands that work the same in either mode: they reach no router and no per-device history. */
const MODE_NEUTRAL = new Set(['config', 'completion', 'alert', 'help']);
const opt = (options: Record<string, unknown>, key: string) => (typeof options[key] === 'string' ? (options[key] as string) : undefined);

const USERS_ACTIONS: Record<string, Action> = {
  async usage(ctx, options) {
    const services = createServices(ctx);
    noteCleartextTelnet(services);
    if (options.all === true || options.routers !== undefined) throw new UsageError('--routers/--all are not yet in users mode.', 'Watch one gateway at a time with --mode users.');
    const { runUsersUsage } = await import('./users-commands.js');
    const interval = opt(options, 'interval');
    const count = opt(options, 'count');
    return runUsersUsage(services, { json: options.json === true, csv: options.csv === true, byFamily: options.byFamily === true, watch: options.watch === true, ...(interval !== undefined ? { interval } : {}), ...(count !== undefined ? { count } : {}) });
  },
  async setup(ctx, options) {
    for (const flag of ['adopt', 'ports', 'protocols', 'layout'] as const) if (options[flag] !== undefined && options[flag] !== false) throw new UsageError(`setup --${flag} is for devices mode; users mode has one layout (docs/users-mode.md).`);
    const { runUsersSetup } = await import('./users-commands.js');
    return runUsersSetup(createServices(ctx), { dryRun: options.dryRun === true });
  },
  async report(ctx, options) {
    if (options.all === true || options.routers !== undefined) throw new UsageError('--routers/--all are not yet in users mode.', 'Report one gateway at a time with --mode users.');
    const o: UsersReportOptions = { json: options.json === true, csv: options.csv === true, byFamily: options.byFamily === true };
    for (const key of ['period', 'since', 'until', 'cycleDay', 'html'] as const) {
      const v = opt(options, key);
      if (v !== undefined) o[key] = v;
    }
    if (options.open === true) o.open = true;
    const { runUsersReport } = await import('./users-report.js');
    return runUsersReport(createServices(ctx), o);
  },
  async serve(ctx, options) {
    // cli.ts gives --cycle-day and --log-format defaults: only a value other than the default is refused.
    const refused = [options.routers !== undefined && '--routers', (options.cycleDay ?? '1') !== '1' && '--cycle-day', (options.logFormat ?? 'text') !== 'text' && '--log-format json'].filter((f): f is string => typeof f === 'string');
    if (refused.length > 0) throw new UsageError(`serve ${refused.join(', ')}: not yet in users mode.`, 'Users-mode serve watches one gateway and logs text on stderr (docs/users-mode.md).');
    const services = createServices(ctx);
    noteCleartextTelnet(services);
    const { resolveServeToken } = await import('../config/serve-access.js');
    const { runUsersServe } = await import('./users-serve.js');
    const interval = opt(options, 'interval');
    const { mqttFlagsOf, mqttSinkFactory } = await import('./serve-mqtt.js');
    const mqtt = mqttFlagsOf(options);
    const sinkFactories = mqtt === null ? [] : [await mqttSinkFactory(mqtt, ctx.env, (text) => void ctx.stderr.write(`warning: ${text}\n`))];
    return runUsersServe(services, { listen: opt(options, 'listen') ?? '127.0.0.1:9464', ...(interval !== undefined ? { interval } : {}), token: resolveServeToken(ctx.env)?.token ?? null, sinkFactories });
  },
  async block(ctx, options, args) {
    const services = createServices(ctx);
    noteCleartextTelnet(services);
    const deny = await import('./user-deny.js');
    if (options.list === true) {
      if (args[0] !== undefined) throw new UsageError('--list takes no USER.');
      return deny.runUsersBlockList(services, options);
    }
    if (args[0] === undefined) throw new UsageError('Whom to deny? Give a login name as `lantop --mode users usage` shows it.', 'Or `lantop --mode users block --list` to see the denies.');
    return deny.runUsersBlock(services, args[0], options);
  },
  async unblock(ctx, options, args) {
    const services = createServices(ctx);
    noteCleartextTelnet(services);
    const { runUsersUnblock } = await import('./user-deny.js');
    return runUsersUnblock(services, args[0], options);
  },
  async teardown(ctx, options) {
    const { runUsersTeardown } = await import('./users-commands.js');
    return runUsersTeardown(createServices(ctx), { dryRun: options.dryRun === true, yes: options.yes === true });
  },
};

/** The app (`lantop --mode users`): users as the rows; quotas deny through sshd (user-deny.ts). */
const usersApp: Action = async (ctx, _options, args) => {
  // The program's leftover words (cli.ts): --routers/--all, or an unknown command.
  if (args.some((a) => a === '--routers' || a.startsWith('--routers=') || a === '--all')) throw new UsageError('--routers/--all are not yet in users mode.', 'Watch one gateway at a time with --mode users.');
  if (args.length > 0) throw new UsageError(`unknown ${args[0]!.startsWith('-') ? 'option' : 'command'} '${sanitizeText(args[0]!, 40)}'.`, 'Run `lantop --help` to see the commands.');
  const services = createServices(ctx);
  if (services.settings.host === null) throw new UsageError('No gateway address given.', 'Pass --host ADDRESS (or --host local on the gateway itself).');
  noteCleartextTelnet(services);
  const [{ runUsersApp }, { usersEnforcerFor }] = await Promise.all([import('./users-app.js'), import('./user-deny.js')]);
  return runUsersApp(ctx, services, {
    makeEnforcer: ({ router, poller, store }) => usersEnforcerFor(services, { router, poller, store, sink: null }),
  });
};

/** The services of users mode's stored things: quotas and persons under the users history key. */
function usersKeyed(ctx: Parameters<Action>[0]): Services {
  const services = createServices(ctx);
  return { ...services, key: usersHistoryKey(services.key) };
}

/** Two-word commands of users mode: quotas and persons on users (`quota add alice --limit 5GB …`). */
const quotaAction = (name: string): Action => async (ctx, options, args) => ((await quotas()) as Record<string, Action>)[name]!(ctx, options, args);
const USERS_SUBACTIONS: Record<string, Action> = {
  'quota add': quotaAction('quotaAdd'),
  'quota edit': quotaAction('quotaEdit'),
  'quota list': quotaAction('quotaList'),
  'quota remove': quotaAction('quotaRemove'),
  'person add': quotaAction('personAdd'),
  'person list': quotaAction('personList'),
  'person remove': quotaAction('personRemove'),
  // A schedule's report now, on the users history (list/add/remove only edit reports.json: as they are).
  'schedule send': async (ctx, options, args) => {
    const { runScheduleSend } = await import('./report-schedule-commands.js');
    return runScheduleSend(ctx, args[0], options, { keyOf: usersHistoryKey });
  },
};

async function quotas() {
  const { quotaActionsWith } = await import('./quota-commands.js');
  return quotaActionsWith(usersKeyed);
}

/**
 * In users mode: the users-mode action of the command, or null to run the command as it is (a
 * mode-neutral one); throws a UsageError for a command users mode does not have yet. Devices mode: null.
 */
export function usersModeAction(ctx: Pick<CommandContext, 'flags' | 'env'>, words: readonly string[]): Action | null {
  if (resolveMode(ctx.flags, ctx.env) !== 'users') return null;
  const [first] = words;
  if (first !== undefined && MODE_NEUTRAL.has(first)) return null;
  // `serve token` prints serve's access token: no router, no history, the same in either mode.
  if (words.length === 2 && first === 'serve' && words[1] === 'token') return null;
  if (first === undefined) return usersApp;
  if (first === 'schedule' && words.length === 2 && ['add', 'list', 'remove'].includes(words[1]!)) return null;
  if (first !== undefined && words.length === 1 && USERS_ACTIONS[first] !== undefined) return USERS_ACTIONS[first]!;
  const sub = USERS_SUBACTIONS[words.join(' ')];
  if (sub !== undefined) return sub;
  const name = `\`lantop ${words.join(' ')}\``;
  throw new UsageError(`${name} is not yet in users mode.`, 'Users mode has the app, `usage` (one-shot or --watch, table or --json), `report` (per-user history), `serve` (/metrics, /api/usage, the live page), `setup`, `teardown`, `quota`/`person` (on users), `block`/`unblock` (deny over quota) and `schedule` (scheduled reports, sent by `serve`) so far; leave --mode users (or LANTOP_MODE) out for the devices commands.');
}
