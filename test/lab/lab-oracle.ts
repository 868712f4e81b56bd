// The lab's ground truth, pure part: the nftables table each LAN host carries in its own namespace,
// and what its counters say, per address, per family and per host. No I/O here (lab-traffic.ts
// installs and reads it; lab-model.test.ts tests this without root).
//
// Why in the hosts: `fw4 flush` deletes every nftables table of the router (openwrt/firewall4
// root/sbin/fw4, flush()), and a reboot resets the router's firewall, so an oracle living in the
// router would vanish with them. A host sees every packet the router forwards to or from it, with
// the same length: a download leaves the router's forward hook and arrives at the host's prerouting
// hook as the same skb (skb->len, the L3 length nft counters add), an upload leaves the host's
// postrouting hook and reaches the router's forward hook unchanged (veth passes GSO packets through
// whole; NAT does not change lengths). What is not forwarded is excluded by address: the LAN itself,
// the router's own WAN addresses, link-local and multicast. lab.test.ts and lab-dual-stack.test.ts
// prove equality with counters in the router's forward path, byte for byte, on every backend.
import { LAN6_PREFIX, ROUTER_WAN_IP, ROUTER_WAN_IP6 } from './lab-model.js';

export const ORACLE_TABLE = 'lantop_oracle';
/** The LAN host's interface (its veth towards the router's bridge). */
const HOST_IF = 'eth0';
const LAN4_PREFIX = '198.51.100.0/24';

export interface OracleHostCounts {
  downBytes: number;
  upBytes: number;
  downPackets: number;
  upPackets: number;
}
/** Counts per address (IPv4 dotted quad, IPv6 in RFC 5952 form), each family separately. */
export type OracleCounts = Record<string, OracleHostCounts>;

/** One LAN host's counts: by address, by family, and in total. */
export interface OracleDeviceCounts {
  host: string;
  mac: string;
  /** Every address the host moved WAN traffic from or to (its IPv4 one always listed). */
  byAddress: OracleCounts;
  ipv4: OracleHostCounts;
  ipv6: OracleHostCounts;
  total: OracleHostCounts;
}
/** By host name (h1, h2, …). */
export type OracleDevices = Record<string, OracleDeviceCounts>;

const SETS = [
  { name: 'up4', type: 'ipv4_addr' },
  { name: 'down4', type: 'ipv4_addr' },
  { name: 'up6', type: 'ipv6_addr' },
  { name: 'down6', type: 'ipv6_addr' },
] as const;

/**
 * The table a host carries. Dynamic sets keyed by the host's own address, one element (with its
 * counter) per address on its first packet, so temporary addresses the kernel makes later are
 * counted too. Upload: what leaves eth0 for anything but the LAN and the router itself; download:
 * what arrives on eth0 from anything but the LAN and the router.
 */
export function hostOracleRuleset(): string {
  const not4 = `{ ${LAN4_PREFIX}, ${ROUTER_WAN_IP}, 224.0.0.0/4, 255.255.255.255 }`;
  const not6 = `{ ${LAN6_PREFIX}, ${ROUTER_WAN_IP6}, fe80::/10, ff00::/8 }`;
  return [
    `table inet ${ORACLE_TABLE} {`,
    ...SETS.map((set) => `  set ${set.name} { type ${set.type}; size 256; flags dynamic; }`),
    '  chain up {',
    '    type filter hook postrouting priority 0; policy accept;',
    `    oifname "${HOST_IF}" ip daddr != ${not4} update @up4 { ip saddr counter }`,
    `    oifname "${HOST_IF}" ip6 daddr != ${not6} update @up6 { ip6 saddr counter }`,
    '  }',
    '  chain down {',
    '    type filter hook prerouting priority 0; policy accept;',
    `    iifname "${HOST_IF}" ip saddr != ${not4} update @down4 { ip daddr counter }`,
    `    iifname "${HOST_IF}" ip6 saddr != ${not6} update @down6 { ip6 daddr counter }`,
    '  }',
    '}',
    '',
  ].join('\n');
}

/** `nft -f` input that replaces the table in one transaction: every counter back to zero. */
export function hostOracleReset(): string {
  return `table inet ${ORACLE_TABLE}\ndelete table inet ${ORACLE_TABLE}\n${hostOracleRuleset()}`;
}

export const zeroCounts = (): OracleHostCounts => ({ downBytes: 0, upBytes: 0, downPackets: 0, upPackets: 0 });

function add(into: OracleHostCounts, from: OracleHostCounts): void {
  into.downBytes += from.downBytes;
  into.upBytes += from.upBytes;
  into.downPackets += from.downPackets;
  into.upPackets += from.upPackets;
}

interface SetElement {
  val?: unknown;
  counter?: { packets?: number; bytes?: number };
}

/**
 * Reads one host's `nft -j list table inet lantop_oracle`: counts per address. `expected` addresses
 * are listed with zeros when they moved nothing. A missing set means the table is not the oracle's:
 * an error, never a silent zero.
 */
export function parseHostOracle(json: string, expected: readonly string[]): OracleCounts {
  const parsed = JSON.parse(json) as { nftables?: Array<Record<string, unknown>> };
  const result: OracleCounts = {};
  for (const address of expected) result[address] = zeroCounts();
  const seen = new Set<string>();
  for (const item of parsed.nftables ?? []) {
    const set = item['set'] as { name?: string; table?: string; elem?: unknown[] } | undefined;
    if (!set || set.table !== ORACLE_TABLE || !SETS.some((s) => s.name === set.name)) continue;
    seen.add(set.name!);
    const isDown = set.name!.startsWith('down');
    for (const entry of set.elem ?? []) {
      // An element is {"elem": {"val": …, "counter": {…}}}; a bare value has no counter (nothing counted).
      const elem = (typeof entry === 'object' && entry !== null ? (entry as { elem?: SetElement }).elem : undefined) ?? {};
      const address = typeof elem.val === 'string' ? elem.val : typeof entry === 'string' ? entry : undefined;
      if (!address) continue;
      const counts = (result[address] ??= zeroCounts());
      const packets = Number(elem.counter?.packets ?? 0);
      const bytes = Number(elem.counter?.bytes ?? 0);
      if (isDown) { counts.downPackets += packets; counts.downBytes += bytes; } else { counts.upPackets += packets; counts.upBytes += bytes; }
    }
  }
  const missing = SETS.filter((s) => !seen.has(s.name)).map((s) => s.name);
  if (missing.length > 0) throw new Error(`oracle sets ${missing.join(', ')} missing from nft output`);
  return result;
}

/** One host's counts by family and in total. */
export function deviceCounts(host: { name: string; mac: string }, byAddress: OracleCounts): OracleDeviceCounts {
  const ipv4 = zeroCounts();
  const ipv6 = zeroCounts();
  for (const [address, counts] of Object.entries(byAddress)) add(address.includes(':') ? ipv6 : ipv4, counts);
  const total = zeroCounts();
  add(total, ipv4);
  add(total, ipv6);
  return { host: host.name, mac: host.mac, byAddress, ipv4, ipv6, total };
}

/** What moved between two readings, per address (an address missing from `before` counts from zero). */
export function oracleDelta(after: OracleCounts, before: OracleCounts): OracleCounts {
  const result: OracleCounts = {};
  for (const [address, a] of Object.entries(after)) {
    const b = before[address] ?? zeroCounts();
    result[address] = { downBytes: a.downBytes - b.downBytes, upBytes: a.upBytes - b.upBytes, downPackets: a.downPackets - b.downPackets, upPackets: a.upPackets - b.upPackets };
  }
  return result;
}
