// A shell entry the session already knows (the route of a stored profile): entered without quiet
// waits, recognised by the sentinel-framed mode probe; a route that no longer leads to a shell
// falls back to the usual probe and is reported (issue 21).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { RouterError } from '../src/errors.js';
import { ReconnectingSession } from '../src/transport/reconnecting-session.js';
import type { TraceEvent } from '../src/transport/session.js';
import { connectTelnet } from '../src/transport/telnet.js';
import { telnetOptions, telnetTestBed } from './helpers/telnet-test-bed.js';
import { fakeRouter } from './fakes/raw-telnet-server.js';

const { serve, login, track } = telnetTestBed();
const FRAMED_PROBE = /^false; echo "__LANTOP""_PROBE_\$\?__"; echo "__LANTOP""_END_[0-9a-f]{12}_\$\?__"$/;

function sentLines(trace: TraceEvent[], from: number): string[] {
  return trace.slice(from).flatMap((e) => (e.kind === 'sent' && e.isSecret !== true ? [e.text] : []));
}

describe('entering the shell by a known route', () => {
  test('the entry, then the framed probe: no empty-line prompt confirmation, no settle-framed probe', async () => {
    const server = await serve(fakeRouter({ cliPrompt: ' > ', shellPrompt: '# ', shellCommands: { 'cat /proc/uptime': '1234.56 789.00\n' } }));
    const trace: TraceEvent[] = [];
    // A settle this long would make a quiet wait obvious; the known route never waits for quiet.
    const session = await login(server.port, { onTrace: (e) => trace.push(e), cliSettleMs: 30 });
    assert.equal(session.mode, 'cli');
    const before = trace.length;
    assert.equal(await session.enterShell(['sh'], true), 'sh');
    assert.equal(session.mode, 'shell');
    const sent = sentLines(trace, before);
    assert.equal(sent.length, 2, `sent: ${JSON.stringify(sent)}`);
    assert.equal(sent[0], 'sh');
    assert.match(sent[1]!, FRAMED_PROBE);
    assert.equal(session.prompt, '# ');
    assert.equal(await session.exec('cat /proc/uptime'), '1234.56 789.00');
    await session.exitShell();
    assert.equal(session.mode, 'cli');
  });

  test('a known route that no longer leads to a shell: the usual probe decides, the CLI stays usable', async () => {
    // `sh` is gone from this CLI (the shell is behind `shell` now): the CLI answers it with its error.
    const server = await serve(fakeRouter({ cliPrompt: 'ATP>', shellEntry: 'shell', cliCommands: { 'arp show': 'IP address       HW type\n' } }));
    const trace: TraceEvent[] = [];
    const session = await login(server.port, { onTrace: (e) => trace.push(e) });
    const before = trace.length;
    assert.equal(await session.enterShell(['sh'], true), null);
    assert.equal(session.mode, 'cli');
    const sent = sentLines(trace, before);
    assert.equal(sent[0], 'sh');
    assert.match(sent[1]!, FRAMED_PROBE);
    // The slow path after it: an empty line confirms the prompt, then the plain probe.
    assert.ok(sent.includes('false; echo "__LANTOP""_PROBE_$?__"'), `sent: ${JSON.stringify(sent)}`);
    assert.equal(await session.exec('arp show'), 'IP address       HW type');
  });

  test('ReconnectingSession with a stored route: the fast entry on connect, and again after a drop', async () => {
    let connections = 0;
    const server = await serve(async (connection) => {
      connections += 1;
      await fakeRouter({ cliPrompt: ' > ', shellCommands: { 'cat /proc/uptime': '1.00 2.00\n' } })(connection);
    });
    const trace: TraceEvent[] = [];
    const session = track(new ReconnectingSession({
      factory: () => connectTelnet(telnetOptions(server.port, { onTrace: (e) => trace.push(e) })),
      target: 'test',
      shellRoute: { enter: 'sh', exit: 'exit' },
      initialDelayMs: 10,
    }));
    assert.equal(await session.exec('cat /proc/uptime', { where: 'shell' }), '1.00 2.00');
    const sent = sentLines(trace, 0);
    const entry = sent.indexOf('sh');
    assert.ok(entry >= 0);
    assert.match(sent[entry + 1]!, FRAMED_PROBE);
    assert.equal(connections, 1);
    // The router drops the connection: the reconnect lands in the CLI and takes the route again.
    const mark = trace.length;
    await session.connection!.close();
    await sleep(100);
    assert.equal(await session.exec('cat /proc/uptime', { where: 'shell' }), '1.00 2.00');
    const again = sentLines(trace, mark);
    assert.equal(connections, 2);
    assert.match(again[again.indexOf('sh') + 1]!, FRAMED_PROBE);
  });

  test('ReconnectingSession: a stored route that stopped working is a RouterError naming it', async () => {
    const server = await serve(fakeRouter({ cliPrompt: 'ATP>', shellEntry: 'shell' }));
    const session = track(new ReconnectingSession({
      factory: () => connectTelnet(telnetOptions(server.port)),
      target: 'test',
      shellRoute: { enter: 'sh', exit: 'exit' },
    }));
    await assert.rejects(session.exec('cat /proc/uptime', { where: 'shell' }), (e: unknown) => e instanceof RouterError && /'sh' no longer leads/.test(e.message));
  });
});
