// Telnet sessions against a raw scriptable server: the login dialogues, prompts and pagers seen in
// the wild, one persistent login for many commands, and telnet-client 2.2.14's own login/exec.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import telnetClient from 'telnet-client';
import { RouterError, TimeoutError, UnreachableError } from '../src/errors.js';
import { connectTelnet } from '../src/transport/telnet.js';
import { IAC, NOP, fakeRouter } from './fakes/raw-telnet-server.js';
import { COUNTERS, telnetOptions, telnetTestBed } from './helpers/telnet-test-bed.js';

const { serve, login, routerSession, track, closeServer } = telnetTestBed();

describe('login dialogues and prompts seen in the wild', () => {
  const loginPrompts = ['Login:', 'login: ', 'DD-WRT login: ', 'Username:', 'User Name:'];
  const passwordPrompts = ['Password:', 'Password: ', 'password: '];
  for (const [index, loginPrompt] of loginPrompts.entries()) {
    const passwordPrompt = passwordPrompts[index % passwordPrompts.length]!;
    test(`${JSON.stringify(loginPrompt)} / ${JSON.stringify(passwordPrompt)}`, async () => {
      const { session } = await routerSession({ loginPrompt, passwordPrompt, banner: '\n*** Welcome > to the router ***\n\n' });
      assert.equal(await session.exec('uname'), 'sh: uname: not found');
    });
  }

  const shellPrompts = ['# ', '$ ', 'root@DD-WRT:~# ', '/ # ', 'router#   '];
  for (const shellPrompt of shellPrompts) {
    test(`shell prompt ${JSON.stringify(shellPrompt)}`, async () => {
      const { session } = await routerSession({ shellPrompt, shellCommands: { 'arp -n': '? (198.51.100.2) at 00:11:22:33:44:55 [ether]  on br0\n' } });
      assert.equal(session.mode, 'shell');
      assert.equal(await session.exec('arp -n'), '? (198.51.100.2) at 00:11:22:33:44:55 [ether]  on br0');
    });
  }

  const cliPrompts = [' > ', '>', 'ATP>', 'TP-LINK> ', 'DSL-2750U>   '];
  for (const cliPrompt of cliPrompts) {
    test(`vendor CLI prompt ${JSON.stringify(cliPrompt)}, then sh`, async () => {
      const { session } = await routerSession({
        cliPrompt,
        cliCommands: { 'arp show': 'IP address       HW type     Flags       HW address\n198.51.100.2     0x1         0x2         00:11:22:33:44:55\n' },
        shellCommands: { 'arp -n': '? (198.51.100.2) at 00:11:22:33:44:55\n' },
      });
      assert.equal(session.mode, 'cli');
      assert.match(await session.exec('arp show'), /^IP address.*\n198\.51\.100\.2 /);
      await session.enterShell();
      assert.equal(session.mode, 'shell');
      assert.equal(await session.exec('arp -n'), '? (198.51.100.2) at 00:11:22:33:44:55');
      await session.exitShell();
      assert.equal(session.mode, 'cli');
    });
  }

  test('vendor CLI where the shell is behind `shell`, not `sh`', async () => {
    const { session } = await routerSession({ cliPrompt: 'ATP>', shellEntry: 'shell' });
    await session.enterShell();
    assert.equal(session.mode, 'shell');
  });

  test('router without a login dialogue', async () => {
    const { session } = await routerSession({ loginPrompt: null, banner: 'BusyBox v1.17.2\n' });
    assert.equal(await session.exec('id'), 'sh: id: not found');
  });

  for (const pager of ['--More--', '---- More ----', ' --More-- (45%)']) {
    test(`pager ${JSON.stringify(pager)} is answered with a space and leaves no residue`, async () => {
      const { server, session } = await routerSession({
        cliPrompt: 'ATP>',
        cliCommands: {
          'display arp': async ({ connection }) => {
            await connection.write(`line 1\r\nline 2\r\n${pager}`);
            for (let index = 0; index < 100 && !connection.takePendingText().includes(' '); index += 1) await sleep(10);
            await connection.write(`\r${' '.repeat(pager.length)}\rline 3\r\n${pager}`);
            for (let index = 0; index < 100 && !connection.takePendingText().includes(' '); index += 1) await sleep(10);
            await connection.write('\u001b[2K\rline 4\r\n');
            return '';
          },
        },
      });
      assert.equal(await session.exec('display arp'), 'line 1\nline 2\nline 3\nline 4');
      void server;
    });
  }

  test('a login that never shows a prompt → RouterError with the last lines seen', async () => {
    const server = await serve(async (connection) => {
      await connection.write('220 mail.example ESMTP ready\r\n');
      await connection.closed;
    });
    await assert.rejects(connectTelnet(telnetOptions(server.port, { connectTimeoutMs: 1000 })), (error: unknown) => {
      assert.ok(error instanceof RouterError, String(error));
      assert.match(error.seen ?? '', /ESMTP ready/);
      return true;
    });
  });

  test('a server that accepts and says nothing → TimeoutError', async () => {
    const server = await serve(async (connection) => {
      await connection.closed;
    });
    await assert.rejects(connectTelnet(telnetOptions(server.port, { connectTimeoutMs: 800 })), TimeoutError);
  });

  test('nothing listening → UnreachableError naming host:port and ECONNREFUSED', async () => {
    const server = await serve(async () => undefined);
    const port = server.port;
    await closeServer(server);
    await assert.rejects(connectTelnet(telnetOptions(port)), (error: unknown) => {
      assert.ok(error instanceof UnreachableError, String(error));
      assert.ok(error.message.includes(`127.0.0.1:${port}`));
      assert.match(error.message, /ECONNREFUSED/);
      return true;
    });
  });
});

describe('persistent session', () => {
  test('many commands on one login; login time and round trip logged', async () => {
    const server = await serve(fakeRouter({ shellCommands: { 'iptables -L TRAFFIC -v -x -n': COUNTERS + '\n' } }));
    const startedMs = performance.now();
    const session = await login(server.port);
    const loginMs = performance.now() - startedMs;
    const rounds = 50;
    const loopStartMs = performance.now();
    for (let index = 0; index < rounds; index += 1) assert.equal(await session.exec('iptables -L TRAFFIC -v -x -n'), COUNTERS);
    const perCommandMs = (performance.now() - loopStartMs) / rounds;
    console.log(`# telnet (fake router, loopback): login ${loginMs.toFixed(1)} ms, round trip ${perCommandMs.toFixed(2)} ms/command over ${rounds} commands`);
    assert.equal(server.connectionCount, 1);
  });
});

// The same servers against telnet-client 2.2.14's own login/exec with the issue's "known-good"
// options: these pin the library defects lantop works around. If one starts failing, the library
// changed — revisit telnet.ts rather than deleting the test.
describe('telnet-client 2.2.14 on its own (why lantop frames the stream itself)', () => {
  const knownGood = {
    host: '127.0.0.1',
    encoding: 'utf8' as const,
    irs: '\n',
    newlineReplace: '\n',
    loginPrompt: /login[: ]*$/i,
    passwordPrompt: /password[: ]*$/i,
    shellPrompt: /[^\r\n]*[#>] *$/,
    failedLoginMatch: /incorrect|denied|fail/i,
    timeout: 800,
    execTimeout: 800,
    username: 'admin',
  };
  async function library() {
    const client = new telnetClient.Telnet();
    client.on('error', () => undefined);
    track({ close: () => client.destroy() });
    return client;
  }

  test('defect 1 reproduced: one-write refusal is not recognised, connect fails only by timeout', async () => {
    const server = await serve(fakeRouter({ password: 'right' }));
    const client = await library();
    await assert.rejects(client.connect({ ...knownGood, port: server.port, password: 'wrong' }), (error: unknown) => {
      // The misleading idle-timeout message of the issue, not a login failure.
      assert.match(String(error), /Cannot connect/);
      return true;
    });
  });

  test('defect 4 reproduced: an IAC-only chunk ends exec early with truncated output', async () => {
    const server = await serve(
      fakeRouter({
        shellCommands: {
          list: async ({ connection }) => {
            await connection.writeSeparately('line 1\r\n', [IAC, NOP], 'line 2\r\n');
            return '';
          },
        },
      }),
    );
    const client = await library();
    await client.connect({ ...knownGood, port: server.port, password: 'secret' });
    const output = await client.exec('list').catch((error: unknown) => `rejected: ${String(error)}`);
    assert.match(output, /line 1/);
    assert.doesNotMatch(output, /line 2/, 'the library got it right: revisit the workaround');
  });
});
