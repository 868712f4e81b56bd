// test-file-timeout: 240
// The package as a user gets it (issue 22, docs/install.md): `npm pack` of the built dist/, only what
// it needs (no tests, fixtures, benchmarks or source maps), installed globally into a temporary
// prefix (`npm install -g --prefix`, better-sqlite3 compiled against Node's headers as in .ci/run),
// then `lantop --version` and `lantop demo` drawing its menu in a real terminal (tmux); and
// `npx --package lantop-*.tgz lantop --version`. test/package-entry.test.ts checks the library API.
//
// It needs the npm registry for the dependencies (the local cache is preferred) and a C++ compiler:
// without them it is skipped with one loud line, and fails under LANTOP_REQUIRE_LAB=1 (CI).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasTmux, tmuxSession } from './helpers/tmux.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };

/** npm with Node's own headers for native builds (no prebuilt better-sqlite3 is reachable here). */
function npm(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): SpawnSyncReturns<string> {
  const env: NodeJS.ProcessEnv = { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false', ...options.env };
  if (existsSync('/usr/include/node')) env['npm_config_nodedir'] = '/usr';
  return spawnSync('npm', args, { cwd: options.cwd, env, encoding: 'utf8', timeout: options.timeoutMs ?? 180_000 });
}

/** The reason this machine cannot install the package (no registry, no compiler), or null. Under LANTOP_REQUIRE_LAB=1 an error. */
function cannotInstall(result: SpawnSyncReturns<string>): string | null {
  const text = `${result.stdout}\n${result.stderr}`;
  const offline = /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|ECONNRESET|ENETUNREACH|network request to .* failed/.exec(text);
  const noCompiler = /gyp ERR! .*(?:not found: make|find Python|no C\+\+ compiler|g\+\+: not found|c\+\+: not found)/.exec(text);
  const why = offline ? `the npm registry is not reachable (${offline[0]})` : noCompiler ? `better-sqlite3 cannot be compiled (${noCompiler[0]})` : null;
  if (why === null) return null;
  if (process.env['LANTOP_REQUIRE_LAB'] === '1') throw new Error(`LANTOP_REQUIRE_LAB=1 but the package cannot be installed: ${why}`);
  console.log(`# SKIPPED package install: ${why}`);
  return why;
}

/** npx's own install of the tarball (in the npm cache's _npx), removed after the test. */
function removeNpxInstalls(tgz: string): void {
  const cache = npm(['config', 'get', 'cache'], { cwd: ROOT, timeoutMs: 20_000 }).stdout.trim();
  const npx = join(cache, '_npx');
  if (cache === '' || !existsSync(npx)) return;
  for (const entry of readdirSync(npx)) {
    try {
      if (readFileSync(join(npx, entry, 'package.json'), 'utf8').includes(tgz)) rmSync(join(npx, entry), { recursive: true, force: true });
    } catch {
      /* not one of ours */
    }
  }
}

test('npm pack → npm install -g → lantop --version and lantop demo; npx lantop', { timeout: 235_000 }, async (t) => {
  assert.ok(existsSync(join(ROOT, 'dist', 'cli.js')), 'dist/ is built (npm test builds it first)');
  const dir = mkdtempSync(join(tmpdir(), 'lantop-package-'));
  let tgz = '';
  try {
    // --ignore-scripts: pack the dist/ `npm test` just built (prepare would rebuild it).
    const pack = npm(['pack', '--ignore-scripts', '--pack-destination', dir, '--json'], { cwd: ROOT, timeoutMs: 60_000 });
    assert.equal(pack.status, 0, pack.stderr);
    const [packed] = JSON.parse(pack.stdout) as { filename: string }[];
    tgz = join(dir, packed!.filename);
    assert.match(packed!.filename, new RegExp(`^lantop-${version.replace(/\./g, '\\.')}\\.tgz$`));

    const listing = spawnSync('tar', ['tzf', tgz], { encoding: 'utf8' });
    assert.equal(listing.status, 0, listing.stderr);
    const files = listing.stdout.split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
    for (const needed of ['package.json', 'README.md', 'dist/cli.js', 'dist/index.js', 'dist/index.d.ts', 'dist/emulator/server.js']) assert.ok(files.includes(needed), `${needed} in the package`);
    const unwanted = files.filter((f) => /(^|\/)(test|tests|fixtures|bench|testdata|scripts|src)\/|\.test\.|\.map$|^\.ci\/|^tsconfig|nft-scenarios/.test(f));
    assert.deepEqual(unwanted, [], 'no tests, fixtures, benchmarks, sources or source maps');
    assert.ok(files.every((f) => f === 'package.json' || f === 'README.md' || f.startsWith('dist/') || /^LICEN[CS]E/.test(f)), files.filter((f) => !f.startsWith('dist/')).join(', '));

    // A global install into its own prefix, as `npm install -g lantop-*.tgz` does into /usr/local.
    const prefix = join(dir, 'prefix');
    const install = npm(['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tgz], { cwd: dir, timeoutMs: 200_000 });
    if (install.status !== 0 && cannotInstall(install) !== null) {
      t.skip('cannot install here (see the line above)');
      return;
    }
    assert.equal(install.status, 0, `npm install -g failed:\n${install.stdout}\n${install.stderr}`);
    const lantop = join(prefix, 'bin', 'lantop');
    const cleanEnv = { ...process.env, NO_COLOR: '1', LANTOP_CONFIG_DIR: join(dir, 'config'), LANTOP_DB: join(dir, 'history.sqlite'), PATH: `${join(prefix, 'bin')}:${process.env.PATH}` };
    const versionRun = spawnSync(lantop, ['--version'], { env: cleanEnv, encoding: 'utf8', cwd: dir });
    assert.equal(versionRun.status, 0, versionRun.stderr);
    assert.equal(versionRun.stdout.trim(), version);
    // The native module was built for this Node (demo records history with it).
    assert.ok(existsSync(join(prefix, 'lib', 'node_modules', 'lantop', 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node')), 'better-sqlite3 compiled');

    // `lantop demo` from the installed package, in a real terminal: its menu comes up, q quits, exit 0.
    if (hasTmux) {
      const s = tmuxSession('pkg-demo', `NO_COLOR=1 LANTOP_CONFIG_DIR='${join(dir, 'config')}' LANTOP_DB='${join(dir, 'history.sqlite')}' '${lantop}' demo`, { columns: 110, rows: 34 });
      try {
        await s.waitFor((x) => x.includes('❯ 1 Connected devices'), 'the demo menu', 30_000);
        s.keys('q');
        assert.equal(await s.exitCode(20_000), '0');
      } finally {
        s.close();
      }
    } else {
      t.diagnostic('tmux not installed: demo checked through --help only');
      const help = spawnSync(lantop, ['demo', '--help'], { env: cleanEnv, encoding: 'utf8' });
      assert.equal(help.status, 0, help.stderr);
    }

    // npx from the tarball (its dependencies' install scripts skipped: --version needs no native module).
    const npx = spawnSync('npx', ['--yes', '--package', tgz, 'lantop', '--version'], {
      cwd: dir,
      env: { ...cleanEnv, npm_config_ignore_scripts: 'true', npm_config_prefer_offline: 'true', npm_config_update_notifier: 'false' },
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(npx.status, 0, `npx failed:\n${npx.stdout}\n${npx.stderr}`);
    assert.equal(npx.stdout.trim(), version);
  } finally {
    if (tgz) removeNpxInstalls(tgz);
    rmSync(dir, { recursive: true, force: true });
  }
});
