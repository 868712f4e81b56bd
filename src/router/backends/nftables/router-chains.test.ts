// The router's own WAN counters (issue 19) in the nftables backend: router_in/router_out planned,
// read (text and JSON), repaired, flushed and removed, for all three layouts — against the captures
// of tables set up before them (fixtures/nftables/1.0.6) and listings printed by the emulator's nft
// (src/emulator, checked against nft 1.0.6 by nft-real.test.ts), whose kernel side counts the
// packets that cross each hook.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFixture } from '../../../../test/fixtures.js';
import { createNftState, type NftState } from '../../../emulator/nft-state.js';
import { runNft } from '../../../emulator/nft-run.js';
import { traverseNft } from '../../../emulator/nft-traversal.js';
import { firmwareForOverride, type FirmwareProfile } from '../../firmware/families.js';
import { NftablesBackend, type NftReading } from './nftables-backend.js';
import { NFT_LAYOUTS, type NftLayout } from './layouts.js';
import { findTable } from './nft-model.js';
import { parseNftText } from './parse-text.js';
import { planNftFlush, planNftInstall } from './plan.js';

const OPTS = { isAdopting: false, isPruning: false };
const HOSTS = ['198.51.100.10', '2001:db8:1::10'];
const ROUTER_ADDED = [
  'add chain inet lantop router_in { type filter hook input priority filter - 10; policy accept; }',
  'add chain inet lantop router_out { type filter hook output priority filter - 10; policy accept; }',
  'add rule inet lantop router_in iifname "ppp0" counter comment "lantop"',
  'add rule inet lantop router_out oifname "ppp0" counter comment "lantop"',
];

function firmware(isJson: boolean): FirmwareProfile {
  const base = firmwareForOverride('openwrt-fw4');
  return { ...base, capabilities: { ...base.capabilities, nftVersion: '1.0.6', hasNftJson: isJson } };
}

/** The emulated router's nft and the backend on it (JSON or text listings). */
function emulated(layout: NftLayout, isJson: boolean, wan = 'ppp0') {
  const state = createNftState({ version: '1.0.6', hasJson: true });
  const backend = new NftablesBackend(firmware(isJson), { wan, layout });
  const nft = (argv: string[], stdin = '') => {
    const r = runNft(state, argv, stdin, 0);
    return r.stdout + r.stderr;
  };
  const read = (): NftReading => backend.read(nft(backend.readCommand.command.split(' ').slice(1)));
  const apply = (commands: readonly string[]) => {
    const r = runNft(state, ['-f', '-'], `${commands.join('\n')}\n`, 0);
    assert.equal(r.status, 0, r.stderr);
  };
  return { state, backend, nft, read, apply };
}

function packet(state: NftState, hook: 'input' | 'output' | 'forward', iifname: string, oifname: string, family: 4 | 6, bytes: number): string {
  return traverseNft(state, { hook, family, iifname, oifname, saddr: 1n, daddr: 2n, etherSaddr: null, etherDaddr: null, ctState: 2, packets: 1, bytes }, 0);
}

describe('tables from before issue 19 (the captures)', () => {
  for (const layout of NFT_LAYOUTS) {
    for (const suffix of ['list-j.json', 'list-a.txt', 'list.txt']) {
      test(`${layout} ${suffix}: complete, router counters missing; the plan adds only router_in/router_out`, () => {
        const backend = new NftablesBackend(firmware(suffix.endsWith('.json')), { wan: 'ppp0' });
        const reading = backend.read(readFixture(`nftables/1.0.6/${layout}-${suffix}`));
        assert.equal(reading.installation, 'complete');
        assert.equal(reading.routerCounters, null);
        assert.equal(reading.isRouterCounterMissing, true);
        const hosts = [...reading.counters.keys()];
        assert.deepEqual(backend.planInstall(reading, hosts, OPTS).commands, ROUTER_ADDED);
        assert.match(backend.describeInstallation(reading).at(-1)!, /^not in place: the router's own WAN counters \(router_in absent, router_out absent; /);
      });
    }
  }
  test('a missing table: neither complete nor "router counters missing" (setup, not sync, puts it all in)', () => {
    const reading = new NftablesBackend(firmware(true), { wan: 'ppp0' }).read(readFixture('nftables/1.0.6/missing-list-j.json'));
    assert.deepEqual([reading.installation, reading.routerCounters, reading.isRouterCounterMissing], ['missing', null, false]);
  });
});

describe('on the emulated router', () => {
  for (const layout of NFT_LAYOUTS) {
    for (const isJson of [true, false]) {
      test(`${layout} (${isJson ? 'JSON' : 'text'}): set up, read at 0, counts the router's own WAN packets only — even those fw4 then drops — flushed, re-added`, () => {
        const { state, backend, read, apply } = emulated(layout, isJson);
        // fw4's input chain: policy drop at priority filter; lantop's router_in runs before it.
        apply(['add table inet fw4', 'add chain inet fw4 input { type filter hook input priority filter; policy drop; }']);
        apply(backend.planInstall(read(), HOSTS, OPTS).commands);
        const installed = read();
        assert.equal(installed.installation, 'complete');
        assert.deepEqual(installed.routerCounters, { downBytes: 0, upBytes: 0 });
        assert.equal(installed.isRouterCounterMissing, false);
        assert.deepEqual(backend.planInstall(installed, HOSTS, OPTS).commands, []);

        assert.equal(packet(state, 'input', 'ppp0', '', 4, 84), 'drop');
        packet(state, 'input', 'ppp0', '', 6, 104);
        packet(state, 'input', 'br-lan', '', 4, 1000);
        packet(state, 'output', '', 'ppp0', 4, 60);
        packet(state, 'output', '', 'br-lan', 4, 2000);
        packet(state, 'forward', 'ppp0', 'br-lan', 4, 4000);
        packet(state, 'forward', 'br-lan', 'ppp0', 4, 3000);
        const counted = read();
        assert.deepEqual(counted.routerCounters, { downBytes: 84 + 104, upBytes: 60 }, 'IPv4 and IPv6 in one rule; forwarded packets never');
        assert.match(backend.describeInstallation(counted).at(-1)!, /^in place: the router's own WAN counters \(chains router_in, router_out\)$/);
        assert.match(backend.describe(), /router_in \(hook input\) and router_out \(hook output\), before the firewall \(priority filter - 10\)/);

        const flush = backend.planFlush(counted);
        assert.ok(flush.includes('flush chain inet lantop router_in') && flush.includes('flush chain inet lantop router_out'), flush.join('\n'));
        apply(flush);
        const flushed = read();
        assert.equal(flushed.routerCounters, null);
        assert.equal(flushed.isRouterCounterMissing, flushed.installation === 'complete');
        const again = backend.planInstall(flushed, HOSTS, OPTS).commands;
        assert.deepEqual(again.filter((c) => / router_(in|out) /.test(c)), ROUTER_ADDED.slice(2), 'the chains stay; their rules come back');
        apply(again);
        assert.deepEqual(read().routerCounters, { downBytes: 0, upBytes: 0 });
        apply(backend.planRemove(read()));
        assert.equal(read().installation, 'missing');
      });
    }
  }

  test('another WAN: the router rules are replaced by handle; without handles (plain text) the chain is flushed', () => {
    const { backend, read, apply, nft } = emulated('dynamic-sets', true);
    apply(backend.planInstall(read(), [], OPTS).commands);
    const other = new NftablesBackend(firmware(true), { wan: 'eth1', layout: 'dynamic-sets' });
    const reading = other.read(nft(['-j', 'list', 'table', 'inet', 'lantop']));
    assert.equal(reading.routerCounters, null);
    const commands = other.planInstall(reading, [], OPTS).commands.filter((c) => / router_(in|out) /.test(c));
    assert.deepEqual(commands, [
      /^delete rule inet lantop router_in handle \d+$/, /^delete rule inet lantop router_out handle \d+$/,
      /^add rule inet lantop router_in iifname "eth1" counter comment "lantop"$/, /^add rule inet lantop router_out oifname "eth1" counter comment "lantop"$/,
    ].map((re, i) => (re.test(commands[i]!) ? commands[i]! : re.source)));
    const plain = findTable(parseNftText(nft(['list', 'table', 'inet', 'lantop'])), 'inet', 'lantop');
    const flushed = planNftInstall(plain, [], { wan: 'eth1', layout: 'dynamic-sets', isPruning: false }).commands.filter((c) => / router_(in|out)( |$)/.test(c));
    assert.deepEqual(flushed.slice(0, 2), ['flush chain inet lantop router_in', 'flush chain inet lantop router_out']);
  });

  test('a router chain hooked otherwise (hand-made) is re-created; someone else\'s rule in it is foreign and stays on flush', () => {
    const { backend, read, apply } = emulated('rules', false);
    apply(['add table inet lantop', 'add chain inet lantop router_in { type filter hook input priority filter + 10; policy accept; }', 'add rule inet lantop router_in ip saddr 203.0.113.1 counter']);
    const reading = read();
    assert.equal(reading.routerCounters, null);
    const plan = backend.planInstall(reading, [], OPTS);
    assert.deepEqual(plan.foreign, ['in chain router_in: ip saddr 203.0.113.1 counter packets 0 bytes 0']);
    assert.ok(plan.commands.includes('flush chain inet lantop router_in') && plan.commands.includes('delete chain inet lantop router_in'));
    assert.ok(plan.notes.includes('re-creating chain router_in (it was not hooked as lantop hooks it)'), plan.notes.join('; '));
    assert.match(backend.describeInstallation(reading).at(-1)!, /router_in hooked otherwise, router_out absent/);
    // Flush: only lantop's router rule goes (by handle) where someone else's shares the chain.
    apply(['add chain inet lantop router_out { type filter hook output priority filter - 10; policy accept; }', 'add rule inet lantop router_out oifname "ppp0" counter comment "lantop"', 'add rule inet lantop router_out ip daddr 203.0.113.1 counter']);
    assert.deepEqual(planNftFlush(read().table).filter((c) => c.includes('router_out')), [/* handle of the lantop rule */ `delete rule inet lantop router_out handle ${read().table!.chains.find((c) => c.name === 'router_out')!.rules[0]!.handle}`]);
  });
});
