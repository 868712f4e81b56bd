// Pure accounting (issue 7): cumulative router counters per host address → per-host deltas, totals
// that survive router resets, sliding-window rates and shares. No I/O and no clock of its own: each
// poll carries its time. The state between polls is plain JSON (exportState) so the store can save
// it in the same transaction as the poll's samples, and a restarted lantop continues without loss
// or double counting (docs/history.md explains the rules and their limits).
//
// A poll runs these phases in order, each in its own module:
//   1. elapsed time and whole-router resets   reset-detection.ts (elapsedSince, detectWholeReset)
//   2. discovery by address, identity merges  host-identity.ts
//   3. counters → deltas per address, summed per identity, with the absurd check   counter-deltas.ts
//   4. the reset to report and its missing window   reset-detection.ts (closeResetWindow)
//   5. host records: addresses, names, appearing and leaving   host-bookkeeping.ts
//   6. rates over the sliding window   rate-window.ts
//   7. rows, totals, shares and the deltas to record   accounting-output.ts; notices: accounting-notices.ts

import {
  DEFAULT_ABSURD_MARGIN,
  DEFAULT_FORGET_AFTER_MS,
  DEFAULT_LINK_BITS_PER_SECOND,
  DEFAULT_MIN_LIMIT_ELAPSED_MS,
  DEFAULT_RATE_WINDOW_MS,
  emptyAccountingState,
  type AccountingEvent,
  type AccountingOptions,
  type AccountingResult,
  type AccountingState,
  type CounterBaseline,
  type PollInput,
  type TrackedHost,
} from './accounting-model.js';
import { noticeFor } from './accounting-notices.js';
import { buildDeltaList, buildRows } from './accounting-output.js';
import { absurdLimitBytes, computeCounterDeltas, dropStaleBaselines, type AbsurdLimit } from './counter-deltas.js';
import { updateHostRecords } from './host-bookkeeping.js';
import { identitiesToMerge, readDiscovery } from './host-identity.js';
import { RateWindow } from './rate-window.js';
import { closeResetWindow, detectWholeReset, elapsedSince } from './reset-detection.js';

export * from './accounting-model.js';
export { noticeFor } from './accounting-notices.js';
export { normalizeMac } from './host-identity.js';

const NO_ADDRESSES: ReadonlySet<string> = new Set();

export class Accountant {
  private readonly limit: AbsurdLimit;
  private readonly shareBasis: 'bytes' | 'rate';
  private readonly forgetAfterMs: number | null;

  private epoch: number;
  private bootMarker: string | null;
  private lastAtMs: number | null;
  private lastCountedAtMs: number | null;
  /** Last raw counters per address, and whose bytes they were. */
  private readonly baselines: Map<string, CounterBaseline>;
  private readonly hosts: Map<string, TrackedHost>;
  private present: Set<string>;
  private readonly rates: RateWindow;
  /** Addresses whose counters were unreadable at the last poll: reported once, not on every poll. */
  private invalidAddresses: ReadonlySet<string> = new Set();

  constructor(options: AccountingOptions = {}, state: AccountingState = emptyAccountingState()) {
    const linkBps = options.linkBitsPerSecond ?? DEFAULT_LINK_BITS_PER_SECOND;
    if (!(linkBps > 0)) throw new RangeError('linkBitsPerSecond must be positive');
    this.limit = {
      linkBytesPerMs: linkBps / 8 / 1000,
      margin: options.absurdMargin ?? DEFAULT_ABSURD_MARGIN,
      minLimitElapsedMs: options.minLimitElapsedMs ?? DEFAULT_MIN_LIMIT_ELAPSED_MS,
    };
    this.shareBasis = options.shareBasis ?? 'bytes';
    this.forgetAfterMs = options.forgetAfterMs === undefined ? DEFAULT_FORGET_AFTER_MS : options.forgetAfterMs;
    if (state.version !== 1) throw new RangeError(`unknown accounting state version ${String(state.version)}`);

    const copy = structuredClone(state);
    this.epoch = copy.epoch;
    this.bootMarker = copy.bootMarker;
    this.lastAtMs = copy.lastAtMs;
    this.lastCountedAtMs =
      copy.lastCountedAtMs !== undefined ? copy.lastCountedAtMs : Object.keys(copy.counters).length > 0 ? copy.lastAtMs : null;
    this.baselines = new Map(Object.entries(copy.counters));
    // States saved before hosts had several addresses (issue 14) know only the one.
    this.hosts = new Map(Object.entries(copy.hosts).map(([identity, h]) => [identity, { ...h, addresses: h.addresses ?? [h.ip] }]));
    this.present = new Set(copy.present);
    this.rates = new RateWindow(options.rateWindowMs ?? DEFAULT_RATE_WINDOW_MS, {
      points: copy.rateWindow,
      lastRates: copy.lastRates,
      lastAtMs: copy.lastAtMs,
    });
  }

  /**
   * A copy of the state, ready for JSON. Built by hand rather than structuredClone: it runs on
   * every poll. `includeRates: false` leaves out the rate window (the store does not keep it).
   */
  exportState(options: { includeRates?: boolean } = {}): AccountingState {
    const counters: AccountingState['counters'] = {};
    for (const [address, c] of this.baselines) counters[address] = { identity: c.identity, downBytes: c.downBytes, upBytes: c.upBytes };
    const hosts: AccountingState['hosts'] = {};
    for (const [identity, h] of this.hosts) hosts[identity] = { ...h, addresses: [...h.addresses] };
    const state: AccountingState = {
      version: 1,
      epoch: this.epoch,
      bootMarker: this.bootMarker,
      lastAtMs: this.lastAtMs,
      counters,
      hosts,
      present: [...this.present],
    };
    // Only when it says more than the default a reader assumes (see the constructor): so states
    // stay as they were except while the rules are missing, and older readers lose nothing else.
    const impliedLastCountedAtMs = this.baselines.size > 0 ? this.lastAtMs : null;
    if (this.lastCountedAtMs !== impliedLastCountedAtMs) state.lastCountedAtMs = this.lastCountedAtMs;
    if (options.includeRates ?? true) Object.assign(state, this.rates.export());
    return state;
  }

  get currentEpoch(): number {
    return this.epoch;
  }

  process(input: PollInput): AccountingResult {
    const { atMs } = input;
    const events: AccountingEvent[] = [];

    const { elapsedMs, clockJump } = elapsedSince(this.lastAtMs, atMs);
    if (clockJump !== null) {
      events.push(clockJump);
      this.rates.clear();
    }
    const wholeReset = detectWholeReset({ bootMarker: this.bootMarker, lastCountedAtMs: this.lastCountedAtMs }, input);
    this.bootMarker = wholeReset.bootMarker;

    const discovery = readDiscovery(input.hosts);
    for (const { from, to } of identitiesToMerge(discovery, (identity) => this.hosts.has(identity))) {
      this.mergeIdentity(from, to);
      events.push({ kind: 'identity-merged', fromIdentity: from, toIdentity: to });
    }

    const counted = computeCounterDeltas(
      {
        counters: input.counters,
        discovery,
        areAllCountersNew: wholeReset.areAllCountersNew,
        newAddresses: input.newAddresses === undefined ? NO_ADDRESSES : new Set(input.newAddresses),
        hasEarlierPoll: this.lastAtMs !== null,
        limitBytes: absurdLimitBytes(this.limit, elapsedMs),
        elapsedMs,
        reportedInvalid: this.invalidAddresses,
      },
      this.baselines,
      events,
    );
    this.invalidAddresses = counted.invalid;
    if (wholeReset.areAllCountersNew) dropStaleBaselines(this.baselines, input.counters);

    const window = closeResetWindow({
      atMs,
      epoch: this.epoch,
      lastCountedAtMs: this.lastCountedAtMs,
      wholeReset: wholeReset.reason,
      decreasedAddresses: counted.decreased,
      listedAddresses: input.counters.keys(),
      bootAtMs: input.bootAtMs,
      rulesInstalledAtMs: input.rulesInstalledAtMs,
      isInstallationComplete: input.isInstallationComplete,
    });
    this.epoch = window.epoch;
    this.lastCountedAtMs = window.lastCountedAtMs;
    if (window.event !== null) events.push(window.event);
    if (counted.baselineOnly.length > 0) events.push({ kind: 'baseline', ips: counted.baselineOnly });

    const present = updateHostRecords(
      {
        atMs,
        discovery,
        baselines: this.baselines,
        countedAddressesOf: counted.addressesOf,
        deltas: counted.byIdentity,
        previouslyPresent: this.present,
        forgetAfterMs: this.forgetAfterMs,
      },
      this.hosts,
      events,
    );
    this.present = present;

    const rates = this.rates.add(atMs, counted.byIdentity, present);
    this.lastAtMs = atMs;

    const { hosts, totals, totalsByFamily } = buildRows({
      present,
      hosts: this.hosts,
      rates,
      deltas: counted.byIdentity,
      counted: counted.addressesOf,
      shareBasis: this.shareBasis,
    });
    const { deltas, deltasByFamily } = buildDeltaList(counted.byIdentity, this.hosts);
    const notices = events.flatMap((e) => noticeFor(e, atMs));
    return { atMs, epoch: this.epoch, hosts, totals, totalsByFamily, deltas, deltasByFamily, events, notices };
  }

  /** A MAC-less identity is now known by its MAC: everything it had moves there (added to what that had). */
  private mergeIdentity(from: string, to: string): void {
    const old = this.hosts.get(from);
    if (!old) return;
    this.hosts.delete(from);
    const into = this.hosts.get(to);
    if (!into) this.hosts.set(to, { ...old, identity: to, mac: to });
    else {
      into.downBytes += old.downBytes;
      into.upBytes += old.upBytes;
      if (old.down6Bytes !== undefined || old.up6Bytes !== undefined) {
        into.down6Bytes = (into.down6Bytes ?? 0) + (old.down6Bytes ?? 0);
        into.up6Bytes = (into.up6Bytes ?? 0) + (old.up6Bytes ?? 0);
      }
      into.firstSeenMs = Math.min(into.firstSeenMs, old.firstSeenMs);
      into.lastSeenMs = Math.max(into.lastSeenMs, old.lastSeenMs);
      into.hostname ??= old.hostname;
    }
    for (const c of this.baselines.values()) if (c.identity === from) c.identity = to;
    if (this.present.delete(from)) this.present.add(to);
    this.rates.moveIdentity(from, to);
  }
}
