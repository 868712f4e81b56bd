// Phase: the poll's counter listing → bytes per address, summed per identity (issue 7, issue 14).
// For each address, the first rule that applies gives the delta:
//   1. every counter is new (a whole reset, or the first installation) → delta = value
//   2. the address is in newAddresses (lantop just installed it)        → counter started at 0: delta = value
//   3. a baseline exists → delta = value − baseline, per direction; a value below its baseline is a
//                          reset of that counter: delta = value
//   4. no baseline, but an earlier poll exists → the counter was created after that poll: delta = value
//   5. no baseline and no earlier poll at all  → unknown age: baseline only, delta 0 (reported)
// A delta larger than link × elapsed × margin is discarded (and reported); the baseline moves on.
// A counter never produces a negative delta, and a decrease is never read as a 32-bit wrap: the
// backends read 64-bit counters in full (STYLE.md principle 10). Each address's counter is its own:
// one that went down (a counter that expired on the router and came back, one put back) restarts
// from its new value, whatever the host's other addresses do; one that vanished from the listing
// keeps its baseline, so when it comes back lower it restarts, and when higher it continues.
// An IPv6 address's bytes are also added to its identity's IPv6 part (issue 15); link-local IPv6
// is never counted.

import type { AccountingEvent, CounterBaseline, CounterPair, FamilyQuad } from './accounting-model.js';
import { isIpv6LinkLocal, isIpv6Text } from './family.js';
import { identityOfAddress, type DiscoveredAddress } from './host-identity.js';
import { UNATTRIBUTED_IPV6_IDENTITY } from './snapshot.js';

export interface AbsurdLimit {
  linkBytesPerMs: number;
  margin: number;
  minLimitElapsedMs: number;
}

/** The most bytes one direction can plausibly have moved in elapsedMs (Infinity on the first poll). */
export function absurdLimitBytes(limit: AbsurdLimit, elapsedMs: number | null): number {
  return elapsedMs === null ? Infinity : limit.linkBytesPerMs * Math.max(elapsedMs, limit.minLimitElapsedMs) * limit.margin;
}

export interface DeltaInput {
  counters: ReadonlyMap<string, CounterPair>;
  discovery: ReadonlyMap<string, DiscoveredAddress>;
  areAllCountersNew: boolean;
  newAddresses: ReadonlySet<string>;
  hasEarlierPoll: boolean;
  limitBytes: number;
  elapsedMs: number | null;
  /** Addresses already reported unreadable at the last poll: not reported again. */
  reportedInvalid: ReadonlySet<string>;
}

export interface CounterDeltas {
  /** identity → [downBytes, upBytes, down6Bytes, up6Bytes] counted now, non-zero only, summed over its addresses. */
  byIdentity: Map<string, FamilyQuad>;
  /** identity → the addresses whose counters were read for it, in listing order. */
  addressesOf: Map<string, string[]>;
  /** Addresses whose counters went down (each restarts from its new value). */
  decreased: string[];
  /** Addresses counted from their current value on the very first poll (bytes of unknown age). */
  baselineOnly: string[];
  /** Addresses whose counters were unreadable now. */
  invalid: Set<string>;
}

function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

/**
 * Reads the listing against the baselines. Moves each read address's baseline to its new value
 * and owner in `baselines` (in place: it runs over every counter on every poll), and appends
 * invalid-counter, ip-reassigned, address-attributed and absurd-delta events to `events`.
 */
export function computeCounterDeltas(input: DeltaInput, baselines: Map<string, CounterBaseline>, events: AccountingEvent[]): CounterDeltas {
  const { limitBytes } = input;
  const elapsedMs = input.elapsedMs ?? 0;
  const out: CounterDeltas = { byIdentity: new Map(), addressesOf: new Map(), decreased: [], baselineOnly: [], invalid: new Set() };
  for (const [address, c] of input.counters) {
    if (isIpv6LinkLocal(address)) continue;
    if (!isCount(c.downBytes) || !isCount(c.upBytes)) {
      if (!input.reportedInvalid.has(address)) events.push({ kind: 'invalid-counter', ip: address });
      out.invalid.add(address);
      continue;
    }
    const identity = identityOfAddress(address, input.discovery, baselines);
    const base = baselines.get(address);
    let dDown: number;
    let dUp: number;
    if (input.areAllCountersNew || input.newAddresses.has(address)) {
      dDown = c.downBytes;
      dUp = c.upBytes;
    } else if (base) {
      const isDownReset = c.downBytes < base.downBytes;
      const isUpReset = c.upBytes < base.upBytes;
      dDown = isDownReset ? c.downBytes : c.downBytes - base.downBytes;
      dUp = isUpReset ? c.upBytes : c.upBytes - base.upBytes;
      if (isDownReset || isUpReset) out.decreased.push(address);
    } else if (input.hasEarlierPoll) {
      dDown = c.downBytes;
      dUp = c.upBytes;
    } else {
      dDown = 0;
      dUp = 0;
      if (c.downBytes > 0 || c.upBytes > 0) out.baselineOnly.push(address);
    }
    if (base && base.identity !== identity) {
      // Leaving the unattributed row is no move between devices: discovery has just named its owner.
      if (base.identity === UNATTRIBUTED_IPV6_IDENTITY) events.push({ kind: 'address-attributed', ip: address, identity });
      else events.push({ kind: 'ip-reassigned', ip: address, fromIdentity: base.identity, toIdentity: identity });
    }
    if (dDown > limitBytes) {
      events.push({ kind: 'absurd-delta', ip: address, identity, direction: 'down', deltaBytes: dDown, limitBytes, elapsedMs });
      dDown = 0;
    }
    if (dUp > limitBytes) {
      events.push({ kind: 'absurd-delta', ip: address, identity, direction: 'up', deltaBytes: dUp, limitBytes, elapsedMs });
      dUp = 0;
    }
    // In place when there is one: this runs for every counter on every poll.
    if (base) {
      base.identity = identity;
      base.downBytes = c.downBytes;
      base.upBytes = c.upBytes;
    } else baselines.set(address, { identity, downBytes: c.downBytes, upBytes: c.upBytes });
    const known = out.addressesOf.get(identity);
    if (known) known.push(address);
    else out.addressesOf.set(identity, [address]);
    if (dDown > 0 || dUp > 0) {
      const is6 = isIpv6Text(address);
      const d = out.byIdentity.get(identity);
      if (d) {
        d[0] += dDown;
        d[1] += dUp;
        if (is6) {
          d[2] += dDown;
          d[3] += dUp;
        }
      } else out.byIdentity.set(identity, is6 ? [dDown, dUp, dDown, dUp] : [dDown, dUp, 0, 0]);
    }
  }
  return out;
}

/**
 * After every counter restarted, baselines of addresses absent from this listing belong to the
 * previous epoch: drop them. (Those present were replaced; their owners still placed this poll's bytes.)
 */
export function dropStaleBaselines(baselines: Map<string, CounterBaseline>, counters: ReadonlyMap<string, CounterPair>): void {
  for (const address of [...baselines.keys()]) if (!counters.has(address)) baselines.delete(address);
}
