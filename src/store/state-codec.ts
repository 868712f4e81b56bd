// The accounting state as stored in router_state.state_json: arrays instead of objects (about half
// the size of plain JSON; it is written on every poll) and without the rate window (after a restart
// the first rate spans the gap anyway).
//
// Example: {"v":1,"e":0,"b":"b1","l":1709510400000,
//           "c":[["198.51.100.10","aa:bb:cc:00:00:0a",5,6]],
//           "h":[["aa:bb:cc:00:00:0a","aa:bb:cc:00:00:0a","198.51.100.10","tv",5,6,1709510400000,1709510400000]],
//           "p":["aa:bb:cc:00:00:0a"]}
//
// A host's addresses are stored only when they are more than its `ip` (a dual-stack host), as the
// host row's ninth value; its IPv6 part (down6Bytes, up6Bytes: issue 15) only when the state has
// one, as the eleventh and twelfth (the tenth, the unknown fields, is then {} when there are none). Fields the codec does not know (accounting.ts may add some) are kept as
// plain JSON: top-level ones in "x", a counter's or host's as an object after its known values, so
// they survive a restart without a change here. Every form written before is still read: "k", "x" and the trailing objects
// are optional, and stored keys this code does not know are ignored.
//
// The numbers that change on every poll (issue 21) can travel apart from the JSON, in
// router_state.state_counts: writing the whole JSON cost 0.21 ms of a 0.56 ms poll write with 254
// hosts (turning numbers into text is most of it), though what changes between polls is only the
// last raw counters, the totals and when each host was last seen. So the writer stores the JSON
// when anything else changed (stateLayout differs) and otherwise only these numbers, as float64
// little-endian (exact for every JS number, so for every byte count and ms time):
//   [format 1, lastAtMs (NaN: null), "k": 0 absent / 1 null / 2 a time, k's time,
//    for each row of "c": downBytes, upBytes, then for each row of "h": downBytes, upBytes, lastSeenMs]
// Format 2, when any host has an IPv6 part, adds down6Bytes, up6Bytes to every "h" row's numbers
// (0, 0 for a host without one; which hosts have one is part of the layout).
// A reader puts them over the JSON's, row by row in the JSON's order (decodeState).

import type { AccountingState } from '../domain/accounting.js';

type StoredCounter = AccountingState['counters'][string];
type StoredHost = AccountingState['hosts'][string];

type Extra = Record<string, unknown>;
type CounterRow = [ip: string, identity: string, downBytes: number, upBytes: number, extra?: Extra];
type HostRow = [
  identity: string,
  mac: string | null,
  ip: string,
  hostname: string | null,
  downBytes: number,
  upBytes: number,
  firstSeenMs: number,
  lastSeenMs: number,
  /** Only when the host has other addresses than `ip` (dual stack), or an IPv6 part; else left out. */
  addresses?: string[] | Extra,
  extra?: Extra,
  /** The IPv6 part, only when the state has one. */
  down6Bytes?: number,
  up6Bytes?: number,
];

interface StoredStateJson {
  v: 1;
  e: number;
  b: string | null;
  l: number | null;
  c: CounterRow[];
  h: HostRow[];
  p: string[];
  /** lastCountedAtMs, only when exportState wrote it. */
  k?: number | null;
  x?: Extra;
}

/** Written in their own slots; rateWindow and lastRates are left out on purpose (see above). */
const STATE_KEYS: readonly string[] = ['version', 'epoch', 'bootMarker', 'lastAtMs', 'lastCountedAtMs', 'counters', 'hosts', 'present', 'rateWindow', 'lastRates'];
const COUNTER_KEYS: readonly string[] = ['identity', 'downBytes', 'upBytes'];
const HOST_KEYS: readonly string[] = ['identity', 'mac', 'ip', 'hostname', 'downBytes', 'upBytes', 'firstSeenMs', 'lastSeenMs', 'addresses', 'down6Bytes', 'up6Bytes'];

const STATE_KEY_SET: ReadonlySet<string> = new Set(STATE_KEYS);
const COUNTER_KEY_SET: ReadonlySet<string> = new Set(COUNTER_KEYS);
const HOST_KEY_SET: ReadonlySet<string> = new Set(HOST_KEYS);

const COUNTS_FORMAT = 1;
/** Format 2: the hosts' numbers also carry their IPv6 part. */
const COUNTS_FORMAT_FAMILY = 2;
const COUNTS_HEADER = 4;
const COUNTER_NUMBERS = 2;
const HOST_NUMBERS = 3;
const HOST_NUMBERS_FAMILY = 5;
const K_ABSENT = 0;
const K_NULL = 1;
const K_TIME = 2;

function hasIpv6Part(h: StoredHost): boolean {
  return h.down6Bytes !== undefined || h.up6Bytes !== undefined;
}

/** True when a host's addresses are just its `ip` (every IPv4-only host): nothing to store. */
function isOnlyIp(addresses: readonly string[] | undefined, ip: string): boolean {
  return addresses === undefined || (addresses.length === 1 && addresses[0] === ip);
}

/** The defined fields of `record` not in `known`, or undefined when there are none (the usual case). */
function extraFields(record: object, known: ReadonlySet<string>): Extra | undefined {
  let extra: Extra | undefined;
  for (const key in record) {
    const value = (record as Extra)[key];
    if (value !== undefined && !known.has(key)) (extra ??= {})[key] = value;
  }
  return extra;
}

export function encodeState(state: AccountingState): string {
  const counters: CounterRow[] = [];
  for (const [ip, c] of Object.entries(state.counters)) {
    const row: CounterRow = [ip, c.identity, c.downBytes, c.upBytes];
    const extra = extraFields(c, COUNTER_KEY_SET);
    if (extra) row.push(extra);
    counters.push(row);
  }
  const hosts: HostRow[] = [];
  for (const h of Object.values(state.hosts)) {
    const row: HostRow = [h.identity, h.mac, h.ip, h.hostname, h.downBytes, h.upBytes, h.firstSeenMs, h.lastSeenMs];
    const extra = extraFields(h, HOST_KEY_SET);
    const hasAddresses = !isOnlyIp(h.addresses, h.ip);
    const hasFamily = hasIpv6Part(h);
    if (hasAddresses || extra || hasFamily) row.push(hasAddresses ? [...h.addresses!] : []);
    if (extra || hasFamily) row.push(extra ?? {});
    if (hasFamily) row.push(h.down6Bytes ?? 0, h.up6Bytes ?? 0);
    hosts.push(row);
  }
  const stored: StoredStateJson = { v: state.version, e: state.epoch, b: state.bootMarker, l: state.lastAtMs, c: counters, h: hosts, p: state.present };
  // `k` only when it differs from what the rest implies (accounting.ts exportState): a lantop
  // restarted while the rules are missing still names the gap from the last complete read.
  if (state.lastCountedAtMs !== undefined) stored.k = state.lastCountedAtMs;
  const extra = extraFields(state, STATE_KEY_SET);
  if (extra) stored.x = extra;
  return JSON.stringify(stored);
}

/** True when `record` has a defined field not in `known` (what extraFields would return). */
function hasExtraFields(record: object, known: ReadonlySet<string>): boolean {
  for (const key in record) if ((record as Extra)[key] !== undefined && !known.has(key)) return true;
  return false;
}

function isStorableNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** True on machines that store a float64 with its low byte first (nearly all): the counts are little-endian. */
const IS_LITTLE_ENDIAN = new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f;

export interface SplitState {
  /**
   * Everything encodeState writes but the per-poll numbers: two states with equal layouts
   * (sameLayout) have the same JSON but for those numbers.
   */
  layout: unknown[];
  /** The per-poll numbers (see the top of this file), for router_state.state_counts. */
  counts: Buffer;
}

/**
 * The state as layout + numbers, or null when it must be stored as JSON alone: it has fields the
 * codec does not know (they exist only as JSON), or a number that is not finite (JSON makes it null).
 * One pass with for…in: Object.values over a 254-key record costs more than all the rest (issue 21).
 */
export function splitState(state: AccountingState): SplitState | null {
  const k = state.lastCountedAtMs;
  if (hasExtraFields(state, STATE_KEY_SET)) return null;
  if ((state.lastAtMs !== null && !isStorableNumber(state.lastAtMs)) || (k !== undefined && k !== null && !isStorableNumber(k))) return null;
  const numbers: number[] = [COUNTS_FORMAT, state.lastAtMs ?? Number.NaN, k === undefined ? K_ABSENT : k === null ? K_NULL : K_TIME, k ?? 0];
  const layout: unknown[] = [state.version, state.epoch, state.bootMarker, 0];
  let rows = 0;
  const counters = state.counters;
  for (const ip in counters) {
    const c = counters[ip]!;
    if (hasExtraFields(c, COUNTER_KEY_SET) || !isStorableNumber(c.downBytes) || !isStorableNumber(c.upBytes)) return null;
    layout.push(ip, c.identity);
    numbers.push(c.downBytes, c.upBytes);
    rows++;
  }
  layout[3] = rows;
  const hostsAt = layout.length;
  layout.push(0);
  rows = 0;
  const hosts = state.hosts;
  let hasFamily = false;
  for (const identity in hosts) if (hasIpv6Part(hosts[identity]!)) hasFamily = true;
  if (hasFamily) numbers[0] = COUNTS_FORMAT_FAMILY;
  for (const identity in hosts) {
    const h = hosts[identity]!;
    if (hasExtraFields(h, HOST_KEY_SET) || !isStorableNumber(h.downBytes) || !isStorableNumber(h.upBytes) || !isStorableNumber(h.lastSeenMs)) return null;
    const addresses = h.addresses;
    const isFamilyRow = hasIpv6Part(h);
    layout.push(h.identity, h.mac, h.ip, h.hostname, h.firstSeenMs, addresses === undefined ? -1 : addresses.length);
    if (addresses !== undefined) for (const address of addresses) layout.push(address);
    numbers.push(h.downBytes, h.upBytes, h.lastSeenMs);
    if (hasFamily) {
      const down6 = h.down6Bytes ?? 0;
      const up6 = h.up6Bytes ?? 0;
      if (!isStorableNumber(down6) || !isStorableNumber(up6)) return null;
      // Which rows have a part decides the JSON's shape: part of the layout.
      layout.push(isFamilyRow ? 1 : 0);
      numbers.push(down6, up6);
    }
    rows++;
  }
  layout[hostsAt] = rows;
  layout.push(state.present.length);
  for (const identity of state.present) layout.push(identity);
  const counts = Buffer.from(new Float64Array(numbers).buffer);
  if (!IS_LITTLE_ENDIAN) counts.swap64();
  return { layout, counts };
}

export function sameLayout(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Puts the numbers of splitState over a state decoded from its JSON (rows in the JSON's order). */
function applyCounts(o: StoredStateJson, counts: Uint8Array): void {
  const view = new DataView(counts.buffer, counts.byteOffset, counts.byteLength);
  const format = counts.byteLength >= 8 ? view.getFloat64(0, true) : Number.NaN;
  const isFamily = format === COUNTS_FORMAT_FAMILY;
  const perHost = isFamily ? HOST_NUMBERS_FAMILY : HOST_NUMBERS;
  const expected = 8 * (COUNTS_HEADER + COUNTER_NUMBERS * o.c.length + perHost * o.h.length);
  if (counts.byteLength !== expected || (format !== COUNTS_FORMAT && !isFamily)) {
    throw new Error(`stored accounting counts do not fit the stored state (${counts.byteLength} bytes, ${expected} expected)`);
  }
  const lastAtMs = view.getFloat64(8, true);
  o.l = Number.isNaN(lastAtMs) ? null : lastAtMs;
  const k = view.getFloat64(16, true);
  if (k === K_ABSENT) delete o.k;
  else o.k = k === K_NULL ? null : view.getFloat64(24, true);
  let at = 8 * COUNTS_HEADER;
  for (const row of o.c) {
    row[2] = view.getFloat64(at, true);
    row[3] = view.getFloat64(at + 8, true);
    at += 16;
  }
  for (const row of o.h) {
    row[4] = view.getFloat64(at, true);
    row[5] = view.getFloat64(at + 8, true);
    row[7] = view.getFloat64(at + 16, true);
    if (isFamily) {
      const down6 = view.getFloat64(at + 24, true);
      const up6 = view.getFloat64(at + 32, true);
      if (row.length > 10) {
        row[10] = down6;
        row[11] = up6;
      } else if (down6 !== 0 || up6 !== 0) {
        // The layout says a row without a part has 0, 0 here: these numbers are another state's.
        throw new Error(`stored accounting counts do not fit the stored state (an IPv6 part for host ${String(row[0])}, which has none)`);
      }
    }
    at += 8 * perHost;
  }
}

/** `counts`: router_state.state_counts when the writer stored it (it overrides the JSON's numbers). */
export function decodeState(text: string, counts: Uint8Array | null = null): AccountingState {
  const o = JSON.parse(text) as StoredStateJson;
  if (counts !== null) applyCounts(o, counts);
  // Unknown fields first: a known one always comes from its own slot.
  const state: AccountingState = { ...o.x, version: o.v, epoch: o.e, bootMarker: o.b, lastAtMs: o.l, counters: {}, hosts: {}, present: o.p };
  if (o.k !== undefined) state.lastCountedAtMs = o.k;
  for (const [ip, identity, downBytes, upBytes, extra] of o.c) {
    const counter: StoredCounter = { ...extra, identity, downBytes, upBytes };
    state.counters[ip] = counter;
  }
  for (const [identity, mac, ip, hostname, downBytes, upBytes, firstSeenMs, lastSeenMs, slot8, slot9, down6Bytes, up6Bytes] of o.h) {
    // Slot 8 is the addresses (an empty list: only `ip`); an object there is the unknown fields of
    // a row written before addresses had a slot.
    const extra = Array.isArray(slot8) ? slot9 : slot8;
    const addresses = Array.isArray(slot8) && slot8.length > 0 ? slot8 : [ip];
    const host: StoredHost = { ...extra, identity, mac, ip, hostname, downBytes, upBytes, firstSeenMs, lastSeenMs, addresses };
    if (typeof down6Bytes === 'number') {
      host.down6Bytes = down6Bytes;
      host.up6Bytes = typeof up6Bytes === 'number' ? up6Bytes : 0;
    }
    state.hosts[identity] = host;
  }
  return state;
}
