// The emulated connection table (issue 19): printed as the kernel's ct_seq_show prints it, carrying
// exactly the hosts' forwarded bytes, accounting attached at creation only, offload marks, and the
// BusyBox grep lantop filters it with on the router.
import assert from 'node:assert/strict';
import test from 'node:test';
import { runBusyboxShell } from './commands.js';
import { createRouterModel, type RouterModel } from './model.js';
import { formatProcNetConntrack, kernelAddress } from './model-conntrack-format.js';
import { conntrackBytesByHost } from './model-conntrack.js';
import { advanceModel } from './model-simulation.js';
import { createOpenWrtSession, runOpenWrtShell } from './openwrt-fw4.js';

// Built from ct_seq_show (net/netfilter/nf_conntrack_standalone.c, 5.15): "%-8s %u %-8s %u ", the
// timeout "%ld " unless offloaded, the TCP state "%s ", print_tuple "src=%pI4 dst=%pI4 " (%pI6: eight
// groups of four hex digits) + "sport=%hu dport=%hu ", seq_print_acct "packets=%llu bytes=%llu ",
// [UNREPLIED], the reply tuple and counters, [HW_OFFLOAD]|[OFFLOAD]|[ASSURED], "mark=%u ",
// ct_show_zone "zone=%u ", "use=%u\n". Broadcom's 2.6.30-era kernel: always a timeout, no zone.
const ADDR = String.raw`(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-f]{4}(?::[0-9a-f]{4}){7})`;
const TUPLE = String.raw`src=(${ADDR}) dst=(${ADDR}) sport=(\d{1,5}) dport=(\d{1,5}) `;
const ACCT = String.raw`(?:packets=(\d+) bytes=(\d+) )?`;
function lineRegex(isModern: boolean): RegExp {
  return new RegExp(
    String.raw`^(ipv4|ipv6) {5}(2|10) (tcp|udp) {6}(6|17) ((?:\d+ )?)((?:ESTABLISHED |TIME_WAIT )?)${TUPLE}${ACCT}(\[UNREPLIED\] )?${TUPLE}${ACCT}((?:\[OFFLOAD\] |\[ASSURED\] )?)mark=0 ${isModern ? 'zone=0 ' : ''}use=\d+$`,
  );
}

interface Entry {
  l3: string;
  l4: string;
  timeout: string;
  state: string;
  src: string;
  dst: string;
  dport: number;
  replySrc: string;
  replyDst: string;
  origBytes: number | null;
  replyBytes: number | null;
  flag: string;
}

function parse(text: string, isModern: boolean): Entry[] {
  const regex = lineRegex(isModern);
  return text.split('\n').filter((line) => line !== '').map((line) => {
    const m = regex.exec(line);
    assert.ok(m, `not as ct_seq_show prints it: ${line}`);
    return {
      l3: m[1] as string, l4: m[3] as string, timeout: (m[5] as string).trim(), state: (m[6] as string).trim(),
      src: m[7] as string, dst: m[8] as string, dport: Number(m[10]),
      replySrc: m[14] as string, replyDst: m[15] as string,
      origBytes: m[12] === undefined ? null : Number(m[12]), replyBytes: m[19] === undefined ? null : Number(m[19]),
      flag: (m[20] as string).trim(),
    };
  });
}

function hostAddresses(model: RouterModel, mac: string): Set<string> {
  const host = model.hosts.find((h) => h.mac === mac);
  assert.ok(host);
  return new Set([host.ip, ...host.ipv6.map((a) => kernelAddress(a.address))]);
}

test('every line parses as ct_seq_show prints it, IPv6 expanded, NATed IPv4 replies to the WAN address', () => {
  for (const flavour of ['openwrt-fw4', 'broadcom', 'busybox'] as const) {
    const model = createRouterModel({ flavour, seed: 3 });
    advanceModel(model, model.nowMs + 5 * 60_000);
    const entries = parse(formatProcNetConntrack(model), flavour !== 'broadcom');
    assert.ok(entries.length > 10, `${flavour}: a busy table`);
    for (const entry of entries) {
      assert.notEqual(entry.timeout, '', 'not offloaded: the timeout is printed');
      assert.equal(entry.state !== '', entry.l4 === 'tcp', 'TCP entries carry their state, UDP ones none');
      const isForwardedIpv4 = entry.l3 === 'ipv4' && entry.src.startsWith('198.51.100.') && !entry.dst.startsWith('198.51.100.');
      if (isForwardedIpv4) assert.equal(entry.replyDst, model.wanAddress, 'SNAT: the reply goes to the WAN address');
      if (entry.l3 === 'ipv6') assert.equal(entry.replyDst, entry.src, 'no NAT for IPv6');
    }
    if (flavour === 'openwrt-fw4') assert.ok(entries.some((e) => e.l3 === 'ipv6'), 'the dual-stack LAN has IPv6 flows');
    assert.ok(entries.some((e) => e.dport === 443 && e.l4 === 'udp'), 'QUIC');
    assert.ok(entries.some((e) => e.dport === 53), 'DNS');
  }
});

test('with offload off the table carries exactly each host\'s forwarded bytes, as the file shows them', () => {
  const model = createRouterModel({ flavour: 'openwrt-fw4', seed: 5 });
  advanceModel(model, model.nowMs + 20 * 60_000);
  const entries = parse(formatProcNetConntrack(model), true);
  const totals = conntrackBytesByHost(model);
  let busy = 0;
  for (const host of model.hosts) {
    const total = totals.get(host.mac) ?? { up: 0, down: 0 };
    assert.equal(total.up, host.upBytes, `${host.hostname}: upload = original-direction bytes`);
    assert.equal(total.down, host.downBytes, `${host.hostname}: download = reply-direction bytes`);
    // From the file itself: its forwarded lines (not the ones to the router) plus what already left the table.
    const addresses = hostAddresses(model, host.mac);
    let up = 0;
    let down = 0;
    for (const entry of entries) {
      if (!addresses.has(entry.src) || entry.dst === model.lanAddress) continue;
      up += entry.origBytes ?? 0;
      down += entry.replyBytes ?? 0;
    }
    const gone = model.conntrack.goneBytes.get(host.mac) ?? { up: 0, down: 0 };
    assert.equal(up + gone.up, host.upBytes, `${host.hostname}: file + gone = upload`);
    assert.equal(down + gone.down, host.downBytes, `${host.hostname}: file + gone = download`);
    if (host.downBytes > 1_000_000) busy++;
  }
  assert.ok(busy >= 3, 'several hosts moved real amounts');
});

test('connections open and end over time: TIME_WAIT, then gone', () => {
  const model = createRouterModel({ flavour: 'openwrt-fw4', seed: 2 });
  advanceModel(model, model.nowMs + 60_000);
  const first = new Set(model.conntrack.connections.map((c) => c.id));
  advanceModel(model, model.nowMs + 30 * 60_000);
  const later = model.conntrack.connections;
  assert.ok(later.some((c) => !first.has(c.id)), 'new connections appeared');
  assert.ok([...first].some((id) => !later.some((c) => c.id === id)), 'old ones left the table');
  const entries = parse(formatProcNetConntrack(model), true);
  assert.ok(entries.some((e) => e.state === 'TIME_WAIT' && Number(e.timeout) <= 120));
});

test('accounting: on by default on OpenWrt, off on Broadcom until written; it reaches new connections only', () => {
  const fw4 = createRouterModel({ flavour: 'openwrt-fw4' });
  const session = createOpenWrtSession();
  assert.equal(runOpenWrtShell(fw4, session, 'cat /proc/sys/net/netfilter/nf_conntrack_acct').output, '1\n');

  const model = createRouterModel({ flavour: 'broadcom', seed: 4 });
  const shell = { lastStatus: 0 };
  const run = (line: string): string => runBusyboxShell(model, shell, line, 'broadcom').output;
  assert.equal(run('cat /proc/sys/net/netfilter/nf_conntrack_acct'), '0\n');
  advanceModel(model, model.nowMs + 60_000);
  const before = parse(formatProcNetConntrack(model), false);
  assert.ok(before.length > 0 && before.every((e) => e.origBytes === null && e.replyBytes === null), 'no counters printed at all');
  const oldIds = new Set(model.conntrack.connections.map((c) => c.id));
  assert.equal(run('echo 1 > /proc/sys/net/netfilter/nf_conntrack_acct'), '');
  assert.equal(shell.lastStatus, 0);
  assert.equal(run('cat /proc/sys/net/netfilter/nf_conntrack_acct'), '1\n');
  advanceModel(model, model.nowMs + 10 * 60_000);
  for (const connection of model.conntrack.connections) {
    if (oldIds.has(connection.id)) assert.equal(connection.hasAcct, false, 'existing connections keep none');
  }
  const after = parse(formatProcNetConntrack(model), false);
  assert.ok(after.some((e) => (e.replyBytes ?? 0) > 0), 'new connections count');
  assert.match(run('echo x > /proc/sys/net/netfilter/nf_conntrack_acct'), /Invalid argument/);
});

test('offload on, fw4: offloaded entries print [OFFLOAD] and no timeout; the table stays complete', () => {
  const model = createRouterModel({ flavour: 'openwrt-fw4', seed: 5, offload: 'on' });
  advanceModel(model, model.nowMs + 10 * 60_000);
  const entries = parse(formatProcNetConntrack(model), true);
  const offloaded = entries.filter((e) => e.flag === '[OFFLOAD]');
  assert.ok(offloaded.length > 5);
  assert.ok(offloaded.every((e) => e.timeout === ''), 'the kernel leaves the timeout out for offloaded entries');
  const totals = conntrackBytesByHost(model);
  for (const host of model.hosts) {
    assert.equal(totals.get(host.mac)?.down ?? 0, host.downBytes);
    assert.equal(totals.get(host.mac)?.up ?? 0, host.upBytes);
  }
});

test('grep -F -e PATTERN -e PATTERN FILE behaves as BusyBox grep, in both shells', () => {
  const fw4 = createRouterModel({ flavour: 'openwrt-fw4', seed: 6 });
  const broadcom = createRouterModel({ flavour: 'broadcom', seed: 6 });
  advanceModel(fw4, fw4.nowMs + 120_000);
  advanceModel(broadcom, broadcom.nowMs + 120_000);
  const session = createOpenWrtSession();
  const shell = { lastStatus: 0 };
  for (const [model, run, status] of [
    [fw4, (line: string) => runOpenWrtShell(fw4, session, line).output, () => session.lastStatus],
    [broadcom, (line: string) => runBusyboxShell(broadcom, shell, line, 'broadcom').output, () => shell.lastStatus],
  ] as const) {
    const ip = (model.hosts[1] as { ip: string }).ip;
    const all = formatProcNetConntrack(model).split('\n').filter((l) => l !== '');
    const expected = all.filter((l) => l.includes(`src=${ip} `) || l.includes(`dst=${ip} `));
    assert.ok(expected.length > 0);
    const got = run(`grep -F -e 'src=${ip} ' -e 'dst=${ip} ' /proc/net/nf_conntrack`);
    assert.deepEqual(got.split('\n').filter((l) => l !== ''), expected);
    assert.equal(status(), 0);
    // The trailing blank matters: .10 must not match .100.
    assert.equal(run(`grep -F -e 'src=198.51.100.250 ' /proc/net/nf_conntrack`), '');
    assert.equal(status(), 1, 'no match: 1');
    assert.equal(run(`grep -F -e x /proc/net/nothing`), "grep: /proc/net/nothing: No such file or directory\n");
    assert.equal(status(), 2, 'unreadable file: 2');
    assert.equal(run(`grep -c -F -e 'use=' /proc/net/nf_conntrack`), `${all.length}\n`);
  }
});
