// Validated tokens: the only values that may ever be placed into a command sent to a router
// (issue 6: "Commands are built only from validated tokens"). Router text is hostile, so every
// function here either returns a canonical, safe string or null — never the input unchanged.
import { canonicalIpv4 } from '../domain/address.js';

const IFACE_NAME = /^[A-Za-z0-9_.:@-]{1,15}$/;

// Addresses (IPv4 and IPv6) have one parser, src/domain/address.ts. The IPv4-only helpers below
// stay for the planner (rules.ts) and the package's exports (src/router/index.ts).
export { canonicalIpv4 };

/** True when `text` is already a canonical IPv4 address. */
export function isIpv4(text: string): boolean {
  return canonicalIpv4(text) === text;
}

/** The 32-bit value of a canonical IPv4 address (for numeric ordering); NaN when invalid. */
export function ipv4ToNumber(text: string): number {
  const canonical = canonicalIpv4(text);
  if (canonical === null) return Number.NaN;
  return canonical.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

/**
 * Canonical MAC address: lower-case, colon-separated, two hex digits per byte. Accepts
 * `02:00:5E:10:00:01`, `02-00-5e-10-00-01`, `0200.5e10.0001` and single-digit bytes from
 * old firmware (`2:0:5e:10:0:1`). Returns null for anything else.
 */
export function canonicalMac(text: string): string | null {
  if (typeof text !== 'string' || text.length > 17 || text.length < 11) return null;
  let bytes: string[];
  if (/^[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}$/.test(text)) {
    const hex = text.replace(/\./g, '');
    bytes = hex.match(/../g) ?? [];
  } else {
    const separator = text.includes(':') ? ':' : '-';
    bytes = text.split(separator);
    if (bytes.length !== 6 || !bytes.every((b) => /^[0-9A-Fa-f]{1,2}$/.test(b))) return null;
  }
  if (bytes.length !== 6) return null;
  return bytes.map((b) => b.padStart(2, '0').toLowerCase()).join(':');
}

/** True for 00:00:00:00:00:00 — what /proc/net/arp prints for an unresolved neighbour. */
export function isZeroMac(mac: string): boolean {
  return mac === '00:00:00:00:00:00';
}

/** True for group (multicast/broadcast) MACs: the low bit of the first byte. Never a host. */
export function isGroupMac(mac: string): boolean {
  const first = Number.parseInt(mac.slice(0, 2), 16);
  return Number.isFinite(first) && (first & 1) === 1;
}

/** An interface name safe to put in a command (`^[A-Za-z0-9_.:@-]{1,15}$`), or null. */
export function canonicalInterfaceName(text: string): string | null {
  if (typeof text !== 'string') return null;
  return IFACE_NAME.test(text) ? text : null;
}

/** True when `text` is a valid interface name as is. */
export function isInterfaceName(text: string): boolean {
  return canonicalInterfaceName(text) !== null;
}
