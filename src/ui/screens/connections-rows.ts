// Pure: a device's connections grouped (by remote host, by remote port, by protocol) and sorted (by
// bytes or by rate) for the connections screen (issue 19). A stand-in for domain/connections.ts
// (groupConnections / sortConnections), which the lead may swap in: the screen only needs rows of
// DeviceConnection and ConnectionGroup. Group labels carry router text (remote names): the screen
// sanitises them like every other cell.
import { compareAddresses } from '../../domain/address.js';
import type { ConnectionGroup, ConnectionGrouping, ConnectionSort, DeviceConnection } from '../../domain/connection-model.js';

export type GroupedBy = Exclude<ConnectionGrouping, 'connections'>;

/** g cycles through these: every connection, then by remote, by port, by protocol. */
export const GROUPINGS: readonly ConnectionGrouping[] = ['connections', 'remote', 'port', 'protocol'];

export const GROUPING_LABELS: Readonly<Record<ConnectionGrouping, string>> = {
  connections: 'every connection',
  remote: 'by remote host',
  port: 'by remote port',
  protocol: 'by protocol',
};

export const SORT_LABELS: Readonly<Record<ConnectionSort, string>> = { bytes: 'bytes', rate: 'rate' };

function groupKeyOf(c: DeviceConnection, by: GroupedBy): string {
  if (by === 'remote') return c.remote;
  if (by === 'protocol') return c.protocol;
  return c.remotePort === null ? c.protocol : `${c.protocol}/${c.remotePort}`;
}

function groupLabelOf(c: DeviceConnection, by: GroupedBy): string {
  if (by === 'remote') return c.remoteName ?? c.remote;
  if (by === 'protocol') return c.protocol;
  return c.remotePort === null ? c.protocol : `${c.protocol}/${c.remotePort}${c.service ? ` ${c.service}` : ''}`;
}

const addBytes = (sum: number | null, bytes: number | null): number | null => (bytes === null ? sum : (sum ?? 0) + bytes);

/** One row per remote host, remote port (per protocol) or protocol; bytes null when no member had any. */
export function groupConnectionRows(rows: readonly DeviceConnection[], by: GroupedBy): ConnectionGroup[] {
  const groups = new Map<string, ConnectionGroup>();
  for (const c of rows) {
    const key = groupKeyOf(c, by);
    let group = groups.get(key);
    if (group === undefined) {
      group = { label: groupLabelOf(c, by), key, connections: 0, downBytes: null, upBytes: null, downBps: 0, upBps: 0 };
      groups.set(key, group);
    } else if (by === 'remote' && group.label === c.remote && c.remoteName !== null) {
      group.label = c.remoteName;
    }
    group.connections += 1;
    group.downBytes = addBytes(group.downBytes, c.downBytes);
    group.upBytes = addBytes(group.upBytes, c.upBytes);
    group.downBps += Number.isFinite(c.downBps) ? c.downBps : 0;
    group.upBps += Number.isFinite(c.upBps) ? c.upBps : 0;
  }
  return [...groups.values()];
}

type Sortable = Pick<ConnectionGroup, 'key' | 'downBytes' | 'upBytes' | 'downBps' | 'upBps'>;

const bytesOf = (r: Sortable) => (r.downBytes ?? 0) + (r.upBytes ?? 0);
const rateOf = (r: Sortable) => r.downBps + r.upBps;

/**
 * Busiest first: by bytes (then rate) or by rate (then bytes); ties by the remote address when the
 * rows are connections, else by key, so rows never swap between equal reads.
 */
export function sortConnectionRows<T extends Sortable & { remote?: string }>(rows: readonly T[], by: ConnectionSort): T[] {
  const primary = by === 'bytes' ? bytesOf : rateOf;
  const secondary = by === 'bytes' ? rateOf : bytesOf;
  return [...rows].sort((a, b) => {
    const d = primary(b) - primary(a) || secondary(b) - secondary(a);
    if (d !== 0) return d;
    if (a.remote !== undefined && b.remote !== undefined && a.remote !== b.remote) return compareAddresses(a.remote, b.remote);
    return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
  });
}
