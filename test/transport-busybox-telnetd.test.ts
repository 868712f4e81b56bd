// A REAL telnetd (BusyBox 1.35 from busybox-static) on loopback, with a small login script in
// front of BusyBox ash: real pty echo, real negotiation, ash line editing, real CR LF handling.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AuthError } from '../src/errors.js';
import { connectTelnet } from '../src/transport/telnet.js';

const BUSYBOX = '/bin/busybox';
const hasTelnetd = spawnSync(BUSYBOX, ['telnetd', '--help']).status !== null && spawnSync(BUSYBOX, ['--list']).stdout?.toString().split('\n').includes('telnetd');

// Asks like a router, checks a fixed test password, then runs BusyBox ash as a login shell.
const LOGIN_SCRIPT = `#!/bin/busybox sh
printf 'DD-WRT login: '
read -r user
printf 'Password: '
stty -echo 2>/dev/null
read -r password
stty echo 2>/dev/null
printf '\\n'
if [ "$user" != "admin" ] || [ "$password" != "s3cret" ]; then
  printf 'Login incorrect\\n'
  exit 1
fi
export PS1='root@DD-WRT:~# '
exec /bin/busybox sh -i
`;

describe('real BusyBox telnetd', { skip: hasTelnetd ? false : 'busybox telnetd not available' }, () => {
  let child: ChildProcess | undefined;
  let dir = '';
  let port = 0;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lantop-telnetd-'));
    const script = join(dir, 'login');
    writeFileSync(script, LOGIN_SCRIPT);
    chmodSync(script, 0o700);
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
    port = (probe.address() as { port: number }).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    child = spawn(BUSYBOX, ['telnetd', '-F', '-K', '-b', `127.0.0.1:${port}`, '-l', script], { stdio: 'ignore' });
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const isUp = await new Promise<boolean>((resolve) => {
        const socket = connect({ host: '127.0.0.1', port });
        socket.once('connect', () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('error', () => resolve(false));
      });
      if (isUp) return;
      await sleep(30);
    }
    throw new Error('busybox telnetd did not start');
  });
  after(() => {
    child?.kill('SIGTERM');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('logs in, runs commands with exact output, long lines and UTF-8; timing logged', async () => {
    const startedMs = performance.now();
    const session = await connectTelnet({ host: '127.0.0.1', port, user: 'admin', password: 's3cret', connectTimeoutMs: 4000, commandTimeoutMs: 3000 });
    const loginMs = performance.now() - startedMs;
    try {
      assert.equal(session.mode, 'shell');
      assert.equal(session.prompt?.trimEnd(), 'root@DD-WRT:~#');
      assert.equal(await session.exec('echo one; echo two'), 'one\ntwo');
      assert.equal(await session.exec('printf "K\\303\\274che\\n"'), 'Küche');
      const long = 'x'.repeat(150);
      assert.equal(await session.exec(`echo ${long} | wc -c`), '151', 'a command longer than the 80-column pty');
      assert.equal(await session.exec('true'), '');
      const rounds = 30;
      const loopStartMs = performance.now();
      for (let index = 0; index < rounds; index += 1) assert.equal(await session.exec(`echo ${index}`), String(index));
      const perCommandMs = (performance.now() - loopStartMs) / rounds;
      console.log(`# telnet (BusyBox 1.35 telnetd + ash, loopback): login ${loginMs.toFixed(1)} ms, round trip ${perCommandMs.toFixed(2)} ms/command`);
    } finally {
      await session.close();
    }
  });

  test('wrong password → AuthError', async () => {
    await assert.rejects(connectTelnet({ host: '127.0.0.1', port, user: 'admin', password: 'nope', connectTimeoutMs: 4000, commandTimeoutMs: 2000 }), AuthError);
  });
});
