// tsconfig.json excludes tests, so tsx compiles them with the classic JSX runtime: React must be in scope.
// The live screen's word on the numbers (issue 19): the WAN's accounted share on the totals row, and
// a warning line that stays while a fast path skips the counters — with Ink drawing the lines and
// with the row writer (fake-screen.ts).
import '../../../test/helpers/no-ci.js';
import React, { type ReactElement } from 'react';
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeController, host, makeSnapshot } from '../../../test/fakes/fake-controller.js';
import { cleanupTerminals, renderInTerminal, until } from '../../../test/fakes/fake-terminal.js';
import { cleanupScreens, renderOnScreen } from '../../../test/fakes/fake-screen.js';
import type { OffloadReport } from '../../domain/offload-model.js';
import type { WanView } from '../../domain/wan-model.js';
import { ThemeProvider } from '../theme.js';
import { LiveScreen } from './live-screen.js';
import { accountedText, offloadWarningText } from './live-wan.js';

afterEach(cleanupTerminals);
afterEach(cleanupScreens);

const T0 = 1_700_000_000_000;

const wan = (recent: WanView['recentAccountedShare'], overall: WanView['accountedShare'] = { down: null, up: null }): WanView => ({
  interface: 'eth0',
  downBytes: 1e9,
  upBytes: 1e8,
  routerDownBytes: 0,
  routerUpBytes: 0,
  hostDownBytes: 9.7e8,
  hostUpBytes: 9.9e7,
  accountedShare: overall,
  recentAccountedShare: recent,
  sinceMs: T0 - 600_000,
});

const offload = (fields: Partial<OffloadReport> = {}): OffloadReport => ({
  findings: [
    { kind: 'flowtable', name: 'Linux software flow offloading (flowtable)', state: 'off', isHardware: null, evidence: 'none', howToDisable: null },
    { kind: 'openwrt-fw4-flowtable', name: 'OpenWrt software flow offloading', state: 'on', isHardware: false, evidence: "flow_offloading '1'", howToDisable: "uci set firewall.@defaults[0].flow_offloading='0'" },
  ],
  isOn: true,
  warning: 'Flow offloading is on: established connections skip the counters, so devices read low.',
  checkedAtMs: T0,
  ...fields,
});

test('accounted text: the last minute per direction, else since the start; floored; hidden when neither is known', () => {
  const snap = (w: WanView | null | undefined) => makeSnapshot([], { wan: w });
  assert.equal(accountedText(snap(wan({ down: 0.976, up: 0.999 }))), 'accounted ↓97% ↑99%');
  assert.equal(accountedText(snap(wan({ down: null, up: 0.5 }, { down: 0.8, up: 0.9 }))), 'accounted ↓80% ↑50%');
  assert.equal(accountedText(snap(wan({ down: null, up: null }, { down: 1, up: null }))), 'accounted ↓100% ↑–');
  assert.equal(accountedText(snap(wan({ down: null, up: null }))), '');
  assert.equal(accountedText(snap(null)), '');
  assert.equal(accountedText(snap(undefined)), '');
  assert.equal(accountedText(null), '');
});

test('offload warning: the report\'s warning and the first finding that is on, sanitised; none while nothing is on', () => {
  assert.equal(offloadWarningText(makeSnapshot([], { offload: offload() })), '⚠ OpenWrt software flow offloading: Flow offloading is on: established connections skip the counters, so devices read low.');
  assert.equal(offloadWarningText(makeSnapshot([], { offload: offload({ isOn: false, warning: null }) })), null);
  assert.equal(offloadWarningText(makeSnapshot([], { offload: null })), null);
  assert.equal(offloadWarningText(makeSnapshot([])), null);
  const hostile = offloadWarningText(makeSnapshot([], { offload: offload({ warning: 'fast\u001b[2J path\u0007', findings: [{ kind: 'broadcom-fcache', name: 'fc\u001b]0;x\u0007ctl', state: 'on', isHardware: null, evidence: '', howToDisable: null }] }) }));
  assert.equal(hostile, '⚠ fcctl: fast path');
  assert.match(offloadWarningText(makeSnapshot([], { offload: offload({ warning: null }) })) ?? '', /^⚠ OpenWrt software flow offloading: A fast path on the router skips the firewall counters/);
});

type Render = (tree: ReactElement, size: { columns?: number; rows?: number }) => ReturnType<typeof renderInTerminal> | ReturnType<typeof renderOnScreen>;
const MODES: ReadonlyArray<{ name: string; render: Render }> = [
  { name: 'Ink', render: renderInTerminal },
  { name: 'row writer', render: renderOnScreen },
];

const family = [
  host('198.51.100.10', { hostname: 'laptop', downBps: 2_500_000, upBps: 40_000, downBytes: 5_000_000_000, upBytes: 100_000_000 }),
  host('198.51.100.11', { hostname: 'tv', downBps: 500_000, upBps: 900_000, downBytes: 1_000_000, upBytes: 900_000_000 }),
];

for (const mode of MODES) {
  test(`live usage (${mode.name}): the totals row says how much of the WAN was accounted; the offload warning stays while on, and goes`, async () => {
    const fake = new FakeController().expectWatch();
    const t = mode.render(
      <ThemeProvider isColor={false}>
        <LiveScreen controller={fake} now={() => T0 + 1_000} isInputActive onBack={() => undefined} />
      </ThemeProvider>,
      { columns: 80, rows: 16 },
    );
    await until(() => fake.activeWatches === 1, 'the screen to subscribe');
    fake.emit(makeSnapshot(family, { atMs: T0, wan: wan({ down: 0.972, up: 0.991 }) }));
    let frame = await t.waitFor('TOTAL (2)');
    // Beside the label, over the totals row's empty IP cell; the rates stay in their columns.
    assert.match(frame, /^ {3}TOTAL \(2\) {2}accounted ↓97% ↑99%\s+3\.00 MB\/s\s+940 kB\/s\s+5\.00 GB$/m);
    const header = frame.split('\n').find((l) => l.includes('NAME')) ?? '';
    const total = frame.split('\n').find((l) => l.includes('TOTAL (2)')) ?? '';
    assert.equal(total.indexOf('3.00 MB/s') + '3.00 MB/s'.length, header.indexOf('↓RATE▼') + '↓RATE▼'.length, 'the ↓ rate right-aligned under its header');
    assert.ok(!frame.includes('⚠'), 'no warning while nothing is offloaded');
    const rowsBefore = frame.split('\n').filter((l) => /^[❯ ][▶ ] \S/.test(l)).length;

    fake.emit(makeSnapshot(family, { atMs: T0 + 1_000, wan: wan({ down: null, up: null }), offload: offload() }));
    frame = await t.waitFor('⚠ OpenWrt software flow offloading');
    // Under the status lines: the finding's name first, the sentence cut at the edge, never wrapped.
    assert.match(frame.split('\n')[3] ?? '', /^⚠ OpenWrt software flow offloading: Flow offloading is on: established connecti…$/);
    assert.ok(!frame.includes('accounted'), 'no share while none is known');
    for (const line of frame.split('\n')) assert.ok([...line].length <= 80, `fits 80 columns: ${line}`);
    assert.ok(frame.split('\n').length <= 16, 'the warning takes a row from the table, not from the terminal');
    // A notice in the notice line does not push the warning away; the next poll keeps it.
    fake.emit(makeSnapshot(family, { atMs: T0 + 2_000, offload: offload(), notices: [{ atMs: T0 + 2_000, level: 'info', text: 'router counters were reset' }] }));
    frame = await t.waitFor('router counters were reset');
    assert.match(frame, /⚠ OpenWrt software flow offloading/);

    fake.emit(makeSnapshot(family, { atMs: T0 + 3_000, offload: offload({ isOn: false, warning: null }) }));
    frame = await t.waitFor((f) => !f.includes('flow offloading') && f.includes('TOTAL (2)'));
    assert.equal(frame.split('\n').filter((l) => /^[❯ ][▶ ] \S/.test(l)).length, rowsBefore);
    t.unmount();
    fake.verify();
  });
}
