// `lantop completion bash|zsh|fish` (issue 22): scripts generated from the commander program (every
// command of `lantop --help` is in them), valid shell syntax, real completion in bash (and fish when
// installed) with saved profiles and known devices from the callback `completion --list`, and host
// names from the router that cannot inject shell code into the completion.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { CLI } from './helpers/run-cli.js';
import { HistoryStore } from '../src/store/history-store.js';
import { Harness, IPS, MACS } from './store/history-harness.js';
import { completionWord, renderCompletionScript } from '../src/output/completion-scripts.js';
import { describeProgram, deviceWords } from '../src/app/completion.js';

const has = (program: string) => spawnSync(program, ['--version']).status === 0;
const hasZsh = has('zsh');
const hasFish = has('fish');

let dir = '';
let bin = '';
let env: NodeJS.ProcessEnv = {};

function lantop(args: string[], extra: NodeJS.ProcessEnv = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { env: { ...env, ...extra }, encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Sources the bash script and runs its completion function on `line` (as bash does: COMP_LINE/COMP_POINT, or only COMP_WORDS/COMP_CWORD). */
function bashComplete(script: string, line: string, options: { wordsOnly?: boolean; path?: string } = {}): string[] {
  const words = line.split(' ');
  const setup = options.wordsOnly
    ? `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; unset COMP_LINE`
    : `COMP_LINE='${line}'; COMP_POINT=\${#COMP_LINE}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}`;
  const r = spawnSync('bash', ['-c', `source "$1"; ${setup}; _lantop; printf '%s\\n' "\${COMPREPLY[@]}"`, 'bash', script], {
    env: { ...env, PATH: `${options.path ?? bin}:${process.env.PATH}` },
    encoding: 'utf8',
    cwd: dir,
    timeout: 20_000,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '', 'the completion prints nothing on stderr');
  return r.stdout.split('\n').filter((x) => x !== '');
}

function fishComplete(script: string, line: string): string[] {
  const r = spawnSync('fish', ['-c', `source $argv[1]; complete -C $argv[2]`, script, line], { env: { ...env, PATH: `${bin}:${process.env.PATH}` }, encoding: 'utf8', cwd: dir, timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter((x) => x !== '').map((x) => x.split('\t')[0] ?? '');
}

const scripts: Record<string, string> = {};
let topCommands: string[] = [];

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'lantop-completion-'));
  bin = join(dir, 'bin');
  mkdirSync(bin);
  // `lantop` on PATH, as after `npm install -g`: the scripts call it back.
  writeFileSync(join(bin, 'lantop'), `#!/bin/sh\nexec '${process.execPath}' '${CLI}' "$@"\n`);
  chmodSync(join(bin, 'lantop'), 0o755);
  env = { ...process.env, NO_COLOR: '1', LANTOP_CONFIG_DIR: join(dir, 'config'), LANTOP_DB: join(dir, 'none', 'history.sqlite'), LANTOP_PROFILE: '', HOME: dir };
  delete env.LANTOP_HOST;
  delete env.LANTOP_PROFILE;
  for (const shell of ['bash', 'zsh', 'fish']) {
    const r = lantop(['completion', shell]);
    assert.equal(r.code, 0, r.stderr);
    scripts[shell] = join(dir, `lantop.${shell}`);
    writeFileSync(scripts[shell], r.stdout);
  }
  // The commands as `lantop --help` lists them: the scripts must know each one.
  const help = lantop(['--help']).stdout;
  topCommands = [...help.slice(help.indexOf('Commands:')).matchAll(/^ {2}([a-z][a-z-]*)/gm)].map((m) => m[1]!).filter((c) => c !== 'help');
  assert.ok(topCommands.length >= 15 && topCommands.includes('completion') && topCommands.includes('serve'), topCommands.join(' '));
  assert.equal(lantop(['--profile', 'home-router', 'config', 'set', 'host', '198.51.100.1']).code, 0);
  assert.equal(lantop(['--profile', 'cabin_2', 'config', 'set', 'host', '198.51.100.2']).code, 0);
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the generated scripts', () => {
  test('every top-level command, subcommands and flags are in each script', () => {
    for (const shell of ['bash', 'zsh', 'fish']) {
      const text = lantop(['completion', shell]).stdout;
      for (const command of topCommands) assert.match(text, new RegExp(`\\b${command}\\b`), `${shell}: ${command}`);
      for (const word of ['save-password', 'webhook', 'ssh', 'dynamic-sets']) assert.ok(text.includes(word), `${shell}: ${word}`);
      for (const flag of shell === 'fish' ? ['-l accept-host-key', '-l dry-run', '-l by-family', '-l enable-accounting'] : ['--accept-host-key', '--dry-run', '--by-family', '--enable-accounting']) assert.ok(text.includes(flag), `${shell}: ${flag}`);
    }
  });

  test('bash -n, zsh -n and fish --no-execute accept the scripts', (t) => {
    const bash = spawnSync('bash', ['-n', scripts['bash']!], { encoding: 'utf8' });
    assert.equal(bash.status, 0, bash.stderr);
    if (hasZsh) {
      const zsh = spawnSync('zsh', ['-n', scripts['zsh']!], { encoding: 'utf8' });
      assert.equal(zsh.status, 0, zsh.stderr);
    } else t.diagnostic('zsh not installed: zsh -n skipped (apt-get install zsh)');
    if (hasFish) {
      const fish = spawnSync('fish', ['--no-execute', scripts['fish']!], { encoding: 'utf8' });
      assert.equal(fish.status, 0, fish.stderr);
    } else t.diagnostic('fish not installed: fish --no-execute skipped (apt-get install fish)');
  });

  test('a program of our own: its commands, choices and value kinds come from commander, hidden ones stay out', () => {
    const program = new Command('lantop').option('--profile <name>', 'profile').option('--trace <file>', 'transcript');
    program.command('ping <device>').description("it's: here").addOption(new Option('--mode <m>').choices(['a', 'b'])).addOption(new Option('--secret').hideHelp());
    const tree = describeProgram(program);
    const ping = tree.subcommands.find((c) => c.name === 'ping')!;
    assert.deepEqual(ping.arguments, [{ name: 'device', value: { kind: 'device' }, isVariadic: false }]);
    assert.deepEqual(ping.options.find((o) => o.names[0] === '--mode')?.value, { kind: 'choice', choices: ['a', 'b'] });
    assert.equal(ping.options.some((o) => o.names.includes('--secret')), false);
    assert.deepEqual(tree.options.find((o) => o.names[0] === '--trace')?.value, { kind: 'file' });
    assert.deepEqual(tree.options.find((o) => o.names[0] === '--profile')?.value, { kind: 'profile' });
    const zsh = renderCompletionScript('zsh', tree, '1.0');
    assert.ok(zsh.includes(`'ping:it'\\''s\\: here'`), 'zsh: quote and colon escaped in the description');
    assert.ok(renderCompletionScript('fish', tree, '1.0').includes(`-d 'it\\'s: here'`), 'fish: quote escaped');
    // A name that is not a plain word would go into the script unquoted in places: refused.
    assert.throws(() => renderCompletionScript('bash', { ...tree, subcommands: [{ ...ping, name: 'x;rm' }] }, '1'), TypeError);
  });

  test('completion words: only [A-Za-z0-9._:-], no leading dash; devices fall back to MAC, then address', () => {
    for (const bad of ['$(id)', '`id`', 'a b', "ben's", 'a;b', 'x\u001b[2J', '-rf', '', 'é']) assert.equal(completionWord(bad), null, bad);
    for (const good of ['laptop', 'aa:bb:cc:00:00:0a', '198.51.100.1', 'Pixel-7', 'fe80::1']) assert.equal(completionWord(good), good);
    assert.deepEqual(
      deviceWords([
        { identity: 'a', mac: 'aa:bb:cc:00:00:0a', ip: '198.51.100.10', hostname: '$(touch x)', lastSeenMs: 0 },
        { identity: 'b', mac: null, ip: '198.51.100.11', hostname: null, lastSeenMs: 0 },
        { identity: 'c', mac: 'aa:bb:cc:00:00:0c', ip: '198.51.100.12', hostname: 'tv', lastSeenMs: 0 },
      ]),
      ['aa:bb:cc:00:00:0a', '198.51.100.11', 'tv'],
    );
  });
});

describe('real completion', () => {
  let dbPath = '';
  const HOSTILE = ['$(touch PWNED-dollar)', '`touch PWNED-tick`', 'x;touch PWNED-semi'];

  before(() => {
    // Known hosts of 198.51.100.1:23 in a real history database, named by the router: one plain, two hostile.
    dbPath = join(dir, 'history.sqlite');
    const store = HistoryStore.open({ path: dbPath, autoPrune: false });
    try {
      const h = new Harness(store, Date.UTC(2024, 2, 13, 9), '198.51.100.1:23');
      const names = ['laptop-1', HOSTILE[0]!, `${HOSTILE[1]}\u001b[2J`];
      h.run(3, 60_000, { hosts: IPS.map((ip, i) => ({ ip, mac: MACS[i] ?? null, hostname: names[i] ?? null })) });
    } finally {
      store.close();
    }
  });

  test('bash: commands, subcommands, flags, choices and saved profiles (COMP_WORDS/COMP_CWORD only)', () => {
    const script = scripts['bash']!;
    const top = bashComplete(script, 'lantop ', { wordsOnly: true });
    for (const command of topCommands) assert.ok(top.includes(command), `${command} in ${top.join(' ')}`);
    assert.deepEqual(bashComplete(script, 'lantop qu', { wordsOnly: true }), ['quota']);
    assert.deepEqual(bashComplete(script, 'lantop quota ', { wordsOnly: true }).filter((x) => x !== 'help'), ['add', 'edit', 'list', 'remove']);
    const flags = bashComplete(script, 'lantop setup --', { wordsOnly: true });
    for (const flag of ['--dry-run', '--yes', '--ports', '--layout', '--host', '--profile']) assert.ok(flags.includes(flag), flag);
    assert.equal(new Set(flags).size, flags.length, 'each flag once');
    assert.deepEqual(bashComplete(script, 'lantop --protocol ', { wordsOnly: true }), ['telnet', 'ssh', 'local']);
    assert.deepEqual(bashComplete(script, 'lantop report --period w', { wordsOnly: true }), ['week']);
    assert.deepEqual(bashComplete(script, 'lantop completion ', { wordsOnly: true }), ['bash', 'zsh', 'fish']);
    assert.ok(!bashComplete(script, 'lantop completion --', { wordsOnly: true }).includes('--list'), 'the hidden callback option is not offered');
    assert.deepEqual(bashComplete(script, 'lantop --profile ', { wordsOnly: true }).sort(), ['cabin_2', 'home-router']);
    assert.deepEqual(bashComplete(script, 'lantop --profile ho', { wordsOnly: true }), ['home-router']);
    assert.deepEqual(bashComplete(script, 'lantop serve --routers c', { wordsOnly: true }), ['cabin_2']);
    // An option's value is not taken for a command: `--profile config` still completes config's subcommands.
    assert.ok(bashComplete(script, 'lantop --profile home-router config s', { wordsOnly: true }).includes('set'));
  });

  test('bash: devices of the router the line names, from the history database; MACs across the colon split', () => {
    const script = scripts['bash']!;
    const devices = bashComplete(script, `lantop --host 198.51.100.1 --db ${dbPath} block `);
    assert.deepEqual(devices.sort(), ['198.51.100.12', 'aa:bb:cc:00:00:0b', 'laptop-1'].sort());
    assert.deepEqual(bashComplete(script, `lantop --host 198.51.100.1 --db ${dbPath} top lap`), ['laptop-1']);
    // bash splits aa:bb:… at ':'; the reply is what follows the last colon typed.
    assert.deepEqual(bashComplete(script, `lantop --host 198.51.100.1 --db ${dbPath} unblock aa:bb:cc:00:00:`), ['0b']);
    // Another router, or no database: nothing (and no database is created).
    assert.deepEqual(bashComplete(script, `lantop --host 198.51.100.9 --db ${dbPath} block `), []);
    assert.deepEqual(bashComplete(script, 'lantop --host 198.51.100.1 block '), []);
    assert.equal(existsSync(join(dir, 'none')), false, 'completion created no database');
  });

  test('hostile host names: the callback prints only safe words, and nothing the router named runs', () => {
    const listed = lantop(['--host', '198.51.100.1', '--db', dbPath, 'completion', '--list', 'devices']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(listed.stdout.split('\n').filter(Boolean).sort(), ['198.51.100.12', 'aa:bb:cc:00:00:0b', 'laptop-1'].sort());
    // Even a callback that printed hostile text (an older lantop, a broken build) cannot reach the shell.
    const evilBin = join(dir, 'evil-bin');
    mkdirSync(evilBin, { recursive: true });
    writeFileSync(join(evilBin, 'lantop'), `#!/bin/sh\nprintf '%s\\n' ${HOSTILE.map((h) => `'${h}'`).join(' ')} '$HOME' 'ok-name' 'two words'\n`);
    chmodSync(join(evilBin, 'lantop'), 0o755);
    const replies = bashComplete(scripts['bash']!, 'lantop block ', { path: evilBin });
    assert.deepEqual(replies, ['ok-name']);
    if (hasFish) assert.deepEqual(fishComplete(scripts['fish']!, 'lantop block ').filter((x) => x !== 'ok-name'), []);
    assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('PWNED')), [], 'no injected command ran');
  });

  test('fish: commands, flags, profiles and devices', { skip: !hasFish && 'fish not installed (apt-get install fish)' }, () => {
    const script = scripts['fish']!;
    const top = fishComplete(script, 'lantop ');
    for (const command of topCommands) assert.ok(top.includes(command), command);
    assert.ok(fishComplete(script, 'lantop quota add --').includes('--limit'));
    assert.deepEqual(fishComplete(script, 'lantop --profile ').sort(), ['cabin_2', 'home-router']);
    assert.deepEqual(fishComplete(script, `lantop --host 198.51.100.1 --db ${dbPath} block `).sort(), ['198.51.100.12', 'aa:bb:cc:00:00:0b', 'laptop-1'].sort());
  });
});
