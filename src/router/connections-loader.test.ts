import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionsLoader } from './connections-loader.js';
import { ACCOUNTING_SWITCH_COMMAND, ENABLE_ACCOUNTING_COMMAND } from './conntrack-commands.js';
import { DeviceConnectionsReader } from '../app/device-connections.js';
import { RouterError } from '../errors.js';
import { ScriptedSession } from '../../test/fakes/scripted-session.js';
import { readFixture } from '../../test/fixtures.js';

const H10 = ['198.51.100.10', '2001:db8:1::10'];
const isTableRead = (c: string) => c.includes('@@lantop-ct:') && c.includes("src=198.51.100.10 ");

describe('ConnectionsLoader against answers captured from BusyBox ash (fixtures/conntrack/lantop-lab)', () => {
  test('the filtered read, the switch on: entries, source, accounting on; one command per table read', async () => {
    const session = new ScriptedSession([
      { command: isTableRead, output: readFixture('conntrack/lantop-lab/lantop-command-acct-on.txt') },
      { command: ACCOUNTING_SWITCH_COMMAND, output: '1\n' },
      { command: /nslookup/, output: '' },
      { command: /nslookup/, output: '' },
    ], { mode: 'shell' });
    const loader = new ConnectionsLoader(session, () => true, () => 5000);
    const table = await loader.read(H10);
    assert.equal(table.source, '/proc/net/nf_conntrack');
    assert.equal(table.accounting, 'on');
    assert.ok(table.entries.length >= 3);
    // The reader reads again (rates): a second scripted round.
    const session2 = new ScriptedSession([
      { command: isTableRead, output: readFixture('conntrack/lantop-lab/lantop-command-acct-on.txt') },
      { command: ACCOUNTING_SWITCH_COMMAND, output: '1\n' },
      { command: /nslookup/, output: '10.100.51.198.in-addr.arpa\tname = never-used.example\n' },
      { command: /nslookup/, output: '' },
    ], { mode: 'shell' });
    const view = await new DeviceConnectionsReader(new ConnectionsLoader(session2, () => true, () => 9000)).read({ identity: '02:00:00:00:00:10', name: 'h1\x1b[31m', addresses: H10 });
    assert.doesNotMatch(view.name, /\x1b/);
    assert.equal(view.accounting, 'on');
    assert.equal(view.enableAccountingCommand, null);
    // Sorted by bytes: h1's iperf3 upload first (100892 + 684 bytes). Its remote is the server (the
    // original tuple's destination), not the router's WAN address the reply tuple names after NAT.
    const [top, second] = view.connections;
    assert.deepEqual([top!.remote, top!.remotePort, top!.protocol, top!.upBytes, top!.downBytes, top!.service], ['203.0.113.1', 5201, 'tcp', 100892, 684, 'iperf3']);
    // Then the IPv6 https connection, its expanded /proc address canonical.
    assert.deepEqual([second!.remote, second!.remotePort, second!.upBytes, second!.downBytes], ['2001:db8:ff::1', 443, 51088, 944]);
    assert.ok(view.connections.every((c) => c.remote !== '203.0.113.2'));
    // The port forward (opened from the WAN to h1's ssh) is h1's too, initiated by the remote.
    assert.ok(view.connections.some((c) => c.initiator === 'remote' && c.localPort === 22));
    session2.assertDone();
  });

  test('the switch is read once, and again only when the table contradicts it', async () => {
    const on = readFixture('conntrack/lantop-lab/lantop-command-acct-on.txt');
    const off = readFixture('conntrack/lantop-lab/lantop-command-acct-off.txt');
    const session = new ScriptedSession([
      { command: isTableRead, output: off },
      { command: ACCOUNTING_SWITCH_COMMAND, output: '0\n' },
      { command: isTableRead, output: off },
      // Bytes appear: someone turned it on elsewhere, so the switch is read again.
      { command: isTableRead, output: on },
      { command: ACCOUNTING_SWITCH_COMMAND, output: '1\n' },
    ], { mode: 'shell' });
    const loader = new ConnectionsLoader(session, () => true);
    assert.equal((await loader.read(H10)).accounting, 'off');
    assert.equal((await loader.read(H10)).accounting, 'off');
    assert.equal((await loader.read(H10)).accounting, 'on');
    session.assertDone();
  });

  test('accounting off: said, with the one command that turns it on', async () => {
    const session = new ScriptedSession([
      { command: isTableRead, output: readFixture('conntrack/lantop-lab/lantop-command-acct-off.txt') },
      { command: ACCOUNTING_SWITCH_COMMAND, output: '0\n' },
    ], { mode: 'shell' });
    const loader = new ConnectionsLoader(session, () => true);
    const table = await loader.read(H10);
    assert.equal(table.accounting, 'off');
    assert.ok(table.entries.every((e) => e.original.bytes === null));
  });

  test('no table at all (procfs compiled out, no conntrack): a RouterError that says so', async () => {
    const session = new ScriptedSession([{ command: isTableRead, output: readFixture('conntrack/lantop-lab/lantop-command-none-acct-on.txt') }], { mode: 'shell' });
    await assert.rejects(new ConnectionsLoader(session, () => true).read(H10), (e: unknown) => e instanceof RouterError && /no readable connection table/.test(e.message));
  });

  test('a shell too small for the filtered read falls back to cat of the table and filters here', async () => {
    const session = new ScriptedSession([
      { command: isTableRead, output: '-sh: (p=/proc/net/: not found\n-sh: if: not found\n@@lantop-ct:$s\n-sh: case: not found\n@@lantop-ct:end\n' },
      { command: 'cat /proc/net/nf_conntrack', output: readFixture('conntrack/lantop-lab/nf_conntrack-acct-on.txt') },
      { command: ACCOUNTING_SWITCH_COMMAND, output: '1\n' },
    ], { mode: 'shell' });
    const table = await new ConnectionsLoader(session, () => true).read(['198.51.100.10']);
    assert.equal(table.source, '/proc/net/nf_conntrack');
    assert.ok(table.entries.length > 0);
    session.assertDone();
  });

  test('a CLI without a shell, or a device without addresses: clear errors, nothing sent', async () => {
    const session = new ScriptedSession([], { mode: 'cli' });
    await assert.rejects(new ConnectionsLoader(session, () => false).read(H10), /offers no shell/);
    await assert.rejects(new ConnectionsLoader(session, () => true).read([]), /no address/);
    assert.deepEqual(session.sent, []);
  });

  test('enableAccounting sends exactly the documented command and checks the switch after', async () => {
    const session = new ScriptedSession([
      { command: ENABLE_ACCOUNTING_COMMAND, output: '' },
      { command: ACCOUNTING_SWITCH_COMMAND, output: '1\n' },
      { command: ENABLE_ACCOUNTING_COMMAND, output: 'sh: can\'t create /proc/sys/net/netfilter/nf_conntrack_acct: Permission denied\n' },
      { command: ACCOUNTING_SWITCH_COMMAND, output: '0\n' },
    ], { mode: 'shell' });
    const loader = new ConnectionsLoader(session, () => true);
    assert.equal((await loader.enableAccounting()).isDone, true);
    const refused = await loader.enableAccounting();
    assert.equal(refused.isDone, false);
    assert.match(refused.message, /Permission denied/);
    session.assertDone();
  });

  test('reverse lookups: at most two per read, cached, and off for the session after a slow one', async () => {
    let now = 0;
    const session = new ScriptedSession([
      { command: /nslookup 203\.0\.113\.1 /, output: '1.113.0.203.in-addr.arpa\tname = server.example\n' },
      { command: /nslookup 203\.0\.113\.2 /, output: '' },
      { command: /nslookup 203\.0\.113\.3 /, reply: () => { now += 5000; return ''; } },
    ], { mode: 'shell' });
    const loader = new ConnectionsLoader(session, () => true, () => now);
    await loader.lookUp(['203.0.113.1', '203.0.113.2', '203.0.113.3']);
    assert.equal(loader.nameOf('203.0.113.1'), 'server.example');
    assert.equal(loader.nameOf('203.0.113.2'), null);
    assert.equal(loader.nameOf('203.0.113.3'), undefined);
    await loader.lookUp(['203.0.113.1', '203.0.113.3', '203.0.113.4']);
    await loader.lookUp(['203.0.113.4']);
    assert.equal(loader.nameOf('203.0.113.4'), undefined, 'a 5 s lookup turned lookups off');
    session.assertDone();
  });
});
