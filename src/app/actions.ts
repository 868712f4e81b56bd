// What each CLI command does. src/cli.ts parses argv; createServices (the composition root) turns
// the command's context into settings, password, router opener, store and streams; this file picks
// the command and its options.
import { mkdtempSync, rmSync } from 'node:fs';
import { TELNET_CLEARTEXT_WARNING } from '../transport/credentials.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Action, CommandContext } from './context.js';
import { EXIT, UsageError } from '../errors.js';
import { isSetupLayout } from './open-router.js';
import { parseClassList, type TrafficClass } from '../domain/traffic-class.js';
import { resolveSettings, type GlobalFlags } from '../config/resolve.js';
import { ProfileStore, PROFILE_KEYS, obfuscatePassword, type ProfileKey } from '../config/profiles.js';
import type { Snapshot } from '../domain/snapshot.js';
import { runHosts, runRules, runUsage, runReport } from './commands.js';
import { LiveRouterController } from './controller.js';
import { renderPlainSnapshot } from '../output/usage-table.js';
import { runInteractiveApp } from './interactive.js';
import type { HistoryStore } from '../store/history-store.js';
import { createServices, noteCleartextTelnet, passwordSource, profileNameOf, servicesOf, type Services } from './services.js';

/** The services of a plain command (which says once that telnet is cleartext). */
function plain(ctx: CommandContext): Services {
  const services = createServices(ctx);
  noteCleartextTelnet(services);
  return services;
}

function profilesFor(ctx: CommandContext): ProfileStore {
  return new ProfileStore(ctx.env);
}

const opt = (options: Record<string, unknown>, key: string) => (typeof options[key] === 'string' ? (options[key] as string) : undefined);

async function runInteractive(ctx: CommandContext, services: Services, intervalMs?: number, options: { isDemo?: boolean; prepare?: (store: HistoryStore) => void } = {}): Promise<number> {
  return runInteractiveApp(ctx, services, {
    ...(services.settings.protocol === 'telnet' ? { telnetWarning: TELNET_CLEARTEXT_WARNING } : {}),
    ...(options.prepare !== undefined ? { prepare: options.prepare } : {}),
    makeController: (typedServices, store) =>
      new LiveRouterController({
        services: typedServices,
        store,
        ...(intervalMs !== undefined ? { intervalMs } : {}),
        // The demo's alerts stay on its notice line: the user's channels would get emulated devices' alerts.
        ...(options.isDemo ? {} : { openAlerts: services.openAlerts }),
      }),
    plain: (controller) => plainSnapshot(ctx, controller),
  });
}

/** Not a terminal: one plain snapshot (two polls, so rates are real) and a pointer to JSON. */
async function plainSnapshot(ctx: CommandContext, controller: LiveRouterController): Promise<number> {
  await controller.connect();
  const snapshot = await new Promise<Snapshot>((resolve) => {
    let n = 0;
    const stop = controller.watch((s) => {
      n += 1;
      if (n >= 2) {
        stop();
        resolve(s);
      }
    });
  });
  ctx.stdout.write(renderPlainSnapshot(snapshot, 100) + '\n');
  ctx.stderr.write('(stdout is not a terminal: for scripts use `lantop usage --json`)\n');
  return EXIT.ok;
}

export const actions = {
  async app(ctx, _options, args) {
    const services = createServices(ctx);
    // `lantop --routers a,b` / `--all` (issue 20): every router at once (multi-app.ts reads the words).
    const { appRouterFlags, appRouterNames, runMultiApp } = await import('./multi-app.js');
    const names = appRouterNames(services, appRouterFlags(args));
    if (names !== null) return runMultiApp(ctx, services, names);
    if (services.settings.host === null) throw new UsageError('No router address given.', 'Pass --host ADDRESS (or set LANTOP_HOST), or try `lantop demo` to see lantop on an emulated router.');
    return runInteractive(ctx, services);
  },

  async demo(ctx, options) {
    const { startEmulatedRouter, demoPersona, demoOffload, DEMO_FIRMWARES } = await import('../emulator/index.js');
    const offload = demoOffload(opt(options, 'offload') ?? 'off');
    if (offload === null) throw new UsageError('--offload must be on or off.');
    // --firmware picks the persona; the app still detects the family from what it answers.
    const persona = demoPersona(ctx.flags.firmware);
    if (persona === null) throw new UsageError(`The demo has no emulated ${String(ctx.flags.firmware).slice(0, 40)} router.`, `Use --firmware ${DEMO_FIRMWARES.join(', ')} (or none: broadcom-cli).`);
    const router = await startEmulatedRouter({ clock: 'real', flavour: persona.flavour, offload });
    // The demo keeps its history in a temporary database: the emulator's random port would
    // otherwise leave a new "router" in the user's history on every run.
    const dir = mkdtempSync(join(tmpdir(), 'lantop-demo-'));
    try {
      const settings = resolveSettings({ ...ctx.flags, host: router.host, port: router.port, protocol: 'telnet', user: router.user, firmware: undefined, wan: router.state.wanInterface } as GlobalFlags, {}, undefined, 'demo');
      ctx.stderr.write(`lantop demo: an emulated ${persona.description} on ${router.host}:${router.port} (simulated hosts and traffic; not a real router)\n`);
      // The demo manages its emulator: the first poll installs the rules (in the background, so
      // the app is on screen at once); Flush pauses that until Set up, as on a real router.
      const services = servicesOf({
        settings: { ...settings, dbPath: join(dir, 'demo.sqlite') },
        profiles: null,
        password: { get: async () => router.password, isKnown: true },
        io: { stdout: ctx.stdout, stderr: ctx.stderr, stdin: ctx.stdin },
        env: ctx.env,
        isManaged: true,
      });
      // A quota on the busiest device that notifies and blocks within about a minute (issue 16).
      const { seedDemoQuota } = await import('./demo-quota.js');
      const prepare = (store: HistoryStore) => {
        const name = seedDemoQuota(store, services.key, router.state, services.clock.now());
        if (name !== null) ctx.stderr.write(`lantop demo: a quota of 60 MB per 5 minutes on ${name} notifies at 80 % and blocks it at 100 % (Quotas in the menu)\n`);
      };
      return await runInteractive(ctx, services, 1000, { isDemo: true, prepare });
    } finally {
      await router.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },

  async doctor(ctx, options) {
    const { runDoctor } = await import('./doctor.js');
    const transcript = opt(options, 'transcript');
    return runDoctor(plain(ctx), { json: options.json === true, ...(transcript !== undefined ? { transcript } : {}) });
  },
  async hosts(ctx, options) {
    return runHosts(plain(ctx), { json: options.json === true, csv: options.csv === true });
  },
  async setup(ctx, options) {
    const layout = opt(options, 'layout');
    if (layout !== undefined && !isSetupLayout(layout)) throw new UsageError(`--layout must be flat, split or tree (iptables), or dynamic-sets, static-sets or rules (nftables), not '${layout}'.`);
    const classes = setupClasses(options);
    return runRules(plain(ctx), 'setup', { dryRun: options.dryRun === true, yes: options.yes === true, adopt: options.adopt === true, ...(layout ? { layout } : {}), ...(classes !== undefined ? { classes } : {}) });
  },
  async flush(ctx, options) {
    return runRules(plain(ctx), 'flush', { dryRun: options.dryRun === true, yes: options.yes === true });
  },
  async teardown(ctx, options) {
    return runRules(plain(ctx), 'teardown', { dryRun: options.dryRun === true, yes: options.yes === true });
  },
  async usage(ctx, options) {
    const deps = plain(ctx);
    const interval = opt(options, 'interval');
    const count = opt(options, 'count');
    // Several routers in one view (issue 20, docs/cli.md "Several routers").
    if (options.all === true || opt(options, 'routers') !== undefined) {
      const { multiUsageFromOptions } = await import('./multi-usage.js');
      return multiUsageFromOptions(deps, options, { interval, count });
    }
    return runUsage(deps, { json: options.json === true, csv: options.csv === true, byFamily: options.byFamily === true, watch: options.watch === true, ...(interval !== undefined ? { interval } : {}), ...(count !== undefined ? { count } : {}) });
  },
  async report(ctx, options) {
    const pick = (key: string) => opt(options, key);
    const o: Parameters<typeof runReport>[1] = { json: options.json === true, csv: options.csv === true, byFamily: options.byFamily === true };
    for (const key of ['period', 'since', 'until', 'cycleDay', 'html'] as const) {
      const v = pick(key);
      if (v !== undefined) o[key] = v;
    }
    if (options.open === true) o.open = true;
    if (options.counters === true) o.counters = true;
    return runReport(createServices(ctx), o);
  },
  async serve(ctx, options) {
    const { runServe } = await import('./serve.js');
    const interval = opt(options, 'interval');
    const names = (opt(options, 'routers') ?? '').split(',').map((n) => n.trim()).filter(Boolean);
    const services = plain(ctx);
    for (const name of names) if (services.profiles?.get(name) === undefined) throw new UsageError(`--routers: no saved profile '${name.slice(0, 40)}'.`, 'Save it first: lantop --profile NAME config set host ADDRESS.');
    const routers = names.map((name) => services.forProfile(name));
    const { resolveServeToken } = await import('../config/serve-access.js');
    const token = resolveServeToken(ctx.env)?.token ?? null;
    const cycleDay = opt(options, 'cycleDay');
    const logFormat = opt(options, 'logFormat');
    if (logFormat !== undefined && logFormat !== 'text' && logFormat !== 'json') throw new UsageError('--log-format must be text or json.');
    // SIGHUP (issue 22): profiles and the token read again, as at start (flags still win).
    const reload = () => {
      const fresh = createServices(ctx);
      for (const name of names) if (fresh.profiles?.get(name) === undefined) throw new UsageError(`the saved profile '${name.slice(0, 40)}' is gone`);
      return { settings: names.length > 0 ? names.map((name) => fresh.forProfile(name).settings) : [fresh.settings], token: resolveServeToken(ctx.env)?.token ?? null };
    };
    // MQTT (issue 22): the flags and the password checked before any login.
    const { mqttFlagsOf, mqttSinkFactory } = await import('./serve-mqtt.js');
    const mqtt = mqttFlagsOf(options);
    const sinkFactories = mqtt === null ? [] : [await mqttSinkFactory(mqtt, ctx.env, (text) => void ctx.stderr.write(`warning: ${text}\n`))];
    return runServe(services, { listen: opt(options, 'listen') ?? '127.0.0.1:9464', ...(interval !== undefined ? { interval } : {}), routers, token, ...(cycleDay !== undefined ? { cycleDay } : {}), ...(logFormat !== undefined ? { logFormat } : {}), reload, sinkFactories });
  },
  /** `lantop serve token [--rotate]`: the token on stdout alone (for scripts), where it lives on stderr. */
  async serveToken(ctx, options) {
    const { ServeAccessStore, SERVE_TOKEN_ENV } = await import('../config/serve-access.js');
    const store = new ServeAccessStore(ctx.env);
    const { token, isNew } = store.ensure({ rotate: options.rotate === true });
    ctx.stdout.write(`${token}\n`);
    ctx.stderr.write(`${isNew ? 'Saved a new token' : 'The token'} in ${store.path} (mode 0600). Open the page as http://HOST:PORT/?token=TOKEN; Prometheus: authorization: { credentials: <token> }.\n`);
    if (isNew && options.rotate === true) ctx.stderr.write('A running `lantop serve` keeps the old token until it is restarted.\n');
    if (ctx.env[SERVE_TOKEN_ENV]) ctx.stderr.write(`note: ${SERVE_TOKEN_ENV} is set, and serve uses it instead of this token.\n`);
  },

  async configPath(ctx) {
    ctx.stdout.write(profilesFor(ctx).path + '\n');
  },
  async configList(ctx) {
    const all = profilesFor(ctx).list();
    const shown = Object.fromEntries(Object.entries(all).map(([name, p]) => [name, { ...p, savedPassword: p.savedPassword ? '(saved, obfuscated)' : undefined }]));
    ctx.stdout.write(JSON.stringify(shown, null, 2) + '\n');
  },
  async configGet(ctx, _options, [key]) {
    const k = checkKey(key);
    const value = profilesFor(ctx).get(profileNameOf(ctx))?.[k];
    if (value === undefined) return EXIT.usage;
    ctx.stdout.write(String(value) + '\n');
  },
  async configSet(ctx, _options, [key, value]) {
    const k = checkKey(key);
    const v: string | number = k === 'port' ? Number(value) : String(value);
    if (k === 'port' && !Number.isInteger(v)) throw new UsageError(`port must be a whole number, not '${value}'.`);
    if (k === 'backend' && v !== 'iptables' && v !== 'nftables') throw new UsageError(`backend must be 'iptables' or 'nftables', not '${String(value).slice(0, 40)}'.`);
    profilesFor(ctx).update(profileNameOf(ctx), { [k]: v });
  },
  async configUnset(ctx, _options, [key]) {
    const k = checkKey(key);
    profilesFor(ctx).update(profileNameOf(ctx), { [k]: undefined });
  },
  async configSavePassword(ctx) {
    const profiles = profilesFor(ctx);
    const name = profileNameOf(ctx);
    const settings = resolveSettings(ctx.flags, ctx.env, profiles.get(name), name);
    const password = await passwordSource(ctx, settings, null).get();
    profiles.update(settings.profileName, { savedPassword: obfuscatePassword(password) });
    ctx.stderr.write(`Saved in ${profiles.path} (mode 0600). It is obfuscated, NOT encrypted: anyone who can read that file can recover it.\n`);
  },
} satisfies Record<string, Action>;

/** setup's traffic classes (issue 19): --ports/--protocols, or --no-classes; undefined: keep what the router has. */
function setupClasses(options: Record<string, unknown>): TrafficClass[] | undefined {
  const ports = opt(options, 'ports');
  const protocols = opt(options, 'protocols');
  if (options.classes === false) {
    if (ports !== undefined || protocols !== undefined) throw new UsageError('--no-classes removes every traffic class: give it alone, or give --ports/--protocols.');
    return [];
  }
  if (ports === undefined && protocols === undefined) return undefined;
  try {
    const classes = parseClassList(ports, protocols);
    if (classes.length === 0) throw new RangeError('--ports/--protocols name no class');
    return classes;
  } catch (error) {
    if (error instanceof RangeError) throw new UsageError(`${error.message}.`, 'e.g. `lantop setup --ports 80,443,udp/53 --protocols udp,icmp` (a bare port counts tcp and udp); `--no-classes` removes them.');
    throw error;
  }
}

function checkKey(key: string | undefined): ProfileKey {
  if (key === undefined || !(PROFILE_KEYS as readonly string[]).includes(key)) {
    throw new UsageError(`Unknown setting '${String(key).slice(0, 40)}'.`, `Settings: ${PROFILE_KEYS.join(', ')}.`);
  }
  return key as ProfileKey;
}
