// Dual-stack hosts of the emulated LAN over time (issue 15; their addresses: host-ipv6.ts): the
// temporary (privacy) address is replaced every day (Linux: preferred 1 day, valid 2:
// Documentation/networking/ip-sysctl.rst), the old one lingering in the neighbour table until it
// goes; new IPv6 flows come mostly from the temporary address. Also `ip neigh` as the router's
// `ip` prints it: BusyBox's applet (stock OpenWrt, CONFIG_BUSYBOX_DEFAULT_IP=y; always with `used`
// and `probes`) or iproute2's (ip-full; a blank after the state). Pure; randomness from the
// model's separate IPv6 generator, so IPv4-only flavours draw exactly what they drew before.

import type { ArpState, RouterModel, SimulatedHost } from './model.js';
import { inPrefix, LAN6_PREFIX, randomInterfaceId } from './host-ipv6.js';

export { LAN6_PREFIX, WAN6_PREFIX, type HostIpv6Address } from './host-ipv6.js';

const TEMPORARY_LIFETIME_MS = 86_400_000;
const TEMPORARY_VALID_MS = 2 * 86_400_000;

/** A new temporary address each day; the old one is deprecated, then gone when no longer valid. */
export function rotateTemporaryAddresses(model: RouterModel, host: SimulatedHost): void {
  if (!model.prng6 || host.ipv6.length === 0) return;
  host.ipv6 = host.ipv6.filter((a) => a.kind === 'stable' || model.nowMs - a.createdAtMs < TEMPORARY_VALID_MS);
  const current = host.ipv6.find((a) => a.kind === 'temporary' && !a.isDeprecated);
  if (current && model.nowMs - current.createdAtMs >= TEMPORARY_LIFETIME_MS && host.isOnline) {
    current.isDeprecated = true;
    host.ipv6.push({ address: inPrefix(LAN6_PREFIX, randomInterfaceId(model.prng6)), kind: 'temporary', createdAtMs: model.nowMs, isDeprecated: false });
  }
}

/** The address new IPv6 flows of the host come from: its current temporary one, else its stable one. */
export function preferredIpv6(host: SimulatedHost): string | null {
  const temporary = host.ipv6.find((a) => a.kind === 'temporary' && !a.isDeprecated);
  return (temporary ?? host.ipv6.find((a) => a.kind === 'stable'))?.address ?? null;
}

export function stableIpv6(host: SimulatedHost): string | null {
  return host.ipv6.find((a) => a.kind === 'stable')?.address ?? null;
}

interface NeighbourRow {
  address: string;
  state: ArpState;
  mac: string;
  idleSeconds: number;
}

function bucket(text: string): number {
  let hash = 0;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash % 32;
}

function neighbourRows(model: RouterModel, family: 4 | 6): NeighbourRow[] {
  const rows: NeighbourRow[] = [];
  for (const host of model.hosts) {
    if (host.arp === 'absent') continue;
    const idleSeconds = Math.max(0, Math.floor((model.nowMs - host.arpSinceMs) / 1000));
    if (family === 4) {
      rows.push({ address: host.ip, state: host.arp, mac: host.mac, idleSeconds });
      continue;
    }
    if (host.linkLocal) rows.push({ address: host.linkLocal, state: host.arp === 'reachable' ? 'stale' : host.arp, mac: host.mac, idleSeconds });
    for (const address of host.ipv6) {
      rows.push({ address: address.address, state: address.isDeprecated && host.arp === 'reachable' ? 'stale' : host.arp, mac: host.mac, idleSeconds });
    }
  }
  return rows.sort((a, b) => bucket(a.address) - bucket(b.address) || a.address.localeCompare(b.address));
}

const STATE_NAMES: Record<Exclude<ArpState, 'absent'>, string> = { reachable: 'REACHABLE', stale: 'STALE', incomplete: 'FAILED' };

/**
 * `ip [-4|-6] neigh show`. BusyBox (fixtures/busybox/1.35.0/busybox-ip-6-neigh-show.txt):
 * `ADDR dev br-lan lladdr MAC ref 1 used 0/0/0 probes 1 REACHABLE`, a failed entry without lladdr
 * (`dev br-lan  used …`); iproute2 (fixtures/generic-linux/debian-12/ip-6-neigh-show.txt):
 * `ADDR dev br-lan lladdr MAC REACHABLE ` with its trailing blank.
 */
export function formatIpNeighbours(model: RouterModel, family: 4 | 6, style: 'busybox' | 'iproute2'): string {
  let out = '';
  for (const row of neighbourRows(model, family)) {
    const state = STATE_NAMES[row.state as Exclude<ArpState, 'absent'>];
    const hasMac = row.state !== 'incomplete';
    if (style === 'iproute2') {
      out += `${row.address} dev ${model.lanInterface} ${hasMac ? `lladdr ${row.mac} ` : ''}${state} \n`;
      continue;
    }
    const used = `used ${row.idleSeconds}/${row.idleSeconds}/${row.idleSeconds}`;
    const ref = row.state === 'reachable' ? ' ref 1' : '';
    out += `${row.address} dev ${model.lanInterface} ${hasMac ? `lladdr ${row.mac}` : ''}${ref} ${used} probes ${hasMac ? 1 : 6} ${state}\n`;
  }
  return out;
}
