// The nftables backend through the seam RouterClient uses, on real answers of nft 1.0.6
// (fixtures/nftables/1.0.6): the read command per capability, the three installation states, the
// router's words as errors, the choice of backend, and a whole setup over a scripted session.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFixture } from '../../../../test/fixtures.js';
import { ScriptedSession } from '../../../../test/fakes/scripted-session.js';
import { RouterError, UsageError } from '../../../errors.js';
import { firmwareForOverride, type FirmwareProfile } from '../../firmware/families.js';
import { RouterClient } from '../../router-client.js';
import { chooseBackend } from '../choose-backend.js';
import { NftablesBackend } from './nftables-backend.js';
import { createNftState } from '../../../emulator/nft-state.js';
import { runNft } from '../../../emulator/nft-run.js';

const real = (file: string) => readFixture(`nftables/1.0.6/${file}`);
function fw4(capabilities: Partial<FirmwareProfile['capabilities']> = {}): FirmwareProfile {
  const base = firmwareForOverride('openwrt-fw4');
  return { ...base, capabilities: { ...base.capabilities, nftVersion: '1.0.6', ...capabilities } };
}
const backend = (capabilities: Partial<FirmwareProfile['capabilities']> = {}, layout?: 'dynamic-sets' | 'static-sets' | 'rules') => new NftablesBackend(fw4(capabilities), { wan: 'ppp0', ...(layout ? { layout } : {}) });

test('one read command per poll: JSON where nft has it (or it is not known), else text with rule handles', () => {
  assert.deepEqual(backend({ hasNftJson: true }).readCommand, { command: 'nft -j list table inet lantop', where: 'shell' });
  assert.deepEqual(backend({ hasNftJson: null }).readCommand, { command: 'nft -j list table inet lantop', where: 'shell' });
  assert.deepEqual(backend({ hasNftJson: false }).readCommand, { command: 'nft -a list table inet lantop', where: 'shell' });
});

test('installation states: missing (nft\'s exact error), incomplete, complete; counters keyed by canonical address', () => {
  const b = backend();
  for (const file of ['missing-list.txt', 'missing-list-a.txt', 'missing-list-j.json']) {
    const r = b.read(real(file));
    assert.deepEqual([r.installation, r.counters.size, r.table], ['missing', 0, null], file);
  }
  for (const file of ['incomplete-no-chain-list-j.json', 'incomplete-no-chain-list-a.txt', 'bare-elements-list-j.json']) assert.equal(b.read(real(file)).installation, 'incomplete', file);
  for (const name of ['dynamic-sets', 'static-sets', 'rules', 'foreign', 'dynamic-sets-idle']) {
    for (const suffix of ['list-j.json', 'list-a.txt', 'list.txt']) {
      const r = b.read(real(`${name}-${suffix}`));
      assert.equal(r.installation, 'complete', `${name}-${suffix}`);
    }
  }
  const r = b.read(real('dynamic-sets-list-j.json'));
  assert.equal(r.layout, 'dynamic-sets');
  assert.deepEqual([...r.counters.keys()].sort(), ['198.51.100.10', '198.51.100.11', '2001:db8:1::10', '2001:db8:1::11']);
  assert.deepEqual(r.counters.get('2001:db8:1::11'), { downBytes: 348, upBytes: 348 });
  // Another WAN: the rules count another interface, so the installation is not what lantop needs.
  assert.equal(new NftablesBackend(fw4(), { wan: 'eth1' }).read(real('dynamic-sets-list-j.json')).installation, 'incomplete');
});

test('nft without JSON: a RouterError saying so once, then the text listing is read', () => {
  const b = backend({ hasNftJson: null });
  // src/main.c of nft 1.0.x prints exactly this (newer versions prefix "Error: ").
  assert.throws(() => b.read('JSON support not compiled-in\n'), (e: unknown) => e instanceof RouterError && /without JSON/.test(e.message));
  assert.equal(b.readCommand.command, 'nft -a list table inet lantop');
  assert.equal(b.read(real('rules-list-a.txt')).installation, 'complete');
});

test('an answer that is no nft listing is a RouterError with the router\'s sanitised words', () => {
  const b = backend();
  const cases: Array<[string, RegExp]> = [
    ['sh: nft: not found\n', /"sh: nft: not found"/],
    ['Error: Could not process rule: Operation not permitted\nlist table inet lantop\n^^^\n', /Operation not permitted/],
    ['\u001b[2Jhello\u0007 world\n', /not an nft listing/],
    ['', /not an nft listing/],
    ['table ip filter {\n}\n', /not an nft listing/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => b.read(text), (e: unknown) => e instanceof RouterError && message.test(e.message) && !(e.seen ?? '').includes('\u001b'), JSON.stringify(text));
  }
  assert.equal(b.read('{"nftables": [{"metainfo": {"version": "1.0.6"}}]}').installation, 'missing', 'valid JSON without the table');
});

test('the WAN and the nft command are validated tokens', () => {
  assert.throws(() => new NftablesBackend(fw4(), { wan: 'ppp0"; flush ruleset; "' }), UsageError);
  const odd = fw4();
  assert.throws(() => new NftablesBackend({ ...odd, commands: { ...odd.commands, nft: { command: 'nft; reboot', where: 'shell' } } }, { wan: 'ppp0' }), RouterError);
});

test('chooseBackend: --backend where the tool exists; by default iptables, else nftables', () => {
  assert.equal(chooseBackend(fw4(), { wan: 'ppp0' }).kind, 'nftables');
  assert.equal(chooseBackend(firmwareForOverride('openwrt-fw3'), { wan: 'ppp0' }).kind, 'iptables');
  const both = firmwareForOverride('generic-linux');
  const withNft = { ...both, commands: { ...both.commands, nft: { command: 'nft', where: 'shell' as const } } };
  assert.equal(chooseBackend(withNft, { wan: 'ppp0' }).kind, 'iptables');
  assert.equal(chooseBackend(withNft, { wan: 'ppp0', backend: 'nftables' }).kind, 'nftables');
  assert.equal(chooseBackend(withNft, { wan: 'ppp0', backend: 'iptables' }).kind, 'iptables');
  assert.throws(() => chooseBackend(firmwareForOverride('broadcom-cli'), { wan: 'ppp0', backend: 'nftables' }), (e: unknown) => e instanceof UsageError && /no nft answered/.test(e.message));
  assert.throws(() => chooseBackend(fw4(), { wan: 'ppp0', backend: 'iptables' }), (e: unknown) => e instanceof UsageError && /no iptables answered/.test(e.message));
  const noNft = fw4();
  assert.throws(() => chooseBackend({ ...noNft, commands: { ...noNft.commands, nft: null } }, { wan: 'ppp0' }), RouterError);
  const chosen = chooseBackend(fw4(), { wan: 'ppp0', nftLayout: 'rules' }) as NftablesBackend;
  // The forward rules, then the router's own counters (issue 19) last.
  assert.equal(chosen.planInstall(chosen.read(real('missing-list.txt')), ['198.51.100.10'], { isAdopting: false, isPruning: false }).commands.at(-3), 'add rule inet lantop forward oifname "ppp0" jump ul comment "lantop"');
});

test('the layout: asked for, else the one on the router, else dynamic-sets', () => {
  const plan = (b: NftablesBackend, file: string) => b.planInstall(b.read(real(file)), ['198.51.100.10'], { isAdopting: false, isPruning: false }).commands;
  assert.equal(plan(backend(), 'missing-list-j.json')[1], 'add set inet lantop dl4 { type ipv4_addr; size 4096; flags dynamic,timeout; timeout 7d; }');
  assert.deepEqual(plan(backend(), 'rules-list-j.json').filter((c) => !/ router_(in|out) /.test(c)), [], 'the rules layout in place is kept (the capture predates the router chains)');
  assert.ok(plan(backend({}, 'static-sets'), 'rules-list-j.json').includes('add element inet lantop dl4 { 198.51.100.10 }'));
  assert.match(backend().describe(), /table inet lantop .*filter \+ 10.*dynamic-sets/);
});

test('isFreshInstall, countedBy and describeInstallation', () => {
  const b = backend();
  const missing = b.read(real('missing-list-j.json'));
  const plan = b.planInstall(missing, ['198.51.100.10', '2001:DB8:1::10'], { isAdopting: false, isPruning: false });
  assert.equal(b.isFreshInstall(missing, plan.commands), true);
  assert.equal(b.isFreshInstall(missing, []), false, 'nothing applied: nothing was created');
  assert.equal(b.isFreshInstall(b.read(real('incomplete-no-chain-list-j.json')), plan.commands), false);
  assert.deepEqual(b.countedBy(plan.commands, ['198.51.100.10', '2001:DB8:1::10', 'junk']), ['198.51.100.10', '2001:DB8:1::10'], 'dynamic sets count every address');
  const staticPlan = backend({}, 'static-sets').planInstall(missing, ['198.51.100.10'], { isAdopting: false, isPruning: false }).commands;
  assert.deepEqual(backend().countedBy(staticPlan, ['198.51.100.10', '198.51.100.11']), ['198.51.100.10']);
  assert.deepEqual(b.describeInstallation(missing), ['not in place: table inet lantop (nothing is counted, and forwarding is untouched)']);
  const incomplete = b.describeInstallation(b.read(real('incomplete-no-chain-list-j.json')));
  assert.deepEqual(incomplete.slice(0, 3), ['in place: table inet lantop (dynamic-sets), incomplete', 'not in place: chain forward (nothing is counted, and forwarding is untouched)', 'in place: set dl4 with 2 element(s)']);
});

test('a kernel that refuses counters in sets: fall back to the rules layout once, with a note', () => {
  const b = backend();
  const missing = b.read(real('missing-list-j.json'));
  const first = b.planInstall(missing, ['198.51.100.10'], { isAdopting: false, isPruning: false });
  const refusal = { command: first.commands[1]!, output: '/dev/stdin:2:1-80: Error: Could not process rule: Operation not supported', problem: null };
  assert.equal(b.fallBackAfter({ ...refusal, output: '/dev/stdin:1:19-24: Error: Could not process rule: File exists' }), null, 'a race is no missing feature');
  assert.match(b.fallBackAfter(refusal)!, /refused the dynamic-sets layout .*one rule per host/);
  const again = b.planInstall(missing, ['198.51.100.10'], { isAdopting: true, isPruning: false });
  assert.ok(again.commands.includes('add rule inet lantop dl ip daddr 198.51.100.10 counter return comment "lantop"'));
  assert.equal(b.fallBackAfter({ ...refusal, command: again.commands[4]! }), null, 'no further fallback');
});

test('setup over a session: read (missing) → one nft transaction → read back (complete), verified', async () => {
  const firmware = fw4({ hasNftJson: true, shellLineBytes: 3000, hasShellBatch: true });
  const apply = /^_S=\$\(printf .*\|nft -f - 2>&1;echo "__LT""ST_([0-9a-f]{12})_r\$\?__";\}\|\|echo .*;_S=$/;
  // The read-back: what the emulator's nft (src/emulator, checked against nft 1.0.6) lists after the plan.
  const emulated = createNftState({ version: '1.0.6', hasJson: true });
  const planned = new NftablesBackend(firmware, { wan: 'ppp0' }).planInstall(backend().read(real('missing-list-j.json')), [], { isAdopting: false, isPruning: false });
  assert.equal(runNft(emulated, ['-f', '-'], `${planned.commands.join('\n')}\n`, 0).status, 0);
  const readBack = runNft(emulated, ['-j', 'list', 'table', 'inet', 'lantop'], '', 0).stdout;
  const session = new ScriptedSession([
    { command: 'cat /proc/net/arp', output: readFixture('generic-linux/debian-12/proc-net-arp.txt') },
    { command: 'ip -6 neigh show', output: readFixture('generic-linux/debian-12/ip-6-neigh-show.txt') },
    { command: 'cat /tmp/dhcp.leases', output: readFixture('dnsmasq/2.90/dhcp.leases') },
    { command: 'nft -j list table inet lantop', output: real('missing-list-j.json') },
    { command: apply, reply: (c) => `__LTST_${apply.exec(c)![1]}_r0__` },
    { command: 'nft -j list table inet lantop', output: readBack },
  ]);
  const client = new RouterClient(session, firmware, { wan: 'ppp0', isManaged: true });
  assert.equal(client.backend.kind, 'nftables');
  const outcome = await client.setup();
  session.assertDone();
  assert.equal(outcome.failed, null);
  assert.equal(outcome.isVerified, true);
  assert.equal(outcome.plan.commands[0], 'create table inet lantop');
  assert.match(outcome.notes.join('\n') + outcome.plan.notes.join('\n'), /creating table inet lantop/);
});

test('sync after the table vanished (fw4 flush, reboot): re-created, reported as a fresh install', async () => {
  const firmware = fw4({ hasNftJson: false, shellLineBytes: 3000, hasShellBatch: true });
  const session = new ScriptedSession([
    { command: 'nft -a list table inet lantop', output: real('missing-list-a.txt') },
    { command: /\|nft -f - 2>&1;/, reply: (c) => `__LTST_${/_([0-9a-f]{12})_r/.exec(c)![1]}_r0__` },
  ]);
  const client = new RouterClient(session, firmware, { wan: 'ppp0', isManaged: true });
  const reading = await client.readTraffic();
  assert.equal(reading.installation, 'missing');
  const outcome = await client.sync([{ ip: '198.51.100.10', mac: '02:00:00:00:00:10', hostname: null }], reading);
  session.assertDone();
  assert.equal(outcome.isReinstalled, true);
  assert.deepEqual(outcome.newAddresses, ['198.51.100.10']);
});
