import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { detectFirmware, probeFirmware, PROBE_COMMANDS, type FirmwareProbes, type ProbeId } from './detect-firmware.js';
import { firmwareForOverride, FIRMWARE_FAMILIES, FIRMWARE_COMMANDS } from './families.js';
import { ScriptedSession, type ScriptedStep } from '../../../test/fakes/scripted-session.js';
import { readFixture } from '../../../test/fixtures.js';
import { parseArpTable } from '../parsers/arp-table.js';
import { parseLanHosts } from '../parsers/lan-hosts.js';
import { parseDhcpLeases } from '../parsers/dhcp-leases.js';
import { UsageError, TimeoutError } from '../../errors.js';

type Recorded = Array<{ command: string; output: string }>;
const recorded = (path: string): Recorded => JSON.parse(readFixture(path)) as Recorded;

describe('probeFirmware against recorded sessions', () => {
  test('emulated Broadcom CLI (` > `, `sh` gives BusyBox): broadcom-cli, CLI commands, iptables in the CLI', async () => {
    const steps = recorded('emulated-router/broadcom/probes.json');
    // Probes are the first three recorded commands; the rest show the table's commands work.
    const session = new ScriptedSession(steps.slice(0, 3), { mode: 'cli' });
    const profile = await probeFirmware(session);
    session.assertDone();
    assert.equal(profile.family, 'broadcom-cli');
    assert.deepEqual(profile.commands.listArp, { command: 'arp show', where: 'cli' });
    assert.deepEqual(profile.commands.listNames, { command: 'lanhosts show all', where: 'cli', parser: 'lan-hosts' });
    assert.deepEqual(profile.commands.iptables, { binary: 'iptables', command: 'iptables', where: 'cli' });
    assert.equal(profile.commands.shellCommand, 'sh');
    assert.equal(profile.commands.entersShellFirst, false);
    assert.deepEqual(profile.capabilities, { hasCommentMatch: null, hasCheck: true, iptablesVersion: '1.4.21', backend: 'legacy', nftOnly: false });
    // The table's commands were answered by the emulator in the recording, and parse.
    const byCommand = new Map(steps.map((s) => [s.command, s.output]));
    assert.ok(parseArpTable(byCommand.get(profile.commands.listArp.command)!).length > 0);
    assert.ok(parseLanHosts(byCommand.get(profile.commands.listNames!.command)!).length > 0);
  });

  test('emulated BusyBox/OpenWrt shell (`# `): openwrt-fw3 with cat /proc/net/arp and cat /tmp/dhcp.leases', async () => {
    const steps = recorded('emulated-router/busybox/probes.json');
    const session = new ScriptedSession(steps.slice(0, 4), { mode: 'shell' });
    const profile = await probeFirmware(session);
    session.assertDone();
    assert.equal(profile.family, 'openwrt-fw3');
    assert.deepEqual(profile.commands.listArp, { command: 'cat /proc/net/arp', where: 'shell' });
    assert.deepEqual(profile.commands.listNames, { command: 'cat /tmp/dhcp.leases', where: 'shell', parser: 'dhcp-leases' });
    assert.equal(profile.commands.shellCommand, null);
    assert.equal(profile.capabilities.nftOnly, false);
    assert.equal(profile.capabilities.backend, 'legacy');
    const byCommand = new Map(steps.map((s) => [s.command, s.output]));
    assert.ok(parseArpTable(byCommand.get('cat /proc/net/arp')!).length > 0);
    assert.ok(parseDhcpLeases(byCommand.get('cat /tmp/dhcp.leases')!).length > 0);
  });

  test('this Debian 12 machine (real probe outputs): generic-linux, iptables 1.8.9 nf_tables, comment match', async () => {
    const session = new ScriptedSession(recorded('generic-linux/debian-12/probes.json'), { mode: 'shell' });
    const profile = await probeFirmware(session);
    session.assertDone();
    assert.equal(profile.family, 'generic-linux');
    assert.deepEqual(profile.capabilities, { hasCommentMatch: true, hasCheck: true, iptablesVersion: '1.8.9', backend: 'nft', nftOnly: false });
  });

  test('a timeout during probing propagates typed', async () => {
    const session = new ScriptedSession([{ command: PROBE_COMMANDS.help, error: new TimeoutError('no answer') }], { mode: 'cli' });
    await assert.rejects(probeFirmware(session), TimeoutError);
  });
});

// Reconstructed probe outputs (not captured: these firmwares cannot run here). Wording follows
// each project's documented files: /etc/openwrt_release, nvram keys, iptables -V.
function shellProbes(outputs: Partial<Record<ProbeId, string>>): FirmwareProbes {
  return { mode: 'shell', outputs };
}
const OPENWRT_24 = "DISTRIB_ID='OpenWrt'\nDISTRIB_RELEASE='24.10.0'\nNAME=\"OpenWrt\"\nID=\"openwrt\"\n";

describe('detectFirmware (pure)', () => {
  test('OpenWrt fw4 without iptables: nftables only, said clearly', () => {
    const p = detectFirmware(shellProbes({
      release: OPENWRT_24,
      commands: '/usr/sbin/nft\n/sbin/fw4\n/sbin/uci\n/bin/busybox\n',
      'iptables-version': '-ash: iptables: not found\n',
    }));
    assert.equal(p.family, 'openwrt-fw4');
    assert.equal(p.capabilities.nftOnly, true);
    assert.equal(p.commands.iptables, null);
    assert.ok(p.evidence.some((e) => e.includes('later issue')));
  });

  test('OpenWrt fw4 with iptables-nft installed: iptables usable, backend nft', () => {
    const p = detectFirmware(shellProbes({
      release: OPENWRT_24,
      commands: '/usr/sbin/nft\n/sbin/fw4\n/usr/sbin/iptables\n',
      'iptables-version': 'iptables v1.8.10 (nf_tables)\n',
      'iptables-comment': 'comment match options:\n--comment COMMENT             Attach a comment to a rule\n',
    }));
    assert.equal(p.family, 'openwrt-fw4');
    assert.equal(p.capabilities.nftOnly, false);
    assert.equal(p.capabilities.backend, 'nft');
    assert.equal(p.capabilities.hasCommentMatch, true);
    assert.equal(p.commands.iptables?.binary, 'iptables');
  });

  test('DD-WRT, AsusWRT, Tomato by nvram keys', () => {
    const base = { commands: '/usr/sbin/nvram\n/usr/sbin/iptables\n', 'iptables-version': 'iptables v1.3.7\n' };
    const dd = detectFirmware(shellProbes({ ...base, 'nvram-dd-board': 'Linksys WRT54G/GL/GS\n' }));
    assert.equal(dd.family, 'dd-wrt');
    assert.equal(dd.commands.listNames?.command, 'cat /tmp/dnsmasq.leases');
    assert.equal(dd.capabilities.hasCheck, false, 'iptables 1.3.7 has no -C');
    const asus = detectFirmware(shellProbes({ ...base, 'nvram-dd-board': '\n', 'nvram-buildno': '386.7_2\n' }));
    assert.equal(asus.family, 'asuswrt');
    const tomato = detectFirmware(shellProbes({ ...base, 'nvram-dd-board': '', 'nvram-buildno': '', 'nvram-os-version': '1.28.0000 MIPSR2-116 K26 USB\n' }));
    assert.equal(tomato.family, 'tomato');
  });

  test('plain BusyBox shell (a Broadcom box reached by SSH): busybox', () => {
    const p = detectFirmware(shellProbes({
      release: "cat: can't open '/etc/openwrt_release': No such file or directory\n",
      commands: '/bin/busybox\n/bin/iptables\n',
      'iptables-version': 'iptables v1.4.21\n',
      'iptables-comment': "iptables v1.4.21: Couldn't load match `comment':No such file or directory\n\nTry `iptables -h' or 'iptables --help' for more information.\n",
    }));
    assert.equal(p.family, 'busybox');
    assert.equal(p.capabilities.hasCommentMatch, false);
    assert.equal(p.capabilities.hasCheck, true);
  });

  test('Broadcom CLI whose help lacks iptables (Sagemcom, published help): iptables via `sh` first', () => {
    const p = detectFirmware({ mode: 'cli', outputs: { help: readFixture('broadcom-cli/sagemcom-fast2704r/help.txt') } });
    assert.equal(p.family, 'broadcom-cli');
    // That CLI has neither iptables nor sh: no way to iptables from here.
    assert.equal(p.commands.iptables, null);
    assert.deepEqual(p.commands.listNames?.command, 'lanhosts show all');
    const withSh = detectFirmware({ mode: 'cli', outputs: { help: '?\nhelp\narp\nlanhosts\nsh\n' } });
    assert.deepEqual(withSh.commands.iptables, { binary: 'iptables', command: 'iptables', where: 'shell' });
    assert.equal(withSh.commands.entersShellFirst, true);
    const huawei = detectFirmware({ mode: 'cli', outputs: { help: 'display\nshell\nquit\n' } });
    assert.equal(huawei.commands.shellCommand, 'shell');
    assert.equal(huawei.commands.listArp.where, 'shell');
    assert.equal(huawei.commands.listNames, null);
  });

  test('no probes at all still answers (conservatively)', () => {
    const p = detectFirmware(shellProbes({}));
    assert.equal(p.family, 'generic-linux');
    assert.deepEqual(p.capabilities, { hasCommentMatch: null, hasCheck: null, iptablesVersion: null, backend: null, nftOnly: false });
  });
});

describe('--firmware override', () => {
  test('every family has a table, and the override returns it', () => {
    for (const family of FIRMWARE_FAMILIES) {
      const p = firmwareForOverride(family);
      assert.equal(p.family, family);
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
  test('modeAfter switches mode; RegExp steps', async () => {
    const steps: ScriptedStep[] = [{ command: 'sh', modeAfter: 'shell' }, { command: /^iptables /, output: 'x' }];
    const s = new ScriptedSession(steps, { mode: 'cli' });
    await s.exec('sh');
    assert.equal(s.mode, 'shell');
    assert.equal(await s.exec('iptables -L'), 'x');
    s.assertDone();
  });
});
