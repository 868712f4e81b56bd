// Software flow offload in the lab (option `flowOffload: 'software'`, issue 19), pure part: the
// rule sets and the decisions; lab-router-offload.ts does the I/O.
//
// What OpenWrt does (openwrt/firewall4 root/usr/share/firewall4/templates/ruleset.uc, rendered with
// `option flow_offloading '1'`): a flowtable `ft` on the zones' devices and, first in the forward
// chain, `meta l4proto { tcp, udp } flow offload @ft`. The first established packet of a connection
// puts it into the flowtable; from then on the kernel forwards its packets at the devices' ingress
// hook, before prerouting, so forward/postrouting rules (and every counter in them) never see them
// again; a TCP FIN or RST sends the packet back to the normal path and ends the offload.
//
// Two ways to get that here:
// - 'kernel-flowtable': the real flowtable, as fw4 renders it (fw4OffloadRuleset), when the kernel
//   has CONFIG_NF_FLOW_TABLE (probed like fw4's own nft_try_hw_offload: `nft -c` of a flowtable).
// - 'emulated': kernels built without it (this project's test machine: 6.18 with
//   `# CONFIG_NF_FLOW_TABLE is not set`, no modules). A netdev table with ingress chains on br0 and
//   ppp0 forwards the packets of established connections itself (`fwd ip to … device …`: neighbour
//   output with a TTL decrement, like the flowtable's FLOW_OFFLOAD_XMIT_NEIGH), NAT done by payload
//   rewrites, driven by conntrack events (the lab's watcher adds a connection once conntrack calls
//   it ESTABLISHED, or a UDP flow once it saw a reply). What it shares with the kernel's flowtable:
//   forward-hook counters see only the first packets and the FIN/RST ones, the devices' own counters
//   (/proc/net/dev) and the hosts see everything. What it does not: conntrack sees none of the fast
//   packets, so its bytes= stop growing (the kernel flowtable with `counter`, fw4 since 04a06bd,
//   keeps adding them; without `counter`, OpenWrt 22.03's fw4, it does not either); no `flowtable`
//   in `nft list ruleset` and no [OFFLOAD] in conntrack (the kernel sets that bit only itself). The
//   kernel also marks offloaded TCP connections "be liberal" in window tracking (flow_offload_ct_tcp
//   in net/netfilter/nft_flow_offload.c), which the netns-wide nf_conntrack_tcp_be_liberal=1
//   stands in for, so the FIN after unseen data is not INVALID (fw4 drops invalid LAN→WAN packets).
import { LAN6_PREFIX, LAN_PREFIX, ROUTER_WAN_IP, ISP_IP, ISP_IP6 } from './lab-model.js';

export type FlowOffload = 'off' | 'software';
export type FastPathKind = 'kernel-flowtable' | 'emulated';

export const FASTPATH_TABLE = 'lab_fastpath';
/** The vendor (iptables) router's flowtable lives in a table of its own, beside iptables. */
export const OFFLOAD_TABLE = 'lab_offload';
const LAN_DEVICE = 'br0';
const WAN_DEVICE = 'ppp0';

/**
 * fw4's ruleset with `flow_offloading=1` rendered in: the flowtable block (ruleset.uc lines 16-29 at
 * b6e5157; 18fc0ea's is the same) with software offload's devices (the zones' `related_physdevs`
 * that exist: br-lan and the wan's device, here br0 and ppp0, sorted) and the forward chain's first
 * rule (lines 137-139). `flags offload` only comes with flow_offloading_hw, so it is absent.
 */
export function fw4OffloadRuleset(ruleset: string): string {
  const flowtable = [
    '\t#', '\t# Flowtable', '\t#', '',
    '\tflowtable ft {',
    '\t\thook ingress priority 0;',
    `\t\tdevices = { "${LAN_DEVICE}", "${WAN_DEVICE}" };`,
    '\t\tcounter;',
    '\t}', '', '', '',
  ].join('\n');
  const head = 'table inet fw4 {\n';
  const forward = '\t\ttype filter hook forward priority filter; policy drop;\n\n';
  const at = ruleset.indexOf(head);
  const fwd = ruleset.indexOf(forward);
  if (at < 0 || fwd < 0) throw new Error('fw4 ruleset: no table inet fw4 or forward chain to render offloading into');
  const withRule = ruleset.slice(0, fwd + forward.length) + '\t\tmeta l4proto { tcp, udp } flow offload @ft;\n' + ruleset.slice(fwd + forward.length);
  return withRule.slice(0, at + head.length) + flowtable + withRule.slice(at + head.length);
}

/** The vendor router's software offload: the same flowtable and rule in a table beside iptables,
 * after its filter (only what iptables accepted is offloaded, as fw3's FLOWOFFLOAD rule in FORWARD). */
export function vendorOffloadRuleset(): string {
  return [
    `table inet ${OFFLOAD_TABLE} {`,
    '\tflowtable ft {',
    '\t\thook ingress priority 0;',
    `\t\tdevices = { "${LAN_DEVICE}", "${WAN_DEVICE}" };`,
    '\t\tcounter;',
    '\t}',
    '\tchain forward {',
    '\t\ttype filter hook forward priority filter + 1; policy accept;',
    '\t\tmeta l4proto { tcp, udp } flow offload @ft',
    '\t}',
    '}',
    '',
  ].join('\n');
}

/** `nft -c -f -` input that succeeds only where the kernel has flowtables (as fw4's nft_try_hw_offload). */
export function flowtableProbe(): string {
  return `add table inet lab_ft_probe\nadd flowtable inet lab_ft_probe ft { hook ingress priority 0; devices = { "${LAN_DEVICE}" }; }\n`;
}

/**
 * The emulated fast path (see the header). Keys, in packet terms:
 * up4   LAN ingress: host . proto . host port . remote . remote port  → saddr := WAN address, to the ISP
 * down4 WAN ingress: remote . proto . remote port . NAT port : host   → daddr := host, to the LAN
 * flows6 both ways:  host . proto . host port . remote . remote port  (routed, no NAT)
 * FIN and RST always take the normal path, as they end a flowtable entry.
 */
export function fastPathRuleset(): string {
  return [
    `table netdev ${FASTPATH_TABLE}`,
    `flush table netdev ${FASTPATH_TABLE}`,
    `table netdev ${FASTPATH_TABLE} {`,
    '\tset up4 { typeof ip saddr . meta l4proto . th sport . ip daddr . th dport; size 4096; }',
    '\tmap down4 { typeof ip saddr . meta l4proto . th sport . th dport : ip daddr; size 4096; }',
    '\tset flows6 { typeof ip6 saddr . meta l4proto . th sport . ip6 daddr . th dport; size 4096; }',
    '\tchain lan {',
    `\t\ttype filter hook ingress device "${LAN_DEVICE}" priority filter; policy accept;`,
    '\t\ttcp flags & (fin | rst) != 0 return',
    `\t\tip saddr . meta l4proto . th sport . ip daddr . th dport @up4 ip saddr set ${ROUTER_WAN_IP} fwd ip to ${ISP_IP} device "${WAN_DEVICE}"`,
    `\t\tip6 saddr . meta l4proto . th sport . ip6 daddr . th dport @flows6 fwd ip6 to ${ISP_IP6} device "${WAN_DEVICE}"`,
    '\t}',
    '\tchain wan {',
    `\t\ttype filter hook ingress device "${WAN_DEVICE}" priority filter; policy accept;`,
    '\t\ttcp flags & (fin | rst) != 0 return',
    `\t\tip daddr ${ROUTER_WAN_IP} ip daddr set ip saddr . meta l4proto . th sport . th dport map @down4 fwd ip to ip daddr device "${LAN_DEVICE}"`,
    `\t\tip6 daddr . meta l4proto . th dport . ip6 saddr . th sport @flows6 fwd ip6 to ip6 daddr device "${LAN_DEVICE}"`,
    '\t}',
    '}',
    '',
  ].join('\n');
}

/** One connection as conntrack reports it: the original and the reply tuple. */
export interface ConntrackTuple {
  src: string;
  dst: string;
  sport: number | null;
  dport: number | null;
  packets: number | null;
  bytes: number | null;
}

export interface ConntrackEntry {
  /** `tcp`, `udp`, `icmp`, … */
  proto: string;
  /** The TCP state (`ESTABLISHED`, `FIN_WAIT`, …); null for protocols without one. */
  state: string | null;
  original: ConntrackTuple;
  reply: ConntrackTuple;
  /** `[ASSURED]`, `[UNREPLIED]`, `[OFFLOAD]`, … without brackets. */
  flags: string[];
  /** conntrack -E's event (`NEW`, `UPDATE`, `DESTROY`); null in a listing. */
  event: string | null;
}

const emptyTuple = (): ConntrackTuple => ({ src: '', dst: '', sport: null, dport: null, packets: null, bytes: null });

/**
 * One line of `conntrack -L` or `conntrack -E` (conntrack-tools 1.4), e.g.
 * `tcp      6 431999 ESTABLISHED src=198.51.100.10 dst=203.0.113.1 sport=40000 dport=5555 packets=9 bytes=1024 src=203.0.113.1 dst=203.0.113.2 sport=5555 dport=40000 packets=12 bytes=90000 [ASSURED] mark=0 use=1`
 * or `    [UPDATE] tcp      6 432000 ESTABLISHED src=… [ASSURED]`, or /proc/net/nf_conntrack's with `ipv4     2 ` first. Pairs are read by name, the first
 * src= starting the original tuple and the second the reply one (the timeout is absent for offloaded
 * entries). Null for anything else (the summary line, blank lines).
 */
export function parseConntrackLine(line: string): ConntrackEntry | null {
  const tokens = line.trim().split(/\s+/);
  let at = 0;
  let event: string | null = null;
  const first = tokens[0] ?? '';
  if (/^\[[A-Z]+\]$/.test(first)) { event = first.slice(1, -1); at = 1; }
  // /proc/net/nf_conntrack's form starts with the layer 3 name and number (`ipv4     2 tcp      6 …`).
  if ((tokens[at] === 'ipv4' || tokens[at] === 'ipv6') && /^\d+$/.test(tokens[at + 1] ?? '')) at += 2;
  const proto = tokens[at];
  if (!proto || !/^[a-z0-9]+$/.test(proto) || !/^\d+$/.test(tokens[at + 1] ?? '')) return null;
  const entry: ConntrackEntry = { proto, state: null, original: emptyTuple(), reply: emptyTuple(), flags: [], event };
  let tuple: ConntrackTuple | null = null;
  let srcSeen = 0;
  for (let i = at + 2; i < tokens.length; i++) {
    const token = tokens[i]!;
    const eq = token.indexOf('=');
    if (eq < 0) {
      if (token.startsWith('[') && token.endsWith(']')) entry.flags.push(token.slice(1, -1));
      else if (/^[A-Z_]+$/.test(token) && tuple === null) entry.state = token;
      continue;
    }
    const key = token.slice(0, eq);
    const value = token.slice(eq + 1);
    if (key === 'src') {
      srcSeen++;
      tuple = srcSeen === 1 ? entry.original : srcSeen === 2 ? entry.reply : null;
    }
    if (!tuple) continue;
    if (key === 'src' || key === 'dst') tuple[key] = value;
    else if (key === 'sport' || key === 'dport' || key === 'packets' || key === 'bytes') {
      if (/^\d+$/.test(value)) tuple[key] = Number(value);
    } else if (key === 'mark' || key === 'use' || key === 'zone') tuple = null;
  }
  return srcSeen >= 2 ? entry : null;
}

export function parseConntrackList(text: string): ConntrackEntry[] {
  const result: ConntrackEntry[] = [];
  for (const line of text.split('\n')) {
    const entry = parseConntrackLine(line);
    if (entry) result.push(entry);
  }
  return result;
}

const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;
const IPV6 = /^[0-9a-f:]+$/i;
const lan6 = LAN6_PREFIX.replace('::/64', ':');

/** What the fast path does with a conntrack event: put a connection in, take it out, or nothing. */
export type FastPathAction = { op: 'add' | 'delete'; nft: string } | null;

/**
 * The watcher's decision for one event. In: a LAN-initiated TCP connection conntrack now calls
 * ESTABLISHED, or a UDP flow that has seen a reply (`flow offload` acts on established packets
 * only); IPv4 only when masquerading kept the host's port (the rule set rewrites addresses, not
 * ports). Out: a TCP state past ESTABLISHED (a FIN went through the normal path) or DESTROY.
 */
export function fastPathAction(entry: ConntrackEntry): FastPathAction {
  if (entry.proto !== 'tcp' && entry.proto !== 'udp') return null;
  const o = entry.original;
  const r = entry.reply;
  if (o.sport === null || o.dport === null) return null;
  const is4 = IPV4.test(o.src) && IPV4.test(o.dst) && o.src.startsWith(`${LAN_PREFIX}.`) && r.dst === ROUTER_WAN_IP && r.dport === o.sport;
  const is6 = !is4 && IPV6.test(o.src) && IPV6.test(o.dst) && o.src.toLowerCase().startsWith(lan6) && r.dst === o.src;
  if (!is4 && !is6) return null;
  const up = `${o.src} . ${entry.proto} . ${o.sport} . ${o.dst} . ${o.dport}`;
  const elements = is4
    ? [`up4 { ${up} }`, `down4 { ${o.dst} . ${entry.proto} . ${o.dport} . ${o.sport} : ${o.src} }`]
    : [`flows6 { ${up} }`];
  const ends = entry.event === 'DESTROY' || (entry.proto === 'tcp' && entry.state !== null && entry.state !== 'ESTABLISHED' && entry.state !== 'SYN_SENT' && entry.state !== 'SYN_RECV');
  if (ends) return { op: 'delete', nft: elements.map((e) => `delete element netdev ${FASTPATH_TABLE} ${e}`).join('\n') + '\n' };
  const established = entry.proto === 'tcp' ? entry.state === 'ESTABLISHED' : !entry.flags.includes('UNREPLIED') && entry.event !== 'NEW';
  if (!established) return null;
  return { op: 'add', nft: elements.map((e) => `add element netdev ${FASTPATH_TABLE} ${e}`).join('\n') + '\n' };
}

/** One interface's counters from /proc/net/dev. */
export interface InterfaceCounters {
  rxBytes: number;
  rxPackets: number;
  txBytes: number;
  txPackets: number;
}

/**
 * `/proc/net/dev` (net/core/net-procfs.c, `"%6s: %7llu %7llu …"`): counters of every interface.
 * `Inter-|   Receive …` / ` face |bytes    packets errs drop fifo frame compressed multicast|bytes …`
 * then `  ppp0: 123456     321    0    0    0     0          0         0   654321     432 …`.
 * Split on the first `:` (old kernels glue name and number), then whitespace.
 */
export function parseProcNetDev(text: string): Record<string, InterfaceCounters> {
  const result: Record<string, InterfaceCounters> = {};
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0 || line.includes('|')) continue;
    const name = line.slice(0, colon).trim();
    const fields = line.slice(colon + 1).trim().split(/\s+/);
    if (!name || fields.length < 10 || !fields.every((f) => /^\d+$/.test(f))) continue;
    result[name] = { rxBytes: Number(fields[0]), rxPackets: Number(fields[1]), txBytes: Number(fields[8]), txPackets: Number(fields[9]) };
  }
  return result;
}

/** The lab's links are veths: each frame is the IP packet plus a 14-byte Ethernet header (no VLAN,
 * no FCS), and a GSO packet is one frame of its whole length, so L3 bytes = bytes − 14 × packets. */
export const ETHERNET_HEADER_BYTES = 14;

export function l3Bytes(bytes: number, packets: number): number {
  return bytes - ETHERNET_HEADER_BYTES * packets;
}
