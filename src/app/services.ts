// The composition root (issue 14; bandwhich builds one `OsInputOutput` in main.rs): resolved settings
// in, the services every entry point uses out — profiles, the password, the history store, the
// router opener, the clock and the streams. The CLI commands, the Ink app, `serve` and `doctor`
// take what they need from here and nowhere else; tests build Services with their own parts.
import { passwordFromEnv, resolvePassword, warnTelnetCleartextOnce } from '../transport/credentials.js';
import { DEFAULT_PROFILE, resolveSettings, type ResolvedSettings } from '../config/resolve.js';
import { ProfileStore, revealPassword } from '../config/profiles.js';
import { systemClock, type Clock } from '../domain/clock.js';
import { HistoryStore, defaultHistoryPath } from '../store/history-store.js';
import type { SetupLayout } from './open-router.js';
import type { CommandContext, Io } from './context.js';
import { openRouter, routerLabel, type OpenRouter } from './open-router.js';
import { openAlertDispatcher } from './alerts.js';
import { describeReport, type AlertDispatcher } from '../notify/dispatcher.js';
import { counterSourceFor } from './counter-source.js';
import { UsageError } from '../errors.js';

/** The router's password, asked for at most once. `isKnown` is false when only the prompt is left. */
export interface PasswordSource {
  get(): Promise<string>;
  readonly isKnown: boolean;
}

export interface OpenOptions {
  /** `setup --layout`: the layout asked for (iptables or nftables; default: what the router has, else the backend's default). */
  layout?: SetupLayout;
  /** Overrides the profile's "lantop set this router up" flag. */
  isManaged?: boolean;
}

/** Everything about one router: its settings, its password and how to log in to it. */
export interface RouterServices {
  readonly settings: ResolvedSettings;
  readonly profiles: ProfileStore | null;
  readonly password: PasswordSource;
  /** The router's key in the history database and in stored profiles: `host:port`. */
  readonly key: string;
  /** For people: "198.51.100.1:23 over telnet". */
  readonly label: string;
  /** Did lantop set this router's rules up (so polls keep them in sync)? */
  isManaged(): boolean;
  setManaged(isManaged: boolean): void;
  /** Logs in: session, firmware (stored, probed or overridden), client. The caller closes the session. */
  open(options?: OpenOptions): Promise<OpenRouter>;
}

export interface Services extends RouterServices {
  readonly clock: Clock;
  readonly io: Io;
  readonly env: NodeJS.ProcessEnv;
  /** Opens the history database (the caller closes it). */
  openHistory(): HistoryStore;
  /** A one-line notice on stderr ("note: …"). */
  note(text: string): void;
  /** The services of another saved profile (`serve --routers`), sharing clock, streams and store path. */
  forProfile(name: string): RouterServices;
  /** The configured alert channels behind one dispatcher (issue 16); null when none is configured. The caller closes it. */
  openAlerts(onReport: (text: string) => void): AlertDispatcher | null;
  /** The same services logging in with `password` (the app's own password prompt). */
  withPassword(password: PasswordSource): Services;
}

export interface ServiceParts {
  settings: ResolvedSettings;
  profiles: ProfileStore | null;
  password: PasswordSource;
  clock?: Clock;
  io: Io;
  env: NodeJS.ProcessEnv;
  /** Fixed "managed" flag (the demo manages its emulator); default: the profile's. */
  isManaged?: boolean;
  /** How to log in (tests); default: openRouter with these settings. */
  open?: (password: string, options: Required<Pick<OpenOptions, 'isManaged'>> & OpenOptions) => Promise<OpenRouter>;
  /** Another profile's services (serve --routers); default: none. */
  forProfile?: (name: string) => RouterServices;
}

export function routerKey(settings: ResolvedSettings): string {
  if (settings.protocol === 'local') return 'local';
  return `${settings.host ?? '?'}:${settings.port}`;
}

function routerServices(parts: ServiceParts): RouterServices {
  const { settings, profiles, password } = parts;
  let managedOverride = parts.isManaged;
  const isManaged = () => managedOverride ?? profiles?.get(settings.profileName)?.isManaged === true;
  const note = (text: string) => parts.io.stderr.write(`note: ${text}\n`);
  return {
    settings,
    profiles,
    password,
    key: routerKey(settings),
    label: routerLabel(settings),
    isManaged,
    setManaged(value) {
      if (managedOverride !== undefined) managedOverride = value;
      profiles?.update(settings.profileName, { isManaged: value });
    },
    async open(options = {}) {
      const pw = await password.get();
      const wanted = { ...options, isManaged: options.isManaged ?? isManaged() };
      const router = parts.open ? await parts.open(pw, wanted) : await openRouter({ settings, password: pw, profiles, onWarning: note, ...wanted });
      // Custom counters (issue 18) are installed and read as the history database has them.
      router.client.customCounters?.setSource(counterSourceFor(settings.dbPath ?? defaultHistoryPath(parts.env), routerKey(settings)));
      return router;
    },
  };
}

/** Services from their parts (tests, the demo); createServices builds the parts from a command's context. */
export function servicesOf(parts: ServiceParts): Services {
  const router = routerServices(parts);
  return {
    ...router,
    clock: parts.clock ?? systemClock,
    io: parts.io,
    env: parts.env,
    openHistory: () => HistoryStore.open({ path: parts.settings.dbPath ?? defaultHistoryPath(parts.env) }),
    note: (text) => parts.io.stderr.write(`note: ${text}\n`),
    openAlerts: (onReport) => openAlertDispatcher({ env: parts.env, onReport: (report) => onReport(describeReport(report)) }),
    withPassword: (password) => servicesOf({ ...parts, password }),
    forProfile:
      parts.forProfile ??
      ((name) => {
        throw new TypeError(`no services for profile ${name}`);
      }),
  };
}

/**
 * Password sources, in the order transport/credentials.ts defines (--password-file, the
 * --password-env variable, the saved profile, a hidden prompt on a TTY). Never argv.
 */
export function passwordSource(ctx: Pick<CommandContext, 'env' | 'stdin' | 'stderr'>, settings: ResolvedSettings, profiles: ProfileStore | null): PasswordSource {
  // Local mode (issue 18) logs in to nothing: root or `sudo -n`, never a password prompt.
  if (settings.protocol === 'local') return { isKnown: true, get: async () => '' };
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

export function profileNameOf(ctx: Pick<CommandContext, 'flags' | 'env'>): string {
  return ctx.flags.profile ?? ctx.env.LANTOP_PROFILE ?? DEFAULT_PROFILE;
}

/** The services of one command: settings from flags, environment and the profile; the real parts. */
export function createServices(ctx: CommandContext): Services {
  const profiles = new ProfileStore(ctx.env);
  const name = profileNameOf(ctx);
  const settings = resolveSettings(ctx.flags, ctx.env, profiles.get(name), name);
  const io: Io = { stdout: ctx.stdout, stderr: ctx.stderr, stdin: ctx.stdin };
  return servicesOf({
    settings,
    profiles,
    password: passwordSource(ctx, settings, profiles),
    io,
    env: ctx.env,
    // Each router's password: its saved one, else LANTOP_PASSWORD_<PROFILE>, else the usual sources.
    forProfile: (profile) => {
      const envName = `LANTOP_PASSWORD_${profile.toUpperCase().replace(/-/g, '_')}`;
      const flags = { ...ctx.flags, profile, host: undefined, port: undefined, ...(ctx.env[envName] ? { passwordEnv: envName } : {}) };
      const other = resolveSettings(flags, ctx.env, profiles.get(profile), profile);
      return routerServices({ settings: other, profiles, password: passwordSource(ctx, other, profiles), io, env: ctx.env });
    },
  });
}

/** Plain commands say once that telnet sends the password in clear (the app shows it on screen). */
export function noteCleartextTelnet(services: Services): void {
  const { protocol, host } = services.settings;
  if (protocol === 'telnet' && host !== null && !['127.0.0.1', 'localhost', '::1'].includes(host)) warnTelnetCleartextOnce(services.note);
}

/**
 * The key of the router a stored setting belongs to (quotas, counters), or a usage error when no
 * address was given: `what` names the setting ("quotas", "counters").
 */
export function storedSettingsRouterKey(services: Services, what: string): string {
  if (services.settings.host === null) {
    throw new UsageError(`No router address given: ${what} belong to a router.`, 'Pass --host ADDRESS (or set LANTOP_HOST, or use --profile).');
  }
  return services.key;
}

/** Opens the history database for one use and closes it again, whatever `use` does. */
export function withHistory<T>(services: Services, use: (store: HistoryStore) => T): T {
  const store = services.openHistory();
  try {
    return use(store);
  } finally {
    store.close();
  }
}
