// Pure accounting (issue 7): cumulative router counters per IP → per-host deltas, totals that
// survive router resets, sliding-window rates and shares. No I/O and no clock of its own: each poll
// carries its time. The state between polls is plain JSON (exportState) so the store can save it in
// the same transaction as the poll's samples, and a restarted lantop continues without loss or
// double counting (docs/history.md explains the rules and their limits).
//
// Rules, in order of evaluation for each IP in a poll's counter listing:
//   1. rules reinstalled, or boot marker changed   → every counter started at 0: delta = value; a new
//                                                   epoch unless nothing had been counted before
//                                                   (then it is the first installation, not a reset)
//   2. IP in newRuleIps (lantop just installed it) → counter started at 0: delta = value
//   3. a baseline exists                          → delta = value − baseline, per direction; a value below
//                                                   its baseline is a reset of that counter: delta = value
//   4. no baseline, but an earlier poll exists    → the rule was created after that poll: delta = value
//   5. no baseline and no earlier poll at all     → unknown age: baseline only, delta 0 (reported)
// A delta larger than link × elapsed × margin is discarded (and reported); the baseline moves on.
// What a reset could not count runs from the last read at which the rules were complete (not the
// previous poll: that one may have found them missing) to the reboot or the re-install (issue 13).
// A counter never produces a negative delta, and a decrease is never read as a 32-bit wrap:
// iptables keeps 64-bit counters and prints them in full with -x.

import type { HostUsage, Notice } from './snapshot.js';
import { sanitizeText } from '../sanitize.js';

export interface CounterPair {
  downBytes: number;
  upBytes: number;
}

export interface PollHost {
  ip: string;
  mac: string | null;
  /** Raw from the router (hostile); stored and passed on, never interpreted. */
  hostname: string | null;
}

export interface PollInput {
  atMs: number;
  /** Cumulative router counters for the IPs that have accounting rules. */
  counters: ReadonlyMap<string, CounterPair>;
  /** Hosts from discovery (may include hosts without rules, may miss hosts that have rules). */
  hosts: readonly PollHost[];
  /**
   * Identifies the router's current boot (or chain incarnation). A change means every counter
   * restarted from 0. undefined or null: unknown this poll (the last known marker is kept).
   * It must be stable while the router runs: a spurious change double-counts a whole epoch.
   */
  bootMarker?: string | null;
  /** When the router booted (now − uptime), if known: narrows the window of bytes that may be lost. */
  bootAtMs?: number | null;
  /**
   * All of lantop's counting rules were installed from scratch since the previous poll (they were
   * missing): every counter started at 0. On a router never counted before this is the first
   * installation, not a reset.
   */
  chainRecreated?: boolean;
  /** IPs whose rules lantop (re)installed since the previous poll: their counters started at 0. */
  newRuleIps?: Iterable<string>;
  /** When lantop (re)installed the rules (chainRecreated): nothing after it is missing. Default: atMs. */
  rulesInstalledAtMs?: number | null;
  /**
   * Were lantop's counting rules complete at this read (all there, and reached by the traffic)?
   * false: the router counted nothing (or not everything) since this or an earlier read, so this
   * read does not close the window a later reset reports. Default true.
   */
  isInstallationComplete?: boolean;
}

export interface AccountingOptions {
  /** Highest plausible rate in each direction, bits per second (vnStat's MaxBandwidth). Default 1 Gbit/s. */
  linkBitsPerSecond?: number;
  /** A delta above link × elapsed × margin is absurd. Default 1.5. */
  absurdMargin?: number;
  /** Elapsed times shorter than this count as this long in the absurd check (poll jitter). Default 1000 ms. */
  minLimitElapsedMs?: number;
  /** Rates cover at least this much time (once that much history exists). Default 5000 ms. */
  rateWindowMs?: number;
  /** What downShare/upShare divide: cumulative bytes (default) or the current rate. */
  shareBasis?: 'bytes' | 'rate';
  /**
   * Hosts not seen for this long leave the state (their history stays in the store), so devices
   * with rotating random MACs do not grow it forever. Default 30 days; null keeps them all.
   */
  forgetAfterMs?: number | null;
}

export const DEFAULT_LINK_BITS_PER_SECOND = 1_000_000_000;
export const DEFAULT_ABSURD_MARGIN = 1.5;
export const DEFAULT_MIN_LIMIT_ELAPSED_MS = 1000;
export const DEFAULT_RATE_WINDOW_MS = 5000;
export const DEFAULT_FORGET_AFTER_MS = 30 * 86_400_000;

/** One host as lantop knows it; identity is the MAC when known, else `ip:<address>`. */
export interface HostRecord {
  identity: string;
  mac: string | null;
  ip: string;
  hostname: string | null;
  /** Cumulative bytes counted by lantop (all epochs). */
  downBytes: number;
  upBytes: number;
  firstSeenMs: number;
  lastSeenMs: number;
}

export interface CounterBaseline {
  /** Whose bytes this IP's counters were at the last poll. */
  identity: string;
  downBytes: number;
  upBytes: number;
}

export interface RatePoint {
  atMs: number;
  /** identity → [downBytes, upBytes] counted in the poll at atMs (non-zero only). */
  deltas: Record<string, [number, number]>;
}

/** Everything carried between polls; JSON-serialisable. */
export interface AccountingState {
  version: 1;
  epoch: number;
  bootMarker: string | null;
  lastAtMs: number | null;
  /**
   * The last poll at which the counting rules were complete: a later reset's missing window starts
   * here. Absent: lastAtMs if any counter is known, else null (exportState writes it only when it
   * differs from that, i.e. while the rules are missing; states from before it existed read the same).
   */
  lastCountedAtMs?: number | null;
  /** Last raw router counters per IP, including IPs whose rules vanished from the listing. */
  counters: Record<string, CounterBaseline>;
  hosts: Record<string, HostRecord>;
  /** Identities present at the last poll. */
  present: string[];
  /** Optional: without it rates restart from the last poll (fine after a restart). */
  rateWindow?: RatePoint[];
  /** identity → [downBps, upBps] last shown; carried over when no time has elapsed. */
  lastRates?: Record<string, [number, number]>;
}

export type ResetReason = 'reboot' | 'chain-recreated' | 'counter-decrease';

export type AccountingEvent =
  | {
      kind: 'reset';
      reason: ResetReason;
      epoch: number;
      /** IPs whose counters went down (counter-decrease), or all counted IPs. */
      ips: string[];
      /**
       * Traffic in [fromMs, toMs] could not be counted: the router's counts between the last
       * complete read and the reset are lost, and after a loss of the rules nothing counted until
       * they were put back. At most link speed × that time, usually far less. fromMs is null when
       * nothing was counted before; toMs ≤ fromMs means nothing is missing.
       */
      missingFromMs: number | null;
      missingToMs: number;
    }
  | { kind: 'absurd-delta'; ip: string; identity: string; direction: 'down' | 'up'; deltaBytes: number; limitBytes: number; elapsedMs: number }
  | { kind: 'baseline'; ips: string[] }
  | { kind: 'clock-jump'; fromMs: number; toMs: number }
  | { kind: 'invalid-counter'; ip: string }
  | { kind: 'host-appeared'; identity: string; ip: string }
  | { kind: 'host-disappeared'; identity: string; ip: string }
  | { kind: 'ip-changed'; identity: string; fromIp: string; toIp: string }
  | { kind: 'host-renamed'; identity: string }
  /** An IP's counters now belong to another identity (the address was given to another device). */
  | { kind: 'ip-reassigned'; ip: string; fromIdentity: string; toIdentity: string }
  /** A MAC-less host's MAC became known: its history moved to the MAC identity. */
  | { kind: 'identity-merged'; fromIdentity: string; toIdentity: string };

export interface AccountedHost extends HostUsage {
  identity: string;
  /** Bytes counted in this poll. */
  deltaDownBytes: number;
  deltaUpBytes: number;
}

export interface HostDelta {
  identity: string;
  mac: string | null;
  ip: string;
  hostname: string | null;
  downBytes: number;
  upBytes: number;
}

export interface AccountingResult {
  atMs: number;
  epoch: number;
  /** Hosts present in this poll (in discovery or in the counters), ordered by IP. */
  hosts: AccountedHost[];
  /** Sums over `hosts`. */
  totals: { downBytes: number; upBytes: number; downBps: number; upBps: number };
  /** Non-zero per-identity deltas of this poll: what the history store records. */
  deltas: HostDelta[];
  events: AccountingEvent[];
  notices: Notice[];
}

const ZERO_MAC = /^(?:00[:-]){5}00$/i;
const BROADCAST_MAC = /^(?:ff[:-]){5}ff$/i;

/** Lower-case, colon-separated; null for missing, all-zero or broadcast MACs. */
export function normalizeMac(mac: string | null | undefined): string | null {
  if (!mac) return null;
  const m = mac.trim().toLowerCase().replace(/-/g, ':');
  if (m === '' || ZERO_MAC.test(m) || BROADCAST_MAC.test(m)) return null;
  return m;
}

export function ipIdentity(ip: string): string {
  return `ip:${ip}`;
}

export function emptyAccountingState(): AccountingState {
  return { version: 1, epoch: 0, bootMarker: null, lastAtMs: null, counters: {}, hosts: {}, present: [] };
}

const sortKeyCache = new Map<string, number>();

/** IPv4 addresses in numeric order; anything else after them. Cached: it runs per host per poll. */
function ipSortKey(ip: string): number {
  let key = sortKeyCache.get(ip);
  if (key !== undefined) return key;
  const parts = ip.split('.');
  key = 0;
  if (parts.length !== 4) key = Number.MAX_SAFE_INTEGER;
  else for (const p of parts) key = key * 256 + (Number(p) || 0);
  if (sortKeyCache.size > 65_536) sortKeyCache.clear();
  sortKeyCache.set(ip, key);
  return key;
}

function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

function fmtTime(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

export class Accountant {
  private readonly linkBytesPerMs: number;
  private readonly margin: number;
  private readonly minLimitElapsedMs: number;
  private readonly windowMs: number;
  private readonly shareBasis: 'bytes' | 'rate';
  private readonly forgetAfterMs: number | null;

  private epoch: number;
  private bootMarker: string | null;
  private lastAtMs: number | null;
  private lastCountedAtMs: number | null;
  private readonly counters: Map<string, CounterBaseline>;
  private readonly hosts: Map<string, HostRecord>;
  private present: Set<string>;
  private window: Array<{ atMs: number; deltas: Map<string, [number, number]> }>;
  private lastRates: Map<string, [number, number]>;
  /** IPs whose counters were unreadable at the last poll: reported once, not on every poll. */
  private invalidIps = new Set<string>();

  constructor(options: AccountingOptions = {}, state: AccountingState = emptyAccountingState()) {
    const linkBps = options.linkBitsPerSecond ?? DEFAULT_LINK_BITS_PER_SECOND;
    if (!(linkBps > 0)) throw new RangeError('linkBitsPerSecond must be positive');
    this.linkBytesPerMs = linkBps / 8 / 1000;
    this.margin = options.absurdMargin ?? DEFAULT_ABSURD_MARGIN;
    this.minLimitElapsedMs = options.minLimitElapsedMs ?? DEFAULT_MIN_LIMIT_ELAPSED_MS;
    this.windowMs = options.rateWindowMs ?? DEFAULT_RATE_WINDOW_MS;
    this.shareBasis = options.shareBasis ?? 'bytes';
    this.forgetAfterMs = options.forgetAfterMs === undefined ? DEFAULT_FORGET_AFTER_MS : options.forgetAfterMs;
    if (state.version !== 1) throw new RangeError(`unknown accounting state version ${String(state.version)}`);

    const copy = structuredClone(state);
    this.epoch = copy.epoch;
    this.bootMarker = copy.bootMarker;
    this.lastAtMs = copy.lastAtMs;
    this.lastCountedAtMs =
      copy.lastCountedAtMs !== undefined ? copy.lastCountedAtMs : Object.keys(copy.counters).length > 0 ? copy.lastAtMs : null;
    this.counters = new Map(Object.entries(copy.counters));
    this.hosts = new Map(Object.entries(copy.hosts));
    this.present = new Set(copy.present);
    this.window = (copy.rateWindow ?? []).map((p) => ({ atMs: p.atMs, deltas: new Map(Object.entries(p.deltas)) }));
    if (this.window.length === 0 && this.lastAtMs !== null) {
      // Restored without rate history: the next rate spans the time since the last poll.
      this.window.push({ atMs: this.lastAtMs, deltas: new Map() });
    }
    this.lastRates = new Map(Object.entries(copy.lastRates ?? {}));
  }

  /**
   * A copy of the state, ready for JSON. Built by hand rather than structuredClone: it runs on
   * every poll. `includeRates: false` leaves out the rate window (the store does not keep it).
   */
  exportState(options: { includeRates?: boolean } = {}): AccountingState {
    const counters: Record<string, CounterBaseline> = {};
    for (const [ip, c] of this.counters) counters[ip] = { identity: c.identity, downBytes: c.downBytes, upBytes: c.upBytes };
    const hosts: Record<string, HostRecord> = {};
    for (const [identity, h] of this.hosts) hosts[identity] = { ...h };
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
    const impliedLastCountedAtMs = this.counters.size > 0 ? this.lastAtMs : null;
    if (this.lastCountedAtMs !== impliedLastCountedAtMs) state.lastCountedAtMs = this.lastCountedAtMs;
    if (options.includeRates ?? true) {
      state.rateWindow = this.window.map((p) => {
        const deltas: Record<string, [number, number]> = {};
        for (const [identity, [d, u]] of p.deltas) deltas[identity] = [d, u];
        return { atMs: p.atMs, deltas };
      });
      const lastRates: Record<string, [number, number]> = {};
      for (const [identity, [d, u]] of this.lastRates) lastRates[identity] = [d, u];
      state.lastRates = lastRates;
    }
    return state;
  }

  get currentEpoch(): number {
    return this.epoch;
  }

  process(input: PollInput): AccountingResult {
    const atMs = input.atMs;
    const events: AccountingEvent[] = [];
    const prevAtMs = this.lastAtMs;
    let elapsedMs = prevAtMs === null ? null : atMs - prevAtMs;
    if (elapsedMs !== null && elapsedMs < 0 && prevAtMs !== null) {
      // The wall clock went backwards (NTP step, manual change): no time has elapsed as far as rates go.
      events.push({ kind: 'clock-jump', fromMs: prevAtMs, toMs: atMs });
      elapsedMs = 0;
      this.window = [];
    }

    // 1. Whole-router resets. Rules installed on a router never counted before (lantop's first
    // setup, the demo's first poll) start every counter at 0 too, but nothing was lost: no reset.
    const globalReasons: ResetReason[] = [];
    const isReinstalled = input.chainRecreated === true;
    if (isReinstalled && this.lastCountedAtMs !== null) globalReasons.push('chain-recreated');
    if (typeof input.bootMarker === 'string') {
      if (this.bootMarker !== null && this.bootMarker !== input.bootMarker) globalReasons.push('reboot');
      this.bootMarker = input.bootMarker;
    }
    const isGlobalReset = globalReasons.length > 0;
    const areAllCountersNew = isGlobalReset || isReinstalled;
    if (isGlobalReset) this.epoch += 1;

    // 2. Discovery: IP → host, first entry wins; a MAC known for the first time absorbs its IP identity.
    const byIp = new Map<string, { mac: string | null; hostname: string | null }>();
    for (const h of input.hosts) {
      if (byIp.has(h.ip)) continue;
      byIp.set(h.ip, { mac: normalizeMac(h.mac), hostname: h.hostname });
    }
    for (const [ip, h] of byIp) {
      if (h.mac === null) continue;
      const from = ipIdentity(ip);
      const old = this.hosts.get(from);
      if (old && !this.hosts.has(h.mac)) this.mergeIdentity(from, h.mac, events);
    }

    const resolve = (ip: string): string => byIp.get(ip)?.mac ?? this.counters.get(ip)?.identity ?? ipIdentity(ip);

    // 3. Counters → deltas.
    const newRules = new Set(input.newRuleIps ?? []);
    const deltas = new Map<string, [number, number]>();
    const countedIdentities = new Set<string>();
    const ipsOfIdentity = new Map<string, string[]>();
    const decreasedIps: string[] = [];
    const baselineIps: string[] = [];
    const limitBytes =
      elapsedMs === null ? Infinity : this.linkBytesPerMs * Math.max(elapsedMs, this.minLimitElapsedMs) * this.margin;

    const invalidIps = new Set<string>();
    for (const [ip, c] of input.counters) {
      if (!isCount(c.downBytes) || !isCount(c.upBytes)) {
        if (!this.invalidIps.has(ip)) events.push({ kind: 'invalid-counter', ip });
        invalidIps.add(ip);
        continue;
      }
      const identity = resolve(ip);
      const base = this.counters.get(ip);
      let dDown: number;
      let dUp: number;
      if (areAllCountersNew || newRules.has(ip)) {
        dDown = c.downBytes;
        dUp = c.upBytes;
      } else if (base) {
        const downReset = c.downBytes < base.downBytes;
        const upReset = c.upBytes < base.upBytes;
        dDown = downReset ? c.downBytes : c.downBytes - base.downBytes;
        dUp = upReset ? c.upBytes : c.upBytes - base.upBytes;
        if (downReset || upReset) decreasedIps.push(ip);
      } else if (prevAtMs !== null) {
        dDown = c.downBytes;
        dUp = c.upBytes;
      } else {
        dDown = 0;
        dUp = 0;
        if (c.downBytes > 0 || c.upBytes > 0) baselineIps.push(ip);
      }
      if (base && base.identity !== identity) {
        events.push({ kind: 'ip-reassigned', ip, fromIdentity: base.identity, toIdentity: identity });
      }
      if (dDown > limitBytes) {
        events.push({ kind: 'absurd-delta', ip, identity, direction: 'down', deltaBytes: dDown, limitBytes, elapsedMs: elapsedMs ?? 0 });
        dDown = 0;
      }
      if (dUp > limitBytes) {
        events.push({ kind: 'absurd-delta', ip, identity, direction: 'up', deltaBytes: dUp, limitBytes, elapsedMs: elapsedMs ?? 0 });
        dUp = 0;
      }
      this.counters.set(ip, { identity, downBytes: c.downBytes, upBytes: c.upBytes });
      countedIdentities.add(identity);
      const known = ipsOfIdentity.get(identity);
      if (known) known.push(ip);
      else ipsOfIdentity.set(identity, [ip]);
      if (dDown > 0 || dUp > 0) {
        const d = deltas.get(identity);
        if (d) {
          d[0] += dDown;
          d[1] += dUp;
        } else deltas.set(identity, [dDown, dUp]);
      }
    }

    this.invalidIps = invalidIps;
    const missingFromMs = this.lastCountedAtMs;
    let reportedUntilMs: number | null = null;
    if (areAllCountersNew) {
      // Baselines of rules absent from this listing belong to the previous epoch: drop them. (Those
      // present were replaced above; their identities were still used to place this poll's bytes.)
      for (const ip of [...this.counters.keys()]) if (!input.counters.has(ip)) this.counters.delete(ip);
    }
    if (isGlobalReset) {
      const reason = globalReasons.includes('reboot') ? 'reboot' : 'chain-recreated';
      // Where the window ends: at the boot (the router's counts after it were all read), or when
      // lantop put the rules back (they counted from 0 from then on); else at this read.
      const end = reason === 'reboot' ? (input.bootAtMs ?? null) : (input.rulesInstalledAtMs ?? null);
      const to = end !== null && end <= atMs && (missingFromMs === null || end >= missingFromMs) ? end : atMs;
      events.push({ kind: 'reset', reason, epoch: this.epoch, ips: [...input.counters.keys()], missingFromMs, missingToMs: to });
      reportedUntilMs = to;
    } else if (decreasedIps.length > 0) {
      this.epoch += 1;
      events.push({ kind: 'reset', reason: 'counter-decrease', epoch: this.epoch, ips: decreasedIps, missingFromMs, missingToMs: atMs });
      reportedUntilMs = atMs;
    }
    // Everything before this read is now counted, or reported missing: a later reset's window
    // starts here (or where the one just reported ended, when this read still counted nothing).
    if (input.isInstallationComplete !== false) this.lastCountedAtMs = atMs;
    else if (reportedUntilMs !== null) this.lastCountedAtMs = reportedUntilMs;
    if (baselineIps.length > 0) events.push({ kind: 'baseline', ips: baselineIps });

    // 4. Host records. Discovery knows the current IP and name; counters alone only keep a host present.
    const seen = new Map<string, { ips: string[]; hostname: string | null }>();
    for (const [ip, h] of byIp) {
      const identity = resolve(ip);
      const cur = seen.get(identity);
      if (!cur) seen.set(identity, { ips: [ip], hostname: h.hostname });
      else {
        cur.ips.push(ip);
        if (cur.hostname === null) cur.hostname = h.hostname;
      }
    }
    for (const [identity, ips] of ipsOfIdentity) {
      if (!seen.has(identity)) seen.set(identity, { ips, hostname: null });
    }
    const present = new Set<string>();
    for (const [identity, { ips, hostname }] of seen) {
      present.add(identity);
      const mac = identity.startsWith('ip:') ? null : identity;
      const firstIp = ips[0] ?? '';
      const rec = this.hosts.get(identity);
      if (!rec) {
        this.hosts.set(identity, { identity, mac, ip: firstIp, hostname, downBytes: 0, upBytes: 0, firstSeenMs: atMs, lastSeenMs: atMs });
        events.push({ kind: 'host-appeared', identity, ip: firstIp });
        continue;
      }
      // Several IPs for one MAC (a stale ARP entry beside a new lease): keep the known one, no flapping.
      if (!ips.includes(rec.ip)) {
        if (rec.mac !== null) events.push({ kind: 'ip-changed', identity, fromIp: rec.ip, toIp: firstIp });
        rec.ip = firstIp;
      }
      if (mac !== null) rec.mac = mac;
      if (hostname !== null && hostname !== rec.hostname) {
        if (rec.hostname !== null) events.push({ kind: 'host-renamed', identity });
        rec.hostname = hostname;
      }
      rec.lastSeenMs = atMs;
    }
    for (const [identity, [d, u]] of deltas) {
      const rec = this.hosts.get(identity);
      if (rec) {
        rec.downBytes += d;
        rec.upBytes += u;
      }
    }
    for (const identity of this.present) {
      if (!present.has(identity)) {
        events.push({ kind: 'host-disappeared', identity, ip: this.hosts.get(identity)?.ip ?? '' });
      }
    }
    this.present = present;
    if (this.forgetAfterMs !== null) {
      const cutoff = atMs - this.forgetAfterMs;
      for (const [identity, rec] of this.hosts) {
        if (rec.lastSeenMs < cutoff && !present.has(identity)) this.hosts.delete(identity);
      }
    }

    // 5. Rates over the sliding window.
    this.window.push({ atMs, deltas });
    const cutoff = atMs - this.windowMs;
    let ref = 0;
    for (let i = 0; i < this.window.length; i++) {
      if ((this.window[i]?.atMs ?? Infinity) <= cutoff) ref = i;
    }
    if (ref > 0) this.window = this.window.slice(ref);
    const spanMs = atMs - (this.window[0]?.atMs ?? atMs);
    const rates = new Map<string, [number, number]>();
    if (spanMs > 0) {
      const sums = new Map<string, [number, number]>();
      for (let i = 1; i < this.window.length; i++) {
        for (const [identity, [d, u]] of this.window[i]?.deltas ?? []) {
          const s = sums.get(identity);
          if (s) {
            s[0] += d;
            s[1] += u;
          } else sums.set(identity, [d, u]);
        }
      }
      for (const identity of present) {
        const s = sums.get(identity);
        rates.set(identity, s ? [(s[0] * 1000) / spanMs, (s[1] * 1000) / spanMs] : [0, 0]);
      }
    } else {
      for (const identity of present) rates.set(identity, this.lastRates.get(identity) ?? [0, 0]);
    }
    this.lastRates = rates;
    this.lastAtMs = atMs;

    // 6. Output.
    const hosts: AccountedHost[] = [];
    const totals = { downBytes: 0, upBytes: 0, downBps: 0, upBps: 0 };
    for (const identity of present) {
      const rec = this.hosts.get(identity);
      if (!rec) continue;
      const [downBps, upBps] = rates.get(identity) ?? [0, 0];
      const [dd, du] = deltas.get(identity) ?? [0, 0];
      hosts.push({
        identity,
        ip: rec.ip,
        addresses: [rec.ip],
        mac: rec.mac,
        hostname: rec.hostname,
        downBytes: rec.downBytes,
        upBytes: rec.upBytes,
        downBps,
        upBps,
        downShare: 0,
        upShare: 0,
        isCounted: countedIdentities.has(identity),
        deltaDownBytes: dd,
        deltaUpBytes: du,
      });
      totals.downBytes += rec.downBytes;
      totals.upBytes += rec.upBytes;
      totals.downBps += downBps;
      totals.upBps += upBps;
    }
    hosts.sort((a, b) => ipSortKey(a.ip) - ipSortKey(b.ip) || (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0));
    const downTotal = this.shareBasis === 'rate' ? totals.downBps : totals.downBytes;
    const upTotal = this.shareBasis === 'rate' ? totals.upBps : totals.upBytes;
    for (const h of hosts) {
      const down = this.shareBasis === 'rate' ? h.downBps : h.downBytes;
      const up = this.shareBasis === 'rate' ? h.upBps : h.upBytes;
      h.downShare = downTotal > 0 ? down / downTotal : 0;
      h.upShare = upTotal > 0 ? up / upTotal : 0;
    }

    const deltaList: HostDelta[] = [];
    for (const [identity, [d, u]] of deltas) {
      const rec = this.hosts.get(identity);
      deltaList.push({ identity, mac: rec?.mac ?? null, ip: rec?.ip ?? '', hostname: rec?.hostname ?? null, downBytes: d, upBytes: u });
    }

    return { atMs, epoch: this.epoch, hosts, totals, deltas: deltaList, events, notices: events.flatMap((e) => noticeFor(e, atMs)) };
  }

  private mergeIdentity(from: string, to: string, events: AccountingEvent[]): void {
    const old = this.hosts.get(from);
    if (!old) return;
    this.hosts.delete(from);
    this.hosts.set(to, { ...old, identity: to, mac: to });
    for (const c of this.counters.values()) if (c.identity === from) c.identity = to;
    if (this.present.delete(from)) this.present.add(to);
    for (const p of this.window) {
      const d = p.deltas.get(from);
      if (d) {
        p.deltas.delete(from);
        p.deltas.set(to, d);
      }
    }
    const r = this.lastRates.get(from);
    if (r) {
      this.lastRates.delete(from);
      this.lastRates.set(to, r);
    }
    events.push({ kind: 'identity-merged', fromIdentity: from, toIdentity: to });
  }
}

/** Human-readable notices; only addresses and times, never hostnames (hostile text). */
export function noticeFor(e: AccountingEvent, atMs: number): Notice[] {
  const s = (t: string) => sanitizeText(t, 64);
  switch (e.kind) {
    case 'reset': {
      // Backend-neutral words: the domain speaks of counting rules, not of chains or tables.
      const what =
        e.reason === 'reboot'
          ? 'The router rebooted'
          : e.reason === 'chain-recreated'
            ? "lantop's counting rules were missing (the router rebuilt its firewall?) and were put back"
            : `Counters went down for ${e.ips.length === 1 ? s(e.ips[0] ?? '') : `${e.ips.length} hosts`}`;
      // A window that ends before this poll ends exactly (at the boot, or when lantop put the rules
      // back); one that ends at this poll only bounds a reset at an unknown moment inside it.
      const missing =
        e.missingFromMs === null
          ? ''
          : e.missingToMs <= e.missingFromMs
            ? '; no traffic is missing'
            : e.missingToMs < atMs
              ? `; traffic between ${fmtTime(e.missingFromMs)} and ${fmtTime(e.missingToMs)} could not be counted`
              : `; traffic between ${fmtTime(e.missingFromMs)} and the reset (by ${fmtTime(e.missingToMs)}) could not be counted`;
      return [{ atMs, level: 'warn', text: `${what}: counting continues from the new counters (epoch ${e.epoch})${missing}.` }];
    }
    case 'absurd-delta':
      return [
        {
          atMs,
          level: 'warn',
          text: `Discarded an impossible ${e.direction} jump of ${e.deltaBytes} bytes for ${s(e.ip)} (link limit ${Math.round(e.limitBytes)} bytes in ${e.elapsedMs} ms).`,
        },
      ];
    case 'baseline':
      return [{ atMs, level: 'info', text: `Started counting ${e.ips.length} host(s) from their current counters; earlier bytes are not included.` }];
    case 'clock-jump':
      return [{ atMs, level: 'warn', text: `The clock went back from ${fmtTime(e.fromMs)} to ${fmtTime(e.toMs)}; rates restart.` }];
    case 'invalid-counter':
      return [{ atMs, level: 'warn', text: `Ignored an unreadable counter for ${s(e.ip)}.` }];
    case 'ip-changed':
      return [{ atMs, level: 'info', text: `${s(e.identity)} moved from ${s(e.fromIp)} to ${s(e.toIp)}; its history follows the MAC.` }];
    case 'ip-reassigned':
      return [{ atMs, level: 'info', text: `${s(e.ip)} now belongs to ${s(e.toIdentity)} (was ${s(e.fromIdentity)}).` }];
    case 'identity-merged':
      return [{ atMs, level: 'info', text: `${s(e.fromIdentity)} is ${s(e.toIdentity)}; history merged.` }];
    case 'host-appeared':
    case 'host-disappeared':
    case 'host-renamed':
      return [];
  }
}
