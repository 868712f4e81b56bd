// The users chain (issue 18, mode users): planned and read back against the real listings captured
// in the gateway lab (fixtures/iptables/1.8.9-legacy/users-chain-*.txt, SOURCE.md); a plan on the
// listing after it is empty; stale, edited and foreign rules; the jump's position; teardown.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFixture } from '../../../../test/fixtures.js';
import { parseIptablesListing } from '../../parsers/iptables-listing.js';
import { isUsersChainInstalled, planUserChain, planUserChainRemoval, readSessionCounters, sessionRuleWords, shellLine } from './user-chain.js';

const fixture = (name: string) => parseIptablesListing(readFixture(`iptables/1.8.9-legacy/users-chain-${name}.txt`));
const ALICE = { pid: 29073, user: 'alice', clientIp: '203.0.113.10', clientPort: 37680 };
const ODD = { pid: 29086, user: '_-odd-name$', clientIp: '203.0.113.11', clientPort: 39360 };
const opts = (sessions: typeof ALICE[]) => ({ iptables: 'iptables', family: 4 as const, sshPort: 22, sessions });

describe('planUserChain', () => {
  test('on the gateway without the chain: exactly the plan that was sent in the lab', () => {
    const plan = planUserChain(fixture('absent'), opts([ALICE, ODD]));
    assert.deepEqual(plan.commands.map(shellLine).join('\n') + '\n', readFixture('iptables/1.8.9-legacy/users-chain-plan.txt'));
    assert.deepEqual(plan.added.map((s) => s.user), ['alice', '_-odd-name$']);
  });

  test('the listing after it needs nothing more; reads both sessions\' counters (the oracle\'s bytes)', () => {
    const listing = fixture('two-sessions');
    assert.equal(isUsersChainInstalled(listing), true);
    assert.deepEqual(planUserChain(listing, opts([ALICE, ODD])).commands, []);
    const counters = readSessionCounters(listing, 22, 4);
    assert.deepEqual([...counters.values()].map((c) => [c.id, c.user, c.downBytes, c.upBytes, c.downPackets, c.upPackets, c.isComplete]), [
      ['29073/203.0.113.10/37680', 'alice', 100780, 5808, 10, 11, true],
      ['29086/203.0.113.11/39360', '_-odd-name$', 7464, 30616, 6, 8, true],
    ]);
  });

  test('iptables-nft lists the same shapes (the capture with Debian 12\'s default backend)', () => {
    const listing = parseIptablesListing(readFixture('iptables/1.8.9-nft/users-chain-two-sessions.txt'));
    const counters = readSessionCounters(listing, 22, 4);
    assert.deepEqual([...counters.values()].map((c) => [c.id, c.user, c.downBytes, c.upBytes]), [
      ['30688/203.0.113.10/33028', 'alice', 100780, 5860],
      ['30717/203.0.113.11/60104', '_-odd-name$', 7464, 30564],
    ]);
    const sessions = [...counters.values()].map(({ pid, user, clientIp, clientPort }) => ({ pid, user, clientIp, clientPort }));
    assert.deepEqual(planUserChain(listing, opts(sessions)).commands, []);
  });

  test('an ended session goes by line number, highest first; a new one is appended', () => {
    const bob = { pid: 3100, user: 'bob', clientIp: '203.0.113.10', clientPort: 40000 };
    const plan = planUserChain(fixture('two-sessions'), opts([ODD, bob]));
    assert.deepEqual(plan.commands.map(shellLine), [
      'iptables -D LANTOP_USERS 2',
      'iptables -D LANTOP_USERS 1',
      "iptables -A LANTOP_USERS -s 203.0.113.10 -p tcp -m tcp --sport 40000 --dport 22 -m comment --comment 'pid:3100 user:bob'",
      "iptables -A LANTOP_USERS -d 203.0.113.10 -p tcp -m tcp --sport 22 --dport 40000 -m comment --comment 'pid:3100 user:bob'",
    ]);
    assert.deepEqual(plan.removed, [ALICE]);
  });

  test('missing jumps are put back at position 1 (self-healing); a jump behind a firewall rule moves', () => {
    const text = readFixture('iptables/1.8.9-legacy/users-chain-two-sessions.txt')
      .replace(/Chain INPUT[^\n]*\n[^\n]*\n1 [^\n]*\n/, 'Chain INPUT (policy ACCEPT 0 packets, 0 bytes)\nnum      pkts      bytes target     prot opt in     out     source               destination\n1            0        0 ACCEPT     0    --  lo     *       0.0.0.0/0            0.0.0.0/0\n2            0        0 LANTOP_USERS  0    --  *      *       0.0.0.0/0            0.0.0.0/0\n')
      .replace(/(Chain OUTPUT[^\n]*\n[^\n]*\n)1 [^\n]*\n/, '$1');
    const plan = planUserChain(parseIptablesListing(text), opts([ALICE, ODD]));
    assert.deepEqual(plan.commands.map(shellLine), ['iptables -D INPUT -j LANTOP_USERS', 'iptables -I INPUT 1 -j LANTOP_USERS', 'iptables -I OUTPUT 1 -j LANTOP_USERS']);
  });

  test('a tagged rule someone edited is stale; an untagged one is foreign and stays', () => {
    const text = readFixture('iptables/1.8.9-legacy/users-chain-two-sessions.txt')
      .replace('tcp spt:37680 dpt:22 /* pid:29073', 'tcp spt:37680 dpt:2222 /* pid:29073')
      .trimEnd() + '\n5           0        0 ACCEPT     0    --  *      *       192.0.2.1            0.0.0.0/0\n';
    const plan = planUserChain(parseIptablesListing(text), opts([ALICE, ODD]));
    assert.deepEqual(plan.commands.map(shellLine), ['iptables -D LANTOP_USERS 1', "iptables -A LANTOP_USERS -s 203.0.113.10 -p tcp -m tcp --sport 37680 --dport 22 -m comment --comment 'pid:29073 user:alice'"]);
    assert.equal(plan.foreignRules.length, 1);
  });

  test('invalid sessions never reach a rule', () => {
    assert.throws(() => sessionRuleWords({ ...ALICE, user: 'alice; rm -rf /' }, 'up', 22, 4), TypeError);
    assert.throws(() => sessionRuleWords({ ...ALICE, clientIp: '203.0.113.10 -j DROP' }, 'up', 22, 4), TypeError);
    assert.throws(() => sessionRuleWords({ ...ALICE, clientPort: 70000 }, 'up', 22, 4), TypeError);
    const plan = planUserChain(fixture('absent'), opts([{ ...ALICE, user: 'Root' }, { ...ALICE, clientIp: '2001:db8::1' }]));
    assert.deepEqual(plan.added, []);
  });

  test('ip6tables: the captured IPv6 listing reads back and needs nothing', () => {
    const listing = fixture('ip6tables');
    const bob6 = { pid: 4242, user: 'bob', clientIp: '2001:db8::10', clientPort: 50123 };
    assert.deepEqual(planUserChain(listing, { iptables: 'ip6tables', family: 6, sshPort: 22, sessions: [bob6] }).commands, []);
    assert.deepEqual([...readSessionCounters(listing, 22, 6).keys()], ['4242/2001:db8::10/50123']);
    assert.deepEqual(readSessionCounters(listing, 22, 4).size, 0);
  });

  test('teardown: jumps by spec, then the chain; nothing when it is not there', () => {
    assert.deepEqual(planUserChainRemoval(fixture('two-sessions'), 'iptables').commands.map(shellLine), [
      'iptables -D INPUT -j LANTOP_USERS', 'iptables -D OUTPUT -j LANTOP_USERS', 'iptables -F LANTOP_USERS', 'iptables -X LANTOP_USERS',
    ]);
    assert.deepEqual(planUserChainRemoval(fixture('absent'), 'iptables').commands, []);
  });
});
