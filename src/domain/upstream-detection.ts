// Who is behind whom, found rather than configured (issue 20): where router B's own IPv4 address
// (read from its interfaces, else the address lantop logs in to it by) is a host on router A's LAN,
// B's WAN is on A's LAN, so B is downstream of A. Pure: the app hands in what each router answered.
//
// Two gateways of one office LAN each see the other as a device: a match both ways is no proof of
// either direction, and neither is a B whose addresses are hosts on two routers' LANs. Those are
// "none" with a notice that names the setting. The profile setting `upstream` always wins
// (mergeTopology), `none` included.
import { canonicalAddress } from './address.js';
import { NO_UPSTREAM, type RouterTopology } from './multi-router.js';

export interface DetectionInput {
  routerKey: string;
  label: string;
  /** B's own addresses (its interfaces' and the one lantop logs in to it by); null: not read. */
  ownAddresses: readonly string[] | null;
  /** The addresses of the hosts on its LAN (its latest snapshot's rows); null: no snapshot yet. */
  lanAddresses: readonly string[] | null;
}

export interface DetectedTopology {
  /** B → A where detected (A's key). */
  upstreamOf: Record<string, string>;
  /** B's address that is the host on A's LAN (A's row for it is marked "via B"). */
  uplinkAddressesOf: Record<string, string[]>;
  /** How each was found, in words. */
  reasonOf: Record<string, string>;
  /** Ambiguous matches, each with the setting that decides it, and the routers it is about. */
  notices: { routerKeys: string[]; text: string }[];
  /** Routers a notice is about (no second suggestion for them). */
  explainedKeys: string[];
}

/** IPv4 only: the WAN of a router behind another is its IPv4 uplink (IPv6 is routed, not NATed twice). */
function ipv4Of(addresses: readonly string[] | null): string[] {
  const out: string[] = [];
  for (const text of addresses ?? []) {
    const a = canonicalAddress(text);
    if (a !== null && !a.includes(':') && !a.startsWith('127.') && a !== '0.0.0.0' && !out.includes(a)) out.push(a);
  }
  return out;
}

/** For each other router, the first of `below`'s addresses that is a host on its LAN. */
function matchesOf(below: DetectionInput, all: readonly DetectionInput[]): { above: DetectionInput; address: string }[] {
  const mine = ipv4Of(below.ownAddresses);
  const out: { above: DetectionInput; address: string }[] = [];
  for (const above of all) {
    if (above === below || above.lanAddresses === null) continue;
    const lan = new Set(above.lanAddresses.map((a) => canonicalAddress(a) ?? a));
    const address = mine.find((a) => lan.has(a));
    if (address !== undefined) out.push({ above, address });
  }
  return out;
}

export function detectUpstreams(inputs: readonly DetectionInput[]): DetectedTopology {
  const found: DetectedTopology = { upstreamOf: {}, uplinkAddressesOf: {}, reasonOf: {}, notices: [], explainedKeys: [] };
  const matches = new Map(inputs.map((b) => [b.routerKey, matchesOf(b, inputs)]));
  for (const below of inputs) {
    const mine = matches.get(below.routerKey)!;
    if (mine.length === 0) continue;
    const setting = `lantop --profile ${below.label} config set upstream NAME (or none)`;
    if (mine.length > 1) {
      found.notices.push({ routerKeys: [below.routerKey], text: `${below.label}'s addresses are hosts on ${mine.map((m) => `${m.above.label}'s LAN (${m.address})`).join(' and on ')}: its upstream is not detected; set it: ${setting}` });
      found.explainedKeys.push(below.routerKey);
      continue;
    }
    const { above, address } = mine[0]!;
    const back = matches.get(above.routerKey)!.find((m) => m.above === below);
    if (back !== undefined) {
      // Reported once, by the first of the two.
      if (!found.explainedKeys.includes(above.routerKey)) {
        found.notices.push({ routerKeys: [below.routerKey, above.routerKey], text: `${below.label}'s address ${address} is a host on ${above.label}'s LAN and ${above.label}'s ${back.address} on ${below.label}'s (one LAN with two gateways?): neither is taken as behind the other; if one is, set it: ${setting}` });
      }
      found.explainedKeys.push(below.routerKey);
      continue;
    }
    found.upstreamOf[below.routerKey] = above.routerKey;
    found.uplinkAddressesOf[below.routerKey] = [address];
    found.reasonOf[below.routerKey] = `detected: ${below.label}'s address ${address} is a host on ${above.label}'s LAN`;
    found.explainedKeys.push(below.routerKey);
  }
  return found;
}

/**
 * The topology in effect: a router's profile setting where it has one (`none`: independent, no
 * detection), else what was detected. Uplink addresses: the configured ones and the detected one.
 */
export function mergeTopology(configured: RouterTopology, detected: DetectedTopology | null): RouterTopology {
  const upstreamOf: Record<string, string> = { ...(configured.upstreamOf ?? {}) };
  const reasonOf: Record<string, string> = {};
  for (const [key, up] of Object.entries(upstreamOf)) if (up !== NO_UPSTREAM) reasonOf[key] = 'setting upstream';
  const uplinkAddressesOf: Record<string, string[]> = {};
  for (const [key, list] of Object.entries(configured.uplinkAddressesOf ?? {})) uplinkAddressesOf[key] = [...list];
  const notices: string[] = [];
  const explainedKeys: string[] = [];
  if (detected !== null) {
    for (const [key, up] of Object.entries(detected.upstreamOf)) {
      if (upstreamOf[key] !== undefined) continue;
      upstreamOf[key] = up;
      reasonOf[key] = detected.reasonOf[key] ?? 'detected';
      const list = uplinkAddressesOf[key] ?? [];
      for (const a of detected.uplinkAddressesOf[key] ?? []) if (!list.includes(a)) list.push(a);
      uplinkAddressesOf[key] = list;
    }
    explainedKeys.push(...detected.explainedKeys);
    // An ambiguity about routers whose settings decide it is no news.
    for (const notice of detected.notices) if (notice.routerKeys.some((key) => configured.upstreamOf?.[key] === undefined)) notices.push(notice.text);
  }
  return { upstreamOf, uplinkAddressesOf, reasonOf, notices, explainedKeys };
}
