// Traffic classes in the iptables backend (issue 19): TRAFFIC_CLASS planned, read, kept by sync,
// changed, removed, flushed and torn down — against the real dual-stack reads captured by
// classes-netns.test.ts (fixtures/iptables/1.8.9-*/classes-*.txt, SOURCE.md) and the earlier captures
// without classes, plus hand-made listings for the placement of the jump.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFixture } from '../../../../test/fixtures.js';
import { parseClassList } from '../../../domain/traffic-class.js';
import { firmwareForOverride, type FirmwareProfile } from '../../firmware/families.js';
import { parseIptablesListing } from '../../parsers/iptables-listing.js';
import type { Chain, IptablesListing, Rule } from '../../parsers/types.js';
import { classRuleOf, installedClasses, planClassCounters, readClassCounters } from './class-chain.js';
import { IptablesBackend } from './iptables-backend.js';
import { planFlush, planSetup, planTeardown } from './plan.js';

const HOSTS = ['198.51.100.10', '2001:db8:1::10'];
const OPTS = { isAdopting: false, isPruning: false };
const CLASSES = parseClassList('tcp/8443', 'icmp,icmpv6');

function dualStack(kind: 'legacy' | 'nft', hasCommentMatch = true): FirmwareProfile {
  const profile = firmwareForOverride('busybox');
  const tool = (name: string) => ({ binary: `${name}-${kind}`, command: `${name}-${kind}`, where: 'shell' as const });
  profile.commands.iptables = tool('iptables');
  profile.commands.ip6tables = tool('ip6tables');
  profile.capabilities = { ...profile.capabilities, hasCommentMatch };
  return profile;
}

function rule(partial: Partial<Rule>): Rule {
  return { num: null, pkts: 0, bytes: 0, isExact: true, target: null, prot: 'all', opt: '--', in: '*', out: '*', source: '0.0.0.0/0', destination: '0.0.0.0/0', extra: '', comment: null, ...partial };
}
function chain(name: string, rules: Rule[], policy: string | null = null): Chain {
  return { name, policy, references: policy === null ? 1 : null, rules };
}
function listing(...chains: Chain[]): IptablesListing {
  return { chains, warnings: [], errors: [] };
}

describe('reading the classes back from real listings', () => {
  test('iptables-legacy 1.8.9, split layout: every class summed over both families, byte for byte what the listings say', () => {
    const backend = new IptablesBackend(dualStack('legacy'), { wan: 'ppp0' });
    const reading = backend.read(readFixture('iptables/1.8.9-legacy/classes-dual-stack-read.txt'));
    assert.equal(reading.installation, 'complete');
    assert.deepEqual(reading.installedClasses, CLASSES);
    // tcp spt:8443 401204 (IPv4) + 20728 (IPv6); dpt:8443 151256 + 70872; icmp in iptables only, ipv6-icmp in ip6tables only.
    assert.deepEqual(reading.classCounters, new Map([
      ['tcp/8443', { downBytes: 401204 + 20728, upBytes: 151256 + 70872 }],
      ['icmp', { downBytes: 3084, upBytes: 3084 }],
      ['icmpv6', { downBytes: 1296, upBytes: 1296 }],
    ]));
    // The host counters are untouched by the classes: what TRAFFIC_DOWN/UP say.
    assert.deepEqual(reading.counters.get('198.51.100.10'), { downBytes: 404288, upBytes: 154340 });
  });

  test('iptables-nft 1.8.9, flat layout: the same shapes, read the same way', () => {
    const backend = new IptablesBackend(dualStack('nft'), { wan: 'ppp0' });
    const reading = backend.read(readFixture('iptables/1.8.9-nft/classes-dual-stack-read.txt'));
    assert.equal(reading.installation, 'complete');
    assert.deepEqual(reading.installedClasses, CLASSES);
    const text = readFixture('iptables/1.8.9-nft/classes-dual-stack-read.txt');
    const [v4, v6] = text.split('__LTIP6__\n').map((t) => parseIptablesListing(t));
    const bytes = (l: IptablesListing, n: number) => l.chains.find((c) => c.name === 'TRAFFIC_CLASS')!.rules[n]!.bytes;
    assert.deepEqual(reading.classCounters.get('tcp/8443'), { downBytes: bytes(v4!, 0) + bytes(v6!, 0), upBytes: bytes(v4!, 1) + bytes(v6!, 1) });
    assert.ok(reading.classCounters.get('tcp/8443')!.downBytes > 0);
    assert.deepEqual(reading.classCounters.get('icmp'), { downBytes: bytes(v4!, 2), upBytes: bytes(v4!, 3) });
    assert.deepEqual(reading.classCounters.get('icmpv6'), { downBytes: bytes(v6!, 2), upBytes: bytes(v6!, 3) });
  });

  test('every protocol lantop names, as 1.8.9 prints it (numbers, `sctp spt:N`), reads back as the classes set up', () => {
    const every = parseClassList('80,sctp/9899', 'tcp,udp,icmp,icmpv6,gre,esp,sctp');
    const backend = new IptablesBackend(dualStack('nft'), { wan: 'ppp0' });
    const reading = backend.read(readFixture('iptables/1.8.9-nft/classes-every-protocol-dual-stack-read.txt'));
    assert.deepEqual(reading.installedClasses, every);
    assert.deepEqual(installedClasses(reading.listing, 'ppp0', 4).map((c) => c.protocol).includes('icmpv6'), false);
    assert.deepEqual(installedClasses(reading.listing6!, 'ppp0', 6).map((c) => c.protocol).includes('icmp'), false);
    assert.deepEqual(backend.planInstall(reading, HOSTS, { ...OPTS, classes: every }).commands, []);
  });

  test('older iptables print protocol names: read the same', () => {
    const r = rule({ prot: 'tcp', in: 'ppp0', extra: 'tcp spt:443', comment: 'lantop' });
    assert.deepEqual(classRuleOf(r, 4), { class: { protocol: 'tcp', port: 443 }, direction: 'down', wan: 'ppp0', isTagged: true });
    assert.deepEqual(classRuleOf({ ...r, prot: 'ipv6-icmp', extra: '' }, 6)?.class, { protocol: 'icmpv6', port: null });
  });

  test('shapes lantop never writes are not classes', () => {
    const base = rule({ prot: '6', in: 'ppp0', extra: 'tcp spt:443', comment: 'lantop' });
    for (const odd of [
      { ...base, target: 'DROP' },
      { ...base, extra: 'tcp dpt:443' }, // a destination port on the way in
      { ...base, extra: 'tcp spt:443 flags:0x17/0x02' },
      { ...base, extra: 'tcp spts:1000:2000' },
      { ...base, extra: 'udp spt:443' },
      { ...base, prot: '!6' },
      { ...base, source: '203.0.113.1' },
      { ...base, out: 'eth0' },
      { ...base, in: '*' },
      { ...base, prot: '58' }, // ipv6-icmp in an IPv4 listing
    ]) assert.equal(classRuleOf(odd, 4), null, JSON.stringify(odd));
    assert.equal(classRuleOf({ ...base, prot: '1', extra: '' }, 6), null, 'icmp in an IPv6 listing');
  });
});

describe('planning the classes against real listings', () => {
  const counted = () => {
    const backend = new IptablesBackend(dualStack('legacy'), { wan: 'ppp0' });
    return { backend, reading: backend.read(readFixture('iptables/1.8.9-legacy/classes-dual-stack-read.txt')) };
  };

  test('a sync that keeps the classes (null or absent) changes nothing; asking for the same ones neither', () => {
    const { backend, reading } = counted();
    for (const classes of [null, undefined, CLASSES]) {
      const plan = backend.planInstall(reading, HOSTS, { ...OPTS, ...(classes === undefined ? {} : { classes }) });
      assert.deepEqual([plan.commands, plan.foreign], [[], []], String(classes));
    }
  });

  test('new classes: the old rules deleted by line number (highest first), the new appended, per family', () => {
    const { backend, reading } = counted();
    const plan = backend.planInstall(reading, HOSTS, { ...OPTS, classes: parseClassList('tcp/8443', 'udp') });
    assert.deepEqual(plan.commands, [
      'iptables-legacy -D TRAFFIC_CLASS 4',
      'iptables-legacy -D TRAFFIC_CLASS 3',
      'iptables-legacy -A TRAFFIC_CLASS -i ppp0 -p udp -m comment --comment lantop',
      'iptables-legacy -A TRAFFIC_CLASS -o ppp0 -p udp -m comment --comment lantop',
      'ip6tables-legacy -D TRAFFIC_CLASS 4',
      'ip6tables-legacy -D TRAFFIC_CLASS 3',
      'ip6tables-legacy -A TRAFFIC_CLASS -i ppp0 -p udp -m comment --comment lantop',
      'ip6tables-legacy -A TRAFFIC_CLASS -o ppp0 -p udp -m comment --comment lantop',
    ]);
    assert.ok(plan.notes.includes('no longer counting traffic class(es) icmp'), plan.notes.join('; '));
  });

  test('[]: the jump, the rules and the chain go, in both families; nothing else', () => {
    const { backend, reading } = counted();
    assert.deepEqual(backend.planInstall(reading, HOSTS, { ...OPTS, classes: [] }).commands, [
      'iptables-legacy -D FORWARD 2',
      'iptables-legacy -F TRAFFIC_CLASS',
      'iptables-legacy -X TRAFFIC_CLASS',
      'ip6tables-legacy -D FORWARD 2',
      'ip6tables-legacy -F TRAFFIC_CLASS',
      'ip6tables-legacy -X TRAFFIC_CLASS',
    ]);
  });

  test('flush empties TRAFFIC_CLASS like the router chains (chain and jump stay); teardown removes both jumps of FORWARD highest first', () => {
    const { reading } = counted();
    assert.ok(planFlush(reading.listing, 'iptables').includes('iptables -F TRAFFIC_CLASS'));
    const teardown = planTeardown(reading.listing, 'iptables');
    assert.deepEqual(teardown.slice(0, 2), ['iptables -D FORWARD 2', 'iptables -D FORWARD 1']);
    assert.ok(teardown.includes('iptables -X TRAFFIC_CLASS'));
    assert.ok(teardown.indexOf('iptables -F TRAFFIC_CLASS') < teardown.indexOf('iptables -X TRAFFIC_CLASS'));
  });

  test('an installation from before issue 19 (no classes): none planned unless asked; asked, the chain after TRAFFIC', () => {
    const backend = new IptablesBackend(dualStack('nft'), { wan: 'ppp0' });
    const reading = backend.read(readFixture('iptables/1.8.9-nft/dual-stack-read.txt'));
    const plain = backend.planInstall(reading, [], { ...OPTS, classes: null });
    assert.equal(plain.commands.some((c) => c.includes('TRAFFIC_CLASS')), false);
    const asked = backend.planInstall(reading, [], { ...OPTS, classes: parseClassList('443', undefined) });
    const forward = reading.listing.chains.find((c) => c.name === 'FORWARD')!.rules;
    const trafficAt = forward.findIndex((r) => r.target === 'TRAFFIC') + 1;
    assert.equal(trafficAt, 1);
    const v4 = asked.commands.filter((c) => c.startsWith('iptables-nft ') && c.includes('TRAFFIC_CLASS'));
    assert.deepEqual(v4, [
      'iptables-nft -N TRAFFIC_CLASS',
      'iptables-nft -A TRAFFIC_CLASS -i ppp0 -p tcp -m tcp --sport 443 -m comment --comment lantop',
      'iptables-nft -A TRAFFIC_CLASS -o ppp0 -p tcp -m tcp --dport 443 -m comment --comment lantop',
      'iptables-nft -A TRAFFIC_CLASS -i ppp0 -p udp -m udp --sport 443 -m comment --comment lantop',
      'iptables-nft -A TRAFFIC_CLASS -o ppp0 -p udp -m udp --dport 443 -m comment --comment lantop',
      'iptables-nft -I FORWARD 2 -j TRAFFIC_CLASS',
    ]);
    assert.equal(asked.commands.at(-1), 'ip6tables-nft -I FORWARD 2 -j TRAFFIC_CLASS');
  });

  test('the untagged form (no comment match) is recognised by its shape', () => {
    const backend = new IptablesBackend(dualStack('legacy', false), { wan: 'ppp0' });
    const tagged = backend.read(readFixture('iptables/1.8.9-legacy/classes-dual-stack-read.txt'));
    const plan = backend.planInstall(tagged, HOSTS, { ...OPTS, classes: parseClassList('tcp/8443', undefined) });
    // Tagged class rules are lantop's too: re-written untagged, never reported as foreign.
    assert.deepEqual(plan.foreign, []);
    assert.ok(plan.commands.includes('iptables-legacy -A TRAFFIC_CLASS -i ppp0 -p tcp -m tcp --sport 8443'));
  });
});

describe('planClassCounters on hand-made listings', () => {
  const opts = { wan: 'ppp0', isTagging: true, iptables: 'iptables' };
  const established = rule({ target: 'ACCEPT', extra: 'ctstate RELATED,ESTABLISHED' });

  test('LANTOP_BLOCK first and TRAFFIC not yet there: TRAFFIC goes to 2 and the class jump to 3, the positions as they will be', () => {
    const l = listing(chain('FORWARD', [rule({ target: 'LANTOP_BLOCK' }), established], 'ACCEPT'));
    const setup = planSetup(l, ['198.51.100.10'], { ...opts, layout: 'flat', isAdopting: false, isPruning: false });
    assert.ok(setup.commands.includes('iptables -I FORWARD 2 -j TRAFFIC'));
    const classes = planClassCounters(l, { ...opts, classes: parseClassList(undefined, 'udp'), before: setup.commands });
    assert.deepEqual(classes.commands, [
      'iptables -N TRAFFIC_CLASS',
      'iptables -A TRAFFIC_CLASS -i ppp0 -p udp -m comment --comment lantop',
      'iptables -A TRAFFIC_CLASS -o ppp0 -p udp -m comment --comment lantop',
      'iptables -I FORWARD 3 -j TRAFFIC_CLASS',
    ]);
  });

  test('a class jump after the ESTABLISHED accept is moved up right after TRAFFIC', () => {
    const l = listing(
      chain('FORWARD', [rule({ target: 'TRAFFIC' }), established, rule({ target: 'TRAFFIC_CLASS' })], 'ACCEPT'),
      chain('TRAFFIC_CLASS', [rule({ prot: '17', in: 'ppp0', comment: 'lantop' }), rule({ prot: '17', out: 'ppp0', comment: 'lantop' })]),
    );
    const plan = planClassCounters(l, { ...opts, classes: null });
    assert.deepEqual(plan.commands, ['iptables -I FORWARD 2 -j TRAFFIC_CLASS', 'iptables -D FORWARD 4']);
    assert.deepEqual(readClassCounters(l, 'ppp0'), new Map([['udp', { downBytes: 0, upBytes: 0 }]]));
  });

  test('with a direction lost, a sync that keeps the classes puts it back; a rule of another WAN is stale', () => {
    const l = listing(
      chain('FORWARD', [rule({ target: 'TRAFFIC' }), rule({ target: 'TRAFFIC_CLASS' })], 'ACCEPT'),
      chain('TRAFFIC_CLASS', [rule({ num: 1, prot: '6', in: 'ppp0', extra: 'tcp spt:443', comment: 'lantop' }), rule({ num: 2, prot: '6', out: 'eth1', extra: 'tcp dpt:443', comment: 'lantop' })]),
    );
    assert.deepEqual(planClassCounters(l, { ...opts, classes: null }).commands, ['iptables -D TRAFFIC_CLASS 2', 'iptables -A TRAFFIC_CLASS -o ppp0 -p tcp -m tcp --dport 443 -m comment --comment lantop']);
  });

  test("someone else's rule in TRAFFIC_CLASS is foreign, and [] leaves it (and the chain) in place", () => {
    const foreign = rule({ num: 2, target: 'DROP', prot: '6', in: 'ppp0', extra: 'tcp spt:23' });
    const l = listing(
      chain('FORWARD', [rule({ target: 'TRAFFIC' }), rule({ target: 'TRAFFIC_CLASS' })], 'ACCEPT'),
      chain('TRAFFIC_CLASS', [rule({ num: 1, prot: '6', in: 'ppp0', extra: 'tcp spt:443', comment: 'lantop' }), foreign, rule({ num: 3, prot: '6', out: 'ppp0', extra: 'tcp dpt:443', comment: 'lantop' })]),
    );
    const plan = planClassCounters(l, { ...opts, classes: [] });
    assert.deepEqual(plan.foreignRules, [foreign]);
    assert.deepEqual(plan.commands, ['iptables -D FORWARD 2', 'iptables -D TRAFFIC_CLASS 3', 'iptables -D TRAFFIC_CLASS 1']);
    assert.deepEqual(planClassCounters(l, { ...opts, classes: null }).foreignRules, [foreign]);
  });

  test('without its FORWARD jump the classes read as no counters (nothing is counted there)', () => {
    const l = listing(chain('FORWARD', [], 'ACCEPT'), chain('TRAFFIC_CLASS', [rule({ prot: '17', in: 'ppp0', comment: 'lantop', bytes: 5 })]));
    assert.equal(readClassCounters(l, 'ppp0').size, 0);
    assert.deepEqual(installedClasses(l, 'ppp0'), [{ protocol: 'udp', port: null }]);
  });
});

test('a caller bug cannot put anything but a valid class into a command', () => {
  const l = listing(chain('FORWARD', [rule({ target: 'TRAFFIC' })], 'ACCEPT'));
  const hostile = [{ protocol: 'tcp; reboot', port: null }, { protocol: 'tcp', port: 0 }, { protocol: 'icmp', port: 80 }, { protocol: 'udp', port: 70000 }, { protocol: 'udp', port: 53 }] as unknown as Parameters<typeof planClassCounters>[1]['classes'];
  const plan = planClassCounters(l, { wan: 'ppp0', isTagging: true, iptables: 'iptables', classes: hostile });
  assert.deepEqual(plan.classes, [{ protocol: 'udp', port: 53 }]);
  assert.equal(plan.commands.filter((c) => c.startsWith('iptables -A')).length, 2);
});

test('without ip6tables: icmpv6 is said not to be counted, the rest planned in iptables', () => {
  const backend = new IptablesBackend(firmwareForOverride('broadcom-cli'), { wan: 'ppp0' });
  const reading = backend.read(readFixture('iptables/1.8.9-nft/iptables-L-v-x-n.txt'));
  const plan = backend.planInstall(reading, ['198.51.100.10'], { ...OPTS, classes: parseClassList(undefined, 'icmp,icmpv6') });
  assert.ok(plan.notes.includes('traffic class icmpv6 is not counted: it is IPv6 only, and IPv6 is not counted here'), plan.notes.join('; '));
  assert.deepEqual(plan.commands.filter((c) => c.includes('-A TRAFFIC_CLASS')), ['iptables -A TRAFFIC_CLASS -i ppp0 -p icmp -m comment --comment lantop', 'iptables -A TRAFFIC_CLASS -o ppp0 -p icmp -m comment --comment lantop']);
  assert.match(backend.describe(), /TRAFFIC_CLASS .*now icmp,/);
});
