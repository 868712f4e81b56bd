import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { detectFirmware } from './detect-firmware.js';
import { probeFirmware } from './probe-router.js';
import { PROBE_COMMANDS, type ProbeAnswer, type RouterProbes } from './probes.js';
import { firmwareForOverride, FIRMWARE_FAMILIES, FIRMWARE_COMMANDS } from './families.js';
import { identityHash, routerKey, storedFirmware } from './stored-profile.js';
import { ModalScriptedSession, ScriptedSession, type ScriptedStep } from '../../../test/fakes/scripted-session.js';
import { readFixture } from '../../../test/fixtures.js';
import { UsageError, TimeoutError, RouterError } from '../../errors.js';
import { RouterClient } from '../router-client.js';

const C = PROBE_COMMANDS.cli;
const S = PROBE_COMMANDS.shell;
// Published/reconstructed Broadcom texts (fixtures/broadcom-cli/*/SOURCE.md, fixtures/busybox/).
const SAGEMCOM_HELP = readFixture('broadcom-cli/sagemcom-fast2704r/help.txt');
const UNRECOGNIZED = readFixture('broadcom-cli/sagemcom-fast2704r/unrecognized-command.txt').trim();
const ARP_SHOW = readFixture('broadcom-cli/cms-cli-lanhosts/arp-show.txt');
const LANHOSTS = readFixture('broadcom-cli/cms-cli-lanhosts/lanhosts-show-all.txt');
const COMMENT_MISSING = "iptables v1.4.21: Couldn't load match `comment':No such file or directory\n\nTry `iptables -h' or 'iptables --help' for more information.\n";
type Recorded = Array<{ id: ProbeAnswer['id']; command: string; output: string }>;
const DEBIAN = JSON.parse(readFixture('generic-linux/debian-12/probes.json')) as Recorded;
// The line probe's answer through lantop's transport in the lab (fixtures/busybox/1.35.0/SOURCE.md).
const BUSYBOX_LINE_PROBE = readFixture('busybox/1.35.0/line-probe-telnet.txt');

/** The shell probes of a Broadcom BusyBox behind `sh` (1.4.21, no comment match, no lease file). */
function broadcomShellSteps(): ScriptedStep[] {
  return [
    { command: S.release, output: '' },
    { command: S.commands, output: '/bin/busybox\n/bin/iptables\n' },
    { command: S['shell-exe'], output: '/bin/busybox' },
    { command: S['shell-batch'], output: '1_' },
    { command: S['iptables-version'], output: 'iptables v1.4.21\n' },
    { command: S['iptables-comment'], output: COMMENT_MISSING },
    { command: S['shell-line'], output: BUSYBOX_LINE_PROBE },
    { command: S['proc-net-arp'], output: ARP_SHOW },
    { command: S['lease-files'], output: '' },
  ];
}

describe('probeFirmware: a vendor CLI that hides sh and iptables from help (issue 13)', () => {
  test('Sagemcom help lists neither, yet both answer: iptables in the shell, names from the CLI', async () => {
    const session = new ModalScriptedSession([
      { command: C.help, output: SAGEMCOM_HELP },
      { command: C['iptables-version'], output: 'iptables v1.4.21\n' },
      { command: C['arp-show'], output: ARP_SHOW },
      { command: C.lanhosts, output: LANHOSTS },
      { command: 'sh', modeAfter: 'shell' },
      ...broadcomShellSteps(),
    ]);
    const p = await probeFirmware(session);
    session.assertDone();
    assert.equal(p.family, 'broadcom-cli');
    assert.equal(p.source, 'probed');
    assert.deepEqual(p.commands.shellRoute, { enter: 'sh', exit: 'exit' });
    assert.deepEqual(p.commands.iptables, { binary: 'iptables', command: 'iptables', where: 'shell' });
    assert.deepEqual(p.commands.listArp, { command: 'cat /proc/net/arp', where: 'shell' });
    // Broadcom's leases are not a text file: names come from the CLI, so discovery moves modes.
    assert.deepEqual(p.commands.listNames, { command: 'lanhosts show all', where: 'cli', parser: 'lan-hosts' });
    assert.equal(p.commands.iptablesRestore, null);
    // The line probe measured what BusyBox's editor keeps (1022 bytes): 1022 − 50 (issue 21; 450 before, unmeasured).
    assert.deepEqual(p.capabilities, { hasCommentMatch: false, hasCheck: true, iptablesVersion: '1.4.21', backend: 'legacy', shellLineBytes: 972, hasShellBatch: true, nftOnly: false, nftVersion: null, hasNftJson: null });
    assert.ok(p.evidence.some((e) => /help lists arp, lanhosts \(a hint only\)/.test(e)), p.evidence.join('\n'));
    const iptables = p.decisions.find((d) => d.what === 'iptables')!;
    assert.match(iptables.chosen, /in the shell \(via `sh`\): v1\.4\.21/);
    assert.deepEqual(iptables.tried.map((t) => [t.command, t.where, t.isAccepted]), [[S['iptables-version'], 'shell', true], [C['iptables-version'], 'cli', true]]);
  });

  test('entries listed by help are tried first; the others are still tried', async () => {
    const session = new ModalScriptedSession([
      { command: C.help, output: 'help\nshell\nquit\n' },
      { command: C['iptables-version'], output: UNRECOGNIZED },
      { command: C['arp-show'], output: UNRECOGNIZED },
      { command: C.lanhosts, output: UNRECOGNIZED },
      { command: 'shell' },
      { command: 'sh' },
      { command: 'system shell', modeAfter: 'shell' },
      { command: S.release, output: '' },
      { command: S.commands, output: '/bin/busybox\n/usr/sbin/iptables\n/usr/sbin/iptables-restore\n' },
      { command: S['shell-exe'], output: '/bin/busybox' },
    { command: S['shell-batch'], output: '1_' },
      { command: S['iptables-version'], output: 'iptables v1.8.9 (nf_tables)\n' },
      { command: S['iptables-comment'], output: 'comment match options:\n--comment COMMENT             Attach a comment to a rule\n' },
      { command: S['shell-line'], output: BUSYBOX_LINE_PROBE },
      { command: S['proc-net-arp'], output: ARP_SHOW },
      { command: S['lease-files'], output: '/tmp/dhcp.leases\n' },
      { command: 'cat /tmp/dhcp.leases', output: readFixture('dnsmasq/2.90/dhcp.leases') },
    ]);
    const p = await probeFirmware(session);
    session.assertDone();
    assert.deepEqual(p.commands.shellRoute, { enter: 'system shell', exit: 'exit' });
    assert.deepEqual(p.commands.iptablesRestore, { command: 'iptables-restore', where: 'shell' });
    assert.deepEqual(p.commands.listNames, { command: 'cat /tmp/dhcp.leases', where: 'shell', parser: 'dhcp-leases' });
    assert.equal(p.capabilities.backend, 'nft');
    assert.deepEqual(p.decisions.find((d) => d.what === 'shell')!.tried.map((t) => [t.command, t.isAccepted]), [['shell', false], ['sh', false], ['system shell', true]]);
  });

  test('no shell behind the CLI: everything in the CLI, changes line by line', async () => {
    const session = new ModalScriptedSession([
      { command: C.help, output: SAGEMCOM_HELP },
      { command: C['iptables-version'], output: 'iptables v1.4.21\n' },
      { command: C['arp-show'], output: ARP_SHOW },
      { command: C.lanhosts, output: LANHOSTS },
      // Unknown commands answered with silence (a bare prompt).
      { command: 'sh', output: '' },
      { command: 'shell', output: '' },
      { command: 'system shell', output: '' },
      { command: 'busybox sh', output: '' },
      { command: C['iptables-comment'], output: '' },
    ]);
    const p = await probeFirmware(session);
    session.assertDone();
    assert.equal(p.commands.shellRoute, null);
    assert.deepEqual(p.commands.iptables, { binary: 'iptables', command: 'iptables', where: 'cli' });
    assert.deepEqual(p.commands.listArp, { command: 'arp show', where: 'cli' });
    assert.equal(p.commands.listNames?.where, 'cli');
    assert.match(p.decisions.find((d) => d.what === 'batch')!.chosen, /line by line/);
    assert.equal(p.capabilities.hasCommentMatch, null, 'silence says nothing about -m comment');
  });

  test('no iptables anywhere: RouterClient refuses and lists what was tried, with the router\'s words', async () => {
    const session = new ModalScriptedSession([
      { command: C.help, output: SAGEMCOM_HELP },
      { command: C['iptables-version'], output: UNRECOGNIZED },
      { command: C['arp-show'], output: ARP_SHOW },
      { command: C.lanhosts, output: LANHOSTS },
      { command: 'sh', output: UNRECOGNIZED },
      { command: 'shell', output: UNRECOGNIZED },
      { command: 'system shell', output: UNRECOGNIZED },
      { command: 'busybox sh', output: UNRECOGNIZED },
    ]);
    const p = await probeFirmware(session);
    session.assertDone();
    assert.equal(p.commands.iptables, null);
    assert.throws(() => new RouterClient(session, p, { wan: 'ppp0', isManaged: false }), (e: unknown) => {
      assert.ok(e instanceof RouterError);
      assert.match(e.message, /No iptables answered/);
      assert.match(e.seen ?? '', /`iptables -V` in the CLI → telnetd:error:774\.006:processInput:406:unrecognized command ls/);
      assert.match(e.seen ?? '', /`sh` in the CLI → no shell/);
      return true;
    });
  });

  test('a timeout during probing propagates typed', async () => {
    const session = new ModalScriptedSession([{ command: C.help, error: new TimeoutError('no answer') }]);
    await assert.rejects(probeFirmware(session), TimeoutError);
  });
});

describe('probeFirmware: shell logins', () => {
  test('this Debian 12 machine (real probe outputs): generic-linux, nf_tables, comment match, restore, no names', async () => {
    const session = new ScriptedSession(DEBIAN.map((r) => ({ command: r.command, output: r.output })), { mode: 'shell' });
    const p = await probeFirmware(session);
    session.assertDone();
    assert.equal(p.family, 'generic-linux');
    assert.deepEqual(p.capabilities, { hasCommentMatch: true, hasCheck: true, iptablesVersion: '1.8.9', backend: 'nft', shellLineBytes: 3000, hasShellBatch: true, nftOnly: false, nftVersion: '1.0.6', hasNftJson: true });
    assert.deepEqual(p.commands.iptablesRestore, { command: 'iptables-restore', where: 'shell' });
    // IPv6 and nft (issue 15): ip6tables beside iptables, nft with JSON, an (empty) IPv6 neighbour table.
    assert.deepEqual(p.commands.ip6tables, { binary: 'ip6tables', command: 'ip6tables', where: 'shell' });
    assert.deepEqual(p.commands.ip6tablesRestore, { command: 'ip6tables-restore', where: 'shell' });
    assert.deepEqual(p.commands.nft, { command: 'nft', where: 'shell' });
    assert.deepEqual(p.commands.listNeighbours6, { command: 'ip -6 neigh show', where: 'shell' });
    assert.ok(p.evidence.some((e) => e.includes('--backend nftables')));
    assert.deepEqual(p.commands.listArp, { command: 'cat /proc/net/arp', where: 'shell' });
    assert.equal(p.commands.listNames, null);
    assert.match(p.decisions.find((d) => d.what === 'names')!.chosen, /none: no lease file in \/tmp\/dhcp\.leases/);
  });

  test('a shell without /proc/net/arp falls back to ip neigh', async () => {
    const session = new ScriptedSession([
      { command: S.release, output: '' },
      { command: S.commands, output: '/bin/busybox\n/sbin/ip\n/usr/sbin/iptables\n' },
      { command: S['shell-exe'], output: '' },
      { command: S['shell-batch'], output: '1_' },
      { command: S['iptables-version'], output: 'iptables v1.6.1\n' },
      { command: S['iptables-comment'], output: 'comment match options:\n' },
      { command: S['shell-line'], output: readFixture('busybox/1.35.0/line-probe-ssh.txt') },
      { command: S['proc-net-arp'], output: "cat: can't open '/proc/net/arp': No such file or directory\n" },
      { command: S['ip-neigh'], output: readFixture('busybox/1.35.0/busybox-ip-neigh.txt') },
      // Debian's BusyBox 1.35 `ip` without IPv6 neighbours to show prints nothing.
      { command: S['ip6-neigh'], output: '' },
      { command: S['lease-files'], output: '' },
    ], { mode: 'shell' });
    const p = await probeFirmware(session);
    session.assertDone();
    assert.equal(p.family, 'busybox');
    assert.deepEqual(p.commands.listArp, { command: 'ip -4 neigh show', where: 'shell' });
    assert.equal(p.commands.ip6tables, null, 'which did not list ip6tables: not probed, not used');
    assert.deepEqual(p.commands.listNeighbours6, { command: 'ip -6 neigh show', where: 'shell' });
  });
});

const answersOf = (where: 'cli' | 'shell', outputs: Partial<Record<ProbeAnswer['id'], string>>): ProbeAnswer[] =>
  Object.entries(outputs).map(([id, output]) => ({ id: id as ProbeAnswer['id'], command: id, where, output: output! }));
const shellProbes = (outputs: Partial<Record<ProbeAnswer['id'], string>>): RouterProbes => ({ loginMode: 'shell', shellRoute: null, shellEntriesTried: [], answers: answersOf('shell', outputs) });
const OPENWRT_24 = "DISTRIB_ID='OpenWrt'\nDISTRIB_RELEASE='24.10.0'\nNAME=\"OpenWrt\"\nID=\"openwrt\"\n";

describe('detectFirmware (pure)', () => {
  test('OpenWrt fw4 without iptables: nftables only, counted with nft (JSON when -j answers JSON)', () => {
    const p = detectFirmware(shellProbes({
      release: OPENWRT_24,
      commands: '/usr/sbin/nft\n/sbin/fw4\n/sbin/uci\n/bin/busybox\n/sbin/ip\n',
      'iptables-version': '-ash: iptables: not found\n',
      'nft-version': 'nftables v1.1.1 (Commodore Bullmoose #2)\n',
      'nft-json': '{"nftables": [{"metainfo": {"version": "1.1.1", "release_name": "Commodore Bullmoose #2", "json_schema_version": 1}}, {"table": {"family": "inet", "name": "fw4", "handle": 1}}]}\n',
      'ip6-neigh': '2001:db8:1::10 dev br-lan lladdr 02:1a:b0:00:00:0a REACHABLE\n',
    }));
    assert.equal(p.family, 'openwrt-fw4');
    assert.equal(p.capabilities.nftOnly, true);
    assert.equal(p.capabilities.nftVersion, '1.1.1');
    assert.equal(p.capabilities.hasNftJson, true);
    assert.equal(p.commands.iptables, null);
    assert.deepEqual(p.commands.nft, { command: 'nft', where: 'shell' });
    assert.deepEqual(p.commands.listNeighbours6, { command: 'ip -6 neigh show', where: 'shell' });
    assert.ok(p.evidence.some((e) => /nftables only \(nft v1\.1\.1\)/.test(e)));
  });

  test('nft without JSON (nftables-nojson) and without IPv6: text listings, no IPv6 neighbour source', () => {
    const p = detectFirmware(shellProbes({
      release: OPENWRT_24,
      commands: '/usr/sbin/nft\n/sbin/fw4\n/sbin/ip\n',
      'nft-version': 'nftables v1.0.2 (Lester Gooch)\n',
      'nft-json': 'JSON support not compiled-in\n',
      'ip6-neigh': 'RTNETLINK answers: Address family not supported by protocol\n',
    }));
    assert.equal(p.capabilities.nftOnly, true);
    assert.equal(p.capabilities.hasNftJson, false);
    assert.equal(p.commands.listNeighbours6, null);
    assert.match(p.decisions.find((d) => d.what === 'nft')!.chosen, /without JSON output/);
    assert.match(p.decisions.find((d) => d.what === 'ipv6-neighbours')!.chosen, /^none/);
  });

  test('`which` lists nft but it does not answer: not nft-only, and said', () => {
    const p = detectFirmware(shellProbes({ release: OPENWRT_24, commands: '/usr/sbin/nft\n', 'nft-version': '-ash: nft: Permission denied\n' }));
    assert.equal(p.capabilities.nftOnly, false);
    assert.equal(p.commands.nft, null);
    assert.ok(p.evidence.some((e) => e.includes('did not answer `nft -v`')));
  });

  test('OpenWrt fw4 with iptables-nft installed: iptables usable, backend nft', () => {
    const p = detectFirmware(shellProbes({
      release: OPENWRT_24,
      commands: '/usr/sbin/nft\n/sbin/fw4\n/usr/sbin/iptables\n',
      'iptables-version': 'iptables v1.8.10 (nf_tables)\n',
      'iptables-comment': 'comment match options:\n--comment COMMENT             Attach a comment to a rule\n',
      'lease-files': '/tmp/dhcp.leases\n',
      leases: '',
    }));
    assert.equal(p.family, 'openwrt-fw4');
    assert.equal(p.capabilities.nftOnly, false);
    assert.equal(p.capabilities.hasCommentMatch, true);
    assert.equal(p.commands.iptables?.where, 'shell');
    assert.deepEqual(p.commands.listNames, { command: 'cat /tmp/dhcp.leases', where: 'shell', parser: 'dhcp-leases' }, 'an empty lease file is still the name source');
  });

  test('DD-WRT, AsusWRT, Tomato by nvram keys; each family\'s lease file first', () => {
    const base = { commands: '/usr/sbin/nvram\n/usr/sbin/iptables\n', 'iptables-version': 'iptables v1.3.7\n', 'lease-files': '/tmp/dhcp.leases\n/tmp/dnsmasq.leases\n/var/lib/misc/dnsmasq.leases\n', leases: '' };
    const dd = detectFirmware(shellProbes({ ...base, 'nvram-dd-board': 'Linksys WRT54G/GL/GS\n' }));
    assert.equal(dd.family, 'dd-wrt');
    assert.equal(dd.commands.listNames?.command, 'cat /tmp/dnsmasq.leases');
    assert.equal(dd.capabilities.hasCheck, false, 'iptables 1.3.7 has no -C');
    const asus = detectFirmware(shellProbes({ ...base, 'nvram-dd-board': '\n', 'nvram-buildno': '386.7_2\n' }));
    assert.equal(asus.family, 'asuswrt');
    assert.equal(asus.commands.listNames?.command, 'cat /var/lib/misc/dnsmasq.leases');
    const tomato = detectFirmware(shellProbes({ ...base, 'nvram-dd-board': '', 'nvram-buildno': '', 'nvram-os-version': '1.28.0000 MIPSR2-116 K26 USB\n' }));
    assert.equal(tomato.family, 'tomato');
  });

  test('a shell that cannot run batch lines gets changes line by line (probed, not assumed)', () => {
    const p = detectFirmware(shellProbes({ commands: '/bin/busybox\n/bin/iptables\n', 'iptables-version': 'iptables v1.4.21\n', 'shell-batch': '-sh: _L=1: not found\n-sh: {: not found\n' }));
    assert.equal(p.capabilities.hasShellBatch, false);
    assert.match(p.decisions.find((d) => d.what === 'batch')!.chosen, /line by line \(this shell does not run what batching needs\)/);
  });

  test('a lease file the router did not list is never read, whatever it printed', () => {
    const p = detectFirmware(shellProbes({ commands: '/bin/busybox\n', 'iptables-version': 'iptables v1.4.21\n', 'lease-files': '/etc/shadow\n/tmp/x; reboot\n' }));
    assert.equal(p.commands.listNames, null);
  });

  test('no probes at all still answers (conservatively)', () => {
    const p = detectFirmware(shellProbes({}));
    assert.equal(p.family, 'generic-linux');
    assert.deepEqual(p.capabilities, { hasCommentMatch: null, hasCheck: null, iptablesVersion: null, backend: null, shellLineBytes: null, hasShellBatch: null, nftOnly: false, nftVersion: null, hasNftJson: null });
  });
});

describe('stored profiles', () => {
  const probed = () => detectFirmware({
    loginMode: 'cli',
    shellRoute: { enter: 'sh', exit: 'exit' },
    shellEntriesTried: ['sh'],
    answers: [...answersOf('cli', { help: SAGEMCOM_HELP, 'iptables-version': 'iptables v1.4.21', 'arp-show': ARP_SHOW, lanhosts: LANHOSTS }), ...answersOf('shell', { commands: '/bin/iptables\n/bin/iptables-restore\n', 'iptables-version': 'iptables v1.4.21', 'proc-net-arp': ARP_SHOW })],
  });

  test('round trip through JSON: the same table, marked stored', () => {
    const p = probed();
    const back = storedFirmware(JSON.parse(JSON.stringify({ ...p, source: undefined })));
    assert.ok(back);
    assert.equal(back.source, 'stored');
    assert.deepEqual(back.commands, p.commands);
    assert.deepEqual(back.capabilities, p.capabilities);
  });

  test('a file naming a command lantop would not send is ignored (probe again)', () => {
    for (const tamper of [
      (c: Record<string, any>) => { c.listArp.command = 'cat /proc/net/arp; reboot'; },
      (c: Record<string, any>) => { c.shellRoute.enter = 'sh -c reboot'; },
      (c: Record<string, any>) => { c.iptables.command = '/tmp/iptables'; },
      (c: Record<string, any>) => { c.listNames = { command: 'cat /etc/shadow', where: 'shell', parser: 'dhcp-leases' }; },
      (c: Record<string, any>) => { c.nft = { command: 'nft flush ruleset', where: 'shell' }; },
      (c: Record<string, any>) => { c.ip6tables = { command: 'ip6tables -F', where: 'shell', binary: 'ip6tables' }; },
      (c: Record<string, any>) => { c.listNeighbours6 = { command: 'ip -6 neigh flush all', where: 'shell' }; },
      (c: Record<string, any>) => { c.ip6tablesRestore = { command: 'ip6tables-restore', where: 'cli' }; },
      // Stored before issue 15: no IPv6/nft fields, so probe again once to learn them.
      (c: Record<string, any>) => { delete c.nft; delete c.ip6tables; delete c.ip6tablesRestore; delete c.listNeighbours6; },
    ]) {
      const raw = JSON.parse(JSON.stringify(probed()));
      tamper(raw.commands);
      assert.equal(storedFirmware(raw), null);
    }
    assert.equal(storedFirmware({ family: 'cisco' }), null);
    assert.equal(storedFirmware('nonsense'), null);
  });

  test('keys and identities', () => {
    assert.equal(routerKey({ host: '198.51.100.1', port: 23, protocol: 'telnet', user: 'admin' }), 'telnet://admin@198.51.100.1:23');
    assert.equal(identityHash('telnet\nBCM96358\n > '), identityHash('telnet\nBCM96358\n > '));
    assert.notEqual(identityHash('telnet\nBCM96358\n > '), identityHash('telnet\nBCM96358\nATP>'));
    assert.match(identityHash('x'), /^[0-9a-f]{32}$/);
  });
});

describe('--firmware override', () => {
  test('every family has a table, and the override returns it', () => {
    for (const family of FIRMWARE_FAMILIES) {
      const p = firmwareForOverride(family);
      assert.equal(p.family, family);
      assert.equal(p.source, 'override');
      assert.deepEqual(p.commands, FIRMWARE_COMMANDS[family]);
      assert.equal(p.capabilities.nftOnly, family === 'openwrt-fw4');
    }
    assert.equal(firmwareForOverride(' OpenWrt-FW3 ').family, 'openwrt-fw3');
  });
  test('unknown names are a usage error listing the choices', () => {
    assert.throws(() => firmwareForOverride('cisco'), (e: unknown) => e instanceof UsageError && /broadcom-cli/.test(e.nextStep ?? ''));
  });
  test('the returned table is a copy', () => {
    const p = firmwareForOverride('busybox');
    p.commands.listArp.command = 'changed';
    assert.equal(FIRMWARE_COMMANDS.busybox.listArp.command, 'cat /proc/net/arp');
  });
});

describe('ScriptedSession', () => {
  test('fails on an unexpected command and on one never sent', async () => {
    const s = new ScriptedSession([{ command: 'a', output: '1' }, { command: 'b' }]);
    assert.equal(await s.exec('a'), '1');
    assert.throws(() => s.assertDone(), /never sent: "b"/);
    await assert.rejects(s.exec('c'), /unexpected command "c"/);
    assert.throws(() => s.assertDone(), /unexpected command "c"/);
  });
  test('the modal script makes every move a step', async () => {
    const s = new ModalScriptedSession([{ command: 'sh', modeAfter: 'shell' }, { command: 'iptables -L', output: 'x' }, { command: 'exit', modeAfter: 'cli' }, { command: 'arp show', output: 'y' }], { shellRoute: { enter: 'sh', exit: 'exit' } });
    assert.equal(await s.exec('iptables -L', { where: 'shell' }), 'x');
    assert.equal(s.mode, 'shell');
    assert.equal(await s.exec('arp show', { where: 'cli' }), 'y');
    s.assertDone();
  });
});
