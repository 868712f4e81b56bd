// The emulated `nft` program: its command line (src/main.c: options before commands, the words of
// a command joined by spaces, `-f -` reading stdin), what it prints, and its exit status. Listing
// commands print from the ruleset; the others are applied as one transaction (nft-eval.ts). Pure.
//
// Options: -v, -j, -a, -s, -t, -y, -c, -f FILE (only `-` or /dev/stdin: the router has no other
// files for it). Other options of nft are refused with a line saying so.

import { formatNftError, NftError, type NftCommand } from './nft-ast.js';
import { applyNftBatch } from './nft-eval.js';
import { chainListingJson, rulesetJson, setListingJson, tableListingJson, tablesJson } from './nft-json.js';
import { chainListingText, DEFAULT_OUTPUT, rulesetText, setListingText, tablesText, tableText, type NftOutputFlags } from './nft-listing.js';
import { parseNftScript } from './nft-parse.js';
import { expireAll, findTable, NFT_RELEASE_NAMES, type NftState } from './nft-state.js';

export interface NftResult {
  stdout: string;
  stderr: string;
  status: number;
}

const NOT_EMULATED = new Set(['-V', '-i', '--interactive', '-I', '--includepath', '-D', '--define', '-n', '--numeric', '-N', '-S', '-u', '-p', '-T', '-e', '--echo', '-d', '--debug', '-o', '--optimize']);
const LONG_OPTIONS: Record<string, string> = {
  '--version': '-v', '--json': '-j', '--handle': '-a', '--stateless': '-s', '--terse': '-t', '--numeric-priority': '-y', '--check': '-c', '--file': '-f', '--help': '-h',
};

export function runNft(state: NftState, argv: readonly string[], stdin: string, nowMs: number): NftResult {
  const flags: NftOutputFlags = { ...DEFAULT_OUTPUT };
  let isJson = false;
  let isCheck = false;
  let file: string | null = null;
  let at = 0;
  // nft_options_check(): an option after the first command word is an error (its marks go to stdout).
  const firstWord = argv.findIndex((arg, i) => !arg.startsWith('-') && !(i > 0 && ['-f', '--file'].includes(argv[i - 1] as string)));
  const lateOption = firstWord < 0 ? -1 : argv.findIndex((arg, i) => i > firstWord && arg.startsWith('-') && !argv.slice(firstWord, i).some((a) => a.startsWith('{')));
  if (lateOption >= 0) {
    const words = ['nft', ...argv];
    const pos = words.slice(0, lateOption + 1).reduce((sum, word) => sum + word.length + 1, 0);
    return { stdout: `\n   ^${'~~'.padStart(pos - 2)}\n`, stderr: `Error: syntax error, options must be specified before commands\n${words.map((w) => `${w} `).join('')}`, status: 1 };
  }
  while (at < argv.length && (argv[at] as string).startsWith('-')) {
    const raw = argv[at++] as string;
    const letters = raw.startsWith('--') ? [LONG_OPTIONS[raw] ?? raw] : raw.slice(1).split('').map((c) => `-${c}`);
    for (const option of letters) {
      switch (option) {
        case '-v':
          return { stdout: `nftables v${state.options.version} (${NFT_RELEASE_NAMES[state.options.version]})\n`, stderr: '', status: 0 };
        case '-h':
          return { stdout: `Usage: nft [ options ] [ cmds... ]\n`, stderr: '', status: 0 };
        case '-j':
          if (!state.options.hasJson) return { stdout: '', stderr: 'JSON support not compiled-in\n', status: 1 };
          isJson = true;
          break;
        case '-a':
          flags.handles = true;
          break;
        case '-s':
          flags.stateless = true;
          break;
        case '-t':
          flags.terse = true;
          break;
        case '-y':
          flags.numericPriority = true;
          break;
        case '-c':
          isCheck = true;
          break;
        case '-f':
          file = argv[at++] ?? null;
          if (file === null) return { stdout: '', stderr: "nft: option requires an argument -- 'f'\n", status: 1 };
          break;
        default:
          if (NOT_EMULATED.has(option) || NOT_EMULATED.has(raw)) return { stdout: '', stderr: `nft: option ${raw} is not emulated here\n`, status: 1 };
          return { stdout: '', stderr: `nft: invalid option -- '${option.slice(1)}'\n`, status: 1 };
      }
    }
  }
  let input: string;
  let source: 'stdin' | 'cli';
  if (at < argv.length) {
    // nft_run_cmd_from_buffer() reads the words joined by blanks, with a newline after them.
    input = `${argv.slice(at).join(' ')}\n`;
    source = 'cli';
  } else if (file !== null) {
    if (file !== '-' && file !== '/dev/stdin') {
      return { stdout: '', stderr: `internal:0:0-0: Error: Could not open file "${file}": No such file or directory\n\n\n`, status: 1 };
    }
    input = stdin;
    source = 'stdin';
  } else return { stdout: '', stderr: 'nft: no command specified\n', status: 1 };
  return runScript(state, input, source, nowMs, flags, isJson, isCheck);
}

function runScript(state: NftState, input: string, source: 'stdin' | 'cli', nowMs: number, flags: NftOutputFlags, isJson: boolean, isCheck: boolean): NftResult {
  let commands: NftCommand[];
  try {
    commands = parseNftScript(input);
  } catch (error) {
    if (!(error instanceof NftError)) throw error;
    return { stdout: '', stderr: formatNftError(error, input, source), status: 1 };
  }
  expireAll(state, nowMs);
  let stdout = '';
  let batch: NftCommand[] = [];
  const flush = (): NftError | null => {
    const error = batch.length > 0 ? applyNftBatch(state, batch, nowMs, isCheck) : null;
    batch = [];
    return error;
  };
  for (const command of commands) {
    if (command.kind !== 'list') {
      batch.push(command);
      continue;
    }
    // A listing sees what the script did before it: nft sends the batch first.
    const error = flush() ?? (isCheck ? null : listError(state, command));
    if (error) return { stdout, stderr: formatNftError(error, input, source), status: 1 };
    if (!isCheck) stdout += listing(state, command, nowMs, flags, isJson);
  }
  const error = flush();
  if (error) return { stdout, stderr: formatNftError(error, input, source), status: 1 };
  return { stdout, stderr: '', status: 0 };
}

function listError(state: NftState, command: Extract<NftCommand, { kind: 'list' }>): NftError | null {
  if (command.what === 'ruleset' || command.what === 'tables') return null;
  const table = findTable(state, command.spec.family, command.spec.table);
  if (!table) return new NftError('No such file or directory', [command.spec.tableLoc]);
  if (command.what === 'chain' && !table.chains.some((c) => c.name === command.name)) return new NftError('No such file or directory', [command.nameLoc]);
  if (command.what === 'set' && !table.sets.some((s) => s.name === command.name)) return new NftError('No such file or directory', [command.nameLoc]);
  return null;
}

function listing(state: NftState, command: Extract<NftCommand, { kind: 'list' }>, nowMs: number, flags: NftOutputFlags, isJson: boolean): string {
  if (command.what === 'ruleset') return isJson ? rulesetJson(state, command.family, nowMs, flags) : rulesetText(state, command.family, nowMs, flags);
  if (command.what === 'tables') return isJson ? tablesJson(state, command.family) : tablesText(state, command.family);
  const table = findTable(state, command.spec.family, command.spec.table);
  if (!table) return '';
  if (command.what === 'table') return isJson ? tableListingJson(table, state, nowMs, flags) : tableText(table, state, nowMs, flags);
  if (command.what === 'set') {
    const set = table.sets.find((s) => s.name === command.name);
    if (!set) return '';
    return isJson ? setListingJson(table, set, state, nowMs, flags) : setListingText(table, set, state, nowMs, flags);
  }
  const chain = table.chains.find((c) => c.name === command.name);
  if (!chain) return '';
  return isJson ? chainListingJson(table, chain, state, flags) : chainListingText(table, chain, flags);
}
