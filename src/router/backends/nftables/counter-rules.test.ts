// Custom counters in the nftables backend (issue 18): counters_in/out/fwd planned exactly, read back
// from the real listings captured by counters-netns.test.ts (fixtures/nftables/1.0.6/counters-*,
// SOURCE.md) in both formats, kept by a sync, changed, removed; stale, duplicate and foreign rules,
// listings without handles and chains hooked otherwise.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFixture } from '../../../../test/fixtures.js';
import { makeCustomCounter, type CounterInput, type CustomCounter } from '../../../domain/custom-counter.js';
import { isNftScriptLine } from './apply.js';
import { counterRuleNorms, counterTag, planNftCustomCounters, readCounterChains, readNftCustomCounters } from './counter-rules.js';

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
const JSON_LISTING = readFixture('nftables/1.0.6/counters-list-j.json');
const TEXT_LISTING = readFixture('nftables/1.0.6/counters-list-a.txt');

describe('rules as nft lists them', () => {
  test('interfaces, networks (a host without its length), protocol or ports; icmp of both families in two rules', () => {
    assert.deepEqual(counterRuleNorms(FWD_WEB), ['iifname "lan0" oifname "ppp0" ip daddr 203.0.113.0/24 tcp dport 8443 counter']);
    assert.deepEqual(counterRuleNorms(NOT_LAN), ['ip saddr != 198.51.100.0/24 counter']);
    assert.deepEqual(counterRuleNorms(DNS6_OUT), ['oifname "ppp0" ip6 daddr != 2001:db8:1::/64 udp dport 53 counter']);
    assert.deepEqual(counterRuleNorms(ICMP_ANY), ['meta l4proto icmp counter', 'meta l4proto ipv6-icmp counter']);
    assert.deepEqual(counterRuleNorms(counter({ name: 'x', hook: 'input', src: '2001:db8::1', proto: 'icmp' })), ['ip6 saddr 2001:db8::1 meta l4proto ipv6-icmp counter']);
    assert.deepEqual(counterRuleNorms(counter({ name: 'x', hook: 'input', dst: '198.51.100.10', proto: 'udp', sport: '53', dport: '5353' })), ['ip daddr 198.51.100.10 udp sport 53 udp dport 5353 counter']);
    assert.deepEqual(counterRuleNorms(UDP_IN), ['meta l4proto udp counter']);
  });
});

describe('reading the counters back from real listings', () => {
  test('JSON: `!=` and prefixes rendered, every counter byte for byte, icmp-any the sum of its two rules', () => {
    assert.deepEqual(Object.fromEntries(readNftCustomCounters(readCounterChains(JSON_LISTING), COUNTERS)), {
      'ssh-in': { packets: 28, bytes: 221712 },
      'udp-in': { packets: 9, bytes: 4832 },
      'not-lan': { packets: 12, bytes: 31384 },
      ping4: { packets: 3, bytes: 3084 },
      'fwd-web': { packets: 19, bytes: 120996 },
      'dns6-out': { packets: 3, bytes: 744 },
      'icmp-any': { packets: 10, bytes: 4940 },
    });
  });

  test('text (`nft -a list`): the same rules, the same norms and handles as JSON', () => {
    const [json, text] = [readCounterChains(JSON_LISTING)!, readCounterChains(TEXT_LISTING)!];
    const shape = (chains: typeof json) => chains.map((c) => [c.name, c.type, c.hook, c.priority, c.policy, c.rules.map((r) => [r.norm, r.comment, r.handle])]);
    assert.deepEqual(shape(text), shape(json));
    assert.deepEqual(readNftCustomCounters(text, COUNTERS).get('fwd-web'), { packets: 20, bytes: 121048 });
    assert.equal(readNftCustomCounters(text, COUNTERS).size, COUNTERS.length);
  });

  test('no table: null; a counter with a rule missing, or in a chain hooked otherwise, is absent', () => {
    assert.equal(readCounterChains(readFixture('nftables/1.0.6/missing-list-j.json')), null);
    assert.equal(readCounterChains(readFixture('nftables/1.0.6/missing-list-a.txt')), null);
    const oneGone = TEXT_LISTING.replace(/^.*meta l4proto ipv6-icmp.*\n/m, '');
    assert.equal(readNftCustomCounters(readCounterChains(oneGone), COUNTERS).has('icmp-any'), false);
    const moved = TEXT_LISTING.replace('hook forward priority filter - 10', 'hook forward priority filter + 10');
    assert.equal(readNftCustomCounters(readCounterChains(moved), COUNTERS).has('fwd-web'), false);
  });
});

describe('planning', () => {
  test('no table yet: the chains and rules, written with `ne`, every line one apply.ts accepts — exactly', () => {
    const plan = planNftCustomCounters(null, COUNTERS);
    assert.deepEqual(plan.commands, [
      'add chain inet lantop counters_in { type filter hook input priority filter - 10; policy accept; }',
      'add chain inet lantop counters_out { type filter hook output priority filter - 10; policy accept; }',
      'add chain inet lantop counters_fwd { type filter hook forward priority filter - 10; policy accept; }',
      'add rule inet lantop counters_in ip saddr 198.51.100.0/24 meta l4proto icmp counter comment "lantop:c:40375ed58bd6"',
      'add rule inet lantop counters_in meta l4proto icmp counter comment "lantop:c:52bd15f2aa19"',
      'add rule inet lantop counters_in meta l4proto ipv6-icmp counter comment "lantop:c:52bd15f2aa19"',
      'add rule inet lantop counters_in iifname "lan0" tcp dport 2222 counter comment "lantop:c:793f9f2e3469"',
      'add rule inet lantop counters_in meta l4proto udp counter comment "lantop:c:a2440ffc0e13"',
      'add rule inet lantop counters_in ip saddr ne 198.51.100.0/24 counter comment "lantop:c:aecf95a68e4a"',
      'add rule inet lantop counters_out oifname "ppp0" ip6 daddr ne 2001:db8:1::/64 udp dport 53 counter comment "lantop:c:e2f4cb3809c8"',
      'add rule inet lantop counters_fwd iifname "lan0" oifname "ppp0" ip daddr 203.0.113.0/24 tcp dport 8443 counter comment "lantop:c:bb0b4feea589"',
    ]);
    assert.ok(plan.commands.every(isNftScriptLine));
    assert.deepEqual(planNftCustomCounters(null, []).commands, []);
  });

  test('a sync against the real listings sends nothing, from either format', () => {
    for (const text of [JSON_LISTING, TEXT_LISTING]) {
      const plan = planNftCustomCounters(readCounterChains(text), COUNTERS);
      assert.deepEqual([plan.commands, plan.foreign], [[], []]);
    }
  });

  test('counters changed: the dropped rules deleted by handle, the new one added; a hook left without counters loses its chain', () => {
    const added = counter({ name: 'dns-in', hook: 'input', proto: 'udp', dport: '53' });
    const plan = planNftCustomCounters(readCounterChains(JSON_LISTING), [SSH_IN, NOT_LAN, PING4, UDP_IN, DNS6_OUT, added]);
    assert.deepEqual(plan.commands, [
      'delete rule inet lantop counters_in handle 6',
      'delete rule inet lantop counters_in handle 7',
      'flush chain inet lantop counters_fwd',
      'delete chain inet lantop counters_fwd',
      `add rule inet lantop counters_in udp dport 53 counter comment "${counterTag(added)}"`,
    ]);
    assert.deepEqual(planNftCustomCounters(readCounterChains(TEXT_LISTING), []).commands, [
      'flush chain inet lantop counters_in', 'delete chain inet lantop counters_in',
      'flush chain inet lantop counters_out', 'delete chain inet lantop counters_out',
      'flush chain inet lantop counters_fwd', 'delete chain inet lantop counters_fwd',
    ]);
  });

  test('an edited rule (its tag no longer names it) and a duplicate go by handle; a foreign rule stays and is reported', () => {
    const edited = TEXT_LISTING.replace('tcp dport 2222 counter', 'tcp dport 22 counter')
      .replace(/(\t\tmeta l4proto udp counter packets \d+ bytes \d+ comment "lantop:c:a2440ffc0e13" # handle 9\n)/, '$1\t\tmeta l4proto udp counter packets 0 bytes 0 comment "lantop:c:a2440ffc0e13" # handle 20\n\t\ttcp dport 80 counter packets 0 bytes 0 comment "theirs" # handle 21\n');
    const plan = planNftCustomCounters(readCounterChains(edited), COUNTERS);
    assert.deepEqual(plan.commands, [
      'delete rule inet lantop counters_in handle 8',
      'delete rule inet lantop counters_in handle 20',
      'add rule inet lantop counters_in iifname "lan0" tcp dport 2222 counter comment "lantop:c:793f9f2e3469"',
    ]);
    assert.deepEqual(plan.foreign, ['in chain counters_in: tcp dport 80 counter packets 0 bytes 0 comment "theirs"']);
    assert.deepEqual(planNftCustomCounters(readCounterChains(edited), COUNTERS.filter((c) => c.hook !== 'input')).commands.slice(0, 2), ['delete rule inet lantop counters_in handle 5', 'delete rule inet lantop counters_in handle 6']);
  });

  test('without handles: a chain of lantop\'s rules only is flushed and written again; one hooked otherwise is re-created', () => {
    const noHandles = TEXT_LISTING.replace(/ # handle \d+/g, '').replace('tcp dport 2222 counter', 'tcp dport 22 counter');
    const plan = planNftCustomCounters(readCounterChains(noHandles), COUNTERS);
    assert.equal(plan.commands[0], 'flush chain inet lantop counters_in');
    assert.equal(plan.commands.filter((c) => c.startsWith('add rule inet lantop counters_in')).length, 6);
    assert.equal(plan.commands.length, 7);
    const moved = TEXT_LISTING.replace('hook output priority filter - 10', 'hook output priority filter');
    assert.deepEqual(planNftCustomCounters(readCounterChains(moved), COUNTERS).commands, [
      'flush chain inet lantop counters_out',
      'delete chain inet lantop counters_out',
      'add chain inet lantop counters_out { type filter hook output priority filter - 10; policy accept; }',
      'add rule inet lantop counters_out oifname "ppp0" ip6 daddr ne 2001:db8:1::/64 udp dport 53 counter comment "lantop:c:e2f4cb3809c8"',
    ]);
  });

  test('invalid objects never reach a command', () => {
    const evil = { ...UDP_IN, inIf: 'eth0"; flush ruleset' } as CustomCounter;
    assert.deepEqual(planNftCustomCounters(null, [evil]).commands, []);
  });
});
