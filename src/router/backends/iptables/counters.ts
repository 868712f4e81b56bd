// Per-host cumulative counters from one iptables listing, whatever the layout (issue 14: each
// layout strategy says which of its rules hold which host's counter).
import type { AddressFamily } from '../../../domain/address.js';
import type { IptablesListing } from '../../parsers/types.js';
import { findChain, specOfListedRule } from './rule-spec.js';
import { LANTOP_CHAINS, LAYOUTS } from './layouts.js';

export interface HostCounters {
  downBytes: number;
  upBytes: number;
  isExact: boolean;
}

interface HostSlot {
  counters: HostCounters;
  seen: number;
}
const DOWN = 1;
const UP = 2;

/**
 * Per-host cumulative counters from a listing, whatever the layout (flat or split, even both during
 * a layout switch): download = `-i WAN -d IP`
 * in TRAFFIC or `-d IP` in TRAFFIC_DOWN; upload = `-s IP -o WAN` or `-s IP` in TRAFFIC_UP.
 * Duplicate rules for one host (a half-finished setup) are not added twice: the first counts. An
 * ip6tables listing is read with family 6 (its addresses are IPv6, canonical).
 */
export function readHostCounters(listing: IptablesListing, wan: string, family: AddressFamily = 4): Map<string, HostCounters> {
  // One map lookup per rule and no key string per rule: each host's slot says which directions it
  // already has (DOWN | UP), whatever the byte values are.
  const slots = new Map<string, HostSlot>();
  const { flat, split } = LAYOUTS;
  for (const chainName of LANTOP_CHAINS) {
    const chain = findChain(listing, chainName);
    if (chain === undefined) continue;
    const rules = chain.rules;
    for (let k = 0; k < rules.length; k++) {
      const rule = rules[k]!;
      const spec = specOfListedRule(chainName, rule, family);
      if (spec === null) continue;
      const held = flat.counterOf(spec, wan) ?? split.counterOf(spec, wan);
      if (held === null) continue;
      let slot = slots.get(held.address);
      if (slot === undefined) {
        slot = { counters: { downBytes: 0, upBytes: 0, isExact: true }, seen: 0 };
        slots.set(held.address, slot);
      }
      const bit = held.direction === 'down' ? DOWN : UP;
      if ((slot.seen & bit) !== 0) continue;
      slot.seen |= bit;
      if (bit === DOWN) slot.counters.downBytes = rule.bytes;
      else slot.counters.upBytes = rule.bytes;
      if (!rule.isExact) slot.counters.isExact = false;
    }
  }
  const counters = new Map<string, HostCounters>();
  for (const [address, slot] of slots) counters.set(address, slot.counters);
  return counters;
}
