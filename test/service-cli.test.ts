// `lantop service` through the built CLI (dist/cli.js, `npm run build`; issue 22, docs/service.md):
// --dry-run shows the unit that runs this very node and script and writes nothing; the help
// lists the commands; without systemctl the error says what to do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, runCliAsync } from './helpers/run-cli.js';

test('service install --dry-run: the unit for the built CLI, nothing written; help and a missing systemctl', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lantop-service-cli-'));
  const env = { LANTOP_CONFIG_DIR: join(dir, 'config'), LANTOP_DB: join(dir, 'data dir', 'history.sqlite'), LANTOP_SYSTEMD_DIR: join(dir, 'units'), LANTOP_PASSWORD: 'not-carried' };
  try {
    assert.equal((await runCliAsync(['--profile', 'home', 'config', 'set', 'host', '192.0.2.1'], env)).code, 0);
    const refused = await runCliAsync(['--profile', 'home', 'service', 'install', '--dry-run'], env);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /no saved password, and the unit must not hold one/);
    assert.equal((await runCliAsync(['--profile', 'home', 'config', 'save-password'], env)).code, 0);
    const dry = await runCliAsync(['--profile', 'home', 'service', 'install', '--user-unit', '--dry-run', '--listen', '127.0.0.1:9500'], env);
    assert.equal(dry.code, 0, dry.stderr);
    const exec = /^ExecStart=(.*)$/m.exec(dry.stdout)?.[1];
    assert.equal(exec, `${process.execPath} ${CLI} --profile home serve --listen 127.0.0.1:9500`);
    assert.match(dry.stdout, new RegExp(`^Environment="LANTOP_DB=${dir}/data dir/history\\.sqlite"$`, 'm'));
    assert.doesNotMatch(dry.stdout, /not-carried/);
    assert.match(dry.stderr, /^ {2}systemctl --user enable --now lantop\.service$/m);
    assert.equal(existsSync(join(dir, 'units')), false, 'nothing written');

    const help = await runCliAsync(['--help'], env);
    assert.match(help.stdout, /^ {2}service\b.*systemd/m);
    const serviceHelp = await runCliAsync(['service', '--help'], env);
    for (const name of ['install', 'uninstall', 'status']) assert.match(serviceHelp.stdout, new RegExp(`^ {2}${name}\\b`, 'm'));
    const serveHelp = await runCliAsync(['serve', '--help'], env);
    assert.match(serveHelp.stdout, /--log-format <format>/);

    const noSystemctl = await runCliAsync(['service', 'status'], { ...env, PATH: join(dir, 'empty') });
    assert.equal(noSystemctl.code, 2);
    assert.match(noSystemctl.stderr, /systemctl was not found/);
    assert.match(noSystemctl.stderr, /→ .*lantop serve/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
