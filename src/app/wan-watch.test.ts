import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WanWatch } from './wan-watch.js';
import type { Snapshot } from '../domain/snapshot.js';
import type { WanSample } from '../domain/wan-model.js';
import type { OffloadReport } from '../domain/offload-model.js';

function snapshot(atMs: number, downBytes: number, upBytes: number, uncounted = 0): Snapshot {
  const hosts = [
    { identity: '02:00:00:00:00:0a', ip: '198.51.100.10', addresses: ['198.51.100.10'], mac: '02:00:00:00:00:0a', hostname: 'h1', downBytes, upBytes, downBps: 0, upBps: 0, downShare: 1, upShare: 1, isCounted: true },
    ...Array.from({ length: uncounted }, (_, i) => ({ identity: `02:00:00:00:01:0${i}`, ip: `198.51.100.2${i}`, addresses: [`198.51.100.2${i}`], mac: null, hostname: null, downBytes: 0, upBytes: 0, downBps: 0, upBps: 0, downShare: 0, upShare: 0, isCounted: false })),
  ];
  return { schema: 1, router: 'r', atMs, hosts, totals: { downBytes, upBytes, downBps: 0, upBps: 0 }, pollLatencyMs: 5, connection: { kind: 'connected' }, notices: [] };
}

function sample(atMs: number, rx: number, rxPackets: number, tx: number, txPackets: number): WanSample {
  return { atMs, interface: 'ppp0', rxBytes: rx, rxPackets, txBytes: tx, txPackets, linkHeaderBytes: 0, counterBits: 64 };
}

const OFFLOAD_ON: OffloadReport = {
  findings: [{ kind: 'broadcom-fcache', name: 'Broadcom flow cache (fcctl)', state: 'on', isHardware: null, evidence: 'Flow Learning Enabled', howToDisable: 'fcctl disable' }],
  isOn: true, warning: 'per-device counters miss offloaded packets', checkedAtMs: 0,
};

test('every poll: WAN minus the router against the per-device totals; the view and the offload report on every snapshot', () => {
  const client = { lastWanSample: null as WanSample | null, lastRouterCounters: { downBytes: 0, upBytes: 0 } as { downBytes: number; upBytes: number } | null, offload: null as OffloadReport | null };
  const watch = new WanWatch({ routerKey: 'r', client, store: null });
  // 10 MB down over 2 s, 1 MB of it the router's own; the hosts saw the other 9 MB.
  client.lastWanSample = sample(1000, 0, 0, 0, 0);
  watch.afterPoll(snapshot(1000, 0, 0), true);
  client.lastWanSample = sample(3000, 10_000_000, 7000, 2_000_000, 3000);
  client.lastRouterCounters = { downBytes: 1_000_000, upBytes: 0 };
  const s = snapshot(3000, 9_000_000, 2_000_000);
  watch.afterPoll(s, true);
  const out = watch.decorate(s);
  assert.equal(out.wan?.downBytes, 10_000_000);
  assert.equal(out.wan?.routerDownBytes, 1_000_000);
  assert.equal(out.wan?.accountedShare.down, 1);
  assert.equal(out.wan?.accountedShare.up, 1);
  assert.equal(out.offload, null);
  // The same snapshot again (a frame re-rendered) is not a new observation.
  watch.afterPoll(s, true);
  assert.equal(watch.decorate(s).wan?.downBytes, 10_000_000);
});

test('a sustained shortfall with offload on: one notice naming the fast path, not one per poll', () => {
  const client = { lastWanSample: null as WanSample | null, lastRouterCounters: { downBytes: 0, upBytes: 0 }, offload: OFFLOAD_ON };
  const watch = new WanWatch({ routerKey: 'r', client, store: null });
  let last: Snapshot | null = null;
  for (let i = 0; i <= 40; i++) {
    const atMs = 1000 + i * 2000;
    // 1 MB a poll down the WAN; the per-device counters see 5 % of it.
    client.lastWanSample = sample(atMs, i * 1_000_000, i * 700, i * 50_000, i * 500);
    last = snapshot(atMs, i * 50_000, i * 50_000);
    watch.afterPoll(last, true);
  }
  const out = watch.decorate(last!);
  assert.ok(out.wan!.recentAccountedShare.down! < 0.06);
  const notices = out.notices.filter((n) => /counted per device/.test(n.text));
  assert.equal(notices.length, 1);
  assert.match(notices[0]!.text, /Broadcom flow cache/);
  assert.equal(out.offload, OFFLOAD_ON);
});

test('no WAN read (a router without a shell, or --wan wrong): no view, nothing invented', () => {
  const watch = new WanWatch({ routerKey: 'r', client: { lastWanSample: null, lastRouterCounters: null, offload: null }, store: null });
  const s = snapshot(1000, 5, 5);
  watch.afterPoll(s, true);
  assert.equal(watch.decorate(s).wan, null);
});
