// The block backends through the seam: plans against captured listings (fixtures/blocking), the
// command grammar (nothing but lantop's lines, FORWARD only), fallbacks, and RouterClient's block
// flow on a scripted session.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFixture } from '../../../test/fixtures.js';
import { ScriptedSession } from '../../../test/fakes/scripted-session.js';
import { firmwareForOverride, type FirmwareProfile } from '../firmware/families.js';
import { RouterClient } from '../router-client.js';
import type { BlockTarget } from './block.js';
import { blockTag, parseBlockTag } from './block-tag.js';
import { IptablesBlockBackend } from './iptables/block-backend.js';
import { isBlockLine } from './iptables/block-rules.js';
import { NftablesBlockBackend } from './nftables/block-backend.js';
import { planNftDelivery } from './nftables/apply.js';

const NOW = Date.UTC(2026, 11, 2, 20, 0, 0);
const MAC = '02:00:5e:00:00:10';
const TARGET: BlockTarget = { identity: MAC, mac: MAC, addresses: ['198.51.100.10', '2001:db8:1::10'], untilMs: NOW + 2 * 3600_000 };
const MISSING = 'iptables: No chain/target/match by that name.';
const FORWARD = '-P FORWARD ACCEPT\n-A FORWARD -j TRAFFIC\n-A FORWARD -m state --state RELATED,ESTABLISHED -j ACCEPT';

function busybox(): FirmwareProfile {
  return firmwareForOverride('busybox');
}

test('a block on iptables: own chain at FORWARD 1, MAC and both directions per address, kernel-held expiry in UTC, tagged', () => {
  const backend = new IptablesBlockBackend(busybox());
  assert.deepEqual(backend.readCommands.map((c) => c.command), ['iptables -S FORWARD 2>&1', 'iptables -S LANTOP_BLOCK 2>&1', 'ip6tables -S FORWARD 2>&1', 'ip6tables -S LANTOP_BLOCK 2>&1']);
  const reading = backend.read([FORWARD, MISSING, FORWARD, MISSING], NOW);
  assert.equal(reading.isInstalled, false);
  const plan = backend.planBlock(TARGET, NOW, reading);
  const tag = `lantop-block:${MAC}@${(NOW + 7200_000) / 1000}`;
  const m = `-m time --datestop 2026-12-02T22:00:00 -m comment --comment ${tag} -j DROP`;
  assert.deepEqual(plan.commands, [
    'iptables -N LANTOP_BLOCK', 'iptables -I FORWARD 1 -j LANTOP_BLOCK',
    `iptables -A LANTOP_BLOCK -m mac --mac-source ${MAC} ${m}`, `iptables -A LANTOP_BLOCK -s 198.51.100.10 ${m}`, `iptables -A LANTOP_BLOCK -d 198.51.100.10 ${m}`,
    'ip6tables -N LANTOP_BLOCK', 'ip6tables -I FORWARD 1 -j LANTOP_BLOCK',
    `ip6tables -A LANTOP_BLOCK -m mac --mac-source ${MAC} ${m}`, `ip6tables -A LANTOP_BLOCK -s 2001:db8:1::10 ${m}`, `ip6tables -A LANTOP_BLOCK -d 2001:db8:1::10 ${m}`,
  ]);
  assert.ok(plan.commands.every(isBlockLine));
  assert.ok(plan.commands.every((c) => !/\b(INPUT|OUTPUT)\b/.test(c)), 'blocking touches FORWARD only');
});

test('read back: the tag and --datestop give the entry; expired rules are removed by number, highest first', () => {
  const backend = new IptablesBlockBackend({ ...busybox(), commands: { ...busybox().commands, ip6tables: null } });
  const old = NOW - 60_000;
  const rules = [
    '-N LANTOP_BLOCK',
    `-A LANTOP_BLOCK -m mac --mac-source 02:00:5E:00:00:10 -m time --datestop 2026-12-02T19:59:00 -m comment --comment "${blockTag(MAC, old)}" -j DROP`,
    `-A LANTOP_BLOCK -s 198.51.100.10/32 -m time --datestop 2026-12-02T19:59:00 -m comment --comment "${blockTag(MAC, old)}" -j DROP`,
    `-A LANTOP_BLOCK -s 198.51.100.11/32 -m comment --comment "${blockTag('ip:198.51.100.11', NOW + 60_000)}" -j DROP`,
    '-A LANTOP_BLOCK -s 198.51.100.12/32 -j ACCEPT',
  ].join('\n');
  const reading = backend.read(['-P FORWARD ACCEPT\n-A FORWARD -j LANTOP_BLOCK\n-A FORWARD -j TRAFFIC', rules], NOW);
  assert.equal(reading.isInstalled, true);
  assert.deepEqual(reading.entries, [
    { identity: MAC, mac: MAC, addresses: ['198.51.100.10'], untilMs: Date.UTC(2026, 11, 2, 19, 59), isExpired: true },
    { identity: 'ip:198.51.100.11', mac: null, addresses: ['198.51.100.11'], untilMs: NOW + 60_000, isExpired: false },
  ]);
  assert.match(reading.notes.join(), /1 line\(s\) of LANTOP_BLOCK not read/);
  assert.deepEqual(backend.planRemoveExpired(reading, NOW), ['iptables -D LANTOP_BLOCK 2', 'iptables -D LANTOP_BLOCK 1']);
  assert.deepEqual(backend.planUnblock('ip:198.51.100.11', reading), ['iptables -D LANTOP_BLOCK 3']);
  assert.deepEqual(backend.planUnblock('all', reading), ['iptables -F LANTOP_BLOCK']);
  assert.deepEqual(backend.planTeardown(reading), ['iptables -D FORWARD -j LANTOP_BLOCK', 'iptables -F LANTOP_BLOCK', 'iptables -X LANTOP_BLOCK']);
  // A re-block of the same device appends the new rules first, then removes the old ones.
  const again = backend.planBlock({ ...TARGET, addresses: ['198.51.100.10'] }, NOW, reading);
  assert.deepEqual(again.commands.slice(-2), ['iptables -D LANTOP_BLOCK 2', 'iptables -D LANTOP_BLOCK 1']);
});

test('a jump that is not first is moved to position 1', () => {
  const backend = new IptablesBlockBackend({ ...busybox(), commands: { ...busybox().commands, ip6tables: null } });
  const reading = backend.read(['-A FORWARD -j TRAFFIC\n-A FORWARD -j LANTOP_BLOCK', '-N LANTOP_BLOCK'], NOW);
  assert.deepEqual(backend.planBlock(TARGET, NOW, reading).commands.slice(0, 2), ['iptables -D FORWARD -j LANTOP_BLOCK', 'iptables -I FORWARD 1 -j LANTOP_BLOCK']);
});

test('no time match: the router says so, the plan goes without it and says who lifts the block', () => {
  const backend = new IptablesBlockBackend({ ...busybox(), commands: { ...busybox().commands, ip6tables: null } });
  const failed = { command: `iptables -A LANTOP_BLOCK -s 198.51.100.10 -m time --datestop 2026-12-02T22:00:00 -j DROP`, output: "iptables v1.4.21: Couldn't load match `time':No such file or directory", problem: { kind: 'no-extension' as const, line: '', extension: 'time' } };
  assert.match(backend.fallBackAfter(failed) ?? '', /refused -m time/);
  const plan = backend.planBlock(TARGET, NOW, backend.read(['', MISSING], NOW));
  assert.ok(plan.commands.every((c) => !c.includes('-m time')));
  assert.ok(plan.commands.some((c) => c.includes('--comment lantop-block:')), 'the tag still carries the expiry');
  assert.match(plan.notes.join(), /until lantop removes it/);
  assert.equal(backend.fallBackAfter({ ...failed, command: 'iptables -N LANTOP_BLOCK' }), null);
});

test('the grammar refuses anything lantop does not write', () => {
  for (const line of ['iptables -A LANTOP_BLOCK -s 1.2.3.4;reboot -j DROP', 'iptables -I INPUT 1 -j DROP', 'iptables -F', 'iptables -A LANTOP_BLOCK -s $(id) -j DROP', 'iptables -D LANTOP_BLOCK 0', 'iptables -A FORWARD -j DROP']) assert.equal(isBlockLine(line), false, line);
  assert.throws(() => new IptablesBlockBackend(busybox()).planBlock({ ...TARGET, identity: 'x;reboot' }, NOW, new IptablesBlockBackend(busybox()).read([], NOW)), /not a MAC address/);
  assert.throws(() => new IptablesBlockBackend(busybox()).planBlock({ ...TARGET, untilMs: NOW - 1 }, NOW, new IptablesBlockBackend(busybox()).read([], NOW)), /not in the future/);
  assert.equal(parseBlockTag('lantop-block:02:00:5e:00:00:10;reboot@1'), null);
  assert.equal(parseBlockTag('lantop-block:ip:198.51.100.010@1'), null);
});

test('nftables: the captured table read back; a block adds elements with a timeout in one transaction', () => {
  const backend = new NftablesBlockBackend(firmwareForOverride('openwrt-fw4'));
  assert.deepEqual(backend.readCommands.map((c) => c.command), ['nft list table inet lantop_block 2>&1']);
  const captured = backend.read([readFixture('blocking/nft-1.0.6-block-table.txt')], NOW);
  assert.equal(captured.isInstalled, false, 'the capture has one rule of five: not lantop\'s whole chain');
  assert.deepEqual(captured.entries, [{ identity: '02:00:00:00:00:01', mac: '02:00:00:00:00:01', addresses: ['198.51.100.10'], untilMs: NOW + 90_000, isExpired: false }]);
  const empty = backend.read(['Error: No such file or directory\nlist table inet lantop_block\n                 ^^^^^^^^^^^^'], NOW);
  assert.equal(empty.hasTable, false);
  const plan = backend.planBlock(TARGET, NOW, empty);
  const tag = blockTag(MAC, TARGET.untilMs);
  assert.deepEqual(plan.commands.slice(-3), [
    `add element inet lantop_block macs { ${MAC} timeout 2h comment "${tag}" }`,
    `add element inet lantop_block v4 { 198.51.100.10 timeout 2h comment "${tag}" }`,
    `add element inet lantop_block v6 { 2001:db8:1::10 timeout 2h comment "${tag}" }`,
  ]);
  assert.ok(plan.commands.includes('add chain inet lantop_block forward { type filter hook forward priority -10; policy accept; }'));
  assert.ok(plan.commands.every((c) => !/hook (input|output)/.test(c)), 'forwarding only');
  assert.notEqual(planNftDelivery(plan.commands, { nft: 'nft', maxLineBytes: 4000, nonce: 'abcdef012345', table: 'lantop_block' }), null);
  assert.equal(planNftDelivery(plan.commands, { nft: 'nft', maxLineBytes: 4000, nonce: 'abcdef012345' }), null, 'the accounting grammar does not take the block table');
  assert.deepEqual(backend.planUnblock('02:00:00:00:00:01', captured), ['delete element inet lantop_block macs { 02:00:00:00:00:01 }', 'delete element inet lantop_block v4 { 198.51.100.10 }']);
  assert.deepEqual(backend.planTeardown(captured), ['delete table inet lantop_block']);
  assert.deepEqual(backend.planTeardown(empty), []);
});

test('RouterClient.block: read, apply line by line, end connections, read back', async () => {
  const firmware = { ...busybox(), commands: { ...busybox().commands, ip6tables: null } };
  const target: BlockTarget = { ...TARGET, addresses: ['198.51.100.10'] };
  const added = new IptablesBlockBackend(firmware).planBlock(target, NOW, new IptablesBlockBackend(firmware).read(['', MISSING], NOW)).commands;
  const datestop = '2026-12-02T22:00:00';
  const after = `-N LANTOP_BLOCK\n-A LANTOP_BLOCK -m mac --mac-source ${MAC} -m time --datestop ${datestop} -m comment --comment "${blockTag(MAC, target.untilMs)}" -j DROP`;
  const session = new ScriptedSession([
    { command: 'iptables -S FORWARD 2>&1', output: FORWARD },
    { command: 'iptables -S LANTOP_BLOCK 2>&1', output: MISSING },
    ...added.map((c) => ({ command: `${c} 2>&1`, output: '' })),
    { command: 'conntrack -D -s 198.51.100.10 2>&1;conntrack -D -d 198.51.100.10 2>&1', output: 'sh: conntrack: not found\nsh: conntrack: not found' },
    { command: 'iptables -S FORWARD 2>&1', output: `-A FORWARD -j LANTOP_BLOCK\n${FORWARD}` },
    { command: 'iptables -S LANTOP_BLOCK 2>&1', output: after },
  ], { mode: 'shell' });
  const client = new RouterClient(session, firmware, { wan: 'ppp0', isManaged: false });
  const outcome = await client.block(target, NOW);
  session.assertDone();
  assert.equal(outcome.applied.length, added.length);
  assert.deepEqual(outcome.entries, [{ identity: MAC, mac: MAC, addresses: [], untilMs: target.untilMs, isExpired: false }]);
});

test('RouterClient.removeExpiredBlocks: one read when nothing expired; else the removal, read back, and the entries removed', async () => {
  const firmware = { ...busybox(), commands: { ...busybox().commands, ip6tables: null } };
  const old = NOW - 60_000;
  const live = `-A LANTOP_BLOCK -s 198.51.100.11/32 -m comment --comment "${blockTag('ip:198.51.100.11', NOW + 60_000)}" -j DROP`;
  const expired = [
    `-A LANTOP_BLOCK -m mac --mac-source ${MAC} -m time --datestop 2026-12-02T19:59:00 -m comment --comment "${blockTag(MAC, old)}" -j DROP`,
    `-A LANTOP_BLOCK -s 198.51.100.10/32 -m time --datestop 2026-12-02T19:59:00 -m comment --comment "${blockTag(MAC, old)}" -j DROP`,
  ];
  const jumped = `-A FORWARD -j LANTOP_BLOCK\n${FORWARD}`;
  const session = new ScriptedSession([
    { command: 'iptables -S FORWARD 2>&1', output: jumped },
    { command: 'iptables -S LANTOP_BLOCK 2>&1', output: ['-N LANTOP_BLOCK', ...expired, live].join('\n') },
    { command: 'iptables -D LANTOP_BLOCK 2 2>&1', output: '' },
    { command: 'iptables -D LANTOP_BLOCK 1 2>&1', output: '' },
    { command: 'iptables -S FORWARD 2>&1', output: jumped },
    { command: 'iptables -S LANTOP_BLOCK 2>&1', output: `-N LANTOP_BLOCK\n${live}` },
    // A minute on: nothing expired, one read and nothing else.
    { command: 'iptables -S FORWARD 2>&1', output: jumped },
    { command: 'iptables -S LANTOP_BLOCK 2>&1', output: `-N LANTOP_BLOCK\n${live}` },
  ], { mode: 'shell' });
  const client = new RouterClient(session, firmware, { wan: 'ppp0', isManaged: false });
  const liveEntry = { identity: 'ip:198.51.100.11', mac: null, addresses: ['198.51.100.11'], untilMs: NOW + 60_000, isExpired: false };
  const first = await client.removeExpiredBlocks(NOW);
  assert.deepEqual(first.removed, [{ identity: MAC, mac: MAC, addresses: ['198.51.100.10'], untilMs: old, isExpired: true }]);
  assert.deepEqual(first.entries, [liveEntry]);
  assert.deepEqual(first.applied, ['iptables -D LANTOP_BLOCK 2', 'iptables -D LANTOP_BLOCK 1']);
  const second = await client.removeExpiredBlocks(NOW + 60_000 - 1);
  assert.deepEqual([second.removed, second.entries, second.applied], [[], [liveEntry], []]);
  session.assertDone();
});
