// RouterClient on dual-stack routers (issue 15), against scripted sessions answered with real
// captures: discovery reads the IPv6 neighbour table beside ARP, a poll reads both families'
// counters in one round trip (two where iptables runs in a vendor CLI), and sync adds ip6tables
// rules for a host's new (temporary) address.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RouterClient } from './router-client.js';
import { firmwareForOverride, type FirmwareProfile } from './firmware/families.js';
import { IPV6_MARKER } from './backends/iptables/dual-stack-read.js';
import { ScriptedSession } from '../../test/fakes/scripted-session.js';
import { readFixture } from '../../test/fixtures.js';

const ARP = readFixture('generic-linux/debian-12/proc-net-arp-dual-stack.txt');
const NEIGH6 = readFixture('busybox/1.35.0/busybox-ip-6-neigh.txt');
const LEASES = readFixture('dnsmasq/2.90/dhcp.leases');
const DUAL_READ = readFixture('iptables/1.8.9-legacy/dual-stack-read.txt');
const [READ4, READ6] = DUAL_READ.split(`${IPV6_MARKER}\n`) as [string, string];
const DUAL_COMMAND = 'iptables -L -v -x -n --line-numbers;echo "__LT""IP6__";ip6tables -L -v -x -n --line-numbers 2>&1';
const busybox = (): FirmwareProfile => ({ ...firmwareForOverride('busybox'), source: 'probed' });
const client = (session: ScriptedSession, firmware = busybox(), isManaged = false) => new RouterClient(session, firmware, { wan: 'ppp0', isManaged });

test('discovery: ARP, then the IPv6 table in the same shell, then leases; one device per MAC with every address', async () => {
  const session = new ScriptedSession([
    { command: 'cat /proc/net/arp', output: ARP },
    { command: 'ip -6 neigh show', output: NEIGH6 },
    { command: 'cat /tmp/dhcp.leases', output: LEASES },
  ]);
  const c = client(session);
  const hosts = await c.listHosts();
  session.assertDone();
  const laptop = hosts.filter((h) => h.mac === '02:00:00:00:00:10');
  assert.equal(laptop.length, 3, 'IPv4, stable IPv6, temporary IPv6');
  assert.ok(laptop.every((h) => h.hostname === 'laptop-h1' && h.addresses.length === 3 && h.addresses[0] === '198.51.100.10'));
  assert.ok(laptop.some((h) => h.ip === '2001:db8:1::10'));
  assert.ok(!hosts.some((h) => h.ip.startsWith('fe80:') || h.ip === '2001:db8:1::99' || h.iface === 'ppp0'));
  assert.deepEqual(c.discoveryNotes, []);
});

test('discovery: an `ip` that is not there means no IPv6 neighbours and a note, never a failure nor a re-probe', async () => {
  const stored: FirmwareProfile = { ...busybox(), source: 'stored' };
  const session = new ScriptedSession([
    { command: 'cat /proc/net/arp', output: ARP },
    { command: 'ip -6 neigh show', output: readFixture('generic-linux/debian-12/sh-ip-not-found.txt') },
    { command: 'cat /tmp/dhcp.leases', output: LEASES },
  ]);
  const c = new RouterClient(session, stored, { wan: 'ppp0', isManaged: false, redetect: async () => assert.fail('an optional command answering "not found" is no misfit') });
  const hosts = await c.listHosts();
  session.assertDone();
  assert.deepEqual(hosts.map((h) => h.ip), ['198.51.100.10', '198.51.100.11']);
  assert.deepEqual(c.discoveryNotes, ['no IPv6 neighbours: `ip -6 neigh show` answered "sh: 1: ip: not found"']);
});

test('discovery in a vendor CLI: the IPv6 table (shell) after the CLI commands, not between them', async () => {
  const firmware = firmwareForOverride('broadcom-cli');
  firmware.commands.listNeighbours6 = { command: 'ip -6 neigh show', where: 'shell' };
  const session = new ScriptedSession([
    { command: 'arp show', output: readFixture('broadcom-cli/cms-cli-lanhosts/arp-show.txt') },
    { command: 'lanhosts show all', output: readFixture('broadcom-cli/cms-cli-lanhosts/lanhosts-show-all.txt') },
    { command: 'ip -6 neigh show', output: NEIGH6 },
  ], { mode: 'cli' });
  const hosts = await client(session, firmware).listHosts();
  session.assertDone();
  assert.deepEqual(session.sentOptions.map((o) => o?.where), ['cli', 'cli', 'shell']);
  assert.ok(hosts.some((h) => h.ip === '2001:db8:1::10' && h.hostname === 'laptop-h1'), 'named by its MAC from lanhosts');
});

test('a poll: both families in one round trip, every counter keyed by canonical address', async () => {
  const session = new ScriptedSession([{ command: DUAL_COMMAND, output: DUAL_READ }]);
  const reading = await client(session).readTraffic();
  session.assertDone();
  assert.equal(reading.installation, 'complete');
  assert.equal([...reading.counters.keys()].filter((a) => a.includes(':')).length, 4);
  assert.deepEqual(reading.counters.get('198.51.100.11'), { downBytes: 2056, upBytes: 2056 });
});

test('iptables in the vendor CLI with ip6tables: two commands in one read, joined as the shell line prints them', async () => {
  const firmware = firmwareForOverride('broadcom-cli');
  firmware.commands.ip6tables = { binary: 'ip6tables', command: 'ip6tables', where: 'cli' };
  const session = new ScriptedSession([
    { command: 'iptables -L -v -x -n --line-numbers', output: READ4.replace(/\n$/, '') },
    { command: 'ip6tables -L -v -x -n --line-numbers', output: READ6 },
  ], { mode: 'cli' });
  const viaCli = await client(session, firmware).readTraffic();
  session.assertDone();
  const viaShell = await client(new ScriptedSession([{ command: DUAL_COMMAND, output: DUAL_READ }])).readTraffic();
  assert.deepEqual(viaCli.counters, viaShell.counters);
  assert.equal(viaCli.installation, 'complete');
});

test('listCountedHosts marks IPv6 addresses counted by ip6tables', async () => {
  const session = new ScriptedSession([
    { command: 'cat /proc/net/arp', output: ARP },
    { command: 'ip -6 neigh show', output: NEIGH6 },
    { command: 'cat /tmp/dhcp.leases', output: LEASES },
    { command: DUAL_COMMAND, output: DUAL_READ },
  ]);
  const rows = await client(session).listCountedHosts();
  session.assertDone();
  // One run of the capture script: the rules were written for the addresses the table showed.
  assert.equal(rows.length, 6);
  assert.ok(rows.every((r) => r.isCounted), JSON.stringify(rows.filter((r) => !r.isCounted)));
});

test('sync: a new temporary address gets its ip6tables rules (and only those); the rest stays', async () => {
  const lines: string[] = [];
  // The router's shell: a `&&` line answered with the count of its commands (each one succeeded).
  const batch = (command: string) => {
    lines.push(command);
    const nonce = /__LT""ST_([0-9a-f]{12})_a/.exec(command)![1];
    return `__LTST_${nonce}_a${command.split('&&_L=').length - 1}__`;
  };
  const session = new ScriptedSession([
    { command: DUAL_COMMAND, output: DUAL_READ },
    // The captured router predates the router's own counters (issue 19): the same sync adds them, once.
    { command: (command: string) => command.startsWith('_L=0;iptables -N TRAFFIC_IN'), reply: batch },
    {
      command: (command: string) => command.startsWith('_L=0;ip6tables '),
      reply: batch,
    },
    // The rest of the IPv6 batch: the router's counters of that family do not fit the same line.
    { command: (command: string) => command.startsWith('_L=0;ip6tables '), reply: batch },
  ]);
  const c = client(session, busybox(), true);
  const reading = await c.readTraffic();
  const known = [...reading.counters.keys()].map((ip) => ({ ip, mac: '02:00:00:00:00:10', hostname: null }));
  const fresh = { ip: '2001:db8:1:0:aaaa:bbbb:cccc:dddd', mac: '02:00:00:00:00:10', hostname: null };
  const outcome = await c.sync([...known, fresh], reading);
  session.assertDone();
  assert.deepEqual(outcome.newAddresses, [fresh.ip]);
  assert.equal(outcome.isReinstalled, false);
  assert.equal(lines.length, 3);
  const v6 = lines.slice(1).join('\n');
  // IPv4: only the router's own counters, nothing of the hosts.
  assert.deepEqual(lines[0]!.split('&&').map((part) => part.replace(/^_L=\d+;/, '')).filter((part) => part.startsWith('iptables ')).map((part) => part.split(' ').slice(1, 3).join(' ')), ['-N TRAFFIC_IN', '-N TRAFFIC_OUT', '-A TRAFFIC_IN', '-A TRAFFIC_OUT', '-I INPUT', '-I OUTPUT']);
  // The captured router also has a flat pair and a group rule of other layouts: sync removes them (its plan) and adds the two host rules.
  assert.match(v6, /ip6tables -A TRAFFIC_DOWN -d 2001:db8:1:0:aaaa:bbbb:cccc:dddd -m comment --comment lantop -j RETURN/);
  assert.match(v6, /ip6tables -A TRAFFIC_UP -s 2001:db8:1:0:aaaa:bbbb:cccc:dddd -m comment --comment lantop -j RETURN/);
  assert.match(v6, /ip6tables -N TRAFFIC_IN/);
  assert.doesNotMatch(v6, /(^|;|&&)iptables /);
});
