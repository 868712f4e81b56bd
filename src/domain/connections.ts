// One device's connections from the router's connection table (issue 19 drill-down): which entries
// are the device's, which way they go, their rates between two reads, and grouped views. Pure:
// time is passed in, nothing here reads the router.
//
// Direction (notes §3): an entry the device opened has the device as the original source; its
// original bytes went up, its reply bytes came down. An entry opened to the device (a port forward)
// has the device as the reply source (DNAT rewrote the original destination); then the original
// bytes came down to it. The remote comes from the original tuple, so it is never the router's WAN
// address that SNAT put in the reply tuple.

import type { ConnectionGroup, ConnectionGrouping, ConnectionSort, ConntrackEntry, DeviceConnection } from './connection-model.js';
import { canonicalAddress } from './address.js';
import { serviceName } from './service-names.js';

function keyOf(e: ConntrackEntry): string {
  const o = e.original;
  const r = e.reply;
  const id = e.icmp != null ? `|id${e.icmp.id}` : '';
  return `${e.protocol}/${e.protocolNumber ?? ''}|${o.src}|${o.sport ?? ''}|${o.dst}|${o.dport ?? ''}|${r.src}|${r.sport ?? ''}|${r.dst}|${r.dport ?? ''}${id}`;
}

/** The port the connection was opened to: the remote's for outbound, the device's for a port forward. */
export function servicePortOf(row: DeviceConnection): number | null {
  return row.initiator === 'device' ? row.remotePort : row.localPort;
}

/**
 * The entries that belong to the device (any of its addresses, IPv4 or IPv6), as connections with
 * rates 0 and age 0 (ConnectionTracker fills both). A key seen twice (the same entry from two
 * commands) is kept once. `atMs` is the time of the read; rows carry no time of their own.
 */
export function connectionsOf(entries: readonly ConntrackEntry[], deviceAddresses: readonly string[], atMs: number): DeviceConnection[] {
  void atMs;
  const mine = new Set<string>();
  for (const a of deviceAddresses) {
    const c = canonicalAddress(a);
    if (c !== null) mine.add(c);
  }
  const rows: DeviceConnection[] = [];
  if (mine.size === 0) return rows;
  const seen = new Set<string>();
  for (const e of entries) {
    const o = e.original;
    const r = e.reply;
    let row: DeviceConnection;
    if (mine.has(o.src)) {
      row = {
        key: keyOf(e),
        protocol: e.protocol,
        initiator: 'device',
        localAddress: o.src,
        localPort: o.sport,
        remote: o.dst,
        remotePort: o.dport,
        downBytes: r.bytes,
        upBytes: o.bytes,
        downBps: 0,
        upBps: 0,
        state: e.state,
        isOffloaded: e.isOffloaded || e.isHardwareOffloaded,
        ageMs: 0,
        timeoutS: e.timeoutS,
        remoteName: null,
        service: serviceName(e.protocol, o.dport),
      };
    } else if (mine.has(r.src)) {
      row = {
        key: keyOf(e),
        protocol: e.protocol,
        initiator: 'remote',
        localAddress: r.src,
        localPort: r.sport,
        remote: o.src,
        remotePort: o.sport,
        downBytes: o.bytes,
        upBytes: r.bytes,
        downBps: 0,
        upBps: 0,
        state: e.state,
        isOffloaded: e.isOffloaded || e.isHardwareOffloaded,
        ageMs: 0,
        timeoutS: e.timeoutS,
        remoteName: null,
        // Named from the device's port: someone reached its ssh, not the remote's ephemeral port.
        service: serviceName(e.protocol, r.sport),
      };
    } else continue;
    if (seen.has(row.key)) continue;
    seen.add(row.key);
    rows.push(row);
  }
  return rows;
}

interface Tracked {
  firstSeenMs: number;
  lastSeenMs: number;
  downBytes: number | null;
  upBytes: number | null;
  downBps: number;
  upBps: number;
}

export interface ConnectionTrackerOptions {
  /** Keys kept at most (least recently seen dropped first). Default 4096. */
  maxEntries?: number;
  /** A key unseen this long is forgotten (its next sighting is a new connection). Default 120 s. */
  forgetAfterMs?: number;
}

function rate(now: number | null, before: number | null, seconds: number): number | null {
  if (now === null || before === null) return 0;
  if (now < before) return null; // went down: the tuple was reused by a new connection
  return (now - before) / seconds;
}

/**
 * Rates and ages across reads of one device's connections. Pure: `update` is given the read's time.
 * Memory is bounded (maxEntries); a read with more rows than that still returns them all, but only
 * the most recent maxEntries carry their history to the next read.
 */
export class ConnectionTracker {
  private readonly maxEntries: number;
  private readonly forgetAfterMs: number;
  private tracked = new Map<string, Tracked>();
  private lastAtMs: number | null = null;

  constructor(options: ConnectionTrackerOptions = {}) {
    this.maxEntries = Math.max(1, Math.floor(options.maxEntries ?? 4096));
    this.forgetAfterMs = Math.max(0, options.forgetAfterMs ?? 120_000);
  }

  get size(): number {
    return this.tracked.size;
  }

  reset(): void {
    this.tracked.clear();
    this.lastAtMs = null;
  }

  /** The rows with downBps/upBps (bytes per second since the previous read of the same key) and ageMs. */
  update(atMs: number, rows: readonly DeviceConnection[]): DeviceConnection[] {
    const out: DeviceConnection[] = [];
    const done = new Set<string>();
    for (const row of rows) {
      if (done.has(row.key)) continue;
      done.add(row.key);
      const prev = this.tracked.get(row.key);
      let next: Tracked;
      if (prev === undefined || atMs - prev.lastSeenMs > this.forgetAfterMs) {
        next = { firstSeenMs: atMs, lastSeenMs: atMs, downBytes: row.downBytes, upBytes: row.upBytes, downBps: 0, upBps: 0 };
      } else if (atMs <= prev.lastSeenMs) {
        // No time has passed (the same read twice, a clock step back): keep what was shown.
        next = { ...prev, downBytes: row.downBytes, upBytes: row.upBytes };
      } else {
        const seconds = (atMs - prev.lastSeenMs) / 1000;
        const down = rate(row.downBytes, prev.downBytes, seconds);
        const up = rate(row.upBytes, prev.upBytes, seconds);
        next =
          down === null || up === null
            ? { firstSeenMs: atMs, lastSeenMs: atMs, downBytes: row.downBytes, upBytes: row.upBytes, downBps: 0, upBps: 0 }
            : { firstSeenMs: prev.firstSeenMs, lastSeenMs: atMs, downBytes: row.downBytes, upBytes: row.upBytes, downBps: down, upBps: up };
      }
      // Re-inserted so the Map's order is least recently seen first.
      this.tracked.delete(row.key);
      this.tracked.set(row.key, next);
      out.push({ ...row, downBps: next.downBps, upBps: next.upBps, ageMs: Math.max(0, atMs - next.firstSeenMs) });
    }
    for (const [key, t] of this.tracked) {
      if (atMs - t.lastSeenMs > this.forgetAfterMs) this.tracked.delete(key);
    }
    const excess = this.tracked.size - this.maxEntries;
    if (excess > 0) {
      let n = 0;
      for (const key of this.tracked.keys()) {
        if (n++ >= excess) break;
        this.tracked.delete(key);
      }
    }
    this.lastAtMs = atMs;
    return out;
  }

  /** The time of the last update, or null. */
  get lastUpdateMs(): number | null {
    return this.lastAtMs;
  }
}

function addNullable(sum: number | null, value: number | null): number | null {
  if (value === null) return sum;
  return (sum ?? 0) + value;
}

function groupKeyAndLabel(row: DeviceConnection, by: ConnectionGrouping): [string, string] {
  switch (by) {
    case 'remote':
      return [`remote|${row.remote}`, row.remote];
    case 'port': {
      const port = servicePortOf(row);
      if (port === null) return [`port|${row.protocol}|`, row.protocol];
      const service = serviceName(row.protocol, port);
      return [`port|${row.protocol}|${port}`, service !== null ? `${row.protocol}/${port} ${service}` : `${row.protocol}/${port}`];
    }
    case 'protocol':
      return [`protocol|${row.protocol}`, row.protocol];
    case 'connections':
    default: {
      const remote = row.remote.includes(':') ? `[${row.remote}]` : row.remote;
      return [row.key, row.remotePort !== null ? `${row.protocol} ${remote}:${row.remotePort}` : `${row.protocol} ${remote}`];
    }
  }
}

/**
 * Rows grouped by remote host, by port+protocol (the port connected to, with its service name), by
 * protocol, or one group per connection ('connections'). Groups come in order of first appearance;
 * sort them with sortGroups. Bytes are null only when no connection of the group has any.
 */
export function groupConnections(rows: readonly DeviceConnection[], by: ConnectionGrouping): ConnectionGroup[] {
  const groups = new Map<string, ConnectionGroup>();
  for (const row of rows) {
    const [key, label] = groupKeyAndLabel(row, by);
    let g = groups.get(key);
    if (g === undefined) {
      g = { label, key, connections: 0, downBytes: null, upBytes: null, downBps: 0, upBps: 0 };
      if (by === 'remote') g.remoteName = null;
      groups.set(key, g);
    }
    g.connections++;
    g.downBytes = addNullable(g.downBytes, row.downBytes);
    g.upBytes = addNullable(g.upBytes, row.upBytes);
    g.downBps += row.downBps;
    g.upBps += row.upBps;
    if (by === 'remote' && g.remoteName == null && row.remoteName !== null) g.remoteName = row.remoteName;
  }
  return [...groups.values()];
}

interface Sortable {
  key: string;
  downBytes: number | null;
  upBytes: number | null;
  downBps: number;
  upBps: number;
}

function totalBytes(x: Sortable): number | null {
  return x.downBytes === null && x.upBytes === null ? null : (x.downBytes ?? 0) + (x.upBytes ?? 0);
}

function compareBy(by: ConnectionSort): (a: Sortable, b: Sortable) => number {
  return (a, b) => {
    if (by === 'rate') {
      const d = b.downBps + b.upBps - (a.downBps + a.upBps);
      if (d !== 0) return d;
    } else {
      const ta = totalBytes(a);
      const tb = totalBytes(b);
      if (ta === null && tb !== null) return 1;
      if (tb === null && ta !== null) return -1;
      if (ta !== null && tb !== null && ta !== tb) return tb - ta;
    }
    return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
  };
}

/** Largest first: bytes = down + up (connections without bytes last), rate = downBps + upBps; ties by key. */
export function sortConnections(rows: readonly DeviceConnection[], by: ConnectionSort): DeviceConnection[] {
  return [...rows].sort(compareBy(by));
}

/** The same order for groups. */
export function sortGroups(groups: readonly ConnectionGroup[], by: ConnectionSort): ConnectionGroup[] {
  return [...groups].sort(compareBy(by));
}
