// Several routers in one view (issue 20): each router's snapshot, combined into rows per (device,
// router), devices across routers, totals per router and one overall total that counts each byte
// once. Pure: the app hands in what each router's monitor last saw.
//
// The rules, as the outputs say them in words (`rule`):
// - A device is keyed across routers by its MAC: a laptop roaming between the modem's LAN and the
//   access point's is ONE device with its traffic per router (each byte of it is on one router's
//   row only: its bytes through the access point reach the modem under the access point's own
//   address, never under the laptop's). A row without a MAC (`ip:…`, unattributed IPv6) is one
//   device per router: the same private address on two LANs is two machines.
// - Chained routers: where B's WAN is on A's LAN (B's upstream is A: the profile setting
//   `upstream: A`), everything B forwards crosses A again and A counts it under B's address on its
//   LAN. So the internet traffic is counted on the upstream router only: the overall total is the
//   sum of the totals of the routers that have no router up above them (transitively). B's devices
//   are shown, with their shares of B's counts, but not added; A's row for B's address (found by
//   `uplinkAddressesOf[B]`) is marked "via B". In words: "home counts the line, office's traffic
//   included under "via office"; office's devices are shown, not added".
// - While A is down, B's counts are all there is: B's devices count in the total until A is back
//   (the nearest router up counts).
// - A router that is down contributes nothing (not its last totals either) and is listed with why.
// - The topology is the profile setting where there is one (`none`: independent), else what
//   upstream-detection.ts found (B's own address is a host on A's LAN, and not the other way round:
//   two gateways of one office LAN each see the other, so both directions is no proof). The notices
//   say which ("office is behind home (setting upstream)"). Where B's login address is a device of
//   A and neither says anything, a notice suggests the setting; it changes no number.
import { canonicalAddress } from './address.js';
import type { HostUsage, Snapshot } from './snapshot.js';

export type RouterState = 'up' | 'down';

/** One router as the monitor last saw it. */
export interface RouterPart {
  routerKey: string;
  /** For people: the profile name (else the key). */
  label: string;
  /** Its latest snapshot (a down router's last one, or null when it never opened). */
  snapshot: Snapshot | null;
  state: RouterState;
  /** Why it is down (the error's message); sanitised at display time. */
  reason?: string;
}

/** Which router's WAN is on which router's LAN. Keys are router keys. */
export interface RouterTopology {
  /** B → A: B's WAN is on A's LAN. `'none'`: B is known to be independent (no suggestion). */
  upstreamOf?: Readonly<Record<string, string>>;
  /** B's addresses as its upstream's LAN would list them (the address lantop logs in to B by, when on that LAN). */
  uplinkAddressesOf?: Readonly<Record<string, readonly string[]>>;
  /** How B's upstream became known, in words ("setting upstream", "detected: …"): said in a notice. */
  reasonOf?: Readonly<Record<string, string>>;
  /** What the detection found that no number follows (ambiguous matches), in words. */
  notices?: readonly string[];
  /** Routers whose relation the detection already explained: no setting is suggested for them. */
  explainedKeys?: readonly string[];
}

export interface Traffic {
  downBytes: number;
  upBytes: number;
  downBps: number;
  upBps: number;
}

/** One device as one router counts it. */
export interface CombinedRow {
  routerKey: string;
  /** The device across routers (CombinedDevice.deviceKey). */
  deviceKey: string;
  /** The row as the router has it (shares are of that router's totals). */
  host: HostUsage;
  /** This row is that router's uplink (its WAN address on this router's LAN); null: a device. */
  viaRouterKey: string | null;
  /** Its bytes are in the overall total. */
  isInTotal: boolean;
}

export interface CombinedRouter {
  routerKey: string;
  label: string;
  state: RouterState;
  reason: string | null;
  snapshot: Snapshot | null;
  /** The upstream in effect (set, in this view, no loop); null: none. */
  upstreamKey: string | null;
  /** The router up above it whose counts include this one's (the one in the total); null: it counts itself. */
  countedByKey: string | null;
  /** Its totals are in the overall total (up, and no router up above it). */
  isInTotal: boolean;
  /** Its own totals (zero when down). */
  totals: Traffic;
  /** Its devices, busiest first (none when down). */
  rows: CombinedRow[];
}

export interface CombinedDevice {
  deviceKey: string;
  identity: string;
  mac: string | null;
  /** Raw router text (the first router's that names it); sanitise at display time. */
  hostname: string | null;
  /** Its rows, in router order. */
  perRouter: CombinedRow[];
  /** The sum of its rows: its own traffic (each byte of it is on one router only). */
  total: Traffic;
  isRoaming: boolean;
  /** Set when the device is that router's uplink (its rows are marked "via"). */
  viaRouterKey: string | null;
}

export interface CombinedView {
  /** The latest snapshot's time (0 when no router has one). */
  atMs: number;
  routers: CombinedRouter[];
  /** Busiest first. */
  devices: CombinedDevice[];
  /** Each byte once: the sum of the routers in the total. */
  total: Traffic;
  /** Who counts what, in words (one line). */
  rule: string;
  /** Topology problems and suggestions, in words. */
  notices: string[];
}

const ZERO: Traffic = { downBytes: 0, upBytes: 0, downBps: 0, upBps: 0 };

function add(a: Traffic, b: Traffic): Traffic {
  return { downBytes: a.downBytes + b.downBytes, upBytes: a.upBytes + b.upBytes, downBps: a.downBps + b.downBps, upBps: a.upBps + b.upBps };
}

function trafficOf(t: Traffic): Traffic {
  return { downBytes: t.downBytes, upBytes: t.upBytes, downBps: t.downBps, upBps: t.upBps };
}

/** Busiest first (rate, then bytes); ties by key so output is stable. */
function byActivity(a: Traffic, b: Traffic, keyA: string, keyB: string): number {
  return b.downBps + b.upBps - (a.downBps + a.upBps) || b.downBytes + b.upBytes - (a.downBytes + a.upBytes) || (keyA < keyB ? -1 : keyA > keyB ? 1 : 0);
}

const compareHosts = (a: HostUsage, b: HostUsage) => byActivity(a, b, a.identity, b.identity);
const compareDevices = (a: CombinedDevice, b: CombinedDevice) => byActivity(a.total, b.total, a.deviceKey, b.deviceKey);

/** Across routers a row is its MAC; without one, that router's own row. */
function deviceKeyOf(routerKey: string, host: HostUsage): string {
  return host.mac !== null && host.mac !== '' ? `mac:${host.mac.toLowerCase()}` : `${routerKey} ${host.identity}`;
}

export const NO_UPSTREAM = 'none';

/** A router's uplink addresses in canonical form (what snapshot rows hold); text that is no address is dropped. */
export function uplinkAddresses(topology: RouterTopology, key: string): string[] {
  const out: string[] = [];
  for (const text of topology.uplinkAddressesOf?.[key] ?? []) {
    const address = canonicalAddress(text);
    if (address !== null && !out.includes(address)) out.push(address);
  }
  return out;
}

/** Each router's upstream in effect: set, not itself, in this view, and on no loop. */
export function effectiveUpstreams(parts: readonly Pick<RouterPart, 'routerKey' | 'label'>[], topology: RouterTopology, notices: string[]): Map<string, string> {
  const labels = new Map(parts.map((p) => [p.routerKey, p.label]));
  const wanted = new Map<string, string>();
  for (const part of parts) {
    const up = topology.upstreamOf?.[part.routerKey];
    if (up === undefined || up === NO_UPSTREAM) continue;
    if (up === part.routerKey) notices.push(`${part.label}: its upstream is itself; ignored`);
    else if (!labels.has(up)) notices.push(`${part.label}: its upstream ${up} is not in this view, so ${part.label} counts its own traffic in the total`);
    else wanted.set(part.routerKey, up);
  }
  const onLoop = new Set<string>();
  for (const start of wanted.keys()) {
    const seen: string[] = [];
    let at: string | undefined = start;
    while (at !== undefined && !seen.includes(at)) {
      seen.push(at);
      at = wanted.get(at);
    }
    if (at !== undefined && !onLoop.has(at)) {
      const loop = seen.slice(seen.indexOf(at));
      for (const key of loop) onLoop.add(key);
      notices.push(`the upstream settings go round in a loop (${[...loop, at].map((k) => labels.get(k)).join(' → ')}): ignored for those routers`);
    }
  }
  for (const key of onLoop) wanted.delete(key);
  return wanted;
}

/** The topmost router up above `key` (it counts the line for both); null when none is up. */
export function countedBy(key: string, upstreams: ReadonlyMap<string, string>, isUp: (key: string) => boolean): string | null {
  let found: string | null = null;
  for (let at = upstreams.get(key); at !== undefined; at = upstreams.get(at)) if (isUp(at)) found = at;
  return found;
}

export function combineSnapshots(parts: readonly RouterPart[], topology: RouterTopology = {}): CombinedView {
  const notices: string[] = [];
  const upstreams = effectiveUpstreams(parts, topology, notices);
  const stateOf = new Map(parts.map((p) => [p.routerKey, p.state === 'up' && p.snapshot !== null]));
  const isUp = (key: string) => stateOf.get(key) === true;
  const labelOf = new Map(parts.map((p) => [p.routerKey, p.label]));

  // Which router's uplink an address on which router's LAN is: upstream key → address → router key.
  const uplinkOn = new Map<string, Map<string, string>>();
  for (const [below, above] of upstreams) {
    const addresses = uplinkAddresses(topology, below);
    const map = uplinkOn.get(above) ?? new Map<string, string>();
    for (const address of addresses) map.set(address, below);
    uplinkOn.set(above, map);
  }

  const routers: CombinedRouter[] = [];
  const devices = new Map<string, CombinedDevice>();
  let total = ZERO;
  let atMs = 0;
  for (const part of parts) {
    const up = isUp(part.routerKey);
    const upstreamKey = upstreams.get(part.routerKey) ?? null;
    const countedByKey = countedBy(part.routerKey, upstreams, isUp);
    const isInTotal = up && countedByKey === null;
    const snapshot = part.snapshot;
    if (snapshot !== null) atMs = Math.max(atMs, snapshot.atMs);
    const rows: CombinedRow[] = [];
    if (up && snapshot !== null) {
      const uplinks = uplinkOn.get(part.routerKey);
      const hosts = [...snapshot.hosts].sort(compareHosts);
      for (const host of hosts) {
        let viaRouterKey: string | null = null;
        if (uplinks !== undefined) for (const address of host.addresses) viaRouterKey ??= uplinks.get(address) ?? null;
        const deviceKey = deviceKeyOf(part.routerKey, host);
        const row: CombinedRow = { routerKey: part.routerKey, deviceKey, host, viaRouterKey, isInTotal };
        rows.push(row);
        const device = devices.get(deviceKey);
        if (device === undefined) {
          devices.set(deviceKey, { deviceKey, identity: host.identity, mac: host.mac, hostname: host.hostname, perRouter: [row], total: trafficOf(host), isRoaming: false, viaRouterKey });
        } else {
          device.perRouter.push(row);
          device.total = add(device.total, trafficOf(host));
          device.isRoaming = new Set(device.perRouter.map((r) => r.routerKey)).size > 1;
          device.hostname ??= host.hostname;
          device.viaRouterKey ??= viaRouterKey;
        }
      }
      if (isInTotal) total = add(total, trafficOf(snapshot.totals));
    }
    routers.push({
      routerKey: part.routerKey,
      label: part.label,
      state: up ? 'up' : 'down',
      reason: up ? null : (part.reason ?? (snapshot === null ? 'not connected' : 'no answer')),
      snapshot,
      upstreamKey,
      countedByKey,
      isInTotal,
      totals: up && snapshot !== null ? trafficOf(snapshot.totals) : ZERO,
      rows,
    });
  }

  for (const [below, above] of upstreams) {
    if (!isUp(above)) continue;
    const addresses = uplinkAddresses(topology, below);
    const isFound = routers.some((r) => r.routerKey === above && r.rows.some((row) => row.viaRouterKey === below));
    if (!isFound) {
      notices.push(
        addresses.length === 0
          ? `${labelOf.get(below)}'s address on ${labelOf.get(above)}'s LAN is not known: its traffic is in ${labelOf.get(above)}'s total under a row not marked "via ${labelOf.get(below)}"`
          : `no device of ${labelOf.get(above)} has ${labelOf.get(below)}'s address (${addresses.join(', ')}): its traffic is in ${labelOf.get(above)}'s total under a row not marked "via ${labelOf.get(below)}"`,
      );
    }
  }
  notices.push(...relationNotices(upstreams, topology, labelOf), ...(topology.notices ?? []));
  notices.push(...suggestUpstreams(parts, topology, upstreams, isUp));

  return {
    atMs,
    routers,
    devices: [...devices.values()].sort(compareDevices),
    total,
    rule: describeRule(routers, labelOf),
    notices,
  };
}

/** Each relation in effect and how it is known, where the topology says how ("b is behind a (setting upstream); …"). */
export function relationNotices(upstreams: ReadonlyMap<string, string>, topology: RouterTopology, labelOf: ReadonlyMap<string, string>): string[] {
  const out: string[] = [];
  for (const [below, above] of upstreams) {
    const reason = topology.reasonOf?.[below];
    if (reason !== undefined) out.push(`${labelOf.get(below)} is behind ${labelOf.get(above)} (${reason}); counted on ${labelOf.get(above)}'s WAN only`);
  }
  return out;
}

/** Where B's login address is a device of A and B has no upstream set: say how to set it. */
function suggestUpstreams(parts: readonly RouterPart[], topology: RouterTopology, upstreams: ReadonlyMap<string, string>, isUp: (key: string) => boolean): string[] {
  const out: string[] = [];
  for (const part of parts) {
    if (upstreams.has(part.routerKey) || topology.upstreamOf?.[part.routerKey] !== undefined || topology.explainedKeys?.includes(part.routerKey)) continue;
    const addresses = uplinkAddresses(topology, part.routerKey);
    for (const other of parts) {
      if (other === part || !isUp(other.routerKey) || other.snapshot === null) continue;
      const address = addresses.find((a) => other.snapshot!.hosts.some((h) => h.addresses.includes(a)));
      if (address === undefined) continue;
      out.push(`${part.label}'s address ${address} is a device of ${other.label}: if ${part.label}'s WAN is on ${other.label}'s LAN, set its upstream to ${other.label} so nothing is counted twice (or to "${NO_UPSTREAM}" if not)`);
      break;
    }
  }
  return out;
}

/** The rule in words, for the routers as they are now. */
export function describeRule(routers: readonly Pick<CombinedRouter, 'routerKey' | 'label' | 'upstreamKey' | 'countedByKey' | 'isInTotal'>[], labelOf: ReadonlyMap<string, string>): string {
  if (!routers.some((r) => r.isInTotal)) return 'no router is up: nothing is counted';
  const behind = routers.filter((r) => r.upstreamKey !== null);
  if (behind.length === 0) {
    if (routers.length === 1) return 'the total is this router\'s';
    return `each router counts its own devices; the total is the sum of ${routers.every((r) => r.isInTotal) ? 'them' : 'those up'}`;
  }
  const parts: string[] = [];
  for (const top of routers.filter((r) => r.isInTotal)) {
    const below = routers.filter((r) => r.countedByKey === top.routerKey);
    if (below.length === 0) continue;
    const names = below.map((r) => r.label);
    parts.push(`${top.label} counts the line, ${names.join(' and ')}'s traffic included (under "via ${names.join('", "via ')}"); ${names.join(' and ')}'s devices are shown, not added`);
  }
  for (const r of behind) {
    if (r.isInTotal) parts.push(`${labelOf.get(r.upstreamKey!)} is down: ${r.label}'s devices count in the total until it is back`);
  }
  const independent = routers.filter((r) => r.isInTotal && r.upstreamKey === null && !routers.some((x) => x.countedByKey === r.routerKey));
  if (independent.length > 0) parts.push(`${independent.map((r) => r.label).join(' and ')} ${independent.length === 1 ? 'counts its' : 'count their'} own devices`);
  return parts.join('; ');
}
