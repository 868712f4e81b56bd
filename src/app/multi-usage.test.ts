import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { resolveSettings, type GlobalFlags } from '../config/resolve.js';
import type { ProfileStore } from '../config/profiles.js';
import { UsageError } from '../errors.js';
import { servicesOf, type Services } from './services.js';
import { routerDisplayName, runMultiUsage, topologyOf } from './multi-usage.js';

/** Services of a profile whose stored settings are `stored` (the store is a stub: only get()). */
function profileServices(name: string, host: string, stored: Record<string, Record<string, unknown>>): Services {
  const profiles = { get: (n: string) => stored[n] } as unknown as ProfileStore;
  const settings = resolveSettings({ host, port: 23 } as GlobalFlags, {}, undefined, name);
  return servicesOf({ settings, profiles, password: { isKnown: true, get: async () => 'x' }, io: { stdout: new PassThrough(), stderr: new PassThrough(), stdin: new PassThrough() }, env: {} });
}

test('topologyOf: a profile\'s upstream names a router of the view by its key; its login address is its uplink address', () => {
  const stored = { home: {}, office: { upstream: 'home' }, shed: { upstream: 'garage' }, lab: { upstream: 'none' } };
  const routers = [profileServices('home', '192.168.1.1', stored), profileServices('office', '192.168.1.50', stored), profileServices('shed', 'shed.lan', stored), profileServices('lab', '192.168.1.70', stored)];
  assert.deepEqual(topologyOf(routers), {
    upstreamOf: { '192.168.1.50:23': '192.168.1.1:23', 'shed.lan:23': 'profile garage', '192.168.1.70:23': 'none' },
    uplinkAddressesOf: { '192.168.1.1:23': ['192.168.1.1'], '192.168.1.50:23': ['192.168.1.50'], '192.168.1.70:23': ['192.168.1.70'] },
  });
  assert.equal(routerDisplayName(routers[1]!), 'office');
});

test('runMultiUsage: bad flags and the same router twice are usage errors before any login', async () => {
  const a = profileServices('a', '192.168.1.1', {});
  const b = profileServices('b', '192.168.1.2', {});
  const opened: string[] = [];
  for (const s of [a, b]) (s as { open: Services['open'] }).open = async () => {
    opened.push(s.key);
    throw new Error('no login in this test');
  };
  await assert.rejects(runMultiUsage(a, [a, b], { intervalMs: 100 }), (e) => e instanceof UsageError && /--interval/.test(e.message));
  await assert.rejects(runMultiUsage(a, [a, b], { intervalMs: 500, count: 0 }), (e) => e instanceof UsageError && /--count/.test(e.message));
  await assert.rejects(runMultiUsage(a, [a, a], { intervalMs: 500 }), (e) => e instanceof UsageError && /same router/.test(e.message));
  await assert.rejects(runMultiUsage(a, [], { intervalMs: 500 }), (e) => e instanceof UsageError && /names no router/.test(e.message));
  assert.deepEqual(opened, []);
});
