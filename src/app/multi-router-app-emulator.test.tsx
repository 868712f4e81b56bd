// The app on several routers (issue 20) against TWO emulated routers in this process (loopback
// only): the real App driven through the real MultiRouterController (a LiveRouterController per
// router). The combined rows' bytes are the per-router snapshots' and the emulators' counters,
// exactly; a roaming laptop is one device; one emulator closed mid-run shows that router down
// while the other keeps updating. Manual emulator clocks, ticked by the test.
// test-file-timeout: 120
// tsconfig.json excludes tests, so tsx compiles them with the classic JSX runtime: React must be in scope.
import React from 'react';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { startEmulatedRouter, type EmulatedRouter } from '../emulator/index.js';
import { resolveSettings, type GlobalFlags } from '../config/resolve.js';
import { servicesOf, type Services } from './services.js';
import { MultiRouterController } from './multi-router-controller.js';
import { App } from '../ui/app.js';
import { combinedViewOf } from '../ui/screens/combined-lines.js';
import { formatBytes } from '../output/units.js';
import type { Snapshot } from '../domain/snapshot.js';
import { cleanupTerminals, renderInTerminal, until } from '../../test/fakes/fake-terminal.js';

const LAPTOP = '02:1a:00:00:00:0a';

function servicesFor(router: EmulatedRouter, profile: string, dbPath: string): Services {
  const settings = resolveSettings({ host: router.host, port: router.port, protocol: 'telnet', user: router.user, wan: 'ppp0' } as GlobalFlags, {}, undefined, profile);
  return servicesOf({
    settings: { ...settings, dbPath },
    profiles: null,
    password: { get: async () => router.password, isKnown: true },
    io: { stdout: new PassThrough().resume(), stderr: new PassThrough().resume(), stdin: new PassThrough() },
    env: {},
    // As the demo: the first poll installs lantop's rules.
    isManaged: true,
  });
}

/** The bytes an emulator's TRAFFIC_DOWN/TRAFFIC_UP rule holds for an address (lantop's default split layout). */
function routerBytes(router: EmulatedRouter, ip: string, direction: 'down' | 'up'): number {
  const base = direction === 'down' ? 'TRAFFIC_DOWN' : 'TRAFFIC_UP';
  const chains = router.state.iptables.tables.get('filter')?.chains.filter((c) => c.name === base || c.name.startsWith(`${base}_`)) ?? [];
  const rule = chains.flatMap((c) => c.rules).find((r) => {
    const address = direction === 'down' ? r.destination : r.source;
    const text = [address.address >>> 24, (address.address >>> 16) & 255, (address.address >>> 8) & 255, address.address & 255].join('.');
    return text === ip && address.mask === 0xffffffff;
  });
  return rule ? Number(rule.bytes) : 0;
}

function ticking(routers: EmulatedRouter[]): () => void {
  const timer = setInterval(() => {
    for (const r of routers) r.tick(1000);
  }, 100);
  return () => clearInterval(timer);
}

const bytesOf = (s: Snapshot) => s.hosts.map((h) => `${h.identity}:${h.downBytes}/${h.upBytes}`).join(',');

test('the app on two emulated routers: combined rows = per-router snapshots = router counters; one closed → down, the other keeps updating', { timeout: 90_000 }, async () => {
  const home = await startEmulatedRouter({ clock: 'manual', churn: false, seed: 51, hosts: [{ hostname: 'laptop', kind: 'laptop', mac: LAPTOP }, { hostname: 'tv', kind: 'tv' }] });
  const office = await startEmulatedRouter({ clock: 'manual', churn: false, seed: 52, hosts: [{ hostname: 'laptop', kind: 'laptop', mac: LAPTOP }, { hostname: 'phone', kind: 'phone' }] });
  const dir = mkdtempSync(join(tmpdir(), 'lantop-multi-app-'));
  let stopTicking = ticking([home, office]);
  let multi: MultiRouterController | null = null;
  let store: ReturnType<Services['openHistory']> | null = null;
  const unwatch: Array<() => void> = [];
  try {
    const db = join(dir, 'history.sqlite');
    const main = servicesFor(home, 'home', db);
    store = main.openHistory();
    multi = new MultiRouterController({
      routers: [
        { name: 'home', services: main },
        { name: 'office', services: servicesFor(office, 'office', db) },
      ],
      clock: main.clock,
      store,
      topology: {},
      intervalMs: 500,
    });
    const set = multi;
    void set.connectAll();
    const t = renderInTerminal(<App controller={set.entries[0]!.controller} routers={set} isColor={false} />, { columns: 140, rows: 40 });
    await t.waitFor('2 routers: home ● up · office ● up', 20_000);
    // Each router's own polls, as its controller hands them out.
    const latest: Array<Snapshot | null> = [null, null];
    set.entries.forEach((entry, i) => unwatch.push(entry.controller.watch((s) => (latest[i] = s))));
    await t.press('2');
    await t.waitFor('TOTAL (2 routers up)', 10_000);
    await until(() => latest.every((s) => s !== null && s.totals.downBytes > 0), 'both routers counting', 20_000);

    // Traffic stops; once two polls of each router agree, every poll has seen the last tick.
    stopTicking();
    let before = latest.map((s) => bytesOf(s!));
    for (;;) {
      const seen = latest.map((s) => s!.atMs);
      await until(() => latest.every((s, i) => s!.atMs > seen[i]!), 'a poll of each router', 10_000);
      const now = latest.map((s) => bytesOf(s!));
      if (JSON.stringify(now) === JSON.stringify(before) && latest.every((s) => s!.totals.downBps === 0)) break;
      before = now;
    }
    const view = combinedViewOf(set.statuses(Date.now()), set.topology);
    const frame = await t.waitFor((f) => view.routers.every((r) => f.includes(formatBytes(r.totals.downBytes))), 5000);
    for (const [i, router] of view.routers.entries()) {
      const snapshot = latest[i]!;
      const emulator = i === 0 ? home : office;
      assert.equal(router.state, 'up');
      assert.equal(router.rows.length, snapshot.hosts.length);
      for (const row of router.rows) {
        const own = snapshot.hosts.find((h) => h.identity === row.host.identity)!;
        // Exact: the combined row is the router's snapshot row, which is the router's counter.
        assert.equal(row.host.downBytes, own.downBytes, `${router.label} ${row.host.ip} down`);
        assert.equal(row.host.upBytes, own.upBytes, `${router.label} ${row.host.ip} up`);
        assert.equal(row.host.downBytes, routerBytes(emulator, row.host.ip, 'down'), `${router.label} ${row.host.ip} = its counter`);
        assert.equal(row.host.upBytes, routerBytes(emulator, row.host.ip, 'up'));
        const name = row.host.hostname ?? '(no name)';
        assert.match(frame, new RegExp(`^${router.label}\\s+${name}\\s+${row.host.ip.replace(/\./g, '\\.')}\\s.*${formatBytes(row.host.downBytes).replace('.', '\\.')}`, 'm'));
      }
      assert.deepEqual(router.totals, { downBytes: snapshot.totals.downBytes, upBytes: snapshot.totals.upBytes, downBps: snapshot.totals.downBps, upBps: snapshot.totals.upBps });
    }
    assert.equal(view.total.downBytes, latest[0]!.totals.downBytes + latest[1]!.totals.downBytes);
    assert.equal(view.total.upBytes, latest[0]!.totals.upBytes + latest[1]!.totals.upBytes);
    const laptops = view.devices.filter((d) => d.mac === LAPTOP);
    assert.equal(laptops.length, 1, 'the laptop on both routers is one device');
    assert.equal(laptops[0]!.perRouter.length, 2);
    assert.match(frame, /Roaming \(one device, seen on several routers\):/);
    assert.match(frame, new RegExp(`TOTAL \\(2 routers up\\)\\s.*${formatBytes(view.total.downBytes).replace('.', '\\.')}`));

    // office goes away (its telnet server closes); home keeps counting.
    await office.close();
    stopTicking = ticking([home]);
    let down = await t.waitFor((f) => /office ✗ down \(/.test(f) && f.includes('TOTAL (1 router up)'), 20_000);
    assert.match(down, /^office: down \(.*(closed|refused|lost|reset).*\)$/im);
    assert.doesNotMatch(down, /^office\s+subtotal/m, 'a router that is down adds nothing');
    // home's rows keep coming on screen while office is down.
    const homeSubtotal = (f: string) => /^home\s+subtotal.*$/m.exec(f)?.[0] ?? '';
    const first = homeSubtotal(down);
    assert.notEqual(first, '');
    const later = await t.waitFor((f) => /office ✗ down/.test(f) && homeSubtotal(f) !== '' && homeSubtotal(f) !== first, 20_000);
    assert.match(later, /TOTAL \(1 router up\)/);
    await t.press('q');
    await t.waitFor('❯ 2 Live usage');
    await t.press('q');
  } finally {
    stopTicking();
    for (const u of unwatch) u();
    cleanupTerminals();
    await multi?.close();
    store?.close();
    await home.close();
    await office.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
});
