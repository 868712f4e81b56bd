// The router's own WAN counters (issue 19) in the iptables backend: plans against listings with and
// without TRAFFIC_IN/TRAFFIC_OUT — captured ones (fixtures/iptables/1.8.9-*, set up before issue 19)
// and ones printed by the emulator's iptables (1.4.21 semantics and output, src/emulator/SOURCE) —
// readings, flush, teardown, and what the emulated kernel counts in them.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createIptablesState, parseIpv4, runIptables, traversePackets, type IptablesState } from '../../../emulator/iptables.js';
import { firmwareForOverride } from '../../firmware/families.js';
import { parseIptablesListing } from '../../parsers/iptables-listing.js';
import type { Chain, IptablesListing, Rule } from '../../parsers/types.js';
import { IptablesBackend } from './iptables-backend.js';
import { planFlush, planSetup, planTeardown } from './plan.js';
import { planRouterCounters, readRouterCounters } from './router-chains.js';

const HOSTS = ['198.51.100.10', '198.51.100.11'];
const OPTS = { isAdopting: false, isPruning: false };
const ROUTER_PLAN = [
  'iptables -N TRAFFIC_IN',
  'iptables -N TRAFFIC_OUT',
  'iptables -A TRAFFIC_IN -i ppp0 -m comment --comment lantop',
  'iptables -A TRAFFIC_OUT -o ppp0 -m comment --comment lantop',
  'iptables -I INPUT 1 -j TRAFFIC_IN',
  'iptables -I OUTPUT 1 -j TRAFFIC_OUT',
];

function rule(partial: Partial<Rule>): Rule {
  return { num: null, pkts: 0, bytes: 0, isExact: true, target: null, prot: 'all', opt: '--', in: '*', out: '*', source: '0.0.0.0/0', destination: '0.0.0.0/0', extra: '', comment: null, ...partial };
}
function chain(name: string, rules: Rule[], policy: string | null = null): Chain {
  return { name, policy, references: policy === null ? 1 : null, rules };
}
function listing(...chains: Chain[]): IptablesListing {
  return { chains, warnings: [], errors: [] };
}
const readFixture = (path: string) => readFileSync(new URL(`../../../../fixtures/${path}`, import.meta.url), 'utf8');

/** The emulated router: its iptables, the backend on it, a read and a run. */
function emulated(options: { wan?: string } = {}) {
  const state = createIptablesState('1.4.21');
  const ipt = (command: string) => {
    const r = runIptables(state, command.split(' ').slice(1));
    return r.stdout + r.stderr;
  };
  // A consumer firewall's INPUT: established first, new connections from the WAN dropped.
  ipt('iptables -A INPUT -i lo -j ACCEPT');
  ipt('iptables -A INPUT -i ppp0 -j DROP');
  const backend = new IptablesBackend(firmwareForOverride('broadcom-cli'), { wan: options.wan ?? 'ppp0' });
  const read = () => backend.read(ipt(backend.readCommand.command));
  const run = async (spec: { command: string }) => ipt(spec.command);
  return { state, ipt, backend, read, run };
}

const packet = (state: IptablesState, hook: 'INPUT' | 'FORWARD' | 'OUTPUT', inInterface: string, outInterface: string, bytes: number) =>
  traversePackets(state, hook, { inInterface, outInterface, source: parseIpv4('203.0.113.1')!, destination: parseIpv4('203.0.113.2')!, protocol: 1, packets: 1, bytes });

describe('planRouterCounters', () => {
  const base = { wan: 'ppp0', isTagging: true, iptables: 'iptables' };
  const input = (...rules: Rule[]) => chain('INPUT', [rule({ target: 'ACCEPT', in: 'lo' }), ...rules], 'ACCEPT');

  test('without the chains: chains, their rules, then the jumps at position 1 (before the firewall\'s ACCEPT/DROP)', () => {
    const plan = planRouterCounters(listing(input(rule({ target: 'DROP', in: 'ppp0' })), chain('FORWARD', [], 'ACCEPT'), chain('OUTPUT', [], 'ACCEPT')), base);
    assert.deepEqual(plan.commands, ROUTER_PLAN);
    assert.deepEqual(plan.foreignRules, []);
    assert.match(plan.notes.join('\n'), /router's own WAN traffic/);
  });

  test('in place: nothing to do; untagged when the router has no comment match, and recognised by shape then', () => {
    const inPlace = (comment: string | null) => listing(
      chain('INPUT', [rule({ target: 'TRAFFIC_IN' }), rule({ target: 'ACCEPT', in: 'lo' })], 'ACCEPT'),
      chain('OUTPUT', [rule({ target: 'TRAFFIC_OUT' })], 'ACCEPT'),
      chain('TRAFFIC_IN', [rule({ in: 'ppp0', comment })]),
      chain('TRAFFIC_OUT', [rule({ out: 'ppp0', comment })]),
    );
    assert.deepEqual(planRouterCounters(inPlace('lantop'), base).commands, []);
    assert.deepEqual(planRouterCounters(inPlace(null), { ...base, isTagging: false }).commands, []);
    const untagged = planRouterCounters(listing(chain('INPUT', [], 'ACCEPT'), chain('OUTPUT', [], 'ACCEPT')), { ...base, isTagging: false });
    assert.deepEqual(untagged.commands, ROUTER_PLAN.map((c) => c.replace(' -m comment --comment lantop', '')));
    // Tagging, an untagged rule in lantop's chain is someone else's.
    const foreign = planRouterCounters(inPlace(null), base);
    assert.equal(foreign.foreignRules.length, 2);
    assert.deepEqual(foreign.commands, ['iptables -A TRAFFIC_IN -i ppp0 -m comment --comment lantop', 'iptables -A TRAFFIC_OUT -o ppp0 -m comment --comment lantop']);
  });

  test('a WAN rename, a duplicate, a jump pushed down by a firewall reload and a second jump are repaired; counters of the kept rule stay', () => {
    const l = listing(
      chain('INPUT', [rule({ target: 'ACCEPT', in: 'lo' }), rule({ target: 'TRAFFIC_IN' }), rule({ target: 'TRAFFIC_IN' })], 'ACCEPT'),
      chain('OUTPUT', [rule({ target: 'TRAFFIC_OUT' })], 'ACCEPT'),
      chain('TRAFFIC_IN', [rule({ num: 1, in: 'eth9', comment: 'lantop', bytes: 50 }), rule({ num: 2, in: 'ppp0', comment: 'lantop', bytes: 900 }), rule({ num: 3, in: 'ppp0', comment: 'lantop', bytes: 5 })]),
      chain('TRAFFIC_OUT', [rule({ num: 1, out: 'eth9', comment: 'lantop' })]),
    );
    const plan = planRouterCounters(l, base);
    assert.deepEqual(plan.commands, [
      'iptables -D TRAFFIC_IN 3',
      'iptables -D TRAFFIC_IN 1',
      'iptables -D TRAFFIC_OUT 1',
      'iptables -A TRAFFIC_OUT -o ppp0 -m comment --comment lantop',
      'iptables -I INPUT 1 -j TRAFFIC_IN',
      'iptables -D INPUT 4',
      'iptables -D INPUT 3',
    ]);
    assert.ok(plan.notes.includes('moving the INPUT jump from position 2 to 1'), plan.notes.join('; '));
    assert.deepEqual(readRouterCounters(l, 'ppp0'), null, 'TRAFFIC_OUT counts another WAN: not in place');
    assert.throws(() => planRouterCounters(l, { ...base, wan: 'ppp0;reboot' }), /invalid WAN/);
  });

  test('a rule with other matches in TRAFFIC_IN is foreign, and stays', () => {
    const l = listing(chain('INPUT', [rule({ target: 'TRAFFIC_IN' })], 'ACCEPT'), chain('OUTPUT', [], 'ACCEPT'), chain('TRAFFIC_IN', [rule({ in: 'ppp0', prot: 'tcp', extra: 'tcp dpt:22', comment: 'lantop' })]));
    const plan = planRouterCounters(l, base);
    assert.equal(plan.foreignRules.length, 1);
    assert.equal(plan.commands[0], 'iptables -N TRAFFIC_OUT');
    assert.ok(!plan.commands.some((c) => c.startsWith('iptables -D TRAFFIC_IN')));
  });
});

describe('the backend with the router counters', () => {
  test('a captured installation from before issue 19 reads complete, router counters missing; the plan adds only them', () => {
    for (const source of ['1.8.9-legacy', '1.8.9-nft']) {
      const backend = new IptablesBackend(firmwareForOverride('busybox'), { wan: 'ppp0' });
      const reading = backend.read(readFixture(`iptables/${source}/dual-stack-read.txt`).split('__LTIP6__')[0]!);
      assert.equal(reading.installation, 'complete', source);
      assert.equal(reading.routerCounters, null);
      assert.equal(reading.isRouterCounterMissing, true);
      const plan = backend.planInstall(reading, [...reading.counters.keys()], OPTS);
      assert.deepEqual(plan.commands, ROUTER_PLAN, source);
    }
  });

  test('on the emulated router: setup installs them, a read has them at 0, the emulated kernel counts the router\'s WAN packets only', async () => {
    const { state, backend, read, run } = emulated();
    const before = read();
    assert.equal(before.installation, 'missing');
    assert.equal(before.isRouterCounterMissing, false, 'nothing installed: a setup, not a sync matter');
    const plan = backend.planInstall(before, HOSTS, OPTS);
    assert.deepEqual(plan.commands.slice(-6), ROUTER_PLAN);
    assert.equal((await backend.apply(run, plan.commands)).failed, null);
    const after = read();
    assert.equal(after.installation, 'complete');
    assert.deepEqual(after.routerCounters, { downBytes: 0, upBytes: 0 });
    assert.equal(after.isRouterCounterMissing, false);
    assert.deepEqual(backend.planInstall(after, HOSTS, OPTS).commands, []);
    assert.equal(after.listing.chains.find((c) => c.name === 'INPUT')!.rules[0]!.target, 'TRAFFIC_IN', 'before the firewall\'s rules');

    // A WAN packet the firewall then drops is still counted; forwarded packets never are.
    assert.equal(packet(state, 'INPUT', 'ppp0', '', 84), 'DROP');
    packet(state, 'INPUT', 'br0', '', 1000);
    packet(state, 'OUTPUT', '', 'ppp0', 60);
    packet(state, 'OUTPUT', '', 'br0', 2000);
    packet(state, 'FORWARD', 'ppp0', 'br0', 4000);
    assert.deepEqual(read().routerCounters, { downBytes: 84, upBytes: 60 });
    assert.match(backend.describe(), /the router's own WAN traffic counted in TRAFFIC_IN \(jumped to from INPUT\) and TRAFFIC_OUT/);
    assert.deepEqual(backend.describeInstallation(read()).at(-1), "in place: the router's own WAN counters (TRAFFIC_IN from INPUT, TRAFFIC_OUT from OUTPUT)");
  });

  test('an installation from before (hosts only) reads complete with isRouterCounterMissing; sync\'s plan adds only the router chains', async () => {
    const { ipt, backend, read, run } = emulated();
    // What an older lantop set up: planSetup alone.
    for (const c of planSetup(parseIptablesListing(ipt('iptables -L -v -x -n --line-numbers')), HOSTS, { wan: 'ppp0', layout: 'split', isTagging: true, isAdopting: false, isPruning: false, iptables: 'iptables' }).commands) ipt(c);
    const old = read();
    assert.equal(old.installation, 'complete');
    assert.equal(old.routerCounters, null);
    assert.equal(old.isRouterCounterMissing, true);
    assert.match(backend.describeInstallation(old).at(-1)!, /^not in place: the router's own WAN counters \(TRAFFIC_IN absent, TRAFFIC_OUT absent; /);
    const plan = backend.planInstall(old, HOSTS, OPTS);
    assert.deepEqual(plan.commands, ROUTER_PLAN);
    assert.equal((await backend.apply(run, plan.commands)).failed, null);
    assert.equal(backend.isFreshInstall(old, plan.commands), false, 'the host counters were kept');
    assert.equal(read().isRouterCounterMissing, false);
  });

  test('a lost INPUT jump (firewall rebuilt): missing router counters, repaired by one insert', async () => {
    const { ipt, backend, read, run } = emulated();
    await backend.apply(run, backend.planInstall(read(), HOSTS, OPTS).commands);
    ipt('iptables -D INPUT 1');
    const lost = read();
    assert.equal(lost.installation, 'complete');
    assert.equal(lost.routerCounters, null);
    assert.equal(lost.isRouterCounterMissing, true);
    assert.match(backend.describeInstallation(lost).at(-1)!, /TRAFFIC_IN without its INPUT jump, TRAFFIC_OUT there/);
    assert.deepEqual(backend.planInstall(lost, HOSTS, OPTS).commands, ['iptables -I INPUT 1 -j TRAFFIC_IN']);
  });

  test('flush empties TRAFFIC_IN/OUT like TRAFFIC (sync puts the rules back); teardown removes the jumps, then the chains', async () => {
    const { ipt, backend, read, run } = emulated();
    const bare = ipt('iptables -S');
    await backend.apply(run, backend.planInstall(read(), HOSTS, OPTS).commands);
    const flush = backend.planFlush(read());
    assert.deepEqual(flush, ['iptables -F TRAFFIC', 'iptables -F TRAFFIC_DOWN', 'iptables -F TRAFFIC_UP', 'iptables -F TRAFFIC_IN', 'iptables -F TRAFFIC_OUT']);
    await backend.apply(run, flush);
    const flushed = read();
    assert.equal(flushed.routerCounters, null);
    assert.equal(flushed.isRouterCounterMissing, true);
    assert.deepEqual(backend.planInstall(flushed, HOSTS, OPTS).commands.filter((c) => /TRAFFIC_(IN|OUT)/.test(c)), ['iptables -A TRAFFIC_IN -i ppp0 -m comment --comment lantop', 'iptables -A TRAFFIC_OUT -o ppp0 -m comment --comment lantop']);
    const remove = backend.planRemove(read());
    assert.deepEqual(remove.slice(0, 3), ['iptables -D FORWARD 1', 'iptables -D INPUT 1', 'iptables -D OUTPUT 1']);
    assert.deepEqual(remove.slice(-2), ['iptables -X TRAFFIC_IN', 'iptables -X TRAFFIC_OUT']);
    assert.equal((await backend.apply(run, remove)).failed, null);
    assert.equal(ipt('iptables -S'), bare, 'every chain and rule as before setup');
  });

  test('planFlush and planTeardown of a listing without the router chains are what they were', () => {
    const l = listing(chain('FORWARD', [rule({ target: 'TRAFFIC' })], 'ACCEPT'), chain('INPUT', [rule({ target: 'ACCEPT' })], 'ACCEPT'), chain('TRAFFIC', []));
    assert.deepEqual(planFlush(l, 'iptables'), ['iptables -F TRAFFIC']);
    assert.deepEqual(planTeardown(l, 'iptables'), ['iptables -D FORWARD 1', 'iptables -F TRAFFIC', 'iptables -X TRAFFIC']);
  });
});
