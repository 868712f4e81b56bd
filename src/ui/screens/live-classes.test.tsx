// tsconfig.json excludes tests, so tsx compiles them with the classic JSX runtime: React must be in scope.
// The live screen's traffic-class line (issue 19, `setup --ports/--protocols`): the busiest classes
// under the totals row, as many as fit, with Ink drawing the lines and with the row writer
// (fake-screen.ts); the cursor keys page by the rows that remain.
import '../../../test/helpers/no-ci.js';
import React, { type ReactElement } from 'react';
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeController, host, makeSnapshot } from '../../../test/fakes/fake-controller.js';
import { cleanupTerminals, KEY, renderInTerminal, until } from '../../../test/fakes/fake-terminal.js';
import { cleanupScreens, renderOnScreen } from '../../../test/fakes/fake-screen.js';
import { classLabel, type ClassUsage } from '../../domain/class-usage.js';
import type { HostUsage } from '../../domain/snapshot.js';
import { classOfKey } from '../../domain/traffic-class.js';
import { lineText } from '../styled-line.js';
import { makeTheme, ThemeProvider } from '../theme.js';
import { busiestClasses, classesLine } from './live-classes.js';
import { liveViewportRows } from './live-lines.js';
import { LiveScreen } from './live-screen.js';
import { initialLiveState } from './use-live-state.js';

afterEach(cleanupTerminals);
afterEach(cleanupScreens);

const T0 = 1_700_000_000_000;
const PLAIN = makeTheme(false);

/** A class as ClassAccountant.view() gives it (the label from the domain's classLabel). */
function cls(key: string, downBps: number, upBps: number): ClassUsage {
  const c = classOfKey(key);
  assert.ok(c, key);
  return { key, label: classLabel(c), protocol: c.protocol, port: c.port, downBytes: downBps * 600, upBytes: upBps * 600, downBps, upBps };
}

// In classKey order as the snapshot carries them; the rates put tcp/443 first, tcp/80 (idle) last.
const CLASSES: ClassUsage[] = [cls('tcp/22', 500, 800), cls('tcp/80', 0, 0), cls('tcp/443', 1_200_000, 40_000), cls('udp', 50_000, 60_000), cls('udp/53', 2_000, 1_000), cls('udp/443', 230_000, 0)];

const text = (classes: ClassUsage[] | undefined, width: number, isFamilyView = false) => {
  const line = classesLine(makeSnapshot([], classes === undefined ? {} : { classes }), width, PLAIN, isFamilyView);
  return line === null ? null : lineText(line, false);
};

test('class line: busiest first by down + up, as many as fit with "+N more", idle ones say so; none without classes', () => {
  assert.deepEqual(busiestClasses(CLASSES).map((c) => c.key), ['tcp/443', 'udp/443', 'udp', 'udp/53', 'tcp/22', 'tcp/80']);
  // Equal rates keep the snapshot's order.
  assert.deepEqual(busiestClasses([cls('tcp/22', 0, 0), cls('tcp/80', 0, 0)]).map((c) => c.key), ['tcp/22', 'tcp/80']);
  assert.equal(text(CLASSES, 80), 'by port: tcp/443 https ↓1.20 MB/s ↑40.0 kB/s · udp/443 quic ↓230 kB/s · +4 more');
  assert.equal(text(CLASSES, 120), 'by port: tcp/443 https ↓1.20 MB/s ↑40.0 kB/s · udp/443 quic ↓230 kB/s · udp ↓50.0 kB/s ↑60.0 kB/s · +3 more');
  assert.equal(
    text(CLASSES, 200),
    'by port: tcp/443 https ↓1.20 MB/s ↑40.0 kB/s · udp/443 quic ↓230 kB/s · udp ↓50.0 kB/s ↑60.0 kB/s · udp/53 dns ↓2.00 kB/s ↑1.00 kB/s · tcp/22 ssh ↓500 B/s ↑800 B/s · tcp/80 http idle',
  );
  for (let width = 20; width <= 200; width += 1) {
    const t = text(CLASSES, width) ?? '';
    assert.ok([...t].length <= width, `fits ${width} columns: ${t}`);
    assert.ok(t.startsWith('by port: tcp/443'), `the busiest first at ${width}: ${t}`);
  }
  assert.equal(text(undefined, 80), null);
  assert.equal(text([], 80), null);
  assert.equal(classesLine(null, 80, PLAIN), null);
  // The counters are not split by family: with the IPv4 or IPv6 view on, the line says so.
  assert.match(text(CLASSES, 120, true) ?? '', /^by port \(both families\): tcp\/443 https/);
});

test('class line: labels are sanitised (escapes, controls, bidi overrides) and capped', () => {
  const hostile: ClassUsage = { ...cls('tcp/8443', 1_000, 0), label: 'tcp/8443 \u001b[2J\u001b]0;owned\u0007evil\u202e\u0007' + 'x'.repeat(200) };
  const t = text([hostile], 120) ?? '';
  assert.ok(!/[\u0000-\u001f\u007f-\u009f\u202a-\u202e]/.test(t), JSON.stringify(t));
  assert.match(t, /^by port: tcp\/8443 evilx+… ↓1\.00 kB\/s$/);
  // A label that sanitises to nothing falls back to the key.
  assert.equal(text([{ ...cls('udp/53', 0, 0), label: '\u001b[31m\u0007' }], 80), 'by port: udp/53 idle');
});

test('page size: the class line takes one table row while the snapshot has classes', () => {
  const without = liveViewportRows(30, { ...initialLiveState, snapshot: makeSnapshot([]) });
  assert.equal(liveViewportRows(30, { ...initialLiveState, snapshot: makeSnapshot([], { classes: CLASSES }) }), without - 1);
  assert.equal(liveViewportRows(30, { ...initialLiveState, snapshot: makeSnapshot([], { classes: [] }) }), without);
});

type Render = (tree: ReactElement, size: { columns?: number; rows?: number }) => ReturnType<typeof renderInTerminal> | ReturnType<typeof renderOnScreen>;
const MODES: ReadonlyArray<{ name: string; render: Render }> = [
  { name: 'Ink', render: renderInTerminal },
  { name: 'row writer', render: renderOnScreen },
];

const lines = (frame: string) => frame.split('\n');
const tableRows = (frame: string) => lines(frame).filter((l) => /^[❯ ][▶ ] \S/.test(l) && !/^ {3}(NAME|TOTAL)/.test(l));
const selectedName = (frame: string) => tableRows(frame).find((l) => l.startsWith('❯'))?.slice(3).split(/\s{2,}/)[0];
/** The line right under the totals row. */
const underTotals = (frame: string) => {
  const all = lines(frame);
  return all[all.findIndex((l) => /^ {3}TOTAL \(/.test(l)) + 1] ?? '';
};

const family = [
  host('198.51.100.10', { hostname: 'laptop', downBps: 2_500_000, upBps: 40_000, downBytes: 5_000_000_000, upBytes: 100_000_000 }),
  host('198.51.100.11', { hostname: 'tv', downBps: 500_000, upBps: 900_000, downBytes: 1_000_000, upBytes: 900_000_000 }),
];

function mount(render: Render, fake: FakeController, size: { columns: number; rows: number }) {
  return render(
    <ThemeProvider isColor={false}>
      <LiveScreen controller={fake} now={() => T0 + 1_000} isInputActive onBack={() => undefined} />
    </ThemeProvider>,
    size,
  );
}

for (const mode of MODES) {
  for (const columns of [80, 120]) {
    test(`live usage (${mode.name}, ${columns} columns): the busiest classes under the totals row, cut with "+N more"; gone without classes`, async () => {
      const fake = new FakeController().expectWatch();
      const t = mount(mode.render, fake, { columns, rows: 16 });
      await until(() => fake.activeWatches === 1, 'the screen to subscribe');
      fake.emit(makeSnapshot(family, { atMs: T0, classes: CLASSES }));
      let frame = await t.waitFor('by port:');
      const line = underTotals(frame);
      assert.equal(line, text(CLASSES, columns), `under the totals row:\n${frame}`);
      assert.match(line, columns === 80 ? / · \+4 more$/ : / · udp ↓50\.0 kB\/s ↑60\.0 kB\/s · \+3 more$/);
      for (const l of lines(frame)) assert.ok([...l].length <= columns, `fits ${columns} columns: ${l}`);
      assert.ok(lines(frame).length <= 16, 'fits the terminal');
      assert.equal(tableRows(frame).length, 2);

      // All idle: the line stays (the table does not move as traffic comes and goes).
      fake.emit(makeSnapshot(family, { atMs: T0 + 1_000, classes: CLASSES.map((c) => ({ ...c, downBps: 0, upBps: 0 })) }));
      frame = await t.waitFor((f) => f.includes('by port: tcp/22 ssh idle'));
      assert.match(underTotals(frame), /^by port: tcp\/22 ssh idle · tcp\/80 http idle · /);

      // Classes removed (`setup` without --ports): no line, nothing left behind by the row writer.
      fake.emit(makeSnapshot(family, { atMs: T0 + 2_000 }));
      frame = await t.waitFor((f) => !f.includes('by port') && f.includes('TOTAL (2)'));
      assert.ok(!/tcp\/443|idle/.test(frame), frame);
      assert.equal(tableRows(frame).length, 2);
      t.unmount();
      fake.verify();
    });
  }

  test(`live usage (${mode.name}): with the class line, the cursor pages by one row less and never leaves the screen`, async () => {
    const fake = new FakeController().expectWatch();
    const rows = 24;
    const t = mount(mode.render, fake, { columns: 100, rows });
    await until(() => fake.activeWatches === 1, 'the screen to subscribe');
    const hosts: HostUsage[] = Array.from({ length: 100 }, (_, i) => host(`198.51.100.${i + 1}`, { hostname: `host-${String(i + 1).padStart(3, '0')}`, downBps: (100 - i) * 1000 }));
    const name = (n: number) => `host-${String(n).padStart(3, '0')}`;
    fake.emit(makeSnapshot(hosts, { atMs: T0 }));
    let frame = await t.waitFor('host-001');
    const full = tableRows(frame).length;

    fake.emit(makeSnapshot(hosts, { atMs: T0 + 1_000, classes: CLASSES }));
    frame = await t.waitFor('by port:');
    const viewport = tableRows(frame).length;
    assert.equal(viewport, full - 1, 'the line takes one table row');
    assert.ok(lines(frame).length < rows, `fits the ${rows}-row terminal:\n${frame}`);
    assert.match(frame, new RegExp(`rows 1–${viewport} of 100`));
    assert.match(underTotals(frame), /^by port: tcp\/443 https/);
    // To the last row shown: the page stays; one more scrolls by one row.
    for (let i = 0; i < viewport - 1; i += 1) await t.press(KEY.down);
    frame = await t.waitFor((f) => selectedName(f) === name(viewport));
    assert.match(frame, new RegExp(`rows 1–${viewport} of 100`));
    await t.press(KEY.down);
    frame = await t.waitFor(`rows 2–${viewport + 1} of 100`);
    assert.equal(tableRows(frame).at(-1)?.startsWith('❯'), true, 'the cursor on the last row shown');
    await t.press(KEY.pageDown);
    frame = await t.waitFor((f) => selectedName(f) === name(viewport + 1 + viewport - 1));
    assert.equal(tableRows(frame).at(-1)?.startsWith('❯'), true);
    await t.press(KEY.end);
    frame = await t.waitFor(`rows ${101 - viewport}–100 of 100`);
    assert.equal(selectedName(frame), 'host-100');
    assert.match(underTotals(frame), /^by port: /);
    assert.ok(lines(frame).length < rows, 'still fits');
    t.unmount();
    fake.verify();
  });
}
