// The stored accounting state: compact, round-trips, reads every older form.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Accountant, type AccountingState } from '../domain/accounting.js';
import { decodeState, encodeState, sameLayout, splitState } from './state-codec.js';
import { IPS, MACS, T0 } from '../../test/store/history-harness.js';

test('the stored state encoding round-trips (without the rate window)', () => {
  const acct = new Accountant();
  acct.process({ atMs: T0, counters: new Map([[IPS[0] ?? '', { downBytes: 5, upBytes: 6 }]]), hosts: [{ ip: IPS[0] ?? '', mac: MACS[0] ?? null, hostname: 'n\u001b[31m' }], newAddresses: IPS, bootMarker: 'b' });
  const full = acct.exportState();
  const { rateWindow: _w, lastRates: _r, ...expected } = full;
  assert.deepEqual(decodeState(encodeState(full)), expected);
  assert.ok(encodeState(full).length < JSON.stringify(expected).length);
});

test('the last complete read survives a restart while the rules are missing (lastCountedAtMs round-trips)', () => {
  const acct = new Accountant();
  const hosts = [{ ip: IPS[0] ?? '', mac: MACS[0] ?? null, hostname: null }];
  acct.process({ atMs: T0, counters: new Map([[IPS[0] ?? '', { downBytes: 5, upBytes: 6 }]]), hosts, newAddresses: IPS, bootMarker: 'b' });
  // The firewall was rebuilt: a read without lantop's rules, then lantop is killed.
  acct.process({ atMs: T0 + 60_000, counters: new Map(), hosts, bootMarker: 'b', isInstallationComplete: false });
  const state = acct.exportState();
  assert.equal(state.lastCountedAtMs, T0, 'the state says when counting last worked');
  assert.equal(decodeState(encodeState(state)).lastCountedAtMs, T0);
});

// The compact form, as older lantops wrote it (no "k", no "x", no trailing objects).
const OLD_FORM =
  '{"v":1,"e":2,"b":"b1","l":1709510400000,"c":[["198.51.100.10","aa:bb:cc:00:00:0a",5,6]],' +
  '"h":[["aa:bb:cc:00:00:0a","aa:bb:cc:00:00:0a","198.51.100.10","tv",5,6,1709510000000,1709510400000]],"p":["aa:bb:cc:00:00:0a"]}';
const OLD_STATE: AccountingState = {
  version: 1,
  epoch: 2,
  bootMarker: 'b1',
  lastAtMs: 1709510400000,
  counters: { '198.51.100.10': { identity: 'aa:bb:cc:00:00:0a', downBytes: 5, upBytes: 6 } },
  hosts: {
    'aa:bb:cc:00:00:0a': { identity: 'aa:bb:cc:00:00:0a', mac: 'aa:bb:cc:00:00:0a', ip: '198.51.100.10', hostname: 'tv', downBytes: 5, upBytes: 6, firstSeenMs: 1709510000000, lastSeenMs: 1709510400000 },
  },
  present: ['aa:bb:cc:00:00:0a'],
};

test('a state in the old form still reads, and a state without new fields is written in it', () => {
  // A host stored without addresses has just its ip (what the accountant assumes for old states).
  const withAddresses = structuredClone(OLD_STATE);
  for (const host of Object.values(withAddresses.hosts)) host.addresses = [host.ip];
  assert.deepEqual(decodeState(OLD_FORM), withAddresses);
  assert.equal(decodeState(OLD_FORM).lastCountedAtMs, undefined);
  assert.equal(encodeState(OLD_STATE), OLD_FORM);
  // An IPv4-only host costs no bytes for its addresses: the old form is written.
  assert.equal(encodeState(withAddresses), OLD_FORM);
});

test('fields the codec does not know survive a restart as JSON; stored keys it does not know are ignored', () => {
  const host = OLD_STATE.hosts['aa:bb:cc:00:00:0a'];
  const counter = OLD_STATE.counters['198.51.100.10'];
  assert.ok(host && counter);
  const state = {
    ...OLD_STATE,
    futureTotals: { a: [1, 2] },
    counters: { '198.51.100.10': { ...counter, futureFlag: true } },
    hosts: { 'aa:bb:cc:00:00:0a': { ...host, addresses: ['198.51.100.10', '2001:db8::1'], futureNote: null } },
    lastCountedAtMs: null,
  } as AccountingState;
  assert.deepEqual(decodeState(encodeState(state)), state);
  assert.equal('z' in decodeState(OLD_FORM.replace('"v":1', '"v":1,"z":[1]')), false);
});

// The per-poll numbers apart from the JSON (issue 21).
function withNewNumbers(state: AccountingState, k: number): AccountingState {
  const next = structuredClone(state);
  next.lastAtMs = (next.lastAtMs ?? 0) + k;
  for (const c of Object.values(next.counters)) {
    c.downBytes += 1000 * k;
    c.upBytes += k;
  }
  for (const h of Object.values(next.hosts)) {
    h.downBytes += 2 ** 40 * k; // far past 32 bits: float64 keeps every safe integer
    h.upBytes += k;
    h.lastSeenMs += k;
  }
  return next;
}

test('the stored numbers replace the JSON\'s: a state whose JSON was stored earlier reads as the new one', () => {
  const dual = structuredClone(OLD_STATE);
  const host = dual.hosts['aa:bb:cc:00:00:0a'];
  assert.ok(host);
  host.addresses = ['198.51.100.10', '2001:db8::1'];
  for (const [state, k] of [[OLD_STATE, 1], [dual, 7], [{ ...OLD_STATE, lastCountedAtMs: null }, 3], [{ ...OLD_STATE, lastCountedAtMs: 1709510300000 }, 5]] as const) {
    const json = encodeState(state);
    const next = withNewNumbers(state, k);
    const split = splitState(next);
    assert.ok(split);
    const before = splitState(state);
    assert.ok(before && sameLayout(before.layout, split.layout), 'only numbers changed');
    assert.deepEqual(decodeState(json, split.counts), decodeState(encodeState(next)));
  }
  // Before the first poll: no last poll time.
  const empty: AccountingState = { version: 1, epoch: 0, bootMarker: null, lastAtMs: null, counters: {}, hosts: {}, present: [] };
  assert.deepEqual(decodeState(encodeState(empty), splitState(empty)?.counts), empty);
  // The counts are little-endian float64, format 1 first, whatever the machine.
  assert.equal(splitState(OLD_STATE)?.counts.readDoubleLE(0), 1);
  assert.equal(splitState(OLD_STATE)?.counts.readDoubleLE(8), OLD_STATE.lastAtMs);
});

test('anything but the numbers changes the layout', () => {
  const base = splitState(OLD_STATE)?.layout;
  assert.ok(base);
  const host = (patch: object): AccountingState => ({ ...OLD_STATE, hosts: { 'aa:bb:cc:00:00:0a': { ...OLD_STATE.hosts['aa:bb:cc:00:00:0a']!, ...patch } } });
  const changed: Array<[string, AccountingState]> = [
    ['epoch', { ...OLD_STATE, epoch: 3 }],
    ['boot marker', { ...OLD_STATE, bootMarker: 'b2' }],
    ['name', host({ hostname: 'tv2' })],
    ['address', host({ ip: '198.51.100.11' })],
    ['addresses', host({ addresses: ['198.51.100.10', '2001:db8::1'] })],
    ['first seen', host({ firstSeenMs: 1 })],
    ['present', { ...OLD_STATE, present: [] }],
    ['counter owner', { ...OLD_STATE, counters: { '198.51.100.10': { identity: 'ip:198.51.100.10', downBytes: 5, upBytes: 6 } } }],
    ['new counter', { ...OLD_STATE, counters: { ...OLD_STATE.counters, '198.51.100.11': { identity: 'aa:bb:cc:00:00:0a', downBytes: 0, upBytes: 0 } } }],
  ];
  for (const [what, state] of changed) {
    const layout = splitState(state)?.layout;
    assert.ok(layout, what);
    assert.equal(sameLayout(base, layout), false, what);
  }
});

test('a state with fields the codec does not know, or a number JSON cannot keep, is stored as JSON alone', () => {
  assert.equal(splitState({ ...OLD_STATE, futureTotals: 1 } as AccountingState), null);
  assert.equal(splitState({ ...OLD_STATE, counters: { '198.51.100.10': { identity: 'x', downBytes: 5, upBytes: 6, flag: true } as never } }), null);
  assert.equal(splitState({ ...OLD_STATE, lastAtMs: Number.NaN }), null);
  assert.equal(splitState({ ...OLD_STATE, counters: { '198.51.100.10': { identity: 'x', downBytes: Infinity, upBytes: 6 } } }), null);
  // Numbers that do not fit the JSON's rows are refused, not read wrongly.
  const counts = splitState(OLD_STATE)?.counts;
  assert.ok(counts);
  assert.throws(() => decodeState(encodeState({ ...OLD_STATE, counters: {} }), counts), /do not fit/);
});
