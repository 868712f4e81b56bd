import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { planSetup, planFlush, planTeardown, type PlanOptions } from './plan.js';
import { readHostCounters } from './counters.js';
import { describeRule } from './rule-spec.js';
import type { Chain, IptablesListing, Rule } from '../../parsers/types.js';

const flat: PlanOptions = { wan: 'ppp0', layout: 'flat', isTagging: true, isAdopting: false, isPruning: false, iptables: 'iptables' };

function rule(partial: Partial<Rule>): Rule {
  return { num: null, pkts: 0, bytes: 0, isExact: true, target: null, prot: 'all', opt: '--', in: '*', out: '*', source: '0.0.0.0/0', destination: '0.0.0.0/0', extra: '', comment: null, ...partial };
}
function chain(name: string, rules: Rule[], policy: string | null = null): Chain {
  return { name, policy, references: policy === null ? 1 : null, rules };
}
function listing(...chains: Chain[]): IptablesListing {
  return { chains, warnings: [], errors: [] };
}
const boot = () => chain('FORWARD', [rule({ target: 'ACCEPT', extra: 'state RELATED,ESTABLISHED' })], 'ACCEPT');
const down = (ip: string, extra: Partial<Rule> = {}) => rule({ in: 'ppp0', destination: ip, comment: 'lantop', ...extra });
const up = (ip: string, extra: Partial<Rule> = {}) => rule({ out: 'ppp0', source: ip, comment: 'lantop', ...extra });

describe('planSetup (flat layout)', () => {
  test('on a bare router: chain, rules, then the jump at position 1 — in that order', () => {
    const plan = planSetup(listing(boot()), ['198.51.100.11', '198.51.100.10'], flat);
    assert.deepEqual(plan.commands, [
      'iptables -N TRAFFIC',
      'iptables -A TRAFFIC -i ppp0 -d 198.51.100.10 -m comment --comment lantop',
      'iptables -A TRAFFIC -s 198.51.100.10 -o ppp0 -m comment --comment lantop',
      'iptables -A TRAFFIC -i ppp0 -d 198.51.100.11 -m comment --comment lantop',
      'iptables -A TRAFFIC -s 198.51.100.11 -o ppp0 -m comment --comment lantop',
      'iptables -I FORWARD 1 -j TRAFFIC',
    ]);
    assert.deepEqual(plan.foreignRules, []);
  });

  test('is idempotent: a router that matches gets no commands', () => {
    const l = listing(chain('FORWARD', [rule({ target: 'TRAFFIC' }), ...boot().rules], 'ACCEPT'), chain('TRAFFIC', [down('198.51.100.10'), up('198.51.100.10')]));
    assert.deepEqual(planSetup(l, ['198.51.100.10'], flat).commands, []);
  });

  test('adds only the missing host, keeps departed hosts unless pruning', () => {
    const l = listing(chain('FORWARD', [rule({ target: 'TRAFFIC' })], 'ACCEPT'), chain('TRAFFIC', [down('198.51.100.10'), up('198.51.100.10')]));
    assert.deepEqual(planSetup(l, ['198.51.100.12'], flat).commands, [
      'iptables -A TRAFFIC -i ppp0 -d 198.51.100.12 -m comment --comment lantop',
      'iptables -A TRAFFIC -s 198.51.100.12 -o ppp0 -m comment --comment lantop',
    ]);
    const pruned = planSetup(l, ['198.51.100.12'], { ...flat, isPruning: true }).commands;
    assert.deepEqual(pruned.slice(0, 2), ['iptables -D TRAFFIC 2', 'iptables -D TRAFFIC 1']);
  });

  test('removes duplicates by line number (the later copy), keeping the older counter', () => {
    const l = listing(chain('FORWARD', [rule({ target: 'TRAFFIC' })], 'ACCEPT'), chain('TRAFFIC', [down('198.51.100.10', { bytes: 900 }), up('198.51.100.10'), down('198.51.100.10', { bytes: 5 })]));
    assert.deepEqual(planSetup(l, ['198.51.100.10'], flat).commands, ['iptables -D TRAFFIC 3']);
  });

  test('a jump that is not first is moved to position 1; duplicate jumps removed', () => {
    const l = listing(chain('FORWARD', [...boot().rules, rule({ target: 'TRAFFIC' }), rule({ target: 'TRAFFIC' })], 'ACCEPT'), chain('TRAFFIC', [down('198.51.100.10'), up('198.51.100.10')]));
    assert.deepEqual(planSetup(l, ['198.51.100.10'], flat).commands, ['iptables -I FORWARD 1 -j TRAFFIC', 'iptables -D FORWARD 4', 'iptables -D FORWARD 3']);
    const twoAtTop = listing(chain('FORWARD', [rule({ target: 'TRAFFIC' }), rule({ target: 'TRAFFIC' })], 'ACCEPT'), chain('TRAFFIC', []));
    assert.deepEqual(planSetup(twoAtTop, [], flat).commands, ['iptables -D FORWARD 2']);
  });

  test('foreign rules in TRAFFIC are reported, not taken over', () => {
    const foreign = rule({ in: 'ppp0', destination: '198.51.100.10' }); // the seed script's untagged rule
    const l = listing(chain('FORWARD', [rule({ target: 'TRAFFIC' })], 'ACCEPT'), chain('TRAFFIC', [foreign, rule({ target: 'DROP', prot: 'tcp' })]));
    const plan = planSetup(l, ['198.51.100.10'], flat);
    assert.equal(plan.foreignRules.length, 2);
    // Untagged mode (router without the comment match) recognises the seed's rules by shape.
    const untagged = planSetup(l, ['198.51.100.10'], { ...flat, isTagging: false });
    assert.equal(untagged.foreignRules.length, 1);
    assert.deepEqual(untagged.commands, ['iptables -A TRAFFIC -s 198.51.100.10 -o ppp0']);
  });

  test('a rule for an old WAN name is replaced', () => {
    const l = listing(chain('FORWARD', [rule({ target: 'TRAFFIC' })], 'ACCEPT'), chain('TRAFFIC', [down('198.51.100.10', { in: 'eth0' }), up('198.51.100.10')]));
    assert.deepEqual(planSetup(l, ['198.51.100.10'], flat).commands, ['iptables -D TRAFFIC 1', 'iptables -A TRAFFIC -i ppp0 -d 198.51.100.10 -m comment --comment lantop']);
  });
});

describe('planSetup (split layout)', () => {
  const split: PlanOptions = { ...flat, layout: 'split' };
  test('per-direction sub-chains with RETURN, jumps from TRAFFIC, FORWARD jump last', () => {
    const plan = planSetup(listing(boot()), ['198.51.100.10'], split);
    assert.deepEqual(plan.commands, [
      'iptables -N TRAFFIC',
      'iptables -N TRAFFIC_DOWN',
      'iptables -N TRAFFIC_UP',
      'iptables -A TRAFFIC -i ppp0 -m comment --comment lantop -j TRAFFIC_DOWN',
      'iptables -A TRAFFIC -o ppp0 -m comment --comment lantop -j TRAFFIC_UP',
      'iptables -A TRAFFIC_DOWN -d 198.51.100.10 -m comment --comment lantop -j RETURN',
      'iptables -A TRAFFIC_UP -s 198.51.100.10 -m comment --comment lantop -j RETURN',
      'iptables -I FORWARD 1 -j TRAFFIC',
    ]);
  });
  test('switching from flat to split removes the flat rules and never leaves a dangling jump', () => {
    const l = listing(chain('FORWARD', [rule({ target: 'TRAFFIC' })], 'ACCEPT'), chain('TRAFFIC', [down('198.51.100.10'), up('198.51.100.10')]));
    const plan = planSetup(l, ['198.51.100.10'], split);
    assert.ok(plan.commands.indexOf('iptables -N TRAFFIC_DOWN') < plan.commands.indexOf('iptables -A TRAFFIC -i ppp0 -m comment --comment lantop -j TRAFFIC_DOWN'));
    assert.ok(plan.commands.includes('iptables -D TRAFFIC 2') && plan.commands.includes('iptables -D TRAFFIC 1'));
    const back = planSetup(listing(chain('FORWARD', [rule({ target: 'TRAFFIC' })], 'ACCEPT'), chain('TRAFFIC', [rule({ in: 'ppp0', target: 'TRAFFIC_DOWN', comment: 'lantop' })]), chain('TRAFFIC_DOWN', [rule({ destination: '198.51.100.10', target: 'RETURN', comment: 'lantop' })]), chain('TRAFFIC_UP', [])), ['198.51.100.10'], flat);
    const deleteJump = back.commands.indexOf('iptables -D TRAFFIC 1');
    assert.ok(deleteJump >= 0 && deleteJump < back.commands.indexOf('iptables -X TRAFFIC_DOWN'));
  });
});

describe('never trust what the router told us', () => {
  const hostile = ['198.51.100.5;reboot', '$(touch /tmp/pwned)', '198.51.100.7\niptables -F', '198.51.100.8 -j DROP', '`id`', '', ' 198.51.100.9', '198.51.100.256', '0198.51.100.1', '0.0.0.0'];
  test('hostile host entries are rejected and never reach a command', () => {
    const plan = planSetup(listing(boot()), [...hostile, '198.51.100.20'], flat);
    assert.deepEqual(plan.rejectedHosts.sort(), [...hostile].sort());
    for (const c of plan.commands) assert.match(c, /^iptables -[NAIDX] [A-Z_]+( [-A-Za-z0-9_.]+)*$/);
    assert.equal(plan.commands.filter((c) => c.includes('198.51.100.20')).length, 2);
  });
  test('every command is made of safe tokens, whatever the input (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string(), fc.ipV4(), fc.constantFrom(...hostile)), { maxLength: 300 }), (ips) => {
        for (const layout of ['flat', 'split'] as const) {
          for (const c of planSetup(listing(boot()), ips, { ...flat, layout }).commands) {
            assert.match(c, /^iptables -[NAIDX] [A-Z_]+( [-A-Za-z0-9_.]+)*$/, c);
          }
        }
      }),
      { numRuns: 200 },
    );
  });
  test('an invalid WAN name is refused outright', () => {
    assert.throws(() => planSetup(listing(boot()), [], { ...flat, wan: 'ppp0;reboot' }));
  });
});

test('flush empties lantop chains only; teardown removes the jumps (highest first) then the chains', () => {
  const l = listing(chain('FORWARD', [rule({ target: 'TRAFFIC' }), rule({ target: 'ACCEPT' }), rule({ target: 'TRAFFIC' })], 'ACCEPT'), chain('TRAFFIC', [down('198.51.100.10')]), chain('OTHER', []));
  assert.deepEqual(planFlush(l, 'iptables'), ['iptables -F TRAFFIC']);
  assert.deepEqual(planTeardown(l, 'iptables'), ['iptables -D FORWARD 3', 'iptables -D FORWARD 1', 'iptables -F TRAFFIC', 'iptables -X TRAFFIC']);
  assert.deepEqual(planTeardown(listing(boot()), 'iptables'), []);
});

test('readHostCounters reads both layouts to the same numbers and ignores duplicates', () => {
  const flatListing = listing(chain('TRAFFIC', [down('198.51.100.10', { bytes: 5_000_000_000 }), up('198.51.100.10', { bytes: 7 }), down('198.51.100.10', { bytes: 1 }), rule({ target: 'DROP', destination: '198.51.100.99' })]));
  const splitListing = listing(
    chain('TRAFFIC', [rule({ in: 'ppp0', target: 'TRAFFIC_DOWN', bytes: 99 }), rule({ out: 'ppp0', target: 'TRAFFIC_UP', bytes: 99 })]),
    chain('TRAFFIC_DOWN', [rule({ destination: '198.51.100.10', target: 'RETURN', bytes: 5_000_000_000 })]),
    chain('TRAFFIC_UP', [rule({ source: '198.51.100.10', target: 'RETURN', bytes: 7 })]),
  );
  const expected = new Map([['198.51.100.10', { downBytes: 5_000_000_000, upBytes: 7, isExact: true }]]);
  assert.deepEqual(readHostCounters(flatListing, 'ppp0'), expected);
  assert.deepEqual(readHostCounters(splitListing, 'ppp0'), expected);
});

test('describeRule renders a listed rule on one line, comment included', () => {
  assert.equal(describeRule(rule({ target: 'DROP', prot: 'tcp', in: 'ppp0', destination: '198.51.100.10', extra: 'tcp dpt:22', comment: 'seed' })), 'DROP tcp ppp0 * 0.0.0.0/0 198.51.100.10 tcp dpt:22 /* seed */');
  assert.equal(describeRule(rule({ in: 'ppp0', destination: '198.51.100.10' })), 'all ppp0 * 0.0.0.0/0 198.51.100.10');
});
