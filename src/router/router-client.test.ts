// RouterClient against a fake router whose iptables is the emulator's (real iptables semantics,
// real error texts), with faults injected per test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RouterClient } from './router-client.js';
import { firmwareForOverride } from './firmware/families.js';
import { createIptablesState, runIptables, type IptablesState } from '../emulator/iptables.js';
import type { Session } from '../transport/session.js';
import { RouterError, UsageError } from '../errors.js';

const ARP = `IP address       HW type     Flags       HW address            Mask     Device
198.51.100.10    0x1         0x2         02:00:00:00:00:0a     *        br0
198.51.100.11    0x1         0x2         02:00:00:00:00:0b     *        br0
203.0.113.1      0x1         0x2         02:00:00:00:00:99     *        ppp0
`;
const LANHOSTS = `Bridge br0
   MAC Addr          IP Addr     Lease Time Remaining    Hostname
02:00:00:00:00:0a  198.51.100.10         86000             laptop;reboot
`;

class FakeRouter implements Session {
  readonly mode = 'cli' as const;
  readonly sent: string[] = [];
  state: IptablesState = createIptablesState('1.4.21');
  /** Returns a canned reply instead of running the command (fault injection). */
  fault: (command: string) => string | null = () => null;
  async exec(command: string): Promise<string> {
    this.sent.push(command);
    const injected = this.fault(command);
    if (injected !== null) return injected;
    if (command === 'arp show') return ARP;
    if (command === 'lanhosts show all') return LANHOSTS;
    if (command.startsWith('iptables ')) {
      const r = runIptables(this.state, command.split(' ').slice(1));
      return r.stdout + r.stderr;
    }
    return `telnetd:error:1.000:unrecognized command ${command}`;
  }
  async close() {}
}

const broadcom = () => firmwareForOverride('broadcom-cli');

test('setup applies the plan, verifies it, and a second setup sends nothing', async () => {
  const router = new FakeRouter();
  const client = new RouterClient(router, broadcom(), { wan: 'ppp0', isManaged: false });
  const outcome = await client.setup();
  assert.equal(outcome.failed, null);
  assert.equal(outcome.isVerified, true);
  assert.equal(outcome.applied.length, 10); // default split layout: 3 × -N, 2 dispatch rules, 2 × 2 host rules, the jump
  assert.ok(!router.sent.some((c) => c.includes('203.0.113.1')), 'the WAN peer gets no rule');
  assert.ok(!router.sent.some((c) => c.includes('reboot')), 'a hostname never reaches a command');
  router.sent.length = 0;
  const again = await client.setup();
  assert.deepEqual(again.applied, []);
  assert.ok(router.sent.every((c) => !/ -[ANIDX] /.test(c)), 'the second setup only reads');
});

test('a router without the comment match is set up untagged, and says so', async () => {
  const router = new FakeRouter();
  router.fault = (c) => (c.includes('--comment') ? "iptables v1.4.21: Couldn't load match `comment':No such file or directory\n\nTry `iptables -h' or 'iptables --help' for more information.\n" : null);
  const client = new RouterClient(router, broadcom(), { wan: 'ppp0', isManaged: false });
  const outcome = await client.setup();
  assert.equal(outcome.failed, null);
  assert.equal(outcome.isVerified, true);
  assert.ok(outcome.notes.some((n) => n.includes('comment match')));
  assert.equal(client.isTagging, false);
  const counters = (await client.readTraffic()).counters;
  assert.deepEqual([...counters.keys()].sort(), ['198.51.100.10', '198.51.100.11']);
});

test('a refusal stops at once and reports what is in place (never a jump without its chain)', async () => {
  const router = new FakeRouter();
  router.fault = (c) => (c.startsWith('iptables -A TRAFFIC_UP -s 198.51.100.11') ? 'iptables: Permission denied (you must be root).\n' : null);
  const client = new RouterClient(router, broadcom(), { wan: 'ppp0', isManaged: false });
  const outcome = await client.setup();
  assert.equal(outcome.failed?.problem?.kind, 'permission-denied');
  assert.ok(!outcome.applied.some((c) => c.includes('FORWARD')), 'the jump is sent last, so it was never sent');
  assert.ok(outcome.notes.some((n) => n.includes('not in place: the FORWARD jump')));
});

test('a TRAFFIC chain someone else wrote is not taken over without --adopt', async () => {
  const router = new FakeRouter();
  runIptables(router.state, ['-N', 'TRAFFIC']);
  runIptables(router.state, ['-A', 'TRAFFIC', '-p', 'tcp', '-j', 'DROP']);
  const client = new RouterClient(router, broadcom(), { wan: 'ppp0', isManaged: false });
  await assert.rejects(client.setup(), UsageError);
  const adopted = await client.setup({ isAdopting: true });
  assert.equal(adopted.failed, null);
});

test('sync repairs a dropped chain only when lantop manages the router', async () => {
  for (const isManaged of [true, false]) {
    const router = new FakeRouter();
    const client = new RouterClient(router, broadcom(), { wan: 'ppp0', isManaged });
    await client.setup();
    router.state = createIptablesState('1.4.21'); // the firmware rebuilt its firewall
    const reading = await client.readTraffic();
    assert.equal(reading.hasChain, false);
    const hosts = await client.discover();
    const outcome = await client.sync(hosts, reading);
    const after = await client.readTraffic();
    assert.equal(after.hasChain && after.hasJump, isManaged);
    assert.equal(outcome.isChainRecreated, isManaged);
    if (isManaged) assert.deepEqual(outcome.newRuleIps.sort(), ['198.51.100.10', '198.51.100.11']);
  }
});

test('the layout on the router is kept unless another is asked for', async () => {
  const router = new FakeRouter();
  await new RouterClient(router, broadcom(), { wan: 'ppp0', isManaged: true, layout: 'split' }).setup();
  const plain = new RouterClient(router, broadcom(), { wan: 'ppp0', isManaged: true });
  const listing = await plain.readListing();
  assert.equal(plain.layoutFor(listing), 'split');
  assert.deepEqual(plain.planSetupFrom(listing, ['198.51.100.10', '198.51.100.11']).commands, []);
  const counters = (await plain.readTraffic()).counters;
  assert.equal(counters.size, 2);
});

test('odd output instead of a listing is a RouterError that shows what was seen (sanitised)', async () => {
  const router = new FakeRouter();
  router.fault = (c) => (c.startsWith('iptables -L') ? 'Segmentation fault \u001b[31m(core dumped)\n' : null);
  const client = new RouterClient(router, broadcom(), { wan: 'ppp0', isManaged: false });
  await assert.rejects(client.readTraffic(), (e: unknown) => e instanceof RouterError && (e.seen ?? '').includes('Segmentation fault') && !(e.seen ?? '').includes('\u001b'));
});

test('an nftables-only router is refused with what was detected', () => {
  assert.throws(() => new RouterClient(new FakeRouter(), firmwareForOverride('openwrt-fw4'), { wan: 'ppp0', isManaged: false }), (e: unknown) => e instanceof RouterError && /nftables/.test(e.message));
});

// Issue 13: a wrong --firmware, and a stored profile that stopped fitting.
import { ScriptedSession } from '../../test/fakes/scripted-session.js';
import { readFixture } from '../../test/fixtures.js';
import { EXIT } from '../errors.js';
import type { FirmwareProfile } from './firmware/families.js';

test('--firmware broadcom-cli on a BusyBox shell: exit 5 with the command and the router\'s words, never "0 hosts"', async () => {
  // The login lands in a shell: `arp show` runs there, as the old code sent it (real BusyBox answers).
  const session = new ScriptedSession([{ command: 'arp show', output: readFixture('busybox/1.35.0/busybox-arp-show-wrong-cli.txt') }], { mode: 'shell' });
  const client = new RouterClient(session, firmwareForOverride('broadcom-cli'), { wan: 'ppp0', isManaged: false });
  await assert.rejects(client.listHosts(), (e: unknown) => {
    assert.ok(e instanceof RouterError);
    assert.equal(e.exitCode, EXIT.router);
    assert.match(e.message, /`arp show` in the CLI answered "arp: show: Host name lookup failure"/);
    assert.match(e.nextStep ?? '', /Leave --firmware out|lantop doctor/);
    return true;
  });
  session.assertDone();
  const names = new ScriptedSession([
    { command: 'arp show', output: ARP },
    { command: 'lanhosts show all', output: readFixture('busybox/1.35.0/busybox-sh-lanhosts-not-found.txt') },
  ], { mode: 'shell' });
  const client2 = new RouterClient(names, firmwareForOverride('broadcom-cli'), { wan: 'ppp0', isManaged: false });
  await assert.rejects(client2.listHosts(), /`lanhosts show all` in the CLI answered "sh: lanhosts: not found"/);
  names.assertDone();
});

test('a stored profile that stops fitting is probed again once, and the loader retried with the new one', async () => {
  const stored: FirmwareProfile = { ...firmwareForOverride('broadcom-cli'), source: 'stored' };
  const fresh: FirmwareProfile = { ...firmwareForOverride('busybox'), source: 'probed' };
  let probes = 0;
  const session = new ScriptedSession([
    { command: 'arp show', output: 'telnetd:error:12.000:processInput:406:unrecognized command arp show' },
    { command: 'cat /proc/net/arp', output: ARP },
    { command: 'cat /tmp/dhcp.leases', output: '' },
  ], { mode: 'cli' });
  const client = new RouterClient(session, stored, { wan: 'ppp0', isManaged: false, redetect: async () => { probes += 1; return fresh; } });
  const hosts = await client.listHosts();
  assert.deepEqual(hosts.map((h) => h.ip), ['198.51.100.10', '198.51.100.11']);
  assert.equal(probes, 1);
  assert.equal(client.firmware, fresh);
  session.assertDone();
});

test('a probed profile is never second-guessed: an error text stays an error', async () => {
  const probed: FirmwareProfile = { ...firmwareForOverride('broadcom-cli'), source: 'probed' };
  const session = new ScriptedSession([{ command: 'arp show', output: 'telnetd:error:12.000:processInput:406:unrecognized command arp show' }], { mode: 'cli' });
  const client = new RouterClient(session, probed, { wan: 'ppp0', isManaged: false, redetect: async () => assert.fail('no re-probe for a fresh profile') });
  await assert.rejects(client.listHosts(), (e: unknown) => e instanceof RouterError && /unrecognized command arp show/.test(e.message));
});
