// SSH sessions against a REAL dropbear started on loopback (exec, vendor-CLI login shell, wrong
// password, host key change), and against ssh2's own server in-process for what dropbear 2022
// cannot show: a channel failure on exec, and a router that only speaks legacy algorithms.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import ssh2 from 'ssh2';
import { AuthError, RouterError } from '../src/errors.js';
import { HostKeyChangedError } from '../src/transport/errors.js';
import { SHELL_PROBE_COMMAND } from '../src/transport/interactive-shell.js';
import { connectSsh, type SshConnectOptions } from '../src/transport/ssh.js';
import { legacyAlgorithmConfig } from '../src/transport/ssh-client.js';
import { destroySsh } from './helpers/close-ssh.js';
import { VENDOR_CLI_LOGIN_SHELL, dropbearUnavailableReason, startDropbear, type RunningDropbear } from './fakes/dropbear.js';

const skipReason = dropbearUnavailableReason();
const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

function optionsFor(server: { port: number; user: string; password: string }, extra: Partial<SshConnectOptions> = {}): SshConnectOptions {
  return { host: '127.0.0.1', port: server.port, user: server.user, password: server.password, connectTimeoutMs: 4000, commandTimeoutMs: 3000, ...extra };
}

async function connect(options: SshConnectOptions) {
  const session = await connectSsh(options);
  cleanups.push(() => session.close());
  return session;
}

describe('SSH against a real dropbear', { skip: skipReason ?? false }, () => {
  let dropbear: RunningDropbear;
  before(async () => {
    dropbear = await startDropbear();
    cleanups.push(() => dropbear.stop());
  });

  for (const preferExec of [false, true]) {
    const kind = preferExec ? 'exec' : 'interactive';
    test(`${preferExec ? 'exec per command (preferExec)' : 'a POSIX login shell: one persistent shell channel'} works; the host key is returned on first use; timing logged`, async () => {
      const seen: string[] = [];
      const startedMs = performance.now();
      const session = await connect(optionsFor(dropbear, { preferExec, onNewHostKey: (fingerprint) => seen.push(fingerprint) }));
      const loginMs = performance.now() - startedMs;
      assert.equal(session.channelKind, kind);
      assert.equal(session.mode, 'shell');
      assert.equal(session.hostKeyFingerprint, dropbear.fingerprint, 'same as dropbearkey -y prints');
      assert.deepEqual(seen, [session.hostKeyFingerprint]);
      assert.equal(session.isNewHostKey, true);
      assert.equal(await session.exec('printf "a\\nb\\n"; echo Küche'), 'a\nb\nKüche');
      assert.equal(await session.exec('echo to-stderr >&2'), 'to-stderr');
      const long = 'x'.repeat(3000);
      assert.equal(await session.exec(`echo ${long}`), long, 'a line longer than the pty is wide comes back whole');
      const rounds = 20;
      const loopStartMs = performance.now();
      for (let index = 0; index < rounds; index += 1) assert.equal(await session.exec(`echo ${index}`), String(index));
      const perCommandMs = (performance.now() - loopStartMs) / rounds;
      console.log(`# ssh ${kind} (dropbear, loopback): login ${loginMs.toFixed(1)} ms, round trip ${perCommandMs.toFixed(2)} ms/command over ${rounds} commands`);
    });
  }

  test('the pinned key matches: connects, not new', async () => {
    const first = await connect(optionsFor(dropbear));
    const second = await connect(optionsFor(dropbear, { hostKeyFingerprint: first.hostKeyFingerprint, onNewHostKey: () => assert.fail('not new') }));
    assert.equal(second.isNewHostKey, false);
    assert.equal(await second.exec('echo ok'), 'ok');
  });

  test('wrong password → AuthError, quickly', async () => {
    const startedMs = Date.now();
    await assert.rejects(connectSsh(optionsFor(dropbear, { password: 'wrong', connectTimeoutMs: 8000 })), (error: unknown) => {
      assert.ok(error instanceof AuthError, String(error));
      assert.match(error.message, /wrong user name or password/);
      return true;
    });
    assert.ok(Date.now() - startedMs < 5000);
  });

  test('a changed host key refuses to connect and says how to accept it', async () => {
    const other = await startDropbear();
    cleanups.push(() => other.stop());
    const pinned = (await connect(optionsFor(dropbear))).hostKeyFingerprint;
    // Same address and user, different host key: as if the router had been replaced.
    await assert.rejects(connectSsh(optionsFor(other, { hostKeyFingerprint: pinned })), (error: unknown) => {
      assert.ok(error instanceof HostKeyChangedError, String(error));
      assert.ok(error instanceof RouterError);
      assert.equal(error.expectedFingerprint, pinned);
      assert.notEqual(error.actualFingerprint, pinned);
      assert.match(error.nextStep ?? '', /accept-host-key SHA256:/);
      return true;
    });
  });

  test('vendor CLI as login shell: exec refused, interactive shell with prompt detection, then sh', async () => {
    const cli = await startDropbear({ loginShellScript: VENDOR_CLI_LOGIN_SHELL });
    cleanups.push(() => cli.stop());
    const startedMs = performance.now();
    const session = await connect(optionsFor(cli));
    const loginMs = performance.now() - startedMs;
    assert.equal(session.channelKind, 'interactive');
    assert.equal(session.mode, 'cli');
    assert.equal(await session.exec('arp show'), 'IP address       HW address\n198.51.100.2     00:11:22:33:44:55');
    assert.equal(await session.exec('bogus'), 'Command failed.');
    await session.enterShell();
    assert.equal(session.mode, 'shell');
    const rounds = 20;
    const loopStartMs = performance.now();
    for (let index = 0; index < rounds; index += 1) assert.equal(await session.exec(`echo x${index}`), `x${index}`);
    const perCommandMs = (performance.now() - loopStartMs) / rounds;
    console.log(`# ssh interactive (dropbear, vendor CLI then sh): login ${loginMs.toFixed(1)} ms, round trip ${perCommandMs.toFixed(2)} ms/command`);
  });
});

// ---------------------------------------------------------------------------------------------
// ssh2's in-process server: channel failure on exec; legacy-only algorithms.

interface InProcessServer {
  port: number;
  user: string;
  password: string;
  /** Connections accepted so far (each login is one). */
  connectionCount(): number;
}

async function startSsh2Server(config: { algorithms?: ssh2.Algorithms; allowExec: boolean; keyboardInteractive?: boolean }): Promise<InProcessServer> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'pkcs1', format: 'pem' } });
  const connections: ssh2.Connection[] = [];
  const server = new ssh2.Server({ hostKeys: [privateKey], ...(config.algorithms ? { algorithms: config.algorithms } : {}) }, (client) => {
    connections.push(client);
    client.on('error', () => undefined);
    client.on('authentication', (context) => {
      if (config.keyboardInteractive) {
        if (context.method !== 'keyboard-interactive') return context.reject(['keyboard-interactive']);
        context.prompt([{ prompt: 'Password: ', echo: false }], (answers) => (answers[0] === 'pw' ? context.accept() : context.reject()));
        return;
      }
      if (context.method === 'password' && context.username === 'admin' && context.password === 'pw') context.accept();
      else context.reject(['password']);
    });
    client.on('ready', () => {
      client.on('session', (accept) => {
        const session = accept();
        session.on('pty', (acceptPty) => acceptPty?.());
        session.on('exec', (acceptExec, reject, info) => {
          if (!config.allowExec) return reject?.();
          const stream = acceptExec();
          stream.write(info.command === SHELL_PROBE_COMMAND ? '__LANTOP_PROBE_1__\n' : `ran ${info.command}\n`);
          stream.exit(0);
          stream.end();
        });
        session.on('shell', (acceptShell) => {
          const stream = acceptShell();
          let line = '';
          stream.write('Huawei ATP CLI\r\nATP>');
          stream.on('data', (data: Buffer) => {
            for (const char of data.toString('utf8')) {
              if (char !== '\r') {
                line += char;
                stream.write(char);
                continue;
              }
              stream.write('\r\n');
              if (line === 'display version') stream.write('Version 1.0 ("quoted" > text)\r\n');
              else if (line !== '') stream.write('Command failed.\r\n'); // Huawei ATP's answer (fixtures/huawei-atp/hg655d/)
              line = '';
              stream.write('ATP>');
            }
          });
        });
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  // server.close() waits for every accepted connection: take them down first.
  cleanups.push(async () => {
    for (const connection of connections) destroySsh(connection);
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port: (server.address() as { port: number }).port, user: 'admin', password: 'pw', connectionCount: () => connections.length };
}

describe('SSH against an in-process ssh2 server', () => {
  test('exec refused with a channel failure → interactive shell; keyboard-interactive login', async () => {
    const server = await startSsh2Server({ allowExec: false, keyboardInteractive: true });
    const session = await connect(optionsFor(server));
    assert.equal(session.channelKind, 'interactive');
    assert.equal(session.mode, 'cli');
    assert.equal(await session.exec('display version'), 'Version 1.0 ("quoted" > text)');
    // No entry leads to a shell here: the connection says so (null) and stays in its CLI.
    assert.equal(await session.enterShell(), null);
    assert.equal(session.mode, 'cli');
    assert.equal(await session.exec('display version'), 'Version 1.0 ("quoted" > text)');
  });

  test('exec is POSIX but the shell channel is a CLI: one more login, exec channels, the new host key handed out once', async () => {
    const server = await startSsh2Server({ allowExec: true });
    const keys: string[] = [];
    const session = await connect(optionsFor(server, { onNewHostKey: (fingerprint) => keys.push(fingerprint) }));
    assert.equal(session.channelKind, 'exec');
    assert.equal(await session.exec('uptime'), 'ran uptime');
    assert.equal(server.connectionCount(), 2, 'the first login was given up with its shell channel');
    assert.deepEqual(keys, [session.hostKeyFingerprint]);
    assert.equal(session.isNewHostKey, true);
  });

  test('legacy-only server: refused without legacy algorithms, connects with them and says what it enabled', async () => {
    const legacyOnly: ssh2.Algorithms = { kex: ['diffie-hellman-group1-sha1'], cipher: ['aes128-cbc'], hmac: ['hmac-md5'], serverHostKey: ['ssh-rsa'] };
    const server = await startSsh2Server({ algorithms: legacyOnly, allowExec: true });
    await assert.rejects(connectSsh(optionsFor(server, { legacyAlgorithms: false })), (error: unknown) => {
      assert.ok(error instanceof RouterError, String(error));
      assert.match(error.message, /share no SSH algorithm/);
      assert.match(error.nextStep ?? '', /legacy/);
      return true;
    });
    const warnings: string[] = [];
    const session = await connect(optionsFor(server, { onWarning: (text) => warnings.push(text) }));
    assert.equal(await session.exec('uptime'), 'ran uptime');
    assert.ok(session.legacyAlgorithmsEnabled.includes('diffie-hellman-group1-sha1'));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /diffie-hellman-group1-sha1.*aes128-cbc.*hmac-md5/);
    const explicit = await connect(optionsFor(server, { legacyAlgorithms: true, onWarning: () => assert.fail('no retry warning expected') }));
    assert.equal(await explicit.exec('id'), 'ran id');
  });

  test('legacy algorithm config appends to the defaults, in the shape @types/ssh2 wants', () => {
    const { algorithms, enabled } = legacyAlgorithmConfig();
    for (const name of ['diffie-hellman-group1-sha1', 'diffie-hellman-group14-sha1', 'aes128-cbc', '3des-cbc', 'hmac-md5', 'ssh-dss']) assert.ok(enabled.includes(name), name);
    assert.deepEqual(Object.keys(algorithms.kex ?? {}).sort(), ['append', 'prepend', 'remove']);
  });

});
