// The tree layout's address groups for ip6tables (issue 15). IPv4 groups are /28s of a LAN's /24
// (layouts.ts). On an IPv6 LAN the hosts share one /64 and differ in a 64-bit interface identifier
// that SLAAC privacy (RFC 8981) and stable-privacy (RFC 7217) addresses draw at random, so a /124
// would give every address a group of its own. Groups are /68s instead: the identifier's top four
// bits, which split random identifiers into 16 groups of about equal size — the same 16 sub-chains
// the IPv4 tree uses — and each host still has exactly one rule. Hand-numbered addresses (::10,
// ::11…) all fall in the first /68 and walk that group as they would in the split layout.
import { canonicalIpv6 } from '../../../domain/address.js';

/** A group of host addresses under one prefix, dispatched to one sub-chain. */
export interface AddressGroup {
  /** `addr/len` (IPv4 or IPv6), computed from validated addresses (never router text). */
  prefix: string;
  /** The sub-chain: the group's number modulo the sub-chain count. */
  index: number;
  hosts: string[];
}

/** Longest IPv6 group prefix: the /64 plus the interface identifier's top 4 bits. */
const GROUP6_PREFIX_LENGTH = 68;
/** Shortest: groups never reach above a /16. */
const MIN_GROUP6_PREFIX_LENGTH = 16;

/** The 128-bit value of a canonical IPv6 address. */
export function ipv6Value(address: string): bigint {
  const [head = '', tail = ''] = address.includes('::') ? address.split('::') : [address, ''];
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === '' ? [] : tail.split(':');
  const groups = address.includes('::') ? [...headGroups, ...new Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups] : headGroups;
  let value = 0n;
  for (const g of groups) value = (value << 16n) | BigInt(Number.parseInt(g, 16));
  return value;
}

function ipv6Text(value: bigint): string {
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((value >> BigInt(16 * i)) & 0xffffn).toString(16));
  return canonicalIpv6(groups.join(':'))!;
}

/**
 * The hosts (canonical IPv6, in the plan's order) by group: /68 prefixes, made shorter until there
 * are at most `maxGroups` of them, in address order. Sub-chain k holds every group with number ≡ k
 * (mod `subchains`): groups never overlap, so each host has exactly one rule.
 */
export function addressGroups6(hostIps: readonly string[], subchains: number, maxGroups: number): AddressGroup[] {
  const values = hostIps.map(ipv6Value);
  let length = GROUP6_PREFIX_LENGTH;
  const numberOf = (v: bigint, len: number) => v >> BigInt(128 - len);
  while (length > MIN_GROUP6_PREFIX_LENGTH && new Set(values.map((v) => numberOf(v, length))).size > maxGroups) length--;
  const groups = new Map<bigint, AddressGroup>();
  for (let i = 0; i < values.length; i++) {
    const number = numberOf(values[i]!, length);
    let group = groups.get(number);
    if (group === undefined) {
      group = { prefix: `${ipv6Text(number << BigInt(128 - length))}/${length}`, index: Number(number % BigInt(subchains)), hosts: [] };
      groups.set(number, group);
    }
    group.hosts.push(hostIps[i]!);
  }
  return [...groups.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([, g]) => g);
}
