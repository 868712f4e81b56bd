// Telnet sessions against a raw scriptable server: every telnet-client 2.2.14 defect of issue 4 as
// its own test. Login dialogues, prompts and pagers seen in the wild: transport-telnet-dialogues.test.ts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { AuthError, ConnectionLostError, TimeoutError } from '../src/errors.js';
import { connectTelnet } from '../src/transport/telnet.js';
import { ReconnectingSession } from '../src/transport/reconnecting-session.js';
import { DO, IAC, NOP, WILL, WONT, fakeRouter } from './fakes/raw-telnet-server.js';
import { COUNTERS, telnetOptions, telnetTestBed } from './helpers/telnet-test-bed.js';

const { serve, login, routerSession, track } = telnetTestBed();

describe('defect 1: refused login reported at once', () => {
  test('"Login incorrect" and the next "login:" in one TCP write → AuthError, well before the timeout', async () => {
    const server = await serve(fakeRouter({ password: 'right' }));
    const startedMs = Date.now();
    await assert.rejects(connectTelnet(telnetOptions(server.port, { password: 'wrong', connectTimeoutMs: 8000 })), (error: unknown) => {
      assert.ok(error instanceof AuthError, `expected AuthError, got ${String(error)}`);
      assert.match(error.message, /wrong user name or password/);
      assert.ok(error.nextStep);
      return true;
    });
    const elapsedMs = Date.now() - startedMs;
    assert.ok(elapsedMs < 5000, `took ${elapsedMs} ms: that is the idle timeout, not the refusal`);
  });

  test('refusal text, then the router hangs up → AuthError', async () => {
    const server = await serve(async (connection) => {
      await connection.write('login: ');
      await connection.readLine();
      await connection.write('Password: ');
      await connection.readLine();
      await connection.write('\r\nAccess denied\r\n');
      await sleep(20);
      connection.destroy();
    });
    await assert.rejects(connectTelnet(telnetOptions(server.port, { password: 'wrong' })), AuthError);
  });

  test('password prompt asked again (no user prompt at all) → AuthError', async () => {
    const server = await serve(async (connection) => {
      for (let round = 0; round < 3; round += 1) {
        await connection.write('Password:');
        if ((await connection.readLine()) === null) return;
        await connection.write('\r\n');
      }
    });
    await assert.rejects(connectTelnet(telnetOptions(server.port, { password: 'wrong' })), AuthError);
  });
});

describe('defect 2: a timed-out command never leaks into the next reply', () => {
  test('timeout → TimeoutError, the connection is destroyed, the next command runs on a fresh one', async () => {
    const server = await serve(
      fakeRouter({
        shellCommands: {
          'slow-command': async ({ connection }) => {
            await sleep(600);
            await connection.write('LEFTOVER-OF-SLOW-COMMAND\r\n');
            return '';
          },
          'uptime': ' 10:00:00 up 1 day\n',
        },
      }),
    );
    const reconnecting = new ReconnectingSession({
      target: `127.0.0.1:${server.port}`,
      factory: () => connectTelnet(telnetOptions(server.port)),
      initialDelayMs: 50,
    });
    track(reconnecting);
    await reconnecting.connect();
    await assert.rejects(reconnecting.exec('slow-command', { timeoutMs: 200 }), TimeoutError);
    assert.equal(reconnecting.state.kind, 'reconnecting');
    await sleep(150); // past the 50 ms backoff: the reconnect happens in the background
    const output = await reconnecting.exec('uptime');
    assert.equal(output, ' 10:00:00 up 1 day');
    assert.doesNotMatch(output, /LEFTOVER/);
    assert.equal(server.connectionCount, 2, 'the timed-out connection must not be reused');
    assert.ok(server.connections[0]!.socket.destroyed);
  });

  test('a single TelnetSession refuses further commands after a timeout', async () => {
    const { session } = await routerSession({ shellCommands: { hang: async () => new Promise(() => undefined) } });
    await assert.rejects(session.exec('hang', { timeoutMs: 200 }), TimeoutError);
    assert.equal(session.isAlive, false);
    await assert.rejects(session.exec('uptime'), ConnectionLostError);
  });
});

describe('defect 3: socket closed mid-command', () => {
  test('rejects at once with ConnectionLostError (command timeout 8 s)', async () => {
    const { session } = await routerSession({
      shellCommands: {
        'iptables -L TRAFFIC -v -x -n': async ({ connection }) => {
          await connection.write('Chain TRAFFIC (1 references)\r\n    pkts');
          await sleep(20);
          connection.destroy();
        },
      },
    });
    const startedMs = Date.now();
    await assert.rejects(session.exec('iptables -L TRAFFIC -v -x -n', { timeoutMs: 8000 }), (error: unknown) => {
      assert.ok(error instanceof ConnectionLostError, String(error));
      assert.match(error.message, /closed/);
      return true;
    });
    assert.ok(Date.now() - startedMs < 4000, 'must not wait for the command timeout');
  });

  test('an idle connection that closes makes the reconnecting session say so', async () => {
    const server = await serve(fakeRouter());
    const states: string[] = [];
    const reconnecting = new ReconnectingSession({
      target: `127.0.0.1:${server.port}`,
      factory: () => connectTelnet(telnetOptions(server.port)),
      initialDelayMs: 60_000,
      maxDelayMs: 60_000,
    });
    track(reconnecting);
    reconnecting.onStateChange((state) => states.push(state.kind));
    await reconnecting.connect();
    server.connections[0]!.destroy();
    for (let index = 0; index < 100 && reconnecting.state.kind !== 'reconnecting'; index += 1) await sleep(10);
    assert.deepEqual(states, ['connecting', 'connected', 'reconnecting']);
    const state = reconnecting.state;
    assert.ok(state.kind === 'reconnecting' && state.inMs === 60_000);
    await assert.rejects(reconnecting.exec('uptime'), /reconnecting in 60 s/);
  });
});

describe('defect 4: IAC sequences never truncate or leak', () => {
  test('an IAC-only chunk in the middle of a reply does not end it early (shell)', async () => {
    const { session } = await routerSession({
      shellCommands: {
        'iptables -L TRAFFIC -v -x -n': async ({ connection }) => {
          const lines = COUNTERS.split('\n');
          await connection.writeSeparately(
            lines.slice(0, 2).join('\r\n') + '\r\n',
            [IAC, NOP],
            [IAC, WILL, 1],
            lines.slice(2).join('\r\n') + '\r\n',
          );
          return '';
        },
      },
    });
    assert.equal(await session.exec('iptables -L TRAFFIC -v -x -n'), COUNTERS);
  });

  test('an IAC-only chunk in the middle of a reply does not end it early (vendor CLI)', async () => {
    const { session } = await routerSession({
      cliPrompt: 'ATP>',
      cliCommands: {
        'display counters': async ({ connection }) => {
          await connection.writeSeparately('rx 100\r\n', [IAC, DO, 24], 'tx 200\r\n');
          return '';
        },
      },
    });
    assert.equal(session.mode, 'cli');
    assert.equal(await session.exec('display counters'), 'rx 100\ntx 200');
  });

  test('IAC bytes inside a chunk are answered and removed from the text', async () => {
    const server = await serve(
      fakeRouter({
        shellCommands: {
          'cat /proc/net/arp': async ({ connection }) => {
            await connection.write(Buffer.concat([Buffer.from('IP add'), Buffer.from([IAC, DO, 24]), Buffer.from('ress HW\r\n198.51.100.7 0x1'), Buffer.from([IAC, IAC]), Buffer.from('\r\n')]));
            return '';
          },
        },
      }),
    );
    const session = await login(server.port);
    const output = await session.exec('cat /proc/net/arp');
    assert.equal(output, 'IP address HW\n198.51.100.7 0x1\ufffd');
    assert.ok(await server.connections[0]!.waitForReceived([IAC, WONT, 24]), 'DO TTYPE answered with WONT');
  });

  test('negotiation split across chunks and before the login prompt', async () => {
    const { server, session } = await routerSession({ greeting: [[IAC, DO, 24, IAC, WILL, 1, IAC], [WILL, 3, IAC, DO], [31]] });
    assert.equal(await session.exec('echo hi'), 'sh: echo: not found');
    const received = server.connections[0]!.received;
    assert.ok(received.includes(Buffer.from([IAC, DO, 1])), 'WILL ECHO accepted');
    assert.ok(received.includes(Buffer.from([IAC, DO, 3])), 'WILL SGA accepted');
    assert.ok(received.includes(Buffer.from([IAC, WONT, 31])), 'DO NAWS refused');
  });
});

describe('defect 5: text, line ends, echo, prompts inside output, split prompts', () => {
  test('UTF-8 host names intact, even with a multi-byte character split across writes', async () => {
    const name = 'Küchen-Fernseher 📺 Wohnzimmer';
    const bytes = Buffer.from(`${name}\r\n`, 'utf8');
    const cut = bytes.indexOf(Buffer.from('📺', 'utf8')) + 2;
    const { session } = await routerSession({
      shellCommands: {
        'cat /tmp/dhcp.leases': async ({ connection }) => {
          await connection.writeSeparately(bytes.subarray(0, cut), bytes.subarray(cut));
          return '';
        },
      },
    });
    assert.equal(await session.exec('cat /tmp/dhcp.leases'), name);
  });

  test('LF-only server', async () => {
    const { session } = await routerSession({ eol: '\n', shellCommands: { 'iptables -L TRAFFIC -v -x -n': COUNTERS + '\n' } });
    assert.equal(await session.exec('iptables -L TRAFFIC -v -x -n'), COUNTERS);
  });

  test('server that does not echo: the first output line is kept', async () => {
    const { session } = await routerSession({ echo: false, shellCommands: { 'arp -n': 'first line\nsecond line\n' } });
    assert.equal(await session.exec('arp -n'), 'first line\nsecond line');
  });

  test('vendor CLI that does not echo: the first output line is kept', async () => {
    const { session } = await routerSession({ echo: false, cliPrompt: '>', cliCommands: { 'arp show': 'first line\nsecond line\n' } });
    assert.equal(await session.exec('arp show'), 'first line\nsecond line');
  });

  test('">" inside the output is not taken as the prompt, even at the end of a TCP chunk', async () => {
    const output = 'route a -> b\n> quoted line\nlast > line';
    const { session } = await routerSession({
      cliPrompt: '>',
      cliCommands: {
        'show routes': async ({ connection }) => {
          await connection.writeSeparately('route a -> b\r\n>', ' quoted line\r\nlast >', ' line\r\n');
          return '';
        },
      },
    });
    assert.equal(await session.exec('show routes'), output);
  });

  test('"# " at the end of a chunk inside shell output does not end the reply', async () => {
    const { session } = await routerSession({
      shellCommands: {
        'cat /etc/hosts': async ({ connection }) => {
          await connection.writeSeparately('127.0.0.1 localhost\r\n# ', 'comment\r\n');
          return '';
        },
      },
    });
    assert.equal(await session.exec('cat /etc/hosts'), '127.0.0.1 localhost\n# comment');
  });

  test('"Login:" split across two TCP writes is seen', async () => {
    const { session } = await routerSession({ loginPromptPieces: ['Lo', 'gin: '] });
    assert.equal(session.mode, 'shell');
  });

  test('an empty reply is the empty string', async () => {
    const { session } = await routerSession({ shellCommands: { true: '' } });
    assert.equal(await session.exec('true'), '');
  });
});
