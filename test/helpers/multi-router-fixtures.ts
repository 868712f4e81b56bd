// Hand-made router parts for the multi-router tests (issue 20): a modem "home" whose LAN holds the
// access point "office" (office's WAN 192.168.1.50 is a device of home), and a laptop that roamed
// between the two. Numbers chosen so each byte can be followed: office forwards 4500/450 for its
// devices plus 500/50 of its own, and home sees exactly 5000/500 under office's address.
import type { HostUsage, Snapshot } from '../../src/domain/snapshot.js';
import type { RouterPart } from '../../src/domain/multi-router.js';

export const HOME = '192.168.1.1:23';
export const OFFICE = '192.168.1.50:22';
export const LAPTOP_MAC = 'aa:aa:aa:aa:aa:01';
export const OFFICE_WAN_MAC = '02:00:00:00:00:50';

export function row(ip: string, fields: Partial<HostUsage>): HostUsage {
  const mac = fields.mac ?? null;
  return { identity: mac ?? `ip:${ip}`, ip, addresses: [ip], mac, hostname: null, downBytes: 0, upBytes: 0, downBps: 0, upBps: 0, downShare: 0, upShare: 0, isCounted: true, ...fields };
}

/** A snapshot whose totals and shares (of bytes) follow from its rows, as a poll would give. */
export function snap(router: string, hosts: HostUsage[], atMs = 1_700_000_000_000): Snapshot {
  const totals = { downBytes: 0, upBytes: 0, downBps: 0, upBps: 0 };
  for (const h of hosts) {
    totals.downBytes += h.downBytes;
    totals.upBytes += h.upBytes;
    totals.downBps += h.downBps;
    totals.upBps += h.upBps;
  }
  const shared = hosts.map((h) => ({ ...h, downShare: totals.downBytes > 0 ? h.downBytes / totals.downBytes : 0, upShare: totals.upBytes > 0 ? h.upBytes / totals.upBytes : 0 }));
  return { schema: 1, router, atMs, hosts: shared, totals, pollLatencyMs: 20, connection: { kind: 'connected' }, notices: [] };
}

export function homeSnapshot(): Snapshot {
  return snap(HOME, [
    row('192.168.1.10', { mac: LAPTOP_MAC, hostname: 'laptop', downBytes: 1000, upBytes: 100, downBps: 10, upBps: 1 }),
    row('192.168.1.50', { mac: OFFICE_WAN_MAC, hostname: 'office-ap', downBytes: 5000, upBytes: 500, downBps: 50, upBps: 5 }),
  ]);
}

/** office's devices: 4500/450 of the 5000/500 home sees (the rest is office's own traffic). */
export function officeSnapshot(): Snapshot {
  return snap(OFFICE, [
    row('192.168.2.10', { mac: 'bb:bb:bb:bb:bb:01', hostname: 'phone', downBytes: 3000, upBytes: 300, downBps: 30, upBps: 3 }),
    row('192.168.2.11', { mac: LAPTOP_MAC, hostname: 'laptop', downBytes: 1500, upBytes: 150, downBps: 15, upBps: 1 }),
  ], 1_700_000_001_000);
}

export function up(routerKey: string, label: string, snapshot: Snapshot): RouterPart {
  return { routerKey, label, snapshot, state: 'up' };
}

export const CHAINED = { upstreamOf: { [OFFICE]: HOME }, uplinkAddressesOf: { [OFFICE]: ['192.168.1.50'] } };
