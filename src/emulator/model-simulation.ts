// Time passing on the emulated router's LAN: per-host traffic with plausible varying rates from the
// model's seeded PRNG, capped by the line and pushed through the iptables emulator the way the
// kernel would (FORWARD for LAN↔WAN, INPUT/OUTPUT for the router's own DNS), hosts leaving and
// joining, leases renewing and lapsing, ARP entries going stale. Pure: time only moves when
// advanceModel is called with a later time.

import { parseIpv4, traversePackets } from './iptables.js';
import type { RouterModel, SimulatedHost, HostKind } from './model.js';
import { rotateTemporaryAddresses } from './model-ipv6.js';
import { addRx, addTx, ageConnections, carryForwarded, NTP_POLL_MS, NTP_SERVER, trackRouterOwn, UPSTREAM_RESOLVER } from './model-conntrack.js';
import { forwardThroughNft, routerDnsThroughNft, routerNtpThroughNft } from './model-nft-traffic.js';
import { chance, nextFloat, nextGaussian, nextInt } from './prng.js';

const STEP_MS = 1000;
const MAX_STEPS_PER_ADVANCE = 3600;

// Mean rates in bytes/s (down, up) and how bursty each kind is. A 16/1 Mbit DSL line is the limit.
const KIND_PROFILE: Record<HostKind, { down: number; up: number; burstChance: number; burstFactor: number; sessionChance: number }> = {
  phone: { down: 12_000, up: 2_500, burstChance: 0.02, burstFactor: 25, sessionChance: 1 },
  tablet: { down: 20_000, up: 3_000, burstChance: 0.015, burstFactor: 20, sessionChance: 1 },
  laptop: { down: 60_000, up: 12_000, burstChance: 0.01, burstFactor: 15, sessionChance: 1 },
  tv: { down: 700_000, up: 8_000, burstChance: 0, burstFactor: 1, sessionChance: 0.004 },
  downloader: { down: 1_300_000, up: 45_000, burstChance: 0, burstFactor: 1, sessionChance: 1 },
  console: { down: 30_000, up: 10_000, burstChance: 0.005, burstFactor: 40, sessionChance: 1 },
  iot: { down: 150, up: 120, burstChance: 0, burstFactor: 1, sessionChance: 1 },
};

/** Moves simulated time forward to `toMs` in whole one-second steps (earlier times are ignored). */
export function advanceModel(model: RouterModel, toMs: number): void {
  if (!(toMs > model.nowMs)) return;
  let remaining = toMs - model.nowMs + model.carryMs;
  // After a long gap (laptop asleep during the demo) take bigger steps rather than thousands of them.
  const stepMs = Math.max(STEP_MS, Math.ceil(remaining / MAX_STEPS_PER_ADVANCE / STEP_MS) * STEP_MS);
  const start = model.nowMs - model.carryMs;
  let simulated = 0;
  while (remaining >= stepMs) {
    simulated += stepMs;
    model.nowMs = start + simulated;
    step(model, stepMs / 1000);
    remaining -= stepMs;
  }
  model.carryMs = remaining;
  model.nowMs = toMs;
}

function step(model: RouterModel, seconds: number): void {
  if (model.isChurnOn) churn(model, seconds);
  for (const host of model.hosts) {
    expireLease(model, host);
    ageArp(model, host);
    rotateTemporaryAddresses(model, host);
  }
  ageConnections(model);
  if (!model.isTrafficOn) return;
  const demands = model.hosts.map((host) => (host.isOnline ? demand(model, host) : { down: 0, up: 0 }));
  const totalDown = demands.reduce((sum, d) => sum + d.down, 0);
  const totalUp = demands.reduce((sum, d) => sum + d.up, 0);
  const downScale = totalDown > model.lineDownBytesPerSecond ? model.lineDownBytesPerSecond / totalDown : 1;
  const upScale = totalUp > model.lineUpBytesPerSecond ? model.lineUpBytesPerSecond / totalUp : 1;
  model.hosts.forEach((host, i) => {
    const wanted = demands[i] as { down: number; up: number };
    host.downBytesPerSecond = Math.round(wanted.down * downScale);
    host.upBytesPerSecond = Math.round(wanted.up * upScale);
    if (!host.isOnline) return;
    const down = Math.round(host.downBytesPerSecond * seconds);
    const up = Math.round(host.upBytesPerSecond * seconds);
    if (down > 0 || up > 0) {
      host.arp = 'reachable';
      host.arpSinceMs = model.nowMs;
    }
    forward(model, host, down, up);
  });
  // The router's own DNS forwarder: a little INPUT/OUTPUT traffic from the LAN, never in FORWARD.
  const lookups = nextInt(model.prng, 0, 3);
  if (lookups > 0) {
    const asker = model.hosts.find((host) => host.isOnline);
    if (asker && model.nft) routerDnsThroughNft(model, asker, lookups);
    else if (asker) {
      const lan = parseIpv4(model.lanAddress) as number;
      const hostIp = parseIpv4(asker.ip) as number;
      traversePackets(model.iptables, 'INPUT', { inInterface: model.lanInterface, outInterface: '', source: hostIp, destination: lan, protocol: 17, packets: lookups, bytes: lookups * 72 });
      traversePackets(model.iptables, 'OUTPUT', { inInterface: '', outInterface: model.lanInterface, source: lan, destination: hostIp, protocol: 17, packets: lookups, bytes: lookups * 140 });
      // dnsmasq asks upstream over the WAN (an answer per query; no cache modelled).
      const wan = parseIpv4(model.wanAddress) as number;
      const resolver = parseIpv4(UPSTREAM_RESOLVER) as number;
      traversePackets(model.iptables, 'OUTPUT', { inInterface: '', outInterface: model.wanInterface, source: wan, destination: resolver, protocol: 17, packets: lookups, bytes: lookups * 72 });
      traversePackets(model.iptables, 'INPUT', { inInterface: model.wanInterface, outInterface: '', source: resolver, destination: wan, protocol: 17, packets: lookups, bytes: lookups * 140 });
    }
    if (asker) routerDns(model, asker, lookups);
  }
  if (model.nowMs - model.lastNtpPollMs >= NTP_POLL_MS) {
    model.lastNtpPollMs = model.nowMs;
    routerNtp(model);
  }
}

/** What the router's DNS forwarder moves, on its interfaces and in conntrack (the chains: above). */
function routerDns(model: RouterModel, asker: SimulatedHost, lookups: number): void {
  const own = model.routerOwn;
  own.lanRxBytes += lookups * 72;
  own.lanTxBytes += lookups * 140;
  own.wanTxBytes += lookups * 72;
  own.wanRxBytes += lookups * 140;
  addRx(model, model.lanInterface, lookups * 72, lookups);
  addTx(model, model.lanInterface, lookups * 140, lookups);
  addTx(model, model.wanInterface, lookups * 72, lookups);
  addRx(model, model.wanInterface, lookups * 140, lookups);
  trackRouterOwn(model, 'input', asker.ip, null, model.lanAddress, 53, lookups, lookups * 72, lookups * 140);
  trackRouterOwn(model, 'output', model.wanAddress, null, UPSTREAM_RESOLVER, 53, lookups, lookups * 72, lookups * 140);
}

/** The router's NTP client (OpenWrt sysntpd, BusyBox ntpd) polling every 64 s: 76-byte datagrams each way. */
function routerNtp(model: RouterModel): void {
  const bytes = 76;
  if (model.nft) routerNtpThroughNft(model, bytes);
  else {
    const wan = parseIpv4(model.wanAddress) as number;
    const server = parseIpv4(NTP_SERVER) as number;
    traversePackets(model.iptables, 'OUTPUT', { inInterface: '', outInterface: model.wanInterface, source: wan, destination: server, protocol: 17, packets: 1, bytes });
    traversePackets(model.iptables, 'INPUT', { inInterface: model.wanInterface, outInterface: '', source: server, destination: wan, protocol: 17, packets: 1, bytes });
  }
  model.routerOwn.wanTxBytes += bytes;
  model.routerOwn.wanRxBytes += bytes;
  addTx(model, model.wanInterface, bytes, 1);
  addRx(model, model.wanInterface, bytes, 1);
  trackRouterOwn(model, 'output', model.wanAddress, 123, NTP_SERVER, 123, 1, bytes, bytes);
}

function demand(model: RouterModel, host: SimulatedHost): { down: number; up: number } {
  const profile = KIND_PROFILE[host.kind];
  const prng = model.prng;
  if (host.kind === 'tv') {
    // Streams in sessions: on for an episode or two, then off for a while.
    if (chance(prng, host.isSessionOn ? 0.002 : profile.sessionChance)) host.isSessionOn = !host.isSessionOn;
    if (!host.isSessionOn) return { down: 200 + nextInt(prng, 0, 300), up: 100 + nextInt(prng, 0, 100) };
  }
  // Slow random walk of the activity level (log-space, pulled back towards 1).
  host.level = Math.min(4, Math.max(0.05, Math.exp(0.85 * Math.log(host.level) + 0.35 * nextGaussian(prng))));
  if (host.burstSecondsLeft > 0) host.burstSecondsLeft--;
  else if (chance(prng, profile.burstChance)) host.burstSecondsLeft = nextInt(prng, 3, 25);
  const burst = host.burstSecondsLeft > 0 ? profile.burstFactor : 1;
  const jitter = (): number => 0.8 + 0.4 * nextFloat(prng);
  return {
    down: profile.down * host.level * burst * jitter(),
    up: profile.up * Math.sqrt(host.level) * Math.sqrt(burst) * jitter(),
  };
}

function forward(model: RouterModel, host: SimulatedHost, down: number, up: number): void {
  if (model.nft) return forwardThroughNft(model, host, down, up);
  const hostIp = parseIpv4(host.ip) as number;
  const peer = parseIpv4(host.wanPeer) as number;
  // Most bytes are TCP; a tenth is UDP (QUIC, DNS, games). Packet sizes as seen on a DSL line. The
  // conntrack model splits each batch over the host's connections and, under offload, hands the
  // chains only the first packets of each flow (model-conntrack.ts).
  for (const [protocol, share] of [[6, 0.9], [17, 0.1]] as const) {
    const downBytes = Math.round(down * share);
    const upBytes = Math.round(up * share);
    if (downBytes > 0) {
      host.downBytes += carryForwarded(model, host, 4, host.ip, protocol, 'down', downBytes, 1380, (packets, bytes, flows) =>
        traversePackets(model.iptables, 'FORWARD', {
          inInterface: model.wanInterface, outInterface: model.lanInterface, source: peer, destination: hostIp,
          protocol, packets, bytes, nowMs: model.nowMs, flows,
        }) === 'ACCEPT');
    }
    if (upBytes > 0) {
      host.upBytes += carryForwarded(model, host, 4, host.ip, protocol, 'up', upBytes, 190, (packets, bytes, flows) =>
        traversePackets(model.iptables, 'FORWARD', {
          inInterface: model.lanInterface, outInterface: model.wanInterface, source: hostIp, destination: peer,
          // From the host's Ethernet port: its frames carry its MAC (what `-m mac --mac-source` reads).
          protocol, packets, bytes, sourceMac: host.mac.toLowerCase(), nowMs: model.nowMs, flows,
        }) === 'ACCEPT');
    }
  }
}

function churn(model: RouterModel, seconds: number): void {
  const prng = model.prng;
  for (const host of model.hosts) {
    const isStayer = host.kind === 'downloader' || host.kind === 'iot' || host.kind === 'tv';
    if (host.isOnline) {
      // Phones and laptops leave every half hour or so on average; visitors sooner.
      const leaveRate = isStayer ? 0 : host.isVisitor ? 1 / 900 : 1 / 2400;
      if (chance(prng, leaveRate * seconds)) {
        host.isOnline = false;
        host.downBytesPerSecond = 0;
        host.upBytesPerSecond = 0;
      } else if (host.leaseEndsAtMs !== null && host.leaseEndsAtMs - model.nowMs < (model.leaseSeconds * 1000) / 2) {
        host.leaseEndsAtMs = model.nowMs + model.leaseSeconds * 1000; // DHCP renew at T1
      }
    } else {
      const joinRate = host.isVisitor ? 1 / 3600 : 1 / 600;
      if (chance(prng, joinRate * seconds)) join(model, host);
    }
  }
}

function join(model: RouterModel, host: SimulatedHost): void {
  host.isOnline = true;
  host.arp = 'reachable';
  host.arpSinceMs = model.nowMs;
  host.leaseEndsAtMs = model.nowMs + model.leaseSeconds * 1000;
  host.level = 1;
}

function expireLease(model: RouterModel, host: SimulatedHost): void {
  if (host.leaseEndsAtMs !== null && host.leaseEndsAtMs <= model.nowMs) {
    if (host.isOnline) host.leaseEndsAtMs = model.nowMs + model.leaseSeconds * 1000;
    else host.leaseEndsAtMs = null;
  }
}

/** Kernel neighbour states as /proc/net/arp shows them: reachable/stale 0x2, then incomplete 0x0, then gone. */
function ageArp(model: RouterModel, host: SimulatedHost): void {
  const age = model.nowMs - host.arpSinceMs;
  if (host.isOnline) {
    if (host.arp === 'absent' || host.arp === 'incomplete') {
      host.arp = 'reachable';
      host.arpSinceMs = model.nowMs;
    } else if (host.arp === 'reachable' && age > 60_000) {
      host.arp = 'stale';
    }
    return;
  }
  if ((host.arp === 'reachable' || host.arp === 'stale') && age > 90_000) {
    host.arp = 'incomplete';
    host.arpSinceMs = model.nowMs;
  } else if (host.arp === 'incomplete' && age > 180_000) {
    host.arp = 'absent';
    host.arpSinceMs = model.nowMs;
  }
}
