// openSession (telnet and SSH, reconnecting), credentials, and the emulated router of src/emulator.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthError, UsageError } from '../src/errors.js';
import { openSession } from '../src/transport/connect.js';
import {
  TELNET_CLEARTEXT_WARNING,
  passwordFromEnv,
  passwordFromFile,
  promptPassword,
  resolvePassword,
} from '../src/transport/credentials.js';
import type { ConnectionState } from '../src/domain/snapshot.js';
import { fakeRouter, startRawTelnetServer, type RawTelnetServer } from './fakes/raw-telnet-server.js';
import { dropbearUnavailableReason, startDropbear } from './fakes/dropbear.js';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

const base = { host: '127.0.0.1', user: 'admin', password: 'secret', connectTimeoutMs: 3000, commandTimeoutMs: 2000 };

describe('openSession', () => {
  // First in the file: the notice is said once per process, and this one must not use it up.
  test('telnet: warnsAboutCleartextTelnet false leaves the clear-text notice to the caller', async () => {
    const server = await startRawTelnetServer(fakeRouter());
    cleanups.push(() => server.close());
    const warnings: string[] = [];
    const session = await openSession({ ...base, port: server.port, protocol: 'telnet', warnsAboutCleartextTelnet: false, onWarning: (text) => warnings.push(text) });
    cleanups.push(() => session.close());
    assert.deepEqual(warnings, []);
  });

  test('telnet: logs in, warns once about clear text, reports states, enters the shell again after a drop', async () => {
    const server: RawTelnetServer = await startRawTelnetServer(fakeRouter({ cliPrompt: 'ATP>', shellCommands: { 'cat /proc/uptime': '1234.56 789.00\n' } }));
    cleanups.push(() => server.close());
    const warnings: string[] = [];
    const states: ConnectionState['kind'][] = [];
    const session = await openSession({
      ...base,
      port: server.port,
      protocol: 'telnet',
      enterShell: true,
      onWarning: (text) => warnings.push(text),
      onStateChange: (state) => states.push(state.kind),
      initialReconnectDelayMs: 20,
    });
    cleanups.push(() => session.close());
    assert.equal(session.mode, 'shell');
    assert.equal(await session.exec('cat /proc/uptime'), '1234.56 789.00');
    server.connections[0]!.destroy();
    const isBack = () => states.length >= 5 && states.at(-1) === 'connected';
    for (let index = 0; index < 200 && !isBack(); index += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(await session.exec('cat /proc/uptime'), '1234.56 789.00');
    assert.equal(server.connectionCount, 2);
    assert.deepEqual(states, ['connecting', 'connected', 'reconnecting', 'connecting', 'connected']);
    const second = await openSession({ ...base, port: server.port, protocol: 'telnet', onWarning: (text) => warnings.push(text) });
    cleanups.push(() => second.close());
    assert.deepEqual(warnings, [TELNET_CLEARTEXT_WARNING], 'the clear-text warning is said once');
  });

  test('telnet: enterShell on a CLI whose shell entry is not sh/shell fails with what was tried', async () => {
    // The shell hides behind another entry: `sh` and `shell` leave the CLI as it was.
    const server = await startRawTelnetServer(fakeRouter({ cliPrompt: 'ATP>', shellEntry: 'system shell' }));
    cleanups.push(() => server.close());
    await assert.rejects(openSession({ ...base, port: server.port, protocol: 'telnet', enterShell: true, initialReconnectDelayMs: 20 }), /Could not reach a shell from the router's command line \(tried sh, shell\)/);
  });

  test('telnet: wrong password rejects from openSession, nothing keeps running', async () => {
    const server = await startRawTelnetServer(fakeRouter());
    cleanups.push(() => server.close());
    const states: string[] = [];
    await assert.rejects(openSession({ ...base, password: 'nope', port: server.port, protocol: 'telnet', onStateChange: (state) => states.push(state.kind) }), AuthError);
    assert.deepEqual(states, ['connecting', 'failed']);
  });

  test('ssh: logs in to a real dropbear, hands out the new host key on first use', { skip: dropbearUnavailableReason() ?? false }, async () => {
    const dropbear = await startDropbear();
    cleanups.push(() => dropbear.stop());
    const keys: string[] = [];
    const session = await openSession({
      ...base,
      user: dropbear.user,
      password: dropbear.password,
      port: dropbear.port,
      protocol: 'ssh',
      onNewHostKey: (fingerprint) => keys.push(fingerprint),
    });
    cleanups.push(() => session.close());
    assert.equal(await session.exec('echo hello'), 'hello');
    assert.deepEqual(keys, [dropbear.fingerprint]);
  });
});

describe('credentials', () => {
  test('environment variable (default LANTOP_PASSWORD, or the name given)', () => {
    assert.equal(passwordFromEnv({ LANTOP_PASSWORD: 'pw1' })?.password, 'pw1');
    assert.equal(passwordFromEnv({ ROUTER_PW: 'pw2' }, 'ROUTER_PW')?.password, 'pw2');
    assert.equal(passwordFromEnv({}), null);
    assert.equal(passwordFromEnv({ LANTOP_PASSWORD: '' }), null);
  });

  test('file: first line only, must exist, warns when others can read it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lantop-cred-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const path = join(dir, 'pw');
    await writeFile(path, 'first line secret\nsecond line\n', { mode: 0o600 });
    await chmod(path, 0o600);
    const privateFile = await passwordFromFile(path);
    assert.equal(privateFile.password, 'first line secret');
    assert.deepEqual(privateFile.warnings, []);
    await chmod(path, 0o644);
    const readable = await passwordFromFile(path);
    assert.equal(readable.warnings.length, 1);
    assert.match(readable.warnings[0]!, /chmod 600/);
    await assert.rejects(passwordFromFile(join(dir, 'missing')), (error: unknown) => error instanceof UsageError && /ENOENT/.test(error.message));
    assert.equal((await resolvePassword({ env: { LANTOP_PASSWORD: 'from-env' }, passwordFile: path })).password, 'first line secret');
    assert.equal((await resolvePassword({ env: { LANTOP_PASSWORD: 'from-env' } })).password, 'from-env');
    await assert.rejects(resolvePassword({ env: {} }), UsageError);
  });

  test('hidden prompt: raw mode on, nothing echoed, backspace edits, raw mode restored', async () => {
    const input = Object.assign(new PassThrough(), { isTTY: true, isRaw: false, rawCalls: [] as boolean[], setRawMode(mode: boolean) { this.rawCalls.push(mode); this.isRaw = mode; return this; } });
    const output = new PassThrough();
    let shown = '';
    output.on('data', (chunk: Buffer) => (shown += chunk.toString()));
    const answer = promptPassword({ input, output });
    input.write('s3cret');
    input.write('x\u007f');
    input.write('!\r');
    const result = await answer;
    assert.equal(result.password, 's3cret!');
    assert.equal(shown, 'Router password: \n');
    assert.deepEqual(input.rawCalls, [true, false]);
  });

  test('no terminal to ask on → UsageError naming the alternatives', async () => {
    const input = new PassThrough();
    await assert.rejects(promptPassword({ input, output: new PassThrough() }), (error: unknown) => error instanceof UsageError && /LANTOP_PASSWORD/.test(error.nextStep ?? ''));
  });
});
