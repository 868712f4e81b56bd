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
// host row's ninth value. Fields the codec does not know (accounting.ts may add some) are kept as
// plain JSON: top-level ones in "x", a counter's or host's as an object after its known values, so
// they survive a restart without a change here. Every form written before is still read: "k", "x" and the trailing objects
// are optional, and stored keys this code does not know are ignored.

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
  /** Only when the host has other addresses than `ip` (dual stack); else left out. */
  addresses?: string[] | Extra,
  extra?: Extra,
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
const HOST_KEYS: readonly string[] = ['identity', 'mac', 'ip', 'hostname', 'downBytes', 'upBytes', 'firstSeenMs', 'lastSeenMs', 'addresses'];

/** True when a host's addresses are just its `ip` (every IPv4-only host): nothing to store. */
function isOnlyIp(addresses: readonly string[] | undefined, ip: string): boolean {
  return addresses === undefined || (addresses.length === 1 && addresses[0] === ip);
}

/** The defined fields of `record` not in `known`, or undefined when there are none (the usual case). */
function extraFields(record: object, known: readonly string[]): Extra | undefined {
  let extra: Extra | undefined;
  for (const key in record) {
    const value = (record as Extra)[key];
    if (value !== undefined && !known.includes(key)) (extra ??= {})[key] = value;
  }
  return extra;
}

export function encodeState(state: AccountingState): string {
  const counters: CounterRow[] = [];
  for (const [ip, c] of Object.entries(state.counters)) {
    const row: CounterRow = [ip, c.identity, c.downBytes, c.upBytes];
    const extra = extraFields(c, COUNTER_KEYS);
    if (extra) row.push(extra);
    counters.push(row);
  }
  const hosts: HostRow[] = [];
  for (const h of Object.values(state.hosts)) {
    const row: HostRow = [h.identity, h.mac, h.ip, h.hostname, h.downBytes, h.upBytes, h.firstSeenMs, h.lastSeenMs];
    const extra = extraFields(h, HOST_KEYS);
    const hasAddresses = !isOnlyIp(h.addresses, h.ip);
    if (hasAddresses || extra) row.push(hasAddresses ? [...h.addresses!] : []);
    if (extra) row.push(extra);
    hosts.push(row);
  }
  const stored: StoredStateJson = { v: state.version, e: state.epoch, b: state.bootMarker, l: state.lastAtMs, c: counters, h: hosts, p: state.present };
  // `k` only when it differs from what the rest implies (accounting.ts exportState): a lantop
  // restarted while the rules are missing still names the gap from the last complete read.
  if (state.lastCountedAtMs !== undefined) stored.k = state.lastCountedAtMs;
  const extra = extraFields(state, STATE_KEYS);
  if (extra) stored.x = extra;
  return JSON.stringify(stored);
}

export function decodeState(text: string): AccountingState {
  const o = JSON.parse(text) as StoredStateJson;
  // Unknown fields first: a known one always comes from its own slot.
  const state: AccountingState = { ...o.x, version: o.v, epoch: o.e, bootMarker: o.b, lastAtMs: o.l, counters: {}, hosts: {}, present: o.p };
  if (o.k !== undefined) state.lastCountedAtMs = o.k;
  for (const [ip, identity, downBytes, upBytes, extra] of o.c) {
    const counter: StoredCounter = { ...extra, identity, downBytes, upBytes };
    state.counters[ip] = counter;
  }
  for (const [identity, mac, ip, hostname, downBytes, upBytes, firstSeenMs, lastSeenMs, slot8, slot9] of o.h) {
    // Slot 8 is the addresses (an empty list: only `ip`); an object there is the unknown fields of
    // a row written before addresses had a slot.
    const extra = Array.isArray(slot8) ? slot9 : slot8;
    const addresses = Array.isArray(slot8) && slot8.length > 0 ? slot8 : [ip];
    const host: StoredHost = { ...extra, identity, mac, ip, hostname, downBytes, upBytes, firstSeenMs, lastSeenMs, addresses };
    state.hosts[identity] = host;
  }
  return state;
}
