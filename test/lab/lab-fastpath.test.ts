// The lab's offload helpers, pure part (no root): conntrack lines as published, the watcher's
// decisions, /proc/net/dev, and fw4's ruleset with offloading rendered in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fastPathAction, fw4OffloadRuleset, l3Bytes, parseConntrackLine, parseProcNetDev } from './lab-fastpath.js';

test('conntrack lines: /proc and conntrack -L captures (openwrt/luci#5909), offloaded without a timeout', () => {
  const proc = parseConntrackLine('ipv4     2 tcp      6 7208 ESTABLISHED src=192.168.1.10 dst=10.0.1.1 sport=42978 dport=5201 packets=2 bytes=112 src=10.0.1.1 dst=10.0.1.2 sport=5201 dport=42978 packets=1 bytes=60 [ASSURED] mark=0 zone=0 use=2');
  assert.equal(proc?.proto, 'tcp');
  assert.equal(proc?.state, 'ESTABLISHED');
  assert.deepEqual([proc?.original.bytes, proc?.reply.bytes, proc?.reply.dst, proc?.flags], [112, 60, '10.0.1.2', ['ASSURED']]);
  const tool = parseConntrackLine('tcp      6 src=192.168.1.10 dst=10.0.1.1 sport=42984 dport=5201 packets=2 bytes=112 src=10.0.1.1 dst=10.0.1.2 sport=5201 dport=42984 packets=1 bytes=60 [OFFLOAD] mark=0 use=2');
  assert.deepEqual(tool, {
    proto: 'tcp', state: null, event: null, flags: ['OFFLOAD'],
    original: { src: '192.168.1.10', dst: '10.0.1.1', sport: 42984, dport: 5201, packets: 2, bytes: 112 },
    reply: { src: '10.0.1.1', dst: '10.0.1.2', sport: 5201, dport: 42984, packets: 1, bytes: 60 },
  });
  assert.equal(parseConntrackLine('conntrack v1.4.6 (conntrack-tools): 3 flow entries have been shown.'), null);
});

test('the watcher: in on ESTABLISHED (port kept by NAT), out on FIN states and DESTROY; others ignored', () => {
  const line = (event: string, state: string, natPort = 40000) => parseConntrackLine(`[${event}] tcp      6 432000 ${state} src=198.51.100.10 dst=203.0.113.1 sport=40000 dport=5601 src=203.0.113.1 dst=203.0.113.2 sport=5601 dport=${natPort} [ASSURED]`)!;
  assert.equal(fastPathAction(line('UPDATE', 'SYN_RECV')), null);
  assert.deepEqual(fastPathAction(line('UPDATE', 'ESTABLISHED')), {
    op: 'add',
    nft: 'add element netdev lab_fastpath up4 { 198.51.100.10 . tcp . 40000 . 203.0.113.1 . 5601 }\nadd element netdev lab_fastpath down4 { 203.0.113.1 . tcp . 5601 . 40000 : 198.51.100.10 }\n',
  });
  assert.equal(fastPathAction(line('UPDATE', 'ESTABLISHED', 40001)), null, 'masquerade changed the port');
  assert.equal(fastPathAction(line('UPDATE', 'FIN_WAIT'))?.op, 'delete');
  assert.equal(fastPathAction(line('DESTROY', 'ESTABLISHED'))?.op, 'delete');
  const v6 = parseConntrackLine('[UPDATE] tcp      6 432000 ESTABLISHED src=2001:db8:1::10 dst=2001:db8:ff::1 sport=40000 dport=5601 src=2001:db8:ff::1 dst=2001:db8:1::10 sport=5601 dport=40000 [ASSURED]')!;
  assert.equal(fastPathAction(v6)?.nft, 'add element netdev lab_fastpath flows6 { 2001:db8:1::10 . tcp . 40000 . 2001:db8:ff::1 . 5601 }\n');
  const wanSide = parseConntrackLine('[UPDATE] tcp      6 432000 ESTABLISHED src=203.0.113.1 dst=203.0.113.2 sport=40000 dport=22 src=203.0.113.2 dst=203.0.113.1 sport=22 dport=40000 [ASSURED]')!;
  assert.equal(fastPathAction(wanSide), null, 'only LAN-initiated forwarded connections');
});

test('/proc/net/dev (net/core/net-procfs.c layout) and the veth L3 relation', () => {
  const text = [
    'Inter-|   Receive                                                |  Transmit',
    ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
    '    lo:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0',
    '  ppp0: 2885500     105    0    0    0     0          0         0    12345      99    0    0    0     0       0          0',
  ].join('\n');
  assert.deepEqual(parseProcNetDev(text)['ppp0'], { rxBytes: 2885500, rxPackets: 105, txBytes: 12345, txPackets: 99 });
  assert.equal(l3Bytes(2885500, 105), 2885500 - 14 * 105);
});

test('fw4 with flow_offloading: the flowtable block first in the table, the offload rule first in forward', () => {
  const ruleset = readFileSync(new URL('./openwrt/ruleset.nft', import.meta.url), 'utf8');
  const out = fw4OffloadRuleset(ruleset);
  assert.match(out, /^table inet fw4 \{\n\t#\n\t# Flowtable\n\t#\n\n\tflowtable ft \{\n\t\thook ingress priority 0;\n\t\tdevices = \{ "br0", "ppp0" \};\n\t\tcounter;\n\t\}\n/m);
  assert.match(out, /policy drop;\n\n\t\tmeta l4proto \{ tcp, udp \} flow offload @ft;\n\t\tct state vmap \{ established : accept, related : accept \} comment "!fw4: Handle forwarded flows"/);
  assert.equal(out.replace(/\t#\n\t# Flowtable[\s\S]*?\t\}\n\n\n/, '').replace('\t\tmeta l4proto { tcp, udp } flow offload @ft;\n', ''), ruleset, 'nothing else changes');
});
