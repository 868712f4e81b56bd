// The nft planner against real listings of lantop's table (fixtures/nftables/1.0.6): the exact
// script of a first setup per layout, nothing to do on a complete table, repairs that keep the
// counters, layout switches, pruning, foreign objects left alone, hostile input never interpolated.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readFixture } from '../../../../test/fixtures.js';
import { findTable, type NftTable } from './nft-model.js';
import { parseNftJson } from './parse-json.js';
import { parseNftText } from './parse-text.js';
import { planNftFlush, planNftInstall, planNftRemove, validHostAddresses } from './plan.js';
import { isNftScriptLine } from './apply.js';
import type { NftLayout } from './layouts.js';

const json = (name: string): NftTable => findTable(parseNftJson(readFixture(`nftables/1.0.6/${name}-list-j.json`)), 'inet', 'lantop')!;
const text = (name: string, file = 'list-a.txt'): NftTable => findTable(parseNftText(readFixture(`nftables/1.0.6/${name}-${file}`)), 'inet', 'lantop')!;
const HOSTS = ['198.51.100.10', '198.51.100.11', '2001:db8:1::10', '2001:db8:1::11'];
const plan = (table: NftTable | null, layout: NftLayout, hosts: readonly string[] = HOSTS, wan = 'ppp0', isPruning = false) => planNftInstall(table, hosts, { wan, layout, isPruning });
/** The hosts of the static-sets and rules captures. */
const STATIC_HOSTS = [...HOSTS, ...Array.from({ length: 40 }, (_, i) => `198.51.100.${20 + i}`), ...['a0', 'a1', 'a2', 'b0', 'b1', 'b2'].map((s) => `2001:db8:1::${s}`)];
const RULES_HOSTS = [...HOSTS, '198.51.100.20', '2001:db8:1::a0'];
/** The router's own counters (issue 19), in every layout: what a table set up before them lacks. */
const ROUTER_CHAINS = [
  'add chain inet lantop router_in { type filter hook input priority filter - 10; policy accept; }',
  'add chain inet lantop router_out { type filter hook output priority filter - 10; policy accept; }',
];
const ROUTER_RULES = ['add rule inet lantop router_in iifname "ppp0" counter comment "lantop"', 'add rule inet lantop router_out oifname "ppp0" counter comment "lantop"'];
const ROUTER_ADDED = [...ROUTER_CHAINS, ...ROUTER_RULES];
const isRouterLine = (c: string) => / router_(in|out) /.test(c);

test('a first setup of each layout is exactly the script capture-nftables.sh fed to the real nft, plus the router\'s counters', () => {
  // The captures predate issue 19: their scripts are the plan without the router chains.
  const hostPart = (commands: string[]) => commands.filter((c) => !isRouterLine(c)).sort();
  assert.deepEqual(hostPart(plan(null, 'dynamic-sets').commands), readFixture('nftables/1.0.6/dynamic-sets.nft').trim().split('\n').sort());
  const staticScript = readFixture('nftables/1.0.6/static-sets.nft').trim().split('\n');
  assert.deepEqual(hostPart(plan(null, 'static-sets', STATIC_HOSTS).commands), staticScript.filter((l) => l !== '').sort());
  const rulesScript = readFixture('nftables/1.0.6/rules.nft').trim().split('\n').filter((l) => l !== '');
  assert.deepEqual(hostPart(plan(null, 'rules', RULES_HOSTS).commands), rulesScript.sort());
  for (const layout of ['dynamic-sets', 'static-sets', 'rules'] as const) {
    const commands = plan(null, layout).commands;
    assert.deepEqual(commands.filter(isRouterLine), ROUTER_ADDED, layout);
    assert.deepEqual(commands.slice(-2), ROUTER_RULES, `${layout}: the router's rules last`);
    assert.ok(commands.indexOf(ROUTER_CHAINS[0]!) > commands.findIndex((c) => c.startsWith('add chain inet lantop forward ')), 'after the forward chain');
  }
  const first = plan(null, 'dynamic-sets');
  assert.equal(first.commands[0], 'create table inet lantop', 'create, not add: a table someone made meanwhile refuses the whole script');
  assert.match(first.commands.at(-3)!, /^add rule inet lantop forward oifname "ppp0" update @ul6 \{ ip6 saddr counter \} comment "lantop"$/);
  assert.ok(first.commands.every(isNftScriptLine));
});

test('a complete table from before issue 19 (the captures): only the router\'s chains and rules are added (text with handles, text without, JSON)', () => {
  for (const table of [json('dynamic-sets'), text('dynamic-sets'), text('dynamic-sets', 'list.txt'), json('dynamic-sets-idle')]) assert.deepEqual(plan(table, 'dynamic-sets').commands, ROUTER_ADDED);
  for (const table of [json('static-sets'), text('static-sets'), text('static-sets', 'list.txt')]) assert.deepEqual(plan(table, 'static-sets', STATIC_HOSTS).commands, ROUTER_ADDED);
  for (const table of [json('rules'), text('rules'), text('rules', 'list.txt')]) assert.deepEqual(plan(table, 'rules', RULES_HOSTS).commands, ROUTER_ADDED);
});

test('new hosts: only their elements or rules are added, after the ones in place', () => {
  assert.deepEqual(plan(json('static-sets'), 'static-sets', [...STATIC_HOSTS, '198.51.100.200', '2001:db8:1::c0']).commands.filter((c) => !isRouterLine(c)), [
    'add element inet lantop dl4 { 198.51.100.200 }',
    'add element inet lantop dl6 { 2001:db8:1::c0 }',
    'add element inet lantop ul4 { 198.51.100.200 }',
    'add element inet lantop ul6 { 2001:db8:1::c0 }',
  ]);
  assert.deepEqual(plan(json('rules'), 'rules', [...RULES_HOSTS, '198.51.100.200']).commands.filter((c) => !isRouterLine(c)), [
    'add rule inet lantop dl ip daddr 198.51.100.200 counter return comment "lantop"',
    'add rule inet lantop ul ip saddr 198.51.100.200 counter return comment "lantop"',
  ]);
  assert.deepEqual(plan(json('dynamic-sets'), 'dynamic-sets', [...HOSTS, '198.51.100.200']).commands, ROUTER_ADDED, 'dynamic sets need no per-host command');
});

test('departed hosts keep their counters unless pruning; pruning removes them by element or by rule handle', () => {
  assert.deepEqual(plan(json('rules'), 'rules', HOSTS).commands, ROUTER_ADDED);
  assert.deepEqual(plan(json('rules'), 'rules', HOSTS, 'ppp0', true).commands, [...ROUTER_CHAINS, 'delete rule inet lantop dl handle 8', 'delete rule inet lantop dl handle 14', 'delete rule inet lantop ul handle 9', 'delete rule inet lantop ul handle 15', ...ROUTER_RULES]);
  const pruned = plan(json('static-sets'), 'static-sets', HOSTS, 'ppp0', true).commands.filter((c) => !isRouterLine(c));
  assert.equal(pruned.length, 2 * 40 + 2 * 6);
  assert.ok(pruned.includes('delete element inet lantop dl4 { 198.51.100.59 }'));
  assert.ok(pruned.includes('delete element inet lantop ul6 { 2001:db8:1::b2 }'));
  assert.ok(!pruned.some((c) => /198\.51\.100\.1[01] |2001:db8:1::1[01] /.test(c)), 'the listed hosts stay');
  const dynamic = plan(json('dynamic-sets'), 'dynamic-sets', [], 'ppp0', true);
  assert.deepEqual(dynamic.commands, ROUTER_ADDED);
  assert.match(dynamic.notes.join('\n'), /prune themselves/);
});

test('repair of an incomplete table (the chain gone) keeps the sets and their counters', () => {
  const repair = plan(json('incomplete-no-chain'), 'dynamic-sets');
  assert.deepEqual(repair.commands, [
    'add chain inet lantop forward { type filter hook forward priority filter + 10; policy accept; }',
    ...ROUTER_CHAINS,
    'add rule inet lantop forward iifname "ppp0" update @dl4 { ip daddr counter } comment "lantop"',
    'add rule inet lantop forward iifname "ppp0" update @dl6 { ip6 daddr counter } comment "lantop"',
    'add rule inet lantop forward oifname "ppp0" update @ul4 { ip saddr counter } comment "lantop"',
    'add rule inet lantop forward oifname "ppp0" update @ul6 { ip6 saddr counter } comment "lantop"',
    ...ROUTER_RULES,
  ]);
  assert.ok(!repair.commands.some((c) => c.includes(' set ')), 'no set is touched');
});

test('another WAN: the forward rules are replaced by handle (they hold no counters); without handles the chain is flushed', () => {
  const byHandle = plan(json('dynamic-sets'), 'dynamic-sets', HOSTS, 'eth1').commands.filter((c) => !isRouterLine(c));
  assert.deepEqual(byHandle.slice(0, 4), [6, 7, 8, 9].map((h) => `delete rule inet lantop forward handle ${h}`));
  assert.deepEqual(byHandle.slice(4).map((c) => /"(\w+)"/.exec(c)![1]), ['eth1', 'eth1', 'eth1', 'eth1']);
  const flushed = plan(text('dynamic-sets', 'list.txt'), 'dynamic-sets', HOSTS, 'eth1').commands.filter((c) => !isRouterLine(c));
  assert.equal(flushed[0], 'flush chain inet lantop forward');
  assert.equal(flushed.length, 5);
});

test('switching layouts: the old layout\'s rules, sets or chains go first, then the new objects, the forward rules last', () => {
  const toRules = plan(json('dynamic-sets'), 'rules');
  assert.deepEqual(toRules.commands.slice(0, 8), [
    ...[6, 7, 8, 9].map((h) => `delete rule inet lantop forward handle ${h}`),
    ...['dl4', 'dl6', 'ul4', 'ul6'].map((s) => `delete set inet lantop ${s}`),
  ]);
  assert.deepEqual(toRules.commands.slice(8, 10), ['add chain inet lantop dl', 'add chain inet lantop ul']);
  assert.deepEqual(toRules.commands.slice(10, 12), ROUTER_CHAINS);
  assert.deepEqual(toRules.commands.slice(-4), ['add rule inet lantop forward iifname "ppp0" jump dl comment "lantop"', 'add rule inet lantop forward oifname "ppp0" jump ul comment "lantop"', ...ROUTER_RULES]);
  assert.match(toRules.notes[0]!, /switching layout from dynamic-sets to rules/);
  const toDynamic = plan(json('static-sets'), 'dynamic-sets').commands;
  assert.deepEqual(toDynamic.filter((c) => c.startsWith('delete set')).length, 4);
  assert.ok(toDynamic.indexOf('delete set inet lantop dl4') < toDynamic.indexOf('add set inet lantop dl4 { type ipv4_addr; size 4096; flags dynamic,timeout; timeout 7d; }'));
  const fromRules = plan(json('rules'), 'static-sets', HOSTS).commands;
  assert.deepEqual(fromRules.filter((c) => /^(?:flush|delete) chain/.test(c)), ['flush chain inet lantop dl', 'delete chain inet lantop dl', 'flush chain inet lantop ul', 'delete chain inet lantop ul']);
});

test('foreign objects in lantop\'s table are reported (raw) and left alone', () => {
  const foreign = plan(json('foreign'), 'dynamic-sets');
  assert.deepEqual(foreign.commands, ROUTER_ADDED);
  assert.deepEqual(foreign.foreign, ['set block4 (ipv4_addr, 1 element(s))', 'counter wanbytes', 'in chain forward: iifname "lan0" counter', 'chain extra (1 rule(s))']);
  assert.deepEqual(plan(text('foreign'), 'dynamic-sets').foreign, ['set block4 (ipv4_addr, 1 element(s))', 'counter wanbytes', 'in chain forward: iifname "lan0" counter packets 8 bytes 1484', 'chain extra (1 rule(s))']);
  // Without handles the WAN change cannot flush a forward chain that holds someone else's rule.
  const stuck = plan(text('foreign', 'list.txt'), 'dynamic-sets', HOSTS, 'eth1');
  assert.ok(!stuck.commands.some((c) => c.startsWith('flush chain')));
  assert.match(stuck.notes.join('\n'), /stay: the listing has no rule handles/);
});

test('hostile and invalid addresses are rejected and never reach a command', () => {
  const hostile = ['198.51.100.10; reboot', '$(reboot)', '198.51.100.300', '"', "'", '0.0.0.0', '255.255.255.255', '127.0.0.1', '224.0.0.1', '::', '::1', 'fe80::1', 'ff02::1', '::ffff:198.51.100.10', '2001:db8::1%br-lan', '010.1.1.1', '', ' 198.51.100.12'];
  for (const layout of ['dynamic-sets', 'static-sets', 'rules'] as const) {
    const p = plan(null, layout, [...hostile, '198.51.100.12', '2001:DB8:0:0::0012']);
    assert.deepEqual(p.rejectedHosts, hostile);
    assert.ok(p.commands.every(isNftScriptLine), layout);
    if (layout !== 'dynamic-sets') assert.ok(p.commands.some((c) => c.includes(' 2001:db8::12 ')), 'written in its canonical form');
    for (const word of ['reboot', '$', "'", '300', '%', 'fe80', 'ff02', '127.0.0.1']) assert.ok(!p.commands.some((c) => c.includes(word)), `${layout}: ${word}`);
  }
  assert.deepEqual(validHostAddresses([5 as unknown as string, null as unknown as string]).rejected, ['5', 'null']);
});

test('an invalid WAN name is refused, never written into a rule', () => {
  for (const wan of ['ppp0"; flush ruleset', 'a b', '', 'x'.repeat(16), '$(x)']) assert.throws(() => plan(null, 'dynamic-sets', HOSTS, wan), /invalid WAN/);
});

test('any host list gives only lines of the planner\'s grammar', () => {
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.string(), fc.ipV4(), fc.ipV6()), { maxLength: 12 }), fc.constantFrom<NftLayout>('dynamic-sets', 'static-sets', 'rules'), (hosts, layout) => {
      for (const table of [null, json('rules'), json('static-sets')]) {
        const p = planNftInstall(table, hosts, { wan: 'ppp0', layout, isPruning: true });
        assert.ok(p.commands.every(isNftScriptLine), JSON.stringify(p.commands));
      }
    }),
    { numRuns: 200 },
  );
});

test('flush empties the counters and keeps the table; remove deletes the table and nothing else', () => {
  assert.deepEqual(planNftFlush(json('dynamic-sets')), ['dl4', 'dl6', 'ul4', 'ul6'].map((s) => `flush set inet lantop ${s}`));
  assert.deepEqual(planNftFlush(json('dynamic-sets-idle')), [], 'empty sets: nothing to flush');
  assert.deepEqual(planNftFlush(json('rules')), ['flush chain inet lantop dl', 'flush chain inet lantop ul']);
  assert.deepEqual(planNftFlush(json('foreign')), ['dl4', 'dl6', 'ul4', 'ul6'].map((s) => `flush set inet lantop ${s}`), 'block4 is not lantop\'s');
  assert.deepEqual(planNftFlush(null), []);
  for (const name of ['dynamic-sets', 'rules', 'foreign', 'incomplete-no-chain']) assert.deepEqual(planNftRemove(json(name)), ['delete table inet lantop']);
  assert.deepEqual(planNftRemove(null), []);
});

test('a dl chain holding someone else\'s rule: flush deletes lantop\'s rules by handle only', () => {
  const table = json('rules');
  const dl = table.chains.find((c) => c.name === 'dl')!;
  dl.rules.push({ norm: 'ip daddr 198.51.100.99 drop', display: 'ip daddr 198.51.100.99 drop', comment: null, counter: null, handle: 99 });
  assert.deepEqual(planNftFlush(table), [...[4, 6, 8, 10, 12, 14].map((h) => `delete rule inet lantop dl handle ${h}`), 'flush chain inet lantop ul']);
});
