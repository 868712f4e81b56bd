import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { OffloadReport } from './offload-model.js';
import { WanReconciler, type DirectionTotals } from './wan.js';
import type { WanSample } from './wan-model.js';
import { ShortfallDetector } from './wan-shortfall.js';

const MB = 1_000_000;

const totals = (downBytes: number, upBytes: number): DirectionTotals => ({ downBytes, upBytes });
const obs = (atMs: number, s: Partial<WanSample>, host: DirectionTotals, router: DirectionTotals | null) => ({
  sample: { atMs, interface: 'ppp0', rxBytes: 0, rxPackets: 0, txBytes: 0, txPackets: 0, linkHeaderBytes: 0, counterBits: 64 as const, ...s },
  hostTotals: host,
  routerCounters: router,
  atMs,
});

describe('shortfall notice', () => {
  function feed(r: WanReconciler, d: ShortfallDetector, fromS: number, toS: number, hostShare: number, state: { rx: number; host: number }, context = {}) {
    const notices = [];
    for (let s = fromS; s <= toS; s += 2) {
      state.rx += MB;
      state.host += MB * hostShare;
      r.observe(obs(s * 1000, { rxBytes: state.rx, rxPackets: state.rx / 1000 }, totals(state.host, 0), null));
      const n = d.check(r.recentWindow(), context);
      if (n) notices.push({ atS: s, ...n });
    }
    return notices;
  }

  test('one notice per sustained shortfall, not every poll; none before a minute; re-armed after recovery', () => {
    const r = new WanReconciler();
    const d = new ShortfallDetector();
    const state = { rx: 0, host: 0 };
    const offload: OffloadReport = {
      findings: [{ kind: 'openwrt-fw4-flowtable', name: 'OpenWrt software flow offloading', state: 'on', isHardware: false, evidence: 'flow_offloading=1', howToDisable: null }],
      isOn: true, warning: 'x', checkedAtMs: 0,
    };
    let notices = feed(r, d, 0, 300, 0.5, state, { offload, uncountedHosts: 2 });
    assert.equal(notices.length, 1);
    assert.equal(notices[0]?.atS, 60, 'the first poll whose window covers a minute');
    assert.equal(notices[0]?.level, 'warn');
    assert.match(notices[0]?.text ?? '', /^Only 50% of the download on ppp0 over the last minute was counted per device\. Likely cause: OpenWrt software flow offloading is on: forwarded traffic skips the per-device counters; 2 devices have no per-device counters yet; the router's own traffic/);
    // 0.92: neither short nor recovered — no notice, not re-armed.
    assert.equal(feed(r, d, 302, 600, 0.92, state).length, 0);
    assert.equal(feed(r, d, 602, 700, 0.5, state).length, 0, 'still the same shortfall');
    assert.equal(feed(r, d, 702, 900, 1, state).length, 0);
    notices = feed(r, d, 902, 1100, 0.5, state, { offload: false });
    assert.equal(notices.length, 1, 're-armed after recovering');
    assert.doesNotMatch(notices[0]?.text ?? '', /offload/);
  });

  test('below 1 MB crossed in the window: no notice; every device counted and no fast path: says so', () => {
    const d = new ShortfallDetector();
    const figures = (wan: number, host: number) => ({ wanBytes: wan, routerBytes: 0, hostBytes: host });
    assert.equal(d.check({ interface: 'ppp0', durationMs: 60_000, down: figures(MB - 1, 0), up: figures(0, 0), isRouterCounted: true }), null);
    assert.equal(d.check({ interface: 'ppp0', durationMs: 59_999, down: figures(10 * MB, 0), up: figures(0, 0), isRouterCounted: true }), null);
    const n = d.check({ interface: 'ppp0', durationMs: 60_000, down: figures(10 * MB, 9.5 * MB), up: figures(10 * MB, 5 * MB), isRouterCounted: true }, { offload: null, uncountedHosts: 0 });
    assert.deepEqual(n, { level: 'warn', text: 'Only 50% of the upload on ppp0 over the last minute was counted per device. No fast path was found and every device is counted; run `lantop doctor` to look further.' });
  });
});
