// What each CLI command does, built from real dependencies (the composition root's second half:
// src/cli.ts parses argv, this file wires settings, password, router, store and output).
import { mkdtempSync, rmSync } from 'node:fs';
import { passwordFromEnv, resolvePassword, warnTelnetCleartextOnce, TELNET_CLEARTEXT_WARNING } from '../transport/credentials.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommandContext, Action } from '../cli.js';
import { EXIT, UsageError } from '../errors.js';
import { resolveSettings, DEFAULT_PROFILE, type ResolvedSettings, type GlobalFlags } from '../config/resolve.js';
import { ProfileStore, PROFILE_KEYS, obfuscatePassword, revealPassword, type ProfileKey } from '../config/profiles.js';
import { systemClock } from '../domain/clock.js';
import { runHosts, runRules, runUsage, runReport, openStore, type CommandDeps } from './commands.js';
import { LiveRouterController } from './controller.js';
import { renderPlainSnapshot } from '../output/usage-table.js';

function profilesFor(ctx: CommandContext): ProfileStore {
  return new ProfileStore(ctx.env);
}

function profileName(ctx: CommandContext): string {
  return ctx.flags.profile ?? ctx.env.LANTOP_PROFILE ?? DEFAULT_PROFILE;
}

function settingsFor(ctx: CommandContext, profiles: ProfileStore | null): ResolvedSettings {
  const name = profileName(ctx);
  return resolveSettings(ctx.flags, ctx.env, profiles?.get(name), name);
}

/**
 * Password sources, in the order transport/credentials.ts defines (--password-file, the
 * --password-env variable, the saved profile, a hidden prompt on a TTY). Never argv.
 * `isKnown` is false when only the prompt is left (the Ink app then asks on its own screen).
 */
export function passwordSource(ctx: CommandContext, settings: ResolvedSettings, profiles: ProfileStore | null): { get: () => Promise<string>; isKnown: boolean } {
  const saved = profiles?.get(settings.profileName)?.savedPassword;
  const savedPassword = saved ? revealPassword(saved) : null;
  const isKnown = settings.passwordFile !== null || passwordFromEnv(ctx.env, settings.passwordEnv) !== null || savedPassword !== null;
  let cached: Promise<string> | null = null;
  return {
    isKnown,
    get: () =>
      (cached ??= resolvePassword({
        env: ctx.env,
        passwordEnv: settings.passwordEnv,
        passwordFile: settings.passwordFile,
        savedPassword,
        prompt: { input: ctx.stdin, output: ctx.stderr },
      }).then((result) => {
        for (const warning of result.warnings) ctx.stderr.write(`warning: ${warning}\n`);
        return result.password;
      })),
  };
}

function depsFor(ctx: CommandContext): CommandDeps & { env: NodeJS.ProcessEnv } {
  const profiles = profilesFor(ctx);
  const settings = settingsFor(ctx, profiles);
  const password = passwordSource(ctx, settings, profiles);
  if (settings.protocol === 'telnet' && settings.host !== null && !['127.0.0.1', 'localhost', '::1'].includes(settings.host)) warnTelnetCleartextOnce((text) => ctx.stderr.write(`note: ${text}\n`));
  return { settings, password: password.get, profiles, clock: systemClock, io: { stdout: ctx.stdout, stderr: ctx.stderr, stdin: ctx.stdin }, env: ctx.env };
}

const opt = (options: Record<string, unknown>, key: string) => (typeof options[key] === 'string' ? (options[key] as string) : undefined);

async function runInteractive(
  ctx: CommandContext,
  settings: ResolvedSettings,
  profiles: ProfileStore | null,
  password: { get: () => Promise<string>; isKnown: boolean },
  intervalMs?: number,
  isManaged?: boolean,
): Promise<number> {
  const store = openStore(settings, ctx.env);
  let typed: string | null = null;
  const controller = new LiveRouterController({
    settings,
    password: async () => typed ?? password.get(),
    clock: systemClock,
    store,
    profiles,
    ...(intervalMs !== undefined ? { intervalMs } : {}),
    ...(isManaged !== undefined ? { isManaged } : {}),
  });
  try {
    if (!ctx.stdout.isTTY) {
      // Not a terminal: one plain snapshot (two polls, so rates are real) and a pointer to JSON.
      await controller.connect();
      const snapshot = await new Promise<import('../domain/snapshot.js').Snapshot>((resolve) => {
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
    // Loading Ink (React, yoga) takes a while: log in meanwhile, so the menu follows the first frame.
    const ui = import('../ui/run-app.js');
    if (password.isKnown) controller.connect().catch(() => undefined /* the connect screen shows it */);
    const { runApp } = await ui;
    return await runApp({
      controller,
      stdin: ctx.stdin,
      stdout: ctx.stdout,
      stderr: ctx.stderr,
      isColor: settings.isColor,
      needsPassword: !password.isKnown,
      onPassword: (pw) => {
        typed = pw;
      },
      ...(settings.protocol === 'telnet' ? { telnetWarning: TELNET_CLEARTEXT_WARNING } : {}),
    });
  } finally {
    await controller.close();
    store.close();
  }
}

export const actions = {
  async app(ctx) {
    const profiles = profilesFor(ctx);
    const settings = settingsFor(ctx, profiles);
    if (settings.host === null) throw new UsageError('No router address given.', 'Pass --host ADDRESS (or set LANTOP_HOST), or try `lantop demo` to see lantop on an emulated router.');
    return runInteractive(ctx, settings, profiles, passwordSource(ctx, settings, profiles));
  },

  async demo(ctx) {
    const { startEmulatedRouter } = await import('../emulator/index.js');
    const router = await startEmulatedRouter({ clock: 'real' });
    // The demo keeps its history in a temporary database: the emulator's random port would
    // otherwise leave a new "router" in the user's history on every run.
    const dir = mkdtempSync(join(tmpdir(), 'lantop-demo-'));
    try {
      const settings = resolveSettings({ ...ctx.flags, host: router.host, port: router.port, protocol: 'telnet', user: router.user, firmware: undefined, wan: 'ppp0' } as GlobalFlags, {}, undefined, 'demo');
      const password = { get: async () => router.password, isKnown: true };
      ctx.stderr.write(`lantop demo: an emulated Broadcom router on ${router.host}:${router.port} (simulated hosts and traffic; not a real router)\n`);
      // The demo manages its emulator: the first poll installs the rules (in the background, so
      // the app is on screen at once); Flush pauses that until Set up, as on a real router.
      return await runInteractive(ctx, { ...settings, dbPath: join(dir, 'demo.sqlite') }, null, password, 1000, true);
    } finally {
      await router.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },

  async doctor(ctx, options) {
    const { runDoctor } = await import('./doctor.js');
    const transcript = opt(options, 'transcript');
    return runDoctor(depsFor(ctx), { json: options.json === true, ...(transcript !== undefined ? { transcript } : {}) });
  },
  async hosts(ctx, options) {
    return runHosts(depsFor(ctx), { json: options.json === true, csv: options.csv === true });
  },
  async setup(ctx, options) {
    const layout = opt(options, 'layout');
    if (layout !== undefined && layout !== 'flat' && layout !== 'split') throw new UsageError(`--layout must be flat or split, not '${layout}'.`);
    return runRules({ ...depsFor(ctx), ...(layout ? { layout } : {}) }, 'setup', { dryRun: options.dryRun === true, yes: options.yes === true, adopt: options.adopt === true });
  },
  async flush(ctx, options) {
    return runRules(depsFor(ctx), 'flush', { dryRun: options.dryRun === true, yes: options.yes === true });
  },
  async teardown(ctx, options) {
    return runRules(depsFor(ctx), 'teardown', { dryRun: options.dryRun === true, yes: options.yes === true });
  },
  async usage(ctx, options) {
    const deps = depsFor(ctx);
    const interval = opt(options, 'interval');
    const count = opt(options, 'count');
    return runUsage(deps, { json: options.json === true, csv: options.csv === true, watch: options.watch === true, ...(interval !== undefined ? { interval } : {}), ...(count !== undefined ? { count } : {}) });
  },
  async report(ctx, options) {
    const profiles = profilesFor(ctx);
    const settings = settingsFor(ctx, profiles);
    const pick = (key: string) => opt(options, key);
    const o: Parameters<typeof runReport>[1] = { json: options.json === true, csv: options.csv === true };
    for (const key of ['period', 'since', 'until', 'cycleDay'] as const) {
      const v = pick(key);
      if (v !== undefined) o[key] = v;
    }
    return runReport({ settings, clock: systemClock, io: { stdout: ctx.stdout, stderr: ctx.stderr, stdin: ctx.stdin }, env: ctx.env }, o);
  },
  async serve(ctx, options) {
    const { runServe } = await import('./serve.js');
    const interval = opt(options, 'interval');
    const names = (opt(options, 'routers') ?? '').split(',').map((n) => n.trim()).filter(Boolean);
    const profiles = profilesFor(ctx);
    for (const name of names) if (profiles.get(name) === undefined) throw new UsageError(`--routers: no saved profile '${name.slice(0, 40)}'.`, 'Save it first: lantop --profile NAME config set host ADDRESS.');
    // Each router's password: its saved one, else LANTOP_PASSWORD_<PROFILE>, else the usual sources.
    const routers = names.map((name) => {
      const envName = `LANTOP_PASSWORD_${name.toUpperCase().replace(/-/g, '_')}`;
      const flags = { ...ctx.flags, profile: name, host: undefined, port: undefined, ...(ctx.env[envName] ? { passwordEnv: envName } : {}) };
      return depsFor({ ...ctx, flags });
    });
    return runServe(depsFor(ctx), { listen: opt(options, 'listen') ?? '127.0.0.1:9464', ...(interval !== undefined ? { interval } : {}), routers });
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
    const value = profilesFor(ctx).get(profileName(ctx))?.[k];
    if (value === undefined) return EXIT.usage;
    ctx.stdout.write(String(value) + '\n');
  },
  async configSet(ctx, _options, [key, value]) {
    const k = checkKey(key);
    const v: string | number = k === 'port' ? Number(value) : String(value);
    if (k === 'port' && !Number.isInteger(v)) throw new UsageError(`port must be a whole number, not '${value}'.`);
    profilesFor(ctx).update(profileName(ctx), { [k]: v });
  },
  async configUnset(ctx, _options, [key]) {
    const k = checkKey(key);
    profilesFor(ctx).update(profileName(ctx), { [k]: undefined });
  },
  async configSavePassword(ctx) {
    const profiles = profilesFor(ctx);
    const settings = settingsFor(ctx, profiles);
    const password = await passwordSource(ctx, settings, null).get();
    profiles.update(settings.profileName, { savedPassword: obfuscatePassword(password) });
    ctx.stderr.write(`Saved in ${profiles.path} (mode 0600). It is obfuscated, NOT encrypted: anyone who can read that file can recover it.\n`);
  },
} satisfies Record<string, Action>;

function checkKey(key: string | undefined): ProfileKey {
  if (key === undefined || !(PROFILE_KEYS as readonly string[]).includes(key)) {
    throw new UsageError(`Unknown setting '${String(key).slice(0, 40)}'.`, `Settings: ${PROFILE_KEYS.join(', ')}.`);
  }
  return key as ProfileKey;
}
