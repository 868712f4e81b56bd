// `usage --routers` (issue 20) against TWO emulated routers in this process (loopback only), through
// runMultiUsage with Services built as the demo builds them, and once through the built CLI: a laptop
// roaming between them is one device, the chained case counts each byte once, numbers equal the
// emulators' counters exactly, and a router closed mid-run shows as down while the other's numbers
// keep coming. Manual emulator clocks, ticked by the test.
// test-file-timeout: 150
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { startEmulatedRouter, type EmulatedRouter } from '../src/emulator/index.js';
import { resolveSettings, type GlobalFlags } from '../src/config/resolve.js';
import { servicesOf, type Services } from '../src/app/services.js';
import { runMultiUsage } from '../src/app/multi-usage.js';
import type { combinedJson } from '../src/output/combined-json.js';

type Doc = ReturnType<typeof combinedJson>;
const LAPTOP = '02:1a:00:00:00:0a';

function servicesFor(router: EmulatedRouter, profile: string, dbPath: string, stdout: NodeJS.WritableStream): Services {
  const settings = resolveSettings({ host: router.host, port: router.port, protocol: 'telnet', user: router.user, wan: 'ppp0' } as GlobalFlags, {}, undefined, profile);
  return servicesOf({
    settings: { ...settings, dbPath },
    profiles: null,
    password: { get: async () => router.password, isKnown: true },
    io: { stdout, stderr: new PassThrough().resume(), stdin: new PassThrough() },
    env: {},
    // As the demo: the first poll installs lantop's rules.
    isManaged: true,
  });
}

/** Collects stdout lines; `next` waits for a line that passes `accept`. */
function lineSink() {
  const lines: string[] = [];
  let buffer = '';
  let waiter: (() => void) | null = null;
  const stream = new Writable({
    write(chunk, _enc, done) {
      buffer += String(chunk);
      for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
        lines.push(buffer.slice(0, i));
        buffer = buffer.slice(i + 1);
      }
      waiter?.();
      done();
    },
  });
  let seen = 0;
  const next = async (accept: (doc: Doc) => boolean, what: string, timeoutMs = 30_000): Promise<Doc> => {
    const endMs = Date.now() + timeoutMs;
    for (;;) {
      while (seen < lines.length) {
        const doc = JSON.parse(lines[seen++]!) as Doc;
        if (accept(doc)) return doc;
      }
      if (Date.now() > endMs) throw new Error(`timed out waiting for ${what}; last line: ${lines.at(-1)?.slice(0, 2000)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        waiter = () => {
          clearTimeout(timer);
          waiter = null;
          resolve();
        };
      });
    }
  };
  return { stream, lines, next };
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

async function twoRouters(seedA: number, seedB: number) {
  const home = await startEmulatedRouter({ clock: 'manual', churn: false, seed: seedA, hosts: [{ hostname: 'laptop', kind: 'laptop', mac: LAPTOP }, { hostname: 'office-ap', kind: 'downloader', ip: '198.51.100.50' }, { hostname: 'tv', kind: 'tv' }] });
  const office = await startEmulatedRouter({ clock: 'manual', churn: false, seed: seedB, hosts: [{ hostname: 'laptop', kind: 'laptop', mac: LAPTOP }, { hostname: 'phone', kind: 'phone' }] });
  return { home, office };
}

const usageOf = (doc: Doc, label: string) => doc.routers.find((r) => r.label === label)!;
const sumHosts = (doc: Doc, label: string) => {
  const hosts = (usageOf(doc, label).usage?.hosts ?? []) as Array<{ downBytes: number; upBytes: number }>;
  return { down: hosts.reduce((t, h) => t + h.downBytes, 0), up: hosts.reduce((t, h) => t + h.upBytes, 0) };
};

test('usage --routers (one-shot JSON): the chained case counts each byte once, a roaming laptop is one device', { timeout: 60_000 }, async () => {
  const { home, office } = await twoRouters(31, 32);
  const dir = mkdtempSync(join(tmpdir(), 'lantop-multi-'));
  const stopTicking = ticking([home, office]);
  try {
    const db = join(dir, 'history.sqlite');
    const out = lineSink();
    const main = servicesFor(home, 'home', db, out.stream);
    const routers = [main, servicesFor(office, 'office', db, out.stream)];
    const topology = { upstreamOf: { [routers[1]!.key]: routers[0]!.key }, uplinkAddressesOf: { [routers[1]!.key]: ['198.51.100.50'] } };
    const code = await runMultiUsage(main, routers, { json: true, intervalMs: 500, topology, signals: new EventEmitter() });
    assert.equal(code, 0);
    assert.equal(out.lines.length, 1);
    const doc = JSON.parse(out.lines[0]!) as Doc;
    assert.deepEqual(doc.routers.map((r) => [r.label, r.state, r.inTotal, r.countedBy]), [['home', 'up', true, null], ['office', 'up', false, routers[0]!.key]]);
    const homeTotals = usageOf(doc, 'home').usage!.totals;
    assert.ok(homeTotals.downBytes > 0 && usageOf(doc, 'office').usage!.totals.downBytes > 0, JSON.stringify(doc.routers.map((r) => r.totals)));
    // Counted once: the line is home's, office's devices are shown but not added.
    assert.equal(doc.total.downBytes, homeTotals.downBytes);
    assert.equal(doc.total.upBytes, homeTotals.upBytes);
    const laptops = doc.devices.filter((d) => d.mac === LAPTOP);
    assert.equal(laptops.length, 1);
    assert.equal(laptops[0]!.roaming, true);
    assert.deepEqual(laptops[0]!.perRouter.map((r) => r.router), routers.map((r) => r.key));
    assert.equal(laptops[0]!.total.downBytes, laptops[0]!.perRouter[0]!.downBytes + laptops[0]!.perRouter[1]!.downBytes);
    const uplink = doc.devices.find((d) => d.via === routers[1]!.key);
    assert.equal(uplink?.name, 'office-ap');
    assert.match(doc.rule, /^home counts the line, office's traffic included/);
  } finally {
    stopTicking();
    await home.close();
    await office.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('usage --routers --watch: exact bytes per router, then one router closed shows down while the other keeps counting', { timeout: 90_000 }, async () => {
  const { home, office } = await twoRouters(41, 42);
  const dir = mkdtempSync(join(tmpdir(), 'lantop-multi-watch-'));
  let stopTicking = ticking([home, office]);
  const signals = new EventEmitter();
  let run: Promise<number> | null = null;
  try {
    const db = join(dir, 'history.sqlite');
    const out = lineSink();
    const main = servicesFor(home, 'home', db, out.stream);
    const routers = [main, servicesFor(office, 'office', db, out.stream)];
    // No topology: two independent routers, whose total is the sum of both.
    run = runMultiUsage(main, routers, { json: true, watch: true, intervalMs: 500, topology: {}, signals });
    await out.next((d) => d.routers.every((r) => r.state === 'up' && r.totals.downBytes > 0), 'both routers counting');
    // Traffic stops; once a line repeats the one before, every poll has seen the last tick.
    stopTicking();
    let previous = await out.next(() => true, 'a line');
    let stable: Doc;
    for (;;) {
      const doc = await out.next(() => true, 'a stable line');
      if (JSON.stringify(doc.routers.map((r) => r.totals.downBytes + r.totals.upBytes)) === JSON.stringify(previous.routers.map((r) => r.totals.downBytes + r.totals.upBytes)) && doc.routers.every((r) => r.totals.downBps === 0)) {
        stable = doc;
        break;
      }
      previous = doc;
    }
    // Exact: every device's bytes are its counters on its router; the total adds both routers.
    for (const [label, emulator] of [['home', home], ['office', office]] as const) {
      const hosts = usageOf(stable, label).usage!.hosts as Array<{ ip: string; downBytes: number; upBytes: number }>;
      assert.ok(hosts.length >= 2, label);
      for (const h of hosts) {
        assert.equal(h.downBytes, routerBytes(emulator, h.ip, 'down'), `${label} ${h.ip} down`);
        assert.equal(h.upBytes, routerBytes(emulator, h.ip, 'up'), `${label} ${h.ip} up`);
      }
      assert.deepEqual({ down: usageOf(stable, label).totals.downBytes, up: usageOf(stable, label).totals.upBytes }, sumHosts(stable, label));
    }
    assert.equal(stable.total.downBytes, stable.routers[0]!.totals.downBytes + stable.routers[1]!.totals.downBytes);
    assert.equal(stable.devices.filter((d) => d.mac === LAPTOP).length, 1);

    // office goes away (its telnet server closes); home keeps counting.
    await office.close();
    stopTicking = ticking([home]);
    const down = await out.next((d) => usageOf(d, 'office').state === 'down' && usageOf(d, 'home').state === 'up', 'office down');
    assert.match(usageOf(down, 'office').reason ?? '', /closed the connection|refused|lost/i);
    assert.deepEqual(usageOf(down, 'office').totals, { downBytes: 0, upBytes: 0, downBps: 0, upBps: 0 });
    const homeBefore = usageOf(down, 'home').totals.downBytes;
    const later = await out.next((d) => usageOf(d, 'office').state === 'down' && usageOf(d, 'home').totals.downBytes > homeBefore, "home's numbers growing with office down");
    // office contributes nothing while down: the total is home's.
    assert.equal(later.total.downBytes, usageOf(later, 'home').totals.downBytes);
    assert.equal(later.devices.find((d) => d.mac === LAPTOP)!.perRouter.length, 1);
    signals.emit('SIGINT');
    assert.equal(await run, 0);
    run = null;
  } finally {
    stopTicking();
    if (run !== null) {
      signals.emit('SIGINT');
      await run.catch(() => undefined);
    }
    await home.close();
    await office.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('usage --routers (table): a router that cannot log in is a down line, the other is counted; none up exits 3', { timeout: 60_000 }, async () => {
  const { home, office } = await twoRouters(51, 52);
  const dir = mkdtempSync(join(tmpdir(), 'lantop-multi-table-'));
  const stopTicking = ticking([home, office]);
  try {
    const db = join(dir, 'history.sqlite');
    const out = lineSink();
    const main = servicesFor(home, 'home', db, out.stream);
    const wrong = servicesOf({ ...partsOf(servicesFor(office, 'office', db, out.stream)), password: { get: async () => 'not-the-password', isKnown: true } });
    const code = await runMultiUsage(main, [main, wrong], { intervalMs: 500, topology: {}, signals: new EventEmitter() });
    assert.equal(code, 0);
    const text = out.lines.join('\n');
    assert.match(text, /^ROUTER\s+NAME\s+IP\s+↓RATE/);
    assert.match(text, /^home\s+subtotal \(3 hosts\)/m);
    assert.match(text, /TOTAL \(1 router up\)/);
    assert.match(text, /^office: down \(.*refused the login: wrong user name or password/m);
    assert.doesNotMatch(text, /^office\s+subtotal/m);
    const none = await runMultiUsage(main, [wrong], { intervalMs: 500, topology: {}, signals: new EventEmitter() });
    assert.equal(none, 3);
  } finally {
    stopTicking();
    await home.close();
    await office.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The parts of a router's services again (to change one of them). */
function partsOf(services: Services) {
  return { settings: services.settings, profiles: services.profiles, password: services.password, io: services.io, env: services.env, isManaged: true };
}

test('the built CLI: usage --routers / --all over saved profiles, upstream from the profile, bad names refused', { timeout: 90_000 }, async () => {
  const { runCliAsync } = await import('./helpers/run-cli.js');
  const { writeFileSync, chmodSync } = await import('node:fs');
  const home = await startEmulatedRouter({ clock: 'real', churn: false, seed: 21 });
  const office = await startEmulatedRouter({ clock: 'real', churn: false, seed: 22, flavour: 'openwrt-fw4' });
  const dir = mkdtempSync(join(tmpdir(), 'lantop-multi-cli-'));
  try {
    const env = { LANTOP_CONFIG_DIR: join(dir, 'config'), LANTOP_DB: join(dir, 'history.sqlite') };
    const save = async (profile: string, router: EmulatedRouter, wan: string) => {
      const pw = join(dir, `${profile}.pw`);
      writeFileSync(pw, `${router.password}\n`);
      chmodSync(pw, 0o600);
      for (const [key, value] of [['host', router.host], ['port', String(router.port)], ['user', router.user], ['wan', wan]]) {
        const set = await runCliAsync(['--profile', profile, 'config', 'set', key!, value!], env);
        assert.equal(set.code, 0, set.stderr);
      }
      assert.equal((await runCliAsync(['--profile', profile, '--password-file', pw, 'config', 'save-password'], env)).code, 0);
      const setup = await runCliAsync(['--profile', profile, 'setup', '--yes'], env, { timeoutMs: 45_000 });
      assert.equal(setup.code, 0, setup.stderr);
    };
    await save('home', home, 'ppp0');
    await save('office', office, office.state.wanInterface);
    assert.equal((await runCliAsync(['--profile', 'office', 'config', 'set', 'upstream', 'home'], env)).code, 0);
    assert.equal((await runCliAsync(['--profile', 'office', 'config', 'set', 'upstream', 'no/such'], env)).code, 2, 'upstream is a profile name');
    // The setup plan says who counts what.
    const plan = await runCliAsync(['--profile', 'office', 'setup', '--dry-run'], env, { timeoutMs: 45_000 });
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stderr, /note: this router is behind 'home' \(setting upstream\): in `--routers` views home's WAN counts its traffic/);

    const run = await runCliAsync(['usage', '--routers', 'home,office', '--json'], env, { timeoutMs: 60_000 });
    assert.equal(run.code, 0, run.stderr);
    const doc = JSON.parse(run.stdout) as Doc;
    assert.deepEqual(doc.routers.map((r) => r.state), ['up', 'up']);
    assert.match(doc.rule, /home counts the line/);
    // office is counted by home: the overall total is home's alone.
    const homeTotal = doc.routers[0]!.totals;
    assert.equal(doc.total.downBytes, homeTotal.downBytes);

    const all = await runCliAsync(['usage', '--all'], env, { timeoutMs: 60_000 });
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /^home\s/m);
    assert.match(all.stdout, /^office\s/m);
    assert.match(all.stdout, /TOTAL \(2 routers up\)/);

    const unknown = await runCliAsync(['usage', '--routers', 'home,cabin'], env);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no saved profile 'cabin'/);
    const users = await runCliAsync(['--mode', 'users', 'usage', '--all'], env);
    assert.equal(users.code, 2);
    assert.match(users.stderr, /not yet in users mode/);
  } finally {
    await home.close();
    await office.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('usage --routers detects the chain: office\'s own address is a host on home\'s LAN, no upstream set', { timeout: 60_000 }, async () => {
  // The emulator's interfaces (`ifconfig`) have the one LAN address 198.51.100.1, as every emulator
  // does; home gets a host there (office's WAN side, as the emulator can say it), office none.
  const home = await startEmulatedRouter({ clock: 'manual', churn: false, seed: 61, hosts: [{ hostname: 'laptop', kind: 'laptop', mac: LAPTOP }, { hostname: 'office-ap', kind: 'downloader', ip: '198.51.100.1' }, { hostname: 'tv', kind: 'tv' }] });
  const office = await startEmulatedRouter({ clock: 'manual', churn: false, seed: 62, hosts: [{ hostname: 'laptop', kind: 'laptop', mac: LAPTOP }, { hostname: 'phone', kind: 'phone' }] });
  const dir = mkdtempSync(join(tmpdir(), 'lantop-multi-detect-'));
  const stopTicking = ticking([home, office]);
  try {
    const db = join(dir, 'history.sqlite');
    const out = lineSink();
    const main = servicesFor(home, 'home', db, out.stream);
    const routers = [main, servicesFor(office, 'office', db, out.stream)];
    const code = await runMultiUsage(main, routers, { json: true, intervalMs: 500, signals: new EventEmitter() });
    assert.equal(code, 0);
    const doc = JSON.parse(out.lines[0]!) as Doc;
    assert.deepEqual(doc.routers.map((r) => [r.label, r.upstream, r.countedBy, r.inTotal]), [['home', null, null, true], ['office', routers[0]!.key, routers[0]!.key, false]]);
    assert.equal(doc.total.downBytes, usageOf(doc, 'home').totals.downBytes);
    assert.equal(doc.devices.find((d) => d.via === routers[1]!.key)?.name, 'office-ap');
    assert.ok(doc.notices.includes("office is behind home (detected: office's address 198.51.100.1 is a host on home's LAN); counted on home's WAN only"), JSON.stringify(doc.notices));
    // (The setting winning over the detection, `none` included: upstream-detection.test.ts mergeTopology.)
  } finally {
    stopTicking();
    await home.close();
    await office.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the built CLI: report --routers / --all over the histories usage --routers recorded (router in every row, counted once)', { timeout: 90_000 }, async () => {
  const { runCliAsync } = await import('./helpers/run-cli.js');
  const { writeFileSync, chmodSync } = await import('node:fs');
  const home = await startEmulatedRouter({ clock: 'real', churn: false, seed: 71, hosts: [{ hostname: 'laptop', kind: 'laptop', mac: LAPTOP }, { hostname: 'tv', kind: 'tv' }] });
  const office = await startEmulatedRouter({ clock: 'real', churn: false, seed: 72, hosts: [{ hostname: 'laptop', kind: 'laptop', mac: LAPTOP }, { hostname: 'phone', kind: 'phone' }] });
  const dir = mkdtempSync(join(tmpdir(), 'lantop-multi-report-'));
  try {
    const env = { LANTOP_CONFIG_DIR: join(dir, 'config'), LANTOP_DB: join(dir, 'history.sqlite') };
    for (const [profile, router] of [['home', home], ['office', office]] as const) {
      const pw = join(dir, `${profile}.pw`);
      writeFileSync(pw, `${router.password}\n`);
      chmodSync(pw, 0o600);
      for (const [key, value] of [['host', router.host], ['port', String(router.port)], ['user', router.user], ['wan', 'ppp0']]) assert.equal((await runCliAsync(['--profile', profile, 'config', 'set', key!, value!], env)).code, 0);
      assert.equal((await runCliAsync(['--profile', profile, '--password-file', pw, 'config', 'save-password'], env)).code, 0);
      assert.equal((await runCliAsync(['--profile', profile, 'setup', '--yes'], env, { timeoutMs: 45_000 })).code, 0);
    }
    assert.equal((await runCliAsync(['--profile', 'office', 'config', 'set', 'upstream', 'home'], env)).code, 0);
    for (let i = 0; i < 2; i++) assert.equal((await runCliAsync(['usage', '--routers', 'home,office', '--interval', '500'], env, { timeoutMs: 60_000 })).code, 0);

    const json = await runCliAsync(['report', '--routers', 'home,office', '--json'], env);
    assert.equal(json.code, 0, json.stderr);
    const doc = JSON.parse(json.stdout) as { routers: Array<{ key: string; label: string; inTotal: boolean; countedBy: string | null; totals: { downBytes: number; upBytes: number } }>; hosts: Array<{ router: string; downBytes: number }>; devices: Array<{ mac: string | null; roaming: boolean; perRouter: unknown[] }>; total: { downBytes: number; upBytes: number }; rule: string };
    assert.deepEqual(doc.routers.map((r) => [r.label, r.inTotal, r.countedBy]), [['home', true, null], ['office', false, doc.routers[0]!.key]]);
    assert.ok(doc.routers[0]!.totals.downBytes > 0 && doc.routers[1]!.totals.downBytes > 0);
    assert.deepEqual(doc.total, doc.routers[0]!.totals);
    for (const r of doc.routers) assert.equal(doc.hosts.filter((h) => h.router === r.key).reduce((s, h) => s + h.downBytes, 0), r.totals.downBytes);
    const laptop = doc.devices.filter((d) => d.mac === LAPTOP);
    assert.equal(laptop.length, 1);
    assert.equal(laptop[0]!.roaming, true);
    assert.match(doc.rule, /^home counts the line/);
    const csv = await runCliAsync(['report', '--all', '--csv'], env);
    assert.equal(csv.code, 0, csv.stderr);
    const lines = csv.stdout.trim().split('\n');
    assert.equal(lines[0], 'router,identity,ip,mac,hostname,down_bytes,up_bytes,via,in_total,router_key');
    assert.equal(lines.length - 1, doc.hosts.length);
    const unknown = await runCliAsync(['report', '--routers', 'home,cabin'], env);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no saved profile 'cabin'[\s\S]*config set host/);
    const html = await runCliAsync(['report', '--routers', 'home,office', '--html', join(dir, 'r.html')], env);
    assert.equal(html.code, 2);
    assert.match(html.stderr, /--html does not work with --routers/);
    const users = await runCliAsync(['--mode', 'users', 'report', '--routers', 'home,office'], env);
    assert.equal(users.code, 2);
    assert.match(users.stderr, /not yet in users mode/);
  } finally {
    await home.close();
    await office.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
