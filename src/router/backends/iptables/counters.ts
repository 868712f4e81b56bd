// Per-host cumulative counters from one iptables listing, whatever the layout (issue 14: each
// layout strategy says which of its rules hold which host's counter).
import type { IptablesListing } from '../../parsers/types.js';
import { findChain, specOfListedRule } from './rule-spec.js';
import { LANTOP_CHAINS, LAYOUTS } from './layouts.js';

export interface HostCounters {
  downBytes: number;
  upBytes: number;
  isExact: boolean;
}

/**
 * Per-host cumulative counters from a listing, whatever the layout (flat or split, even both during
 * a layout switch): download = `-i WAN -d IP`
 * in TRAFFIC or `-d IP` in TRAFFIC_DOWN; upload = `-s IP -o WAN` or `-s IP` in TRAFFIC_UP.
 * Duplicate rules for one host (a half-finished setup) are not added twice: the first counts.
 */
export function readHostCounters(listing: IptablesListing, wan: string): Map<string, HostCounters> {
  const counters = new Map<string, HostCounters>();
  const seen = new Set<string>();
  const entry = (ip: string): HostCounters => {
    let c = counters.get(ip);
    if (c === undefined) {
      c = { downBytes: 0, upBytes: 0, isExact: true };
      counters.set(ip, c);
    }
    return c;
  };
  const { flat, split } = LAYOUTS;
  for (const chainName of LANTOP_CHAINS) {
    const chain = findChain(listing, chainName);
    if (chain === undefined) continue;
    for (const rule of chain.rules) {
      const spec = specOfListedRule(chainName, rule);
      if (spec === null) continue;
      const held = flat.counterOf(spec, wan) ?? split.counterOf(spec, wan);
      if (held === null) continue;
      const key = `${held.direction} ${held.address}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const c = entry(held.address);
      if (held.direction === 'down') c.downBytes = rule.bytes;
      else c.upBytes = rule.bytes;
      if (!rule.isExact) c.isExact = false;
    }
  }
  return counters;
}
