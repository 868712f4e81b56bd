// planSetup for an ip6tables listing (family 6, issue 15): the IPv4 planner's rules with IPv6
// addresses, the tree layout's /68 groups, and reading lantop's IPv6 rules back from real listings.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { planSetup, planTeardown, type PlanOptions } from './plan.js';
import { readHostCounters } from './counters.js';
import { addressGroups6, ipv6Value } from './ipv6-groups.js';
import { prefixOf, specOfListedPrefixRule } from './prefix-spec.js';
import { addressOf, specOfListedRule } from './rule-spec.js';
import type { RuleLayout } from './layouts.js';
import { parseIptablesListing } from '../../parsers/iptables-listing.js';
import { canonicalIpv6 } from '../../../domain/address.js';
import { readFixture } from '../../../../test/fixtures.js';

const options = (layout: RuleLayout): PlanOptions => ({ wan: 'ppp0', layout, isTagging: true, isAdopting: false, isPruning: false, iptables: 'ip6tables', family: 6 });
const BARE = parseIptablesListing(readFixture('iptables/1.8.9-nft/ip6tables-L-v-x-n.txt'));

describe('planSetup, family 6', () => {
  test('split on a bare ip6tables: the IPv4 plan with canonical IPv6 addresses; IPv4, link-local and junk rejected', () => {
    const plan = planSetup(BARE, ['2001:DB8:1::11', '2001:db8:1:0:0:0:0:10', '198.51.100.10', 'fe80::1', 'ff02::1', '2001:db8:1::10'], options('split'));
    assert.deepEqual(plan.commands, [
      'ip6tables -N TRAFFIC',
      'ip6tables -N TRAFFIC_DOWN',
      'ip6tables -N TRAFFIC_UP',
      'ip6tables -A TRAFFIC -i ppp0 -m comment --comment lantop -j TRAFFIC_DOWN',
      'ip6tables -A TRAFFIC -o ppp0 -m comment --comment lantop -j TRAFFIC_UP',
      'ip6tables -A TRAFFIC_DOWN -d 2001:db8:1::10 -m comment --comment lantop -j RETURN',
      'ip6tables -A TRAFFIC_DOWN -d 2001:db8:1::11 -m comment --comment lantop -j RETURN',
      'ip6tables -A TRAFFIC_UP -s 2001:db8:1::10 -m comment --comment lantop -j RETURN',
      'ip6tables -A TRAFFIC_UP -s 2001:db8:1::11 -m comment --comment lantop -j RETURN',
      'ip6tables -I FORWARD 1 -j TRAFFIC',
    ]);
    assert.deepEqual(plan.rejectedHosts, ['198.51.100.10', 'fe80::1', 'ff02::1']);
  });

  test('the IPv4 planner is unchanged: an IPv6 host is rejected there, never written into iptables', () => {
    const plan = planSetup(BARE, ['2001:db8:1::10', '198.51.100.10'], { ...options('split'), iptables: 'iptables', family: 4 });
    assert.deepEqual(plan.rejectedHosts, ['2001:db8:1::10']);
    assert.ok(plan.commands.every((c) => !c.includes('2001:')));
  });

  for (const backend of ['legacy', 'nft'] as const) {
    test(`${backend}: the captured ip6tables listing reads back as lantop's rules, counters per canonical address`, () => {
      const listing = parseIptablesListing(readFixture(`iptables/1.8.9-${backend}/ip6tables-L-v-x-n-line-numbers.txt`));
      const counters = readHostCounters(listing, 'ppp0', 6);
      assert.equal(counters.size, 4);
      for (const [address, c] of counters) {
        assert.equal(canonicalIpv6(address), address);
        assert.ok(c.downBytes > 0 && c.upBytes > 0 && c.isExact);
      }
      // Read as IPv4 (the default) the same listing holds no host of lantop's.
      assert.equal(readHostCounters(listing, 'ppp0').size, 0);
      const hosts = [...counters.keys()];
      const plan = planSetup(listing, hosts, options('split'));
      assert.deepEqual(plan.foreignRules, []);
      assert.ok(!plan.commands.some((c) => c.includes(' -A ')), 'every host already has its rules');
      // The group rule /60 is one lantop could write (a network address), read back as a prefix.
      const down = listing.chains.find((c) => c.name === 'TRAFFIC_DOWN')!;
      const group = down.rules.find((r) => r.target === 'TRAFFIC_DOWN_0')!;
      assert.deepEqual(specOfListedPrefixRule('TRAFFIC_DOWN', group, 6), { chain: 'TRAFFIC_DOWN', in: null, out: null, source: null, destination: '2001:db8:1::/60', target: 'TRAFFIC_DOWN_0', isTagged: true });
      assert.equal(specOfListedPrefixRule('TRAFFIC_DOWN', group), null, 'not an IPv4 prefix');
      // FORWARD's other rules are not lantop's; teardown touches only the jump and lantop's chains.
      const teardown = planTeardown(listing, 'ip6tables');
      assert.deepEqual(teardown.filter((c) => c.includes('FORWARD')), ['ip6tables -D FORWARD 1']);
      assert.deepEqual(teardown.filter((c) => c.includes(' -X ')), ['ip6tables -X TRAFFIC', 'ip6tables -X TRAFFIC_DOWN', 'ip6tables -X TRAFFIC_UP', 'ip6tables -X TRAFFIC_DOWN_0']);
      // A host rule's shape with the other family's reading: not lantop's.
      assert.equal(specOfListedRule('TRAFFIC_DOWN', down.rules[0]!), null);
    });
  }

  test('addressOf and prefixOf per family: /128 folded, only network addresses in canonical text as prefixes', () => {
    assert.deepEqual(['::/0', '2001:db8::1/128', '2001:DB8::1', '198.51.100.1', '2001:db8::/64'].map((c) => addressOf(c, 6)), [null, '2001:db8::1', '2001:db8::1', undefined, undefined]);
    assert.deepEqual(['2001:db8:1::/60', '2001:db8:1:0:4000::/68', '2001:db8:1::1/68', '2001:DB8:1::/60', '2001:db8::/8', '2001:db8::/128', '198.51.100.0/28'].map((c) => prefixOf(c, 6)), ['2001:db8:1::/60', '2001:db8:1:0:4000::/68', null, null, null, null, null]);
  });
});

describe('the tree layout for IPv6', () => {
  const randomHost = fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }))
    .map((g) => canonicalIpv6(`2001:db8:1:0:${g.map((x) => x.toString(16)).join(':')}`)!);

  test('property: every host in exactly one group whose prefix covers it; at most 32 groups; sub-chain = group number mod 16', () => {
    fc.assert(fc.property(fc.uniqueArray(randomHost, { minLength: 1, maxLength: 300 }), fc.integer({ min: 0, max: 3 }), (hosts, extraNets) => {
      const all = [...hosts, ...Array.from({ length: extraNets * 20 }, (_, i) => `2001:db8:${(i % 40) + 2}::${i + 1}`)];
      const groups = addressGroups6(all, 16, 32);
      assert.ok(groups.length <= 32);
      assert.equal(groups.reduce((n, g) => n + g.hosts.length, 0), all.length);
      for (const g of groups) {
        const [address, length] = g.prefix.split('/');
        assert.equal(prefixOf(g.prefix, 6), g.prefix, 'a prefix lantop reads back');
        const shift = BigInt(128 - Number(length));
        for (const h of g.hosts) assert.equal(ipv6Value(h) >> shift, ipv6Value(address!) >> shift);
        assert.equal(g.index, Number((ipv6Value(address!) >> shift) % 16n));
      }
    }), { numRuns: 100 });
  });

  test('random interface identifiers spread over the 16 sub-chains; a tree plan reads back and is idempotent', () => {
    const hosts = Array.from({ length: 64 }, (_, i) => canonicalIpv6(`2001:db8:1:0:${((i * 0x1234567) % 0xffff).toString(16)}:${(i * 7919 % 0xffff).toString(16)}:1:${i + 1}`)!);
    const groups = addressGroups6(hosts, 16, 32);
    assert.ok(groups.length >= 12 && groups.every((g) => g.prefix.endsWith('/68')), groups.map((g) => g.prefix).join(' '));
    const plan = planSetup(BARE, hosts, options('tree'));
    assert.ok(plan.commands.some((c) => /^ip6tables -A TRAFFIC_DOWN -d 2001:db8:1:0:[0-9a-f]000::\/68 .* -j TRAFFIC_DOWN_\d+$/.test(c)));
    assert.equal(plan.commands.filter((c) => / -A TRAFFIC_DOWN_\d+ -d /.test(c)).length, hosts.length);
  });
});
