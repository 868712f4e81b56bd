// The values the emulated nft stores and prints: IPv4 and IPv6 addresses and MAC addresses as
// numbers (so sets sort and prefixes match the way the kernel does), interface names, and nft's
// time strings ("7d", "1h30m", "6d23h59m59s988ms"). Pure.
//
// Printing follows nft 1.0.6: addresses through inet_ntop (glibc: lower case, the longest run of two
// or more zero groups as "::", the first on a tie), MACs as two lower-case hex digits per byte, times
// through time_print() in src/datatype.c (each non-zero unit of d h m s ms).

export type NftKeyType = 'ipv4_addr' | 'ipv6_addr' | 'ether_addr' | 'ifname' | 'ct_state' | 'inet_proto' | 'inet_service';

/** Protocol names nft 1.0.6 reads and prints (getprotobyname over Debian's /etc/protocols), by number. */
export const INET_PROTOCOLS: ReadonlyArray<[string, number]> = [
  ['icmp', 1], ['igmp', 2], ['tcp', 6], ['udp', 17], ['gre', 47], ['esp', 50], ['ah', 51], ['ipv6-icmp', 58], ['sctp', 132], ['udplite', 136],
];
/** Aliases /etc/protocols gives (nft lists the canonical name): measured, `meta l4proto icmpv6` lists as ipv6-icmp. */
const PROTOCOL_ALIASES: ReadonlyMap<string, number> = new Map([['icmpv6', 58], ['ipv6-icmp', 58]]);
/** A few /etc/services names; nft lists ports as numbers. */
const SERVICES: ReadonlyMap<string, number> = new Map([['ssh', 22], ['domain', 53], ['http', 80], ['ntp', 123], ['https', 443]]);

/** `meta l4proto X`: a name or 0–255; null when nft could not resolve it. */
export function parseInetProtoValue(text: string): bigint | null {
  if (/^\d{1,3}$/.test(text)) return Number(text) <= 255 ? BigInt(text) : null;
  const n = INET_PROTOCOLS.find(([name]) => name === text)?.[1] ?? PROTOCOL_ALIASES.get(text);
  return n === undefined ? null : BigInt(n);
}

/** A port: digits (null past 65535: "Service out of range") or a service name (undefined: unknown). */
export function parseInetServiceValue(text: string): bigint | null | undefined {
  if (/^\d+$/.test(text)) return Number(text) <= 65535 ? BigInt(text) : null;
  const port = SERVICES.get(text);
  return port === undefined ? undefined : BigInt(port);
}

const IPV4_OCTET = /^(?:0|[1-9]\d{0,2})$/;
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;

export function parseIpv4Value(text: string): bigint | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0n;
  for (const part of parts) {
    if (!IPV4_OCTET.test(part) || Number(part) > 255) return null;
    value = (value << 8n) | BigInt(part);
  }
  return value;
}

export function formatIpv4Value(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
}

export function parseIpv6Value(text: string): bigint | null {
  if (text.length < 2 || text.length > 45 || text.includes('%')) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groupsOf = (part: string, mayEndInIpv4: boolean): number[] | null => {
    if (part === '') return [];
    const pieces = part.split(':');
    const groups: number[] = [];
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i] as string;
      if (mayEndInIpv4 && i === pieces.length - 1 && piece.includes('.')) {
        const v4 = parseIpv4Value(piece);
        if (v4 === null) return null;
        groups.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
      } else if (HEX_GROUP.test(piece)) groups.push(Number.parseInt(piece, 16));
      else return null;
    }
    return groups;
  };
  let groups: number[];
  if (halves.length === 1) {
    const all = groupsOf(halves[0] as string, true);
    if (all === null || all.length !== 8) return null;
    groups = all;
  } else {
    const head = groupsOf(halves[0] as string, false);
    const tail = groupsOf(halves[1] as string, true);
    if (head === null || tail === null || head.length + tail.length > 7) return null;
    groups = [...head, ...Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  }
  let value = 0n;
  for (const group of groups) value = (value << 16n) | BigInt(group);
  return value;
}

export function formatIpv6Value(value: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt((7 - i) * 16)) & 0xffffn));
  // IPv4-mapped addresses keep their dotted tail (inet_ntop does the same).
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) return `::ffff:${formatIpv4Value(value & 0xffffffffn)}`;
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLength < 2) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

const MAC = /^[0-9A-Fa-f]{1,2}(?::[0-9A-Fa-f]{1,2}){5}$/;

export function parseMacValue(text: string): bigint | null {
  if (!MAC.test(text)) return null;
  return text.split(':').reduce((value, byte) => (value << 8n) | BigInt(Number.parseInt(byte, 16)), 0n);
}

export function formatMacValue(value: bigint): string {
  return [40n, 32n, 24n, 16n, 8n, 0n].map((shift) => ((value >> shift) & 0xffn).toString(16).padStart(2, '0')).join(':');
}

export function bitsOf(type: NftKeyType): number {
  return type === 'ipv4_addr' ? 32 : type === 'ipv6_addr' ? 128 : type === 'ether_addr' ? 48 : type === 'inet_proto' ? 8 : type === 'inet_service' ? 16 : 0;
}

export function formatKeyValue(type: NftKeyType, value: bigint): string {
  if (type === 'inet_proto') return INET_PROTOCOLS.find(([, n]) => BigInt(n) === value)?.[0] ?? String(value);
  if (type === 'inet_service') return String(value);
  if (type === 'ipv4_addr') return formatIpv4Value(value);
  if (type === 'ipv6_addr') return formatIpv6Value(value);
  return formatMacValue(value);
}

/** What `type X` names for the address types this emulator keeps in sets. */
export const DATATYPE_DESCRIPTIONS: Record<'ipv4_addr' | 'ipv6_addr' | 'ether_addr', string> = {
  ipv4_addr: 'IPv4 address',
  ipv6_addr: 'IPv6 address',
  ether_addr: 'Ethernet address',
};

/**
 * The order nft lists the elements of an anonymous set of interface names in: list_expr_sort()
 * compares the values as numbers, and an ifname (16 bytes, host byte order on little-endian
 * machines) is most significant at its last byte.
 */
export function compareIfnames(a: string, b: string): number {
  const bytesA = Buffer.alloc(16);
  const bytesB = Buffer.alloc(16);
  bytesA.write(a.slice(0, 16), 'latin1');
  bytesB.write(b.slice(0, 16), 'latin1');
  for (let i = 15; i >= 0; i--) {
    if (bytesA[i] !== bytesB[i]) return (bytesA[i] as number) - (bytesB[i] as number);
  }
  return 0;
}

/** ct state bits (ct_state_tbl in src/ct.c), ascending: nft lists a flag list and a set's members in bit order. */
export const CT_STATES: ReadonlyArray<[string, number]> = [
  ['invalid', 1],
  ['established', 2],
  ['related', 4],
  ['new', 8],
  ['untracked', 64],
];

const TIME_UNITS: ReadonlyArray<[string, number]> = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
  ['ms', 1],
];

/** nft's time_print(): "7d", "1h30m", "6d23h59m59s988ms"; "" for 0 (as nft). */
export function formatNftTime(ms: number): string {
  let rest = Math.max(0, Math.floor(ms));
  let out = '';
  for (const [unit, size] of TIME_UNITS) {
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (count > 0) out += `${count}${unit}`;
  }
  return out;
}

/** A time string the scanner read as one word ("7d", "90s", "1h30m"); a bare number is seconds. Null if malformed. */
export function parseNftTime(text: string): number | null {
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const m = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?$/.exec(text);
  if (!m || text === '') return null;
  const [, d, h, min, s, ms] = m;
  return Number(d ?? 0) * 86_400_000 + Number(h ?? 0) * 3_600_000 + Number(min ?? 0) * 60_000 + Number(s ?? 0) * 1000 + Number(ms ?? 0);
}
