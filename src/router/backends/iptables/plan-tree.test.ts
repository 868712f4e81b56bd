// The tree layout (issue 21): its groups, its plans against the emulator's iptables (real 1.4.21
// semantics and listing), and that it counts exactly what flat and split count, packet by packet.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createIptablesState, parseIpv4, runIptables, traversePackets, type IptablesState } from '../../../emulator/iptables.js';
import { parseIptablesListing } from '../../parsers/iptables-listing.js';
import { addressGroups, layoutOfListing, LAYOUTS, TREE_SUBCHAINS, type RuleLayout } from './layouts.js';
import { planFlush, planSetup, planTeardown, type PlanOptions } from './plan.js';
import { readHostCounters } from './counters.js';
import { prefixOf, specOfListedPrefixRule } from './prefix-spec.js';

const options = (layout: RuleLayout, extra: Partial<PlanOptions> = {}): PlanOptions => ({ wan: 'ppp0', layout, isTagging: true, isAdopting: false, isPruning: false, iptables: 'iptables', ...extra });
const hosts = (octets: readonly number[], net = '198.51.100') => octets.map((o) => `${net}.${o}`);
const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

function router(): IptablesState {
  const state = createIptablesState('1.4.21');
  run(state, 'iptables -A FORWARD -i br0 -o ppp0 -j ACCEPT');
  return state;
}
function run(state: IptablesState, command: string): void {
  const r = runIptables(state, command.split(' ').slice(1));
  assert.equal(r.status, 0, `${command}: ${r.stderr}`);
}
const listingOf = (state: IptablesState) => parseIptablesListing(runIptables(state, ['-L', '-v', '-x', '-n', '--line-numbers']).stdout);
function setup(state: IptablesState, ips: string[], opts: PlanOptions): string[] {
  const plan = planSetup(listingOf(state), ips, opts);
  assert.deepEqual(plan.foreignRules, []);
  for (const c of plan.commands) run(state, c);
  return plan.commands;
}
/** Sends `bytes` down to and up from each address through FORWARD (the router's WAN is ppp0). */
function traffic(state: IptablesState, flows: Array<[string, number, number]>): void {
  for (const [ip, down, up] of flows) {
    if (down > 0) traversePackets(state, 'FORWARD', { inInterface: 'ppp0', outInterface: 'br0', source: parseIpv4('203.0.113.9')!, destination: parseIpv4(ip)!, protocol: 6, packets: 1, bytes: down });
    if (up > 0) traversePackets(state, 'FORWARD', { inInterface: 'br0', outInterface: 'ppp0', source: parseIpv4(ip)!, destination: parseIpv4('203.0.113.9')!, protocol: 6, packets: 1, bytes: up });
  }
}

describe('addressGroups', () => {
  test('a full /24: 16 groups of /28, sub-chains 0…15, every host once, in order', () => {
    const groups = addressGroups(hosts(range(1, 254)));
    assert.equal(groups.length, 16);
    assert.deepEqual(groups.map((g) => g.prefix).slice(0, 3), ['198.51.100.0/28', '198.51.100.16/28', '198.51.100.32/28']);
    assert.deepEqual(groups.map((g) => g.index), range(0, 15));
    assert.deepEqual(groups.flatMap((g) => g.hosts), hosts(range(1, 254)));
  });

  test('hosts spread over many /24s: coarser groups, never more than 32, never overlapping', () => {
    const spread = range(0, 199).map((i) => `10.${i % 50}.${(i * 7) % 256}.${1 + (i % 200)}`);
    const groups = addressGroups(spread);
    assert.ok(groups.length <= 2 * TREE_SUBCHAINS, `${groups.length} groups`);
    assert.equal(new Set(groups.map((g) => g.prefix)).size, groups.length);
    assert.equal(groups.flatMap((g) => g.hosts).length, spread.length);
    for (const g of groups) for (const ip of g.hosts) assert.ok(prefixCovers(g.prefix, ip), `${ip} in ${g.prefix}`);
    for (const g of groups) assert.equal(prefixOf(g.prefix), g.prefix, 'a prefix lantop reads back as its own');
  });
});

function prefixCovers(prefix: string, ip: string): boolean {
  const [base, len] = prefix.split('/');
  const size = 2 ** (32 - Number(len));
  return Math.floor(parseIpv4(base!)! / size) === Math.floor(parseIpv4(ip)! / size);
}

describe('prefixOf and specOfListedPrefixRule', () => {
  test('only network addresses with lengths lantop writes', () => {
    assert.equal(prefixOf('198.51.100.16/28'), '198.51.100.16/28');
    for (const bad of ['198.51.100.17/28', '198.51.100.16/32', '0.0.0.0/0', '10.0.0.0/7', '198.51.100.16/028', '198.51.100.016/28', '198.51.100.16', 'x/28']) assert.equal(prefixOf(bad), null, bad);
  });

  test('a group rule reads as the spec lantop wrote; other matches or targets leave it foreign', () => {
    const rule = { num: 1, pkts: 0, bytes: 0, isExact: true, target: 'TRAFFIC_DOWN_1', prot: 'all', opt: '--', in: '*', out: '*', source: '0.0.0.0/0', destination: '198.51.100.16/28', extra: '', comment: 'lantop' };
    assert.deepEqual(specOfListedPrefixRule('TRAFFIC_DOWN', rule), { chain: 'TRAFFIC_DOWN', in: null, out: null, source: null, destination: '198.51.100.16/28', target: 'TRAFFIC_DOWN_1', isTagged: true });
    assert.equal(specOfListedPrefixRule('TRAFFIC_DOWN', { ...rule, extra: 'tcp dpt:80' }), null);
    assert.equal(specOfListedPrefixRule('TRAFFIC_DOWN', { ...rule, destination: '198.51.100.17' }), null, 'a host rule is rule-spec.ts business');
  });
});

describe('planSetup (tree layout)', () => {
  test('on a bare router: chains, group rules, host rules, the jump last; then idempotent', () => {
    const state = router();
    const commands = setup(state, hosts([10, 11, 40]), options('tree'));
    assert.deepEqual(commands, [
      'iptables -N TRAFFIC', 'iptables -N TRAFFIC_DOWN', 'iptables -N TRAFFIC_UP',
      'iptables -N TRAFFIC_DOWN_0', 'iptables -N TRAFFIC_DOWN_2', 'iptables -N TRAFFIC_UP_0', 'iptables -N TRAFFIC_UP_2',
      'iptables -A TRAFFIC -i ppp0 -m comment --comment lantop -j TRAFFIC_DOWN',
      'iptables -A TRAFFIC -o ppp0 -m comment --comment lantop -j TRAFFIC_UP',
      'iptables -A TRAFFIC_DOWN -d 198.51.100.0/28 -m comment --comment lantop -j TRAFFIC_DOWN_0',
      'iptables -A TRAFFIC_DOWN -d 198.51.100.32/28 -m comment --comment lantop -j TRAFFIC_DOWN_2',
      'iptables -A TRAFFIC_UP -s 198.51.100.0/28 -m comment --comment lantop -j TRAFFIC_UP_0',
      'iptables -A TRAFFIC_UP -s 198.51.100.32/28 -m comment --comment lantop -j TRAFFIC_UP_2',
      'iptables -A TRAFFIC_DOWN_0 -d 198.51.100.10 -m comment --comment lantop -j RETURN',
      'iptables -A TRAFFIC_DOWN_0 -d 198.51.100.11 -m comment --comment lantop -j RETURN',
      'iptables -A TRAFFIC_DOWN_2 -d 198.51.100.40 -m comment --comment lantop -j RETURN',
      'iptables -A TRAFFIC_UP_0 -s 198.51.100.10 -m comment --comment lantop -j RETURN',
      'iptables -A TRAFFIC_UP_0 -s 198.51.100.11 -m comment --comment lantop -j RETURN',
      'iptables -A TRAFFIC_UP_2 -s 198.51.100.40 -m comment --comment lantop -j RETURN',
      'iptables -I FORWARD 1 -j TRAFFIC',
    ]);
    assert.equal(layoutOfListing(listingOf(state)), 'tree');
    assert.deepEqual(planSetup(listingOf(state), hosts([10, 11, 40]), options('tree')).commands, []);
    assert.deepEqual(planSetup(listingOf(state), hosts([10, 11, 40]), options('tree', { isTagging: false })).foreignRules, [], 'tagged rules are ours either way');
  });

  test('a new host joins its group (a new group gets its chain); a departed host keeps its rule unless pruning', () => {
    const state = router();
    setup(state, hosts([10, 40]), options('tree'));
    assert.deepEqual(planSetup(listingOf(state), hosts([10, 12, 40]), options('tree')).commands, [
      'iptables -A TRAFFIC_DOWN_0 -d 198.51.100.12 -m comment --comment lantop -j RETURN',
      'iptables -A TRAFFIC_UP_0 -s 198.51.100.12 -m comment --comment lantop -j RETURN',
    ]);
    const grown = planSetup(listingOf(state), hosts([10, 40, 200]), options('tree')).commands;
    assert.ok(grown.includes('iptables -N TRAFFIC_DOWN_12') && grown.includes('iptables -A TRAFFIC_DOWN -d 198.51.100.192/28 -m comment --comment lantop -j TRAFFIC_DOWN_12'), grown.join('\n'));
    assert.deepEqual(planSetup(listingOf(state), hosts([10]), options('tree')).commands, [], 'departed .40 keeps its rules and group');
    const pruned = planSetup(listingOf(state), hosts([10]), options('tree', { isPruning: true })).commands;
    assert.ok(pruned.includes('iptables -X TRAFFIC_DOWN_2') && pruned.includes('iptables -D TRAFFIC_DOWN 2'), pruned.join('\n'));
  });

  test('untagged (no comment match): its own rules are recognised by their shape', () => {
    const state = router();
    setup(state, hosts([10, 40]), options('tree', { isTagging: false }));
    const again = planSetup(listingOf(state), hosts([10, 40]), options('tree', { isTagging: false }));
    assert.deepEqual([again.commands, again.foreignRules], [[], []]);
  });

  test('switching split → tree → split, flush and teardown leave nothing behind', () => {
    const state = router();
    const pristine = runIptables(state, ['-S']).stdout;
    setup(state, hosts(range(5, 60)), options('split'));
    setup(state, hosts(range(5, 60)), options('tree'));
    assert.equal(layoutOfListing(listingOf(state)), 'tree');
    assert.deepEqual(planSetup(listingOf(state), hosts(range(5, 60)), options('tree')).commands, []);
    setup(state, hosts(range(5, 60)), options('split'));
    assert.equal(layoutOfListing(listingOf(state)), 'split');
    assert.ok(!/TRAFFIC_DOWN_\d/.test(runIptables(state, ['-S']).stdout), 'no sub-chain left');
    setup(state, hosts(range(5, 60)), options('tree'));
    for (const c of planFlush(listingOf(state), 'iptables')) run(state, c);
    assert.deepEqual(readHostCounters(listingOf(state), 'ppp0').size, 0);
    for (const c of planTeardown(listingOf(state), 'iptables')) run(state, c);
    assert.equal(runIptables(state, ['-S']).stdout, pristine);
  });
});

describe('the tree counts exactly what flat and split count', () => {
  test('any hosts and traffic: the same bytes per host and direction in all three layouts (property)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: 254 }), { minLength: 1, maxLength: 80 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 0, max: 5000 })), { maxLength: 60 }),
        fc.boolean(),
        (octets, flows, isTagging) => {
          const ips = hosts(octets);
          const counted: Array<Map<string, unknown>> = [];
          for (const layout of ['flat', 'split', 'tree'] as const) {
            const state = router();
            setup(state, ips, options(layout, { isTagging }));
            traffic(state, flows.map(([o, d, u]) => [`198.51.100.${o}`, d, u]));
            const counters = readHostCounters(listingOf(state), 'ppp0');
            counted.push(new Map([...counters].map(([ip, c]) => [ip, [c.downBytes, c.upBytes]])));
          }
          assert.deepEqual(counted[2], counted[0], 'tree = flat');
          assert.deepEqual(counted[1], counted[0], 'split = flat');
          assert.equal(counted[2]!.size, new Set(ips).size);
        },
      ),
      { numRuns: 40 },
    );
  });

  test('the strategy reads only host rules as counters', () => {
    assert.equal(LAYOUTS.tree.counterOf({ chain: 'TRAFFIC_DOWN_3', in: null, out: null, source: null, destination: '198.51.100.50', target: 'RETURN', isTagged: true }, 'ppp0')?.address, '198.51.100.50');
    assert.equal(LAYOUTS.tree.counterOf({ chain: 'TRAFFIC_UP_3', in: null, out: null, source: '198.51.100.50', destination: null, target: 'RETURN', isTagged: true }, 'ppp0')?.direction, 'up');
    assert.equal(LAYOUTS.tree.counterOf({ chain: 'TRAFFIC_DOWN_16', in: null, out: null, source: null, destination: '198.51.100.50', target: 'RETURN', isTagged: true }, 'ppp0'), null, 'not one of its chains');
  });
});
