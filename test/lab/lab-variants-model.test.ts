// The pure part of the lab's router variants (no root needed): presets resolve to profiles, bounds
// are enforced, every published text a variant prints exists, name sources follow the profile; the
// OpenWrt router's filesystem and files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { OPENWRT_APPLETS, OPENWRT_ETC_FILES, openwrtFarm } from './lab-openwrt.js';
import { CLI_TEXTS, DEFAULT_PROFILE, LAB_VARIANT_NAMES, cliDialogue, nameSource, resolveProfile } from './lab-variants.js';

test('every variant resolves; the default is the CMS profile', () => {
  assert.deepEqual(resolveProfile(), DEFAULT_PROFILE);
  for (const name of LAB_VARIANT_NAMES) assert.ok(resolveProfile(name));
  assert.equal(resolveProfile('huawei-atp').unknownCommand, 'command-failed');
  assert.equal(resolveProfile('cms', { unknownCommand: 'silent' }).unknownCommand, 'silent');
  assert.throws(() => resolveProfile('nope' as never), /unknown lab variant/);
});

test('chunking is bounded and only behind BusyBox telnetd', () => {
  assert.throws(() => resolveProfile('slow-chunked', { chunking: { bytes: 0, delayMs: 2 } }), /bytes/);
  assert.throws(() => resolveProfile('slow-chunked', { chunking: { bytes: 5, delayMs: 500 } }), /delayMs/);
  assert.throws(() => resolveProfile('slow-chunked', { telnetd: 'inetutils' }), /BusyBox/);
});

test('the texts the CLI prints are fixtures that exist', () => {
  for (const fixture of Object.values(CLI_TEXTS)) assert.ok(existsSync(new URL(`../../fixtures/${fixture}`, import.meta.url)), fixture);
});

test('dialogue and name sources per profile', () => {
  assert.equal(cliDialogue(resolveProfile('huawei-atp')).shellCommand, 'shell');
  assert.ok(cliDialogue(resolveProfile('tplink-hash')).prompt.test('TP-Link(conf)#'));
  assert.equal(nameSource(resolveProfile('cms'), 'telnet'), 'required');
  assert.equal(nameSource(resolveProfile('lanhosts-sdk'), 'telnet'), 'optional');
  assert.equal(nameSource(resolveProfile('ssh-no-leases'), 'ssh'), 'none');
  assert.equal(nameSource(resolveProfile('ssh-no-leases'), 'telnet'), 'required');
});

test('dual stack and OpenWrt: profiles, what cannot combine, dialogue, name sources', () => {
  assert.equal(resolveProfile('cms').ipv6, false);
  assert.equal(resolveProfile('dual-stack').ipv6, true);
  assert.deepEqual({ ...resolveProfile('openwrt-fw4') }, { ...DEFAULT_PROFILE, firmware: 'openwrt', ipv6: true });
  assert.throws(() => resolveProfile('openwrt-fw4', { telnetd: 'inetutils' }), /BusyBox telnetd only/);
  assert.throws(() => resolveProfile('openwrt-fw4', { chunking: { bytes: 5, delayMs: 2 } }), /without chunking/);
  const dialogue = cliDialogue(resolveProfile('openwrt-fw4'));
  assert.equal(dialogue.shellCommand, null, 'the login lands in the shell');
  assert.ok(dialogue.loginPrompt.test('\r\r\nOpenWrt login: '));
  assert.ok(dialogue.prompt.test('root@OpenWrt:~# '));
  assert.ok(dialogue.prompt.test('root@OpenWrt:~# \u001b[6n'), 'Debian BusyBox asks for the cursor position');
  assert.ok(!dialogue.prompt.test('root@OpenWrt:~# ls'));
  assert.equal(nameSource(resolveProfile('openwrt-fw4'), 'telnet'), 'required');
  assert.equal(nameSource(resolveProfile('openwrt-fw4'), 'ssh'), 'required');
});

test('OpenWrt filesystem: BusyBox applets where busybox --list-full puts them, nft/dropbear/fw4, never iptables', () => {
  const listFull = OPENWRT_APPLETS.map((name) => (name === 'ip' || name === 'sysctl' ? `sbin/${name}` : `bin/${name}`))
    .concat(['sbin/reboot', 'usr/sbin/telnetd', 'bin/dpkg']).join('\n');
  const farm = openwrtFarm(listFull, '/h/bin', '/h/sbin', '/lab');
  const names = farm.map((e) => `${e.dir}/${e.name}`);
  for (const wanted of ['bin/ash', 'bin/which', 'sbin/ip', 'sbin/nft', 'sbin/dropbear', 'sbin/fw4', 'bin/flock']) assert.ok(names.includes(wanted), wanted);
  for (const absent of ['reboot', 'telnetd', 'dpkg', 'iptables', 'ip6tables', 'iptables-restore']) assert.ok(!farm.some((e) => e.name === absent), absent);
  assert.deepEqual(farm.find((e) => e.name === 'nft'), { dir: 'sbin', name: 'nft', target: '/h/sbin/nft' });
  assert.equal(farm.find((e) => e.name === 'cat')?.target, '/usr/bin/busybox', 'an applet is a link to busybox');
  assert.throws(() => openwrtFarm('bin/cat\n', '/h/bin', '/h/sbin', '/lab'), /lacks OpenWrt applets/);
});

test('OpenWrt files: the published /etc texts, and firewall4\'s ruleset with policy drop on input and forward', () => {
  const dir = new URL('./openwrt/', import.meta.url);
  for (const name of [...Object.keys(OPENWRT_ETC_FILES), 'fw4', 'firewall', 'ruleset.nft']) assert.ok(existsSync(new URL(name, dir)), name);
  assert.match(readFileSync(new URL('openwrt_release', dir), 'utf8'), /^DISTRIB_ID='OpenWrt'\nDISTRIB_RELEASE='24\.10\.0'\n/);
  const ruleset = readFileSync(new URL('ruleset.nft', dir), 'utf8');
  assert.ok(ruleset.startsWith('table inet fw4\nflush table inet fw4\n\ntable inet fw4 {\n'), 'fw4 print: flush, then the table');
  assert.match(ruleset, /chain input \{\n\t\ttype filter hook input priority filter; policy drop;/);
  assert.match(ruleset, /chain forward \{\n\t\ttype filter hook forward priority filter; policy drop;/);
  assert.match(ruleset, /meta nfproto ipv4 masquerade/);
  assert.doesNotMatch(ruleset, /^table (?!inet fw4)/m, 'fw4 renders table inet fw4 only');
});
