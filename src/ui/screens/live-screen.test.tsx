// tsconfig.json excludes tests, so tsx compiles them with the classic JSX runtime: React must be in scope.
// Every test runs twice: with Ink drawing the lines (tests, no alternate screen) and with the row
// writer drawing them beside Ink as runApp does (read off an emulated screen: fake-screen.ts).
import '../../../test/helpers/no-ci.js';
import React, { type ReactElement } from 'react';
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeController, host, makeSnapshot } from '../../../test/fakes/fake-controller.js';
import { cleanupTerminals, KEY, renderInTerminal, until } from '../../../test/fakes/fake-terminal.js';
import { cleanupScreens, renderOnScreen } from '../../../test/fakes/fake-screen.js';
import { ThemeProvider } from '../theme.js';
import { LiveScreen } from './live-screen.js';
import type { HostUsage } from '../../domain/snapshot.js';

afterEach(cleanupTerminals);
afterEach(cleanupScreens);

const T0 = 1_700_000_000_000;

type Render = (tree: ReactElement, size: { columns?: number; rows?: number }) => ReturnType<typeof renderInTerminal> | ReturnType<typeof renderOnScreen>;
const MODES: ReadonlyArray<{ name: string; render: Render }> = [
  { name: 'Ink', render: renderInTerminal },
  { name: 'row writer', render: renderOnScreen },
];

function mountWith(render: Render, fake: FakeController, size: { columns?: number; rows?: number } = {}, now = () => T0 + 3_000) {
  let backs = 0;
  const t = render(
    <ThemeProvider isColor={false}>
      <LiveScreen controller={fake} now={now} isInputActive onBack={() => (backs += 1)} />
    </ThemeProvider>,
    size,
  );
  return { t, backs: () => backs };
}

const lines = (frame: string) => frame.split('\n');
/** Table rows (the mark column first: cursor ❯ and top talker ▶, or spaces), without the header and totals. */
const tableRows = (frame: string) => lines(frame).filter((l) => /^[❯ ][▶ ] \S/.test(l) && !/^ {3}(NAME|TOTAL)/.test(l));
/** The first word of each table row: the name column. */
const rowNames = (frame: string) => tableRows(frame).map((l) => l.slice(3).split(/\s{2,}/)[0]);
/** The name on the cursor's row. */
const selectedName = (frame: string) => tableRows(frame).find((l) => l.startsWith('❯'))?.slice(3).split(/\s{2,}/)[0];

const family = [
  host('198.51.100.10', { hostname: 'laptop', mac: '02:00:00:00:00:10', downBps: 2_500_000, upBps: 40_000, downBytes: 5_000_000_000, upBytes: 100_000_000 }),
  host('198.51.100.11', { hostname: 'tv', downBps: 500_000, upBps: 900_000, downBytes: 1_000_000, upBytes: 900_000_000 }),
  host('198.51.100.12', { hostname: null, downBps: 0, upBps: 0, downBytes: 42_000, upBytes: 1_000 }),
];

for (const mode of MODES) {
  const mount = (fake: FakeController, size?: { columns?: number; rows?: number }, now?: () => number) => mountWith(mode.render, fake, size, now);

  test(`live usage (${mode.name}): subscribes on mount, shows rates, totals, shares, totals row and the top talker; stops on unmount`, async () => {
    const fake = new FakeController().expectWatch();
    const { t } = mount(fake, { columns: 160, rows: 30 });
    await t.waitFor('Waiting for the first poll');
    await until(() => fake.activeWatches === 1, 'the screen to subscribe');
    fake.emit(makeSnapshot(family, { atMs: T0 }));
    const frame = await t.waitFor('laptop');
    assert.match(frame, /NAME\s+IP\s+↓RATE▼\s+↑RATE\s+↓TOTAL\s+↑TOTAL\s+↓%\s+↑%\s+SHARE\s+LAST MINUTE/);
    const laptop = tableRows(frame).find((l) => l.includes('laptop')) ?? '';
    assert.match(laptop, /^❯▶ laptop\s+198\.51\.100\.10\s+2\.50 MB\/s\s+40\.0 kB\/s\s+5\.00 GB\s+100 MB\s+83\.3%\s+4\.3%\s+█/);
    assert.match(frame, /\(no name\)\s+198\.51\.100\.12\s+0 B\/s/);
    assert.match(frame, /TOTAL \(3\)\s+3\.00 MB\/s\s+940 kB\/s\s+5\.00 GB\s+1\.00 GB/);
    assert.match(frame, /3 hosts · sorted by ↓ rate · top talker ▶ laptop/);
    assert.match(frame, /198\.51\.100\.1 over telnet · polled 3\.0 s ago in 42 ms · ● connected/);
    assert.equal(lines(frame).filter((l) => /^.▶/.test(l)).length, 1);
    assert.equal(lines(frame).filter((l) => l.startsWith('❯')).length, 1, 'one cursor, on the first row');
    t.unmount();
    await until(() => fake.activeWatches === 0, 'unmounting to stop polling');
    assert.equal(fake.stoppedWatches, 1);
    fake.verify();
  });

  test(`live usage (${mode.name}): d/u/t/n sort the rows; q and Esc go back`, async () => {
    const fake = new FakeController().expectWatch();
    const { t, backs } = mount(fake, { columns: 120, rows: 30 });
    await t.waitFor('Waiting');
    await until(() => fake.activeWatches === 1, 'the screen to subscribe');
    fake.emit(makeSnapshot(family, { atMs: T0 }));
    const byName = rowNames;
    assert.deepEqual(byName(await t.waitFor('laptop')), ['laptop', 'tv', '(no name)']);
    await t.press('u');
    assert.deepEqual(byName(await t.waitFor('↑RATE▼')), ['tv', 'laptop', '(no name)']);
    await t.press('t');
    assert.deepEqual(byName(await t.waitFor('sorted by total traffic')), ['laptop', 'tv', '(no name)']);
    await t.press('n');
    const byNameFrame = await t.waitFor('NAME▲');
    assert.deepEqual(byName(byNameFrame), ['laptop', 'tv', '(no name)']);
    await t.press('d');
    assert.deepEqual(byName(await t.waitFor('↓RATE▼')), ['laptop', 'tv', '(no name)']);
    await t.press('q');
    await t.press(KEY.escape);
    assert.equal(backs(), 2);
    t.unmount();
    fake.verify();
  });

  test(`live usage (${mode.name}): 300 hosts: the cursor moves by row, page, Home and End, the view follows it, and the frame never outgrows the terminal`, async () => {
    const fake = new FakeController().expectWatch();
    const { t } = mount(fake, { columns: 100, rows: 30 });
    await t.waitFor('Waiting');
    await until(() => fake.activeWatches === 1, 'the screen to subscribe');
    // Distinct rates so the ↓ order is known: host-001 is busiest.
    const hosts: HostUsage[] = Array.from({ length: 300 }, (_, i) =>
      host(`198.51.${100 + Math.floor((i + 1) / 250)}.${((i + 1) % 250) + 1}`, { hostname: `host-${String(i + 1).padStart(3, '0')}`, downBps: (300 - i) * 1000 }),
    );
    const name = (n: number) => `host-${String(n).padStart(3, '0')}`;
    fake.emit(makeSnapshot(hosts, { atMs: T0 }));
    let frame = await t.waitFor('host-001');
    const viewport = tableRows(frame).length;
    assert.ok(viewport >= 10 && viewport < 30, `viewport of ${viewport} rows`);
    assert.ok(lines(frame).length < 30, 'fits the 30-row terminal');
    assert.match(frame, new RegExp(`rows 1–${viewport} of 300`));
    assert.equal(selectedName(frame), 'host-001');
    // ↓ and j move the cursor within the page; the page stays.
    await t.press(KEY.down, 'j');
    frame = await t.waitFor((f) => selectedName(f) === 'host-003');
    assert.match(frame, new RegExp(`rows 1–${viewport} of 300`));
    await t.press('k');
    frame = await t.waitFor((f) => selectedName(f) === 'host-002');
    // Past the last row shown, the view scrolls one row.
    for (let i = 0; i < viewport - 1; i += 1) await t.press(KEY.down);
    frame = await t.waitFor(`rows 2–${viewport + 1} of 300`);
    assert.equal(selectedName(frame), name(viewport + 1));
    assert.deepEqual([rowNames(frame)[0], rowNames(frame).at(-1)], ['host-002', name(viewport + 1)]);
    await t.press(KEY.pageDown);
    frame = await t.waitFor((f) => selectedName(f) === name(viewport + 1 + viewport - 1));
    assert.equal(rowNames(frame)[0], name(2 + viewport - 1));
    await t.press(KEY.end);
    frame = await t.waitFor(`rows ${301 - viewport}–300 of 300`);
    assert.equal(rowNames(frame).at(-1), 'host-300');
    assert.equal(selectedName(frame), 'host-300');
    await t.press(KEY.pageUp);
    frame = await t.waitFor(`rows ${301 - viewport - (viewport - 1)}–`);
    assert.equal(selectedName(frame), name(300 - (viewport - 1)));
    await t.press(KEY.home);
    frame = await t.waitFor(`rows 1–${viewport} of 300`);
    assert.equal(rowNames(frame)[0], 'host-001');
    assert.equal(selectedName(frame), 'host-001');
    assert.match(frame, /TOTAL \(300\)/);
    assert.ok(lines(frame).length < 30, 'still fits the 30-row terminal');
    t.unmount();
    fake.verify();
  });

  test(`live usage (${mode.name}): the cursor follows its device through re-sorts and polls, off screen too; Enter opens that device`, async () => {
    const fake = new FakeController().expectWatch();
    const opened: Array<{ identity: string; name: string }> = [];
    const t = mode.render(
      <ThemeProvider isColor={false}>
        <LiveScreen controller={fake} now={() => T0 + 3_000} isInputActive onBack={() => undefined} onOpenConnections={(d) => opened.push(d)} />
      </ThemeProvider>,
      { columns: 100, rows: 14 },
    );
    await t.waitFor('Waiting');
    await until(() => fake.activeWatches === 1, 'the screen to subscribe');
    const many = (busiest: number) =>
      Array.from({ length: 40 }, (_, i) => host(`198.51.100.${i + 10}`, { hostname: `dev-${String(i).padStart(2, '0')}`, mac: `02:00:00:00:01:${String(i).padStart(2, '0')}`, downBps: i === busiest ? 9_000_000 : 1000 * (40 - i) }));
    fake.emit(makeSnapshot(many(-1), { atMs: T0 }));
    let frame = await t.waitFor('dev-00');
    await t.press(KEY.down, KEY.down);
    frame = await t.waitFor((f) => selectedName(f) === 'dev-02');
    // dev-02 becomes the busiest: it moves to the top and the cursor goes with it.
    fake.emit(makeSnapshot(many(2), { atMs: T0 + 1_000 }));
    frame = await t.waitFor((f) => rowNames(f)[0] === 'dev-02');
    assert.equal(selectedName(frame), 'dev-02');
    // Sorted by name: dev-02 stays selected and in view.
    await t.press('n');
    frame = await t.waitFor('NAME▲');
    assert.equal(selectedName(frame), 'dev-02');
    await t.press(KEY.end);
    frame = await t.waitFor((f) => selectedName(f) === 'dev-39');
    // The sort brings dev-39 (least busy) far down; the view follows it there.
    await t.press('d');
    frame = await t.waitFor('↓RATE▼');
    assert.equal(selectedName(frame), 'dev-39');
    assert.equal(rowNames(frame).at(-1), 'dev-39');
    await t.press(KEY.enter);
    await until(() => opened.length === 1, 'Enter to open the connections');
    assert.deepEqual(opened, [{ identity: '02:00:00:00:01:39', name: 'dev-39' }]);
    t.unmount();
    fake.verify();
  });

  test(`live usage (${mode.name}): a 60-column terminal drops sparkline, bar, totals and IP but keeps name and both rates; resizes re-flow`, async () => {
    const fake = new FakeController().expectWatch();
    const { t } = mount(fake, { columns: 160, rows: 30 });
    await t.waitFor('Waiting');
    await until(() => fake.activeWatches === 1, 'the screen to subscribe');
    fake.emit(makeSnapshot(family, { atMs: T0 }));
    let frame = await t.waitFor('LAST MINUTE');
    t.stdout.resize(60, 30);
    frame = await t.waitFor((f) => /NAME\s+↓RATE/.test(f));
    const header = lines(frame).find((l) => l.includes('NAME')) ?? '';
    for (const gone of ['SHARE', '↓TOTAL', '↑TOTAL', 'IP', 'LAST MINUTE']) assert.ok(!header.split(/\s+/).includes(gone), `${gone} dropped from ${header}`);
    assert.match(frame, /NAME\s+↓RATE▼\s+↑RATE\s+↓%\s+↑%/);
    assert.match(frame, /▶ laptop\s+2\.50 MB\/s\s+40\.0 kB\/s/);
    // Without an IP column a nameless host is shown by its address.
    assert.match(frame, /198\.51\.100\.12\s+0 B\/s/);
    for (const line of lines(frame)) assert.ok([...line].length <= 60, `line fits 60 columns: ${JSON.stringify(line)}`);
    t.stdout.resize(160, 30);
    await t.waitFor('LAST MINUTE');
    t.unmount();
    fake.verify();
  });

  test(`live usage (${mode.name}): hostile hostnames never reach the terminal raw and never outgrow their column`, async () => {
    const fake = new FakeController().expectWatch();
    const { t } = mount(fake, { columns: 100, rows: 30 });
    await t.waitFor('Waiting');
    await until(() => fake.activeWatches === 1, 'the screen to subscribe');
    const hostile = [
      host('198.51.100.20', { hostname: '\u001b[2J\u001b[31mred\u001b[0m', downBps: 10 }),
      host('198.51.100.21', { hostname: '\u001b]0;pwned\u0007title', downBps: 9 }),
      host('198.51.100.22', { hostname: 'bell\u0007\r\nnewline\u0008', downBps: 8 }),
      host('198.51.100.23', { hostname: 'A'.repeat(5000), downBps: 7 }),
      host('198.51.100.24', { hostname: '\u202eevil-bidi', mac: '\u001b[5m02:00', downBps: 6 }),
    ];
    fake.emit(
      makeSnapshot(hostile, {
        atMs: T0,
        notices: [{ atMs: T0, level: 'warn', text: 'notice \u001b[2Jwith\u0007 escapes' + 'N'.repeat(3000) }],
        connection: { kind: 'connected' },
      }),
    );
    const frame = await t.waitFor('198.51.100.24');
    // Ink's own styling is SGR only; anything else escape-like came from the router.
    const withoutSgr = frame.replace(/\u001b\[[0-9;]*m/g, '');
    assert.ok(!/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/.test(withoutSgr), 'no control or escape characters');
    assert.match(frame, /\bred\b/);
    assert.match(frame, /title/);
    assert.match(frame, /bellnewline/);
    assert.match(frame, /notice with escapes/);
    assert.ok(!frame.includes('A'.repeat(100)), 'the 5000-character name is cut');
    for (const line of lines(frame)) assert.ok([...line].length <= 100, `line fits: ${line.slice(0, 40)}…`);
    if ('raw' in t.stdout) {
      // What reached the emulated terminal, byte for byte: only Ink's and the row writer's own
      // sequences (SGR, row address, erase line, cursor save/restore/up/column, private modes).
      const raw = t.stdout.raw.join('');
      const unknown = raw.replace(/\u001b\[[0-9;]*m|\u001b\[\d+;1H|\u001b\[2K|\u001b[78]|\u001b\[\?(?:25|2026)[hl]|\u001b\[\d*[AG]/g, '');
      assert.ok(!/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/.test(unknown), `only known sequences: ${JSON.stringify(unknown.match(/.{0,10}[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e].{0,10}/)?.[0])}`);
      for (const injected of ['\u001b[31m', '\u001b[5m', '\u001b[0m']) assert.ok(!raw.includes(injected), `no ${JSON.stringify(injected)} from the router`);
    }
    t.unmount();
    fake.verify();
  });

  test(`live usage (${mode.name}): status shows reconnecting with a countdown, connection failures and reset notices`, async () => {
    const fake = new FakeController().expectWatch();
    const { t } = mount(fake, { columns: 140, rows: 30 }, () => T0 + 2_000);
    await t.waitFor('Waiting');
    await until(() => fake.activeWatches === 1, 'the screen to subscribe');
    fake.emit(
      makeSnapshot(family, {
        atMs: T0,
        pollLatencyMs: 180,
        connection: { kind: 'reconnecting', inMs: 5_000, reason: 'connection reset by peer' },
        notices: [
          { atMs: T0 - 60_000, level: 'info', text: 'older notice' },
          { atMs: T0 - 1_000, level: 'warn', text: 'router counters were reset at 14:02 — history kept' },
        ],
      }),
    );
    let frame = await t.waitFor('reconnecting');
    assert.match(frame, /polled 2\.0 s ago in 180 ms · ⟳ reconnecting in 3 s \(connection reset by peer\)/);
    assert.match(frame, /⚠ router counters were reset at 14:02 — history kept {2}\(\+1 more\)/);
    assert.ok(!frame.includes('older notice'));
    fake.emit(makeSnapshot(family, { atMs: T0 + 1_000, connection: { kind: 'failed', reason: 'wrong password' } }));
    frame = await t.waitFor('connection failed');
    assert.match(frame, /✗ connection failed: wrong password/);
    t.unmount();
    fake.verify();
  });

  test(`live usage (${mode.name}): an empty router says what to do; sparklines fill as polls arrive`, async () => {
    const fake = new FakeController().expectWatch();
    const { t } = mount(fake, { columns: 160, rows: 30 });
    await t.waitFor('Waiting');
    await until(() => fake.activeWatches === 1, 'the screen to subscribe');
    fake.emit(makeSnapshot([], { atMs: T0 }));
    let frame = await t.waitFor('No hosts are being counted yet');
    assert.match(frame, /Set up accounting rules \(menu 3\)/);
    for (let s = 1; s <= 8; s += 1) {
      fake.emit(makeSnapshot([host('198.51.100.10', { hostname: 'pc', downBps: s * 1000 })], { atMs: T0 + s * 1000 }));
    }
    frame = await t.waitFor('pc');
    const row = tableRows(frame).find((l) => l.includes(' pc ')) ?? '';
    // Eight rising samples end the row as a rising sparkline.
    assert.match(row, /▁▂▃▄▅▆▇█$/);
    t.unmount();
    fake.verify();
  });

  test(`live usage (${mode.name}): IPv6 rows show their whole address when there is room, cut by priority when not; rows are keyed by identity`, async () => {
    const fake = new FakeController().expectWatch();
    const { t } = mount(fake, { columns: 160, rows: 30 });
    await t.waitFor('Waiting');
    await until(() => fake.activeWatches === 1, 'the screen to subscribe');
    const long = '2001:db8:85a3:1234:5678:9abc:def0:1234';
    const dualStack = [
      family[0]!,
      host('2001:db8::1', { hostname: 'phone', mac: '02:00:00:00:00:11', downBps: 500_000, upBps: 900_000, downBytes: 1_000_000, upBytes: 900_000_000 }),
      host(long, { hostname: null, downBytes: 42_000, upBytes: 1_000 }),
    ];
    fake.emit(makeSnapshot(dualStack, { atMs: T0 }));
    let frame = await t.waitFor(long);
    assert.match(frame, /NAME\s+IP\s+↓RATE▼\s+↑RATE\s+↓TOTAL\s+↑TOTAL\s+↓%\s+↑%\s+SHARE\s+LAST MINUTE/);
    assert.match(frame, /▶ laptop\s+198\.51\.100\.10\s+2\.50 MB\/s/);
    assert.match(frame, /phone\s+2001:db8::1\s+500 kB\/s\s+900 kB\/s/);
    assert.match(frame, /\(no name\)\s+2001:db8:85a3:1234:5678:9abc:def0:1234\s+0 B\/s/);
    // 100 columns: the sparkline, the bar and ↑TOTAL give way (lower priority) so the address stays whole.
    t.stdout.resize(100, 30);
    frame = await t.waitFor((f) => /NAME\s+IP\s+↓RATE▼\s+↑RATE\s+↓TOTAL\s+↓%\s+↑%\n/.test(f));
    assert.match(frame, /\(no name\)\s+2001:db8:85a3:1234:5678:9abc:def0:1234\s+0 B\/s/);
    // 80 columns: with the totals gone too, the address column shrinks and the long one is cut.
    t.stdout.resize(80, 30);
    frame = await t.waitFor((f) => /NAME\s+IP\s+↓RATE▼\s+↑RATE\s+↓%\s+↑%\n/.test(f));
    assert.match(frame, /\(no name\)\s+2001:db8:85a3:1234:5678:9ab…\s+0 B\/s/);
    assert.match(frame, /phone\s+2001:db8::1\s+500 kB\/s/);
    // 60 columns: the IP column goes as it does for IPv4; the nameless host is shown by its (cut) address.
    t.stdout.resize(60, 30);
    frame = await t.waitFor((f) => /NAME\s+↓RATE▼\s+↑RATE\s+↓%\s+↑%\n/.test(f));
    assert.match(frame, /2001:db8:85a3:\S*…\s+0 B\/s/);
    for (const line of lines(frame)) assert.ok([...line].length <= 60, `fits 60 columns: ${line}`);
    // The same device (MAC) at a new address is the same row: its sparkline carries on.
    t.stdout.resize(160, 30);
    fake.emit(makeSnapshot([host('2001:db8::2', { hostname: 'phone', mac: '02:00:00:00:00:11', downBps: 1_000 })], { atMs: T0 + 1_000 }));
    frame = await t.waitFor('2001:db8::2');
    const phone = tableRows(frame).find((l) => l.includes('phone')) ?? '';
    // Its first sample (1.4 MB/s) is the busiest, its second (1 kB/s) the least: a full block, then the lowest bar.
    assert.match(phone, /█▁$/, `two samples for the phone: ${phone}`);
    t.unmount();
    fake.verify();
  });
}
