// `lantop demo` must tell the truth about counting (issue 13, "notices must be true, too"): the
// controller the demo builds, against the emulator, on loopback. A router lantop has just set up
// is not a router whose rules were "recreated", and after a reboot the notice names only the time
// nothing counted — never the window counted since lantop put the rules back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulatedRouter, type EmulatedRouter } from './index.js';
import { resolveSettings, type GlobalFlags } from '../config/resolve.js';
import { LiveRouterController } from '../app/controller.js';
import { servicesOf } from '../app/services.js';
import type { Snapshot } from '../domain/snapshot.js';

/** The controller exactly as `lantop demo` builds it (src/app/actions.ts), minus the screen. */
function demoController(router: EmulatedRouter, flags: Partial<GlobalFlags> = {}): LiveRouterController {
  const settings = resolveSettings({ host: router.host, port: router.port, protocol: 'telnet', user: router.user, wan: 'ppp0', ...flags } as GlobalFlags, {}, undefined, 'demo');
  const services = servicesOf({ settings, profiles: null, password: { get: async () => router.password, isKnown: true }, io: { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin }, env: {}, isManaged: true });
  return new LiveRouterController({ services, store: null, intervalMs: 500 });
}

/** Snapshots until `done` says so (bounded by `timeoutMs`). */
async function watchUntil(controller: LiveRouterController, done: (s: Snapshot, all: Snapshot[]) => boolean, timeoutMs: number, what: string): Promise<Snapshot[]> {
  const all: Snapshot[] = [];
  let stop: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; notices: ${JSON.stringify(all.at(-1)?.notices ?? [])}`)), timeoutMs);
      stop = controller.watch((s) => {
        all.push(s);
        if (done(s, all)) resolve();
      });
    });
  } finally {
    clearTimeout(timer);
    stop?.();
  }
  return all;
}

const countedRows = (s: Snapshot) => s.hosts.filter((h) => h.isCounted && h.downBytes > 0).length;
const ISO = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z/g;

test('lantop demo: the rules it installs on its first poll are no reset and raise no warning', { timeout: 30_000 }, async () => {
  const router = await startEmulatedRouter({ clock: 'real', seed: 3 });
  const controller = demoController(router);
  try {
    await controller.connect();
    const snapshots = await watchUntil(controller, (s) => countedRows(s) >= 3 && s.connection.kind === 'connected', 20_000, 'counted hosts');
    const notices = snapshots.at(-1)!.notices;
    assert.deepEqual(notices.filter((n) => n.level !== 'info'), [], JSON.stringify(notices));
    assert.ok(!notices.some((n) => /recreated|could not be|counting continues/i.test(n.text)), JSON.stringify(notices));
  } finally {
    await controller.close();
    await router.close();
  }
});

test(
  'lantop demo: its sync note on the first setup does not say the router dropped the rules',
  { timeout: 30_000 },
  async () => {
    const router = await startEmulatedRouter({ clock: 'real', seed: 3 });
    const controller = demoController(router);
    try {
      await controller.connect();
      const snapshots = await watchUntil(controller, (s) => countedRows(s) >= 3, 20_000, 'counted hosts');
      const notices = snapshots.at(-1)!.notices;
      assert.ok(!notices.some((n) => /dropped|repaired|rebuilt/i.test(n.text)), JSON.stringify(notices));
    } finally {
      await controller.close();
      await router.close();
    }
  },
);

test('a reboot under the demo: one warning, naming the gap from the last read before it to the re-install only', { timeout: 60_000 }, async () => {
  const router = await startEmulatedRouter({ clock: 'real', seed: 3 });
  const controller = demoController(router, { firmware: 'broadcom-cli' });
  try {
    await controller.connect();
    const before = await watchUntil(controller, (s, all) => all.filter((x) => countedRows(x) >= 3).length >= 2, 20_000, 'two counted polls');
    const totalBefore = before.at(-1)!.totals.downBytes;
    const rebootAtMs = Date.now();
    await router.reboot();
    const isPutBack = (s: Snapshot) => s.notices.some((n) => n.text.includes('were put back'));
    const after = await watchUntil(controller, (s) => isPutBack(s) && s.connection.kind === 'connected', 40_000, 'the repair notice');
    const reads = [...before, ...after].filter((s) => s.connection.kind === 'connected' && s.pollLatencyMs !== null);
    const lastReadBeforeRebootMs = Math.max(...reads.filter((s) => s.atMs < rebootAtMs).map((s) => s.atMs));
    const withNotice = after.at(-1)!;
    const warnings = withNotice.notices.filter((n) => n.level === 'warn');
    assert.equal(warnings.length, 1, JSON.stringify(withNotice.notices));
    const text = warnings[0]!.text;
    assert.match(text, /^lantop's counting rules were missing \(the router rebuilt its firewall\?\) and were put back: counting continues/);
    assert.doesNotMatch(text, /TRAFFIC|chain/);
    const [fromText, toText] = text.match(ISO) ?? [];
    assert.ok(fromText !== undefined && toText !== undefined, text);
    const fromMs = Date.parse(fromText);
    const toMs = Date.parse(toText);
    // The gap starts at the last read that still had the rules: the last one before the reboot, or a
    // poll that was in flight when it came (the router answered it just before) …
    const readBeforeRepair = reads.filter((s) => s.atMs < withNotice.atMs).at(-1)!;
    assert.ok(readBeforeRepair.atMs > rebootAtMs, 'a read after the reboot found the rules missing');
    assert.ok(reads.some((s) => s.atMs === fromMs), `the gap starts at a read: ${text}`);
    assert.ok(fromMs >= lastReadBeforeRebootMs && fromMs < readBeforeRepair.atMs, `gap from the last read with rules (${new Date(lastReadBeforeRebootMs).toISOString()}): ${text}`);
    // … and ends when lantop put the rules back: after the read that found them missing, before
    // the read that found them counting again (that window was counted, from zero).
    assert.ok(toMs >= readBeforeRepair.atMs && toMs < withNotice.atMs, `gap ends at the re-install (${new Date(readBeforeRepair.atMs).toISOString()} … ${new Date(withNotice.atMs).toISOString()}): ${text}`);
    // Nothing counted before the reboot is lost from the totals.
    assert.ok(withNotice.totals.downBytes >= totalBefore);
  } finally {
    await controller.close();
    await router.close();
  }
});
