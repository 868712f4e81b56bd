// The names the emulated iptables knows (targets, matches, protocols, log levels, reject types) and
// IPv4 addresses as iptables reads and prints them. Pure.

export const MAX_NAME = 29; // XT_EXTENSION_MAXNAMELEN

// Standard verdicts resolve to the "standard" target in xtables_find_target; LOG and REJECT are the
// extension targets this firmware image ships. Names here clash with `-N`.
export const STANDARD_TARGETS = new Set(['ACCEPT', 'DROP', 'QUEUE', 'RETURN']);
export const EXTENSION_TARGETS = new Set(['LOG', 'REJECT']);
export const EXTENSION_MATCHES = new Set(['comment', 'mac', 'time', 'tcp', 'udp', 'sctp']);

export const PROTOCOLS: ReadonlyArray<[string, number]> = [
  ['all', 0], ['icmp', 1], ['igmp', 2], ['tcp', 6], ['udp', 17], ['ipv6', 41], ['gre', 47], ['esp', 50],
  ['ah', 51], ['ipv6-icmp', 58], ['sctp', 132], ['udplite', 136],
];
// xtables_chain_protos: what `-L -n` may print by name in 1.4 (proto_to_name with nolookup).
export const CHAIN_PROTOS = new Map<number, string>([
  [6, 'tcp'], [132, 'sctp'], [17, 'udp'], [136, 'udplite'], [1, 'icmp'], [58, 'icmpv6'], [50, 'esp'], [51, 'ah'], [135, 'mh'], [0, 'all'],
]);
export const PROTOCOL_NAMES = new Map<number, string>(PROTOCOLS.filter(([name]) => name !== 'all').map(([name, num]) => [num, name]));

export const REJECT_TYPES = [
  'icmp-net-unreachable', 'icmp-host-unreachable', 'icmp-port-unreachable', 'icmp-proto-unreachable',
  'icmp-net-prohibited', 'icmp-host-prohibited', 'icmp-admin-prohibited', 'tcp-reset',
];
export const LOG_LEVELS: ReadonlyArray<[string, number]> = [
  ['emerg', 0], ['alert', 1], ['crit', 2], ['error', 3], ['warning', 4], ['notice', 5], ['info', 6], ['debug', 7],
];

// ---------------------------------------------------------------------------------------------
// Addresses

export interface AddressMatch {
  /** IPv4 address as an unsigned 32-bit number, already masked. */
  address: number;
  mask: number;
}

export function parseIpv4(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return null;
    const n = Number(part);
    if (n > 255) return null;
    value = value * 256 + n;
  }
  return value >>> 0;
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join('.');
}

function prefixMask(bits: number): number {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

/** "/24", "" for a host mask, "/255.255.0.255" for a non-contiguous one (xtables_ipmask_to_numeric). */
export function maskSuffix(mask: number): string {
  if (mask === 0xffffffff) return '';
  for (let bits = 0; bits <= 32; bits++) if (prefixMask(bits) === mask) return `/${bits}`;
  return `/${formatIpv4(mask)}`;
}

/** `-s`/`-d` text: comma-separated addresses, each with an optional /bits or /dotted mask. */
export function parseAddressList(text: string, fail: (message: string) => never): AddressMatch[] {
  return text.split(',').map((item) => {
    const slash = item.indexOf('/');
    const host = slash === -1 ? item : item.slice(0, slash);
    let mask = 0xffffffff;
    if (slash !== -1) {
      const maskText = item.slice(slash + 1);
      const dotted = parseIpv4(maskText);
      if (dotted !== null) mask = dotted;
      else if (/^\d+$/.test(maskText) && Number(maskText) <= 32) mask = prefixMask(Number(maskText));
      else fail(`invalid mask \`${maskText}' specified`);
    }
    const address = parseIpv4(host);
    // The router has no resolver for LAN names; iptables says "not found" for anything unresolvable.
    if (address === null) fail(`host/network \`${host}' not found`);
    return { address: (address & mask) >>> 0, mask };
  });
}
