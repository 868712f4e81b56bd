// Drives the built binary (dist/cli.js, built by `npm test`'s pretest) the way a user does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

export function runCli(args: string[], env: Record<string, string> = {}, input?: string) {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', LANTOP_CONFIG_DIR: '/nonexistent-lantop-config', ...env },
    input,
    timeout: 30_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('--help lists every command and the global connection options', () => {
  const { code, stdout } = runCli(['--help']);
  assert.equal(code, 0);
  for (const command of ['demo', 'hosts', 'setup', 'flush', 'teardown', 'usage', 'report', 'serve', 'config']) {
    assert.match(stdout, new RegExp(`^  ${command}\\b`, 'm'), `help lists ${command}`);
  }
  for (const option of ['--host', '--port', '--protocol', '--user', '--password-env', '--password-file', '--wan', '--profile', '--timeout', '--db', '--no-color']) {
    assert.ok(stdout.includes(option), `help lists ${option}`);
  }
});

test('--version prints the package version', () => {
  const { code, stdout } = runCli(['--version']);
  assert.equal(code, 0);
  assert.match(stdout.trim(), /^\d+\.\d+\.\d+$/);
});

test('an unknown command or flag is a usage error (exit 2)', () => {
  const unknown = runCli(['frobnicate']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command 'frobnicate'/);
  const badFlag = runCli(['hosts', '--no-such-flag']);
  assert.equal(badFlag.code, 2);
  assert.match(badFlag.stderr, /unknown option/);
  const badProtocol = runCli(['hosts', '--protocol', 'http']);
  assert.equal(badProtocol.code, 2);
});
