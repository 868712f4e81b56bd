// One address type for IPv4 and IPv6 (issue 14): one canonical text form and one comparison, used by
// discovery, the counting backends, the accountant and every output. Router text is hostile, so a
// parse either returns the canonical form or null — never the input unchanged.
//
// Canonical forms: IPv4 is four 0–255 decimal octets without leading zeros (`010.1.1.1` is refused,
// not guessed as octal); IPv6 is RFC 5952 text (lower case, no leading zeros, the longest run of two
// or more zero groups as `::`, the first one on a tie; IPv4-mapped `::ffff:a.b.c.d` keeps its dotted
// tail). Zone indices (`fe80::1%br0`) are refused: they name an interface, not a host.

export type AddressFamily = 4 | 6;

export interface Address {
  family: AddressFamily;
  /** The canonical text: equal addresses have equal text. */
  text: string;
}

const IPV4_OCTET = /^(?:0|[1-9]\d{0,2})$/;
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;

function parseIpv4Octets(text: string): number[] | null {
  if (text.length > 15) return null;
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const octets: number[] = [];
  for (const part of parts) {
    if (!IPV4_OCTET.test(part)) return null;
    const value = Number(part);
    if (value > 255) return null;
    octets.push(value);
  }
  return octets;
}

/** The eight 16-bit groups of an IPv6 address, or null. */
function parseIpv6Groups(text: string): number[] | null {
  if (text.length < 2 || text.length > 45) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const toGroups = (part: string, mayEndInIpv4: boolean): number[] | null => {
    if (part === '') return [];
    const pieces = part.split(':');
    const groups: number[] = [];
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i]!;
      if (mayEndInIpv4 && i === pieces.length - 1 && piece.includes('.')) {
        const octets = parseIpv4Octets(piece);
        if (octets === null) return null;
        groups.push(octets[0]! * 256 + octets[1]!, octets[2]! * 256 + octets[3]!);
      } else {
        if (!HEX_GROUP.test(piece)) return null;
        groups.push(Number.parseInt(piece, 16));
      }
    }
    return groups;
  };
  if (halves.length === 1) {
    const groups = toGroups(halves[0]!, true);
    return groups !== null && groups.length === 8 ? groups : null;
  }
  const head = toGroups(halves[0]!, false);
  const tail = toGroups(halves[1]!, true);
  if (head === null || tail === null || head.length + tail.length > 7) return null;
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

function formatIpv6(groups: readonly number[]): string {
  // IPv4-mapped (::ffff:a.b.c.d) keeps the dotted tail (RFC 5952 §5).
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const a = groups[6]!;
    const b = groups[7]!;
    return `::ffff:${a >> 8}.${a & 255}.${b >> 8}.${b & 255}`;
  }
  let bestStart = -1;
  let bestLength = 1;
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
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** Parses IPv4 or IPv6 text into its canonical form, or null (brackets, zones, spaces refused). */
export function parseAddress(text: string): Address | null {
  if (typeof text !== 'string' || text.length === 0) return null;
  if (text.includes(':')) {
    const groups = parseIpv6Groups(text);
    return groups === null ? null : { family: 6, text: formatIpv6(groups) };
  }
  const octets = parseIpv4Octets(text);
  return octets === null ? null : { family: 4, text: octets.join('.') };
}

/** The canonical text of an IPv4 or IPv6 address, or null. */
export function canonicalAddress(text: string): string | null {
  return parseAddress(text)?.text ?? null;
}

/** The canonical text of an IPv4 address only, or null. */
export function canonicalIpv4(text: string): string | null {
  const address = parseAddress(text);
  return address !== null && address.family === 4 ? address.text : null;
}

/** The canonical text of an IPv6 address only, or null. */
export function canonicalIpv6(text: string): string | null {
  const address = parseAddress(text);
  return address !== null && address.family === 6 ? address.text : null;
}

/** 4, 6, or null when `text` is not an address. */
export function addressFamily(text: string): AddressFamily | null {
  return parseAddress(text)?.family ?? null;
}

const sortKeyCache = new Map<string, string>();

/**
 * A string that sorts like the address: IPv4 before IPv6, each in numeric order; text that is not
 * an address after both, in code-unit order. Cached: it runs per host per poll and per render.
 */
export function addressSortKey(text: string): string {
  let key = sortKeyCache.get(text);
  if (key !== undefined) return key;
  if (text.includes(':')) {
    const groups = parseIpv6Groups(text);
    key = groups === null ? `9${text}` : `6${groups.map((g) => g.toString(16).padStart(4, '0')).join('')}`;
  } else {
    const octets = parseIpv4Octets(text);
    key = octets === null ? `9${text}` : `4${octets.map((o) => o.toString(16).padStart(2, '0')).join('')}`;
  }
  if (sortKeyCache.size > 65_536) sortKeyCache.clear();
  sortKeyCache.set(text, key);
  return key;
}

/** The one comparison of addresses (see addressSortKey); a total order over all strings. */
export function compareAddresses(a: string, b: string): number {
  const ka = addressSortKey(a);
  const kb = addressSortKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** The longest address text: the width of an address column that never cuts one. */
export const MAX_ADDRESS_LENGTH = 45;
