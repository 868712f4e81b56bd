// test-file-timeout: 90
// The OpenWrt 23.05 persona (flavour 'openwrt-fw4') over telnet, as lantop meets it: the login
// banner and prompt of a real 23.05.0, `which` finding nft/fw4/uci/ip and no iptables, the
// neighbour tables and lease file, the 510-byte line editor the line probe measures, a backend's
// script delivered in lines of that size, traffic counted by nftables per host and family, and
// fw4 reload / flush / reboot behaving as firewall4 does.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { startEmulatedRouter, type EmulatedRouter } from './server.js';
import { OPENWRT_LOGIN_BANNER } from './openwrt-fw4.js';
import { LAN6_PREFIX } from './model-ipv6.js';
import { connectTelnet, type TelnetSession } from '../transport/telnet.js';
import { TelnetStreamDecoder } from '../transport/telnet-decoder.js';
import { LINE_PROBE_COMMAND, maxLineBytesFromProbe, keptLineBytes } from '../router/firmware/line-budget.js';
import { parseIpv6NeighboursReport } from '../router/parsers/ipv6-neighbours.js';
import { parseArpTable } from '../router/parsers/arp-table.js';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

async function router(options: Parameters<typeof startEmulatedRouter>[0] = {}): Promise<EmulatedRouter> {
  const started = await startEmulatedRouter({ flavour: 'openwrt-fw4', seed: 5, ...options });
  cleanups.push(() => started.close());
  return started;
}

async function login(target: EmulatedRouter): Promise<TelnetSession> {
  const session = await connectTelnet({ host: target.host, port: target.port, user: target.user, password: target.password, connectTimeoutMs: 4000, commandTimeoutMs: 4000 });
  cleanups.push(() => session.close());
  return session;
}

/** A script fed to `nft -f -` the way a backend must on this router: in lines of at most 460 bytes. */
async function deliver(session: TelnetSession, script: string): Promise<string> {
  const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;
  const body = `printf '%s\\n' ${script.split('\n').filter(Boolean).map(quote).join(' ')}`;
  for (let at = 0; at < body.length; at += 300) {
    const line = `${at === 0 ? '_C=' : '_C=$_C'}${quote(body.slice(at, at + 300))}`;
    assert.ok(line.length <= 460, `line of ${line.length} bytes`);
    assert.equal(await session.exec(line), '');
  }
  return session.exec('{ eval "$_C"||echo w >&2;}|nft -f - 2>&1;echo r$?;_C=');
}

const design = readFileSync(new URL('./testdata/nft/design.nft', import.meta.url), 'utf8').split('\n').filter((l) => !l.startsWith('#')).join('\n');

test('login: OpenWrt login, then the 23.05.0 banner and root@OpenWrt:~# ', async () => {
  const target = await router({ traffic: false });
  const socket = net.connect(target.port, target.host);
  cleanups.push(async () => void socket.destroy());
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  const text = () => new TelnetStreamDecoder({ isCrNulBareCr: true }).feed(Buffer.concat(chunks)).data.toString('utf8').replace(/\r\n/g, '\n');
  const waitFor = async (needle: string) => {
    const deadline = Date.now() + 3000;
    while (!text().includes(needle) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  };
  await waitFor('login: ');
  assert.equal(text(), '\nOpenWrt login: ');
  socket.write('root\r\n');
  await waitFor('Password: ');
  socket.write('root\r\n');
  await waitFor('~# ');
  assert.ok(text().endsWith(`${OPENWRT_LOGIN_BANNER}root@OpenWrt:~# `), JSON.stringify(text().slice(-200)));
});

test('the shell: nft, fw4, uci and ip but no iptables; release files; nft -v; ip -6 neigh', async () => {
  const target = await router({ traffic: false });
  const session = await login(target);
  assert.equal(session.mode, 'shell');
  assert.equal(await session.exec('which nft fw4 fw3 nvram uci busybox iptables iptables-restore ip ip6tables ip6tables-restore 2>/dev/null'), '/usr/sbin/nft\n/sbin/fw4\n/sbin/uci\n/bin/busybox\n/sbin/ip');
  assert.equal(await session.exec('iptables -L'), '-ash: iptables: not found');
  assert.equal(await session.exec('iptables -V 2>/dev/null; echo $?'), '127');
  assert.match(await session.exec('cat /etc/openwrt_release /etc/os-release 2>/dev/null'), /^DISTRIB_ID='OpenWrt'\nDISTRIB_RELEASE='23\.05\.0'[\s\S]*DISTRIB_TAINTS=''\nNAME="OpenWrt"[\s\S]*OPENWRT_RELEASE="OpenWrt 23\.05\.0 r23497-6637af95aa"$/);
  assert.equal(await session.exec('nft -v'), 'nftables v1.0.8 (Old Doc Yak #2)');
  assert.match(await session.exec('nft -j list tables'), /^\{"nftables": \[\{"metainfo": \{"version": "1\.0\.8", "release_name": "Old Doc Yak #2", "json_schema_version": 1\}\}, \{"table": \{"family": "inet", "name": "fw4", "handle": 1\}\}\]\}$/);
  assert.equal(await session.exec('readlink /proc/$$/exe 2>/dev/null'), '/bin/busybox');

  const hosts = target.state.hosts.filter((h) => h.isOnline);
  const arp = parseArpTable(await session.exec('cat /proc/net/arp'));
  assert.deepEqual(arp.map((e) => e.ip).sort(), hosts.map((h) => h.ip).sort());
  const neigh6 = await session.exec('ip -6 neigh show');
  const report = parseIpv6NeighboursReport(neigh6);
  assert.deepEqual(report.formats, ['busybox']);
  assert.equal(report.skipped.length, 0, JSON.stringify(report.skipped));
  for (const host of hosts) {
    for (const address of host.ipv6) {
      assert.ok(address.address.startsWith(LAN6_PREFIX.slice(0, -1)), address.address);
      const entry = report.entries.find((e) => e.ip === address.address);
      assert.equal(entry?.mac, host.mac, `${address.address} under ${host.mac}`);
    }
  }
  assert.match(neigh6, /^fe80::[0-9a-f:]+ dev br-lan lladdr [0-9a-f:]{17} used \d+\/\d+\/\d+ probes 1 STALE$/m);
  const leases = await session.exec('cat /tmp/dhcp.leases');
  assert.match(leases, /^\d+ [0-9a-f:]{17} 198\.51\.100\.\d+ \S+ \S+\n/);
  assert.equal(await session.exec('for f in /tmp/dhcp.leases /tmp/dnsmasq.leases; do [ -r "$f" ] && echo "$f"; done'), '/tmp/dhcp.leases');
});

test('ip -6 neigh in iproute2 format when the router has ip-full', async () => {
  const target = await router({ traffic: false, ipTool: 'iproute2' });
  const session = await login(target);
  const text = await session.exec('ip -6 neigh show');
  assert.match(text, /^2001:db8:1:[0-9a-f:]+ dev br-lan lladdr [0-9a-f:]{17} REACHABLE $/m);
  assert.deepEqual(parseIpv6NeighboursReport(text).formats, ['iproute2']);
});

test('the line probe measures the 510 bytes OpenWrt ash keeps; a backend script in such lines applies', async () => {
  const target = await router({ traffic: false });
  const session = await login(target);
  const answer = await session.exec(LINE_PROBE_COMMAND);
  assert.equal(keptLineBytes(answer), 510);
  const budget = maxLineBytesFromProbe(answer) as number;
  assert.equal(budget, 460);
  // The script built up in _C line by line (quoted pieces), then fed to nft through printf.
  assert.equal(await deliver(session, design), 'r0');
  // A line longer than the editor keeps loses its end (and its closing quote): ash waits for more.
  await assert.rejects(session.exec(`echo '${'x'.repeat(600)}'`), /No complete reply/);
  const again = await login(target);
  assert.equal(await again.exec('nft list tables'), 'table inet fw4\ntable inet lantop');
});

test('traffic is counted by the nftables sets per host and family, as the hosts moved it', async () => {
  const target = await router({ churn: false });
  const session = await login(target);
  assert.equal(await deliver(session, design), 'r0');
  target.tick(120_000);
  const listing = JSON.parse(await session.exec('nft -j list table inet lantop')) as { nftables: Array<Record<string, { name?: string; elem?: Array<{ elem: { val: string; counter: { bytes: number } } }> }>> };
  const elements = (name: string) => new Map((listing.nftables.find((i) => i['set']?.name === name)?.['set']?.elem ?? []).map((e) => [e.elem.val, e.elem.counter.bytes]));
  const dl4 = elements('dl4');
  const dl6 = elements('dl6');
  const ul6 = elements('ul6');
  let v6Hosts = 0;
  for (const host of target.state.hosts.filter((h) => h.downBytes > 0)) {
    assert.equal(dl4.get(host.ip), host.downBytes - host.downBytes6, `IPv4 down of ${host.ip}`);
    const down6 = host.ipv6.reduce((sum, a) => sum + (dl6.get(a.address) ?? 0), 0);
    const up6 = host.ipv6.reduce((sum, a) => sum + (ul6.get(a.address) ?? 0), 0);
    assert.equal(down6, host.downBytes6, `IPv6 down of ${host.ip}`);
    assert.equal(up6, host.upBytes6, `IPv6 up of ${host.ip}`);
    if (host.downBytes6 > 0) v6Hosts++;
  }
  assert.ok(v6Hosts >= 5, 'most hosts use IPv6 too');
});

test('fw4 reload keeps lantop table and counters; fw4 flush removes it; a reboot leaves only fw4', async () => {
  const target = await router({ churn: false });
  const session = await login(target);
  assert.equal(await deliver(session, design), 'r0');
  target.tick(10_000);
  const before = await session.exec('nft list table inet lantop');
  assert.equal(await session.exec('fw4 -q reload; echo r$?'), 'r0');
  assert.equal(await session.exec('nft list table inet lantop'), before);
  assert.match(await session.exec('nft -j list tables'), /"name": "fw4", "handle": 1\}.*"name": "lantop", "handle": 2\}/);
  assert.equal(await session.exec('fw4 flush; nft list tables'), '');
  assert.equal(await session.exec('fw4 reload; nft list tables'), 'table inet fw4');
  assert.equal(await deliver(session, design), 'r0');
  await target.reboot();
  const again = await login(target);
  assert.equal(await again.exec('nft list tables'), 'table inet fw4');
});

test('detection reads the persona as OpenWrt fw4: nft 1.0.8 with JSON, no iptables, IPv6 neighbours', async () => {
  const { probeFirmware } = await import('../router/firmware/probe-router.js');
  const target = await router({ traffic: false });
  const session = await login(target);
  const profile = await probeFirmware(session);
  assert.equal(profile.family, 'openwrt-fw4');
  assert.equal(profile.commands.iptables, null);
  assert.deepEqual(profile.commands.nft, { command: 'nft', where: 'shell' });
  assert.deepEqual(profile.commands.listNeighbours6, { command: 'ip -6 neigh show', where: 'shell' });
  assert.equal(profile.commands.listNames?.parser, 'dhcp-leases');
  assert.deepEqual([profile.capabilities.nftOnly, profile.capabilities.nftVersion, profile.capabilities.hasNftJson], [true, '1.0.8', true]);
  // probe-router.ts runs the line probe only where iptables answers: here the safe default stays
  // (450 + the transport's 41-byte sentinel fit the 510 bytes this ash keeps).
  assert.deepEqual([profile.capabilities.shellLineBytes, profile.capabilities.hasShellBatch], [450, true]);
});

test('lantop demo --firmware picks the persona; families without one are refused', async () => {
  const { demoPersona } = await import('./demo-personas.js');
  assert.equal(demoPersona(undefined)?.flavour, 'broadcom');
  assert.equal(demoPersona('openwrt-fw4')?.flavour, 'openwrt-fw4');
  assert.equal(demoPersona('OpenWrt-FW3')?.flavour, 'busybox');
  assert.equal(demoPersona('dd-wrt'), null);
});
