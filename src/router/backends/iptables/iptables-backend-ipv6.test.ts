// The iptables backend with ip6tables beside it (issue 15), through the seam RouterClient uses, on
// real captures: the dual-stack read of fixtures/iptables/1.8.9-*/dual-stack-read*.txt, ip6tables'
// published "can't initialize" answers, and plans for dual-stack hosts. The same against the real
// tools, with traffic: apply/apply-dual-stack-netns.test.ts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { firmwareForOverride, type FirmwareProfile } from '../../firmware/families.js';
import { IptablesBackend, type IptablesReading } from './iptables-backend.js';
import { IPV6_MARKER } from './dual-stack-read.js';
import { readFixture } from '../../../../test/fixtures.js';

const busybox = (): FirmwareProfile => firmwareForOverride('busybox');
const backendOf = (firmware: FirmwareProfile = busybox(), layout?: 'flat' | 'split' | 'tree') => new IptablesBackend(firmware, { wan: 'ppp0', ...(layout ? { layout } : {}) });
/** A router with lantop's rules in neither family (real empty ip6tables 1.8.9 listing, both parts). */
const BARE = readFixture('iptables/1.8.9-legacy/ip6tables-L-v-x-n.txt');
const bareRead = () => `${BARE}${IPV6_MARKER}\n${BARE}`;
const V4_HOSTS = ['198.51.100.10', '198.51.100.11'];
const V6_HOSTS = ['2001:db8:1::10', '2001:db8:1::11', '2001:db8:1:0:2c62:61ec:1fad:a4ff'];

describe('the dual-stack read', () => {
  test('both tools in the shell: one line, iptables, the marker, ip6tables with its errors; no second command', () => {
    const backend = backendOf();
    assert.deepEqual(backend.readCommand, { command: 'iptables -L -v -x -n --line-numbers;echo "__LT""IP6__";ip6tables -L -v -x -n --line-numbers 2>&1', where: 'shell' });
    assert.equal(backend.readFollowUp, null);
    assert.match(backend.describe(), /, IPv6 hosts in ip6tables \(ip6tables in the shell\) alike$/);
  });

  test('no ip6tables in the firmware table: exactly the IPv4 read', () => {
    const broadcom = backendOf(firmwareForOverride('broadcom-cli'));
    assert.deepEqual(broadcom.readCommand, { command: 'iptables -L -v -x -n --line-numbers', where: 'cli' });
    assert.equal(broadcom.readFollowUp, null);
    const firmware = busybox();
    firmware.commands.ip6tables = null;
    const plain = backendOf(firmware);
    assert.deepEqual(plain.readCommand, { command: 'iptables -L -v -x -n --line-numbers', where: 'shell' });
    const reading = plain.read(readFixture('iptables/1.8.9-legacy/dual-stack-read.txt').split(`${IPV6_MARKER}\n`)[0]!);
    assert.equal(reading.listing6, null);
    assert.deepEqual(reading.notes, []);
    assert.doesNotMatch(plain.describe(), /ip6tables/);
  });

  test('iptables in a vendor CLI: the ip6tables listing is a second command of the read, where ip6tables runs', () => {
    const cli = firmwareForOverride('broadcom-cli');
    cli.commands.ip6tables = { binary: 'ip6tables', command: 'ip6tables', where: 'cli' };
    assert.deepEqual(backendOf(cli).readCommand, { command: 'iptables -L -v -x -n --line-numbers', where: 'cli' });
    assert.deepEqual(backendOf(cli).readFollowUp, { command: { command: 'ip6tables -L -v -x -n --line-numbers', where: 'cli' }, separator: IPV6_MARKER });
    cli.commands.ip6tables = { binary: 'ip6tables', command: 'ip6tables', where: 'shell' };
    assert.deepEqual(backendOf(cli).readFollowUp, { command: { command: 'ip6tables -L -v -x -n --line-numbers 2>&1', where: 'shell' }, separator: IPV6_MARKER });
  });

  for (const backend of ['legacy', 'nft'] as const) {
    test(`${backend}: the captured read gives every host's counters in both families, keyed by canonical address`, () => {
      const text = readFixture(`iptables/1.8.9-${backend}/dual-stack-read.txt`);
      const reading = backendOf().read(text);
      assert.deepEqual(reading.notes, []);
      assert.equal(reading.installation, 'complete');
      const v6 = [...reading.counters.keys()].filter((a) => a.includes(':'));
      // Four host rules per direction in TRAFFIC_DOWN/UP: the stable and the temporary addresses.
      assert.equal(v6.length, 4);
      assert.ok(v6.includes('2001:db8:1::10') && v6.includes('2001:db8:1::11'));
      for (const address of v6) assert.ok(reading.counters.get(address)!.downBytes > 0 && reading.counters.get(address)!.upBytes > 0, address);
      assert.deepEqual(reading.counters.get('198.51.100.10'), { downBytes: 2056, upBytes: 2056 });
      // The same numbers whether the lines came in blocks while arriving or all at once.
      const incremental = backendOf().readIncrementally();
      const lines = `${text}\n`.split(/(?<=\n)/);
      for (let i = 0; i < lines.length; i += 3) incremental.push(lines.slice(i, i + 3).join(''));
      assert.deepEqual(incremental.finish(text), reading);
    });

    test(`${backend}: a router whose shell has no ip6tables: IPv4 counted, IPv6 off with the router's words`, () => {
      const reading = backendOf().read(readFixture(`iptables/1.8.9-${backend}/dual-stack-read-no-ip6tables.txt`));
      assert.equal(reading.listing6, null);
      assert.deepEqual([...reading.counters.keys()].sort(), V4_HOSTS);
      assert.equal(reading.installation, 'complete');
      assert.deepEqual(reading.notes, ['IPv6 is not counted: `ip6tables -L -v -x -n --line-numbers` answered "sh: ip6tables: not found"; IPv4 is counted as before']);
    });
  }

  test("ip6tables that cannot initialize its table (no module; IPv6 disabled): IPv6 off with a note, IPv4 counted", () => {
    const v4 = readFixture('iptables/1.8.9-legacy/dual-stack-read.txt').split(`${IPV6_MARKER}\n`)[0]!;
    for (const [file, words] of [['ip6tables-no-filter-table-tailscale-3995.txt', "modprobe: can't change directory"], ['ip6tables-ipv6-disabled-bosh-40.txt', "can't initialize ip6tables table `filter': Address family not supported"]] as const) {
      const reading = backendOf().read(`${v4}${IPV6_MARKER}\n${readFixture(`iptables/published/${file}`)}`);
      assert.equal(reading.listing6, null);
      assert.equal(reading.counters.size, 2);
      assert.equal(reading.notes.length, 1);
      assert.ok(reading.notes[0]!.includes(words), reading.notes[0]);
      assert.deepEqual(backendOf().describeInstallation(reading).slice(-1), reading.notes);
    }
    // No marker at all (a shell that ran only the first command): IPv4 read, IPv6 off.
    const noMarker = backendOf().read(v4);
    assert.equal(noMarker.counters.size, 2);
    assert.match(noMarker.notes[0]!, /IPv6 is not counted: .* answered no answer lantop could tell apart/);
  });

  test('a first part that is not a listing is the same RouterError as without IPv6', () => {
    assert.throws(() => backendOf().read(`iptables: Permission denied (you must be root).\n${IPV6_MARKER}\n${BARE}`), /could not list its firewall/);
  });
});

describe('plans for dual-stack hosts', () => {
  const hosts = [...V6_HOSTS, ...V4_HOSTS, 'fe80::ff:fe00:10', 'ff02::1', '::ffff:198.51.100.10', 'junk'];
  const opts = { isAdopting: false, isPruning: false };

  for (const layout of ['flat', 'split', 'tree'] as const) {
    test(`${layout}: iptables for IPv4 only, ip6tables for IPv6 only, same chains and tags, each family's jump after its chains`, () => {
      const backend = backendOf(busybox(), layout);
      const plan = backend.planInstall(backend.read(bareRead()), hosts, opts);
      const v4 = plan.commands.filter((c) => c.startsWith('iptables '));
      const v6 = plan.commands.filter((c) => c.startsWith('ip6tables '));
      assert.equal(v4.length + v6.length, plan.commands.length);
      assert.deepEqual(plan.commands, [...v4, ...v6], 'IPv4 first, then IPv6');
      for (const c of v4) assert.doesNotMatch(c, /[0-9a-f]*:[0-9a-f:]*:/, c);
      for (const c of v6) assert.doesNotMatch(c, /\b198\.51\.100\./, c);
      // The same commands but for the addresses (the tree's groups and sub-chains follow the addresses).
      const shape = (c: string) => c.replace(/^ip6?tables /, '').replace(/ -([sd]) \S+/g, ' -$1 X').replace(/TRAFFIC_(DOWN|UP)_\d+/g, 'TRAFFIC_$1_k');
      assert.deepEqual(new Set(v6.map(shape)), new Set(v4.map(shape)));
      for (const address of V6_HOSTS) assert.ok(v6.some((c) => c.split(' ').includes(address)), address);
      // Each family: its host chains, their FORWARD jump, then the router's own counters (issue 19), jumps last.
      for (const [tool, commands] of [['iptables', v4], ['ip6tables', v6]] as const) {
        assert.equal(commands.at(-7), `${tool} -I FORWARD 1 -j TRAFFIC`);
        assert.deepEqual(commands.slice(-6), [
          `${tool} -N TRAFFIC_IN`, `${tool} -N TRAFFIC_OUT`,
          `${tool} -A TRAFFIC_IN -i ppp0 -m comment --comment lantop`, `${tool} -A TRAFFIC_OUT -o ppp0 -m comment --comment lantop`,
          `${tool} -I INPUT 1 -j TRAFFIC_IN`, `${tool} -I OUTPUT 1 -j TRAFFIC_OUT`,
        ]);
      }
      assert.ok(v6.every((c) => !/ -[AI] /.test(c) || c.includes('-m comment --comment lantop') || /^ip6tables -I (FORWARD|INPUT|OUTPUT) 1 -j /.test(c)));
      assert.deepEqual(plan.rejectedHosts.sort(), ['::ffff:198.51.100.10', 'fe80::ff:fe00:10', 'ff02::1', 'junk'].sort());
      assert.deepEqual(backend.countedBy(plan.commands, hosts), [...V6_HOSTS, ...V4_HOSTS]);
    });
  }

  test('tree: IPv6 groups are /68s of the /64 (random interface identifiers spread over the 16 sub-chains)', () => {
    const backend = backendOf(busybox(), 'tree');
    const plan = backend.planInstall(backend.read(bareRead()), V6_HOSTS, opts);
    const groups = plan.commands.filter((c) => c.startsWith('ip6tables -A TRAFFIC_DOWN -d '));
    assert.deepEqual(groups, [
      'ip6tables -A TRAFFIC_DOWN -d 2001:db8:1::/68 -m comment --comment lantop -j TRAFFIC_DOWN_0',
      'ip6tables -A TRAFFIC_DOWN -d 2001:db8:1:0:2000::/68 -m comment --comment lantop -j TRAFFIC_DOWN_2',
    ]);
  });

  test('the captured set-up: its host rules are kept; the flat pair and the group rule of other layouts are removed; the router counters added', () => {
    const backend = backendOf();
    const reading = backend.read(readFixture('iptables/1.8.9-legacy/dual-stack-read.txt'));
    // Captured before issue 19: hosts complete, the router's own counters not there yet.
    assert.equal(reading.routerCounters, null);
    const known = [...reading.counters.keys()];
    const plan = backend.planInstall(reading, known, opts);
    assert.deepEqual(plan.foreign, []);
    const router = (tool: string) => [
      `${tool} -N TRAFFIC_IN`, `${tool} -N TRAFFIC_OUT`,
      `${tool} -A TRAFFIC_IN -i ppp0 -m comment --comment lantop`, `${tool} -A TRAFFIC_OUT -o ppp0 -m comment --comment lantop`,
      `${tool} -I INPUT 1 -j TRAFFIC_IN`, `${tool} -I OUTPUT 1 -j TRAFFIC_OUT`,
    ];
    assert.deepEqual(plan.commands, [...router('iptables'), 'ip6tables -D TRAFFIC 4', 'ip6tables -D TRAFFIC 3', 'ip6tables -D TRAFFIC_DOWN 5', 'ip6tables -F TRAFFIC_DOWN_0', 'ip6tables -X TRAFFIC_DOWN_0', ...router('ip6tables')]);
    assert.ok(plan.notes.filter((n) => !/router's own WAN traffic/.test(n)).every((n) => n.startsWith('IPv6: ')), plan.notes.join('; '));
  });

  test('flush and remove cover both families; installation and fresh install need both', () => {
    const backend = backendOf();
    const reading = backend.read(readFixture('iptables/1.8.9-nft/dual-stack-read.txt'));
    assert.deepEqual(backend.planFlush(reading), ['iptables -F TRAFFIC', 'iptables -F TRAFFIC_DOWN', 'iptables -F TRAFFIC_UP', 'ip6tables -F TRAFFIC', 'ip6tables -F TRAFFIC_DOWN', 'ip6tables -F TRAFFIC_UP', 'ip6tables -F TRAFFIC_DOWN_0']);
    assert.deepEqual(backend.planRemove(reading).filter((c) => c.includes('FORWARD')), ['iptables -D FORWARD 1', 'ip6tables -D FORWARD 1']);
    assert.equal(backend.planRemove(reading).filter((c) => c.startsWith('ip6tables -X')).length, 4);
    const bare = backend.read(bareRead());
    assert.equal(bare.installation, 'missing');
    assert.equal(backend.isFreshInstall(bare, ['iptables -N TRAFFIC']), false, 'IPv6 not created yet');
    assert.equal(backend.isFreshInstall(bare, ['iptables -N TRAFFIC', 'ip6tables -N TRAFFIC']), true);
    // IPv4 set up, IPv6 not (an upgrade to a dual-stack lantop, or a firmware that rebuilt ip6tables only).
    const half = backend.read(`${readFixture('iptables/1.8.9-nft/dual-stack-read.txt').split(`${IPV6_MARKER}\n`)[0]}${IPV6_MARKER}\n${BARE}`);
    assert.equal(half.installation, 'incomplete');
    assert.equal(half.isRouterCounterMissing, false, 'incomplete: sync plans anyway');
    const noRouter = "not in place: the router's own WAN counters (TRAFFIC_IN absent, TRAFFIC_OUT absent; hosts are counted without them, the next sync adds them)";
    assert.deepEqual(backend.describeInstallation(half), [
      'in place: the TRAFFIC chain with 2 rule(s)', 'in place: the FORWARD jump', noRouter,
      'IPv6 (ip6tables): not in place: the TRAFFIC chain', 'IPv6 (ip6tables): not in place: the FORWARD jump (nothing is counted, and forwarding is untouched)', `IPv6 (ip6tables): ${noRouter}`,
    ]);
    const repair = backend.planInstall(half, [...V4_HOSTS, ...V6_HOSTS], opts);
    // IPv4's hosts are in place: only its router counters (issue 19) are added there.
    assert.ok(repair.commands.length > 0 && repair.commands.every((c) => c.startsWith('ip6tables ') || /^iptables (-N|-A|-I (INPUT|OUTPUT) 1 -j) TRAFFIC_(IN|OUT)\b/.test(c)), repair.commands.join('\n'));
    assert.equal(repair.commands.filter((c) => c.startsWith('iptables ')).length, 6);
    assert.equal(backend.isFreshInstall(half, repair.commands), false);
  });
});

describe('apply: each family in its own batch, with its own tool', () => {
  /** A shell that runs nothing and answers each restore line with success (the nonce is read back). */
  function answeringShell(): { sent: string[]; run: (spec: { command: string }) => Promise<string> } {
    const sent: string[] = [];
    return {
      sent,
      run: async ({ command }) => {
        sent.push(command);
        const nonce = /__LT""ST_([0-9a-f]{12})_/.exec(command)?.[1];
        return nonce === undefined ? '' : command.includes('_r$?') ? `__LTST_${nonce}_r0__` : `__LTST_${nonce}_a${command.split('&&_L=').length - 1}__`;
      },
    };
  }

  test('iptables-restore for IPv4, ip6tables-restore for IPv6; IPv4 first; notes say which is which', async () => {
    const firmware = busybox();
    firmware.commands.iptablesRestore = { command: 'iptables-restore', where: 'shell' };
    firmware.commands.ip6tablesRestore = { command: 'ip6tables-restore', where: 'shell' };
    const backend = backendOf(firmware);
    const plan = backend.planInstall(backend.read(bareRead()), [...V4_HOSTS, ...V6_HOSTS], { isAdopting: false, isPruning: false });
    const shell = answeringShell();
    const outcome = await backend.apply(shell.run, plan.commands);
    assert.equal(outcome.failed, null);
    assert.deepEqual(outcome.applied, plan.commands);
    // Each family's script in as many lines as the line budget needs, the last one piped into its tool.
    const restore4 = shell.sent.findIndex((l) => l.includes('|iptables-restore --noflush'));
    const restore6 = shell.sent.findIndex((l) => l.includes('|ip6tables-restore --noflush'));
    assert.ok(restore4 >= 0 && restore6 === shell.sent.length - 1 && restore4 < restore6, shell.sent.join('\n'));
    assert.equal(shell.sent.filter((l) => /-restore --noflush/.test(l)).length, 2);
    for (const line of shell.sent.slice(0, restore4 + 1)) assert.doesNotMatch(line, /2001:db8|ip6tables/);
    for (const line of shell.sent.slice(restore4 + 1)) assert.doesNotMatch(line, /198\.51\.100/);
    assert.match(outcome.notes.at(-1)!, /^IPv6: applied \d+ commands in one ip6tables-restore transaction/);
  });

  test('no ip6tables-restore: the IPv6 plan goes in && shell lines of ip6tables commands', async () => {
    const backend = backendOf();
    const plan = backend.planInstall(backend.read(bareRead()), V6_HOSTS, { isAdopting: false, isPruning: false });
    const shell = answeringShell();
    const outcome = await backend.apply(shell.run, plan.commands);
    assert.equal(outcome.failed, null);
    const sixes = shell.sent.filter((line) => line.includes('ip6tables'));
    assert.ok(sixes.length > 0 && sixes.every((line) => line.startsWith('_L=0;ip6tables ') && !/(^|&&|;)iptables /.test(line)), shell.sent.join('\n'));
    assert.equal(shell.sent.at(-1), sixes.at(-1));
  });
});

test('IptablesReading keeps the IPv4 listing where it always was', () => {
  const reading: IptablesReading = backendOf().read(readFixture('iptables/1.8.9-legacy/dual-stack-read.txt'));
  assert.ok(reading.listing.chains.some((c) => c.name === 'TRAFFIC_DOWN' && c.rules.every((r) => r.destination.startsWith('198.51.100.'))));
  assert.ok(reading.listing6!.chains.some((c) => c.name === 'TRAFFIC_DOWN' && c.rules.every((r) => r.destination.startsWith('2001:db8:1:'))));
});
