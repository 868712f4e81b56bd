// The IPv6 addresses of a simulated host (issue 15): a link-local one and one or two global ones
// from 2001:db8:1::/64 — a stable one (EUI-64 from the MAC for small devices, a stable-privacy one
// otherwise) and, on phones, tablets and laptops, a temporary (privacy) one (model-ipv6.ts replaces
// it daily). Each host moves a share of its bytes over IPv6. Apart from model.ts, which creates
// hosts with them, so neither imports the other. Pure.

import { nextInt, type Prng } from './prng.js';
import { formatIpv6Value, parseIpv6Value } from './nft-values.js';

export const LAN6_PREFIX = '2001:db8:1::';
/** Remote IPv6 hosts the LAN talks to (inside the documentation prefix 2001:db8::/32). */
export const WAN6_PREFIX = '2001:db8:ff00::';

export interface HostIpv6Address {
  address: string;
  kind: 'stable' | 'temporary';
  createdAtMs: number;
  /** A temporary address that is no longer used for new traffic. */
  isDeprecated: boolean;
}

/** Share of a host's bytes that goes over IPv6, by kind (streaming and phones lean on IPv6). */
const IPV6_SHARE: Record<string, number> = { phone: 0.6, tablet: 0.55, laptop: 0.45, tv: 0.7, downloader: 0.3, console: 0.25, iot: 0.05 };
const HAS_TEMPORARY: Record<string, boolean> = { phone: true, tablet: true, laptop: true, tv: false, downloader: false, console: false, iot: false };

export function randomInterfaceId(prng: Prng): bigint {
  let value = 0n;
  for (let i = 0; i < 4; i++) value = (value << 16n) | BigInt(nextInt(prng, 0, 0xffff));
  return value === 0n ? 1n : value;
}

function eui64(mac: string): bigint {
  const bytes = mac.split(':').map((b) => Number.parseInt(b, 16));
  bytes[0] = (bytes[0] as number) ^ 0x02;
  const id = [...bytes.slice(0, 3), 0xff, 0xfe, ...bytes.slice(3)];
  return id.reduce((value, byte) => (value << 8n) | BigInt(byte), 0n);
}

export function inPrefix(prefix: string, interfaceId: bigint): string {
  return formatIpv6Value((parseIpv6Value(prefix) as bigint) | interfaceId);
}

/** Gives every host its IPv6 addresses (called once, at creation, for dual-stack models). */
/** What a host carries of IPv6 (SimulatedHost has these fields). */
export interface Ipv6Host {
  mac: string;
  kind: string;
  ipv6: HostIpv6Address[];
  linkLocal: string | null;
  wanPeer6: string | null;
  ipv6Share: number;
}

export function assignIpv6(hosts: Ipv6Host[], prng: Prng, nowMs: number): void {
  for (const host of hosts) {
    const isSmall = host.kind === 'iot' || host.kind === 'tv';
    host.linkLocal = inPrefix('fe80::', eui64(host.mac));
    host.ipv6 = [{ address: inPrefix(LAN6_PREFIX, isSmall ? eui64(host.mac) : randomInterfaceId(prng)), kind: 'stable', createdAtMs: nowMs, isDeprecated: false }];
    if (HAS_TEMPORARY[host.kind] === true) {
      host.ipv6.push({ address: inPrefix(LAN6_PREFIX, randomInterfaceId(prng)), kind: 'temporary', createdAtMs: nowMs - nextInt(prng, 0, 20) * 3_600_000, isDeprecated: false });
    }
    host.ipv6Share = IPV6_SHARE[host.kind] ?? 0;
    host.wanPeer6 = inPrefix(WAN6_PREFIX, BigInt(nextInt(prng, 0x10, 0xfff0)));
  }
}
