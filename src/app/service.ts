// `lantop service install|uninstall|status` (issue 22, docs/service.md): a systemd unit that runs
// `lantop serve` for saved profiles. The unit never holds a password: each profile must have a
// saved one, or the service reads a password file (mode 0600) named in the unit. systemctl runs
// through a narrow runner (tests pass a fake and check the exact argv); the unit's text comes from
// output/systemd-unit.ts.
import { mqttFlagsOf } from './serve-mqtt.js';
import { MQTT_PASSWORD_ENV, parseMqttUrl } from './mqtt-settings.js';
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { EXIT, UsageError } from '../errors.js';
import { ProfileStore } from '../config/profiles.js';
import { ServeAccessStore } from '../config/serve-access.js';
import { defaultHistoryPath } from '../store/history-paths.js';
import { renderSystemdUnit, UnitValueError, type UnitSpec } from '../output/systemd-unit.js';
import { sanitizeText } from '../sanitize.js';
import { DEFAULT_LISTEN, parseListen } from './serve.js';
import type { Action, CommandContext } from './context.js';

export const UNIT_NAME = 'lantop.service';
/** Where the unit goes instead of systemd's directory (tests, packagers' staging trees). */
export const SYSTEMD_DIR_ENV = 'LANTOP_SYSTEMD_DIR';
const RESTART_SEC = 10;

export interface SystemctlResult {
  code: number;
  stdout: string;
  stderr: string;
}
/** Runs `systemctl ARGS…` (no shell); throws a UsageError when there is no systemctl. */
export type SystemctlRunner = (args: readonly string[]) => Promise<SystemctlResult>;

export const realSystemctl: SystemctlRunner = (args) =>
  new Promise((resolvePromise, reject) => {
    execFile('systemctl', [...args], { timeout: 60_000, encoding: 'utf8' }, (error, stdout, stderr) => {
      const code: unknown = (error as { code?: unknown } | null)?.code;
      if (code === 'ENOENT') {
        reject(new UsageError('systemctl was not found: `lantop service` needs a Linux with systemd.', 'Elsewhere run `lantop serve` under your own supervisor (docs/service.md shows the command and its signals).'));
        return;
      }
      // A non-zero exit is an answer (is-active says "inactive" with exit 3), not an error.
      resolvePromise({ code: error ? (typeof code === 'number' ? code : 1) : 0, stdout, stderr });
    });
  });

export interface ServiceDeps {
  systemctl: SystemctlRunner;
  /** The command that runs this lantop: node's absolute path and the CLI script's. */
  program: readonly string[];
  /** Who runs the command (a system unit runs as the sudo user, else as this one). */
  user: { name: string; uid: number };
}

export function defaultServiceDeps(): ServiceDeps {
  const info = userInfo();
  return { systemctl: realSystemctl, program: [process.execPath, resolve(process.argv[1] ?? '')], user: { name: info.username, uid: info.uid } };
}

interface Scope {
  isUser: boolean;
  unitPath: string;
  /** `--user` before systemctl's verb for a user unit. */
  systemctl: (...args: string[]) => string[];
}

function scopeOf(ctx: CommandContext, options: Record<string, unknown>): Scope {
  const isUser = options.userUnit === true;
  const configHome = ctx.env.XDG_CONFIG_HOME && isAbsolute(ctx.env.XDG_CONFIG_HOME) ? ctx.env.XDG_CONFIG_HOME : join(homedir(), '.config');
  const dir = ctx.env[SYSTEMD_DIR_ENV] || (isUser ? join(configHome, 'systemd', 'user') : '/etc/systemd/system');
  return { isUser, unitPath: join(dir, UNIT_NAME), systemctl: (...args) => (isUser ? ['--user', ...args] : args) };
}

/** `--profile a,b` (the global option; commas for several). */
function profileNames(ctx: CommandContext): string[] {
  const text = ctx.flags.profile ?? ctx.env.LANTOP_PROFILE ?? 'default';
  const names = [...new Set(text.split(',').map((n) => n.trim()).filter(Boolean))];
  if (names.length === 0) throw new UsageError('--profile names no profile.');
  return names;
}

/** A password file the service may read: absolute, a file, and readable by its owner only. */
function checkPasswordFile(path: string): string {
  const absolute = resolve(path);
  let mode: number;
  try {
    const stat = statSync(absolute);
    if (!stat.isFile()) throw new UsageError(`The password file ${sanitizeText(absolute, 200)} is not a file.`);
    mode = stat.mode;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`Cannot read the password file ${sanitizeText(absolute, 200)} (${(error as NodeJS.ErrnoException).code ?? 'error'}).`, 'Put the password on its first line, then: chmod 600 FILE.');
  }
  if ((mode & 0o077) !== 0) {
    throw new UsageError(`The password file ${sanitizeText(absolute, 200)} can be read by other users (mode ${(mode & 0o777).toString(8)}): a service would keep reading it like that.`, `Run: chmod 600 '${absolute}', then install again.`);
  }
  return absolute;
}

export interface InstallPlan {
  unitPath: string;
  unit: string;
  commands: string[][];
  /** Directories the service writes to (created if missing). */
  writablePaths: string[];
  notes: string[];
}

/**
 * serve's MQTT flags for the unit (issue 22): the URL is checked now, files are made absolute (the
 * mode of a password file checked like the router's), and a password only in LANTOP_MQTT_PASSWORD
 * is refused, since the unit must not hold it.
 */
function mqttArgsForUnit(ctx: CommandContext, options: Record<string, unknown>): string[] {
  const flags = mqttFlagsOf(options);
  if (flags === null) return [];
  parseMqttUrl(flags.url);
  if (flags.passwordFile === undefined && ctx.env[MQTT_PASSWORD_ENV]) {
    throw new UsageError(`${MQTT_PASSWORD_ENV} is not carried into the unit (no password in it).`, 'Put the broker password in a file (chmod 600) and give --mqtt-password-file FILE.');
  }
  const out = ['--mqtt', flags.url];
  if (flags.user !== undefined) out.push('--mqtt-user', flags.user);
  if (flags.passwordFile !== undefined) out.push('--mqtt-password-file', checkPasswordFile(flags.passwordFile));
  if (flags.caFile !== undefined) out.push('--mqtt-ca-file', resolve(flags.caFile));
  if (flags.baseTopic !== undefined) out.push('--mqtt-base-topic', flags.baseTopic);
  if (flags.discoveryPrefix !== undefined) out.push('--mqtt-discovery-prefix', flags.discoveryPrefix);
  return out;
}

/** Everything install would do, checked, without doing it. */
export function planInstall(ctx: CommandContext, options: Record<string, unknown>, deps: ServiceDeps): InstallPlan {
  const scope = scopeOf(ctx, options);
  const notes: string[] = [];
  if (ctx.flags.host !== undefined || ctx.flags.port !== undefined || ctx.flags.user !== undefined || ctx.flags.protocol !== undefined) {
    throw new UsageError('The service runs saved profiles only: --host, --port, --user and --protocol are not carried into the unit.', 'Save them first: lantop --profile NAME config set host ADDRESS (and port, user, protocol).');
  }
  const profiles = new ProfileStore(ctx.env);
  const names = profileNames(ctx);
  const passwordFile = ctx.flags.passwordFile ?? ctx.env.LANTOP_PASSWORD_FILE;
  let usesPasswordFile = false;
  for (const name of names) {
    const profile = profiles.get(name);
    if (profile?.host === undefined) throw new UsageError(`No saved profile '${sanitizeText(name, 40)}' with a host.`, `Save it first: lantop --profile ${name} config set host ADDRESS.`);
    if (profile.savedPassword) continue;
    if (passwordFile === undefined) {
      throw new UsageError(`Profile '${name}' has no saved password, and the unit must not hold one.`, `Save it (lantop --profile ${name} config save-password: obfuscated, NOT encrypted), or give --password-file FILE (mode 0600).`);
    }
    usesPasswordFile = true;
  }
  const listen = typeof options.listen === 'string' ? options.listen : DEFAULT_LISTEN;
  const address = parseListen(listen);
  if (!address.isLoopback && new ServeAccessStore(ctx.env).token === null) {
    throw new UsageError(`--listen ${sanitizeText(listen, 60)} is beyond loopback, which needs the access token saved (LANTOP_SERVE_TOKEN is not carried into the unit).`, 'Make it first: lantop serve token.');
  }
  const [node, script] = deps.program;
  if (node === undefined || script === undefined || !isAbsolute(node) || !isAbsolute(script)) throw new UsageError('Cannot tell where this lantop is installed.', 'Run it as the installed `lantop` (or node /path/to/dist/cli.js).');
  const program = [node, script];
  if (/\.[cm]?ts$/.test(script)) {
    if (options.dryRun !== true) throw new UsageError('This lantop runs from its TypeScript sources, which a service cannot start.', 'Build it (npm run build) and run node dist/cli.js service install, or use the installed lantop.');
    notes.push('this lantop runs from its sources: the unit shown names the .ts file; install from the built CLI (npm run build)');
  }
  const configDir = dirname(profiles.path);
  const dbPath = resolve(ctx.flags.db ?? ctx.env.LANTOP_DB ?? defaultHistoryPath(ctx.env));
  const args = [...program];
  if (usesPasswordFile) args.push('--password-file', checkPasswordFile(passwordFile!));
  if (names.length === 1) args.push('--profile', names[0]!, 'serve');
  else args.push('serve', '--routers', names.join(','));
  args.push('--listen', listen);
  args.push(...mqttArgsForUnit(ctx, options));
  const user = scope.isUser ? null : (ctx.env.SUDO_USER || deps.user.name);
  if (user === 'root') notes.push('the service runs as root; a user account is safer (run install with sudo from that account)');
  if (ctx.env.LANTOP_SMTP_PASSWORD) notes.push('LANTOP_SMTP_PASSWORD is not carried into the unit: save the SMTP password with the channel (lantop alert add email --save-password) for email alerts');
  const spec: UnitSpec = {
    description: `lantop serve (${names.join(', ')})`,
    execStart: args,
    // Paths, not secrets: the service reads and writes what this lantop does.
    environment: { LANTOP_CONFIG_DIR: configDir, LANTOP_DB: dbPath },
    readWritePaths: [configDir, dirname(dbPath)],
    user,
    restartSec: RESTART_SEC,
  };
  let unit: string;
  try {
    unit = renderSystemdUnit(spec);
  } catch (error) {
    if (error instanceof UnitValueError) throw new UsageError(`Cannot write the unit: ${error.message}.`);
    throw error;
  }
  const isReplacing = existsSync(scope.unitPath);
  const commands = [scope.systemctl('daemon-reload'), scope.systemctl('enable', '--now', UNIT_NAME), ...(isReplacing ? [scope.systemctl('restart', UNIT_NAME)] : [])];
  if (isReplacing) notes.push(`replaces the unit at ${scope.unitPath}`);
  return { unitPath: scope.unitPath, unit, commands, writablePaths: spec.readWritePaths as string[], notes };
}

const shown = (argv: readonly string[]) => `systemctl ${argv.join(' ')}`;

async function runAll(deps: ServiceDeps, ctx: CommandContext, commands: readonly string[][], options: { isTolerant?: boolean } = {}): Promise<void> {
  for (const args of commands) {
    const result = await deps.systemctl(args);
    if (result.code === 0) continue;
    const why = sanitizeText(result.stderr.trim() || result.stdout.trim() || `exit ${result.code}`, 300);
    if (options.isTolerant) {
      ctx.stderr.write(`note: ${shown(args)}: ${why}\n`);
      continue;
    }
    throw new UsageError(`${shown(args)} failed: ${why}`, args[0] === '--user' ? 'Is a user manager running (loginctl enable-linger USER for a service without a login)?' : 'Run it as root (sudo), or install a user unit with --user.');
  }
}

async function install(ctx: CommandContext, options: Record<string, unknown>, deps: ServiceDeps): Promise<number> {
  const plan = planInstall(ctx, options, deps);
  for (const note of plan.notes) ctx.stderr.write(`note: ${note}\n`);
  if (options.dryRun === true) {
    ctx.stdout.write(plan.unit);
    ctx.stderr.write(`would write ${plan.unitPath} (mode 0644), make sure ${plan.writablePaths.join(' and ')} exist, and run:\n${plan.commands.map((c) => `  ${shown(c)}\n`).join('')}`);
    return EXIT.ok;
  }
  try {
    for (const dir of plan.writablePaths) {
      if (existsSync(dir)) continue;
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      // Made by root under sudo: hand it to the account the service runs as.
      const uid = Number(ctx.env.SUDO_UID);
      const gid = Number(ctx.env.SUDO_GID);
      if (Number.isInteger(uid) && Number.isInteger(gid) && ctx.env.SUDO_UID) chownSync(dir, uid, gid);
    }
    mkdirSync(dirname(plan.unitPath), { recursive: true });
    writeFileSync(plan.unitPath, plan.unit, { mode: 0o644 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') throw new UsageError(`Cannot write ${plan.unitPath} (${code}).`, 'A system unit needs root: sudo lantop service install …; or install a user unit with --user.');
    throw error;
  }
  ctx.stderr.write(`Wrote ${plan.unitPath}.\n`);
  await runAll(deps, ctx, plan.commands);
  ctx.stderr.write(`${UNIT_NAME} is enabled and started. Logs: journalctl ${plan.commands[0]![0] === '--user' ? '--user ' : ''}-u lantop -f; reload the configuration: systemctl ${plan.commands[0]![0] === '--user' ? '--user ' : ''}reload lantop.\n`);
  return EXIT.ok;
}

async function uninstall(ctx: CommandContext, options: Record<string, unknown>, deps: ServiceDeps): Promise<number> {
  const scope = scopeOf(ctx, options);
  const before = [scope.systemctl('stop', UNIT_NAME), scope.systemctl('disable', UNIT_NAME)];
  const after = [scope.systemctl('daemon-reload')];
  const isThere = existsSync(scope.unitPath);
  if (options.dryRun === true) {
    ctx.stderr.write(`would run ${before.map(shown).join(', ')}; ${isThere ? `remove ${scope.unitPath}` : `(no ${scope.unitPath} to remove)`}; then ${after.map(shown).join(', ')}\n`);
    return EXIT.ok;
  }
  // A unit already stopped or never enabled is no reason to keep its file.
  await runAll(deps, ctx, before, { isTolerant: true });
  if (isThere) {
    try {
      rmSync(scope.unitPath);
    } catch (error) {
      throw new UsageError(`Cannot remove ${scope.unitPath} (${(error as NodeJS.ErrnoException).code ?? 'error'}).`, 'A system unit needs root: sudo lantop service uninstall.');
    }
  }
  await runAll(deps, ctx, after);
  ctx.stderr.write(isThere ? `Removed ${scope.unitPath}; ${UNIT_NAME} is stopped and disabled.\n` : `There was no ${scope.unitPath}; ${UNIT_NAME} is stopped and disabled.\n`);
  return EXIT.ok;
}

async function status(ctx: CommandContext, options: Record<string, unknown>, deps: ServiceDeps): Promise<number> {
  const scope = scopeOf(ctx, options);
  const isThere = existsSync(scope.unitPath);
  ctx.stdout.write(`unit file: ${scope.unitPath} (${isThere ? 'present' : 'absent'})\n`);
  // is-active/is-enabled answer on stdout and exit non-zero for "inactive"/"disabled": the word is the answer.
  for (const verb of ['is-active', 'is-enabled'] as const) {
    const result = await deps.systemctl(scope.systemctl(verb, UNIT_NAME));
    const word = sanitizeText(result.stdout.trim().split('\n')[0] ?? '', 60) || sanitizeText(result.stderr.trim(), 200) || `exit ${result.code}`;
    ctx.stdout.write(`${verb.slice(3)}: ${word}\n`);
  }
  return EXIT.ok;
}

/** The actions behind `lantop service …` (cli: app/service-cli.ts). */
export function serviceActions(makeDeps: () => ServiceDeps = defaultServiceDeps): { install: Action; uninstall: Action; status: Action } {
  return {
    install: (ctx, options) => install(ctx, options, makeDeps()),
    uninstall: (ctx, options) => uninstall(ctx, options, makeDeps()),
    status: (ctx, options) => status(ctx, options, makeDeps()),
  };
}
