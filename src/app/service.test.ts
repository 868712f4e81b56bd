import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { ProfileStore, obfuscatePassword } from '../config/profiles.js';
import { ServeAccessStore } from '../config/serve-access.js';
import { UsageError } from '../errors.js';
import type { CommandContext } from './context.js';
import type { GlobalFlags } from '../config/resolve.js';
import { realSystemctl, serviceActions, type ServiceDeps, type SystemctlResult } from './service.js';

const NODE = '/usr/bin/node';
const CLI = '/opt/lantop apps/lib/node_modules/lantop/dist/cli.js';

function bed() {
  const dir = mkdtempSync(join(tmpdir(), 'lantop-service-'));
  const env: NodeJS.ProcessEnv = { LANTOP_CONFIG_DIR: join(dir, 'config'), LANTOP_DB: join(dir, 'my data', 'history.sqlite'), LANTOP_SYSTEMD_DIR: join(dir, 'units'), HOME: dir };
  const calls: string[][] = [];
  const answers = new Map<string, SystemctlResult>();
  const deps: ServiceDeps = {
    systemctl: async (args) => {
      calls.push([...args]);
      return answers.get(args.join(' ')) ?? { code: 0, stdout: '', stderr: '' };
    },
    program: [NODE, CLI],
    user: { name: 'ann', uid: 1000 },
  };
  const actions = serviceActions(() => deps);
  const profiles = new ProfileStore(env);
  const run = async (action: 'install' | 'uninstall' | 'status', flags: GlobalFlags, options: Record<string, unknown> = {}, extraEnv: NodeJS.ProcessEnv = {}) => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (d: Buffer) => (out += d.toString()));
    stderr.on('data', (d: Buffer) => (err += d.toString()));
    const ctx = { flags, env: { ...env, ...extraEnv }, stdout, stderr, stdin: new PassThrough() } as unknown as CommandContext;
    const code = await actions[action](ctx, { listen: '127.0.0.1:9464', ...options }, []);
    return { code, out, err };
  };
  const unitPath = join(dir, 'units', 'lantop.service');
  return { dir, env, calls, answers, run, profiles, unitPath, close: () => rmSync(dir, { recursive: true, force: true }) };
}

test('install: a system unit for two profiles (saved passwords), run as the sudo user; daemon-reload, enable --now', async () => {
  const b = bed();
  try {
    b.profiles.update('home', { host: '192.0.2.1', savedPassword: obfuscatePassword('secret-one') });
    b.profiles.update('office', { host: '192.0.2.2', savedPassword: obfuscatePassword('secret-two') });
    const r = await b.run('install', { profile: 'home,office' }, {}, { SUDO_USER: 'ben' });
    assert.equal(r.code, 0);
    assert.deepEqual(b.calls, [['daemon-reload'], ['enable', '--now', 'lantop.service']]);
    const unit = readFileSync(b.unitPath, 'utf8');
    assert.equal(statSync(b.unitPath).mode & 0o777, 0o644);
    assert.match(unit, /^ExecStart=\/usr\/bin\/node "\/opt\/lantop apps\/lib\/node_modules\/lantop\/dist\/cli\.js" serve --routers home,office --listen 127\.0\.0\.1:9464$/m);
    assert.match(unit, /^User=ben$/m);
    assert.match(unit, /^Restart=on-failure$/m);
    assert.match(unit, new RegExp(`^Environment="LANTOP_DB=${b.dir}/my data/history\\.sqlite"$`, 'm'));
    assert.match(unit, new RegExp(`^ReadWritePaths=${b.dir}/config "${b.dir}/my data"$`, 'm'));
    assert.doesNotMatch(unit, /secret|c2VjcmV0/, 'no password, not even obfuscated');
    assert.ok(existsSync(join(b.dir, 'my data')), 'the data directory exists for ReadWritePaths=');
    assert.match(r.err, /journalctl -u lantop -f/);
  } finally {
    b.close();
  }
});

test('install --user-unit with a password file: systemctl --user, the file named in the unit; again: restart', async () => {
  const b = bed();
  try {
    b.profiles.update('home', { host: '192.0.2.1' });
    const pw = join(b.dir, 'router password');
    writeFileSync(pw, 'secret\n', { mode: 0o600 });
    const r = await b.run('install', { profile: 'home', passwordFile: pw }, { userUnit: true });
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(b.calls, [['--user', 'daemon-reload'], ['--user', 'enable', '--now', 'lantop.service']]);
    const unit = readFileSync(b.unitPath, 'utf8');
    assert.match(unit, new RegExp(`^ExecStart=/usr/bin/node "[^"]+" --password-file "${b.dir}/router password" --profile home serve --listen 127\\.0\\.0\\.1:9464$`, 'm'));
    assert.doesNotMatch(unit, /^User=/m);
    assert.doesNotMatch(unit, /secret/);
    b.calls.length = 0;
    const again = await b.run('install', { profile: 'home', passwordFile: pw }, { userUnit: true });
    assert.equal(again.code, 0);
    assert.deepEqual(b.calls.at(-1), ['--user', 'restart', 'lantop.service']);
    assert.match(again.err, /replaces the unit/);
  } finally {
    b.close();
  }
});

test('install refuses: no saved way to the password, a readable password file, no such profile, --host, LAN without a token', async () => {
  const b = bed();
  try {
    b.profiles.update('home', { host: '192.0.2.1' });
    await assert.rejects(b.run('install', { profile: 'home' }), (e: unknown) => e instanceof UsageError && /no saved password/.test(e.message) && /save-password|password-file/.test(e.nextStep ?? ''));
    const pw = join(b.dir, 'pw');
    writeFileSync(pw, 'secret\n');
    chmodSync(pw, 0o644);
    await assert.rejects(b.run('install', { profile: 'home', passwordFile: pw }), (e: unknown) => e instanceof UsageError && /mode 644/.test(e.message) && /chmod 600/.test(e.nextStep ?? ''));
    await assert.rejects(b.run('install', { profile: 'home', passwordFile: join(b.dir, 'missing') }), /Cannot read the password file/);
    await assert.rejects(b.run('install', { profile: 'nobody' }), /No saved profile 'nobody'/);
    await assert.rejects(b.run('install', { profile: 'home', host: '192.0.2.9' }), /saved profiles only/);
    b.profiles.update('home', { savedPassword: obfuscatePassword('x') });
    await assert.rejects(b.run('install', { profile: 'home' }, { listen: '0.0.0.0:9464' }), /beyond loopback.*token/);
    await assert.rejects(b.run('install', { profile: 'home' }, { listen: 'nonsense' }), UsageError);
    assert.deepEqual(b.calls, [], 'systemctl never ran');
    assert.equal(existsSync(b.unitPath), false);
    new ServeAccessStore(b.env).ensure({ rotate: false });
    assert.equal((await b.run('install', { profile: 'home' }, { listen: '0.0.0.0:9464' })).code, 0);
  } finally {
    b.close();
  }
});

test('install --dry-run prints the unit and the plan, writes and runs nothing', async () => {
  const b = bed();
  try {
    b.profiles.update('default', { host: '192.0.2.1', savedPassword: obfuscatePassword('x') });
    const r = await b.run('install', {}, { dryRun: true });
    assert.equal(r.code, 0);
    assert.match(r.out, /^\[Service\]$/m);
    assert.match(r.out, /--profile default serve/);
    assert.match(r.err, /would write .*lantop\.service/);
    assert.match(r.err, /^ {2}systemctl daemon-reload$/m);
    assert.match(r.err, /^ {2}systemctl enable --now lantop\.service$/m);
    assert.deepEqual(b.calls, []);
    assert.equal(existsSync(b.unitPath), false);
    assert.equal(existsSync(join(b.dir, 'my data')), false);
  } finally {
    b.close();
  }
});

test('install from the TypeScript sources is refused (dry-run shows it with a note)', async () => {
  const b = bed();
  try {
    b.profiles.update('default', { host: '192.0.2.1', savedPassword: obfuscatePassword('x') });
    const actions = serviceActions(() => ({ systemctl: async () => ({ code: 0, stdout: '', stderr: '' }), program: [NODE, '/work/lantop/src/cli.ts'], user: { name: 'ann', uid: 1000 } }));
    const ctx = { flags: {}, env: b.env, stdout: new PassThrough(), stderr: new PassThrough(), stdin: new PassThrough() } as unknown as CommandContext;
    await assert.rejects(actions.install(ctx, { listen: '127.0.0.1:9464' }, []), /TypeScript sources/);
  } finally {
    b.close();
  }
});

test('uninstall: stop, disable (failures tolerated), remove the file, daemon-reload', async () => {
  const b = bed();
  try {
    b.profiles.update('default', { host: '192.0.2.1', savedPassword: obfuscatePassword('x') });
    await b.run('install', {}, { userUnit: true });
    b.calls.length = 0;
    b.answers.set('--user stop lantop.service', { code: 5, stdout: '', stderr: 'Failed to stop lantop.service: Unit lantop.service not loaded.\u001b[31m' });
    const r = await b.run('uninstall', {}, { userUnit: true });
    assert.equal(r.code, 0);
    assert.deepEqual(b.calls, [['--user', 'stop', 'lantop.service'], ['--user', 'disable', 'lantop.service'], ['--user', 'daemon-reload']]);
    assert.equal(existsSync(b.unitPath), false);
    assert.match(r.err, /note: systemctl --user stop lantop\.service: Failed to stop/);
    assert.doesNotMatch(r.err, /\u001b/);
    b.calls.length = 0;
    const dry = await b.run('uninstall', {}, { dryRun: true });
    assert.equal(dry.code, 0);
    assert.deepEqual(b.calls, []);
  } finally {
    b.close();
  }
});

test('status: the unit file and what is-active / is-enabled answer, sanitised', async () => {
  const b = bed();
  try {
    b.answers.set('is-active lantop.service', { code: 3, stdout: 'inactive\u001b[2J\n', stderr: '' });
    b.answers.set('is-enabled lantop.service', { code: 1, stdout: '', stderr: 'Failed to get unit file state for lantop.service: No such file or directory' });
    const r = await b.run('status', {});
    assert.equal(r.code, 0);
    assert.deepEqual(b.calls, [['is-active', 'lantop.service'], ['is-enabled', 'lantop.service']]);
    assert.equal(r.out, `unit file: ${b.unitPath} (absent)\nactive: inactive\nenabled: Failed to get unit file state for lantop.service: No such file or directory\n`);
  } finally {
    b.close();
  }
});

test('without systemctl on PATH: an actionable usage error', async () => {
  const path = process.env.PATH;
  process.env.PATH = mkdtempSync(join(tmpdir(), 'lantop-nopath-'));
  try {
    await assert.rejects(realSystemctl(['is-active', 'lantop.service']), (e: unknown) => e instanceof UsageError && /systemctl was not found/.test(e.message) && /lantop serve/.test(e.nextStep ?? ''));
  } finally {
    rmSync(process.env.PATH, { recursive: true, force: true });
    process.env.PATH = path;
  }
});

test('install with MQTT: the flags go into the unit, the password only as a 0600 file; LANTOP_MQTT_PASSWORD alone is refused', async () => {
  const b = bed();
  try {
    b.profiles.update('home', { host: '192.0.2.1', savedPassword: obfuscatePassword('secret-one') });
    await assert.rejects(b.run('install', { profile: 'home' }, { mqtt: 'mqtt://192.0.2.50', mqttUser: 'ha' }, { LANTOP_MQTT_PASSWORD: 'broker-secret' }), (e: unknown) => e instanceof UsageError && /LANTOP_MQTT_PASSWORD is not carried/.test(e.message) && /--mqtt-password-file/.test(e.nextStep ?? ''));
    await assert.rejects(b.run('install', { profile: 'home' }, { mqtt: 'ws://192.0.2.50' }), UsageError);
    const pw = join(b.dir, 'mqtt pw');
    writeFileSync(pw, 'broker-secret\n');
    chmodSync(pw, 0o644);
    await assert.rejects(b.run('install', { profile: 'home' }, { mqtt: 'mqtt://192.0.2.50', mqttUser: 'ha', mqttPasswordFile: pw }), /mode 644/);
    assert.deepEqual(b.calls, [], 'systemctl never ran');
    chmodSync(pw, 0o600);
    const r = await b.run('install', { profile: 'home' }, { mqtt: 'mqtt://192.0.2.50', mqttUser: 'ha', mqttPasswordFile: pw, mqttBaseTopic: 'flat' });
    assert.equal(r.code, 0, r.err);
    const unit = readFileSync(b.unitPath, 'utf8');
    assert.match(unit, /^ExecStart=.* serve --listen 127\.0\.0\.1:9464 --mqtt mqtt:\/\/192\.0\.2\.50 --mqtt-user ha --mqtt-password-file ".*\/mqtt pw" --mqtt-base-topic flat$/m);
    assert.doesNotMatch(unit, /broker-secret/);
  } finally {
    b.close();
  }
});
