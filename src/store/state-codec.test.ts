// The stored accounting state: compact, round-trips, reads every older form.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Accountant, type AccountingState } from '../domain/accounting.js';
import { decodeState, encodeState } from './state-codec.js';
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
