// Custom counters in the iptables backend (issue 18): LANTOP_CIN/COUT/CFWD planned exactly, read
// back from the real listings captured by counters-netns.test.ts (fixtures/iptables/1.8.9-*/
// counters-*.txt, SOURCE.md), kept by a sync, changed, removed; hand-made listings for stale,
// duplicate and foreign rules and for where the jump may stand.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFixture } from '../../../../test/fixtures.js';
import { makeCustomCounter, type CounterInput, type CustomCounter } from '../../../domain/custom-counter.js';
import { parseIptablesListing } from '../../parsers/iptables-listing.js';
import type { Chain, IptablesListing, Rule } from '../../parsers/types.js';
import { counterRuleTokens, counterTag, installedCounterIds, listedCounterOf, planCustomCounterRemoval, planCustomCounters, readCustomCounters } from './counter-chain.js';

function counter(input: CounterInput): CustomCounter {
  const r = makeCustomCounter(input);
  assert.deepEqual(r.problems, []);
  return r.counter!;
}
// The counters of counters-netns.test.ts, which the fixtures hold.
const SSH_IN = counter({ name: 'ssh-in', hook: 'input', inIf: 'lan0', proto: 'tcp', dport: '2222' });
const UDP_IN = counter({ name: 'udp-in', hook: 'input', proto: 'udp' });
const NOT_LAN = counter({ name: 'not-lan', hook: 'input', src: '!198.51.100.0/24' });
const PING4 = counter({ name: 'ping4', hook: 'input', src: '198.51.100.0/24', proto: 'icmp' });
const FWD_WEB = counter({ name: 'fwd-web', hook: 'forward', inIf: 'lan0', outIf: 'ppp0', dst: '203.0.113.0/24', proto: 'tcp', dport: '8443' });
const DNS6_OUT = counter({ name: 'dns6-out', hook: 'output', outIf: 'ppp0', dst: '!2001:db8:1::/64', proto: 'udp', dport: '53' });
const ICMP_ANY = counter({ name: 'icmp-any', hook: 'input', proto: 'icmp' });
const COUNTERS = [SSH_IN, UDP_IN, NOT_LAN, PING4, FWD_WEB, DNS6_OUT, ICMP_ANY];

const fixture = (kind: string, family: 4 | 6) => parseIptablesListing(readFixture(`iptables/1.8.9-${kind}/counters-${family === 4 ? 'iptables' : 'ip6tables'}-L-v-x-n.txt`));

function rule(partial: Partial<Rule>): Rule {
  return { num: null, pkts: 0, bytes: 0, isExact: true, target: '', prot: '0', opt: '--', in: '*', out: '*', source: '0.0.0.0/0', destination: '0.0.0.0/0', extra: '', comment: null, ...partial };
}
function chain(name: string, rules: Rule[], policy: string | null = null): Chain {
  return { name, policy, references: policy === null ? 1 : null, rules };
}
const builtIns = (input: Rule[] = [], forward: Rule[] = [], output: Rule[] = []) => [chain('INPUT', input, 'ACCEPT'), chain('FORWARD', forward, 'ACCEPT'), chain('OUTPUT', output, 'ACCEPT')];
function listing(...chains: Chain[]): IptablesListing {
  return { chains, warnings: [], errors: [] };
}
const jump = (target: string) => rule({ target });

describe('rules as lantop writes them', () => {
  test('the argv per family: interfaces, negations, protocol and ports, the tag', () => {
    assert.deepEqual(counterRuleTokens(FWD_WEB, 4), ['-i', 'lan0', '-o', 'ppp0', '-d', '203.0.113.0/24', '-p', 'tcp', '-m', 'tcp', '--dport', '8443', '-m', 'comment', '--comment', counterTag(FWD_WEB)]);
    assert.deepEqual(counterRuleTokens(NOT_LAN, 4), ['!', '-s', '198.51.100.0/24', '-m', 'comment', '--comment', counterTag(NOT_LAN)]);
    assert.deepEqual(counterRuleTokens(ICMP_ANY, 6), ['-p', 'ipv6-icmp', '-m', 'comment', '--comment', counterTag(ICMP_ANY)]);
    const both = counter({ name: 'x', hook: 'forward', proto: 'udp', sport: '53', dport: '5353' });
    assert.deepEqual(counterRuleTokens(both, 4), ['-p', 'udp', '-m', 'udp', '--sport', '53', '--dport', '5353', '-m', 'comment', '--comment', counterTag(both)]);
    assert.match(counterTag(both), /^lantop:c:[0-9a-f]{12}$/);
  });
});

describe('reading the counters back from real listings', () => {
  test('iptables-legacy 1.8.9: each counter byte for byte what the listings say, both families summed by the caller', () => {
    const v4 = readCustomCounters(fixture('legacy', 4), COUNTERS, 4);
    const v6 = readCustomCounters(fixture('legacy', 6), COUNTERS, 6);
    assert.deepEqual(Object.fromEntries(v4), {
      'ssh-in': { packets: 16, bytes: 150840 },
      'udp-in': { packets: 5, bytes: 2640 },
      'not-lan': { packets: 12, bytes: 31384 },
      ping4: { packets: 3, bytes: 3084 },
      'fwd-web': { packets: 19, bytes: 120996 },
      'icmp-any': { packets: 5, bytes: 3940 },
    });
    assert.deepEqual(Object.fromEntries(v6), {
      'ssh-in': { packets: 12, bytes: 70872 },
      'udp-in': { packets: 4, bytes: 2192 },
      'dns6-out': { packets: 3, bytes: 744 },
      'icmp-any': { packets: 5, bytes: 1000 },
    });
    // The udp counter saw what the firewall then dropped: the jump comes first.
    assert.equal(fixture('legacy', 4).chains.find((c) => c.name === 'INPUT')!.rules[2]!.bytes, 2640);
  });

  test('iptables-nft 1.8.9: the same shapes, every counter present', () => {
    for (const family of [4, 6] as const) {
      const read = readCustomCounters(fixture('nft', family), COUNTERS, family);
      assert.deepEqual([...read.keys()].sort(), COUNTERS.filter((c) => c.family === 'both' || c.family === (family === 4 ? 'ipv4' : 'ipv6')).map((c) => c.name).sort());
      assert.ok([...read.values()].every((c) => c.bytes > 0));
    }
  });

  test('counters with the same matches read the same rule; one not installed is absent', () => {
    const twin = { ...PING4, name: 'ping-twin' };
    const other = counter({ name: 'other', hook: 'input', proto: 'tcp', dport: '1' });
    const read = readCustomCounters(fixture('legacy', 4), [twin, other], 4);
    assert.deepEqual(Object.fromEntries(read), { 'ping-twin': { packets: 3, bytes: 3084 } });
  });

  test('no jump, no counting: nothing is read', () => {
    const text = readFixture('iptables/1.8.9-legacy/counters-iptables-L-v-x-n.txt').replace(/^.*LANTOP_CIN  0 .*\n/m, '');
    const read = readCustomCounters(parseIptablesListing(text), COUNTERS, 4);
    assert.deepEqual([...read.keys()], ['fwd-web']);
    assert.deepEqual([...installedCounterIds(parseIptablesListing(text), 4)], [counterTag(FWD_WEB).slice(9)]);
  });

  test('older iptables print protocol names; shapes lantop never writes are no counter', () => {
    const base = rule({ prot: 'tcp', in: 'lan0', extra: 'tcp dpt:2222', comment: counterTag(SSH_IN) });
    assert.deepEqual(listedCounterOf(base, 'input', 4), { ...SSH_IN, name: 'listed' });
    assert.deepEqual(listedCounterOf(rule({ prot: 'ipv6-icmp', source: '::/0', destination: '::/0' }), 'input', 6), { ...ICMP_ANY, name: 'listed' });
    assert.deepEqual(listedCounterOf(rule({ source: '!198.51.100.0/24' }), 'input', 4), { ...NOT_LAN, name: 'listed' });
    assert.deepEqual(listedCounterOf(rule({ source: '198.51.100.10' }), 'input', 4)?.src, { cidr: '198.51.100.10/32', negated: false });
    for (const odd of [
      { ...base, target: 'ACCEPT' },
      { ...base, prot: '!6' },
      { ...base, in: '!lan0' },
      { ...base, out: 'ppp0' }, // an outgoing interface in input
      { ...base, extra: 'tcp dpt:2222 flags:0x17/0x02' },
      { ...base, extra: 'tcp dpts:1:1024' },
      { ...base, extra: 'udp dpt:2222' },
      { ...base, source: '198.51.100.7/24' }, // host bits: never lantop's
      { ...base, source: '2001:db8::/32' }, // the other family
      { ...base, prot: '58', extra: '' }, // ipv6-icmp in an IPv4 listing
      { ...base, opt: '-f' },
    ]) assert.equal(listedCounterOf(odd, 'input', 4), null, JSON.stringify(odd));
    assert.equal(listedCounterOf({ ...base, prot: '1', extra: '' }, 'input', 6), null, 'icmp in an IPv6 listing');
  });
});

describe('planning', () => {
  test('from nothing: the chains, one rule per counter and family, the jumps at 1 — exactly', () => {
    const empty = listing(...builtIns());
    assert.deepEqual(planCustomCounters(empty, { iptables: 'iptables', family: 4, counters: COUNTERS }).commands, [
      'iptables -N LANTOP_CIN',
      'iptables -N LANTOP_CFWD',
      'iptables -A LANTOP_CIN -s 198.51.100.0/24 -p icmp -m comment --comment lantop:c:40375ed58bd6',
      'iptables -A LANTOP_CIN -p icmp -m comment --comment lantop:c:52bd15f2aa19',
      'iptables -A LANTOP_CIN -i lan0 -p tcp -m tcp --dport 2222 -m comment --comment lantop:c:793f9f2e3469',
      'iptables -A LANTOP_CIN -p udp -m comment --comment lantop:c:a2440ffc0e13',
      'iptables -A LANTOP_CIN ! -s 198.51.100.0/24 -m comment --comment lantop:c:aecf95a68e4a',
      'iptables -A LANTOP_CFWD -i lan0 -o ppp0 -d 203.0.113.0/24 -p tcp -m tcp --dport 8443 -m comment --comment lantop:c:bb0b4feea589',
      'iptables -I INPUT 1 -j LANTOP_CIN',
      'iptables -I FORWARD 1 -j LANTOP_CFWD',
    ]);
    assert.deepEqual(planCustomCounters(empty, { iptables: 'ip6tables', family: 6, counters: COUNTERS }).commands, [
      'ip6tables -N LANTOP_CIN',
      'ip6tables -N LANTOP_COUT',
      'ip6tables -A LANTOP_CIN -p ipv6-icmp -m comment --comment lantop:c:52bd15f2aa19',
      'ip6tables -A LANTOP_CIN -i lan0 -p tcp -m tcp --dport 2222 -m comment --comment lantop:c:793f9f2e3469',
      'ip6tables -A LANTOP_CIN -p udp -m comment --comment lantop:c:a2440ffc0e13',
      'ip6tables -A LANTOP_COUT -o ppp0 ! -d 2001:db8:1::/64 -p udp -m udp --dport 53 -m comment --comment lantop:c:e2f4cb3809c8',
      'ip6tables -I INPUT 1 -j LANTOP_CIN',
      'ip6tables -I OUTPUT 1 -j LANTOP_COUT',
    ]);
  });

  test('a sync against the real listings sends nothing, in either family and kind', () => {
    for (const kind of ['legacy', 'nft']) {
      for (const family of [4, 6] as const) {
        const plan = planCustomCounters(fixture(kind, family), { iptables: 'iptables', family, counters: COUNTERS });
        assert.deepEqual([plan.commands, plan.foreignRules], [[], []], `${kind} ${family}`);
      }
    }
  });

  test('counters changed: the dropped one deleted by line number, the new one appended; a hook left without counters loses chain and jump', () => {
    const added = counter({ name: 'dns-in', hook: 'input', proto: 'udp', dport: '53' });
    const plan = planCustomCounters(fixture('legacy', 4), { iptables: 'iptables', family: 4, counters: [SSH_IN, NOT_LAN, PING4, ICMP_ANY, added] });
    assert.deepEqual(plan.commands, [
      'iptables -D LANTOP_CIN 4',
      `iptables -A LANTOP_CIN -p udp -m udp --dport 53 -m comment --comment ${counterTag(added)}`,
      'iptables -D FORWARD -j LANTOP_CFWD',
      'iptables -F LANTOP_CFWD',
      'iptables -X LANTOP_CFWD',
    ]);
    assert.deepEqual(planCustomCounterRemoval(fixture('legacy', 6), 'ip6tables', 6), [
      'ip6tables -D INPUT -j LANTOP_CIN',
      'ip6tables -F LANTOP_CIN',
      'ip6tables -X LANTOP_CIN',
      'ip6tables -D OUTPUT -j LANTOP_COUT',
      'ip6tables -F LANTOP_COUT',
      'ip6tables -X LANTOP_COUT',
    ]);
  });

  test('stale (edited), duplicate and foreign rules: the first two go, highest line first; the foreign stays and is reported', () => {
    const tag = counterTag(SSH_IN);
    const foreign = rule({ num: 2, prot: '6', comment: 'someone' });
    const l = listing(...builtIns([jump('LANTOP_CIN')]), chain('LANTOP_CIN', [
      rule({ num: 1, prot: '6', in: 'lan0', extra: 'tcp dpt:2222', comment: tag }),
      foreign,
      rule({ num: 3, prot: '6', in: 'lan0', extra: 'tcp dpt:2222', comment: tag }), // duplicate
      rule({ num: 4, prot: '6', in: 'lan0', extra: 'tcp dpt:22', comment: tag }), // edited: the tag no longer names it
      rule({ num: 5, prot: '0', comment: 'lantop:c:000000000000' }), // a counter no longer wanted
    ]));
    const plan = planCustomCounters(l, { iptables: 'iptables', family: 4, counters: [SSH_IN] });
    assert.deepEqual(plan.commands, ['iptables -D LANTOP_CIN 5', 'iptables -D LANTOP_CIN 4', 'iptables -D LANTOP_CIN 3']);
    assert.deepEqual(plan.foreignRules, [foreign]);
    const none = planCustomCounters(l, { iptables: 'iptables', family: 4, counters: [] });
    assert.deepEqual(none.commands, ['iptables -D LANTOP_CIN 5', 'iptables -D LANTOP_CIN 4', 'iptables -D LANTOP_CIN 3', 'iptables -D LANTOP_CIN 1', 'iptables -D INPUT -j LANTOP_CIN']);
    assert.match(none.notes.join('\n'), /the chain stays: it holds rules lantop did not write/);
  });

  test('the jump: may stay behind lantop\'s own jumps, is moved to 1 from behind anything else, duplicates go', () => {
    const ours = chain('LANTOP_CIN', [rule({ prot: '17', comment: counterTag(UDP_IN) })]);
    const plan = (input: Rule[]) => planCustomCounters(listing(...builtIns(input), ours), { iptables: 'iptables', family: 4, counters: [UDP_IN] }).commands;
    assert.deepEqual(plan([jump('TRAFFIC_IN'), jump('LANTOP_CIN'), rule({ target: 'ACCEPT' })]), []);
    assert.deepEqual(plan([rule({ target: 'ACCEPT', extra: 'ctstate RELATED,ESTABLISHED' }), jump('LANTOP_CIN')]), ['iptables -D INPUT -j LANTOP_CIN', 'iptables -I INPUT 1 -j LANTOP_CIN']);
    assert.deepEqual(plan([rule({ target: 'TRAFFIC_IN', source: '198.51.100.10' }), jump('LANTOP_CIN')]), ['iptables -D INPUT -j LANTOP_CIN', 'iptables -I INPUT 1 -j LANTOP_CIN'], 'a jump with a match is not a plain one');
    assert.deepEqual(plan([jump('TRAFFIC_IN'), jump('LANTOP_CIN'), rule({ target: 'ACCEPT' }), jump('LANTOP_CIN')]), ['iptables -D INPUT -j LANTOP_CIN', 'iptables -D INPUT -j LANTOP_CIN', 'iptables -I INPUT 2 -j LANTOP_CIN']);
    assert.deepEqual(plan([]), ['iptables -I INPUT 1 -j LANTOP_CIN']);
    assert.deepEqual(plan([jump('TRAFFIC_IN'), rule({ target: 'ACCEPT' })]), ['iptables -I INPUT 2 -j LANTOP_CIN'], 'after lantop\'s leading jumps: none of them moves');
    assert.deepEqual(plan([jump('LANTOP_BLOCK'), jump('TRAFFIC'), rule({ target: 'DROP' }), jump('LANTOP_CIN')]), ['iptables -D INPUT -j LANTOP_CIN', 'iptables -I INPUT 3 -j LANTOP_CIN']);
  });

  test('counters of the other family and invalid objects never reach a command', () => {
    const v6only = counter({ name: 'v6', hook: 'input', src: '2001:db8::/32' });
    const evil = { ...UDP_IN, inIf: 'eth0;reboot' } as CustomCounter;
    assert.deepEqual(planCustomCounters(listing(...builtIns()), { iptables: 'iptables', family: 4, counters: [v6only, evil] }).commands, []);
  });
});
