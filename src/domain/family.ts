// Bytes and rates split by address family (issue 15). A device's totals are the sum over both
// families, as before; the split says how much of each total was IPv4 and how much IPv6. The
// accountant fills it on every row it makes; rows built elsewhere (older callers, tests) may lack
// it, and then read as all IPv4: lantop counted no IPv6 before issue 15.

/** The IPv4 part and the IPv6 part of a row's downBytes/upBytes (down4Bytes + down6Bytes = downBytes). */
export interface FamilyBytes {
  down4Bytes: number;
  up4Bytes: number;
  down6Bytes: number;
  up6Bytes: number;
}

/** The IPv4 part and the IPv6 part of a row's downBps/upBps. */
export interface FamilyRates {
  down4Bps: number;
  up4Bps: number;
  down6Bps: number;
  up6Bps: number;
}

export type FamilySplit = FamilyBytes & FamilyRates;

/** A canonical address (src/domain/address.ts) is IPv6 exactly when its text has a colon. */
export function isIpv6Text(address: string): boolean {
  return address.includes(':');
}

// Canonical text writes the first group in full when it is fe80–febf (no leading zeros to drop).
const LINK_LOCAL = /^fe[89ab][0-9a-f]:/;

/**
 * IPv6 link-local (fe80::/10) in canonical text: never forwarded, so never a host's counted
 * address; discovery lists one per device (`ip -6 neigh`), and it is never shown.
 */
export function isIpv6LinkLocal(address: string): boolean {
  return address.charCodeAt(0) === 102 /* f */ && LINK_LOCAL.test(address);
}

type Totals = { downBytes: number; upBytes: number };
type MaybeBytes = Totals & Partial<FamilyBytes>;
type MaybeRates = { downBps: number; upBps: number } & Partial<FamilyRates>;

/** The split of a row's bytes; a row without one is all IPv4. */
export function familyBytesOf(row: MaybeBytes): FamilyBytes {
  const down6Bytes = row.down6Bytes ?? 0;
  const up6Bytes = row.up6Bytes ?? 0;
  return {
    down4Bytes: row.down4Bytes ?? row.downBytes - down6Bytes,
    up4Bytes: row.up4Bytes ?? row.upBytes - up6Bytes,
    down6Bytes,
    up6Bytes,
  };
}

/** The split of a row's rates; a row without one is all IPv4. */
export function familyRatesOf(row: MaybeRates): FamilyRates {
  const down6Bps = row.down6Bps ?? 0;
  const up6Bps = row.up6Bps ?? 0;
  return {
    down4Bps: row.down4Bps ?? Math.max(0, row.downBps - down6Bps),
    up4Bps: row.up4Bps ?? Math.max(0, row.upBps - up6Bps),
    down6Bps,
    up6Bps,
  };
}

export function emptyFamilySplit(): FamilySplit {
  return { down4Bytes: 0, up4Bytes: 0, down6Bytes: 0, up6Bytes: 0, down4Bps: 0, up4Bps: 0, down6Bps: 0, up6Bps: 0 };
}
