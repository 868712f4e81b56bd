// The iptables backend against listings printed by the emulator's iptables (real iptables 1.4.21
// semantics and output, src/emulator/SOURCE), through the seam the RouterClient uses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createIptablesState, runIptables, type IptablesState } from '../../../emulator/iptables.js';
import { firmwareForOverride } from '../../firmware/families.js';
import { RouterError } from '../../../errors.js';
import { IptablesBackend } from './iptables-backend.js';
import { chooseBackend } from '../choose-backend.js';
import { LAYOUTS, layoutOfListing } from './layouts.js';
import { parseIptablesListing } from '../../parsers/iptables-listing.js';

const HOSTS = ['198.51.100.11', '198.51.100.10'];

function iptables(state: IptablesState, command: string): string {
  const r = runIptables(state, command.split(' ').slice(1));
  return r.stdout + r.stderr;
}

function fixture(layout?: 'flat' | 'split') {
  const state = createIptablesState('1.4.21');
  const backend = new IptablesBackend(firmwareForOverride('broadcom-cli'), { wan: 'ppp0', ...(layout ? { layout } : {}) });
  const read = () => backend.read(iptables(state, backend.readCommand.command));
  const run = async (spec: { command: string }) => iptables(state, spec.command);
  return { state, backend, read, run };
}

test('a router without lantop\'s rules reads as missing; after the install as complete, counters at 0', async () => {
  const { backend, read, run } = fixture();
  const before = read();
  assert.equal(before.installation, 'missing');
  assert.equal(before.counters.size, 0);
  const plan = backend.planInstall(before, HOSTS, { isAdopting: false, isPruning: false });
  assert.equal(plan.caveat, null);
  assert.deepEqual(plan.foreign, []);
  const outcome = await backend.apply(run, plan.commands);
  assert.equal(outcome.failed, null);
  assert.equal(backend.isFreshInstall(before, outcome.applied), true);
  assert.deepEqual(backend.countedBy(outcome.applied, [...HOSTS, '198.51.100.99']), HOSTS);
  const after = read();
  assert.equal(after.installation, 'complete');
  assert.deepEqual([...after.counters.keys()].sort(), [...HOSTS].sort());
  assert.deepEqual(backend.planInstall(after, HOSTS, { isAdopting: false, isPruning: false }).commands, []);
  assert.match(backend.describe(), /^iptables \(iptables in the (CLI|shell)\), split layout: chain TRAFFIC .*TRAFFIC_DOWN and TRAFFIC_UP/);
});

test('a lost FORWARD jump reads as incomplete, and a re-install over it is no fresh install', async () => {
  const { state, backend, read, run } = fixture('flat');
  const first = backend.planInstall(read(), HOSTS, { isAdopting: false, isPruning: false });
  await backend.apply(run, first.commands);
  iptables(state, 'iptables -D FORWARD 1');
  const broken = read();
  assert.equal(broken.installation, 'incomplete');
  const repair = backend.planInstall(broken, HOSTS, { isAdopting: false, isPruning: false });
  assert.deepEqual(repair.commands, ['iptables -I FORWARD 1 -j TRAFFIC']);
  const outcome = await backend.apply(run, repair.commands);
  assert.equal(backend.isFreshInstall(broken, outcome.applied), false);
  assert.deepEqual(backend.describeInstallation(broken), [
    'in place: the TRAFFIC chain with 4 rule(s)',
    'not in place: the FORWARD jump (nothing is counted, and forwarding is untouched)',
    "in place: the router's own WAN counters (TRAFFIC_IN from INPUT, TRAFFIC_OUT from OUTPUT)",
  ]);
});

test('flush empties, remove leaves nothing of lantop\'s', async () => {
  const { backend, read, run } = fixture();
  await backend.apply(run, backend.planInstall(read(), HOSTS, { isAdopting: false, isPruning: false }).commands);
  await backend.apply(run, backend.planFlush(read()));
  const flushed = read();
  assert.equal(flushed.counters.size, 0);
  assert.equal(flushed.installation, 'complete', 'chain and jump stay after a flush');
  await backend.apply(run, backend.planRemove(read()));
  assert.equal(read().installation, 'missing');
  assert.equal(layoutOfListing(read().listing), null);
});

test('a refused comment match switches the backend to untagged rules, once', () => {
  const { backend } = fixture();
  const refusal = { command: 'iptables -A TRAFFIC_DOWN -d 198.51.100.10 -m comment --comment lantop -j RETURN', output: "iptables v1.4.21: Couldn't load match `comment':No such file or directory", problem: { kind: 'no-extension' as const, line: '', message: '' } };
  assert.equal(backend.fallBackAfter({ ...refusal, problem: { ...refusal.problem, kind: 'lock-busy' } } as never), null, 'another failure is a failure');
  assert.match(backend.fallBackAfter(refusal as never) ?? '', /refused the comment match/);
  assert.equal(backend.fallBackAfter(refusal as never), null, 'already untagged');
  assert.match(backend.describe(), /rules untagged/);
});

test('a listing that is not one is an error with the router\'s words, never zero hosts', () => {
  const { backend } = fixture();
  assert.throws(() => backend.read('iptables: Permission denied (you must be root).\n'), (e: unknown) => e instanceof RouterError && /could not list its firewall/.test(e.message));
  assert.throws(() => backend.read('Welcome to the router\n'), (e: unknown) => e instanceof RouterError && /not an iptables listing/.test(e.message));
});

test('the layouts say which rule holds which host\'s counter', () => {
  const spec = { in: null, out: null, source: null, destination: '198.51.100.10', target: 'RETURN', isTagged: true };
  assert.deepEqual(LAYOUTS.split.counterOf({ ...spec, chain: 'TRAFFIC_DOWN' }, 'ppp0'), { direction: 'down', address: '198.51.100.10' });
  assert.equal(LAYOUTS.flat.counterOf({ ...spec, chain: 'TRAFFIC_DOWN' }, 'ppp0'), null);
  assert.deepEqual(LAYOUTS.flat.counterOf({ ...spec, chain: 'TRAFFIC', in: 'ppp0', target: null }, 'ppp0'), { direction: 'down', address: '198.51.100.10' });
  assert.equal(LAYOUTS.flat.counterOf({ ...spec, chain: 'TRAFFIC', in: 'eth0', target: null }, 'ppp0'), null, 'another WAN is not ours');
  assert.equal(layoutOfListing(parseIptablesListing('Chain FORWARD (policy ACCEPT 0 packets, 0 bytes)\nnum pkts bytes target prot opt in out source destination\n')), null);
});

test('the backend is chosen from the capabilities: iptables where it is, nftables on nft-only routers (issue 15)', () => {
  assert.equal(chooseBackend(firmwareForOverride('broadcom-cli'), { wan: 'ppp0' }).kind, 'iptables');
  assert.equal(chooseBackend(firmwareForOverride('openwrt-fw4'), { wan: 'ppp0' }).kind, 'nftables');
  // nftables only, but no nft answered: nothing can count, and it says so.
  const noNft = firmwareForOverride('openwrt-fw4');
  noNft.commands.nft = null;
  assert.throws(() => chooseBackend(noNft, { wan: 'ppp0' }), /has only nftables/);
  // --backend asks for one; asking for one the router lacks is a usage error.
  assert.throws(() => chooseBackend(firmwareForOverride('broadcom-cli'), { wan: 'ppp0', backend: 'nftables' }), /--backend nftables: no nft answered/);
  assert.throws(() => chooseBackend(firmwareForOverride('openwrt-fw4'), { wan: 'ppp0', backend: 'iptables' }), /--backend iptables: no iptables answered/);
});

test('read while arriving: the lines handed over and the output read as the output alone does, errors included', async () => {
  const { state, backend, read, run } = fixture();
  await backend.apply(run, backend.planInstall(read(), HOSTS, { isAdopting: false, isPruning: false }).commands);
  const text = iptables(state, backend.readCommand.command).replace(/\n$/, '');
  const incremental = backend.readIncrementally();
  const lines = `${text}\n`.split(/(?<=\n)/);
  for (let i = 0; i < lines.length - 2; i += 2) incremental.push(lines.slice(i, i + 2).join(''));
  assert.deepEqual(incremental.finish(text), backend.read(text));
  const refused = 'iptables: Permission denied (you must be root).';
  const none = backend.readIncrementally();
  none.push(`${refused}\n`);
  assert.throws(() => none.finish(refused), (e: unknown) => e instanceof RouterError && /could not list its firewall/.test(e.message));
});

test('the default layout follows the LAN size: split up to 32 hosts, the tree from 33; a layout on the router or asked for stays', async () => {
  const lan = (n: number) => Array.from({ length: n }, (_, i) => `198.51.100.${i + 2}`);
  const chainsAfter = async (layout: 'split' | undefined, hosts: string[], before?: (f: ReturnType<typeof fixture>) => Promise<void>) => {
    const f = fixture(layout);
    await before?.(f);
    const plan = f.backend.planInstall(f.read(), hosts, { isAdopting: false, isPruning: false });
    assert.equal((await f.backend.apply(f.run, plan.commands)).failed, null);
    const after = f.read();
    assert.equal(after.installation, 'complete');
    assert.equal(after.counters.size, hosts.length, 'every host counted');
    return { layout: layoutOfListing(after.listing), description: f.backend.describe() };
  };
  assert.equal((await chainsAfter(undefined, lan(32))).layout, 'split');
  const big = await chainsAfter(undefined, lan(33));
  assert.equal(big.layout, 'tree');
  assert.match(big.description, /tree layout: chain TRAFFIC/);
  assert.equal((await chainsAfter('split', lan(60))).layout, 'split', '--layout split is kept for a large LAN');
  // A router that already counts with split keeps it when its LAN grows (no silent re-layout).
  const grown = await chainsAfter(undefined, lan(60), async (f) => {
    const plan = f.backend.planInstall(f.read(), lan(5), { isAdopting: false, isPruning: false });
    await f.backend.apply(f.run, plan.commands);
  });
  assert.equal(grown.layout, 'split');
  assert.match(new IptablesBackend(firmwareForOverride('broadcom-cli'), { wan: 'ppp0' }).describe(), /split layout: .*\(from 33 hosts of a family on: the tree layout/);
});
