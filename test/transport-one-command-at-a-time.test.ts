// One command at a time on the wire (issue 4), with one queue per command path (issue 14): the
// ReconnectingSession's. Concurrent calls through it, over telnet, an SSH shell channel and SSH
// exec channels, never overlap at the router; a bare connection refuses an overlapping call before
// writing anything.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BugError } from '../src/errors.js';
import { openSession } from '../src/transport/connect.js';
import { connectSsh, type SshSession } from '../src/transport/ssh.js';
import { ReconnectingSession } from '../src/transport/reconnecting-session.js';
import { fakeRouter, stripTelnetCommands, type RawTelnetConnection } from './fakes/raw-telnet-server.js';
import { dropbearUnavailableReason, startDropbear, type RunningDropbear } from './fakes/dropbear.js';
import { telnetTestBed } from './helpers/telnet-test-bed.js';

const { routerSession, serve, track } = telnetTestBed();
let dropbear: RunningDropbear | undefined;
// After the sessions (telnetTestBed's hook runs first): they close toward a server still there.
after(async () => {
  await dropbear?.stop();
});
const base = { host: '127.0.0.1', user: 'admin', password: 'secret', connectTimeoutMs: 3000, commandTimeoutMs: 2000 };

/** Fake-router replies that take a while and note whether the client typed anything meanwhile. */
function wireWatch() {
  const watch = { inFlight: 0, maxInFlight: 0, typedDuringCommand: 0 };
  const reply = (text: string) => async ({ connection }: { connection: RawTelnetConnection }) => {
    watch.inFlight += 1;
    watch.maxInFlight = Math.max(watch.maxInFlight, watch.inFlight);
    const before = connection.received.length;
    await sleep(15);
    // Telnet commands (the client's NOP that carries an early ACK) are not typing.
    if (stripTelnetCommands(connection.received.subarray(before)).length > 0) watch.typedDuringCommand += 1;
    watch.inFlight -= 1;
    await connection.write(`${text}\r\n`);
    return '';
  };
  return { watch, reply };
}

describe('telnet', () => {
  test('concurrent exec calls are queued, one in flight, replies not mixed', async () => {
    const { watch, reply } = wireWatch();
    const server = await serve(fakeRouter({ shellCommands: { a: reply('A'), b: reply('B'), c: reply('C') } }));
    const session = track(await openSession({ ...base, port: server.port, protocol: 'telnet' }));
    const results = await Promise.all([session.exec('a'), session.exec('b'), session.exec('c')]);
    assert.deepEqual(results, ['A', 'B', 'C']);
    assert.equal(watch.maxInFlight, 1);
    assert.equal(watch.typedDuringCommand, 0, 'nothing was sent while a command ran');
  });

  test('concurrent commands for the CLI and the shell: each moves and runs whole before the next', async () => {
    const { watch, reply } = wireWatch();
    const server = await serve(fakeRouter({ cliPrompt: 'ATP>', cliCommands: { 'display a': reply('cli a'), 'display c': reply('cli c') }, shellCommands: { 'cat b': reply('shell b'), 'cat d': reply('shell d') } }));
    const session = track(await openSession({ ...base, port: server.port, protocol: 'telnet' }));
    session.setShellRoute({ enter: 'sh', exit: 'exit' });
    const results = await Promise.all([
      session.exec('display a', { where: 'cli' }),
      session.exec('cat b', { where: 'shell' }),
      session.exec('display c', { where: 'cli' }),
      session.exec('cat d', { where: 'shell' }),
    ]);
    assert.deepEqual(results, ['cli a', 'shell b', 'cli c', 'shell d']);
    assert.equal(watch.maxInFlight, 1);
    assert.equal(watch.typedDuringCommand, 0);
  });

  test('a bare TelnetSession refuses an overlapping call before sending it', async () => {
    const { reply } = wireWatch();
    const { server, session } = await routerSession({ shellCommands: { 'first-command': reply('first') } });
    const first = session.exec('first-command');
    await assert.rejects(session.exec('second-command'), BugError);
    await assert.rejects(session.enterShell(), BugError);
    assert.equal(await first, 'first');
    assert.doesNotMatch(stripTelnetCommands(server.connections[0]!.received).toString('utf8'), /second-command/);
    assert.equal(session.isAlive, true, 'the refusal leaves the connection usable');
    assert.equal(await session.exec('first-command'), 'first');
  });
});

describe('SSH against a real dropbear', { skip: dropbearUnavailableReason() ?? false }, () => {
  const server = async () => (dropbear ??= await startDropbear());
  /** Appends start and end marks to a log in the user's home, with a pause between them. */
  const marked = (log: string, name: string) => `echo start-${name} >> ~/${log}; sleep 0.05; echo end-${name} >> ~/${log}; echo ${name}`;
  const logOf = (running: RunningDropbear, log: string) => readFileSync(join(running.dir, 'home', log), 'utf8');

  for (const preferExec of [false, true]) {
    const kind = preferExec ? 'exec channels' : 'one shell channel';
    const connect = (running: RunningDropbear) => connectSsh({ ...base, user: running.user, password: running.password, port: running.port, preferExec });

    test(`${kind}: concurrent exec calls through the reconnecting session run one after another`, async () => {
      const running = await server();
      const log = `queued-${preferExec ? 'exec' : 'shell'}.log`;
      const session = track(new ReconnectingSession({ factory: () => connect(running), target: `127.0.0.1:${running.port}` }));
      await session.connect();
      assert.equal((session.connection as SshSession).channelKind, preferExec ? 'exec' : 'interactive');
      const names = ['a', 'b', 'c', 'd'];
      const results = await Promise.all(names.map((name) => session.exec(marked(log, name))));
      assert.deepEqual(results, names);
      assert.equal(logOf(running, log), names.map((name) => `start-${name}\nend-${name}\n`).join(''), 'no command started before the previous one ended');
    });

    test(`${kind}: a bare SshSession refuses an overlapping call before sending it`, async () => {
      const running = await server();
      const log = `bare-${preferExec ? 'exec' : 'shell'}.log`;
      const session = track(await connect(running));
      const first = session.exec(marked(log, 'first'));
      await assert.rejects(session.exec(marked(log, 'second')), BugError);
      assert.equal(await first, 'first');
      assert.equal(logOf(running, log), 'start-first\nend-first\n', 'the refused command never ran');
      assert.equal(await session.exec('echo again'), 'again', 'the refusal leaves the connection usable');
    });
  }
});
