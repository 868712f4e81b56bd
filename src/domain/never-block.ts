// Never lock the owner out (issue 16, "Blocking"): a device may not be blocked when its MAC or any
// of its addresses is the owner's (the address lantop connects from, and that address's MAC), the
// router's own (the address lantop connects to, and the router's interfaces), or on the user's
// never-block list (the `neverBlock` setting: MACs and addresses, comma-separated). Pure: the
// caller gathers the facts; this decides, with a reason a person can act on.
import { canonicalAddress } from './address.js';

export interface NeverBlockFacts {
  /** The address lantop connects from (the session's local address), and its MAC if the router knows it. */
  ownerAddresses: readonly string[];
  ownerMacs: readonly string[];
  /** The address lantop connects to and the router's interface addresses and MACs. */
  routerAddresses: readonly string[];
  routerMacs: readonly string[];
  /** The never-block list as configured (raw entries; invalid ones are refused by parseNeverBlockList). */
  neverBlock: readonly string[];
}

export interface BlockCandidate {
  identity: string;
  mac: string | null;
  addresses: readonly string[];
}

export type NeverBlockVerdict = { isAllowed: true } | { isAllowed: false; reason: string };

/** A MAC in canonical form (lower case, colons), or null. Accepts `-` separators too. */
export function canonicalMacText(text: string): string | null {
  const m = /^([0-9a-f]{1,2})[:-]([0-9a-f]{1,2})[:-]([0-9a-f]{1,2})[:-]([0-9a-f]{1,2})[:-]([0-9a-f]{1,2})[:-]([0-9a-f]{1,2})$/i.exec(text.trim());
  return m ? m.slice(1).map((b) => b.padStart(2, '0').toLowerCase()).join(':') : null;
}

/** The never-block setting (`02:00:5e:10:00:01, 198.51.100.2`) → MACs and addresses; what is neither is invalid. */
export function parseNeverBlockList(text: string): { macs: string[]; addresses: string[]; invalid: string[] } {
  const macs: string[] = [];
  const addresses: string[] = [];
  const invalid: string[] = [];
  for (const raw of text.split(/[,\s]+/)) {
    if (raw === '') continue;
    const mac = canonicalMacText(raw);
    const address = mac === null ? canonicalAddress(raw) : null;
    if (mac !== null) macs.push(mac);
    else if (address !== null) addresses.push(address);
    else invalid.push(raw);
  }
  return { macs, addresses, invalid };
}

function canonicalAll(list: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const item of list) {
    const value = canonicalMacText(item) ?? canonicalAddress(item);
    if (value !== null) out.add(value);
  }
  return out;
}

/**
 * The facts every block is checked against, from what the connection and the router said: the
 * owner is the connection's local end (and the MACs the router's neighbour table gives that
 * address), the router its peer plus its interface addresses and MACs. One builder for the CLI's
 * `block` and the quota enforcer.
 */
export function neverBlockFactsOf(input: {
  localAddress: string | null;
  remoteAddress: string | null;
  hosts: ReadonlyArray<{ mac: string | null; addresses: readonly string[] }>;
  router: { addresses: readonly string[]; macs: readonly string[] };
  neverBlock: readonly string[];
}): NeverBlockFacts {
  const { localAddress: local, remoteAddress: remote, router } = input;
  const ownerMacs = local === null ? [] : input.hosts.filter((h) => h.mac !== null && h.addresses.includes(local)).map((h) => h.mac!);
  return {
    ownerAddresses: local === null ? [] : [local],
    ownerMacs,
    routerAddresses: remote === null || router.addresses.includes(remote) ? router.addresses : [remote, ...router.addresses],
    routerMacs: router.macs,
    neverBlock: input.neverBlock,
  };
}

/**
 * Whether a device may be blocked. Refused when it is the owner's, the router's or on the
 * never-block list — and when the owner's address is not known at all (nothing to protect it by).
 */
export function checkNeverBlock(candidate: BlockCandidate, facts: NeverBlockFacts): NeverBlockVerdict {
  if (facts.ownerAddresses.length === 0) {
    return { isAllowed: false, reason: `Refused to block ${candidate.identity}: lantop cannot tell which address it connects from, so it cannot keep you from locking yourself out.` };
  }
  const mac = candidate.mac === null ? null : canonicalMacText(candidate.mac);
  const addresses = candidate.addresses.map((a) => canonicalAddress(a)).filter((a): a is string => a !== null);
  const values = [...(mac === null ? [] : [mac]), ...addresses];
  const rules: Array<{ list: Set<string>; why: (value: string) => string }> = [
    { list: canonicalAll([...facts.ownerAddresses, ...facts.ownerMacs]), why: (v) => `${v} is the device lantop itself connects from: blocking it would lock you out` },
    { list: canonicalAll([...facts.routerAddresses, ...facts.routerMacs]), why: (v) => `${v} is the router's own: blocking it would cut the router off` },
    { list: canonicalAll(facts.neverBlock), why: (v) => `${v} is on the never-block list (setting neverBlock)` },
  ];
  for (const rule of rules) {
    const hit = values.find((v) => rule.list.has(v));
    if (hit !== undefined) return { isAllowed: false, reason: `Refused to block ${candidate.identity}: ${rule.why(hit)}.` };
  }
  return { isAllowed: true };
}
