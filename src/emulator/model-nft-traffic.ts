// Simulated traffic on the nftables flavour (openwrt-fw4): each host's bytes split between IPv4
// and IPv6 (model-ipv6.ts), each part a batch of packets through the forward hook of every table
// (fw4's, then lantop's at filter + 10), the way nft-traversal.ts walks them; the router's own DNS
// goes through input and output (from the LAN host, and upstream over the WAN). Ground truth per
// host and family is what the chains accepted. Pure.

import type { RouterModel, SimulatedHost } from './model.js';
import { carryForwarded, NTP_SERVER, UPSTREAM_RESOLVER as UPSTREAM_RESOLVER_TEXT } from './model-conntrack.js';
import { preferredIpv6, stableIpv6 } from './model-ipv6.js';
import { traverseNft, type NftFlow, type NftPacket } from './nft-traversal.js';
import type { ModelFlow } from './model-flows.js';
import { parseIpv4Value, parseIpv6Value, parseMacValue } from './nft-values.js';

const ESTABLISHED = 2;
/** The router's own br-lan MAC, as a LAN host's frames carry it. */
const ROUTER_LAN_MAC = parseMacValue('02:00:5e:10:00:01') as bigint;
/** The resolver the router's dnsmasq forwards to, on the WAN side. */
const UPSTREAM_RESOLVER = parseIpv4Value(UPSTREAM_RESOLVER_TEXT) as bigint;
/** Of a host's IPv6 bytes, the share its temporary (privacy) address carries when it has one. */
const TEMPORARY_SHARE = 0.85;

/** The conntrack model's flows as nft-traversal takes them (issue 19: `meta l4proto`, `tcp sport`). */
function nftFlows(flows: readonly ModelFlow[]): NftFlow[] {
  return flows.map((f) => ({ l4proto: f.protocol, sport: f.sourcePort, dport: f.destinationPort, packets: f.packets, bytes: f.bytes }));
}

function send(model: RouterModel, packet: Omit<NftPacket, 'ctState'>): boolean {
  return traverseNft(model.nft!, { ...packet, ctState: ESTABLISHED }, model.nowMs) === 'accept';
}

function batch(model: RouterModel, host: SimulatedHost, family: 4 | 6, address: string, peer: string, down: number, up: number): void {
  const parse = family === 4 ? parseIpv4Value : parseIpv6Value;
  const hostAddress = parse(address) as bigint;
  const peerAddress = parse(peer) as bigint;
  // The conntrack model splits the batch over the host's connections and, under offload (the
  // flowtable), hands the chains only each flow's first packets (model-conntrack.ts).
  if (down > 0) {
    const carried = carryForwarded(model, host, family, address, null, 'down', down, 1380, (packets, bytes, flows) => send(model, {
      hook: 'forward', family, iifname: model.wanInterface, oifname: model.lanInterface, saddr: peerAddress, daddr: hostAddress,
      etherSaddr: null, etherDaddr: null, packets, bytes, flows: nftFlows(flows),
    }));
    host.downBytes += carried;
    if (family === 6) host.downBytes6 += carried;
  }
  if (up > 0) {
    const carried = carryForwarded(model, host, family, address, null, 'up', up, 190, (packets, bytes, flows) => send(model, {
      hook: 'forward', family, iifname: model.lanInterface, oifname: model.wanInterface, saddr: hostAddress, daddr: peerAddress,
      etherSaddr: parseMacValue(host.mac), etherDaddr: ROUTER_LAN_MAC, packets, bytes, flows: nftFlows(flows),
    }));
    host.upBytes += carried;
    if (family === 6) host.upBytes6 += carried;
  }
}

/** One step of a host's traffic, `down`/`up` bytes in all, through the nftables ruleset. */
export function forwardThroughNft(model: RouterModel, host: SimulatedHost, down: number, up: number): void {
  const preferred = preferredIpv6(host);
  const stable = stableIpv6(host);
  const share = preferred !== null && host.wanPeer6 !== null ? host.ipv6Share : 0;
  const down6 = Math.round(down * share);
  const up6 = Math.round(up * share);
  batch(model, host, 4, host.ip, host.wanPeer, down - down6, up - up6);
  if (down6 === 0 && up6 === 0) return;
  const peer6 = host.wanPeer6 as string;
  if (preferred !== stable && stable !== null) {
    const downTemporary = Math.round(down6 * TEMPORARY_SHARE);
    const upTemporary = Math.round(up6 * TEMPORARY_SHARE);
    batch(model, host, 6, preferred as string, peer6, downTemporary, upTemporary);
    batch(model, host, 6, stable, peer6, down6 - downTemporary, up6 - upTemporary);
  } else batch(model, host, 6, preferred as string, peer6, down6, up6);
}

/** `lookups` DNS queries of a LAN host to the router, and the router's own queries upstream (UDP, as the iptables model has them: issue 18's counters match it). */
export function routerDnsThroughNft(model: RouterModel, asker: SimulatedHost, lookups: number): void {
  const lan = parseIpv4Value(model.lanAddress) as bigint;
  const wan = parseIpv4Value(model.wanAddress) as bigint;
  const host = parseIpv4Value(asker.ip) as bigint;
  const packets = lookups;
  send(model, { hook: 'input', family: 4, iifname: model.lanInterface, oifname: '', saddr: host, daddr: lan, etherSaddr: parseMacValue(asker.mac), etherDaddr: ROUTER_LAN_MAC, l4proto: 17, packets, bytes: lookups * 72 });
  send(model, { hook: 'output', family: 4, iifname: '', oifname: model.wanInterface, saddr: wan, daddr: UPSTREAM_RESOLVER, etherSaddr: null, etherDaddr: null, l4proto: 17, packets, bytes: lookups * 72 });
  send(model, { hook: 'input', family: 4, iifname: model.wanInterface, oifname: '', saddr: UPSTREAM_RESOLVER, daddr: wan, etherSaddr: null, etherDaddr: null, l4proto: 17, packets, bytes: lookups * 140 });
  send(model, { hook: 'output', family: 4, iifname: '', oifname: model.lanInterface, saddr: lan, daddr: host, etherSaddr: null, etherDaddr: null, l4proto: 17, packets, bytes: lookups * 140 });
}

/** The router's NTP poll: one datagram out over the WAN and its answer in. */
export function routerNtpThroughNft(model: RouterModel, bytes: number): void {
  const wan = parseIpv4Value(model.wanAddress) as bigint;
  const server = parseIpv4Value(NTP_SERVER) as bigint;
  send(model, { hook: 'output', family: 4, iifname: '', oifname: model.wanInterface, saddr: wan, daddr: server, etherSaddr: null, etherDaddr: null, l4proto: 17, packets: 1, bytes });
  send(model, { hook: 'input', family: 4, iifname: model.wanInterface, oifname: '', saddr: server, daddr: wan, etherSaddr: null, etherDaddr: null, l4proto: 17, packets: 1, bytes });
}
