// `lantop completion bash|zsh|fish` and its hidden callback `lantop completion --list profiles|devices`
// (issue 22, docs/cli.md). The script is generated from the commander program itself: its commands,
// options, choices and arguments, walked here into the pure model of output/completion-model.ts.
// The callback prints one name a line, fast and without a router login: saved profile names, or the
// devices the history database knows for the router the flags name (nothing without a database).
// Device names are router text: only those made of [A-Za-z0-9._:-] are printed as they are; a device
// whose name has anything else is offered by its MAC (or address), which lantop resolves the same way.
import { existsSync } from 'node:fs';
import type { Argument, Command, Option } from 'commander';
import { UsageError } from '../errors.js';
import { resolveSettings } from '../config/resolve.js';
import { ProfileStore } from '../config/profiles.js';
import { HistoryStore, defaultHistoryPath } from '../store/history-store.js';
import type { KnownHost } from '../store/quota-store.js';
import {
  COMPLETION_LISTS,
  COMPLETION_SHELLS,
  completionWord,
  renderCompletionScript,
  type CompletionArgument,
  type CompletionCommand,
  type CompletionList,
  type CompletionOption,
  type CompletionShell,
  type CompletionValue,
} from '../output/completion-scripts.js';
import type { Action, CommandContext } from './context.js';
import { profileNameOf, routerKey } from './services.js';

/** Option and argument value names that mean a file (`--trace <file>`, `--db <path>`). */
const FILE_VALUE = /^[<[](?:file|path)[>\]]$/;
/** Argument names that are a device as `hosts` shows it (`top [device]`, `quota add <who>`). */
const DEVICE_ARGUMENTS = new Set(['device', 'devices', 'who']);
/** Options whose value is a saved profile (or a comma-separated list of them). */
const PROFILE_OPTIONS = new Set(['--profile', '--routers']);

function optionValue(option: Option): CompletionValue | null {
  if (!option.required && !option.optional) return null;
  if (option.argChoices && option.argChoices.length > 0) return { kind: 'choice', choices: option.argChoices };
  if (option.long !== undefined && PROFILE_OPTIONS.has(option.long)) return { kind: 'profile' };
  const valueName = option.flags.split(/[ ,]+/).find((part) => /^[<[]/.test(part)) ?? '';
  return FILE_VALUE.test(valueName) ? { kind: 'file' } : { kind: 'text' };
}

function argumentValue(argument: Argument): CompletionValue {
  if (argument.argChoices && argument.argChoices.length > 0) return { kind: 'choice', choices: argument.argChoices };
  if (DEVICE_ARGUMENTS.has(argument.name())) return { kind: 'device' };
  return FILE_VALUE.test(`<${argument.name()}>`) ? { kind: 'file' } : { kind: 'text' };
}

/** The command tree as completion sees it: what `--help` shows (hidden options and commands left out). */
export function describeProgram(command: Command): CompletionCommand {
  const help = command.createHelp();
  const options: CompletionOption[] = help.visibleOptions(command).map((o) => ({
    names: [o.long, o.short].filter((n): n is string => n !== undefined),
    description: o.description,
    value: optionValue(o),
  }));
  const args: CompletionArgument[] = command.registeredArguments.map((a) => ({ name: a.name(), value: argumentValue(a), isVariadic: a.variadic }));
  // visibleCommands() includes commander's implicit `help [command]`: completed as a command too.
  const subcommands = help.visibleCommands(command).map((sub) => describeProgram(sub));
  return { name: command.name(), description: command.description(), options, arguments: args, subcommands };
}

/** The devices of one router for completion: a safe name where it has one, else the MAC, else the address. */
export function deviceWords(hosts: readonly KnownHost[]): string[] {
  const words = new Set<string>();
  for (const host of hosts) {
    const word = completionWord(host.hostname) ?? completionWord(host.mac) ?? completionWord(host.ip);
    if (word !== null) words.add(word);
  }
  return [...words];
}

/** Profile names are already limited to [A-Za-z0-9_-] by the config schema; checked again all the same. */
function profileWords(ctx: CommandContext): string[] {
  return Object.keys(new ProfileStore(ctx.env).list()).flatMap((name) => completionWord(name) ?? []);
}

function knownDeviceWords(ctx: CommandContext): string[] {
  const profiles = new ProfileStore(ctx.env);
  const name = profileNameOf(ctx);
  const settings = resolveSettings(ctx.flags, ctx.env, profiles.get(name), name);
  if (settings.host === null) return [];
  const path = settings.dbPath ?? defaultHistoryPath(ctx.env);
  // Completion never creates a database.
  if (!existsSync(path)) return [];
  const store = HistoryStore.open({ path, autoPrune: false });
  try {
    const routerId = store.findRouter(routerKey(settings));
    return routerId === null ? [] : deviceWords(store.quotas.knownHosts(routerId));
  } finally {
    store.close();
  }
}

/** The callback's names; empty on any failure (a broken config must not print errors into a prompt). */
export function completionNames(ctx: CommandContext, list: CompletionList): string[] {
  try {
    return list === 'profiles' ? profileWords(ctx) : knownDeviceWords(ctx);
  } catch {
    return [];
  }
}

const isShell = (text: string): text is CompletionShell => (COMPLETION_SHELLS as readonly string[]).includes(text);
const isList = (text: string): text is CompletionList => (COMPLETION_LISTS as readonly string[]).includes(text);

/** The `completion` command of `program` (read when it runs, so every command is in it by then). */
export function completionAction(program: Command, version: string): Action {
  return async (ctx, options, args) => {
    const list = typeof options['list'] === 'string' ? options['list'] : undefined;
    if (list !== undefined) {
      if (!isList(list)) throw new UsageError(`completion --list: profiles or devices (got '${list.slice(0, 20)}').`);
      const names = completionNames(ctx, list);
      if (names.length > 0) ctx.stdout.write(`${names.join('\n')}\n`);
      return;
    }
    const [shell] = args;
    if (shell === undefined || !isShell(shell)) {
      throw new UsageError('completion: which shell? bash, zsh or fish.', 'For example: source <(lantop completion bash)');
    }
    ctx.stdout.write(renderCompletionScript(shell, describeProgram(program), version));
  };
}
